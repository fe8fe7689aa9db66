// SPDX-License-Identifier: GPL-2.0

//! VM-exit handlers. Each runs in the section (interrupts off, VMCS
//! current) and either lets the guest resume or ends the section with an
//! [`Outcome`].

use crate::cr::{
    self, CR0_PE, CR0_PG, CR4_OSXSAVE, CR4_PAE, DR6_FIXED_1, DR6_VOLATILE, DR7_ENABLES,
    DR7_FIXED_1, DR7_GD, DR7_VOLATILE, EFER_LMA, EFER_LME, RFLAGS_TF,
};
use crate::events::{event_is, reblock_nmi_after, EventState};
use crate::guest_msrs::{msr, EFER_VALID, SYSCALL_MSRS};
use crate::insn::CpuMode;
use crate::msrs::Access;
use crate::run::{read_gpr, set_exit_reason, write_gpr_sized, Outcome, PaeWrite};
use crate::segment::ar;
use crate::uapi::{exit, internal, io_dir, PIO_DATA_OFFSET};
use crate::vcpu::{gpr, read_cr0, read_cr4, write_cr0, write_efer, Guest, Pending, Vcpu};
use crate::vmcs::{
    field, handles_vectoring, interruptibility, intr_info, proc, reason, vector, CrAccess,
    CrQualification, DrQualification, EptViolation, ExitReason, IoQualification, Redelivery,
};
use crate::vmcs_region::LoadedVmcs;
use crate::{cpuid_table, glue, mmio};
use kernel::prelude::*;

/// What to do after an exit.
pub(crate) enum Next {
    /// Re-enter the guest.
    Resume,
    /// End the section.
    Leave(Outcome),
}

/// Records a failed VM entry for user space, as KVM does: `reason` is the
/// VM-instruction error after a VMfail, or the exit reason after an entry
/// that failed its guest-state checks.
pub(crate) fn fail_entry(vcpu: &Vcpu, error: u64, cpu: usize) {
    let run = vcpu.run_struct();
    set_exit_reason(run, exit::FAIL_ENTRY);
    // SAFETY: plain stores into the shared page.
    unsafe {
        (*run).exit.fail_entry.hardware_entry_failure_reason = error;
        (*run).exit.fail_entry.cpu = cpu as u32;
    }
}

/// Reports an exit rvisor cannot handle as `KVM_EXIT_INTERNAL_ERROR`.
pub(crate) fn internal_error(vcpu: &Vcpu, suberror: u32, data: &[u64]) -> Next {
    let run = vcpu.run_struct();
    set_exit_reason(run, exit::INTERNAL_ERROR);
    let n = core::cmp::min(data.len(), 16);
    // SAFETY: plain stores into the shared page.
    unsafe {
        (*run).exit.internal.suberror = suberror;
        (*run).exit.internal.ndata = n as u32;
        for (i, d) in data[..n].iter().enumerate() {
            (*run).exit.internal.data[i] = *d;
        }
    }
    Next::Leave(Outcome::User)
}

/// The guest's current privilege level (SS.DPL, as KVM's vmx_get_cpl()).
pub(crate) fn cpl(v: &LoadedVmcs<'_>) -> u8 {
    ar::dpl(v.read32(field::GUEST_SS_AR_BYTES))
}

/// The guest's operating mode.
pub(crate) fn cpu_mode(v: &LoadedVmcs<'_>) -> CpuMode {
    CpuMode::from_state(
        read_cr0(v),
        v.read(field::GUEST_IA32_EFER),
        v.read32(field::GUEST_CS_AR_BYTES),
    )
}

/// Reads register `reg` as the source operand of a MOV to CR or DR: outside
/// 64-bit mode only its low 32 bits (KVM's kvm_register_read()), whatever
/// 64-bit code left above them.
fn read_operand(v: &LoadedVmcs<'_>, g: &Guest, reg: u8) -> u64 {
    let val = read_gpr(v, g, reg);
    if cpu_mode(v) == CpuMode::Long {
        val
    } else {
        u64::from(val as u32)
    }
}

/// The address of the next instruction. The guest chooses RIP: the sum
/// wraps and is truncated outside 64-bit mode ([`CpuMode::next_rip`]),
/// where a plain `+` would panic in the section with guest state loaded.
fn next_rip(v: &LoadedVmcs<'_>) -> u64 {
    cpu_mode(v).next_rip(
        v.read(field::GUEST_RIP),
        v.read(field::VM_EXIT_INSTRUCTION_LEN),
    )
}

