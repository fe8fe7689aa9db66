// SPDX-License-Identifier: GPL-2.0

//! A module-wide object that C callbacks without a context argument (CPU
//! hotplug, the reboot notifier, sysfs `show`) can reach.

use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::prelude::*;

/// Holds at most one published `KBox<T>`.
pub(crate) struct Global<T> {
    ptr: AtomicPtr<T>,
}

impl<T> Global<T> {
    /// An empty slot, for a `static`.
    pub(crate) const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Publishes `value`; fails with `EBUSY` if the slot is taken.
    pub(crate) fn publish(&self, value: KBox<T>) -> Result {
        let raw = KBox::into_raw(value);
        if self
            .ptr
            .compare_exchange(ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // SAFETY: `raw` came from `KBox::into_raw` above and was not published.
            drop(unsafe { KBox::from_raw(raw) });
            return Err(EBUSY);
        }
        Ok(())
    }

    /// The published object, if any.
    ///
    /// # Safety
    ///
    /// [`Global::take`] must not be called while the returned reference is
    /// in use: callers are callbacks that are unregistered before `take`.
    pub(crate) unsafe fn get(&self) -> Option<&T> {
        let raw = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from `KBox::into_raw` in `publish`,
        // and by the caller's guarantee it is not freed while borrowed.
        unsafe { raw.as_ref() }
    }

    /// Unpublishes the object and hands its ownership back.
    pub(crate) fn take(&self) -> Option<KBox<T>> {
        let raw = self.ptr.swap(ptr::null_mut(), Ordering::AcqRel);
        if raw.is_null() {
            None
        } else {
            // SAFETY: `raw` came from `KBox::into_raw` in `publish`, and the
            // swap made this the only owner.
            Some(unsafe { KBox::from_raw(raw) })
        }
    }
}

// SAFETY: `Global` hands out `&T` to any thread and `KBox<T>` to the thread
// that takes it, so it is shareable when `T` is `Sync` and `Send`.
unsafe impl<T: Send + Sync> Sync for Global<T> {}
