// SPDX-License-Identifier: GPL-2.0

//! State that the RTNL mutex protects. Every control-plane callback of the
//! module (newlink, changelink, open, stop, uninit, FDB ndos, netns exit)
//! runs with RTNL held; a [`Rtnl`] token is the proof, made once per
//! callback.

use core::cell::UnsafeCell;

/// Proof that the current thread holds RTNL.
pub(crate) struct Rtnl(());

impl Rtnl {
    /// # Safety
    ///
    /// The caller holds RTNL for the lifetime of the token.
    pub(crate) unsafe fn assume_held() -> Self {
        Rtnl(())
    }
}

/// A `T` reachable only with the RTNL token, borrowed mutably so that two
/// borrows through one token cannot overlap.
pub(crate) struct RtnlCell<T>(UnsafeCell<T>);

// SAFETY: every access goes through `get`, which needs RTNL; RTNL
// serialises the threads.
unsafe impl<T: Send> Sync for RtnlCell<T> {}

impl<T> RtnlCell<T> {
    /// A cell holding `value`.
    pub(crate) const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// The value, while `rtnl` is borrowed.
    pub(crate) fn get<'a>(&'a self, _rtnl: &'a mut Rtnl) -> &'a mut T {
        // SAFETY: RTNL is held (the token) and the token is borrowed
        // mutably for as long as the reference lives, so no other
        // reference through this thread's token exists; other threads
        // wait for RTNL.
        unsafe { &mut *self.0.get() }
    }
}