/// Moves the guest past the exiting instruction (and out of an STI or
/// MOV SS interrupt shadow, which it ended).
pub(crate) fn skip(v: &mut LoadedVmcs<'_>, g: &mut Guest) -> Result<Next> {
    let rip = next_rip(v);
    move_to(v, g, rip)
}

/// Completes an emulated instruction: RIP at `next_rip`, the interrupt
/// shadow ended, and the single-step trap the processor would have raised
/// after it if RFLAGS.TF was set (KVM's kvm_skip_emulated_instruction()
/// and kvm_vcpu_do_singlestep()).
pub(crate) fn move_to(v: &mut LoadedVmcs<'_>, g: &mut Guest, next_rip: u64) -> Result<Next> {
    set_rip(v, next_rip)?;
    if v.read(field::GUEST_RFLAGS) & RFLAGS_TF != 0 {
        return inject_db(v, g, cr::DR6_BS);
    }
    Ok(Next::Resume)
}

/// Sets RIP to `next_rip` and ends an STI or MOV SS interrupt shadow: an
/// instruction completed for the guest, without its single-step trap.
pub(crate) fn set_rip(v: &mut LoadedVmcs<'_>, next_rip: u64) -> Result {
    v.write(field::GUEST_RIP, next_rip)?;
    let shadow = v.read32(field::GUEST_INTERRUPTIBILITY_INFO);
    let ends = interruptibility::STI | interruptibility::MOV_SS;
    if shadow & ends != 0 {
        v.write(
            field::GUEST_INTERRUPTIBILITY_INFO,
            u64::from(shadow & !ends),
        )?;
    }
    Ok(())
}

/// Injects a #DB caused by `cause` (DR6.BD or DR6.BS) with DR6 updated and
/// DR7.GD cleared, as the processor delivers one and as KVM does for every
/// #DB it injects (the handler may then use the debug registers).
fn inject_db(v: &mut LoadedVmcs<'_>, g: &mut Guest, cause: u64) -> Result<Next> {
    g.dr6 = cr::dr6_for_db(g.dr6, cause);
    if g.dr7 & DR7_GD != 0 {
        g.dr7 &= !DR7_GD;
        v.write(field::GUEST_DR7, guest_dr7_hw(g.dr7))?;
    }
    inject(v, vector::DB, None)
}

/// Injects a hardware exception; the instruction is not skipped. In real
/// mode no error code is pushed; a fault pushes RFLAGS.RF set.
pub(crate) fn inject(v: &mut LoadedVmcs<'_>, vec: u8, error_code: Option<u32>) -> Result<Next> {
    if vector::is_fault(vec) {
        // The image of RFLAGS a fault pushes has RF set; an injected
        // event pushes the guest's RFLAGS as it is, so set it as KVM's
        // kvm_check_and_inject_events() does.
        let rflags = v.read(field::GUEST_RFLAGS);
        v.write(field::GUEST_RFLAGS, rflags | cr::RFLAGS_RF)?;
    }
    let protected = read_cr0(v) & CR0_PE != 0;
    let ec = protected && error_code.is_some();
    v.write(
        field::VM_ENTRY_INTR_INFO_FIELD,
        u64::from(intr_info::exception(vec, ec)),
    )?;
    if ec {
        v.write(
            field::VM_ENTRY_EXCEPTION_ERROR_CODE,
            u64::from(error_code.unwrap_or(0)),
        )?;
    }
    Ok(Next::Resume)
}

/// Arms the next VM entry to deliver `r` again.
fn redeliver(v: &mut LoadedVmcs<'_>, r: &Redelivery) -> Result {
    v.write(field::VM_ENTRY_INTR_INFO_FIELD, u64::from(r.info))?;
    if let Some(ec) = r.error_code {
        v.write(field::VM_ENTRY_EXCEPTION_ERROR_CODE, u64::from(ec))?;
    }
    if let Some(len) = r.insn_len {
        v.write(field::VM_ENTRY_INSTRUCTION_LEN, u64::from(len))?;
    }
    if r.unblock_nmi {
        let state = v.read32(field::GUEST_INTERRUPTIBILITY_INFO);
        v.write(
            field::GUEST_INTERRUPTIBILITY_INFO,
            u64::from(state & !interruptibility::NMI),
        )?;
    }
    Ok(())
}

