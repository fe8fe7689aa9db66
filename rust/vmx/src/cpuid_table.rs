// SPDX-License-Identifier: GPL-2.0

//! Answering a guest's CPUID from the table user space set with
//! `KVM_SET_CPUID2`, with KVM's rules for leaves the table lacks.

use crate::cr::{EFER_LMA, EFER_LME, EFER_NXE};
use crate::uapi::{KvmCpuidEntry2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX};

fn find(table: &[KvmCpuidEntry2], function: u32, index: Option<u32>) -> Option<&KvmCpuidEntry2> {
    table.iter().find(|e| {
        e.function == function
            && match index {
                Some(i) => e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX == 0 || e.index == i,
                None => true,
            }
    })
}

/// A CPUID feature flag: bit `bit` of register `reg` (an index into
/// `[EAX, EBX, ECX, EDX]`, see [`reg`]) of leaf `function`, sub-leaf 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    /// The leaf (EAX input).
    pub function: u32,
    /// The output register: [`reg::EAX`] ... [`reg::EDX`].
    pub reg: usize,
    /// The bit in that register.
    pub bit: u32,
}

impl Feature {
    const fn new(function: u32, reg: usize, bit: u32) -> Self {
        Self { function, reg, bit }
    }

    /// The feature's bit in its register.
    pub const fn mask(self) -> u32 {
        1 << self.bit
    }

    /// The bits of `features`, which must all be in register `reg` of leaf
    /// `function` (checked: a mix-up fails the build where this is const).
    pub const fn mask_of(function: u32, reg: usize, features: &[Feature]) -> u32 {
        let mut m = 0;
        let mut i = 0;
        while i < features.len() {
            assert!(features[i].function == function && features[i].reg == reg);
            m |= features[i].mask();
            i += 1;
        }
        m
    }
}

/// Indices of the output registers in `[EAX, EBX, ECX, EDX]`.
pub mod reg {
    /// EAX.
    pub const EAX: usize = 0;
    /// EBX.
    pub const EBX: usize = 1;
    /// ECX.
    pub const ECX: usize = 2;
    /// EDX.
    pub const EDX: usize = 3;
}

/// The CPUID feature flags rvisor offers, masks or tests (SDM Vol. 2A,
/// CPUID, Tables 3-10, 3-11 and leaf 07H; AMD APM Vol. 3, E.4.2 for leaf
/// 80000001H), with the Linux names (`arch/x86/include/asm/cpufeatures.h`).
pub mod feature {
    #![allow(missing_docs)]
    use super::reg::{EBX, ECX, EDX};
    use super::Feature;

