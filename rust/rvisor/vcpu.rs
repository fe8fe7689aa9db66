// SPDX-License-Identifier: GPL-2.0

//! A virtual CPU: its VMCS, registers, run page and the vCPU-fd ioctls
//! that read and write its state. Running it is in [`crate::run`].

use crate::controls::{Controls, CR0_HOST_OWNED};
use crate::cr::{
    valid_cr0, CR0_CD, CR0_NW, CR0_PE, CR0_PG, CR4_PAE, CR8_TPR, DR6_FIXED_1, DR7_FIXED_1,
    EFER_LMA, EFER_LME, RFLAGS_DEFINED, RFLAGS_FIXED,
};
use crate::guest_fpu::GuestFpu;
use crate::guest_msrs::{self, GuestMsrs, EFER_VALID};
use crate::msrs::{index::APIC_BASE, Access};
use crate::segment::{from_access_rights, to_access_rights};
use crate::uapi::{
    self, KvmCpuid2, KvmCpuidEntry2, KvmDtable, KvmMsrEntry, KvmMsrs, KvmRegs, KvmRun, KvmSregs,
    VCPU_MMAP_PAGES,
};
use crate::user_copy;
use crate::vcpu_lock::VcpuLock;
use crate::vm::Vm;
use crate::vmcs::{entry_ctl, field, Segment};
use crate::vmcs_region::{LoadedVmcs, NoPreempt, VmcsRegion};
use crate::vpid::Vpid;
use crate::{cpuid, glue};
use kernel::ffi::{c_long, c_uint, c_ulong, c_void};
use kernel::page::Page;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Indices of the general-purpose registers in [`VcpuState::regs`]: the
/// processor's encoding order, which exit qualifications use.
pub(crate) mod gpr {
    #![allow(missing_docs, dead_code)]
    pub(crate) const RAX: usize = 0;
    pub(crate) const RCX: usize = 1;
    pub(crate) const RDX: usize = 2;
    pub(crate) const RBX: usize = 3;
    /// Lives in the VMCS; the slot is unused.
    pub(crate) const RSP: usize = 4;
    pub(crate) const RBP: usize = 5;
    pub(crate) const RSI: usize = 6;
    pub(crate) const RDI: usize = 7;
}

/// What the next `KVM_RUN` must finish for an exit user space handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pending {
    /// Nothing.
    None,
    /// OUT or MMIO write done: continue after the instruction.
    Skip { next_rip: u64 },
    /// IN done: load `size` bytes from the I/O data page into RAX.
    PioIn { size: u8, next_rip: u64 },
    /// INS: user space was asked for `n` elements; they are written to
    /// guest memory before the next entry ([`crate::ins_outs::complete_in`]).
    StringIn { exit: crate::ins_outs::Exit, n: u32 },
    /// MMIO read done: load `size` bytes of `kvm_run.mmio.data` into
    /// `dest`, zero-extended to `dest_size` bytes.
    MmioRead {
        dest: crate::insn::Reg,
        size: u8,
        dest_size: u8,
        next_rip: u64,
    },
    /// The instruction raises hardware exception `vector` (with
    /// `error_code`; CR2 set first if `cr2`) at the next entry, without
    /// executing: what KVM's emulator finds where rvisor needs guest memory
    /// to decide (a #PF from its page walk, #GP from load_pdptrs()).
    Exception {
        vector: u8,
        error_code: u32,
        cr2: Option<u64>,
    },
    /// A MOV to CR0 or CR3 whose PDPTEs were read and are valid: it takes
    /// effect, with them, at the next entry.
    Pae {
        write: crate::run::PaeWrite,
        pdptes: [u64; 4],
    },
}

/// Mutable state of a vCPU, under [`Vcpu::state`]: the VMCS and the
/// state kept outside it (apart so both can be borrowed at once).
pub(crate) struct VcpuState {
    pub(crate) vmcs: VmcsRegion,
    pub(crate) g: Guest,
}

