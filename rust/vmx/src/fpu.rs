// SPDX-License-Identifier: GPL-2.0

//! `KVM_GET_FPU` and `KVM_SET_FPU`: the x87 and SSE registers as KVM's
//! kvm_arch_vcpu_ioctl_get_fpu() and kvm_arch_vcpu_ioctl_set_fpu() show
//! and take them, read from and written to the legacy region of the
//! vCPU's save area (the 512 bytes FXSAVE writes, which start an XSAVE
//! area too; SDM Vol. 1, 10.5.1, Table 10-2, and 13.4.1).
//!
//! Two things follow KVM exactly, odd as they look:
//! - MXCSR is in `struct kvm_fpu` but neither ioctl touches it: GET leaves
//!   the field 0 (KVM fills a zeroed buffer), SET ignores it. So no value
//!   a VMM writes can make the restore in the run loop fault (MXCSR's
//!   reserved bits are the only ones FXRSTOR/XRSTOR refuse).
//! - `ftwx` is the abridged tag byte; the high byte of the area's tag
//!   word is written 0 (it is reserved).
//!
//! One thing does not: an XSAVE area whose XSTATE_BV says x87 or SSE is in
//! its init state may hold stale bytes there (XSAVEOPT and XSAVES, which
//! fill KVM's buffer, skip such components, SDM Vol. 1, 13.6 and 13.11;
//! rvisor's own XSAVE writes them). GET reports the init values in that
//! case, and SET marks both components as present, so that the next
//! XRSTOR loads what the VMM wrote instead of the init state (on KVM such
//! a SET is lost, see Documentation/uapi.rst).

use crate::uapi::KvmFpu;

/// Bytes of the legacy region (the FXSAVE image).
pub const LEGACY_SIZE: usize = 512;
/// Offset of XSTATE_BV in the XSAVE header, which follows the legacy
/// region (SDM Vol. 1, 13.4.2).
pub const XSTATE_BV_OFFSET: usize = 512;
/// XSTATE_BV bits for the x87 and SSE components.
pub const XSTATE_FP_SSE: u64 = 3;
/// FCW after FNINIT or RESET (SDM Vol. 1, Table 8-3).
pub const FCW_INIT: u16 = 0x37f;
/// MXCSR after RESET (SDM Vol. 1, 10.2.3.1).
pub const MXCSR_INIT: u32 = 0x1f80;

// Offsets in the legacy region, 64-bit layout (FXSAVE64/XSAVE64).
const FCW: usize = 0;
const FSW: usize = 2;
const FTW: usize = 4;
const FOP: usize = 6;
const FIP: usize = 8;
const FDP: usize = 16;
const MXCSR: usize = 24;
const ST0: usize = 32;
const XMM0: usize = 160;

fn u16_at(a: &[u8; LEGACY_SIZE], at: usize) -> u16 {
    u16::from_le_bytes([a[at], a[at + 1]])
}

fn u64_at(a: &[u8; LEGACY_SIZE], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&a[at..at + 8]);
    u64::from_le_bytes(b)
}

/// A fresh legacy region: the RESET values FXRSTOR needs (FCW, MXCSR),
/// every register 0.
pub fn reset_legacy() -> [u8; LEGACY_SIZE] {
    let mut a = [0u8; LEGACY_SIZE];
    a[FCW..FCW + 2].copy_from_slice(&FCW_INIT.to_le_bytes());
    a[MXCSR..MXCSR + 4].copy_from_slice(&MXCSR_INIT.to_le_bytes());
    a
}

/// `KVM_GET_FPU` from the legacy region `a`. `xstate_bv` is the XSAVE
/// header's XSTATE_BV when the area is an XSAVE area (`None` for FXSAVE):
/// a component whose bit is clear is reported in its init state.
pub fn get(a: &[u8; LEGACY_SIZE], xstate_bv: Option<u64>) -> KvmFpu {
    // FXSAVE has no XSTATE_BV: every component is present.
    let bv = xstate_bv.unwrap_or(XSTATE_FP_SSE);
    let x87 = bv & 1 != 0;
    let sse = bv & 2 != 0;
    let mut f = KvmFpu::default();
    if x87 {
        for (i, st) in f.fpr.iter_mut().enumerate() {
            st.copy_from_slice(&a[ST0 + 16 * i..ST0 + 16 * (i + 1)]);
        }
        f.fcw = u16_at(a, FCW);
        f.fsw = u16_at(a, FSW);
        f.ftwx = a[FTW];
        f.last_opcode = u16_at(a, FOP);
        f.last_ip = u64_at(a, FIP);
        f.last_dp = u64_at(a, FDP);
    } else {
        f.fcw = FCW_INIT;
    }
    if sse {
        for (i, x) in f.xmm.iter_mut().enumerate() {
            x.copy_from_slice(&a[XMM0 + 16 * i..XMM0 + 16 * (i + 1)]);
        }
    }
    f
}

