// SPDX-License-Identifier: GPL-2.0

//! The MSRs a guest may read and write (RDMSR/WRMSR exit but for the few
//! the MSR bitmap passes through, see [`crate::vm`]) and
//! `KVM_GET/SET_MSRS`. Those with a VMCS guest
//! field live there; the SYSCALL MSRs and KERNEL_GS_BASE are kept here and
//! loaded into the processor around guest execution (see
//! [`crate::run`]); those KVM emulates in software follow its rules in
//! [`crate::msrs`]. Any other MSR gets #GP, as in KVM without
//! `ignore_msrs`.

use crate::cpuid_table::feature;
use crate::cr::{EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE};
use crate::msrs::{self, debugctl, Access, GuestCpu, SoftMsrs};
use crate::uapi::KvmCpuidEntry2;
use crate::vmcs::field;
use crate::vmcs_region::LoadedVmcs;

/// The SYSCALL MSRs, which the processor does not switch on VM entry and
/// exit: loaded for the guest around guest execution while its EFER.SCE
/// is set (see [`crate::run`]).
pub(crate) const SYSCALL_MSRS: [u32; 4] = [msr::STAR, msr::LSTAR, msr::CSTAR, msr::SFMASK];

/// MSR numbers.
pub(crate) mod msr {
    #![allow(missing_docs)]
    pub(crate) const TSC: u32 = 0x10;
    pub(crate) const APIC_BASE: u32 = 0x1b;
    pub(crate) const MTRRCAP: u32 = 0xfe;
    pub(crate) const SYSENTER_CS: u32 = 0x174;
    pub(crate) const SYSENTER_ESP: u32 = 0x175;
    pub(crate) const SYSENTER_EIP: u32 = 0x176;
    pub(crate) const MISC_ENABLE: u32 = 0x1a0;
    pub(crate) const DEBUGCTL: u32 = 0x1d9;
    pub(crate) const PAT: u32 = 0x277;
    pub(crate) const MTRR_DEF_TYPE: u32 = 0x2ff;
    pub(crate) const EFER: u32 = 0xc000_0080;
    pub(crate) const STAR: u32 = 0xc000_0081;
    pub(crate) const LSTAR: u32 = 0xc000_0082;
    pub(crate) const CSTAR: u32 = 0xc000_0083;
    pub(crate) const SFMASK: u32 = 0xc000_0084;
    pub(crate) const FS_BASE: u32 = 0xc000_0100;
    pub(crate) const GS_BASE: u32 = 0xc000_0101;
    pub(crate) const KERNEL_GS_BASE: u32 = 0xc000_0102;
}

/// The MSRs `KVM_GET_MSR_INDEX_LIST` reports, with [`msrs::LISTED`];
/// `KVM_GET/SET_MSRS` accept every MSR a guest may access.
pub(crate) const SUPPORTED: [u32; 16] = [
    msr::TSC,
    msr::APIC_BASE,
    msr::MTRRCAP,
    msr::SYSENTER_CS,
    msr::SYSENTER_ESP,
    msr::SYSENTER_EIP,
    msr::MISC_ENABLE,
    msr::PAT,
    msr::MTRR_DEF_TYPE,
    msr::STAR,
    msr::LSTAR,
    msr::CSTAR,
    msr::SFMASK,
    msr::FS_BASE,
    msr::GS_BASE,
    msr::KERNEL_GS_BASE,
];

/// EFER bits a guest may set: SCE, LME, LMA (read-only but written back by
/// guests), NXE.
pub(crate) const EFER_VALID: u64 = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;

/// What of the guest's CPUID table the MSR rules need.
pub(crate) fn guest_cpu(cpuid: &[KvmCpuidEntry2]) -> GuestCpu {
    GuestCpu {
        maxphyaddr: crate::cpuid_table::maxphyaddr(cpuid),
        x2apic: crate::cpuid_table::has_feature(cpuid, feature::X2APIC),
        tsc_adjust: crate::cpuid_table::has_feature(cpuid, feature::TSC_ADJUST),
    }
}

/// DEBUGCTL bits a guest may write without #GP: LBR and BTF, which KVM
/// drops when it cannot offer them (`vmx_set_msr()`); nothing else is
/// offered.
const DEBUGCTL_DROPPED: u64 = debugctl::LBR | debugctl::BTF;