/// The guest state rvisor keeps outside the VMCS.
pub(crate) struct Guest {
    /// RAX..R15 (RSP unused: it is in the VMCS).
    pub(crate) regs: [u64; 16],
    /// The CPU the vCPU last ran on.
    pub(crate) last_cpu: Option<usize>,
    /// The EPT generation this vCPU's CPU was last flushed for.
    pub(crate) ept_generation: u64,
    pub(crate) pending: Pending,
    pub(crate) fpu: GuestFpu,
    pub(crate) cpuid: KVec<KvmCpuidEntry2>,
    pub(crate) msrs: GuestMsrs,
    /// CR2 is not switched by VM entry/exit.
    pub(crate) cr2: u64,
    /// The guest's task-priority register (MOV CR8), as KVM reports it.
    pub(crate) cr8: u64,
    /// DR0-DR3 and DR6 as the guest wrote them (kept in software: MOV DR
    /// exits; guest hardware breakpoints are not armed).
    pub(crate) dr: [u64; 4],
    pub(crate) dr6: u64,
    /// DR7 as the guest wrote it; the VMCS holds it without the breakpoint
    /// enables (see `exits::guest_dr7_hw`).
    pub(crate) dr7: u64,
    /// The external interrupt the next entry delivers: queued by
    /// `KVM_INTERRUPT` or `KVM_SET_SREGS`, or one whose delivery an exit
    /// interrupted (KVM's `vcpu->arch.interrupt` without an in-kernel
    /// irqchip). It is armed in the VMCS only for the entry that delivers
    /// it, so it is in one place only, whatever user space does between
    /// runs.
    pub(crate) irq: Option<u8>,
    /// The vector last queued or re-queued (an INT n's too), which KVM
    /// reports in `kvm_vcpu_events.interrupt.nr` whether or not it is still
    /// queued.
    pub(crate) irq_nr: u8,
    /// Interrupt-window exiting is on in the VMCS.
    pub(crate) irq_window: bool,
    /// `KVM_NMI` requests not yet looked at (KVM's `nmi_queued`); folded
    /// into `nmi_pending` at the next entry, within its limit.
    pub(crate) nmi_queued: u32,
    /// NMIs waiting for delivery, at most two (`events::pending_nmis`).
    pub(crate) nmi_pending: u8,
    /// NMI-window exiting is on in the VMCS.
    pub(crate) nmi_window: bool,
}

impl Guest {
    /// Folds the `KVM_NMI` requests into the pending NMIs, within their
    /// limit (KVM's process_nmi(), before every entry and
    /// `KVM_GET/SET_VCPU_EVENTS`).
    pub(crate) fn process_nmi(&mut self, intr_state: u32, entry_info: u32) {
        let masked = crate::events::nmi_masked(intr_state, entry_info);
        self.nmi_pending = crate::events::pending_nmis(self.nmi_pending, self.nmi_queued, masked);
        self.nmi_queued = 0;
    }
}

/// A virtual CPU.
#[pin_data]
pub(crate) struct Vcpu {
    pub(crate) vm: Arc<Vm>,
    pub(crate) id: u32,
    pub(crate) vpid: Option<Vpid>,
    /// The pages user space maps: `kvm_run`, the I/O data page and KVM's
    /// coalesced-MMIO page (unused, zero).
    run_pages: [Page; VCPU_MMAP_PAGES],
    #[pin]
    pub(crate) state: VcpuLock<VcpuState>,
}

/// The guest-owned bits of CR0 combined with the host-owned bits from the
/// read shadow: the value the guest believes it has.
fn guest_cr(real: u64, shadow: u64, host_owned: u64) -> u64 {
    (real & !host_owned) | (shadow & host_owned)
}

/// Writes CR0 as the guest wants it: fixed bits forced, CD and NW never
/// set in the processor (caching is the host's business, as in KVM), the
/// guest's value in the read shadow.
pub(crate) fn write_cr0(vmcs: &mut LoadedVmcs<'_>, ctl: &Controls, cr0: u64) -> Result {
    vmcs.write(
        field::GUEST_CR0,
        (cr0 & !(CR0_CD | CR0_NW)) | ctl.cr0_fixed0,
    )?;
    vmcs.write(field::CR0_READ_SHADOW, cr0)
}

/// Writes CR4 as the guest wants it (VMXE forced on, hidden by the shadow).
pub(crate) fn write_cr4(vmcs: &mut LoadedVmcs<'_>, ctl: &Controls, cr4: u64) -> Result {
    vmcs.write(field::GUEST_CR4, cr4 | ctl.cr4_fixed0)?;
    vmcs.write(field::CR4_READ_SHADOW, cr4)
}

/// The guest's CR0.
pub(crate) fn read_cr0(vmcs: &LoadedVmcs<'_>) -> u64 {
    guest_cr(
        vmcs.read(field::GUEST_CR0),
        vmcs.read(field::CR0_READ_SHADOW),
        CR0_HOST_OWNED,
    )
}

/// The guest's CR4.
pub(crate) fn read_cr4(vmcs: &LoadedVmcs<'_>, ctl: &Controls) -> u64 {
    guest_cr(
        vmcs.read(field::GUEST_CR4),
        vmcs.read(field::CR4_READ_SHADOW),
        ctl.cr4_host_owned,
    )
}

