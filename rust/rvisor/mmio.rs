// SPDX-License-Identifier: GPL-2.0

//! MMIO: a guest access to a guest-physical address no slot backs (or a
//! write to a read-only slot) goes to user space as `KVM_EXIT_MMIO`.
//!
//! The EPT violation gives the address but not the data: rvisor fetches
//! the instruction (walking the guest's page tables), decodes the common
//! `mov` forms with [`crate::insn`], and completes a read on the next
//! `KVM_RUN` with the data user space supplied. Anything else becomes
//! `KVM_EXIT_INTERNAL_ERROR` (emulation), with the instruction bytes.

use crate::cr::{CR0_PG, CR4_PAE, CR4_PSE, EFER_LMA, EFER_NXE};
use crate::exits::{cpl, internal_error};
use crate::insn::{self, CpuMode, MmioOp, Operand};
use crate::memslot::PAGE_SIZE;
use crate::paging::{self, pf, PagingMode};
use crate::run::set_exit_reason;
use crate::uapi::{exit, internal};
use crate::vcpu::{gpr, read_cr0, Guest, Pending, Vcpu};
use crate::vmcs::{field, intr_info, reason, vector, EptViolation};
use crate::vmcs_region::LoadedVmcs;
use kernel::prelude::*;

/// The guest state at an EPT violation that emulation needs, captured
/// while the VMCS is current.
pub(crate) struct Access {
    pub(crate) gpa: u64,
    /// The exit qualification.
    qual: EptViolation,
    /// The IDT-vectoring information: whether the access was made by
    /// event delivery.
    vectoring: u32,
    pub(crate) write: bool,
    rip: u64,
    cs_base: u64,
    cs_ar: u32,
    cr0: u64,
    cr3: u64,
    efer: u64,
    rsp: u64,
    /// The linear address whose translation or access exited.
    linear: u64,
    /// CPL 3.
    user: bool,
    paging: PagingMode,
}

impl Access {
    /// Captures the state of the current exit, whose IDT-vectoring
    /// information is `vectoring`.
    pub(crate) fn capture(v: &LoadedVmcs<'_>, q: EptViolation, vectoring: u32) -> Self {
        Self {
            gpa: v.read(field::GUEST_PHYSICAL_ADDRESS),
            qual: q,
            vectoring,
            write: q.write(),
            rip: v.read(field::GUEST_RIP),
            cs_base: v.read(field::GUEST_CS_BASE),
            cs_ar: v.read32(field::GUEST_CS_AR_BYTES),
            cr0: read_cr0(v),
            cr3: v.read(field::GUEST_CR3),
            efer: v.read(field::GUEST_IA32_EFER),
            rsp: v.read(field::GUEST_RSP),
            linear: v.read(field::GUEST_LINEAR_ADDRESS),
            user: cpl(v) == 3,
            paging: paging_mode(v),
        }
    }

    fn cpu_mode(&self) -> CpuMode {
        CpuMode::from_state(self.cr0, self.efer, self.cs_ar)
    }
}

/// The guest's paging mode now, with the PDPTEs the processor loaded under
/// PAE paging.
pub(crate) fn paging_mode(v: &LoadedVmcs<'_>) -> PagingMode {
    let cr4 = v.read(field::GUEST_CR4);
    if read_cr0(v) & CR0_PG == 0 {
        PagingMode::None
    } else if v.read(field::GUEST_IA32_EFER) & EFER_LMA != 0 {
        PagingMode::FourLevel
    } else if cr4 & CR4_PAE != 0 {
        PagingMode::Pae([
            v.read(field::GUEST_PDPTR0),
            v.read(field::GUEST_PDPTR1),
            v.read(field::GUEST_PDPTR2),
            v.read(field::GUEST_PDPTR3),
        ])
    } else {
        PagingMode::Bits32 {
            pse: cr4 & CR4_PSE != 0,
        }
    }
}

