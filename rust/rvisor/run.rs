// SPDX-License-Identifier: GPL-2.0

//! `KVM_RUN`: the loop that enters the guest and handles its exits.
//!
//! The loop alternates two contexts:
//!
//! - a *section*, non-preemptible with interrupts off, where the VMCS is
//!   current, the host state saved, and the guest's FPU, XCR0,
//!   KERNEL_GS_BASE and SYSCALL MSRs loaded. Exits the kernel handles
//!   without sleeping (CPUID, MSRs, control registers, XSETBV, VMCALL,
//!   NMIs) re-enter the guest at once, never leaving the section;
//! - process context between sections, where rvisor may sleep: pinning a
//!   guest page on an EPT violation, reading guest memory to emulate
//!   MMIO, rescheduling, and noticing signals. An external interrupt ends
//!   the section so the host handles it as soon as interrupts are on.

use crate::cr::EFER_SCE;
use crate::exits::{self, Next};
use crate::glue::{self, HostStateRaw};
use crate::guest_memory::Fault;
use crate::guest_msrs::{msr, SYSCALL_MSRS};
use crate::uapi::{exit, KvmRun};
use crate::vcpu::{gpr, write_pdptes, Guest, Pending, Vcpu, VcpuState};
use crate::vmcs::{field, ExitReason};
use crate::vmcs_region::{LoadedVmcs, NoPreempt};
use crate::{arch, mmio, vmx_insn};
use kernel::prelude::*;

/// Why a section ended.
pub(crate) enum Outcome {
    /// Go round again (an interrupt arrived, or rescheduling is due).
    Reenter,
    /// `kvm_run` describes an exit for user space.
    User,
    /// EPT violation at `gpa`: map the page or emulate MMIO.
    EptViolation(mmio::Access),
    /// A MOV to CR0 or CR3 under PAE paging outside long mode: it takes
    /// effect only if the PDPTEs at the new CR3 can be read and are valid
    /// (else #GP, nothing changed), which needs guest memory.
    LoadPdptrs(PaeWrite),
    /// INS or OUTS: its memory operand is reached through the guest's page
    /// tables and the VMM's memory, outside the section.
    StringIo(crate::ins_outs::Exit),
}

/// A control-register write waiting for its PDPTEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PaeWrite {
    /// The new CR0, or `None` for a MOV to CR3.
    pub(crate) cr0: Option<u64>,
    /// CR3 after the write: where the PDPTEs are.
    pub(crate) cr3: u64,
}

/// Writes the exit reason into `kvm_run`.
pub(crate) fn set_exit_reason(run: *mut KvmRun, reason: u32) {
    // SAFETY: `run` is the vCPU's run page, shared with user space: only
    // plain stores, no references into it.
    unsafe { (*run).exit_reason = reason };
}

/// What one `KVM_RUN` keeps across its sections.
struct RunCtx {
    /// `kvm_run.request_interrupt_window`, read once when the run starts.
    window: bool,
    /// The guest was entered in this run: KVM reports an open window only
    /// after an exit, or when a signal cancels the first entry
    /// (vcpu_run()), not before a first entry that happens.
    entered: bool,
}

/// Runs the vCPU until an exit user space must handle.
pub(crate) fn run(vcpu: &Vcpu) -> Result<isize> {
    let mut guard = vcpu.state.lock()?;
    let st: &mut VcpuState = &mut guard;
    let r = run_locked(vcpu, st);
    // Whatever the result, as KVM's post_kvm_run_save().
    save_run_state(vcpu, st);
    r
}

/// Fills the `kvm_run` fields that describe the vCPU after a run: RFLAGS.IF,
/// CR8, APIC_BASE and whether user space may inject an interrupt now.
fn save_run_state(vcpu: &Vcpu, st: &mut VcpuState) {
    let run = vcpu.run_struct();
    let np = NoPreempt::new();
    let (if_flag, ready) = match st.vmcs.load(&np) {
        Ok(v) => (
            v.read(field::GUEST_RFLAGS) & crate::cr::RFLAGS_IF != 0,
            exits::ready_for_injection(&v, &st.g),
        ),
        // VMX is off (reboot): the vCPU runs no more.
        Err(_) => (false, false),
    };
    drop(np);
    // SAFETY: plain stores into the shared page.
    unsafe {
        // No SMM, no nested guest: KVM clears what user space left here.
        (*run).flags = 0;
        (*run).if_flag = u8::from(if_flag);
        (*run).cr8 = st.g.cr8;
        (*run).apic_base = st.g.msrs.soft.apic_base();
        (*run).ready_for_interrupt_injection = u8::from(ready);
    }
}