/// Sets EFER and the IA-32e mode entry control that must match its LMA.
pub(crate) fn write_efer(vmcs: &mut LoadedVmcs<'_>, efer: u64) -> Result {
    vmcs.write(field::GUEST_IA32_EFER, efer)?;
    let entry = vmcs.read32(field::VM_ENTRY_CONTROLS);
    let entry = if efer & EFER_LMA != 0 {
        entry | entry_ctl::IA32E_MODE
    } else {
        entry & !entry_ctl::IA32E_MODE
    };
    vmcs.write(field::VM_ENTRY_CONTROLS, u64::from(entry))
}

/// Loads the PDPTEs a PAE guest uses from the next entry on.
pub(crate) fn write_pdptes(vmcs: &mut LoadedVmcs<'_>, p: &[u64; 4]) -> Result {
    let fields = [
        field::GUEST_PDPTR0,
        field::GUEST_PDPTR1,
        field::GUEST_PDPTR2,
        field::GUEST_PDPTR3,
    ];
    for (f, value) in fields.into_iter().zip(p) {
        vmcs.write(f, *value)?;
    }
    Ok(())
}

impl Vcpu {
    /// Creates vCPU `id` of `vm` in the reset state KVM gives a new vCPU.
    pub(crate) fn new(vm: Arc<Vm>, id: u32) -> Result<Arc<Self>> {
        let caps = crate::vmx_root::caps().ok_or(ENODEV)?;
        let ctl = *vm.controls();
        let vpid = if ctl.vpid { Some(Vpid::alloc()?) } else { None };
        let mut vmcs = VmcsRegion::new(caps.basic().revision_id())?;
        {
            let np = NoPreempt::new();
            let mut v = vmcs.load(&np)?;
            crate::vcpu_setup::init_vmcs(&mut v, &vm, vpid.as_ref().map(Vpid::get))?;
        }
        let run_pages = [
            Page::alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO)?,
            Page::alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO)?,
            Page::alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO)?,
        ];
        let mut regs = [0u64; 16];
        // After reset EDX holds the processor signature (KVM: 0x600 until
        // CPUID is set).
        regs[gpr::RDX] = 0x600;
        let g = Guest {
            regs,
            last_cpu: None,
            ept_generation: 0,
            pending: Pending::None,
            fpu: GuestFpu::new(ctl.xsave)?,
            cpuid: KVec::new(),
            msrs: GuestMsrs::new(id),
            cr2: 0,
            cr8: 0,
            dr: [0; 4],
            dr6: DR6_FIXED_1,
            dr7: DR7_FIXED_1,
            irq: None,
            irq_nr: 0,
            irq_window: false,
            nmi_queued: 0,
            nmi_pending: 0,
            nmi_window: false,
        };
        let state = VcpuState { vmcs, g };
        Arc::pin_init(
            pin_init!(Self {
                vm,
                id,
                vpid,
                run_pages,
                state <- VcpuLock::new(state),
            }),
            GFP_KERNEL_ACCOUNT,
        )
    }

    /// The shared `kvm_run` structure.
    pub(crate) fn run_struct(&self) -> *mut KvmRun {
        // SAFETY: the page is ours for the vCPU's life.
        unsafe { glue::rv_page_address(self.run_pages[0].as_ptr()).cast() }
    }

    /// The I/O data page (`kvm_run.io.data_offset` points here).
    pub(crate) fn pio_data(&self) -> *mut u8 {
        // SAFETY: as above.
        unsafe { glue::rv_page_address(self.run_pages[1].as_ptr()).cast() }
    }

    /// Runs `f` with this vCPU's VMCS current (outside `KVM_RUN`).
    pub(crate) fn with_vmcs<R>(
        st: &mut VcpuState,
        f: impl FnOnce(&mut LoadedVmcs<'_>, &mut Guest) -> Result<R>,
    ) -> Result<R> {
        let np = NoPreempt::new();
        let mut v = st.vmcs.load(&np)?;
        f(&mut v, &mut st.g)
    }

    fn get_regs(&self, arg: u64) -> Result<isize> {
        let mut st = self.state.lock()?;
        let regs = Self::with_vmcs(&mut st, |v, st| {
            let r = &st.regs;
            Ok(KvmRegs {
                rax: r[0],
                rcx: r[1],
                rdx: r[2],
                rbx: r[3],
                rsp: v.read(field::GUEST_RSP),
                rbp: r[5],
                rsi: r[6],
                rdi: r[7],
                r8: r[8],
                r9: r[9],
                r10: r[10],
                r11: r[11],
                r12: r[12],
                r13: r[13],
                r14: r[14],
                r15: r[15],
                rip: v.read(field::GUEST_RIP),
                rflags: v.read(field::GUEST_RFLAGS),
            })
        })?;
        drop(st);
        user_copy::write(arg, &regs)?;
        Ok(0)
    }

    fn set_regs(&self, arg: u64) -> Result<isize> {
        let regs: KvmRegs = user_copy::read(arg)?;
        let mut st = self.state.lock()?;
        Self::with_vmcs(&mut st, |v, st| {
            st.regs = [
                regs.rax, regs.rcx, regs.rdx, regs.rbx, 0, regs.rbp, regs.rsi, regs.rdi, regs.r8,
                regs.r9, regs.r10, regs.r11, regs.r12, regs.r13, regs.r14, regs.r15,
            ];
            v.write(field::GUEST_RSP, regs.rsp)?;
            v.write(field::GUEST_RIP, regs.rip)?;
            // Bit 1 is fixed to 1; reserved bits are cleared (as KVM).
            v.write(
                field::GUEST_RFLAGS,
                (regs.rflags & RFLAGS_DEFINED) | RFLAGS_FIXED,
            )?;
            // New registers supersede a pending completion, but not an
            // INS's data: KVM keeps its completion (complete_userspace_io)
            // across KVM_SET_REGS and writes it with the new registers.
            if !matches!(st.pending, Pending::StringIn { .. }) {
                st.pending = Pending::None;
            }
            Ok(0)
        })
    }

    fn get_sregs(&self, arg: u64) -> Result<isize> {
        let ctl = *self.vm.controls();
        let mut st = self.state.lock()?;
        let sregs = Self::with_vmcs(&mut st, |v, st| {
            let mut s = KvmSregs::default();
            for (seg, out) in Segment::ALL.iter().zip([
                &mut s.cs, &mut s.ds, &mut s.es, &mut s.fs, &mut s.gs, &mut s.ss, &mut s.tr,
                &mut s.ldt,
            ]) {
                let f = seg.fields();
                out.selector = v.read(f.selector) as u16;
                out.base = v.read(f.base);
                out.limit = v.read32(f.limit);
                from_access_rights(out, v.read32(f.ar));
            }
            s.gdt = KvmDtable {
                base: v.read(field::GUEST_GDTR_BASE),
                limit: v.read(field::GUEST_GDTR_LIMIT) as u16,
                padding: [0; 3],
            };
            s.idt = KvmDtable {
                base: v.read(field::GUEST_IDTR_BASE),
                limit: v.read(field::GUEST_IDTR_LIMIT) as u16,
                padding: [0; 3],
            };
            s.cr0 = read_cr0(v);
            s.cr2 = st.cr2;
            s.cr3 = v.read(field::GUEST_CR3);
            s.cr4 = read_cr4(v, &ctl);
            s.cr8 = st.cr8;
            s.efer = v.read(field::GUEST_IA32_EFER);
            s.apic_base = st.msrs.soft.apic_base();
            s.interrupt_bitmap = crate::events::vector_bitmap(st.irq);
            Ok(s)
        })?;
        drop(st);
        user_copy::write(arg, &sregs)?;
        Ok(0)
    }

    fn set_sregs(&self, arg: u64) -> Result<isize> {
        let s: KvmSregs = user_copy::read(arg)?;
        let ctl = *self.vm.controls();
        // KVM's kvm_is_valid_sregs().
        let long = s.efer & EFER_LME != 0 && s.cr0 & CR0_PG != 0;
        if long {
            if s.cr4 & CR4_PAE == 0 || s.efer & EFER_LMA == 0 {
                return Err(EINVAL);
            }
        } else if s.efer & EFER_LMA != 0 || s.cs.l != 0 {
            return Err(EINVAL);
        }
        if !valid_cr0(s.cr0) || s.cr4 & ctl.cr4_host_owned != 0 || s.efer & !EFER_VALID != 0 {
            return Err(EINVAL);
        }
        let mut st = self.state.lock()?;
        if !crate::cpuid_table::efer_allowed(&st.g.cpuid, s.efer) {
            return Err(EINVAL);
        }
        // PAE paging outside long mode: the PDPTEs come from guest memory
        // (the VM's lock is taken inside the vCPU's, as in `KVM_RUN`).
        // As KVM's __set_sregs_common(), which ignores load_pdptrs()
        // failing, PDPTEs that cannot be read or have reserved bits do not
        // fail the call: they are not loaded, and the processor keeps the
        // ones it had, so that no VM entry fails on them.
        let pdptes = if !long && s.cr0 & CR0_PG != 0 && s.cr4 & CR4_PAE != 0 {
            let maxphyaddr = crate::cpuid_table::maxphyaddr(&st.g.cpuid);
            self.vm.load_pdptes(s.cr3, maxphyaddr)
        } else {
            None
        };
        // As KVM's __set_sregs_common(): an APIC base the guest could not
        // have (reserved bits, x2APIC without CPUID) fails the call. It is
        // the last check, because the check is also the write.
        let cpu = guest_msrs::guest_cpu(&st.g.cpuid);
        if !st
            .g
            .msrs
            .soft
            .set(APIC_BASE, s.apic_base, Access::Host, cpu)
        {
            return Err(EINVAL);
        }
        Self::with_vmcs(&mut st, |v, st| {
            for (seg, src) in Segment::ALL
                .iter()
                .zip([&s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss, &s.tr, &s.ldt])
            {
                let f = seg.fields();
                v.write(f.selector, u64::from(src.selector))?;
                v.write(f.base, src.base)?;
                v.write(f.limit, u64::from(src.limit))?;
                let accessed = *seg != Segment::Ldtr;
                v.write(f.ar, u64::from(to_access_rights(src, accessed)))?;
            }
            v.write(field::GUEST_GDTR_BASE, s.gdt.base)?;
            v.write(field::GUEST_GDTR_LIMIT, u64::from(s.gdt.limit))?;
            v.write(field::GUEST_IDTR_BASE, s.idt.base)?;
            v.write(field::GUEST_IDTR_LIMIT, u64::from(s.idt.limit))?;
            write_cr0(v, &ctl, s.cr0)?;
            // An event still armed for the next entry (one whose delivery
            // an exit interrupted) must suit the new mode.
            let info = v.read32(field::VM_ENTRY_INTR_INFO_FIELD);
            let fixed = crate::vmcs::entry_info_for_mode(info, s.cr0 & CR0_PE != 0);
            if fixed != info {
                v.write(field::VM_ENTRY_INTR_INFO_FIELD, u64::from(fixed))?;
            }
            write_cr4(v, &ctl, s.cr4)?;
            v.write(field::GUEST_CR3, s.cr3)?;
            write_efer(v, s.efer)?;
            if let Some(p) = pdptes {
                write_pdptes(v, &p)?;
            }
            st.cr2 = s.cr2;
            st.cr8 = s.cr8 & CR8_TPR;
            // As KVM's __set_sregs(): a set bit queues its vector; none
            // leaves what is queued.
            if let Some(vector) = crate::events::bitmap_vector(&s.interrupt_bitmap) {
                st.irq = Some(vector);
                st.irq_nr = vector;
            }
            Ok(0)
        })
    }

    /// `KVM_INTERRUPT` without an in-kernel irqchip: queues the vector for
    /// the next entry, replacing one queued before, as KVM's
    /// kvm_queue_interrupt() does. User space is expected to ask only when
    /// `ready_for_interrupt_injection` said so; if it asks while the guest
    /// has interrupts off, the entry fails its checks, as on KVM.
    fn interrupt(&self, arg: u64) -> Result<isize> {
        let irq: crate::uapi::KvmInterrupt = user_copy::read(arg)?;
        let vector = crate::events::kvm_interrupt_vector(irq.irq).ok_or(EINVAL)?;
        let mut st = self.state.lock()?;
        st.g.irq = Some(vector);
        st.g.irq_nr = vector;
        Ok(0)
    }

    /// `KVM_GET_VCPU_EVENTS`, as KVM's kvm_vcpu_ioctl_x86_get_vcpu_events()
    /// reports them without the payload and triple-fault capabilities and
    /// without SMM. Software interrupts and exceptions are not reported (the
    /// ABI has no instruction length for them; the guest, whose RIP has not
    /// moved past the instruction, raises them again).
    fn get_vcpu_events(&self, arg: u64) -> Result<isize> {
        use crate::events::{event_is, shadow_of};
        use crate::uapi::{vcpu_events, KvmVcpuEvents};
        use crate::vmcs::{interruptibility, intr_info};
        let mut st = self.state.lock()?;
        let ev = Self::with_vmcs(&mut st, |v, g| {
            let intr_state = v.read32(field::GUEST_INTERRUPTIBILITY_INFO);
            let entry = v.read32(field::VM_ENTRY_INTR_INFO_FIELD);
            let armed = |ty| event_is(entry, ty);
            g.process_nmi(intr_state, entry);
            let mut ev = KvmVcpuEvents::default();
            if let Pending::Exception {
                vector,
                error_code,
                cr2,
            } = g.pending
            {
                // A fault rvisor decided outside the section (#GP, #PF: both
                // push an error code); a #PF's CR2 is the guest's now, as
                // KVM's kvm_handle_exception_payload_quirk() makes it.
                if let Some(cr2) = cr2 {
                    g.cr2 = cr2;
                    g.pending = Pending::Exception {
                        vector,
                        error_code,
                        cr2: None,
                    };
                }
                ev.exception.injected = 1;
                ev.exception.nr = vector;
                ev.exception.has_error_code = 1;
                ev.exception.error_code = error_code;
            } else if armed(intr_info::TYPE_HARD_EXCEPTION) {
                ev.exception.injected = 1;
                ev.exception.nr = entry as u8;
                if entry & intr_info::DELIVER_ERROR_CODE != 0 {
                    ev.exception.has_error_code = 1;
                    ev.exception.error_code = v.read32(field::VM_ENTRY_EXCEPTION_ERROR_CODE);
                }
            }
            ev.interrupt.injected = u8::from(g.irq.is_some());
            ev.interrupt.nr = g.irq_nr;
            ev.interrupt.shadow = shadow_of(intr_state);
            ev.nmi.injected = u8::from(armed(intr_info::TYPE_NMI));
            ev.nmi.pending = g.nmi_pending;
            ev.nmi.masked = u8::from(intr_state & interruptibility::NMI != 0);
            ev.flags =
                vcpu_events::VALID_NMI_PENDING | vcpu_events::VALID_SHADOW | vcpu_events::VALID_SMM;
            Ok(ev)
        })?;
        drop(st);
        user_copy::write(arg, &ev)?;
        Ok(0)
    }

    /// `KVM_SET_VCPU_EVENTS`: checked whole first ([`events::set_events_valid`]),
    /// so that a refused call changes nothing; then, as KVM's
    /// kvm_vcpu_ioctl_x86_set_vcpu_events(), it replaces the events waiting
    /// for delivery. The next entry delivers an injected exception, else an
    /// injected NMI (KVM's order); an interrupt is queued for that entry.
    ///
    /// [`events::set_events_valid`]: crate::events::set_events_valid
    fn set_vcpu_events(&self, arg: u64) -> Result<isize> {
        use crate::events::{set_events_valid, with_nmi_mask, with_shadow};
        use crate::uapi::{vcpu_events, KvmVcpuEvents};
        use crate::vmcs::{entry_info_for_mode, intr_info};
        let ev: KvmVcpuEvents = user_copy::read(arg)?;
        if !set_events_valid(&ev) {
            return Err(EINVAL);
        }
        let mut st = self.state.lock()?;
        Self::with_vmcs(&mut st, |v, g| {
            let intr_state = v.read32(field::GUEST_INTERRUPTIBILITY_INFO);
            let entry = v.read32(field::VM_ENTRY_INTR_INFO_FIELD);
            g.process_nmi(intr_state, entry);
            let protected = read_cr0(v) & CR0_PE != 0;
            let e = &ev.exception;
            let new_entry = if e.injected != 0 {
                let info = intr_info::exception(e.nr, e.has_error_code != 0);
                entry_info_for_mode(info, protected)
            } else if ev.nmi.injected != 0 {
                intr_info::NMI
            } else {
                0
            };
            if new_entry & intr_info::DELIVER_ERROR_CODE != 0 {
                v.write(
                    field::VM_ENTRY_EXCEPTION_ERROR_CODE,
                    u64::from(e.error_code),
                )?;
            }
            v.write(field::VM_ENTRY_INTR_INFO_FIELD, u64::from(new_entry))?;
            // What rvisor had decided itself is replaced too.
            if matches!(g.pending, Pending::Exception { .. }) {
                g.pending = Pending::None;
            }
            // A software interrupt needs an instruction length the ABI does
            // not carry: not queued (the guest's INT n runs again).
            g.irq =
                (ev.interrupt.injected != 0 && ev.interrupt.soft == 0).then_some(ev.interrupt.nr);
            g.irq_nr = ev.interrupt.nr;
            let mut state = intr_state;
            if ev.flags & vcpu_events::VALID_SHADOW != 0 {
                state = with_shadow(state, ev.interrupt.shadow);
            }
            if ev.flags & vcpu_events::VALID_NMI_PENDING != 0 {
                g.nmi_pending = 0;
                g.nmi_queued = u32::from(ev.nmi.pending);
            }
            state = with_nmi_mask(state, ev.nmi.masked != 0);
            if state != intr_state {
                v.write(field::GUEST_INTERRUPTIBILITY_INFO, u64::from(state))?;
            }
            Ok(0)
        })
    }

    fn set_cpuid2(&self, arg: u64) -> Result<isize> {
        let hdr: KvmCpuid2 = user_copy::read(arg)?;
        let n = hdr.nent as usize;
        if n > cpuid::MAX_ENTRIES {
            return Err(E2BIG);
        }
        let base = user_copy::element::<KvmCpuid2>(arg, 1)?;
        let mut table = KVec::with_capacity(n, GFP_KERNEL_ACCOUNT)?;
        for i in 0..n {
            table.push(
                user_copy::read::<KvmCpuidEntry2>(user_copy::element::<KvmCpuidEntry2>(base, i)?)?,
                GFP_KERNEL_ACCOUNT,
            )?;
        }
        self.state.lock()?.g.cpuid = table;
        Ok(0)
    }

    fn get_cpuid2(&self, arg: u64) -> Result<isize> {
        let mut st = self.state.lock()?;
        let mut copy = KVec::with_capacity(st.g.cpuid.len(), GFP_KERNEL_ACCOUNT)?;
        // As KVM, whose table follows the vCPU (kvm_update_cpuid_runtime()).
        let ctl = self.vm.controls();
        let rt = Self::with_vmcs(&mut st, |v, g| Ok(crate::exits::cpuid_runtime(v, g, ctl)))?;
        for i in 0..st.g.cpuid.len() {
            let e = crate::cpuid_table::with_runtime(&st.g.cpuid, i, rt);
            copy.push(e, GFP_KERNEL_ACCOUNT)?;
        }
        drop(st);
        write_cpuid2(arg, &copy)
    }

    /// `KVM_GET_MSRS` / `KVM_SET_MSRS`: processes entries in order and
    /// returns how many succeeded, stopping at the first unsupported one,
    /// as KVM does.
    fn msrs(&self, arg: u64, set: bool) -> Result<isize> {
        let hdr: KvmMsrs = user_copy::read(arg)?;
        let n = hdr.nmsrs as usize;
        // KVM's limit (MAX_IO_MSRS).
        if n >= 256 {
            return Err(E2BIG);
        }
        let base = user_copy::element::<KvmMsrs>(arg, 1)?;
        let mut entries = KVec::with_capacity(n, GFP_KERNEL_ACCOUNT)?;
        for i in 0..n {
            let e: KvmMsrEntry = user_copy::read(user_copy::element::<KvmMsrEntry>(base, i)?)?;
            entries.push(e, GFP_KERNEL_ACCOUNT)?;
        }
        // One VMCS load for the whole batch (user memory is only touched
        // outside it: copying may fault and sleep).
        let mut st = self.state.lock()?;
        let done = Self::with_vmcs(&mut st, |v, st| {
            let mut done = 0;
            for e in entries.iter_mut() {
                let ok = if set {
                    if e.index == guest_msrs::msr::EFER {
                        e.data & !EFER_VALID == 0
                            && crate::cpuid_table::efer_allowed(&st.cpuid, e.data)
                            && write_efer(v, e.data).is_ok()
                    } else if e.index == guest_msrs::msr::TSC || e.index == guest_msrs::msr::MTRRCAP
                    {
                        // Host-owned values; writes from user space are
                        // accepted and ignored, as restoring a snapshot does.
                        true
                    } else {
                        st.msrs.set(v, e.index, e.data, Access::Host, &st.cpuid)
                    }
                } else {
                    match st.msrs.get(v, e.index, Access::Host) {
                        Some(val) => {
                            e.data = val;
                            true
                        }
                        None => false,
                    }
                };
                if !ok {
                    break;
                }
                done += 1;
            }
            Ok(done)
        })?;
        drop(st);
        if !set {
            for (i, e) in entries.iter().take(done).enumerate() {
                user_copy::write(user_copy::element::<KvmMsrEntry>(base, i)?, e)?;
            }
        }
        Ok(done as isize)
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<isize> {
        match cmd {
            uapi::KVM_RUN if arg == 0 => crate::run::run(self),
            uapi::KVM_RUN => Err(EINVAL),
            uapi::KVM_GET_REGS => self.get_regs(arg),
            uapi::KVM_SET_REGS => self.set_regs(arg),
            uapi::KVM_GET_SREGS => self.get_sregs(arg),
            uapi::KVM_SET_SREGS => self.set_sregs(arg),
            uapi::KVM_SET_CPUID2 => self.set_cpuid2(arg),
            uapi::KVM_GET_CPUID2 => self.get_cpuid2(arg),
            uapi::KVM_GET_MSRS => self.msrs(arg, false),
            uapi::KVM_SET_MSRS => self.msrs(arg, true),
            uapi::KVM_INTERRUPT => self.interrupt(arg),
            uapi::KVM_GET_VCPU_EVENTS => self.get_vcpu_events(arg),
            uapi::KVM_SET_VCPU_EVENTS => self.set_vcpu_events(arg),
            uapi::KVM_NMI => {
                // As KVM's kvm_inject_nmi(): counted now, limited when the
                // next entry looks at them.
                let mut st = self.state.lock()?;
                st.g.nmi_queued = st.g.nmi_queued.saturating_add(1);
                Ok(0)
            }
            uapi::KVM_X86_SETUP_MCE => {
                let cap: u64 = user_copy::read(arg)?;
                if !self.state.lock()?.g.msrs.soft.setup_mce(cap) {
                    return Err(EINVAL);
                }
                Ok(0)
            }
            uapi::KVM_GET_FPU => {
                let f = self.state.lock()?.g.fpu.regs()?;
                user_copy::write(arg, &f)?;
                Ok(0)
            }
            uapi::KVM_SET_FPU => {
                let f: crate::uapi::KvmFpu = user_copy::read(arg)?;
                self.state.lock()?.g.fpu.set_regs(&f)?;
                Ok(0)
            }
            uapi::KVM_GET_MP_STATE => {
                // The vCPU mutex is taken as for every vCPU ioctl of KVM.
                drop(self.state.lock()?);
                let s = crate::uapi::KvmMpState {
                    mp_state: crate::uapi::mp_state::RUNNABLE,
                };
                user_copy::write(arg, &s)?;
                Ok(0)
            }
            uapi::KVM_SET_MP_STATE => {
                let s: crate::uapi::KvmMpState = user_copy::read(arg)?;
                if !crate::events::mp_state_settable(s.mp_state) {
                    return Err(EINVAL);
                }
                drop(self.state.lock()?);
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}

/// Writes a `kvm_cpuid2` with `entries` to user space; `E2BIG` (with
/// `nent` updated) if the caller's array is too small, as KVM does.
pub(crate) fn write_cpuid2(arg: u64, entries: &[KvmCpuidEntry2]) -> Result<isize> {
    let mut hdr: KvmCpuid2 = user_copy::read(arg)?;
    let room = hdr.nent as usize;
    hdr.nent = entries.len() as u32;
    if room < entries.len() {
        user_copy::write(arg, &hdr)?;
        return Err(E2BIG);
    }
    let base = user_copy::element::<KvmCpuid2>(arg, 1)?;
    for (i, e) in entries.iter().enumerate() {
        user_copy::write(user_copy::element::<KvmCpuidEntry2>(base, i)?, e)?;
    }
    user_copy::write(arg, &hdr)?;
    Ok(0)
}

/// # Safety
///
/// `vcpu` is the `private_data` of a vCPU file: a pointer from
/// `Arc::into_raw`, valid until `rvisor_vcpu_release`.
#[no_mangle]
unsafe extern "C" fn rvisor_vcpu_ioctl(vcpu: *mut c_void, cmd: c_uint, arg: c_ulong) -> c_long {
    // SAFETY: the file holds the reference for the duration of the call.
    let vcpu = unsafe { &*(vcpu as *const Vcpu) };
    if !vcpu.vm.serves_caller() {
        return EIO.to_errno() as c_long;
    }
    match vcpu.ioctl(cmd, arg as u64) {
        Ok(v) => v as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}

/// # Safety
///
/// As for [`rvisor_vcpu_ioctl`]; called once, at release.
#[no_mangle]
unsafe extern "C" fn rvisor_vcpu_release(vcpu: *mut c_void) {
    // SAFETY: the file's reference, given back once.
    drop(unsafe { Arc::from_raw(vcpu as *const Vcpu) });
}

/// The page to map at `pgoff` of the vCPU file, or null (SIGBUS).
///
/// # Safety
///
/// As for [`rvisor_vcpu_ioctl`] (the mapping holds the file).
#[no_mangle]
unsafe extern "C" fn rvisor_vcpu_page(
    vcpu: *mut c_void,
    pgoff: c_ulong,
) -> *mut kernel::bindings::page {
    // SAFETY: the mapping holds the file, which holds the reference.
    let vcpu = unsafe { &*(vcpu as *const Vcpu) };
    match vcpu.run_pages.get(pgoff) {
        Some(p) => p.as_ptr(),
        None => core::ptr::null_mut(),
    }
}
