// SPDX-License-Identifier: GPL-2.0

//! One rvxlan device: its private state and the net_device callbacks the
//! C glue forwards to Rust.

use crate::glue::{self, Priv};
use kernel::bindings;
use kernel::ffi::c_int;

/// Per-device state, stored in the net_device's private area: created by
/// `ndo_init`, dropped by `ndo_uninit`.
///
/// A new device is an unconfigured tunnel endpoint: it has no VNI and no
/// remote VTEP, so it has nowhere to send and transmits nothing.
pub(crate) struct Tunnel {}

impl Tunnel {
    fn new() -> Self {
        Self {}
    }

    /// Handles one frame from the stack. Consumes `skb`.
    fn xmit(&self, skb: *mut bindings::sk_buff, dev: *mut bindings::net_device) {
        // Not configured: drop, counted in the device's tx_dropped.
        // SAFETY: `skb` is owned by this call and `dev` is live.
        unsafe { glue::rvx_drop_tx(skb, dev) };
    }
}

/// # Safety
///
/// `priv_` is the uninitialised private area of `dev`, at least
/// `size_of::<Tunnel>()` bytes, suitably aligned (netdev_priv is aligned to
/// NETDEV_ALIGN).
#[no_mangle]
unsafe extern "C" fn rvxlan_dev_init(_dev: *mut bindings::net_device, priv_: Priv) -> c_int {
    // SAFETY: guaranteed by the caller.
    unsafe { priv_.cast::<Tunnel>().write(Tunnel::new()) };
    0
}

/// # Safety
///
/// `priv_` holds the `Tunnel` written by `rvxlan_dev_init`; no callback
/// uses it afterwards.
#[no_mangle]
unsafe extern "C" fn rvxlan_dev_uninit(priv_: Priv) {
    // SAFETY: guaranteed by the caller.
    unsafe { core::ptr::drop_in_place(priv_.cast::<Tunnel>()) };
}

/// # Safety
///
/// `dev` is a registered rvxlan device whose private area `priv_` holds
/// its `Tunnel`; `skb` is owned by this call.
#[no_mangle]
unsafe extern "C" fn rvxlan_xmit(
    skb: *mut bindings::sk_buff,
    dev: *mut bindings::net_device,
    priv_: Priv,
) {
    // SAFETY: guaranteed by the caller; initialised in `ndo_init`.
    let tunnel = unsafe { &*priv_.cast::<Tunnel>() };
    tunnel.xmit(skb, dev);
}