/// Sets `set` and clears `clear` in the primary processor-based controls
/// (the interrupt- and NMI-window exiting bits).
pub(crate) fn update_proc(v: &mut LoadedVmcs<'_>, set: u32, clear: u32) -> Result {
    let ctl = v.read32(field::CPU_BASED_VM_EXEC_CONTROL);
    v.write(
        field::CPU_BASED_VM_EXEC_CONTROL,
        u64::from((ctl & !clear) | set),
    )
}

/// Sets blocking by NMI again after an exit in the middle of an IRET that
/// had unblocked NMIs (an EPT violation on its stack, a fault: see
/// [`reblock_nmi_after`]), so that the IRET, executed again, finds the
/// handler's blocking and no second NMI nests in the first handler.
fn reblock_nmi(v: &mut LoadedVmcs<'_>) -> Result {
    let state = v.read32(field::GUEST_INTERRUPTIBILITY_INFO);
    v.write(
        field::GUEST_INTERRUPTIBILITY_INFO,
        u64::from(state | interruptibility::NMI),
    )
}

/// Whether user space may inject an interrupt now
/// (`kvm_run.ready_for_interrupt_injection`, see [`EventState`]).
pub(crate) fn ready_for_injection(v: &LoadedVmcs<'_>, g: &Guest) -> bool {
    EventState {
        rflags: v.read(field::GUEST_RFLAGS),
        intr_state: v.read32(field::GUEST_INTERRUPTIBILITY_INFO),
        entry_info: v.read32(field::VM_ENTRY_INTR_INFO_FIELD),
        queued: g.irq,
        exception_pending: matches!(g.pending, Pending::Exception { .. }),
    }
    .ready_for_injection()
}

fn gp(v: &mut LoadedVmcs<'_>) -> Result<Next> {
    inject(v, vector::GP, Some(0))
}

fn ud(v: &mut LoadedVmcs<'_>) -> Result<Next> {
    inject(v, vector::UD, None)
}

