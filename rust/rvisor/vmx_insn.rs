// SPDX-License-Identifier: GPL-2.0

//! The VMX instructions that operate on the current VMCS and on the TLBs:
//! VMPTRLD, VMCLEAR, VMREAD, VMWRITE, INVEPT and INVVPID.
//!
//! Each reports VMfail (CF or ZF set) as `EIO`. They are only valid in VMX
//! root operation, which the caller guarantees by holding a
//! [`crate::vmcs_region::LoadedVmcs`] or running in a section where
//! rvisor owns VMX on this CPU.

use core::arch::asm;
use kernel::prelude::*;

/// Makes the VMCS at physical address `phys` current and active on this
/// CPU.
///
/// # Safety
///
/// `phys` must be a VMCS region with this processor's revision id that is
/// not active on any other CPU, and must stay allocated until VMCLEAR. The
/// CPU must be in VMX root operation and the caller pinned to it.
pub(crate) unsafe fn vmptrld(phys: u64) -> Result {
    let fail: u8;
    // SAFETY: guaranteed by the caller; VMPTRLD reads the 8-byte operand.
    unsafe {
        asm!("vmptrld [{0}]", "setna {1}", in(reg) &phys, out(reg_byte) fail,
             options(nostack));
    }
    if fail != 0 {
        return Err(EIO);
    }
    Ok(())
}

/// Flushes the VMCS at `phys` to memory and makes it inactive and not
/// current; its launch state becomes "clear".
///
/// # Safety
///
/// As for [`vmptrld`]: a VMCS region owned by the caller, on a CPU in VMX
/// root operation.
pub(crate) unsafe fn vmclear(phys: u64) -> Result {
    let fail: u8;
    // SAFETY: guaranteed by the caller.
    unsafe {
        asm!("vmclear [{0}]", "setna {1}", in(reg) &phys, out(reg_byte) fail,
             options(nostack));
    }
    if fail != 0 {
        return Err(EIO);
    }
    Ok(())
}

/// Reads a field of the current VMCS.
///
/// # Safety
///
/// A VMCS must be current on this CPU (VMREAD with none faults with #UD
/// only outside VMX operation; VMfail otherwise).
pub(crate) unsafe fn vmread(field: u32) -> Result<u64> {
    let value: u64;
    let fail: u8;
    // SAFETY: guaranteed by the caller; VMREAD has no memory operand here.
    unsafe {
        asm!("vmread {0}, {1}", "setna {2}", out(reg) value, in(reg) u64::from(field),
             out(reg_byte) fail, options(nostack, nomem));
    }
    if fail != 0 {
        return Err(EIO);
    }
    Ok(value)
}

/// Writes a field of the current VMCS.
///
/// # Safety
///
/// A VMCS must be current on this CPU, and the value must not break the
/// host: host-state fields and controls are only written by
/// [`crate::vcpu_setup`] and [`crate::host_state`].
pub(crate) unsafe fn vmwrite(field: u32, value: u64) -> Result {
    let fail: u8;
    // SAFETY: guaranteed by the caller.
    unsafe {
        asm!("vmwrite {0}, {1}", "setna {2}", in(reg) u64::from(field), in(reg) value,
             out(reg_byte) fail, options(nostack, nomem));
    }
    if fail != 0 {
        return Err(EIO);
    }
    Ok(())
}

/// INVEPT/INVVPID type: one context.
const SINGLE_CONTEXT: u64 = 1;
/// INVEPT/INVVPID type: all contexts.
const ALL_CONTEXT: u64 = 2;

fn invept(kind: u64, eptp: u64) -> Result {
    let desc: [u64; 2] = [eptp, 0];
    let fail: u8;
    // SAFETY: INVEPT only drops cached translations; it reads the 16-byte
    // descriptor. Callers run in VMX root operation.
    unsafe {
        asm!("invept {0}, [{1}]", "setna {2}", in(reg) kind, in(reg) &desc,
             out(reg_byte) fail, options(nostack));
    }
    if fail != 0 {
        return Err(EIO);
    }
    Ok(())
}

/// Drops this CPU's cached translations derived from the EPT at `eptp`.
pub(crate) fn invept_single(eptp: u64) -> Result {
    invept(SINGLE_CONTEXT, eptp)
}

/// Drops this CPU's cached translations derived from any EPT.
pub(crate) fn invept_all() -> Result {
    invept(ALL_CONTEXT, 0)
}

/// Drops this CPU's cached linear translations tagged with `vpid`.
pub(crate) fn invvpid_single(vpid: u16) -> Result {
    let desc: [u64; 2] = [u64::from(vpid), 0];
    let fail: u8;
    // SAFETY: as for INVEPT; the descriptor is 16 readable bytes.
    unsafe {
        asm!("invvpid {0}, [{1}]", "setna {2}", in(reg) SINGLE_CONTEXT, in(reg) &desc,
             out(reg_byte) fail, options(nostack));
    }
    if fail != 0 {
        return Err(EIO);
    }
    Ok(())
}