    // CPUID.01H:ECX.
    pub const SSE3: Feature = Feature::new(1, ECX, 0);
    pub const PCLMULQDQ: Feature = Feature::new(1, ECX, 1);
    pub const SSSE3: Feature = Feature::new(1, ECX, 9);
    pub const FMA: Feature = Feature::new(1, ECX, 12);
    pub const CX16: Feature = Feature::new(1, ECX, 13);
    pub const SSE4_1: Feature = Feature::new(1, ECX, 19);
    pub const SSE4_2: Feature = Feature::new(1, ECX, 20);
    pub const X2APIC: Feature = Feature::new(1, ECX, 21);
    pub const MOVBE: Feature = Feature::new(1, ECX, 22);
    pub const POPCNT: Feature = Feature::new(1, ECX, 23);
    pub const AES: Feature = Feature::new(1, ECX, 25);
    pub const XSAVE: Feature = Feature::new(1, ECX, 26);
    pub const OSXSAVE: Feature = Feature::new(1, ECX, 27);
    pub const AVX: Feature = Feature::new(1, ECX, 28);
    pub const F16C: Feature = Feature::new(1, ECX, 29);
    pub const RDRAND: Feature = Feature::new(1, ECX, 30);
    // CPUID.01H:EDX.
    pub const FPU: Feature = Feature::new(1, EDX, 0);
    pub const VME: Feature = Feature::new(1, EDX, 1);
    pub const DE: Feature = Feature::new(1, EDX, 2);
    pub const PSE: Feature = Feature::new(1, EDX, 3);
    pub const TSC: Feature = Feature::new(1, EDX, 4);
    pub const MSR: Feature = Feature::new(1, EDX, 5);
    pub const PAE: Feature = Feature::new(1, EDX, 6);
    pub const MCE: Feature = Feature::new(1, EDX, 7);
    pub const CX8: Feature = Feature::new(1, EDX, 8);
    pub const APIC: Feature = Feature::new(1, EDX, 9);
    pub const SEP: Feature = Feature::new(1, EDX, 11);
    pub const MTRR: Feature = Feature::new(1, EDX, 12);
    pub const PGE: Feature = Feature::new(1, EDX, 13);
    pub const MCA: Feature = Feature::new(1, EDX, 14);
    pub const CMOV: Feature = Feature::new(1, EDX, 15);
    pub const PAT: Feature = Feature::new(1, EDX, 16);
    pub const CLFSH: Feature = Feature::new(1, EDX, 19);
    pub const MMX: Feature = Feature::new(1, EDX, 23);
    pub const FXSR: Feature = Feature::new(1, EDX, 24);
    pub const SSE: Feature = Feature::new(1, EDX, 25);
    pub const SSE2: Feature = Feature::new(1, EDX, 26);
    // CPUID.(07H, 0):EBX.
    pub const TSC_ADJUST: Feature = Feature::new(7, EBX, 1);
    pub const BMI1: Feature = Feature::new(7, EBX, 3);
    pub const AVX2: Feature = Feature::new(7, EBX, 5);
    pub const BMI2: Feature = Feature::new(7, EBX, 8);
    pub const ERMS: Feature = Feature::new(7, EBX, 9);
    pub const ADX: Feature = Feature::new(7, EBX, 19);
    pub const CLFLUSHOPT: Feature = Feature::new(7, EBX, 23);
    // CPUID.80000001H:ECX.
    pub const LAHF_LM: Feature = Feature::new(0x8000_0001, ECX, 0);
    pub const ABM: Feature = Feature::new(0x8000_0001, ECX, 5);
    pub const PREFETCHW: Feature = Feature::new(0x8000_0001, ECX, 8);
    // CPUID.80000001H:EDX.
    pub const SYSCALL: Feature = Feature::new(0x8000_0001, EDX, 11);
    pub const NX: Feature = Feature::new(0x8000_0001, EDX, 20);
    pub const GBPAGES: Feature = Feature::new(0x8000_0001, EDX, 26);
    pub const LM: Feature = Feature::new(0x8000_0001, EDX, 29);
}

/// The feature flags `KVM_GET_SUPPORTED_CPUID` may pass on from the host:
/// what rvisor virtualizes (the host's bits are ANDed with these).
pub mod offered {
    use super::feature::*;
    use super::reg::{EBX, ECX, EDX};
    use super::Feature;

    /// CPUID.01H:ECX. Not: VMX, SMX, x2APIC, TSC deadline, PCID, MONITOR,
    /// PDCM, OSXSAVE (set per guest from its CR4).
    pub const LEAF1_ECX: u32 = Feature::mask_of(
        1,
        ECX,
        &[
            SSE3, PCLMULQDQ, SSSE3, FMA, CX16, SSE4_1, SSE4_2, MOVBE, POPCNT, AES, XSAVE, AVX,
            F16C, RDRAND,
        ],
    );
    /// CPUID.01H:ECX features that need XSAVE enabled by the host.
    pub const LEAF1_ECX_XSAVE: u32 = Feature::mask_of(1, ECX, &[XSAVE, AVX, FMA, F16C]);
    /// CPUID.01H:ECX features that need AVX state in the host's XCR0.
    pub const LEAF1_ECX_AVX: u32 = Feature::mask_of(1, ECX, &[AVX, FMA, F16C]);
    /// CPUID.01H:EDX. Not PSE36, which KVM offers; not DS, ACPI, TM, PBE,
    /// HTT.
    pub const LEAF1_EDX: u32 = Feature::mask_of(
        1,
        EDX,
        &[
            FPU, VME, DE, PSE, TSC, MSR, PAE, MCE, CX8, APIC, SEP, MTRR, PGE, MCA, CMOV, PAT,
            CLFSH, MMX, FXSR, SSE, SSE2,
        ],
    );
    /// CPUID.(07H, 0):EBX. Not FSGSBASE (its CR4 bit is not offered), SMEP,
    /// SMAP.
    pub const LEAF7_EBX: u32 = Feature::mask_of(7, EBX, &[BMI1, AVX2, BMI2, ERMS, ADX, CLFLUSHOPT]);
    /// CPUID.80000001H:ECX.
    pub const EXT1_ECX: u32 = Feature::mask_of(0x8000_0001, ECX, &[LAHF_LM, ABM, PREFETCHW]);
    /// CPUID.80000001H:EDX. Not RDTSCP.
    pub const EXT1_EDX: u32 = Feature::mask_of(0x8000_0001, EDX, &[SYSCALL, NX, GBPAGES, LM]);
}