/// Handles the exit that just happened.
pub(crate) fn handle(
    vcpu: &Vcpu,
    v: &mut LoadedVmcs<'_>,
    g: &mut Guest,
    cpu: usize,
) -> Result<Next> {
    let why = ExitReason(v.read32(field::VM_EXIT_REASON));
    if why.basic() == reason::MCE_DURING_VMENTRY {
        // A machine check during VM entry is the host's, as in
        // vmx_vcpu_enter_exit(); then the entry is tried again
        // (handle_machine_check()).
        // SAFETY: interrupts are off, as for a #MC the host took itself.
        unsafe { glue::rv_machine_check() };
        return Ok(Next::Leave(Outcome::Reenter));
    }
    if why.entry_failed() {
        // KVM reports the whole exit reason (bit 31 set) as the hardware
        // reason.
        fail_entry(vcpu, u64::from(why.0), cpu);
        return Ok(Next::Leave(Outcome::User));
    }
    // The exit came in the middle of delivering an event (an EPT violation
    // on the IDT, the GDT or the stack; a host NMI or #MC): the next entry
    // delivers it again, whatever this exit leads to, as KVM's
    // vmx_complete_interrupts() requeues it before the exit is handled.
    // Without this a trap (a single-step #DB, an injected event) is lost:
    // re-executing the instruction raises only faults again.
    let vectoring = v.read32(field::IDT_VECTORING_INFO_FIELD);
    if let Some(r) = Redelivery::from_vectoring(
        vectoring,
        v.read32(field::IDT_VECTORING_ERROR_CODE),
        v.read32(field::VM_EXIT_INSTRUCTION_LEN),
    ) {
        if r.info & intr_info::TYPE_MASK == intr_info::TYPE_EXT_INTR {
            // An external interrupt goes back to the queue it came from,
            // where user space sees it (KVM_GET_SREGS) and the next entry
            // arms it (KVM's __vmx_complete_interrupts()).
            g.irq = Some(r.info as u8);
            g.irq_nr = r.info as u8;
        } else {
            if r.info & intr_info::TYPE_MASK == intr_info::TYPE_SOFT_INTR {
                // KVM requeues an INT n as a soft interrupt, whose vector
                // kvm_vcpu_events reports.
                g.irq_nr = r.info as u8;
            }
            redeliver(v, &r)?;
        }
        if !handles_vectoring(why.basic()) {
            return Ok(internal_error(
                vcpu,
                internal::DELIVERY_EV,
                &[
                    u64::from(vectoring),
                    u64::from(why.0),
                    v.read(field::EXIT_QUALIFICATION),
                    cpu as u64,
                ],
            ));
        }
    }
    match why.basic() {
        // Leave the section: the host takes the interrupt, or looks at
        // signals and rescheduling when the time slice ran out.
        reason::EXTERNAL_INTERRUPT | reason::PREEMPTION_TIMER => Ok(Next::Leave(Outcome::Reenter)),
        reason::EXCEPTION_NMI => {
            let info = v.read32(field::VM_EXIT_INTR_INFO);
            if reblock_nmi_after(reason::EXCEPTION_NMI, info, 0, vectoring) {
                reblock_nmi(v)?;
            }
            if event_is(info, intr_info::TYPE_NMI) {
                // SAFETY: interrupts are off and the NMI is blocked until the
                // handler's IRET, as if it had arrived here.
                unsafe { glue::rv_handle_nmi_irqoff() };
                Ok(Next::Resume)
            } else if info & intr_info::VALID != 0 && info as u8 == vector::MC {
                // Handled by the host before interrupts are enabled, as in
                // KVM's handle_exception_irqoff(); the guest never sees it.
                // What the handler decides for the task (memory_failure(),
                // a signal) happens on its way back to user space.
                // SAFETY: interrupts are off, as for a #MC the host took.
                unsafe { glue::rv_machine_check() };
                Ok(Next::Leave(Outcome::Reenter))
            } else if info & intr_info::VALID != 0 && info as u8 == vector::AC {
                // #AC is intercepted only so that its delivery cannot loop
                // in the processor without an exit (CVE-2015-5307: an #AC
                // raised while delivering #AC, on a misaligned CPL3 stack,
                // hangs the CPU); it goes back to the guest, which takes it
                // at the next entry, as in KVM's handle_exception_nmi().
                let ec = v.read32(field::VM_EXIT_INTR_ERROR_CODE);
                if vectoring & intr_info::VALID != 0 {
                    // Raised while delivering another event (the misaligned
                    // stack of CVE-2015-5307, or an NMI's or interrupt's
                    // delivery): KVM does not simulate the two together
                    // (handle_exception_nmi(): KVM_INTERNAL_ERROR_SIMUL_EX);
                    // the interrupted event stays queued, as there.
                    return Ok(internal_error(
                        vcpu,
                        internal::SIMUL_EX,
                        &[
                            u64::from(vectoring),
                            u64::from(info),
                            u64::from(ec),
                            cpu as u64,
                        ],
                    ));
                }
                inject(v, vector::AC, Some(ec))
            } else {
                Ok(internal_error(
                    vcpu,
                    internal::UNEXPECTED_EXIT_REASON,
                    &[u64::from(why.0), u64::from(info)],
                ))
            }
        }
        // The guest can take an interrupt: the window user space asked for
        // (the section's caller reports it, as KVM's vcpu_run() does after
        // any exit handled in the kernel); the exiting ends here, as in
        // KVM's handle_interrupt_window().
        reason::INTERRUPT_WINDOW => {
            update_proc(v, 0, proc::INTR_WINDOW_EXITING)?;
            g.irq_window = false;
            Ok(Next::Resume)
        }
        // A pending NMI can be delivered now: the next entry does it
        // (KVM's handle_nmi_window()).
        reason::NMI_WINDOW => {
            update_proc(v, 0, proc::NMI_WINDOW_EXITING)?;
            g.nmi_window = false;
            Ok(Next::Resume)
        }
        reason::TRIPLE_FAULT => {
            set_exit_reason(vcpu.run_struct(), exit::SHUTDOWN);
            Ok(Next::Leave(Outcome::User))
        }
        reason::CPUID => handle_cpuid(v, g, vcpu.vm.controls()),
        reason::HLT => {
            skip(v, g)?;
            set_exit_reason(vcpu.run_struct(), exit::HLT);
            Ok(Next::Leave(Outcome::User))
        }
        reason::VMCALL => {
            let long64 = cpu_mode(v) == CpuMode::Long;
            let r = &g.regs;
            let args = [r[gpr::RBX], r[gpr::RCX], r[gpr::RDX], r[gpr::RSI]];
            g.regs[gpr::RAX] = cr::hypercall(r[gpr::RAX], args, cpl(v), long64);
            skip(v, g)
        }
        reason::IO_INSTRUCTION => handle_io(vcpu, v, g),
        reason::CR_ACCESS => handle_cr(vcpu, v, g),
        reason::DR_ACCESS => handle_dr(vcpu, v, g),
        reason::MSR_READ => handle_rdmsr(v, g),
        reason::MSR_WRITE => handle_wrmsr(v, g),
        reason::XSETBV => {
            let value = (g.regs[gpr::RDX] << 32) | u64::from(g.regs[gpr::RAX] as u32);
            if g.regs[gpr::RCX] as u32 != 0 || !g.fpu.set_xcr0(value) {
                return gp(v);
            }
            skip(v, g)
        }
        reason::EPT_VIOLATION => {
            let q = EptViolation(v.read(field::EXIT_QUALIFICATION));
            if reblock_nmi_after(reason::EPT_VIOLATION, 0, q.0, vectoring) {
                reblock_nmi(v)?;
            }
            let access = mmio::Access::capture(v, q, vectoring);
            Ok(Next::Leave(Outcome::EptViolation(access)))
        }
        // KVM treats both as no-ops (kvm_emulate_invd(), and
        // kvm_emulate_wbinvd() without non-coherent DMA).
        reason::INVD | reason::WBINVD => skip(v, g),
        // VMX instructions, GETSEC, MONITOR/MWAIT: not offered to guests.
        reason::GETSEC
        | reason::VMCLEAR..=reason::VMXON
        | reason::INVEPT
        | reason::INVVPID
        | reason::MWAIT
        | reason::MONITOR => ud(v),
        reason::RDPMC => gp(v),
        other => Ok(internal_error(
            vcpu,
            internal::UNEXPECTED_EXIT_REASON,
            &[u64::from(other), v.read(field::EXIT_QUALIFICATION)],
        )),
    }
}

