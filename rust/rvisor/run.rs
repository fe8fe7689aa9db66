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

use crate::exits::{self, Next};
use crate::glue::{self, HostStateRaw};
use crate::guest_memory::Fault;
use crate::guest_msrs::{msr, EFER_SCE, SYSCALL_MSRS};
use crate::uapi::{exit, KvmRun};
use crate::vcpu::{gpr, write_pdptes, Guest, Pending, Vcpu, VcpuState};
use crate::vmcs::field;
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

/// Runs the vCPU until an exit user space must handle.
pub(crate) fn run(vcpu: &Vcpu) -> Result<isize> {
    let run = vcpu.run_struct();
    let mut guard = vcpu.state.lock()?;
    let st: &mut VcpuState = &mut guard;
    // SAFETY: a byte of the shared page; user space may change it at any
    // time, so it is read once, volatile.
    let immediate_exit = unsafe { core::ptr::addr_of!((*run).immediate_exit).read_volatile() };
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
        if unsafe { glue::rv_signal_pending() || glue::rv_task_work_pending() } {
            set_exit_reason(run, exit::INTR);
            return Err(EINTR);
        }
        // SAFETY: may sleep; no lock but the vCPU mutex is held.
        unsafe { glue::rv_cond_resched() };
        match section(vcpu, st)? {
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
        Pending::None => return Ok(()),
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
fn section(vcpu: &Vcpu, st: &mut VcpuState) -> Result<Outcome> {
    let np = NoPreempt::new();
    let cpu = np.cpu();
    // SAFETY: process context; saves the task's FPU registers, which are
    // restored on return to user space. Paired with the end below.
    unsafe { glue::rv_kernel_fpu_begin() };
    // SAFETY: paired with the enable below.
    unsafe { glue::rv_local_irq_disable() };
    let outcome = match st.vmcs.load(&np) {
        Ok(mut v) => guest_section(vcpu, &mut v, &mut st.g, cpu),
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

/// The part of a section with the VMCS current and interrupts off.
fn guest_section(
    vcpu: &Vcpu,
    v: &mut LoadedVmcs<'_>,
    g: &mut Guest,
    cpu: usize,
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
        match ret {
            0 => launched = true,
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