/// Fields of CPUID.01H:EBX (SDM Vol. 2A, CPUID, Table 3-8).
pub mod leaf1_ebx {
    /// Bits 23:16, the number of addressable logical processor IDs.
    pub const LOGICAL_COUNT: u32 = 0xff << 16;
    /// Bits 31:24, the initial APIC ID.
    pub const APIC_ID: u32 = 0xff << 24;
}

/// CPUID.80000008H:EAX bits 15:0, the physical (7:0) and linear (15:8)
/// address sizes.
pub const ADDRESS_SIZES: u32 = 0xffff;

/// Whether the table has feature `f` set: a guest CPUID feature, as KVM's
/// `guest_cpuid_has()` (no out-of-range fallback).
pub fn has_feature(table: &[KvmCpuidEntry2], f: Feature) -> bool {
    find(table, f.function, Some(0))
        .is_some_and(|e| [e.eax, e.ebx, e.ecx, e.edx][f.reg] & f.mask() != 0)
}

/// Whether the guest's CPUID leaf 0 says "GenuineIntel" (KVM's
/// `is_guest_vendor_intel()`); a table without leaf 0 is not Intel's.
pub fn vendor_is_intel(table: &[KvmCpuidEntry2]) -> bool {
    // "Genu" "ineI" "ntel" in EBX, EDX, ECX.
    find(table, 0, None)
        .is_some_and(|e| (e.ebx, e.edx, e.ecx) == (0x756e_6547, 0x4965_6e69, 0x6c65_746e))
}

/// The guest's MAXPHYADDR: `CPUID.80000008H:EAX[7:0]`, or 36 where the table
/// has no such leaf (KVM's `cpuid_query_maxphyaddr()`).
pub fn maxphyaddr(table: &[KvmCpuidEntry2]) -> u8 {
    let max_ext = find(table, 0x8000_0000, None).map_or(0, |e| e.eax);
    match find(table, 0x8000_0008, None) {
        Some(e) if max_ext >= 0x8000_0008 => e.eax as u8,
        _ => 36,
    }
}

/// EFER bits that need a guest CPUID feature: LME/LMA need long mode
/// (`CPUID.80000001H:EDX.LM[29]`), NXE needs NX (`EDX[20]`); KVM refuses such
/// values without the feature.
pub fn efer_allowed(table: &[KvmCpuidEntry2], efer: u64) -> bool {
    (efer & (EFER_LME | EFER_LMA) == 0 || has_feature(table, feature::LM))
        && (efer & EFER_NXE == 0 || has_feature(table, feature::NX))
}

fn is_amd_like(basic: &KvmCpuidEntry2) -> bool {
    // "AuthenticAMD" and "HygonGenuine" in EBX, EDX, ECX order.
    matches!(
        (basic.ebx, basic.edx, basic.ecx),
        (0x6874_7541, 0x6974_6e65, 0x444d_4163) | (0x6f67_7948, 0x6e65_476e, 0x656e_6975)
    )
}

/// The vCPU state some CPUID bits follow instead of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runtime {
    /// CR4.OSXSAVE, or `None` on a host without XSAVE, where KVM leaves
    /// the table's bit as it is.
    pub osxsave: Option<bool>,
    /// APIC_BASE.EN.
    pub apic: bool,
    /// The XSAVE area size the guest's XCR0 needs (KVM's
    /// `xstate_required_size(xcr0, false)`), where the host has XSAVE.
    pub xsave_size: Option<u32>,
}

/// Entry `i` of `table` as the guest reads it: in the first entry of leaf
/// 1, `ECX.OSXSAVE[27]` is CR4.OSXSAVE and `EDX.APIC[9]` is APIC_BASE.EN, and
/// in that of leaf 0DH sub-leaf 0, EBX is the XSAVE size for the guest's
/// XCR0, whatever the table says. KVM's `kvm_update_cpuid_runtime()` rewrites
/// that entry (the first with function 1, `kvm_find_cpuid_entry()`) on
/// each change, with or without an in-kernel APIC, so `KVM_GET_CPUID2`
/// shows them too.
pub fn with_runtime(table: &[KvmCpuidEntry2], i: usize, rt: Runtime) -> KvmCpuidEntry2 {
    let mut e = table[i];
    // CPUID.(0DH, 0):EBX, the XSAVE area size for the XCR0 in use.
    if e.function == 0xd && position(table, 0xd, Some(0)) == Some(i) {
        if let Some(size) = rt.xsave_size {
            e.ebx = size;
        }
    }
    if e.function == 1 && table.iter().position(|x| x.function == 1) == Some(i) {
        if let Some(osxsave) = rt.osxsave {
            e.ecx = with_bit(e.ecx, feature::OSXSAVE, osxsave);
        }
        e.edx = with_bit(e.edx, feature::APIC, rt.apic);
    }
    e
}