fn run_locked(vcpu: &Vcpu, st: &mut VcpuState) -> Result<isize> {
    let run = vcpu.run_struct();
    // SAFETY: fields of the shared page; user space may change them at any
    // time, so each is read once, volatile.
    let (cr8, window, immediate_exit) = unsafe {
        (
            core::ptr::addr_of!((*run).cr8).read_volatile(),
            core::ptr::addr_of!((*run).request_interrupt_window).read_volatile(),
            core::ptr::addr_of!((*run).immediate_exit).read_volatile(),
        )
    };
    // Without an in-kernel APIC, KVM takes the TPR from kvm_run on every
    // KVM_RUN, before anything else (kvm_arch_vcpu_ioctl_run()).
    st.g.cr8 = crate::events::run_cr8(cr8).ok_or(EINVAL)?;
    // The data of an INS, written to guest memory (which may sleep) before
    // anything else, as KVM's complete_userspace_io.
    if crate::ins_outs::complete_in(vcpu, &mut st.g)? {
        return Ok(0);
    }
    let mut ctx = RunCtx {
        window: window != 0,
        entered: false,
    };
    if immediate_exit != 0 {
        // Complete what user space handled, then return (KVM's order).
        let np = NoPreempt::new();
        let mut v = st.vmcs.load(&np)?;
        complete_pending(vcpu, &mut v, &mut st.g)?;
        set_exit_reason(run, exit::INTR);
        return Err(EINTR);
    }
    loop {
        // Task work the kernel queued for this task's return to user space
        // (above all the machine-check handler's kill_me_maybe() after a
        // #MC in the guest) must run before the guest does again, or the
        // guest re-executes the poisoned access until the host panics; KVM
        // runs it in xfer_to_guest_mode_work(), which a module cannot call
        // (nor task_work_run()), so rvisor returns to user space for it, as
        // for a signal.
        //
        // First the last exit's instruction, if it is half done (a MOV to
        // CR0 or CR3 given its PDPTEs, a fault decided outside the
        // section): KVM finishes those in the exit handler, so user space
        // must never see them pending, nor change the state they apply to.
        if matches!(
            st.g.pending,
            Pending::Pae { .. } | Pending::Exception { .. }
        ) {
            let np = NoPreempt::new();
            let mut v = st.vmcs.load(&np)?;
            complete_pending(vcpu, &mut v, &mut st.g)?;
        }
        // SAFETY: queries the current task.
        let signal = unsafe { glue::rv_signal_pending() || glue::rv_task_work_pending() };
        // The last section ended on an exit the kernel handled (an EPT
        // violation, an interrupt), or a signal ends the run before an
        // entry: if user space asked for the interrupt window and it is
        // open, that is this run's exit, before the signal (KVM's vcpu_run()
        // checks after every vcpu_enter_guest(), a cancelled one included).
        if ctx.window && (ctx.entered || signal) {
            let np = NoPreempt::new();
            let v = st.vmcs.load(&np)?;
            if window_open(&v, &st.g, &ctx) {
                set_exit_reason(run, exit::IRQ_WINDOW_OPEN);
                return Ok(0);
            }
        }
        if signal {
            set_exit_reason(run, exit::INTR);
            return Err(EINTR);
        }
        // SAFETY: may sleep; no lock but the vCPU mutex is held.
        unsafe { glue::rv_cond_resched() };
        match section(vcpu, st, &mut ctx)? {
            Outcome::Reenter => {}
            Outcome::User => return Ok(0),
            Outcome::LoadPdptrs(w) => {
                let maxphyaddr = crate::cpuid_table::maxphyaddr(&st.g.cpuid);
                let pdptes = vcpu.vm.load_pdptes(w.cr3, maxphyaddr);
                st.g.pending = match pdptes {
                    Some(pdptes) => Pending::Pae { write: w, pdptes },
                    // Unreadable or invalid: #GP, nothing changed.
                    None => Pending::Exception {
                        vector: crate::vmcs::vector::GP,
                        error_code: 0,
                        cr2: None,
                    },
                };
            }
            Outcome::StringIo(x) => {
                if crate::ins_outs::start(vcpu, st, &x)? {
                    return Ok(0);
                }
            }
            Outcome::EptViolation(access) => match vcpu.vm.ept_fault(access.gpa, access.write)? {
                Fault::Mapped => {}
                Fault::Mmio => {
                    if mmio::emulate(vcpu, &mut st.g, &access)? {
                        return Ok(0);
                    }
                }
            },
        }
    }
}

