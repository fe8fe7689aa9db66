// SPDX-License-Identifier: GPL-2.0

//! The `rvxlan` rtnl link kind: `ip link add NAME type rvxlan`.

use crate::device::Tunnel;
use crate::glue;
use crate::header;
use kernel::prelude::*;

/// Largest IPv4 datagram; the inner MTU is bounded by what it can carry.
const IP_MAX_MTU: u32 = 0xffff;

/// The registered link kind. Dropping it deletes every rvxlan device in
/// every network namespace.
pub(crate) struct LinkKind(());

impl LinkKind {
    /// Registers the link kind.
    pub(crate) fn register() -> Result<Self> {
        let max_mtu = IP_MAX_MTU - header::OVERHEAD_IPV4;
        // SAFETY: registers the static link ops once; `drop` unregisters.
        kernel::error::to_result(unsafe {
            glue::rvx_rtnl_register(core::mem::size_of::<Tunnel>(), max_mtu)
        })?;
        Ok(Self(()))
    }
}

impl Drop for LinkKind {
    fn drop(&mut self) {
        // SAFETY: registered in `register`.
        unsafe { glue::rvx_rtnl_unregister() };
    }
}