/// `r` with feature `f`'s bit set to `on`.
fn with_bit(r: u32, f: Feature, on: bool) -> u32 {
    if on {
        r | f.mask()
    } else {
        r & !f.mask()
    }
}

fn position(table: &[KvmCpuidEntry2], function: u32, index: Option<u32>) -> Option<usize> {
    table.iter().position(|e| {
        e.function == function
            && match index {
                Some(i) => e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX == 0 || e.index == i,
                None => true,
            }
    })
}

/// The position in `table` of the entry CPUID(`function`, `index`)
/// reads. A leaf the table lacks reads as the highest basic leaf on
/// Intel-like vendors when it lies beyond its class's maximum (as on
/// hardware), otherwise as zeros (`None`): KVM's `kvm_cpuid()`.
fn entry(table: &[KvmCpuidEntry2], function: u32, index: u32) -> Option<usize> {
    if let Some(i) = position(table, function, Some(index)) {
        return Some(i);
    }
    let basic = find(table, 0, None)?;
    if is_amd_like(basic) {
        return None;
    }
    let class_leaf = match function {
        0x4000_0000..=0x4fff_ffff => function & 0xffff_ff00,
        0xc000_0000.. => 0xc000_0000,
        _ => function & 0x8000_0000,
    };
    if find(table, class_leaf, None).is_some_and(|class| function <= class.eax) {
        return None;
    }
    position(table, basic.eax, Some(index))
}

