// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers over the processor operations rvisor needs: CPUID, MSRs,
//! CR4.VMXE, VMXON and VMXOFF.

use crate::glue;
use kernel::prelude::*;

/// CPUID.1:ECX bit 5: the processor implements VMX.
const CPUID_1_ECX_VMX: u32 = 1 << 5;

/// Whether this CPU implements VMX (CPUID.1:ECX.VMX).
pub(crate) fn cpu_has_vmx() -> bool {
    // SAFETY: CPUID has no side effects.
    let ecx = unsafe { glue::rv_cpuid_ecx(1) };
    ecx & CPUID_1_ECX_VMX != 0
}

/// Reads an MSR of this CPU; `EIO` if it does not exist.
pub(crate) fn rdmsr(msr: u32) -> Result<u64> {
    let mut val = 0;
    // SAFETY: the access is fault-protected; `val` is a valid out pointer.
    if unsafe { glue::rv_rdmsr_safe(msr, &mut val) } != 0 {
        return Err(EIO);
    }
    Ok(val)
}

/// Writes an MSR of this CPU; `EIO` if the write faults.
///
/// Only used for IA32_FEATURE_CONTROL, whose valid writes cannot break the
/// kernel's assumptions.
pub(crate) fn wrmsr(msr: u32, val: u64) -> Result {
    // SAFETY: the access is fault-protected, and callers only write MSRs
    // that do not affect memory safety.
    if unsafe { glue::rv_wrmsr_safe(msr, val) } != 0 {
        return Err(EIO);
    }
    Ok(())
}

/// Whether CR4.VMXE is set on this CPU, i.e. some hypervisor may be in VMX
/// operation here.
pub(crate) fn cr4_vmxe() -> bool {
    // SAFETY: reads this CPU's CR4 shadow.
    unsafe { glue::rv_cr4_vmxe() }
}

/// Sets CR4.VMXE on this CPU, as VMXON requires.
pub(crate) fn set_cr4_vmxe() {
    // SAFETY: VMXE only enables the VMX instructions.
    unsafe { glue::rv_cr4_set_vmxe() }
}

/// Clears CR4.VMXE on this CPU; only valid outside VMX operation.
pub(crate) fn clear_cr4_vmxe() {
    // SAFETY: callers clear it after VMXOFF or a failed VMXON, when no VMX
    // state depends on it.
    unsafe { glue::rv_cr4_clear_vmxe() }
}

/// Enters VMX root operation on this CPU.
///
/// `EIO` if the processor refused (VMfail), `EFAULT` if VMXON faulted.
///
/// # Safety
///
/// `phys` must be the physical address of a 4 KiB-aligned VMXON region
/// holding this processor's VMCS revision id, which stays allocated and
/// untouched by anyone else until [`vmxoff`] on this CPU. The caller must
/// run pinned to this CPU with CR4.VMXE set.
pub(crate) unsafe fn vmxon(phys: u64) -> Result {
    // SAFETY: guaranteed by the caller.
    kernel::error::to_result(unsafe { glue::rv_vmxon(phys) })
}

/// Leaves VMX operation on this CPU; `EFAULT` if it was not in it.
pub(crate) fn vmxoff() -> Result {
    // SAFETY: VMXOFF is fault-protected and touches no kernel memory.
    kernel::error::to_result(unsafe { glue::rv_vmxoff() })
}

/// Number of possible CPU ids (`nr_cpu_ids`).
pub(crate) fn nr_cpu_ids() -> usize {
    // SAFETY: reads a variable fixed at boot.
    unsafe { glue::rv_nr_cpu_ids() as usize }
}

/// The CPU this code runs on (only meaningful when pinned to it).
pub(crate) fn this_cpu() -> usize {
    // SAFETY: reads this CPU's id.
    unsafe { glue::rv_this_cpu() as usize }
}

/// Reads the time-stamp counter.
pub(crate) fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: RDTSC only reads the counter.
    unsafe {
        core::arch::asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack));
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Reads CR2 (the last page-fault address).
pub(crate) fn read_cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { core::arch::asm!("mov {}, cr2", out(reg) v, options(nomem, nostack)) };
    v
}

/// Writes CR2. Only the guest's view changes: the host reads CR2 only in
/// its page-fault handler, right after a fault sets it.
pub(crate) fn write_cr2(v: u64) {
    // SAFETY: as above.
    unsafe { core::arch::asm!("mov cr2, {}", in(reg) v, options(nomem, nostack)) };
}