/// The vCPU state CPUID.1 follows (OSXSAVE where the host has XSAVE, APIC).
pub(crate) fn cpuid_runtime(
    v: &LoadedVmcs<'_>,
    g: &Guest,
    ctl: &crate::controls::Controls,
) -> cpuid_table::Runtime {
    cpuid_table::Runtime {
        osxsave: ctl
            .xsave
            .then(|| v.read(field::GUEST_CR4) & CR4_OSXSAVE != 0),
        apic: g.msrs.soft.apic_enabled(),
        xsave_size: ctl.xsave.then(|| g.fpu.xsave_size()),
    }
}

fn handle_cpuid(
    v: &mut LoadedVmcs<'_>,
    g: &mut Guest,
    ctl: &crate::controls::Controls,
) -> Result<Next> {
    if g.msrs.soft.cpuid_faulting() && cpl(v) > 0 {
        return gp(v);
    }
    let leaf = g.regs[gpr::RAX] as u32;
    let subleaf = g.regs[gpr::RCX] as u32;
    let r = cpuid_table::lookup(&g.cpuid, leaf, subleaf, cpuid_runtime(v, g, ctl));
    for (i, reg) in [gpr::RAX, gpr::RBX, gpr::RCX, gpr::RDX]
        .into_iter()
        .enumerate()
    {
        g.regs[reg] = u64::from(r[i]);
    }
    skip(v, g)
}

