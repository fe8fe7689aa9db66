// SPDX-License-Identifier: GPL-2.0

//! The vCPU lock: a kernel mutex taken killably, as `kvm_vcpu_ioctl()`
//! takes `vcpu->mutex` with `mutex_lock_killable()`.
//!
//! Every vCPU ioctl holds it, `KVM_RUN` for as long as the guest runs. A
//! second ioctl on a running vCPU waits for it, and a waiter that is
//! killed must not stay in D state until the guest next exits to user
//! space (which a guest spinning with no exit may put off indefinitely):
//! it gets `EINTR` and dies. 6.12's `kernel::sync::Mutex` has no killable
//! lock, hence this type.

use crate::glue;
use core::cell::UnsafeCell;
use core::marker::{PhantomData, PhantomPinned};
use core::ops::{Deref, DerefMut};
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

/// A mutex around `T` whose [`VcpuLock::lock`] a fatal signal interrupts.
#[pin_data]
pub(crate) struct VcpuLock<T> {
    #[pin]
    mutex: Opaque<bindings::mutex>,
    data: UnsafeCell<T>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: the mutex may be locked and unlocked from any thread, and `T`
// moves with the lock only if it is `Send`.
unsafe impl<T: Send> Send for VcpuLock<T> {}
// SAFETY: `data` is only reached through a guard, which the mutex makes
// exclusive.
unsafe impl<T: Send> Sync for VcpuLock<T> {}

impl<T> VcpuLock<T> {
    /// A new, unlocked lock holding `t` (one lockdep class for all).
    pub(crate) fn new(t: T) -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes and pinned; `mutex_init`
            // initialises it in place.
            mutex <- Opaque::ffi_init(|slot| unsafe { glue::rv_vcpu_mutex_init(slot) }),
            data: UnsafeCell::new(t),
            _pin: PhantomPinned,
        })
    }

    /// Takes the lock; `EINTR` if a fatal signal arrives while waiting.
    pub(crate) fn lock(&self) -> Result<VcpuGuard<'_, T>> {
        // SAFETY: the mutex was initialised by `new` and is pinned.
        if unsafe { glue::rv_mutex_lock_killable(self.mutex.get()) } != 0 {
            return Err(EINTR);
        }
        // INVARIANT: the lock was just taken.
        Ok(VcpuGuard {
            lock: self,
            _not_send: PhantomData,
        })
    }
}

/// Access to the data of a locked [`VcpuLock`].
///
/// # Invariants
///
/// The current task holds `lock`'s mutex, released once, in [`Drop`]. Not
/// `Send`: a mutex is released by the task that took it.
pub(crate) struct VcpuGuard<'a, T> {
    lock: &'a VcpuLock<T>,
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for VcpuGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the mutex is held (type invariant), so no other reference
        // to the data exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for VcpuGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes this the only one.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for VcpuGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the current task holds the mutex (type invariant).
        unsafe { glue::rv_mutex_unlock(self.lock.mutex.get()) };
    }
}
