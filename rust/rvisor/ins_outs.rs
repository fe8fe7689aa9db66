// SPDX-License-Identifier: GPL-2.0

//! String I/O: INS and OUTS, with and without REP, as KVM's emulator runs
//! them (the rules are in [`crate::string_io`]).
//!
//! The exit is captured in the section ([`Exit::capture`]); the memory
//! operand is handled outside it ([`start`], [`complete_in`]), because the
//! page walk and the guest memory behind it are the VMM's pages, which may
//! fault in. An OUTS reads its element before the exit (a fault is raised
//! instead of any I/O); an INS writes the elements user space supplied when
//! `KVM_RUN` is called again, faulting at the first that cannot be written
//! with the elements before it done.

use crate::controls::Controls;
use crate::cr::{CR0_WP, CR4_SMAP, EFER_NXE, RFLAGS_AC, RFLAGS_DF};
use crate::exits::{cpl, internal_error, Next};
use crate::insn::CpuMode;
use crate::memslot::PAGE_SIZE;
use crate::paging::{self, PagingMode, Rights, WalkError};
use crate::run::{set_exit_reason, Outcome};
use crate::string_io::{self, IoInsnInfo, SegmentCache, SegmentFault, StringIo};
use crate::uapi::{exit, internal, io_dir, PIO_DATA_OFFSET};
use crate::vcpu::{gpr, read_cr0, read_cr4, Guest, Pending, Vcpu, VcpuState};
use crate::vmcs::{field, vector, IoQualification, Segment};
use crate::vmcs_region::{LoadedVmcs, NoPreempt};
use kernel::prelude::*;

/// The most bytes one INS exit transfers (KVM's read-ahead buffer).
const READ_AHEAD_BYTES: usize = 1024;

/// Walks of one access that may find their entry changed under their
/// accessed/dirty update before the access goes ahead without it.
const MAX_WALKS: u32 = 4;

/// A string I/O exit: what the instruction is and the guest state its
/// memory operand is reached through, captured while the VMCS is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exit {
    op: StringIo,
    port: u16,
    /// ES for INS; DS or the override for OUTS.
    seg: Segment,
    cache: SegmentCache,
    mode: CpuMode,
    paging: PagingMode,
    cr3: u64,
    /// The access rights of the memory operand (`write` for INS).
    rights: Rights,
    rip: u64,
    next_rip: u64,
}

/// What an access to the memory operand came to.
enum Access {
    /// Done.
    Done,
    /// A fault the guest gets (the instruction stops there).
    Fault(Pending),
    /// Memory no RAM slot backs: `kvm_run` holds an internal error.
    Exit,
}

impl Exit {
    /// Captures the exit of the string I/O instruction `q`, or reports it
    /// as an internal error if the processor does not say which segment
    /// and address size it uses (IA32_VMX_BASIC bit 54, which Bochs and
    /// every processor since Nehalem set).
    pub(crate) fn capture(
        vcpu: &Vcpu,
        v: &LoadedVmcs<'_>,
        g: &Guest,
        ctl: &Controls,
        q: IoQualification,
        next_rip: u64,
    ) -> Next {
        let info = IoInsnInfo(v.read32(field::VMX_INSTRUCTION_INFO));
        let seg = if q.is_in() {
            Some(Segment::Es)
        } else {
            info.segment()
        };
        let (Some(addr_size), Some(seg), true) = (info.addr_size(), seg, ctl.ins_outs_info) else {
            return internal_error(
                vcpu,
                internal::EMULATION,
                &[q.0, v.read(field::GUEST_RIP), u64::from(info.0)],
            );
        };
        let rflags = v.read(field::GUEST_RFLAGS);
        let user = cpl(v) == 3;
        let f = seg.fields();
        Next::Leave(Outcome::StringIo(Self {
            op: StringIo {
                is_in: q.is_in(),
                rep: q.is_rep(),
                size: q.size(),
                addr_size,
                df: rflags & RFLAGS_DF != 0,
            },
            port: q.port(),
            seg,
            cache: SegmentCache {
                base: v.read(f.base),
                limit: v.read32(f.limit),
                ar: v.read32(f.ar),
            },
            mode: crate::exits::cpu_mode(v),
            paging: crate::mmio::paging_mode(v),
            cr3: v.read(field::GUEST_CR3),
            rights: Rights {
                write: q.is_in(),
                user,
                wp: read_cr0(v) & CR0_WP != 0,
                smap: read_cr4(v, ctl) & CR4_SMAP != 0 && rflags & RFLAGS_AC == 0,
                nxe: v.read(field::GUEST_IA32_EFER) & EFER_NXE != 0,
                maxphyaddr: crate::cpuid_table::maxphyaddr(&g.cpuid),
                gbpages: crate::cpuid_table::has_feature(
                    &g.cpuid,
                    crate::cpuid_table::feature::GBPAGES,
                ),
            },
            rip: v.read(field::GUEST_RIP),
            next_rip,
        }))
    }