fn handle_io(vcpu: &Vcpu, v: &mut LoadedVmcs<'_>, g: &mut Guest) -> Result<Next> {
    let q = IoQualification(v.read(field::EXIT_QUALIFICATION));
    let size = q.size();
    if !matches!(size, 1 | 2 | 4) {
        // Encodings the SDM leaves undefined (Table 28-5): never reported
        // by a processor, and no more than 4 bytes may be copied below.
        return Ok(internal_error(
            vcpu,
            internal::UNEXPECTED_EXIT_REASON,
            &[u64::from(reason::IO_INSTRUCTION), q.0],
        ));
    }
    if q.is_string() {
        let ctl = *vcpu.vm.controls();
        return Ok(crate::ins_outs::Exit::capture(
            vcpu,
            v,
            g,
            &ctl,
            q,
            next_rip(v),
        ));
    }
    let run = vcpu.run_struct();
    let next = next_rip(v);
    if q.is_in() {
        // Zeros where user space writes nothing, as KVM.
        // SAFETY: the I/O data page is ours; `size` <= 4.
        unsafe { core::ptr::write_bytes(vcpu.pio_data(), 0, usize::from(size)) };
        g.pending = Pending::PioIn {
            size,
            next_rip: next,
        };
    } else {
        let data = (g.regs[gpr::RAX] as u32).to_le_bytes();
        // SAFETY: the I/O data page is ours; `size` <= 4.
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), vcpu.pio_data(), usize::from(size))
        };
        g.pending = Pending::Skip { next_rip: next };
    }
    set_exit_reason(run, exit::IO);
    // SAFETY: plain stores into the shared page.
    unsafe {
        (*run).exit.io.direction = if q.is_in() { io_dir::IN } else { io_dir::OUT };
        (*run).exit.io.size = size;
        (*run).exit.io.port = q.port();
        (*run).exit.io.count = 1;
        (*run).exit.io.data_offset = PIO_DATA_OFFSET;
    }
    Ok(Next::Leave(Outcome::User))
}

fn handle_cr(vcpu: &Vcpu, v: &mut LoadedVmcs<'_>, g: &mut Guest) -> Result<Next> {
    let ctl = *vcpu.vm.controls();
    match CrQualification(v.read(field::EXIT_QUALIFICATION)).access() {
        CrAccess::MovTo { cr: 0, gpr } => {
            let new = read_operand(v, g, gpr);
            let cs_l = v.read32(field::GUEST_CS_AR_BYTES) & ar::L != 0;
            let efer = v.read(field::GUEST_IA32_EFER);
            let Some(w) = cr::mov_to_cr0(read_cr0(v), new, read_cr4(v, &ctl), efer, cs_l) else {
                return gp(v);
            };
            if w.load_pdptrs {
                // EFER does not change here: PAE paging outside long mode.
                let cr3 = v.read(field::GUEST_CR3);
                let write = PaeWrite {
                    cr0: Some(new),
                    cr3,
                };
                return Ok(Next::Leave(Outcome::LoadPdptrs(write)));
            }
            if w.efer != efer {
                write_efer(v, w.efer)?;
            }
            if w.efer & EFER_LMA != 0 && efer & EFER_LMA == 0 {
                // Long mode needs a 64-bit busy TSS; a 16-bit one is
                // retyped, as by the processor (KVM's enter_lmode()).
                let tr_ar = v.read32(field::GUEST_TR_AR_BYTES);
                if tr_ar & ar::TYPE != ar::TYPE_TSS_BUSY {
                    let busy = (tr_ar & !ar::TYPE) | ar::TYPE_TSS_BUSY;
                    v.write(field::GUEST_TR_AR_BYTES, u64::from(busy))?;
                }
            }
            write_cr0(v, &ctl, new)?;
            skip(v, g)
        }
        // Every CR4 exit is an attempt to set a bit the guest may not.
        CrAccess::MovTo { cr: 4, .. } => gp(v),
        CrAccess::MovTo { cr: 3, gpr } => {
            let val = read_operand(v, g, gpr);
            if !cr::legal_cr3(val, crate::cpuid_table::maxphyaddr(&g.cpuid)) {
                return gp(v);
            }
            let pae_legacy = read_cr0(v) & CR0_PG != 0
                && read_cr4(v, &ctl) & CR4_PAE != 0
                && v.read(field::GUEST_IA32_EFER) & EFER_LMA == 0;
            if pae_legacy {
                let write = PaeWrite {
                    cr0: None,
                    cr3: val,
                };
                return Ok(Next::Leave(Outcome::LoadPdptrs(write)));
            }
            v.write(field::GUEST_CR3, val)?;
            skip(v, g)
        }
        CrAccess::MovFrom { cr: 3, gpr } => {
            let val = v.read(field::GUEST_CR3);
            write_gpr_sized(v, g, gpr, val, 8);
            skip(v, g)
        }
        CrAccess::MovTo { cr: 8, gpr } => {
            let val = read_operand(v, g, gpr);
            if val > 0xf {
                return gp(v);
            }
            g.cr8 = val;
            skip(v, g)
        }
        CrAccess::MovFrom { cr: 8, gpr } => {
            write_gpr_sized(v, g, gpr, g.cr8, 8);
            skip(v, g)
        }
        other => Ok(internal_error(
            vcpu,
            internal::UNEXPECTED_EXIT_REASON,
            &[
                u64::from(reason::CR_ACCESS),
                match other {
                    CrAccess::Lmsw(x) => u64::from(x),
                    _ => v.read(field::EXIT_QUALIFICATION),
                },
            ],
        )),
    }
}