/// Finishes an exit user space handled: loads IN or MMIO read data and
/// moves past the instruction (raising the single-step trap if RFLAGS.TF).
fn complete_pending(vcpu: &Vcpu, v: &mut LoadedVmcs<'_>, g: &mut Guest) -> Result {
    let run = vcpu.run_struct();
    let next_rip = match g.pending {
        // An INS is completed before the section (`ins_outs::complete_in`).
        Pending::None | Pending::StringIn { .. } => return Ok(()),
        Pending::Exception {
            vector,
            error_code,
            cr2,
        } => {
            g.pending = Pending::None;
            if let Some(cr2) = cr2 {
                g.cr2 = cr2;
            }
            return exits::inject(v, vector, Some(error_code)).map(|_| ());
        }
        Pending::Pae { write, pdptes } => {
            g.pending = Pending::None;
            match write.cr0 {
                Some(cr0) => crate::vcpu::write_cr0(v, vcpu.vm.controls(), cr0)?,
                None => v.write(field::GUEST_CR3, write.cr3)?,
            }
            write_pdptes(v, &pdptes)?;
            return exits::skip(v, g).map(|_| ());
        }
        Pending::Skip { next_rip } => next_rip,
        Pending::PioIn { size, next_rip } => {
            let mut data = [0u8; 4];
            // SAFETY: the I/O data page is ours; `size` <= 4.
            unsafe {
                core::ptr::copy_nonoverlapping(vcpu.pio_data(), data.as_mut_ptr(), size as usize)
            };
            write_gpr_sized(
                v,
                g,
                gpr::RAX as u8,
                u64::from(u32::from_le_bytes(data)),
                size,
            );
            next_rip
        }
        Pending::MmioRead {
            dest,
            size,
            dest_size,
            next_rip,
        } => {
            // SAFETY: reads the 8 data bytes of the shared page by value.
            let data = unsafe { core::ptr::addr_of!((*run).exit.mmio.data).read_volatile() };
            let old = read_gpr(v, g, dest.num);
            let new = crate::insn::load_into(dest, old, u64::from_le_bytes(data), size, dest_size);
            write_gpr_sized(v, g, dest.num, new, 8);
            next_rip
        }
    };
    g.pending = Pending::None;
    exits::move_to(v, g, next_rip).map(|_| ())
}

/// Reads general register `reg` (0 = RAX ... 15 = R15), all 64 bits.
pub(crate) fn read_gpr(v: &LoadedVmcs<'_>, g: &Guest, reg: u8) -> u64 {
    if usize::from(reg) == gpr::RSP {
        v.read(field::GUEST_RSP)
    } else {
        g.regs[usize::from(reg & 15)]
    }
}

/// Writes `size` bytes of `val` into register `reg` with the processor's
/// rules: 1- and 2-byte writes keep the other bits, 4-byte writes zero the
/// upper half, 8-byte writes replace it.
pub(crate) fn write_gpr_sized(v: &mut LoadedVmcs<'_>, g: &mut Guest, reg: u8, val: u64, size: u8) {
    let old = read_gpr(v, g, reg);
    let new = match size {
        1 => (old & !0xff) | (val & 0xff),
        2 => (old & !0xffff) | (val & 0xffff),
        4 => val & 0xffff_ffff,
        _ => val,
    };
    if usize::from(reg) == gpr::RSP {
        let _ = v.write(field::GUEST_RSP, new);
    } else {
        g.regs[usize::from(reg & 15)] = new;
    }
}