/// Software-kept MSRs of one vCPU.
pub(crate) struct GuestMsrs {
    pub(crate) star: u64,
    pub(crate) lstar: u64,
    pub(crate) cstar: u64,
    pub(crate) sfmask: u64,
    pub(crate) kernel_gs_base: u64,
    /// The MSRs KVM emulates in software.
    pub(crate) soft: SoftMsrs,
}

impl GuestMsrs {
    /// The reset values for vCPU `id` (id 0 is the bootstrap processor).
    pub(crate) fn new(id: u32) -> Self {
        Self {
            star: 0,
            lstar: 0,
            cstar: 0,
            sfmask: 0,
            kernel_gs_base: 0,
            soft: SoftMsrs::new(id == 0),
        }
    }

    /// Reads MSR `index` for `who`; `None` if unsupported (the guest gets
    /// #GP).
    pub(crate) fn get(&self, vmcs: &LoadedVmcs<'_>, index: u32, who: Access) -> Option<u64> {
        Some(match index {
            msr::TSC => crate::arch::rdtsc(),
            msr::DEBUGCTL => vmcs.read(field::GUEST_IA32_DEBUGCTL),
            msr::SYSENTER_CS => vmcs.read(field::GUEST_SYSENTER_CS),
            msr::SYSENTER_ESP => vmcs.read(field::GUEST_SYSENTER_ESP),
            msr::SYSENTER_EIP => vmcs.read(field::GUEST_SYSENTER_EIP),
            msr::PAT => vmcs.read(field::GUEST_IA32_PAT),
            msr::EFER => vmcs.read(field::GUEST_IA32_EFER),
            msr::STAR => self.star,
            msr::LSTAR => self.lstar,
            msr::CSTAR => self.cstar,
            msr::SFMASK => self.sfmask,
            msr::FS_BASE => vmcs.read(field::GUEST_FS_BASE),
            msr::GS_BASE => vmcs.read(field::GUEST_GS_BASE),
            msr::KERNEL_GS_BASE => self.kernel_gs_base,
            _ => return self.soft.get(index, who),
        })
    }

    /// Writes MSR `index` for `who`, with the guest's CPUID table `cpuid`;
    /// `false` if unsupported or the value is invalid (the guest gets #GP).
    /// EFER is handled by the caller (it interacts with CR0 and the entry
    /// controls).
    pub(crate) fn set(
        &mut self,
        vmcs: &mut LoadedVmcs<'_>,
        index: u32,
        value: u64,
        who: Access,
        cpuid: &[KvmCpuidEntry2],
    ) -> bool {
        let canonical = is_canonical(value);
        match index {
            msr::DEBUGCTL if value & !DEBUGCTL_DROPPED == 0 => {
                vmcs.write(field::GUEST_IA32_DEBUGCTL, 0).is_ok()
            }
            msr::SYSENTER_CS => vmcs
                .write(field::GUEST_SYSENTER_CS, u64::from(value as u32))
                .is_ok(),
            msr::SYSENTER_ESP if canonical => vmcs.write(field::GUEST_SYSENTER_ESP, value).is_ok(),
            msr::SYSENTER_EIP if canonical => vmcs.write(field::GUEST_SYSENTER_EIP, value).is_ok(),
            msr::PAT if msrs::valid_pat(value) => vmcs.write(field::GUEST_IA32_PAT, value).is_ok(),
            msr::STAR => {
                self.star = value;
                true
            }
            msr::LSTAR if canonical => {
                self.lstar = value;
                true
            }
            msr::CSTAR if canonical => {
                self.cstar = value;
                true
            }
            msr::SFMASK if value >> 32 == 0 => {
                self.sfmask = value;
                true
            }
            msr::FS_BASE if canonical => vmcs.write(field::GUEST_FS_BASE, value).is_ok(),
            msr::GS_BASE if canonical => vmcs.write(field::GUEST_GS_BASE, value).is_ok(),
            msr::KERNEL_GS_BASE if canonical => {
                self.kernel_gs_base = value;
                true
            }
            // Refused values of the MSRs above fall through to here too;
            // `soft` has none of them.
            _ => self.soft.set(index, value, who, guest_cpu(cpuid)),
        }
    }
}

/// Whether `addr` is canonical with 48-bit linear addresses.
pub(crate) fn is_canonical(addr: u64) -> bool {
    ((addr as i64) << 16 >> 16) as u64 == addr
}