    /// Reads (OUTS) or writes (INS) `buf` at offset `ea` of the segment:
    /// the segment checks for all of it first, then a page at a time the
    /// checked walk (setting the accessed and dirty flags it needs) and the
    /// copy, as KVM's `segmented_read()`/`segmented_write()`.
    fn access(&self, vcpu: &Vcpu, ea: u64, buf: &mut [u8]) -> Result<Access> {
        let write = self.rights.write;
        let la = match string_io::linearize(
            self.mode,
            self.seg,
            &self.cache,
            ea,
            buf.len() as u64,
            write,
        ) {
            Ok(la) => la,
            Err(f) => {
                let vector = match f {
                    SegmentFault::Gp => vector::GP,
                    SegmentFault::Ss => vector::SS,
                };
                return Ok(Access::Fault(Pending::Exception {
                    vector,
                    error_code: 0,
                    cr2: None,
                }));
            }
        };
        let read = |pa, width| vcpu.vm.read_entry(pa, width);
        let mut done = 0;
        while done < buf.len() {
            // Outside 64-bit mode the linear address space is 32-bit and
            // wraps; in it, `linearize` kept the operand below the hole.
            let at = la.wrapping_add(done as u64);
            let at = if self.mode == CpuMode::Long {
                at
            } else {
                u64::from(at as u32)
            };
            let chunk = core::cmp::min(
                buf.len() - done,
                (PAGE_SIZE - (at & (PAGE_SIZE - 1))) as usize,
            );
            let mut tries = 0;
            let walked = loop {
                let walked = match paging::walk(self.paging, self.cr3, at, Some(self.rights), read)
                {
                    Ok(w) => w,
                    // A paging-structure entry no RAM slot backs is a
                    // not-present fault for KVM's walker
                    // (`FNAME(walk_addr_generic)`).
                    Err(e) => {
                        let error_code = match e {
                            WalkError::Fault(code) => code,
                            WalkError::Unbacked => self.rights.error_code(0),
                        };
                        return Ok(Access::Fault(Pending::Exception {
                            vector: vector::PF,
                            error_code,
                            cr2: Some(at),
                        }));
                    }
                };
                // The accessed/dirty flags, each with a compare-and-exchange
                // of the entry as read: if another vCPU changed it since,
                // walk again (KVM's update_accessed_dirty_bits()), so its
                // change is never undone. A guest that keeps changing its
                // own entry gets the access without the flags after a few
                // tries rather than holding this thread in the kernel.
                let raced = walked.updates().iter().any(|u| {
                    matches!(
                        vcpu.vm.cmpxchg_guest(u.pa, u.old, u.new, u.width),
                        Ok(false)
                    )
                });
                tries += 1;
                if !raced || tries == MAX_WALKS {
                    break walked;
                }
            };
            let part = &mut buf[done..done + chunk];
            let copied = if write {
                vcpu.vm.write_guest(walked.gpa, part)
            } else {
                vcpu.vm.read_guest(walked.gpa, part)
            };
            if copied.is_err() {
                // MMIO or a read-only slot behind a string I/O operand: KVM
                // would turn it into MMIO exits; not emulated.
                internal_error(
                    vcpu,
                    internal::EMULATION,
                    &[walked.gpa, self.rip, u64::from(self.port)],
                );
                return Ok(Access::Exit);
            }
            done += chunk;
        }
        Ok(Access::Done)
    }

    /// What follows a batch of elements done: the next instruction after a
    /// plain INS/OUTS; a REP one runs again, even with RCX now 0, and then
    /// completes through the zero-count path with no I/O, as in KVM's
    /// emulator (x86_emulate_insn() checks RCX only when it starts an
    /// instruction, so the last batch leaves RIP at it).
    fn after(&self) -> Pending {
        if self.op.rep {
            Pending::None
        } else {
            Pending::Skip {
                next_rip: self.next_rip,
            }
        }
    }
}