/// Writes the host-state fields that depend on the CPU and the task.
fn write_host_state(v: &mut LoadedVmcs<'_>, hs: &HostStateRaw, cpu_changed: bool) -> Result {
    v.write(field::HOST_CR3, hs.cr3)?;
    v.write(field::HOST_CR4, hs.cr4)?;
    v.write(field::HOST_FS_BASE, hs.fs_base)?;
    if cpu_changed {
        v.write(field::HOST_GS_BASE, hs.gs_base)?;
        v.write(field::HOST_TR_BASE, hs.tr_base)?;
        v.write(field::HOST_GDTR_BASE, hs.gdt_base)?;
        v.write(field::HOST_IA32_SYSENTER_CS, hs.sysenter_cs)?;
        v.write(field::HOST_IA32_SYSENTER_ESP, hs.sysenter_esp)?;
        v.write(field::HOST_IA32_SYSENTER_EIP, hs.sysenter_eip)?;
    }
    Ok(())
}

/// One section: enter the guest, handle exits that need no sleeping, and
/// return when something else is needed.
fn section(vcpu: &Vcpu, st: &mut VcpuState, ctx: &mut RunCtx) -> Result<Outcome> {
    let np = NoPreempt::new();
    let cpu = np.cpu();
    // SAFETY: process context; saves the task's FPU registers, which are
    // restored on return to user space. Paired with the end below.
    unsafe { glue::rv_kernel_fpu_begin() };
    // SAFETY: paired with the enable below.
    unsafe { glue::rv_local_irq_disable() };
    let outcome = match st.vmcs.load(&np) {
        Ok(mut v) => guest_section(vcpu, &mut v, &mut st.g, cpu, ctx),
        Err(e) => Err(e),
    };
    // SAFETY: interrupts were disabled above; the host state is restored.
    unsafe { glue::rv_local_irq_enable() };
    // SAFETY: the guest FPU state was saved in `guest_section`.
    unsafe { glue::rv_kernel_fpu_end() };
    drop(np);
    outcome
}

/// TSC cycles a section may handle exits with interrupts off before it
/// ends and lets the host take its interrupts: the preemption timer's
/// span (see `Controls`), about a millisecond.
const SECTION_TSC_BUDGET: u64 = 1 << 22;

/// Whether user space asked for the interrupt window and it is open
/// (KVM's dm_request_for_irq_injection() and
/// kvm_vcpu_ready_for_interrupt_injection()).
fn window_open(v: &LoadedVmcs<'_>, g: &Guest, ctx: &RunCtx) -> bool {
    ctx.window && exits::ready_for_injection(v, g)
}

/// Prepares the entry's events, in KVM's order
/// (kvm_check_and_inject_events()): an event whose delivery an exit
/// interrupted is already armed; then the queued interrupt (KVM_INTERRUPT
/// counts as already injected there); then a pending NMI if the guest does
/// not block NMIs. What cannot be delivered now waits for its window:
/// NMI-window exiting for an NMI, interrupt-window exiting if user space
/// asked for it. Returns whether the queued interrupt was armed.
fn arm_events(v: &mut LoadedVmcs<'_>, g: &mut Guest, ctx: &RunCtx) -> Result<bool> {
    use crate::events::{plan_nmi, NmiWindow};
    use crate::exits::update_proc;
    use crate::vmcs::{intr_info, proc};
    // The window user space asked for. KVM arms it only once no vector is
    // queued, but it ends the run right after delivering one
    // (req_immediate_exit) to arm it then; armed with the delivery here, it
    // opens at the same instruction boundary.
    if ctx.window && !g.irq_window {
        update_proc(v, proc::INTR_WINDOW_EXITING, 0)?;
        g.irq_window = true;
    }
    if g.irq.is_none() && g.nmi_pending == 0 && g.nmi_queued == 0 {
        return Ok(false);
    }
    let mut entry = v.read32(field::VM_ENTRY_INTR_INFO_FIELD);
    let irq_armed = match crate::events::arm_queued(entry, g.irq) {
        Some(info) => {
            v.write(field::VM_ENTRY_INTR_INFO_FIELD, u64::from(info))?;
            entry = info;
            true
        }
        None => false,
    };
    if g.nmi_pending != 0 || g.nmi_queued != 0 {
        let intr_state = v.read32(field::GUEST_INTERRUPTIBILITY_INFO);
        g.process_nmi(intr_state, entry);
        let (inject, window) = plan_nmi(g.nmi_pending, entry, intr_state);
        if inject {
            v.write(field::VM_ENTRY_INTR_INFO_FIELD, u64::from(intr_info::NMI))?;
            g.nmi_pending -= 1;
        }
        match window {
            NmiWindow::Nmi if !g.nmi_window => {
                update_proc(v, proc::NMI_WINDOW_EXITING, 0)?;
                g.nmi_window = true;
            }
            NmiWindow::Interrupt if !g.irq_window => {
                update_proc(v, proc::INTR_WINDOW_EXITING, 0)?;
                g.irq_window = true;
            }
            _ => {}
        }
    }
    Ok(irq_armed)
}

