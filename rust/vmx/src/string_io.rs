// SPDX-License-Identifier: GPL-2.0

//! INS and OUTS (SDM Vol. 2B), executed for the guest as KVM's emulator
//! executes them (`arch/x86/kvm/emulate.c`: `em_in`/`em_out`,
//! `pio_in_emulated()`, `__linearize()`, the REP handling of
//! `x86_emulate_insn()`): the rules, without memory or VMCS.
//!
//! An I/O exit happens before the processor touches the memory operand, so
//! the segment checks ([`linearize`]) and the page walk
//! ([`crate::paging::walk`]) are the VMM's to do.
//!
//! What user space sees, as on KVM: an `OUTS` is one `KVM_EXIT_IO` of one
//! element, read from guest memory first (a fault is raised before any
//! I/O); an `INS` is one `KVM_EXIT_IO` of [`StringIo::read_ahead`] elements
//! whose data is written to guest memory when user space has supplied it.
//! A REP instruction not finished after an exit is executed again, which
//! exits again.

use crate::insn::CpuMode;
use crate::vmcs::Segment;

/// Instruction information of an INS/OUTS exit (SDM Vol. 3C Table 28-8,
/// when IA32_VMX_BASIC bit 54 is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoInsnInfo(pub u32);

impl IoInsnInfo {
    /// The address size in bytes (bits 9:7: 0 = 16-bit, 1 = 32, 2 = 64);
    /// `None` for an encoding the SDM leaves undefined.
    pub fn addr_size(self) -> Option<u8> {
        match (self.0 >> 7) & 7 {
            0 => Some(2),
            1 => Some(4),
            2 => Some(8),
            _ => None,
        }
    }

    /// The segment of an OUTS source operand (bits 17:15; INS always
    /// writes through ES).
    pub fn segment(self) -> Option<Segment> {
        Some(match (self.0 >> 15) & 7 {
            0 => Segment::Es,
            1 => Segment::Cs,
            2 => Segment::Ss,
            3 => Segment::Ds,
            4 => Segment::Fs,
            5 => Segment::Gs,
            _ => return None,
        })
    }
}

/// A string I/O instruction, from its exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringIo {
    /// INS (true) or OUTS.
    pub is_in: bool,
    /// REP prefixed.
    pub rep: bool,
    /// Element size: 1, 2 or 4 bytes.
    pub size: u8,
    /// Address size: 2, 4 or 8 bytes (RCX, RSI and RDI are used at it).
    pub addr_size: u8,
    /// RFLAGS.DF: RSI/RDI decrease.
    pub df: bool,
}

impl StringIo {
    fn addr_mask(self) -> u64 {
        match self.addr_size {
            2 => 0xffff,
            4 => 0xffff_ffff,
            _ => u64::MAX,
        }
    }

    /// The offset of the memory operand for RSI or RDI (`register_address`).
    pub fn ea(self, reg: u64) -> u64 {
        reg & self.addr_mask()
    }

    /// The elements left to transfer: RCX at the address size with REP,
    /// else 1. A REP instruction with none left only completes.
    pub fn count(self, rcx: u64) -> u64 {
        if self.rep {
            rcx & self.addr_mask()
        } else {
            1
        }
    }

    /// How many elements one IN exit asks user space for, from RDI and
    /// RCX, as KVM's `pio_in_emulated()` read-ahead computes it: the minimum
    /// of the bytes left in RDI's page in the direction of DF (bytes, not
    /// elements: KVM compares them with element counts, so an INSD near the
    /// end of a page reads ahead across it), 1024 bytes' worth of elements
    /// and the count; at least one. It looks at RDI's offset in its page,
    /// not at the linear address.
    pub fn read_ahead(self, rdi: u64, rcx: u64) -> u32 {
        let offset = (rdi & 0xfff) as u32;
        let in_page = if self.df { offset } else { 4096 - offset };
        let limit = 1024 / u32::from(self.size);
        // KVM keeps the count in an `unsigned int`: RCX 2^32 at 64-bit
        // addressing reads ahead as if it were 0 (so one element).
        let count = self.count(rcx) as u32;
        core::cmp::max(1, in_page.min(limit).min(count))
    }

