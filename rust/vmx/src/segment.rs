// SPDX-License-Identifier: GPL-2.0

//! Conversion between `struct kvm_segment` and the VMCS access-rights
//! format (SDM Vol. 3C, 25.4.1), following KVM's rules so that clients
//! written for KVM get the same guest state.

use crate::uapi::KvmSegment;

/// The fields of a VMCS segment access-rights value (SDM Vol. 3C, 25.4.1,
/// Table 25-2): the descriptor's type, S, DPL, P, AVL, L, D/B and G bits
/// (SDM Vol. 3A, 3.4.5), plus "unusable".
pub mod ar {
    /// Bits 3:0, the segment type.
    pub const TYPE: u32 = 0xf;
    /// Type bit 0: accessed.
    pub const TYPE_ACCESSED: u32 = 1 << 0;
    /// Bit 4, S: a code or data segment (not a system one).
    pub const S: u32 = 1 << 4;
    /// Bits 6:5, the descriptor privilege level.
    pub const DPL: u32 = 3 << DPL_SHIFT;
    /// The position of [`DPL`].
    pub const DPL_SHIFT: u32 = 5;
    /// Bit 7, P: present.
    pub const P: u32 = 1 << 7;
    /// Bit 12, AVL: available to software.
    pub const AVL: u32 = 1 << 12;
    /// Bit 13, L: a 64-bit code segment.
    pub const L: u32 = 1 << 13;
    /// Bit 14, D/B: default operation size 32 bits.
    pub const DB: u32 = 1 << 14;
    /// Bit 15, G: limit in 4-KiB units.
    pub const G: u32 = 1 << 15;
    /// Bit 16: the segment is unusable.
    pub const UNUSABLE: u32 = 1 << 16;

    /// Code and data types (S = 1), SDM Vol. 3A, Table 3-1.
    /// Data, read/write.
    pub const TYPE_DATA_RW: u32 = 2;
    /// Data, read/write, accessed.
    pub const TYPE_DATA_RWA: u32 = 3;
    /// Code, execute/read.
    pub const TYPE_CODE_XR: u32 = 10;
    /// Code, execute/read, accessed.
    pub const TYPE_CODE_XRA: u32 = 11;
    /// System types (S = 0), SDM Vol. 3A, Table 3-2.
    /// LDT.
    pub const TYPE_LDT: u32 = 2;
    /// 32-bit (in IA-32e mode: 64-bit) TSS, busy.
    pub const TYPE_TSS_BUSY: u32 = 11;

    /// The DPL of access rights `ar`.
    pub const fn dpl(ar: u32) -> u8 {
        ((ar & DPL) >> DPL_SHIFT) as u8
    }
}

/// The VMCS access-rights value for `seg`. A segment that is unusable or
/// not present is marked unusable, as KVM does. Under unrestricted guest,
/// KVM sets the accessed bit of every usable segment but the LDTR (old
/// clients pass type 2/10 after reset, which VM entry would refuse); so
/// does this when `set_accessed`.
pub fn to_access_rights(seg: &KvmSegment, set_accessed: bool) -> u32 {
    if seg.unusable != 0 || seg.present == 0 {
        return ar::UNUSABLE;
    }
    let mut ty = u32::from(seg.type_) & ar::TYPE;
    if set_accessed {
        ty |= ar::TYPE_ACCESSED;
    }
    ty | flag(seg.s, ar::S)
        | ((u32::from(seg.dpl) << ar::DPL_SHIFT) & ar::DPL)
        | flag(seg.present, ar::P)
        | flag(seg.avl, ar::AVL)
        | flag(seg.l, ar::L)
        | flag(seg.db, ar::DB)
        | flag(seg.g, ar::G)
}

/// `bit` if bit 0 of the `struct kvm_segment` flag `f` is set (KVM's
/// `vmx_segment_access_rights()` uses bit 0 only).
fn flag(f: u8, bit: u32) -> u32 {
    if f & 1 != 0 {
        bit
    } else {
        0
    }
}

/// 1 if `bit` is set in `ar`, else 0.
fn has(ar: u32, bit: u32) -> u8 {
    u8::from(ar & bit != 0)
}

/// Fills the descriptor fields of `seg` from a VMCS access-rights value.
pub fn from_access_rights(seg: &mut KvmSegment, ar: u32) {
    seg.unusable = has(ar, ar::UNUSABLE);
    seg.type_ = (ar & ar::TYPE) as u8;
    seg.s = has(ar, ar::S);
    seg.dpl = ar::dpl(ar);
    // KVM reports unusable segments as not present.
    seg.present = u8::from(ar & ar::UNUSABLE == 0 && ar & ar::P != 0);
    seg.avl = has(ar, ar::AVL);
    seg.l = has(ar, ar::L);
    seg.db = has(ar, ar::DB);
    seg.g = has(ar, ar::G);
    seg.padding = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code64() -> KvmSegment {
        KvmSegment {
            base: 0,
            limit: 0xffff_ffff,
            selector: 8,
            type_: 11,
            present: 1,
            dpl: 0,
            db: 0,
            s: 1,
            l: 1,
            g: 1,
            ..KvmSegment::default()
        }
    }

    #[test]
    fn long_mode_code_segment() {
        assert_eq!(to_access_rights(&code64(), false), 0xa09b);
    }

    #[test]
    fn real_mode_reset_values() {
        // KVM's reset CS: type 11 (code, accessed), S, present.
        let cs = KvmSegment {
            base: 0xffff_0000,
            limit: 0xffff,
            selector: 0xf000,
            type_: 11,
            present: 1,
            s: 1,
            ..KvmSegment::default()
        };
        assert_eq!(to_access_rights(&cs, true), 0x9b);
        // A data segment of type 2 gets the accessed bit under
        // unrestricted guest.
        let ds = KvmSegment { type_: 2, ..cs };
        assert_eq!(to_access_rights(&ds, true), 0x93);
        assert_eq!(to_access_rights(&ds, false), 0x92);
    }

    #[test]
    fn unusable_and_not_present() {
        let mut s = code64();
        s.present = 0;
        assert_eq!(to_access_rights(&s, true), ar::UNUSABLE);
        let mut s = code64();
        s.unusable = 1;
        assert_eq!(to_access_rights(&s, true), ar::UNUSABLE);
    }

    #[test]
    fn round_trip() {
        for seg in [
            code64(),
            KvmSegment {
                type_: 3,
                s: 1,
                present: 1,
                db: 1,
                avl: 1,
                dpl: 3,
                ..code64()
            },
        ] {
            let mut back = KvmSegment {
                base: seg.base,
                limit: seg.limit,
                selector: seg.selector,
                ..KvmSegment::default()
            };
            from_access_rights(&mut back, to_access_rights(&seg, false));
            assert_eq!(back, seg);
        }
        let mut back = KvmSegment::default();
        from_access_rights(&mut back, ar::UNUSABLE);
        assert_eq!((back.unusable, back.present), (1, 0));
    }
}