/// Starts the string I/O instruction of exit `x`: returns `true` if
/// `kvm_run` now holds an exit for user space, `false` to re-enter.
pub(crate) fn start(vcpu: &Vcpu, st: &mut VcpuState, x: &Exit) -> Result<bool> {
    let g = &mut st.g;
    let rcx = g.regs[gpr::RCX];
    if x.op.count(rcx) == 0 {
        // REP with a zero count: no I/O, only RCX's quirk (x86_emulate_insn()).
        let intel = crate::cpuid_table::vendor_is_intel(&g.cpuid);
        g.regs[gpr::RCX] = x.op.rcx_when_empty(rcx, intel);
        g.pending = Pending::Skip {
            next_rip: x.next_rip,
        };
        return Ok(false);
    }
    let size = usize::from(x.op.size);
    let count = if x.op.is_in {
        let n = x.op.read_ahead(g.regs[gpr::RDI], rcx);
        // User space gets zeros where it writes nothing, as from KVM's
        // emulator_pio_in_out().
        // SAFETY: the I/O data page is ours; `n * size` <= 1024.
        unsafe { core::ptr::write_bytes(vcpu.pio_data(), 0, n as usize * size) };
        g.pending = Pending::StringIn { exit: *x, n };
        n
    } else {
        let mut data = [0u8; 4];
        let rsi = g.regs[gpr::RSI];
        match x.access(vcpu, x.op.ea(rsi), &mut data[..size])? {
            Access::Done => {}
            Access::Fault(p) => {
                g.pending = p;
                return Ok(false);
            }
            Access::Exit => return Ok(true),
        }
        // SAFETY: the I/O data page is ours; `size` <= 4.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), vcpu.pio_data(), size) };
        // The element is out: RSI and RCX move now, and RIP too after a
        // plain OUTS, as in KVM's writeback before it returns the exit
        // (without the single-step trap: KVM's emulator skips it there).
        g.regs[gpr::RSI] = x.op.advance(rsi, 1);
        if x.op.rep {
            g.regs[gpr::RCX] = x.op.rcx_after(rcx, 1);
        }
        g.pending = Pending::None;
        if let Pending::Skip { next_rip } = x.after() {
            let np = NoPreempt::new();
            let mut v = st.vmcs.load(&np)?;
            crate::exits::set_rip(&mut v, next_rip)?;
        }
        1
    };
    let run = vcpu.run_struct();
    set_exit_reason(run, exit::IO);
    // SAFETY: plain stores into the shared page.
    unsafe {
        (*run).exit.io.direction = if x.op.is_in { io_dir::IN } else { io_dir::OUT };
        (*run).exit.io.size = x.op.size;
        (*run).exit.io.port = x.port;
        (*run).exit.io.count = count;
        (*run).exit.io.data_offset = PIO_DATA_OFFSET;
    }
    Ok(true)
}

/// Completes an INS whose data user space supplied: writes the elements to
/// guest memory, moving RDI and RCX for each one written. A REP INS with
/// DF clear writes them in one access, as KVM's `OP_MEM_STR` writeback,
/// so a fault leaves RDI and RCX as they were; otherwise one element at a
/// time. Returns `true` if `kvm_run` now holds an exit for user space.
/// Sleeps (guest memory is the VMM's); called before the section.
pub(crate) fn complete_in(vcpu: &Vcpu, g: &mut Guest) -> Result<bool> {
    let Pending::StringIn { exit: x, n } = g.pending else {
        return Ok(false);
    };
    g.pending = Pending::None;
    let size = usize::from(x.op.size);
    let total = n as usize * size;
    let mut data = [0u8; READ_AHEAD_BYTES];
    // SAFETY: the I/O data page is ours and `total` <= 1024; user space
    // may write it at any time, so it is copied once before use.
    unsafe { core::ptr::copy_nonoverlapping(vcpu.pio_data(), data.as_mut_ptr(), total) };
    let (mut rdi, mut rcx) = (g.regs[gpr::RDI], g.regs[gpr::RCX]);
    let per_access = if x.op.rep && !x.op.df { n } else { 1 };
    let mut done = 0;
    while done < n {
        let bytes = &mut data[done as usize * size..(done + per_access) as usize * size];
        match x.access(vcpu, x.op.ea(rdi), bytes)? {
            Access::Done => {}
            Access::Fault(p) => {
                g.pending = p;
                return Ok(false);
            }
            Access::Exit => return Ok(true),
        }
        rdi = x.op.advance(rdi, u64::from(per_access));
        g.regs[gpr::RDI] = rdi;
        if x.op.rep {
            rcx = x.op.rcx_after(rcx, u64::from(per_access));
            g.regs[gpr::RCX] = rcx;
        }
        done += per_access;
    }
    g.pending = x.after();
    Ok(false)
}