    /// RSI or RDI after `n` elements in the direction of DF, written at the
    /// address size (KVM's `register_address_increment()`: a 16-bit write
    /// keeps bits 63:16, a 32-bit one zeroes bits 63:32).
    pub fn advance(self, reg: u64, n: u64) -> u64 {
        let delta = n.wrapping_mul(u64::from(self.size));
        let moved = if self.df {
            reg.wrapping_sub(delta)
        } else {
            reg.wrapping_add(delta)
        };
        assign(reg, moved, self.addr_size)
    }

    /// RCX after `n` elements of a REP instruction.
    pub fn rcx_after(self, rcx: u64, n: u64) -> u64 {
        assign(rcx, rcx.wrapping_sub(n), self.addr_size)
    }

    /// RCX when a REP instruction finds it 0 at its address size: on Intel
    /// CPUs (the guest's CPUID vendor, `intel`) a 32-bit count is written
    /// back whole (KVM's `string_registers_quirk()`), clearing bits 63:32.
    pub fn rcx_when_empty(self, rcx: u64, intel: bool) -> u64 {
        if self.addr_size == 4 && intel {
            0
        } else {
            rcx
        }
    }
}

/// Writes `new` into a register holding `old` at `size` bytes (KVM's
/// `insn_assign_reg()`).
fn assign(old: u64, new: u64, size: u8) -> u64 {
    match size {
        2 => (old & !0xffff) | (new & 0xffff),
        4 => new & 0xffff_ffff,
        _ => new,
    }
}

/// A segment register's hidden part, as the VMCS holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentCache {
    /// The base.
    pub base: u64,
    /// The limit, in bytes (scaled by G already).
    pub limit: u32,
    /// The access rights, VMCS format (SDM Vol. 3C 25.4.1).
    pub ar: u32,
}

/// The fault of a segment check: #GP(0), or #SS(0) for SS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentFault {
    /// #GP(0).
    Gp,
    /// #SS(0).
    Ss,
}

/// Virtual-address bits in 64-bit mode (rvisor offers no LA57).
const VA_BITS: u32 = 48;

