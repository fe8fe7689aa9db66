// SPDX-License-Identifier: GPL-2.0

//! The VMX instructions that operate on the current VMCS and on the TLBs:
//! VMPTRLD, VMCLEAR, VMREAD, VMWRITE, INVEPT and INVVPID.
//!
//! Each reports VMfail (CF or ZF set) as `EIO`. They are only valid in VMX
//! root operation, which the caller guarantees by holding a
//! [`crate::vmcs_region::LoadedVmcs`] or running in a section where
//! rvisor owns VMX on this CPU.
//!
//! One thing can take VMX away regardless: the reboot notifier executes
//! VMXOFF on every CPU by IPI, which lands wherever interrupts are on, such
//! as between two VMREADs of an ioctl. The instruction after that faults
//! (#UD). Each one therefore has an exception-table entry, as KVM's
//! `vmx_ops.h` does: the fault resumes after the instruction and reports
//! `EIO`, and outside reboot it also warns (`rv_vmx_fault()`, KVM's
//! `kvm_spurious_fault()`, which BUG()s there).

use crate::glue;
use core::arch::asm;
use kernel::prelude::*;

/// Executes one VMX instruction (at local label 2) with an exception-table
/// entry whose fixup sets `{fail}` to 2; VMfail sets it to 1, success to 0.
/// The entry is `_ASM_EXTABLE_TYPE(2b, 4b, EX_TYPE_DEFAULT)`: the handler
/// only moves RIP to the fixup.
macro_rules! vmx_asm {
    ($insn:literal, $($operands:tt)*) => {
        asm!(
            concat!("2: ", $insn),
            "setna {fail}",
            "jmp 3f",
            "4: mov {fail}, 2",
            "3:",
            ".pushsection __ex_table, \"a\"",
            ".balign 4",
            ".long 2b - .",
            ".long 4b - .",
            ".long 1",
            ".popsection",
            $($operands)*
        )
    };
}

/// The result of a VMX instruction from its `{fail}` byte.
fn outcome(fail: u8) -> Result {
    match fail {
        0 => Ok(()),
        1 => Err(EIO),
        _ => {
            fault();
            Err(EIO)
        }
    }
}

/// Reports a VMX instruction that faulted: expected once reboot has begun,
/// a bug otherwise.
pub(crate) fn fault() {
    // SAFETY: reads a flag and may warn; callable in any context.
    unsafe { glue::rv_vmx_fault() };
}

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
        vmx_asm!("vmptrld [{phys}]", phys = in(reg) &phys, fail = out(reg_byte) fail,
                 options(nostack));
    }
    outcome(fail)
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
        vmx_asm!("vmclear [{phys}]", phys = in(reg) &phys, fail = out(reg_byte) fail,
                 options(nostack));
    }
    outcome(fail)
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
        vmx_asm!("vmread {value}, {field}", value = out(reg) value,
                 field = in(reg) u64::from(field), fail = out(reg_byte) fail,
                 options(nostack, nomem));
    }
    outcome(fail)?;
    Ok(value)
}

/// Writes a field of the current VMCS.
///
/// # Safety
///
/// A VMCS must be current on this CPU, and the value must not break the
/// host: host-state fields and controls are only written by
/// [`crate::vcpu_setup`] and [`crate::run`].
pub(crate) unsafe fn vmwrite(field: u32, value: u64) -> Result {
    let fail: u8;
    // SAFETY: guaranteed by the caller.
    unsafe {
        vmx_asm!("vmwrite {field}, {value}", field = in(reg) u64::from(field),
                 value = in(reg) value, fail = out(reg_byte) fail, options(nostack, nomem));
    }
    outcome(fail)
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
        vmx_asm!("invept {kind}, [{desc}]", kind = in(reg) kind, desc = in(reg) &desc,
                 fail = out(reg_byte) fail, options(nostack));
    }
    outcome(fail)
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
        vmx_asm!("invvpid {kind}, [{desc}]", kind = in(reg) SINGLE_CONTEXT,
                 desc = in(reg) &desc, fail = out(reg_byte) fail, options(nostack));
    }
    outcome(fail)
}