/// `KVM_SET_FPU` into the legacy region `a`: every field of `f` but MXCSR
/// (and the padding), as KVM. The caller sets [`XSTATE_FP_SSE`] in an
/// XSAVE area's XSTATE_BV.
pub fn set(a: &mut [u8; LEGACY_SIZE], f: &KvmFpu) {
    for (i, st) in f.fpr.iter().enumerate() {
        a[ST0 + 16 * i..ST0 + 16 * (i + 1)].copy_from_slice(st);
    }
    a[FCW..FCW + 2].copy_from_slice(&f.fcw.to_le_bytes());
    a[FSW..FSW + 2].copy_from_slice(&f.fsw.to_le_bytes());
    a[FTW] = f.ftwx;
    a[FTW + 1] = 0;
    a[FOP..FOP + 2].copy_from_slice(&f.last_opcode.to_le_bytes());
    a[FIP..FIP + 8].copy_from_slice(&f.last_ip.to_le_bytes());
    a[FDP..FDP + 8].copy_from_slice(&f.last_dp.to_le_bytes());
    for (i, x) in f.xmm.iter().enumerate() {
        a[XMM0 + 16 * i..XMM0 + 16 * (i + 1)].copy_from_slice(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> KvmFpu {
        let mut f = KvmFpu {
            fcw: 0x027f,
            fsw: 0x3800,
            ftwx: 0x80,
            pad1: 0xee,
            last_opcode: 0x1e8,
            last_ip: 0x1122_3344_5566_7788,
            last_dp: 0x99aa_bbcc_ddee_ff00,
            mxcsr: 0xffff_ffff,
            pad2: 0xdead_beef,
            ..Default::default()
        };
        for (i, st) in f.fpr.iter_mut().enumerate() {
            *st = [i as u8 + 1; 16];
        }
        for (i, x) in f.xmm.iter_mut().enumerate() {
            *x = [0x40 + i as u8; 16];
        }
        f
    }

    #[test]
    fn fields_land_where_fxsave_keeps_them() {
        let mut a = reset_legacy();
        set(&mut a, &sample());
        assert_eq!(&a[0..2], &[0x7f, 0x02]);
        assert_eq!(&a[2..4], &[0x00, 0x38]);
        assert_eq!(&a[4..6], &[0x80, 0x00]);
        assert_eq!(&a[6..8], &[0xe8, 0x01]);
        assert_eq!(u64_at(&a, 8), 0x1122_3344_5566_7788);
        assert_eq!(u64_at(&a, 16), 0x99aa_bbcc_ddee_ff00);
        // ST(0) at 32, ST(7) at 144; XMM0 at 160, XMM15 at 400.
        assert_eq!(a[32], 1);
        assert_eq!(a[144 + 15], 8);
        assert_eq!(a[160], 0x40);
        assert_eq!(a[400 + 15], 0x4f);
        // Nothing past XMM15 (the reserved and available bytes).
        assert!(a[416..].iter().all(|&b| b == 0));
    }

    #[test]
    fn mxcsr_and_padding_are_neither_set_nor_reported() {
        let mut a = reset_legacy();
        set(&mut a, &sample());
        assert_eq!(&a[24..28], &MXCSR_INIT.to_le_bytes());
        let f = get(&a, None);
        assert_eq!((f.mxcsr, f.pad1, f.pad2), (0, 0, 0));
        let want = KvmFpu {
            mxcsr: 0,
            pad1: 0,
            pad2: 0,
            ..sample()
        };
        assert_eq!(f, want);
        assert_eq!(get(&a, Some(XSTATE_FP_SSE)), want);
    }

    #[test]
    fn components_in_init_state_read_as_init() {
        let mut a = reset_legacy();
        set(&mut a, &sample());
        let none = get(&a, Some(0));
        assert_eq!(
            none,
            KvmFpu {
                fcw: FCW_INIT,
                ..Default::default()
            }
        );
        let sse_only = get(&a, Some(2));
        assert_eq!(sse_only.fcw, FCW_INIT);
        assert_eq!(sse_only.xmm, sample().xmm);
        let x87_only = get(&a, Some(1));
        assert_eq!(x87_only.fpr, sample().fpr);
        assert_eq!(x87_only.xmm, [[0; 16]; 16]);
    }

    #[test]
    fn a_fresh_area_reads_as_reset() {
        let f = get(&reset_legacy(), None);
        assert_eq!(
            f,
            KvmFpu {
                fcw: FCW_INIT,
                ..Default::default()
            }
        );
    }

    #[test]
    fn the_reserved_tag_byte_is_cleared() {
        let mut a = [0xffu8; LEGACY_SIZE];
        set(&mut a, &KvmFpu::default());
        assert_eq!(a[5], 0);
        assert_eq!(&a[24..28], &[0xff; 4]);
    }
}
