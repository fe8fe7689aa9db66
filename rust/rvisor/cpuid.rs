// SPDX-License-Identifier: GPL-2.0

//! CPUID for guests: the leaves `KVM_GET_SUPPORTED_CPUID` offers (the
//! host's, minus what rvisor does not virtualize). Guests' CPUID is
//! answered by [`crate::cpuid_table::lookup`] from the table
//! `KVM_SET_CPUID2` installed.

use crate::cpuid_table::{feature, leaf1_ebx, offered, ADDRESS_SIZES};
use crate::glue;
use crate::guest_fpu::{GuestFpu, XCR0_AVX, XCR0_GUEST_MAX};
use crate::uapi::{KvmCpuidEntry2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX};
use kernel::prelude::*;

/// Most entries `KVM_SET_CPUID2` accepts (`KVM_MAX_CPUID_ENTRIES`).
pub(crate) const MAX_ENTRIES: usize = 256;

fn host(leaf: u32, subleaf: u32) -> [u32; 4] {
    let mut r = [0u32; 4];
    // SAFETY: `r` has room for EAX, EBX, ECX, EDX.
    unsafe { glue::rv_cpuid_count(leaf, subleaf, r.as_mut_ptr()) };
    r
}

fn entry(function: u32, index: u32, flags: u32, r: [u32; 4]) -> KvmCpuidEntry2 {
    KvmCpuidEntry2 {
        function,
        index,
        flags,
        eax: r[0],
        ebx: r[1],
        ecx: r[2],
        edx: r[3],
        padding: [0; 3],
    }
}

/// The leaves a guest may be given on this host.
pub(crate) fn supported() -> Result<KVec<KvmCpuidEntry2>> {
    let mut v = KVec::new();
    let max_basic = core::cmp::min(host(0, 0)[0], 0xd);
    let mut r = host(0, 0);
    r[0] = max_basic;
    v.push(entry(0, 0, 0, r), GFP_KERNEL_ACCOUNT)?;
    let mut r = host(1, 0);
    // APIC id and logical count are per guest; user space sets them.
    r[1] &= !(leaf1_ebx::APIC_ID | leaf1_ebx::LOGICAL_COUNT);
    r[2] &= offered::LEAF1_ECX;
    r[3] &= offered::LEAF1_EDX;
    let xcr0 = GuestFpu::supported_xcr0();
    if xcr0 == 0 {
        r[2] &= !offered::LEAF1_ECX_XSAVE;
    } else if xcr0 & XCR0_AVX == 0 {
        r[2] &= !offered::LEAF1_ECX_AVX;
    }
    v.push(entry(1, 0, 0, r), GFP_KERNEL_ACCOUNT)?;
    if max_basic >= 7 {
        let mut r = host(7, 0);
        r[0] = 0;
        r[1] &= offered::LEAF7_EBX;
        if xcr0 & XCR0_AVX == 0 {
            r[1] &= !feature::AVX2.mask();
        }
        r[2] = 0;
        r[3] = 0;
        v.push(
            entry(7, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, r),
            GFP_KERNEL_ACCOUNT,
        )?;
    }
    if max_basic >= 0xd && xcr0 != 0 {
        // Sub-leaf 0: supported XCR0 bits and the area size they need.
        let size = if xcr0 & XCR0_AVX != 0 { 832 } else { 576 };
        let r0 = [(xcr0 & XCR0_GUEST_MAX) as u32, size, size, 0];
        v.push(
            entry(0xd, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, r0),
            GFP_KERNEL_ACCOUNT,
        )?;
        // Sub-leaf 1: no XSAVEOPT/XSAVEC/XSAVES offered.
        v.push(
            entry(0xd, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, [0; 4]),
            GFP_KERNEL_ACCOUNT,
        )?;
        if xcr0 & XCR0_AVX != 0 {
            let r2 = host(0xd, 2);
            v.push(
                entry(
                    0xd,
                    2,
                    KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
                    [r2[0], r2[1], 0, 0],
                ),
                GFP_KERNEL_ACCOUNT,
            )?;
        }
    }
    let max_ext = core::cmp::min(host(0x8000_0000, 0)[0], 0x8000_0008);
    let mut r = host(0x8000_0000, 0);
    r[0] = max_ext;
    v.push(entry(0x8000_0000, 0, 0, r), GFP_KERNEL_ACCOUNT)?;
    if max_ext >= 0x8000_0001 {
        let mut r = host(0x8000_0001, 0);
        r[2] &= offered::EXT1_ECX;
        r[3] &= offered::EXT1_EDX;
        v.push(entry(0x8000_0001, 0, 0, r), GFP_KERNEL_ACCOUNT)?;
    }
    // Brand string.
    for leaf in 0x8000_0002..=core::cmp::min(max_ext, 0x8000_0004) {
        v.push(entry(leaf, 0, 0, host(leaf, 0)), GFP_KERNEL_ACCOUNT)?;
    }
    if max_ext >= 0x8000_0008 {
        // Address sizes only.
        let r = host(0x8000_0008, 0);
        v.push(
            entry(0x8000_0008, 0, 0, [r[0] & ADDRESS_SIZES, 0, 0, 0]),
            GFP_KERNEL_ACCOUNT,
        )?;
    }
    Ok(v)
}
