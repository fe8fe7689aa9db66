// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C glue in `glue.c` (see `glue.h` for the C side).

use kernel::bindings;
use kernel::ffi::{c_int, c_void};

// Only pointers cross the boundary; `net_device` and `sk_buff` are opaque
// to Rust in 6.12.
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rvx_rtnl_register(priv_size: usize, max_mtu: u32) -> c_int;
    pub(crate) fn rvx_rtnl_unregister();
    pub(crate) fn rvx_drop_tx(skb: *mut bindings::sk_buff, dev: *mut bindings::net_device);
}

/// The private area pointer handed to the Rust callbacks.
pub(crate) type Priv = *mut c_void;