/// The part of a section with the VMCS current and interrupts off.
fn guest_section(
    vcpu: &Vcpu,
    v: &mut LoadedVmcs<'_>,
    g: &mut Guest,
    cpu: usize,
    ctx: &mut RunCtx,
) -> Result<Outcome> {
    let vm = &vcpu.vm;
    let mut hs = HostStateRaw::default();
    // SAFETY: fills `hs` from this CPU's registers and MSRs.
    unsafe { glue::rv_host_state_save(&mut hs) };
    let cpu_changed = g.last_cpu != Some(cpu);
    if cpu_changed {
        // SAFETY: as above, for the fields that only change with the CPU.
        unsafe { glue::rv_host_cpu_state_save(&mut hs) };
    }
    write_host_state(v, &hs, cpu_changed)?;
    if cpu_changed {
        // This CPU may hold stale translations of this vCPU from an
        // earlier visit, or of a previous user of its VPID or EPT root.
        if let Some(vpid) = &vcpu.vpid {
            vmx_insn::invvpid_single(vpid.get())?;
        }
        vmx_insn::invept_single(vm.eptp())?;
        g.last_cpu = Some(cpu);
    }
    complete_pending(vcpu, v, g)?;

    // Guest MSRs the processor does not switch.
    let mut host_syscall = [0u64; 4];
    // SAFETY: KERNEL_GS_BASE only matters to SWAPGS, which the host does
    // not execute before it is restored below.
    unsafe { glue::rv_wrmsr(msr::KERNEL_GS_BASE, g.msrs.kernel_gs_base) };
    // The guest's SYSCALL MSRs whenever it may execute SYSCALL (EFER.SCE),
    // whether or not it ever wrote them: they start at 0 as on KVM, and a
    // guest must never reach the host's entry_SYSCALL_64 through the host's
    // LSTAR. A WRMSR that changes them or EFER ends the section, so what is
    // loaded here stays right until the section ends.
    let syscall = v.read(field::GUEST_IA32_EFER) & EFER_SCE != 0;
    if syscall {
        let guest = [g.msrs.star, g.msrs.lstar, g.msrs.cstar, g.msrs.sfmask];
        for (i, m) in SYSCALL_MSRS.iter().enumerate() {
            // SAFETY: the host's values are put back before interrupts are
            // enabled; the host makes no system call meanwhile.
            unsafe {
                host_syscall[i] = glue::rv_rdmsr(*m);
                glue::rv_wrmsr(*m, guest[i]);
            }
        }
    }
    // SAFETY: inside kernel_fpu_begin(), interrupts off; saved below.
    unsafe { g.fpu.load() };

    let mut launched = false;
    // The host ran other code before this section's first entry (see
    // `rv_l1d_flush`); within the section only exit handlers with
    // interrupts off run between entries.
    let mut host_ran = true;
    let section_start = arch::rdtsc();
    let outcome = loop {
        vm.set_running(vcpu.id, Some(cpu));
        let generation = vm.ept_generation();
        if generation != g.ept_generation {
            if let Err(e) = vmx_insn::invept_single(vm.eptp()) {
                vm.set_running(vcpu.id, None);
                break Err(e);
            }
            g.ept_generation = generation;
        }
        if arch::read_cr2() != g.cr2 {
            arch::write_cr2(g.cr2);
        }
        let irq_armed = match arm_events(v, g, ctx) {
            Ok(a) => a,
            Err(e) => {
                vm.set_running(vcpu.id, None);
                break Err(e);
            }
        };
        // SAFETY: interrupts are off, right before entry.
        unsafe { glue::rv_l1d_flush(host_ran) };
        host_ran = false;
        // SAFETY: the VMCS is current and complete, interrupts are off, and
        // `regs` is the 16-register array vmenter.S expects.
        let ret = unsafe { glue::rv_vmx_run(g.regs.as_mut_ptr(), launched) };
        // SAFETY: preemption is off: this is the CPU the guest ran on.
        unsafe { glue::rv_guest_ran() };
        g.cr2 = arch::read_cr2();
        vm.set_running(vcpu.id, None);
        if g.irq.is_some() {
            // What the entry delivered left its queue (an exit during the
            // delivery queues it again, see `exits::handle`), and so did a
            // vector another event displaced (`events::queue_after_entry`);
            // an entry that failed delivered nothing, and the field must not
            // deliver it behind the queue's back later (KVM's
            // cancel_injection()). An NMI stays armed after a failed entry:
            // KVM keeps it injected (vmx_vcpu_run() skips
            // vmx_complete_interrupts() then), so it goes before a queued
            // interrupt and the vCPU is not ready for one.
            let entered = ret == 0 && !ExitReason(v.read32(field::VM_EXIT_REASON)).entry_failed();
            g.irq = crate::events::queue_after_entry(g.irq, entered);
            if !entered && irq_armed && ret != 2 {
                let _ = v.write(field::VM_ENTRY_INTR_INFO_FIELD, 0);
            }
        }
        match ret {
            0 => {
                launched = true;
                ctx.entered = true;
            }
            1 => {
                let err = v.read(field::VM_INSTRUCTION_ERROR);
                exits::fail_entry(vcpu, err, cpu);
                break Ok(Outcome::User);
            }
            _ => {
                // VMLAUNCH/VMRESUME faulted: VMX is off (reboot).
                vmx_insn::fault();
                break Err(EIO);
            }
        }
        match exits::handle(vcpu, v, g, cpu) {
            Ok(Next::Resume) if window_open(v, g, ctx) => {
                // As KVM's vcpu_run() after every exit it handled.
                set_exit_reason(vcpu.run_struct(), exit::IRQ_WINDOW_OPEN);
                break Ok(Outcome::User);
            }
            Ok(Next::Resume) => {
                // Interrupts stay off while exits are handled in the
                // section, so it must end now and then even if the guest
                // never stops exiting: where external interrupts do not
                // force an exit while the guest has RFLAGS.IF clear
                // (Bochs), nothing else would, and the preemption timer
                // restarts at every entry. KVM enables interrupts after
                // every exit.
                // SAFETY: reads this CPU's flags.
                if unsafe { glue::rv_need_resched() }
                    || arch::rdtsc().wrapping_sub(section_start) > SECTION_TSC_BUDGET
                {
                    break Ok(Outcome::Reenter);
                }
            }
            Ok(Next::Leave(o)) => break Ok(o),
            Err(e) => break Err(e),
        }
    };

    // SAFETY: pairs with `load` above.
    unsafe { g.fpu.save() };
    if syscall {
        for (i, m) in SYSCALL_MSRS.iter().enumerate() {
            // SAFETY: restores the host's values read above.
            unsafe { glue::rv_wrmsr(*m, host_syscall[i]) };
        }
    }
    // SAFETY: the guest may have changed it with SWAPGS.
    g.msrs.kernel_gs_base = unsafe { glue::rv_rdmsr(msr::KERNEL_GS_BASE) };
    // SAFETY: restores what VM exit changed (segments, GDT limit, TSS
    // limit) and the host's KERNEL_GS_BASE, from `hs`.
    unsafe { glue::rv_host_state_restore(&hs) };
    outcome
}
