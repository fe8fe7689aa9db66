// SPDX-License-Identifier: GPL-2.0

//! CPUID for guests: the leaves `KVM_GET_SUPPORTED_CPUID` offers (the
//! host's, minus what rvisor does not virtualize). Guests' CPUID is
//! answered by [`crate::cpuid_table::lookup`] from the table
//! `KVM_SET_CPUID2` installed.

use crate::glue;
use crate::guest_fpu::{GuestFpu, XCR0_GUEST_MAX};
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

// CPUID.1:ECX features a guest may see: SSE3, PCLMULQDQ, SSSE3, FMA,
// CX16, SSE4.1, SSE4.2, MOVBE, POPCNT, AES, XSAVE, AVX, F16C, RDRAND.
// Not: VMX, SMX, x2APIC, TSC deadline, PCID, monitor, PDCM, OSXSAVE
// (set per guest from its CR4).
const LEAF1_ECX: u32 = (1 << 0)
    | (1 << 1)
    | (1 << 9)
    | (1 << 12)
    | (1 << 13)
    | (1 << 19)
    | (1 << 20)
    | (1 << 22)
    | (1 << 23)
    | (1 << 25)
    | (1 << 26)
    | (1 << 28)
    | (1 << 29)
    | (1 << 30);
// CPUID.1:EDX: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA
// CMOV PAT CLFSH MMX FXSR SSE SSE2 (not PSE36, which KVM offers; not DS,
// ACPI, TM, PBE, HTT).
const LEAF1_EDX: u32 = 0x0789_fbff;
// CPUID.7.0:EBX: FSGSBASE? no (CR4 bit not offered); BMI1, AVX2, SMEP? no,
// BMI2, ERMS, ADX, SMAP? no, CLFLUSHOPT.
const LEAF7_EBX: u32 = (1 << 3) | (1 << 5) | (1 << 8) | (1 << 9) | (1 << 19) | (1 << 23);
// CPUID.80000001:ECX: LAHF, ABM/LZCNT, PREFETCHW.
const EXT1_ECX: u32 = (1 << 0) | (1 << 5) | (1 << 8);
// CPUID.80000001:EDX: SYSCALL, NX, 1 GiB pages, LM (not RDTSCP).
const EXT1_EDX: u32 = (1 << 11) | (1 << 20) | (1 << 26) | (1 << 29);

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
    r[1] &= 0x0000_ffff;
    r[2] &= LEAF1_ECX;
    r[3] &= LEAF1_EDX;
    let xcr0 = GuestFpu::supported_xcr0();
    if xcr0 == 0 {
        r[2] &= !((1 << 26) | (1 << 28) | (1 << 12) | (1 << 29));
    } else if xcr0 & 4 == 0 {
        r[2] &= !((1 << 28) | (1 << 12) | (1 << 29));
    }
    v.push(entry(1, 0, 0, r), GFP_KERNEL_ACCOUNT)?;
    if max_basic >= 7 {
        let mut r = host(7, 0);
        r[0] = 0;
        r[1] &= LEAF7_EBX;
        if xcr0 & 4 == 0 {
            r[1] &= !(1 << 5);
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
        let size = if xcr0 & 4 != 0 { 832 } else { 576 };
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
        if xcr0 & 4 != 0 {
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
        r[2] &= EXT1_ECX;
        r[3] &= EXT1_EDX;
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
            entry(0x8000_0008, 0, 0, [r[0] & 0xffff, 0, 0, 0]),
            GFP_KERNEL_ACCOUNT,
        )?;
    }
    Ok(v)
}
