// SPDX-License-Identifier: GPL-2.0

//! Copying the plain-data KVM argument structures to and from user space.
//!
//! The structures of [`crate::uapi`] are `repr(C)` integers and byte
//! arrays, valid for every bit pattern, so they can be filled from user
//! memory directly. (6.12's `UserSlice` wants the `kernel::types::FromBytes`
//! marker, which the host-buildable `uapi` crate cannot implement.)

use crate::glue;
use kernel::prelude::*;

/// A plain-data type: `repr(C)`, no padding that matters, every bit
/// pattern a valid value.
///
/// # Safety
///
/// Implementors must be valid for any bit pattern and contain no pointers.
pub(crate) unsafe trait Pod: Copy + Default {}

// SAFETY: all of these are `repr(C)` structs of integers and integer arrays.
unsafe impl Pod for crate::uapi::KvmRegs {}
// SAFETY: as above.
unsafe impl Pod for crate::uapi::KvmSregs {}
// SAFETY: as above.
unsafe impl Pod for crate::uapi::KvmUserspaceMemoryRegion {}
// SAFETY: as above.
unsafe impl Pod for crate::uapi::KvmCpuid2 {}
// SAFETY: as above.
unsafe impl Pod for crate::uapi::KvmCpuidEntry2 {}
// SAFETY: as above.
unsafe impl Pod for crate::uapi::KvmMsrs {}
// SAFETY: as above.
unsafe impl Pod for crate::uapi::KvmMsrEntry {}
// SAFETY: as above.
unsafe impl Pod for crate::uapi::KvmMsrList {}
// SAFETY: as above (one u32).
unsafe impl Pod for crate::uapi::KvmInterrupt {}
// SAFETY: as above (one u32).
unsafe impl Pod for crate::uapi::KvmMpState {}
// SAFETY: as above (integers and byte arrays).
unsafe impl Pod for crate::uapi::KvmVcpuEvents {}
// SAFETY: as above (integers and byte arrays).
unsafe impl Pod for crate::uapi::KvmFpu {}
// SAFETY: an integer.
unsafe impl Pod for u64 {}
// SAFETY: an integer.
unsafe impl Pod for u32 {}
// SAFETY: integers.
unsafe impl Pod for [u32; 2] {}

/// Reads a `T` from user address `addr`; `EFAULT` if unreadable.
pub(crate) fn read<T: Pod>(addr: u64) -> Result<T> {
    let mut val = T::default();
    // SAFETY: `val` is `size_of::<T>()` writable bytes, and any bytes form
    // a valid `T` (`Pod`).
    let left = unsafe {
        glue::rv_copy_from_user(
            (&mut val as *mut T).cast(),
            addr,
            core::mem::size_of::<T>() as _,
        )
    };
    if left != 0 {
        return Err(EFAULT);
    }
    Ok(val)
}

/// Writes `val` to user address `addr`; `EFAULT` if unwritable.
pub(crate) fn write<T: Pod>(addr: u64, val: &T) -> Result {
    // SAFETY: `val` is `size_of::<T>()` readable bytes.
    let left = unsafe {
        glue::rv_copy_to_user(
            addr,
            (val as *const T).cast(),
            core::mem::size_of::<T>() as _,
        )
    };
    if left != 0 {
        return Err(EFAULT);
    }
    Ok(())
}

/// The user address of element `i` of an array of `T` starting at `base`.
pub(crate) fn element<T>(base: u64, i: usize) -> Result<u64> {
    let off = (i as u64)
        .checked_mul(core::mem::size_of::<T>() as u64)
        .ok_or(EINVAL)?;
    base.checked_add(off).ok_or(EFAULT)
}
