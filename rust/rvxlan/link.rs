// SPDX-License-Identifier: GPL-2.0

//! The `rvxlan` rtnl link kind: `ip link add NAME type rvxlan`.

use crate::endpoint;
use crate::glue::{self, RvxFdbEntry, RvxRequest, RvxTxFrame, RvxTxParams};
use crate::header;
use crate::netlink::{attr, Nla};
use crate::rtnl::Rtnl;
use crate::tunnel::Tunnel;
use core::mem::{align_of, size_of};
use kernel::prelude::*;

/// Largest IPv4 datagram; the inner MTU is bounded by what it can carry.
const IP_MAX_MTU: u32 = 0xffff;

/// The registered link kind. Dropping it deletes every rvxlan device in
/// every network namespace.
pub(crate) struct LinkKind(());

impl LinkKind {
    /// Registers the link kind.
    pub(crate) fn register() -> Result<Self> {
        let attrs = attr::ALL;
        // SAFETY: compares sizes, and reads `attrs` for its length.
        kernel::error::to_result(unsafe {
            glue::rvx_abi_check(
                size_of::<RvxRequest>(),
                size_of::<Nla>(),
                size_of::<RvxFdbEntry>(),
                size_of::<RvxTxParams>(),
                size_of::<RvxTxFrame>(),
                align_of::<Tunnel>(),
                attrs.as_ptr(),
                attrs.len(),
            )
        })?;
        let max_mtu = IP_MAX_MTU - header::OVERHEAD_IPV4;
        // SAFETY: registers the static link ops once; `drop` unregisters.
        kernel::error::to_result(unsafe { glue::rvx_rtnl_register(size_of::<Tunnel>(), max_mtu) })?;
        Ok(Self(()))
    }
}

impl Drop for LinkKind {
    fn drop(&mut self) {
        // SAFETY: registered in `register`. Deletes every device, which
        // releases every endpoint.
        unsafe { glue::rvx_rtnl_unregister() };
        // SAFETY: takes RTNL; released below.
        unsafe { glue::rvx_rtnl_lock() };
        // SAFETY: RTNL is held until the unlock below.
        let mut rtnl = unsafe { Rtnl::assume_held() };
        endpoint::shutdown(&mut rtnl);
        // SAFETY: taken above.
        unsafe { glue::rvx_rtnl_unlock() };
    }
}