/// Emulates the MMIO access. Returns `true` if `kvm_run` now holds an exit
/// for user space (MMIO or internal error), `false` to re-enter.
pub(crate) fn emulate(vcpu: &Vcpu, g: &mut Guest, a: &Access) -> Result<bool> {
    if a.vectoring & intr_info::VALID != 0 {
        // Event delivery read the IDT or GDT, or pushed onto the stack, in
        // MMIO: nothing to emulate (the instruction at RIP is not what made
        // the access). KVM 6.12 emulates that instruction anyway; 6.14
        // reports this (kvm_prepare_event_vectoring_exit()).
        internal_error(
            vcpu,
            internal::DELIVERY_EV,
            &[
                u64::from(a.vectoring),
                u64::from(reason::EPT_VIOLATION),
                a.qual.0,
                a.gpa,
                g.last_cpu.unwrap_or(0) as u64,
            ],
        );
        return Ok(true);
    }
    if !a.qual.linear_valid() && matches!(a.paging, PagingMode::Pae(_)) {
        // The processor loading PDPTEs from memory no slot backs (a MOV to
        // CR3, CR0 or CR4 that CR3-load exiting let through): KVM emulates
        // the instruction, and its load_pdptrs() fails: #GP.
        g.pending = Pending::Exception {
            vector: vector::GP,
            error_code: 0,
            cr2: None,
        };
        return Ok(false);
    }
    let mode = a.cpu_mode();
    let linear = if mode == CpuMode::Long {
        a.rip
    } else {
        u64::from(a.cs_base.wrapping_add(a.rip) as u32)
    };
    let mut bytes = [0u8; insn::MAX_LEN];
    // An instruction fetch from MMIO cannot be emulated.
    let fetched = if a.qual.fetch() {
        None
    } else {
        fetch(vcpu, a, linear, &mut bytes)
    };
    let decoded = fetched.and_then(|n| insn::decode(&bytes[..n], mode));
    if a.qual.page_walk() && (fetched.is_none() || decoded.is_some()) {
        // The page walk read a paging-structure entry from memory no slot
        // backs. KVM's emulator walks the same tables, for the instruction
        // first, and injects #PF where its walk fails: at RIP if the
        // instruction cannot be fetched, else at the data address, W from
        // the instruction (the exit's own W is the walk's read). Its error
        // code is W, U and, for a fetch with NXE, I.
        let (cr2, write, fetch) = match decoded {
            None => (linear, false, true),
            Some(d) => (a.linear, matches!(d.op, MmioOp::Store(_)), false),
        };
        let mut error_code = 0;
        if write {
            error_code |= pf::WRITE;
        }
        if a.user {
            error_code |= pf::USER;
        }
        if fetch && a.efer & EFER_NXE != 0 {
            error_code |= pf::FETCH;
        }
        g.pending = Pending::Exception {
            vector: vector::PF,
            error_code,
            cr2: Some(cr2),
        };
        return Ok(false);
    }
    let Some(d) = decoded else {
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b[..8 - i / 8].copy_from_slice(&bytes[i..core::cmp::min(i + 8, insn::MAX_LEN)]);
            u64::from_le_bytes(b)
        };
        internal_error(
            vcpu,
            internal::EMULATION,
            &[a.gpa, a.rip, u64::from(a.qual.fetch()), word(0), word(8)],
        );
        return Ok(true);
    };
    let next_rip = mode.next_rip(a.rip, u64::from(d.len));
    let run = vcpu.run_struct();
    let mut data = [0u8; 8];
    let is_write = match d.op {
        MmioOp::Store(src) => {
            let value = match src {
                Operand::Imm(v) => v,
                Operand::Reg(r) => r.value(read_reg(g, a, r.num)),
            };
            data = value.to_le_bytes();
            g.pending = Pending::Skip { next_rip };
            true
        }
        MmioOp::Load { dest, dest_size } => {
            g.pending = Pending::MmioRead {
                dest,
                size: d.size,
                dest_size,
                next_rip,
            };
            false
        }
    };
    set_exit_reason(run, exit::MMIO);
    // SAFETY: plain stores into the shared run page.
    unsafe {
        (*run).exit.mmio.phys_addr = a.gpa;
        (*run).exit.mmio.data = data;
        (*run).exit.mmio.len = u32::from(d.size);
        (*run).exit.mmio.is_write = u8::from(is_write);
    }
    Ok(true)
}

/// Register `num` as it was at the exit (RSP from the captured VMCS value).
fn read_reg(g: &Guest, a: &Access, num: u8) -> u64 {
    if usize::from(num) == gpr::RSP {
        a.rsp
    } else {
        g.regs[usize::from(num & 15)]
    }
}

/// Reads up to 15 instruction bytes at `linear`; returns how many could be
/// read (at least 1), or `None`.
fn fetch(vcpu: &Vcpu, a: &Access, linear: u64, out: &mut [u8; insn::MAX_LEN]) -> Option<usize> {
    let mode = a.paging;
    let mut n = 0;
    while n < out.len() {
        // The guest chose `linear`: an instruction at the top of the
        // address space continues at 0, as on the processor.
        let la = linear.wrapping_add(n as u64);
        let read = |pa, width| vcpu.vm.read_entry(pa, width);
        let Some(pa) = paging::translate(mode, a.cr3, la, read) else {
            break;
        };
        // Up to the end of this page.
        let chunk = core::cmp::min(out.len() - n, (PAGE_SIZE - (la & (PAGE_SIZE - 1))) as usize);
        if vcpu.vm.read_guest(pa, &mut out[n..n + chunk]).is_err() {
            break;
        }
        n += chunk;
    }
    (n > 0).then_some(n)
}