/// CPUID(`function`, `index`) as a guest in state `rt` reads it from
/// `table` (`entry()`, then [`with_runtime`]).
pub fn lookup(table: &[KvmCpuidEntry2], function: u32, index: u32, rt: Runtime) -> [u32; 4] {
    entry(table, function, index).map_or([0; 4], |i| {
        let e = with_runtime(table, i, rt);
        [e.eax, e.ebx, e.ecx, e.edx]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_masks() {
        // The values these masks had as literals, checked bit by bit
        // against SDM Vol. 2A Tables 3-10 and 3-11.
        assert_eq!(offered::LEAF1_ECX, 0x76d8_3203);
        assert_eq!(offered::LEAF1_EDX, 0x0789_fbff);
        assert_eq!(offered::LEAF7_EBX, 0x0088_0328);
        assert_eq!(offered::EXT1_ECX, 0x0000_0121);
        assert_eq!(offered::EXT1_EDX, 0x2410_0800);
        assert_eq!(offered::LEAF1_ECX_XSAVE, 0x3400_1000);
        assert_eq!(offered::LEAF1_ECX_AVX, 0x3000_1000);
    }

    /// Reset state: CR4.OSXSAVE clear, the APIC enabled.
    const RT: Runtime = Runtime {
        osxsave: Some(false),
        apic: true,
        xsave_size: None,
    };

    fn leaf(function: u32, eax: u32, ebx: u32) -> KvmCpuidEntry2 {
        KvmCpuidEntry2 {
            function,
            eax,
            ebx,
            ..KvmCpuidEntry2::default()
        }
    }

    #[test]
    fn exact_and_out_of_range() {
        let t = [
            leaf(0, 1, 0x756e_6547),
            leaf(1, 0x806f0, 0),
            leaf(0x8000_0000, 0x8000_0001, 0),
            leaf(0x8000_0001, 0, 0),
        ];
        assert_eq!(lookup(&t, 1, 0, RT)[0], 0x806f0);
        // Beyond the basic maximum: the max basic leaf (1).
        assert_eq!(lookup(&t, 2, 0, RT)[0], 0x806f0);
        assert_eq!(lookup(&t, 0x4fff_ffff, 0, RT)[0], 0x806f0);
        // Beyond the extended maximum: also leaf 1.
        assert_eq!(lookup(&t, 0x8000_0008, 0, RT)[0], 0x806f0);
        // Within the extended range but absent: zeros.
        let t2 = [
            leaf(0, 1, 0),
            leaf(1, 5, 0),
            leaf(0x8000_0000, 0x8000_0008, 0),
        ];
        assert_eq!(lookup(&t2, 0x8000_0002, 0, RT), [0; 4]);
        // No table: zeros.
        assert_eq!(lookup(&[], 0, 0, RT), [0; 4]);
    }

    #[test]
    fn efer_needs_features() {
        let none: [KvmCpuidEntry2; 0] = [];
        assert!(efer_allowed(&none, 1)); // SCE needs nothing
        assert!(!efer_allowed(&none, 0x500));
        let mut ext = leaf(0x8000_0001, 0, 0);
        ext.edx = 1 << 29;
        assert!(efer_allowed(&[ext], 0x500));
        assert!(!efer_allowed(&[ext], 0x800));
        ext.edx |= 1 << 20;
        assert!(efer_allowed(&[ext], 0xd01));
    }

    #[test]
    fn amd_gets_zeros_and_indices_matter() {
        let amd = [
            KvmCpuidEntry2 {
                function: 0,
                eax: 1,
                ebx: 0x6874_7541,
                edx: 0x6974_6e65,
                ecx: 0x444d_4163,
                ..KvmCpuidEntry2::default()
            },
            leaf(1, 7, 0),
        ];
        assert_eq!(lookup(&amd, 5, 0, RT), [0; 4]);
        let t = [
            leaf(0, 7, 0),
            KvmCpuidEntry2 {
                function: 7,
                index: 1,
                flags: KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
                eax: 9,
                ..KvmCpuidEntry2::default()
            },
        ];
        assert_eq!(lookup(&t, 7, 1, RT)[0], 9);
        assert_eq!(lookup(&t, 7, 0, RT), [0; 4]);
    }

    #[test]
    fn runtime_bits_follow_the_vcpu() {
        let mut one = leaf(1, 0x806f0, 0);
        one.ecx = 1 << 27;
        let t = [leaf(0, 1, 0x756e_6547), one];
        // OSXSAVE from CR4, APIC from APIC_BASE.EN, whatever the table.
        assert_eq!(lookup(&t, 1, 0, RT)[2..], [0, 1 << 9]);
        let rt = Runtime {
            osxsave: Some(true),
            apic: false,
            xsave_size: Some(576),
        };
        assert_eq!(lookup(&t, 1, 0, rt)[2..], [1 << 27, 0]);
        // A host without XSAVE: OSXSAVE as the table has it.
        let no_xsave = Runtime {
            osxsave: None,
            apic: true,
            xsave_size: None,
        };
        assert_eq!(lookup(&t, 1, 0, no_xsave)[2..], [1 << 27, 1 << 9]);
        // Also where leaf 1 stands in for a leaf beyond the maximum.
        assert_eq!(lookup(&t, 0x4fff_ffff, 0, rt)[2..], [1 << 27, 0]);
        // Other leaves as the table says.
        assert_eq!(with_runtime(&t, 0, rt), t[0]);
        // Only the first leaf-1 entry follows the vCPU, as KVM's: here an
        // indexed one, so CPUID(1, 0) reads the second as it is.
        let mut indexed = leaf(1, 0, 0);
        indexed.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
        indexed.index = 5;
        let t2 = [leaf(0, 1, 0x756e_6547), indexed, leaf(1, 0x806f0, 0)];
        assert_eq!(lookup(&t2, 1, 0, RT)[3], 0);
        assert_eq!(with_runtime(&t2, 1, RT).edx, 1 << 9);
        assert_eq!(with_runtime(&t2, 2, RT), t2[2]);
    }

    #[test]
    fn xsave_size_follows_xcr0() {
        let mut d0 = leaf(0xd, 7, 832);
        d0.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
        let mut d2 = leaf(0xd, 256, 576);
        d2.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
        d2.index = 2;
        let t = [leaf(0, 0xd, 0x756e_6547), d0, d2];
        let rt = |size| Runtime {
            osxsave: Some(true),
            apic: true,
            xsave_size: size,
        };
        assert_eq!(lookup(&t, 0xd, 0, rt(Some(576)))[1], 576);
        assert_eq!(lookup(&t, 0xd, 0, rt(Some(832)))[1], 832);
        // Sub-leaf 2 as the table has it; no XSAVE: the table's EBX.
        assert_eq!(lookup(&t, 0xd, 2, rt(Some(576)))[1], 576);
        assert_eq!(lookup(&t, 0xd, 0, rt(None))[1], 832);
    }
}
