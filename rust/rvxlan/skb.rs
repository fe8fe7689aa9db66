// SPDX-License-Identifier: GPL-2.0

//! An owned socket buffer: freed when dropped, handed to C with
//! [`Skb::into_raw`] when C consumes it.

use crate::glue;
use core::ptr::NonNull;
use kernel::bindings;

/// One `struct sk_buff` this code owns.
pub(crate) struct Skb(NonNull<bindings::sk_buff>);

impl Skb {
    /// Takes ownership of `skb`.
    ///
    /// # Safety
    ///
    /// `skb` is a valid socket buffer that the caller owns and gives up.
    pub(crate) unsafe fn from_raw(skb: *mut bindings::sk_buff) -> Option<Self> {
        NonNull::new(skb).map(Self)
    }

    /// A clone sharing the data (GFP_ATOMIC); `None` without memory.
    pub(crate) fn try_clone(&self) -> Option<Self> {
        // SAFETY: `self.0` is a valid skb we own; the clone is new and ours.
        unsafe { Self::from_raw(glue::rvx_skb_clone(self.0.as_ptr())) }
    }

    /// Gives ownership to the caller (a C function that consumes it).
    pub(crate) fn into_raw(self) -> *mut bindings::sk_buff {
        let p = self.0.as_ptr();
        core::mem::forget(self);
        p
    }
}

impl Drop for Skb {
    fn drop(&mut self) {
        // SAFETY: we own the skb; nothing uses it after this.
        unsafe { glue::rvx_skb_free(self.0.as_ptr()) };
    }
}
