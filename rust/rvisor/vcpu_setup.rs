// SPDX-License-Identifier: GPL-2.0

//! Programming a new vCPU's VMCS: the controls, the host-state fields that
//! are the same on every CPU, and the guest's reset state (KVM's: real
//! mode at F000:FFF0).

use crate::controls::CR0_HOST_OWNED;
use crate::cr::{CR0_RESET, DR7_FIXED_1, RFLAGS_FIXED};
use crate::glue;
use crate::segment::ar;
use crate::vcpu::{write_cr0, write_cr4, write_efer};
use crate::vm::Vm;
use crate::vmcs::{field, vector, Segment};
use crate::vmcs_region::LoadedVmcs;
use kernel::prelude::*;

/// PAT value after reset.
pub(crate) const PAT_RESET: u64 = 0x0007_0406_0007_0406;

/// Writes every field a VM entry checks, once, when the vCPU is created.
pub(crate) fn init_vmcs(v: &mut LoadedVmcs<'_>, vm: &Vm, vpid: Option<u16>) -> Result {
    let ctl = vm.controls();
    // Controls.
    v.write(field::PIN_BASED_VM_EXEC_CONTROL, u64::from(ctl.pin))?;
    v.write(field::CPU_BASED_VM_EXEC_CONTROL, u64::from(ctl.proc))?;
    v.write(field::SECONDARY_VM_EXEC_CONTROL, u64::from(ctl.proc2))?;
    v.write(field::VM_EXIT_CONTROLS, u64::from(ctl.exit))?;
    v.write(field::VM_ENTRY_CONTROLS, u64::from(ctl.entry))?;
    // #AC, so that its delivery cannot loop without an exit, and #MC, so
    // that the host's machine-check handler sees a machine check that hit
    // while the guest ran (see the EXCEPTION_NMI exit). KVM also takes #DB,
    // which cannot loop here: no guest breakpoint is armed
    // (exits::guest_dr7_hw).
    v.write(
        field::EXCEPTION_BITMAP,
        (1 << vector::AC) | (1 << vector::MC),
    )?;
    v.write(field::PAGE_FAULT_ERROR_CODE_MASK, 0)?;
    v.write(field::PAGE_FAULT_ERROR_CODE_MATCH, 0)?;
    v.write(field::CR3_TARGET_COUNT, 0)?;
    v.write(field::VM_EXIT_MSR_STORE_COUNT, 0)?;
    v.write(field::VM_EXIT_MSR_LOAD_COUNT, 0)?;
    v.write(field::VM_ENTRY_MSR_LOAD_COUNT, 0)?;
    v.write(field::VM_ENTRY_INTR_INFO_FIELD, 0)?;
    // No PDPTE present until a PAE guest loads valid ones: KVM_SET_SREGS
    // keeps these when the table it points at is not valid.
    for f in [
        field::GUEST_PDPTR0,
        field::GUEST_PDPTR1,
        field::GUEST_PDPTR2,
        field::GUEST_PDPTR3,
    ] {
        v.write(f, 0)?;
    }
    v.write(field::MSR_BITMAP, vm.msr_bitmap_phys())?;
    v.write(field::EPT_POINTER, vm.eptp())?;
    if let Some(vpid) = vpid {
        v.write(field::VIRTUAL_PROCESSOR_ID, u64::from(vpid))?;
    }
    v.write(field::CR0_GUEST_HOST_MASK, CR0_HOST_OWNED)?;
    v.write(field::CR4_GUEST_HOST_MASK, ctl.cr4_host_owned)?;
    v.write(field::VMCS_LINK_POINTER, u64::MAX)?;
    if let Some(ticks) = ctl.preemption_timer {
        // Without "save VMX-preemption timer value", each entry starts
        // the count afresh from this field.
        v.write(field::VMX_PREEMPTION_TIMER_VALUE, ticks)?;
    }

    // Host state that is the same on every CPU and for every task; the
    // rest is written per section by `run::write_host_state`.
    let mut hs = crate::glue::HostStateRaw::default();
    // SAFETY: fills the constant part of `hs` from this CPU's registers.
    unsafe { glue::rv_host_cpu_state_save(&mut hs) };
    v.write(field::HOST_CR0, hs.cr0)?;
    v.write(field::HOST_CS_SELECTOR, u64::from(hs.cs_sel))?;
    v.write(field::HOST_SS_SELECTOR, u64::from(hs.ss_sel))?;
    v.write(field::HOST_TR_SELECTOR, u64::from(hs.tr_sel))?;
    // The data selectors are restored by hand after the exit if they were
    // not null; VM exit loads null ones.
    for f in [
        field::HOST_DS_SELECTOR,
        field::HOST_ES_SELECTOR,
        field::HOST_FS_SELECTOR,
        field::HOST_GS_SELECTOR,
    ] {
        v.write(f, 0)?;
    }
    v.write(field::HOST_IDTR_BASE, hs.idt_base)?;
    v.write(field::HOST_IA32_EFER, hs.efer)?;
    v.write(field::HOST_IA32_PAT, hs.pat)?;
    // SAFETY: returns the address of the exit label in vmenter.S.
    v.write(field::HOST_RIP, unsafe { glue::rv_vmx_host_rip() } as u64)?;

    // Guest reset state.
    for seg in Segment::ALL {
        let f = seg.fields();
        let (sel, base, rights) = match seg {
            Segment::Cs => (0xf000, 0xffff_0000, ar::P | ar::S | ar::TYPE_CODE_XRA),
            Segment::Tr => (0, 0, ar::P | ar::TYPE_TSS_BUSY),
            Segment::Ldtr => (0, 0, ar::P | ar::TYPE_LDT),
            _ => (0, 0, ar::P | ar::S | ar::TYPE_DATA_RWA),
        };
        v.write(f.selector, sel)?;
        v.write(f.base, base)?;
        v.write(f.limit, 0xffff)?;
        v.write(f.ar, u64::from(rights))?;
    }
    v.write(field::GUEST_GDTR_BASE, 0)?;
    v.write(field::GUEST_GDTR_LIMIT, 0xffff)?;
    v.write(field::GUEST_IDTR_BASE, 0)?;
    v.write(field::GUEST_IDTR_LIMIT, 0xffff)?;
    v.write(field::GUEST_RIP, 0xfff0)?;
    v.write(field::GUEST_RSP, 0)?;
    v.write(field::GUEST_RFLAGS, RFLAGS_FIXED)?;
    write_cr0(v, ctl, CR0_RESET)?;
    write_cr4(v, ctl, 0)?;
    v.write(field::GUEST_CR3, 0)?;
    write_efer(v, 0)?;
    v.write(field::GUEST_IA32_PAT, PAT_RESET)?;
    v.write(field::GUEST_DR7, DR7_FIXED_1)?;
    v.write(field::GUEST_IA32_DEBUGCTL, 0)?;
    v.write(field::GUEST_SYSENTER_CS, 0)?;
    v.write(field::GUEST_SYSENTER_ESP, 0)?;
    v.write(field::GUEST_SYSENTER_EIP, 0)?;
    v.write(field::GUEST_ACTIVITY_STATE, 0)?;
    v.write(field::GUEST_INTERRUPTIBILITY_INFO, 0)?;
    v.write(field::GUEST_PENDING_DBG_EXCEPTIONS, 0)?;
    Ok(())
}