/// The linear address of `size` bytes at offset `ea` in `seg`, checked as
/// KVM's `__linearize()` checks a data access: in 64-bit mode only FS and
/// GS have a base and the address must be canonical; elsewhere the segment
/// must be usable, writable for a write, readable for a read, and hold all
/// `size` bytes (expand-down segments above their limit), and the address
/// is 32-bit.
pub fn linearize(
    mode: CpuMode,
    seg: Segment,
    cache: &SegmentCache,
    ea: u64,
    size: u64,
    write: bool,
) -> Result<u64, SegmentFault> {
    let bad = if seg == Segment::Ss {
        SegmentFault::Ss
    } else {
        SegmentFault::Gp
    };
    if mode == CpuMode::Long {
        let base = if matches!(seg, Segment::Fs | Segment::Gs) {
            cache.base
        } else {
            0
        };
        let la = base.wrapping_add(ea);
        let shift = 64 - VA_BITS;
        if (((la << shift) as i64) >> shift) as u64 != la {
            return Err(bad);
        }
        let max = core::cmp::min(0xffff_ffff, (1u64 << VA_BITS).wrapping_sub(la));
        return if size > max { Err(bad) } else { Ok(la) };
    }
    let la = cache.base.wrapping_add(ea) & 0xffff_ffff;
    let ty = cache.ar & 0xf;
    let code = ty & 8 != 0;
    // Bit 1: writable for data, readable for code.
    let rw = ty & 2 != 0;
    // A write needs a writable data segment (real mode ignores the code
    // bit, as KVM); a read fails only on an execute-only code segment.
    let denied = if write {
        (mode != CpuMode::Real && code) || !rw
    } else {
        code && !rw
    };
    if cache.ar & crate::segment::ar::UNUSABLE != 0 || denied {
        return Err(bad);
    }
    let mut lim = u64::from(cache.limit);
    if !code && ty & 4 != 0 {
        // Expand-down: the valid offsets are above the limit, up to 64 KiB
        // or 4 GiB by D/B.
        if ea <= lim {
            return Err(bad);
        }
        lim = if cache.ar & (1 << 14) != 0 {
            0xffff_ffff
        } else {
            0xffff
        };
    }
    if ea > lim || (lim != 0xffff_ffff && size > lim + 1 - ea) {
        return Err(bad);
    }
    Ok(la)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(is_in: bool, rep: bool, size: u8, addr_size: u8, df: bool) -> StringIo {
        StringIo {
            is_in,
            rep,
            size,
            addr_size,
            df,
        }
    }

    #[test]
    fn insn_info() {
        // 32-bit address size, DS.
        let i = IoInsnInfo((1 << 7) | (3 << 15));
        assert_eq!((i.addr_size(), i.segment()), (Some(4), Some(Segment::Ds)));
        let i = IoInsnInfo((2 << 7) | (5 << 15));
        assert_eq!((i.addr_size(), i.segment()), (Some(8), Some(Segment::Gs)));
        assert_eq!(IoInsnInfo(3 << 7).addr_size(), None);
        assert_eq!(IoInsnInfo(6 << 15).segment(), None);
    }

    #[test]
    fn read_ahead_as_kvm() {
        // REP INSB of a page from a page boundary: 1024 bytes per exit.
        let insb = op(true, true, 1, 8, false);
        assert_eq!(insb.read_ahead(0x2000, 4096), 1024);
        // Up to the end of RDI's page.
        assert_eq!(insb.read_ahead(0x2f00, 4096), 256);
        // At most RCX.
        assert_eq!(insb.read_ahead(0x2000, 3), 3);
        // RCX at the address size: 0x1_0000_0005 in 32-bit addressing is 5.
        assert_eq!(op(true, true, 1, 4, false).read_ahead(0, 0x1_0000_0005), 5);
        // INSD: 256 elements; 2 bytes before the page end: still one.
        let insd = op(true, true, 4, 8, false);
        assert_eq!(insd.read_ahead(0x1000, 10_000), 256);
        assert_eq!(insd.read_ahead(0x1ffe, 10_000), 2);
        assert_eq!(insd.read_ahead(0x1fff, 10_000), 1);
        // DF: the bytes below RDI in its page; none at offset 0 gives one.
        let down = op(true, true, 2, 8, true);
        assert_eq!(down.read_ahead(0x1010, 100), 16);
        assert_eq!(down.read_ahead(0x1000, 100), 1);
        // Without REP: one, whatever RCX.
        assert_eq!(op(true, false, 1, 8, false).read_ahead(0, 0), 1);
        // Huge RCX does not overflow; KVM's count is 32-bit.
        assert_eq!(insb.read_ahead(0, u64::MAX), 1024);
        assert_eq!(insb.read_ahead(0, 1 << 32), 1);
        assert_eq!(insb.read_ahead(0, (1 << 32) + 5), 5);
    }

    #[test]
    fn registers_at_address_size() {
        let o16 = op(false, true, 2, 2, false);
        // 16-bit: wraps inside the low word, bits 63:16 kept.
        assert_eq!(o16.advance(0xabcd_0000_ffff, 1), 0xabcd_0000_0001);
        assert_eq!(o16.rcx_after(0x1_0000, 1), 0x1_ffff);
        // 32-bit: bits 63:32 cleared.
        let o32 = op(true, true, 4, 4, true);
        assert_eq!(o32.advance(0xffff_ffff_0000_0010, 2), 0x8);
        assert_eq!(o32.advance(0x4, 2), 0xffff_fffc);
        assert_eq!(o32.rcx_when_empty(0x5_0000_0000, true), 0);
        assert_eq!(o32.rcx_when_empty(0x5_0000_0000, false), 0x5_0000_0000);
        // 64-bit: whole.
        let o64 = op(true, true, 1, 8, false);
        assert_eq!(o64.advance(u64::MAX, 1), 0);
        assert_eq!(o64.rcx_after(5, 5), 0);
        assert_eq!(o64.rcx_when_empty(0x5_0000_0000, true), 0x5_0000_0000);
        assert_eq!(o64.ea(u64::MAX), u64::MAX);
        assert_eq!(o16.ea(0x1_2345), 0x2345);
        assert_eq!(
            (o64.count(0), op(true, false, 1, 8, false).count(0)),
            (0, 1)
        );
    }

    fn data(base: u64, limit: u32, ty: u32) -> SegmentCache {
        SegmentCache {
            base,
            limit,
            ar: ty | (1 << 4) | (1 << 7),
        }
    }

    #[test]
    fn segment_checks() {
        let flat = data(0, 0xffff_ffff, 3);
        let p32 = CpuMode::Protected32;
        assert_eq!(
            linearize(p32, Segment::Es, &flat, 0x1000, 4, true),
            Ok(0x1000)
        );
        // 32-bit wrap of base + offset.
        let high = data(0xffff_f000, 0xffff_ffff, 3);
        assert_eq!(
            linearize(p32, Segment::Ds, &high, 0x2000, 1, false),
            Ok(0x1000)
        );
        // Limit: the last byte must be inside.
        let small = data(0x10000, 0xfff, 3);
        assert_eq!(
            linearize(p32, Segment::Es, &small, 0xffc, 4, true),
            Ok(0x10ffc)
        );
        assert_eq!(
            linearize(p32, Segment::Es, &small, 0xffd, 4, true),
            Err(SegmentFault::Gp)
        );
        assert_eq!(
            linearize(p32, Segment::Ss, &small, 0x1000, 1, false),
            Err(SegmentFault::Ss)
        );
        // Read-only data: no write; execute-only code: no read; readable
        // code: read, no write.
        let ro = data(0, 0xffff_ffff, 1);
        assert_eq!(
            linearize(p32, Segment::Es, &ro, 0, 1, true),
            Err(SegmentFault::Gp)
        );
        assert!(linearize(p32, Segment::Ds, &ro, 0, 1, false).is_ok());
        let xo = data(0, 0xffff_ffff, 9);
        assert_eq!(
            linearize(p32, Segment::Cs, &xo, 0, 1, false),
            Err(SegmentFault::Gp)
        );
        let rx = data(0, 0xffff_ffff, 11);
        assert!(linearize(p32, Segment::Cs, &rx, 0, 1, false).is_ok());
        assert_eq!(
            linearize(p32, Segment::Cs, &rx, 0, 1, true),
            Err(SegmentFault::Gp)
        );
        // Unusable.
        let none = SegmentCache {
            ar: crate::segment::ar::UNUSABLE,
            ..flat
        };
        assert_eq!(
            linearize(p32, Segment::Fs, &none, 0, 1, false),
            Err(SegmentFault::Gp)
        );
        // Expand-down, 16-bit: offsets limit+1..=0xffff.
        let down = data(0, 0x0fff, 7);
        assert_eq!(
            linearize(p32, Segment::Es, &down, 0x0fff, 1, true),
            Err(SegmentFault::Gp)
        );
        assert_eq!(
            linearize(p32, Segment::Es, &down, 0x1000, 2, true),
            Ok(0x1000)
        );
        assert_eq!(
            linearize(p32, Segment::Es, &down, 0xffff, 2, true),
            Err(SegmentFault::Gp)
        );
        // Real mode: base from the selector, 64 KiB limit.
        let real = data(0x12340, 0xffff, 3);
        let r = CpuMode::Real;
        assert_eq!(
            linearize(r, Segment::Es, &real, 0xfffe, 2, true),
            Ok(0x2233e)
        );
        assert_eq!(
            linearize(r, Segment::Es, &real, 0xffff, 2, true),
            Err(SegmentFault::Gp)
        );
        // 64-bit mode: no base but FS/GS, no limit, canonical only.
        let l = CpuMode::Long;
        assert_eq!(
            linearize(l, Segment::Es, &small, 0x5_0000, 1, true),
            Ok(0x5_0000)
        );
        let fs = data(0x7000_0000_0000, 0, 3);
        assert_eq!(
            linearize(l, Segment::Fs, &fs, 0x10, 1, true),
            Ok(0x7000_0000_0010)
        );
        assert_eq!(
            linearize(l, Segment::Ds, &flat, 0x8000_0000_0000, 1, false),
            Err(SegmentFault::Gp)
        );
        assert_eq!(
            linearize(l, Segment::Ss, &flat, 0x8000_0000_0000, 1, false),
            Err(SegmentFault::Ss)
        );
        assert_eq!(
            linearize(l, Segment::Es, &flat, 0xffff_8000_0000_0000, 4, true),
            Ok(0xffff_8000_0000_0000)
        );
        // The last bytes below the hole (KVM's max_size).
        assert_eq!(
            linearize(l, Segment::Es, &flat, 0xffff_ffff_fffe, 4, true),
            Err(SegmentFault::Gp)
        );
    }
}
