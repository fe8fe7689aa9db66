// SPDX-License-Identifier: GPL-2.0

//! Guest memory layout and the CPU state at entry for each mode, set the
//! way KVM clients set it: page tables and a GDT written into guest
//! memory, then `KVM_SET_SREGS` and `KVM_SET_REGS`.

use kvm_bindings::{kvm_regs, kvm_segment, kvm_sregs};
use std::str::FromStr;
use vmx::cr::{CR0_ET, CR0_PE, CR0_PG, CR4_PAE, CR4_PSE, EFER_LMA, EFER_LME};
use vmx::paging::{PRESENT, PS, WRITABLE};

/// Where the guest binary is loaded and entered.
pub(crate) const LOAD_ADDR: u64 = 0x1000;
/// GDT: null, 32-bit code (0x08), data (0x10), 64-bit code (0x18).
const GDT_ADDR: u64 = 0x500;
/// Page tables (below the 64 KiB the guest image may not reach).
const PT_ADDR: u64 = 0x10000;
/// Initial stack pointer.
const STACK_TOP: u64 = 0x8000;
/// Largest guest image: from 0x1000 to the stack area.
pub(crate) const MAX_IMAGE: usize = (0x8000 - LOAD_ADDR) as usize - 0x1000;

/// A page-directory entry mapping a large page, read/write.
const LARGE_RW: u64 = PRESENT | WRITABLE | PS;
/// An upper-level entry pointing to a table, read/write.
const TABLE_RW: u64 = PRESENT | WRITABLE;

/// CPU mode at entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Real mode, CS:IP = 0:0x1000.
    Real,
    /// 32-bit protected mode, flat segments, no paging.
    Protected,
    /// 32-bit protected mode with paging: 4 MiB pages mapping all memory
    /// 1:1.
    Paged,
    /// 64-bit mode: 2 MiB pages mapping the first GiB (or all memory if
    /// less) 1:1.
    Long,
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "real" => Mode::Real,
            "protected" => Mode::Protected,
            "paged" => Mode::Paged,
            "long" => Mode::Long,
            _ => return Err(format!("unknown mode '{s}' (real, protected, paged, long)")),
        })
    }
}

fn write_u64(mem: &mut [u8], addr: u64, val: u64) {
    let a = addr as usize;
    mem[a..a + 8].copy_from_slice(&val.to_le_bytes());
}

fn write_u32(mem: &mut [u8], addr: u64, val: u32) {
    let a = addr as usize;
    mem[a..a + 4].copy_from_slice(&val.to_le_bytes());
}

/// A flat 4 GiB segment: code (64-bit if `long`) or data.
pub(crate) fn segment(selector: u16, code: bool, long: bool) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_: if code { 11 } else { 3 },
        present: 1,
        dpl: 0,
        db: u8::from(!long || !code),
        s: 1,
        l: u8::from(long && code),
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

/// The GDT descriptor matching `seg`.
pub(crate) fn descriptor(seg: &kvm_segment) -> u64 {
    let access = u64::from(seg.type_) | (u64::from(seg.s) << 4) | (u64::from(seg.present) << 7);
    let flags = (u64::from(seg.l) << 1) | (u64::from(seg.db) << 2) | (u64::from(seg.g) << 3);
    0xffff | (access << 40) | (0xf << 48) | (flags << 52)
}

/// Writes the GDT and page tables `mode` needs into `mem` and fills in
/// the special and general registers.
pub(crate) fn setup(mode: Mode, mem: &mut [u8], sregs: &mut kvm_sregs, regs: &mut kvm_regs) {
    let size = mem.len() as u64;
    *regs = kvm_regs {
        rip: LOAD_ADDR,
        rsp: STACK_TOP,
        rflags: 2,
        // The guest learns its memory size from RSI.
        rsi: size,
        ..Default::default()
    };
    if mode == Mode::Real {
        sregs.cs.base = 0;
        sregs.cs.selector = 0;
        return;
    }
    let long = mode == Mode::Long;
    let code32 = segment(0x08, true, false);
    let data = segment(0x10, false, false);
    let code64 = segment(0x18, true, true);
    write_u64(mem, GDT_ADDR, 0);
    write_u64(mem, GDT_ADDR + 8, descriptor(&code32));
    write_u64(mem, GDT_ADDR + 16, descriptor(&data));
    write_u64(mem, GDT_ADDR + 24, descriptor(&code64));
    sregs.gdt.base = GDT_ADDR;
    sregs.gdt.limit = 4 * 8 - 1;
    sregs.cs = if long { code64 } else { code32 };
    sregs.ds = data;
    sregs.es = data;
    sregs.fs = data;
    sregs.gs = data;
    sregs.ss = data;
    sregs.cr0 = CR0_PE | CR0_ET;
    match mode {
        Mode::Paged => {
            // 4 MiB pages covering all memory.
            for (i, base) in (0..size).step_by(4 << 20).enumerate() {
                write_u32(mem, PT_ADDR + 4 * i as u64, base as u32 | LARGE_RW as u32);
            }
            sregs.cr3 = PT_ADDR;
            sregs.cr4 = CR4_PSE;
            sregs.cr0 |= CR0_PG;
        }
        Mode::Long => {
            let (pml4, pdpt, pd) = (PT_ADDR, PT_ADDR + 0x1000, PT_ADDR + 0x2000);
            write_u64(mem, pml4, pdpt | TABLE_RW);
            write_u64(mem, pdpt, pd | TABLE_RW);
            let span = size.clamp(2 << 20, 1 << 30);
            for (i, base) in (0..span).step_by(2 << 20).enumerate() {
                write_u64(mem, pd + 8 * i as u64, base | LARGE_RW);
            }
            sregs.cr3 = pml4;
            sregs.cr4 = CR4_PAE;
            sregs.cr0 |= CR0_PG;
            sregs.efer = EFER_LME | EFER_LMA;
        }
        Mode::Real | Mode::Protected => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors() {
        assert_eq!(descriptor(&segment(8, true, false)), 0x00cf_9b00_0000_ffff);
        assert_eq!(
            descriptor(&segment(16, false, false)),
            0x00cf_9300_0000_ffff
        );
        assert_eq!(descriptor(&segment(24, true, true)), 0x00af_9b00_0000_ffff);
    }

    #[test]
    fn long_mode_tables() {
        let mut mem = vec![0u8; 4 << 20];
        let (mut s, mut r) = (kvm_sregs::default(), kvm_regs::default());
        setup(Mode::Long, &mut mem, &mut s, &mut r);
        assert_eq!(s.efer, EFER_LME | EFER_LMA);
        assert_eq!(s.cs.l, 1);
        let pd = |i: usize| {
            u64::from_le_bytes(mem[0x12000 + 8 * i..0x12008 + 8 * i].try_into().unwrap())
        };
        assert_eq!(pd(0), 0x83);
        assert_eq!(pd(1), 0x20_0083);
        assert_eq!(pd(2), 0);
        assert_eq!(r.rip, LOAD_ADDR);
        assert_eq!(r.rsi, 4 << 20);
    }

    #[test]
    fn paged_tables() {
        let mut mem = vec![0u8; 8 << 20];
        let (mut s, mut r) = (kvm_sregs::default(), kvm_regs::default());
        setup(Mode::Paged, &mut mem, &mut s, &mut r);
        assert_eq!(s.cr0 & CR0_PG, CR0_PG);
        assert_eq!(&mem[0x10000..0x10008], &[0x83, 0, 0, 0, 0x83, 0, 0x40, 0]);
    }
}
