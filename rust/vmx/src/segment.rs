// SPDX-License-Identifier: GPL-2.0

//! Conversion between `struct kvm_segment` and the VMCS access-rights
//! format (SDM Vol. 3C, 25.4.1), following KVM's rules so that clients
//! written for KVM get the same guest state.

use crate::uapi::KvmSegment;

/// Access-rights bit: the segment is unusable.
pub const AR_UNUSABLE: u32 = 1 << 16;

/// The VMCS access-rights value for `seg`. A segment that is unusable or
/// not present is marked unusable, as KVM does. Under unrestricted guest,
/// KVM sets the accessed bit of every usable segment but the LDTR (old
/// clients pass type 2/10 after reset, which VM entry would refuse); so
/// does this when `set_accessed`.
pub fn to_access_rights(seg: &KvmSegment, set_accessed: bool) -> u32 {
    if seg.unusable != 0 || seg.present == 0 {
        return AR_UNUSABLE;
    }
    let mut ty = u32::from(seg.type_ & 0xf);
    if set_accessed {
        ty |= 1;
    }
    ty | (u32::from(seg.s & 1) << 4)
        | (u32::from(seg.dpl & 3) << 5)
        | (u32::from(seg.present & 1) << 7)
        | (u32::from(seg.avl & 1) << 12)
        | (u32::from(seg.l & 1) << 13)
        | (u32::from(seg.db & 1) << 14)
        | (u32::from(seg.g & 1) << 15)
}

/// Fills the descriptor fields of `seg` from a VMCS access-rights value.
pub fn from_access_rights(seg: &mut KvmSegment, ar: u32) {
    seg.unusable = u8::from(ar & AR_UNUSABLE != 0);
    seg.type_ = (ar & 0xf) as u8;
    seg.s = ((ar >> 4) & 1) as u8;
    seg.dpl = ((ar >> 5) & 3) as u8;
    // KVM reports unusable segments as not present.
    seg.present = u8::from(ar & AR_UNUSABLE == 0 && ar & (1 << 7) != 0);
    seg.avl = ((ar >> 12) & 1) as u8;
    seg.l = ((ar >> 13) & 1) as u8;
    seg.db = ((ar >> 14) & 1) as u8;
    seg.g = ((ar >> 15) & 1) as u8;
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
        assert_eq!(to_access_rights(&s, true), AR_UNUSABLE);
        let mut s = code64();
        s.unusable = 1;
        assert_eq!(to_access_rights(&s, true), AR_UNUSABLE);
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
        from_access_rights(&mut back, AR_UNUSABLE);
        assert_eq!((back.unusable, back.present), (1, 0));
    }
}