fn handle_dr(vcpu: &Vcpu, v: &mut LoadedVmcs<'_>, g: &mut Guest) -> Result<Next> {
    let q = DrQualification(v.read(field::EXIT_QUALIFICATION));
    let from = q.is_from();
    let reg = q.gpr();
    let cr4 = read_cr4(v, vcpu.vm.controls());
    let Some(dr) = cr::debug_register(q.dr(), cr4) else {
        return ud(v);
    };
    let dr = usize::from(dr);
    if g.dr7 & DR7_GD != 0 {
        // General detect: the exit took precedence over the #DB the access
        // raises; deliver it as the processor would have (DR6.BD, GD
        // cleared), as KVM's handle_dr() does.
        return inject_db(v, g, cr::DR6_BD);
    }
    if from {
        let val = match dr {
            0..=3 => g.dr[dr],
            6 => g.dr6,
            _ => g.dr7,
        };
        write_gpr_sized(v, g, reg, val, 8);
    } else {
        let val = read_operand(v, g, reg);
        match dr {
            0..=3 => g.dr[dr] = val,
            _ if val >> 32 != 0 => return gp(v),
            6 => g.dr6 = (val & DR6_VOLATILE) | DR6_FIXED_1,
            _ => {
                g.dr7 = (val & DR7_VOLATILE) | DR7_FIXED_1;
                v.write(field::GUEST_DR7, guest_dr7_hw(g.dr7))?;
            }
        }
    }
    skip(v, g)
}

/// The DR7 the processor runs the guest with: the guest's, without its
/// breakpoint enables. DR0-DR3 are not switched (the guest's stay in
/// software, behind MOV-DR exiting), so an armed breakpoint would match
/// the host's addresses; none is armed, which also keeps a guest from
/// looping in #DB delivery on a data breakpoint over its own stack
/// (CVE-2015-8104). KVM switches DR0-DR3 and arms them; the difference
/// is listed in Documentation/uapi.rst.
fn guest_dr7_hw(dr7: u64) -> u64 {
    dr7 & !DR7_ENABLES
}

fn handle_rdmsr(v: &mut LoadedVmcs<'_>, g: &mut Guest) -> Result<Next> {
    let index = g.regs[gpr::RCX] as u32;
    let Some(val) = g.msrs.get(v, index, Access::Guest) else {
        return gp(v);
    };
    g.regs[gpr::RAX] = u64::from(val as u32);
    g.regs[gpr::RDX] = val >> 32;
    skip(v, g)
}

fn handle_wrmsr(v: &mut LoadedVmcs<'_>, g: &mut Guest) -> Result<Next> {
    let index = g.regs[gpr::RCX] as u32;
    let val = (g.regs[gpr::RDX] << 32) | u64::from(g.regs[gpr::RAX] as u32);
    let ok = if index == msr::EFER {
        let old = v.read(field::GUEST_IA32_EFER);
        let paging = read_cr0(v) & CR0_PG != 0;
        // LMA is read-only; LME may not change while paging is on.
        let new = (val & !EFER_LMA) | (old & EFER_LMA);
        val & !EFER_VALID == 0
            && cpuid_table::efer_allowed(&g.cpuid, new)
            && !(paging && (old ^ new) & EFER_LME != 0)
            && write_efer(v, new).is_ok()
    } else {
        g.msrs.set(v, index, val, Access::Guest, &g.cpuid)
    };
    if !ok {
        return gp(v);
    }
    skip(v, g)?;
    // The section loaded the SYSCALL MSRs as they were, and only if EFER.SCE
    // was set: end it so that the next one loads what the guest just wrote.
    if index == msr::EFER || SYSCALL_MSRS.contains(&index) {
        return Ok(Next::Leave(Outcome::Reenter));
    }
    Ok(Next::Resume)
}
