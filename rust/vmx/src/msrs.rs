// SPDX-License-Identifier: GPL-2.0

//! The MSRs KVM emulates in software for a vCPU with no in-kernel APIC,
//! and its rules for reading and writing them: what a guest's RDMSR/WRMSR
//! and user space's `KVM_GET/SET_MSRS` get. The values below were measured
//! on kvm_intel (6.12) with `vm_exits`' MSR probe; the rules follow
//! `kvm_get_msr_common()`, `kvm_set_msr_common()`, `arch/x86/kvm/mtrr.c`
//! and `set_msr_mce()`. MSRs backed by the VMCS, and those the processor
//! switches, are the kernel crate's.

/// MSR numbers.
/// Bits of IA32_DEBUGCTL (SDM Vol. 3B, 18.4.1).
pub mod debugctl {
    /// LBR: last-branch recording.
    pub const LBR: u64 = 1 << 0;
    /// BTF: single-step on branches.
    pub const BTF: u64 = 1 << 1;
}

pub mod index {
    #![allow(missing_docs)]
    pub const KVM_WALL_CLOCK: u32 = 0x11;
    pub const KVM_SYSTEM_TIME: u32 = 0x12;
    pub const PLATFORM_ID: u32 = 0x17;
    pub const APIC_BASE: u32 = 0x1b;
    pub const EBL_CR_POWERON: u32 = 0x2a;
    pub const SMI_COUNT: u32 = 0x34;
    pub const FEATURE_CONTROL: u32 = 0x3a;
    pub const TSC_ADJUST: u32 = 0x3b;
    pub const UCODE_REV: u32 = 0x8b;
    pub const P6_PERFCTR0: u32 = 0xc1;
    pub const P6_PERFCTR1: u32 = 0xc2;
    pub const FSB_FREQ: u32 = 0xcd;
    pub const PLATFORM_INFO: u32 = 0xce;
    pub const MTRRCAP: u32 = 0xfe;
    pub const MISC_FEATURES_ENABLES: u32 = 0x140;
    pub const MCG_CAP: u32 = 0x179;
    pub const MCG_STATUS: u32 = 0x17a;
    pub const MCG_CTL: u32 = 0x17b;
    pub const P6_EVNTSEL0: u32 = 0x186;
    pub const P6_EVNTSEL1: u32 = 0x187;
    pub const MISC_ENABLE: u32 = 0x1a0;
    pub const POWER_CTL: u32 = 0x1fc;
    pub const MTRR_PHYS_BASE0: u32 = 0x200;
    pub const MTRR_PHYS_MASK7: u32 = 0x20f;
    pub const MTRR_FIX64K: u32 = 0x250;
    pub const MTRR_FIX16K_80000: u32 = 0x258;
    pub const MTRR_FIX16K_A0000: u32 = 0x259;
    pub const MTRR_FIX4K_C0000: u32 = 0x268;
    pub const MTRR_FIX4K_F8000: u32 = 0x26f;
    pub const MTRR_DEF_TYPE: u32 = 0x2ff;
    pub const MC0_CTL: u32 = 0x400;
    pub const RAPL_POWER_UNIT: u32 = 0x606;
    pub const PKG_ENERGY_STATUS: u32 = 0x611;
    pub const DRAM_ENERGY_STATUS: u32 = 0x619;
    pub const PP0_ENERGY_STATUS: u32 = 0x639;
    pub const PP1_ENERGY_STATUS: u32 = 0x641;
    pub const TSC_DEADLINE: u32 = 0x6e0;
    pub const EBC_FREQUENCY_ID: u32 = 0x2c;
    pub const HWCR: u32 = 0xc001_0015;
    pub const KVM_WALL_CLOCK_NEW: u32 = 0x4b56_4d00;
    pub const KVM_SYSTEM_TIME_NEW: u32 = 0x4b56_4d01;
    pub const KVM_ASYNC_PF_EN: u32 = 0x4b56_4d02;
    pub const KVM_STEAL_TIME: u32 = 0x4b56_4d03;
    pub const KVM_PV_EOI_EN: u32 = 0x4b56_4d04;
    pub const KVM_POLL_CONTROL: u32 = 0x4b56_4d05;
    pub const KVM_ASYNC_PF_INT: u32 = 0x4b56_4d06;
}

use index::*;

/// Machine-check banks a vCPU has (KVM's `KVM_MAX_MCE_BANKS`, the
/// MCG_CAP it starts with).
pub const MCE_BANKS: usize = 32;
/// MCG_CAP.MCG_CTL_P: MCG_CTL exists.
pub const MCG_CTL_P: u64 = 1 << 8;
/// MCG_CAP.MCG_SER_P: software error recovery.
pub const MCG_SER_P: u64 = 1 << 24;
/// What `KVM_X86_SETUP_MCE` may enable beyond the bank count and the
/// extended-register count (`KVM_X86_GET_MCE_CAP_SUPPORTED`). KVM on VMX
/// also offers LMCE and CMCI, which rvisor does not emulate.
pub const MCE_CAP_SUPPORTED: u64 = MCG_CTL_P | MCG_SER_P;
/// Variable-range MTRR pairs (KVM's `KVM_NR_VAR_MTRR`).
const VAR_MTRRS: usize = 8;
/// MTRRCAP: VCNT = 8, fixed-range MTRRs and write-combining supported.
const MTRRCAP_VALUE: u64 = 0x500 | VAR_MTRRS as u64;
/// PLATFORM_INFO: CPUID faulting supported (KVM's reset value).
const PLATFORM_INFO_CPUID_FAULT: u64 = 1 << 31;
/// MISC_ENABLE at reset: BTS and PEBS unavailable (KVM's
/// `kvm_arch_vcpu_create()`).
const MISC_ENABLE_RESET: u64 = MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
const MISC_ENABLE_EMON: u64 = 1 << 7;
const MISC_ENABLE_BTS_UNAVAIL: u64 = 1 << 11;
const MISC_ENABLE_PEBS_UNAVAIL: u64 = 1 << 12;
/// FEATURE_CONTROL.LOCK, the only bit valid for a guest without VMX or SGX.
const FEATURE_CONTROL_LOCKED: u64 = 1 << 0;
/// APIC_BASE.EN and EXTD.
const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2APIC: u64 = 1 << 10;
/// The microcode revision KVM reports (`kvm_arch_vcpu_create()`).
const UCODE_REV_RESET: u64 = 0x1_0000_0000;

/// Who accesses an MSR: the guest (RDMSR/WRMSR) or user space
/// (`KVM_GET/SET_MSRS`, which may set what a guest may not, to restore a
/// snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The guest.
    Guest,
    /// User space.
    Host,
}

/// What of the guest's CPUID the MSR rules depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestCpu {
    /// MAXPHYADDR: physical-address bits (KVM's
    /// `cpuid_query_maxphyaddr()`: 36 without leaf 0x80000008).
    pub maxphyaddr: u8,
    /// CPUID.1:ECX.x2APIC.
    pub x2apic: bool,
    /// CPUID.7.0:EBX.TSC_ADJUST.
    pub tsc_adjust: bool,
}

impl GuestCpu {
    /// Physical-address bits above MAXPHYADDR, reserved in MSRs that hold
    /// an address (KVM's `kvm_vcpu_reserved_gpa_bits_raw()`).
    fn reserved_gpa_bits(self) -> u64 {
        let bits = u32::from(self.maxphyaddr.clamp(32, 63));
        !0u64 << bits
    }
}

/// The software-kept MSRs of one vCPU.
#[derive(Debug, Clone)]
pub struct SoftMsrs {
    apic_base: u64,
    misc_enable: u64,
    feature_control: u64,
    misc_features_enables: u64,
    microcode: u64,
    platform_info: u64,
    smi_count: u64,
    tsc_adjust: u64,
    power_ctl: u64,
    hwcr: u64,
    mcg_cap: u64,
    mcg_status: u64,
    mcg_ctl: u64,
    mce_banks: [u64; 4 * MCE_BANKS],
    mtrr_var: [u64; 2 * VAR_MTRRS],
    mtrr_fixed: [u64; 11],
    mtrr_def_type: u64,
    /// kvmclock, async #PF, steal time, PV EOI, poll control: accepted and
    /// read back (rvisor offers no KVM CPUID leaves, so no guest is told
    /// to use them, and nothing is written to guest memory).
    kvm_pv: [u64; 8],
}

/// Whether `t` is a memory type MTRRs may hold (UC, WC, WT, WP, WB; not
/// PAT's UC-): KVM's `valid_mtrr_type()`.
fn valid_mtrr_type(t: u64) -> bool {
    t < 8 && (1 << t) & 0x73 != 0
}

/// Whether every byte of a PAT value is a valid memory type (0, 1, 4-7).
pub fn valid_pat(value: u64) -> bool {
    value
        .to_le_bytes()
        .iter()
        .all(|&t| matches!(t, 0 | 1 | 4..=7))
}

/// Where a fixed-range MTRR is kept, in KVM's order.
fn fixed_mtrr(index: u32) -> Option<usize> {
    match index {
        MTRR_FIX64K => Some(0),
        MTRR_FIX16K_80000 => Some(1),
        MTRR_FIX16K_A0000 => Some(2),
        MTRR_FIX4K_C0000..=MTRR_FIX4K_F8000 => Some(3 + (index - MTRR_FIX4K_C0000) as usize),
        _ => None,
    }
}

/// Where a kvmclock/PV MSR is kept.
fn kvm_pv(index: u32) -> Option<usize> {
    match index {
        KVM_WALL_CLOCK => Some(0),
        KVM_SYSTEM_TIME => Some(1),
        KVM_WALL_CLOCK_NEW..=KVM_POLL_CONTROL => Some(2 + (index - KVM_WALL_CLOCK_NEW) as usize),
        _ => None,
    }
}

/// The machine-check bank register `index` (MCi_CTL, STATUS, ADDR, MISC)
/// of the `banks` the vCPU has.
fn mce_bank(index: u32, banks: u64) -> Option<usize> {
    let off = index.checked_sub(MC0_CTL)? as usize;
    (off < 4 * (banks & 0xff) as usize).then_some(off)
}

/// The MSRs this module keeps, for `KVM_GET_MSR_INDEX_LIST` (those of KVM's
/// `emulated_msrs` it implements).
pub const LISTED: [u32; 17] = [
    KVM_WALL_CLOCK,
    KVM_SYSTEM_TIME,
    KVM_WALL_CLOCK_NEW,
    KVM_SYSTEM_TIME_NEW,
    KVM_ASYNC_PF_EN,
    KVM_STEAL_TIME,
    KVM_PV_EOI_EN,
    KVM_POLL_CONTROL,
    TSC_ADJUST,
    TSC_DEADLINE,
    MCG_STATUS,
    MCG_CTL,
    SMI_COUNT,
    PLATFORM_INFO,
    MISC_FEATURES_ENABLES,
    POWER_CTL,
    UCODE_REV,
];

impl SoftMsrs {
    /// The values of a new vCPU; `bsp` for vCPU 0, the bootstrap processor.
    pub fn new(bsp: bool) -> Self {
        let mut kvm_pv = [0; 8];
        // MSR_KVM_POLL_CONTROL starts at 1 (polling allowed).
        kvm_pv[7] = 1;
        Self {
            apic_base: 0xfee0_0000 | APIC_BASE_ENABLE | if bsp { 1 << 8 } else { 0 },
            misc_enable: MISC_ENABLE_RESET,
            feature_control: 0,
            misc_features_enables: 0,
            microcode: UCODE_REV_RESET,
            platform_info: PLATFORM_INFO_CPUID_FAULT,
            smi_count: 0,
            tsc_adjust: 0,
            power_ctl: 0,
            hwcr: 0,
            mcg_cap: MCE_BANKS as u64,
            mcg_status: 0,
            mcg_ctl: 0,
            mce_banks: [0; 4 * MCE_BANKS],
            mtrr_var: [0; 2 * VAR_MTRRS],
            mtrr_fixed: [0; 11],
            mtrr_def_type: 0,
            kvm_pv,
        }
    }

    /// Whether CPUID faulting is on (MISC_FEATURES_ENABLES bit 0): CPUID
    /// above CPL 0 raises #GP (KVM's `kvm_emulate_cpuid()`).
    pub fn cpuid_faulting(&self) -> bool {
        self.misc_features_enables & 1 != 0
    }

    /// APIC_BASE (also `kvm_sregs.apic_base`).
    pub fn apic_base(&self) -> u64 {
        self.apic_base
    }

    /// APIC_BASE.EN: whether the guest's local APIC is on.
    pub fn apic_enabled(&self) -> bool {
        self.apic_base & APIC_BASE_ENABLE != 0
    }

    /// Reads MSR `index`; `None` if it is not one of these or `who` may not
    /// read it (#GP for the guest).
    pub fn get(&self, index: u32, who: Access) -> Option<u64> {
        if let Some(i) = fixed_mtrr(index) {
            return Some(self.mtrr_fixed[i]);
        }
        if let Some(i) = kvm_pv(index) {
            return Some(self.kvm_pv[i]);
        }
        if let Some(i) = mce_bank(index, self.mcg_cap) {
            return Some(self.mce_banks[i]);
        }
        Some(match index {
            // Read as 0, as KVM: platform and power-reporting MSRs a guest
            // probes, and the P6 performance counters without a PMU.
            PLATFORM_ID | EBL_CR_POWERON | RAPL_POWER_UNIT | PKG_ENERGY_STATUS
            | DRAM_ENERGY_STATUS | PP0_ENERGY_STATUS | PP1_ENERGY_STATUS | P6_PERFCTR0
            | P6_PERFCTR1 | P6_EVNTSEL0 | P6_EVNTSEL1 | TSC_DEADLINE | KVM_ASYNC_PF_INT => 0,
            FSB_FREQ => 3,
            EBC_FREQUENCY_ID => 1 << 24,
            APIC_BASE => self.apic_base,
            SMI_COUNT => self.smi_count,
            FEATURE_CONTROL => self.feature_control,
            TSC_ADJUST => self.tsc_adjust,
            UCODE_REV => self.microcode,
            PLATFORM_INFO => self.platform_info,
            MTRRCAP => MTRRCAP_VALUE,
            MISC_FEATURES_ENABLES => self.misc_features_enables,
            MCG_CAP => self.mcg_cap,
            MCG_STATUS => self.mcg_status,
            // Without MCG_CAP.CTL_P the guest has no MCG_CTL.
            MCG_CTL if who == Access::Host || self.mcg_cap & MCG_CTL_P != 0 => self.mcg_ctl,
            MISC_ENABLE => self.misc_enable,
            POWER_CTL => self.power_ctl,
            MTRR_PHYS_BASE0..=MTRR_PHYS_MASK7 => self.mtrr_var[(index - MTRR_PHYS_BASE0) as usize],
            MTRR_DEF_TYPE => self.mtrr_def_type,
            HWCR => self.hwcr,
            _ => return None,
        })
    }

    /// Writes `value` to MSR `index`; `false` if it is not one of these, or
    /// the value or the writer is refused (#GP for the guest; the state is
    /// unchanged).
    pub fn set(&mut self, index: u32, value: u64, who: Access, cpu: GuestCpu) -> bool {
        let host = who == Access::Host;
        if let Some(i) = fixed_mtrr(index) {
            if !(0..8).all(|b| valid_mtrr_type((value >> (8 * b)) & 0xff)) {
                return false;
            }
            self.mtrr_fixed[i] = value;
            return true;
        }
        if let Some(i) = kvm_pv(index) {
            self.kvm_pv[i] = value;
            return true;
        }
        if let Some(i) = mce_bank(index, self.mcg_cap) {
            // MCi_CTL: 0 or all ones (bits 0 and 10 may be clear, for old
            // Linux and UnixWare); MCi_STATUS: only 0 from an Intel guest.
            if i % 4 == 0 && value != 0 && value | (1 << 10) | 1 != !0 {
                return false;
            }
            if i % 4 == 1 && value != 0 && !host {
                return false;
            }
            self.mce_banks[i] = value;
            return true;
        }
        match index {
            APIC_BASE => return self.set_apic_base(value, host, cpu),
            // Writes that do nothing (no PMU, no in-kernel APIC timer).
            P6_PERFCTR0 | P6_PERFCTR1 | P6_EVNTSEL0 | P6_EVNTSEL1 | TSC_DEADLINE => {}
            // The host's to set.
            SMI_COUNT if host => self.smi_count = value,
            PLATFORM_INFO if host => self.platform_info = value & PLATFORM_INFO_CPUID_FAULT,
            UCODE_REV if host => self.microcode = value,
            // A guest's microcode update does nothing.
            UCODE_REV => {}
            FEATURE_CONTROL => {
                if value & !FEATURE_CONTROL_LOCKED != 0
                    || (self.feature_control & FEATURE_CONTROL_LOCKED != 0 && !host)
                {
                    return false;
                }
                self.feature_control = value;
            }
            // Without the CPUID feature KVM ignores writes. With it, KVM
            // moves the guest's TSC by the difference; rvisor cannot offset
            // the TSC (see WRMSR to TSC in uapi.rst), so a guest may only
            // write what is there.
            TSC_ADJUST if !cpu.tsc_adjust => {}
            TSC_ADJUST if host || value == self.tsc_adjust => self.tsc_adjust = value,
            MISC_FEATURES_ENABLES => {
                // Only CPUID faulting, if PLATFORM_INFO offers it.
                if value & !1 != 0
                    || (value & 1 != 0 && self.platform_info & PLATFORM_INFO_CPUID_FAULT == 0)
                {
                    return false;
                }
                self.misc_features_enables = value;
            }
            MCG_STATUS => self.mcg_status = value,
            // 0 or all ones; without MCG_CAP.CTL_P only user space, and
            // only 0 (KVM's set_msr_mce()).
            MCG_CTL
                if (value == 0 || value == !0)
                    && (self.mcg_cap & MCG_CTL_P != 0 || (host && value == 0)) =>
            {
                self.mcg_ctl = value
            }
            MCG_CAP if host && value == self.mcg_cap => {}
            MISC_ENABLE => {
                let mut value = value;
                if !host {
                    // BTS/PEBS_UNAVAIL are read-only, EMON ignores writes.
                    let ro = MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
                    if (self.misc_enable ^ value) & ro != 0 {
                        return false;
                    }
                    value = (value & !MISC_ENABLE_EMON) | (self.misc_enable & MISC_ENABLE_EMON);
                }
                self.misc_enable = value;
            }
            POWER_CTL => self.power_ctl = value,
            MTRR_PHYS_BASE0..=MTRR_PHYS_MASK7 => {
                // Base: a valid type, bits 11:8 reserved; mask: bits 10:0
                // reserved; both: the bits above MAXPHYADDR.
                let base = index & 1 == 0;
                let reserved = cpu.reserved_gpa_bits() | if base { 0xf00 } else { 0x7ff };
                if value & reserved != 0 || (base && !valid_mtrr_type(value & 0xff)) {
                    return false;
                }
                self.mtrr_var[(index - MTRR_PHYS_BASE0) as usize] = value;
            }
            MTRR_DEF_TYPE => {
                if value & !0xcff != 0 || !valid_mtrr_type(value & 0xff) {
                    return false;
                }
                self.mtrr_def_type = value;
            }
            HWCR => {
                // Bits KVM ignores, then only McStatusWrEn and TscFreqSel.
                let value = value & !(0x40 | 0x100 | 0x8);
                if value & !((1 << 18) | (1 << 24)) != 0 {
                    return false;
                }
                self.hwcr = value;
            }
            _ => return false,
        }
        true
    }

    /// `KVM_X86_SETUP_MCE`, as KVM's kvm_vcpu_ioctl_x86_setup_mce(): 1 to
    /// 32 banks and only [`MCE_CAP_SUPPORTED`] bits (besides the bank and
    /// extended-register counts), else `false` (`EINVAL`) and nothing
    /// changes. MCG_CTL (with CTL_P) and every bank's MCi_CTL start as all
    /// ones.
    pub fn setup_mce(&mut self, mcg_cap: u64) -> bool {
        let banks = mcg_cap & 0xff;
        if banks == 0
            || banks > MCE_BANKS as u64
            || mcg_cap & !(MCE_CAP_SUPPORTED | 0xff | 0xff_0000) != 0
        {
            return false;
        }
        self.mcg_cap = mcg_cap;
        if mcg_cap & MCG_CTL_P != 0 {
            self.mcg_ctl = !0;
        }
        for b in 0..banks as usize {
            self.mce_banks[4 * b] = !0;
        }
        true
    }

    /// APIC_BASE, as KVM's `kvm_apic_set_base()`: no reserved bit (0-7, 9,
    /// above MAXPHYADDR, EXTD without x2APIC), not EXTD without EN, and a
    /// guest may not go from x2APIC to xAPIC mode nor from disabled to
    /// x2APIC.
    fn set_apic_base(&mut self, value: u64, host: bool, cpu: GuestCpu) -> bool {
        let mode = |v: u64| v & (APIC_BASE_ENABLE | APIC_BASE_X2APIC);
        let reserved =
            cpu.reserved_gpa_bits() | 0x2ff | if cpu.x2apic { 0 } else { APIC_BASE_X2APIC };
        let (old, new) = (mode(self.apic_base), mode(value));
        let both = APIC_BASE_ENABLE | APIC_BASE_X2APIC;
        if value & reserved != 0 || new == APIC_BASE_X2APIC {
            return false;
        }
        if !host && ((old == both && new == APIC_BASE_ENABLE) || (old == 0 && new == both)) {
            return false;
        }
        self.apic_base = value;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPU: GuestCpu = GuestCpu {
        maxphyaddr: 36,
        x2apic: false,
        tsc_adjust: true,
    };

    /// Each value written by the guest in turn, and what it reads back
    /// (`None`: #GP).
    fn guest_writes<const N: usize>(
        m: &mut SoftMsrs,
        index: u32,
        values: [u64; N],
    ) -> [Option<u64>; N] {
        values.map(|v| {
            m.set(index, v, Access::Guest, CPU)
                .then(|| m.get(index, Access::Guest).unwrap())
        })
    }

    // The expectations below are kvm_intel's answers to vm_exits' probe.

    #[test]
    fn reset_values() {
        let m = SoftMsrs::new(true);
        let get = |i| m.get(i, Access::Guest);
        assert_eq!(get(APIC_BASE), Some(0xfee0_0900));
        assert_eq!(get(MISC_ENABLE), Some(0x1800));
        assert_eq!(get(UCODE_REV), Some(0x1_0000_0000));
        assert_eq!(get(PLATFORM_INFO), Some(0x8000_0000));
        assert_eq!(get(MTRRCAP), Some(0x508));
        assert_eq!(get(MCG_CAP), Some(0x20));
        assert_eq!(get(KVM_POLL_CONTROL), Some(1));
        assert_eq!(get(MCG_CTL), None);
        assert_eq!(get(0x210), None);
        assert_eq!(get(0x480), None);
        assert_eq!(SoftMsrs::new(false).apic_base(), 0xfee0_0800);
    }

    #[test]
    fn setup_mce_as_qemu_does_it() {
        let mut m = SoftMsrs::new(true);
        // QEMU: MCG_CTL_P | MCG_SER_P and 10 banks, then the MSRs.
        let cap = MCG_CTL_P | MCG_SER_P | 10;
        assert!(m.setup_mce(cap));
        let host = |m: &SoftMsrs, i| m.get(i, Access::Host);
        assert_eq!(host(&m, MCG_CAP), Some(cap));
        assert_eq!(host(&m, MCG_CTL), Some(!0));
        assert_eq!(
            m.get(MCG_CTL, Access::Guest),
            Some(!0),
            "CTL_P: the guest has it"
        );
        assert_eq!(host(&m, MC0_CTL), Some(!0));
        assert_eq!(host(&m, MC0_CTL + 4 * 9), Some(!0));
        assert_eq!(host(&m, MC0_CTL + 4 * 10), None, "bank 10 does not exist");
        assert!(!m.set(MC0_CTL + 4 * 10, 0, Access::Host, CPU));
        assert!(m.set(MCG_CTL, !0, Access::Host, CPU));
        assert!(m.set(MCG_CTL, 0, Access::Guest, CPU));
        assert!(!m.set(MCG_CTL, 5, Access::Host, CPU));
        assert!(m.set(MCG_CAP, cap, Access::Host, CPU));
        assert!(!m.set(MCG_CAP, cap | 1, Access::Host, CPU));
        // Refused: no banks, too many, LMCE/CMCI (KVM has them, rvisor
        // not), a reserved bit; nothing changes.
        for bad in [
            MCG_CTL_P,
            33,
            (1 << 27) | 10,
            (1 << 10) | 10,
            (1 << 9) | 10,
            1 << 40 | 4,
        ] {
            assert!(!m.setup_mce(bad), "{bad:#x}");
            assert_eq!(host(&m, MCG_CAP), Some(cap));
        }
        // Without CTL_P: MCG_CTL is user space's to clear only.
        assert!(m.setup_mce(MCG_SER_P | 32));
        assert!(!m.set(MCG_CTL, !0, Access::Host, CPU));
        assert!(m.set(MCG_CTL, 0, Access::Host, CPU));
        assert!(!m.set(MCG_CTL, 0, Access::Guest, CPU));
    }

    #[test]
    fn apic_base() {
        let mut m = SoftMsrs::new(true);
        let r = guest_writes(
            &mut m,
            APIC_BASE,
            [
                0xfee00d00,
                0xfee00801,
                0x10_fee0_0900,
                0xfec00900,
                0xfee00000,
                0xfee00900,
            ],
        );
        assert_eq!(
            r,
            [
                None,
                None,
                None,
                Some(0xfec00900),
                Some(0xfee00000),
                Some(0xfee00900)
            ]
        );
        // With x2APIC in CPUID: into x2APIC mode, not back to xAPIC.
        let x2 = GuestCpu {
            x2apic: true,
            ..CPU
        };
        assert!(m.set(APIC_BASE, 0xfee00d00, Access::Guest, x2));
        assert!(!m.set(APIC_BASE, 0xfee00900, Access::Guest, x2));
        assert!(m.set(APIC_BASE, 0xfee00900, Access::Host, x2));
    }

    #[test]
    fn misc_enable() {
        let mut m = SoftMsrs::new(true);
        let r = guest_writes(&mut m, MISC_ENABLE, [1, 0x1801, 0x1881, 0x1800, 0x41801]);
        assert_eq!(
            r,
            [
                None,
                Some(0x1801),
                Some(0x1801),
                Some(0x1800),
                Some(0x41801)
            ]
        );
        assert!(m.set(MISC_ENABLE, 1, Access::Host, CPU));
    }

    #[test]
    fn feature_control_locks() {
        let mut m = SoftMsrs::new(true);
        assert_eq!(
            guest_writes(&mut m, FEATURE_CONTROL, [0, 4, 1]),
            [Some(0), None, Some(1)]
        );
        assert!(!m.set(FEATURE_CONTROL, 0, Access::Guest, CPU));
        assert!(m.set(FEATURE_CONTROL, 0, Access::Host, CPU));
    }

    #[test]
    fn mtrrs() {
        let mut m = SoftMsrs::new(true);
        let base = guest_writes(&mut m, 0x200, [6, 0x100_0006, 7, 0x806, 0x10_0000_0006]);
        assert_eq!(base, [Some(6), Some(0x100_0006), None, None, None]);
        let mask = guest_writes(&mut m, 0x201, [0x800, 0xf_ff00_0800, 0x801, 0x10_0000_0800]);
        assert_eq!(mask, [Some(0x800), Some(0xf_ff00_0800), None, None]);
        let fixed = guest_writes(
            &mut m,
            0x250,
            [0x0606_0606_0606_0606, 0x0202_0202_0202_0202],
        );
        assert_eq!(fixed, [Some(0x0606_0606_0606_0606), None]);
        let def = guest_writes(&mut m, 0x2ff, [0xc06, 0x7, 0x1000, 0x402, 0]);
        assert_eq!(def, [Some(0xc06), None, None, None, Some(0)]);
        assert!(!m.set(MTRRCAP, 0x508, Access::Guest, CPU));
        assert_eq!(m.get(0x26f, Access::Guest), Some(0));
    }

    #[test]
    fn machine_check_banks() {
        let mut m = SoftMsrs::new(true);
        assert_eq!(
            guest_writes(&mut m, 0x400, [0, !0, 1]),
            [Some(0), Some(!0), None]
        );
        assert_eq!(guest_writes(&mut m, 0x401, [0, 1]), [Some(0), None]);
        assert_eq!(guest_writes(&mut m, 0x402, [0x1234]), [Some(0x1234)]);
        assert_eq!(guest_writes(&mut m, 0x47c, [!0]), [Some(!0)]);
        assert_eq!(m.get(0x480, Access::Guest), None);
        assert!(m.set(0x401, 1, Access::Host, CPU));
        assert_eq!(
            guest_writes(&mut m, MCG_STATUS, [0, 1, 4]),
            [Some(0), Some(1), Some(4)]
        );
        assert!(!m.set(MCG_CTL, 0, Access::Guest, CPU));
        assert!(m.set(MCG_CTL, 0, Access::Host, CPU));
        assert!(!m.set(MCG_CAP, 0, Access::Guest, CPU));
    }

    #[test]
    fn read_only_and_ignored() {
        let mut m = SoftMsrs::new(true);
        for i in [
            PLATFORM_ID,
            EBL_CR_POWERON,
            SMI_COUNT,
            PLATFORM_INFO,
            RAPL_POWER_UNIT,
        ] {
            assert!(!m.set(i, 0, Access::Guest, CPU), "{i:#x}");
        }
        assert_eq!(guest_writes(&mut m, UCODE_REV, [0]), [Some(0x1_0000_0000)]);
        assert_eq!(guest_writes(&mut m, P6_EVNTSEL0, [0x43_0076]), [Some(0)]);
        assert_eq!(guest_writes(&mut m, TSC_DEADLINE, [0x1234]), [Some(0)]);
        assert_eq!(
            guest_writes(&mut m, 0xc001_0015, [0x40, 0x100_0000]),
            [Some(0), Some(0x100_0000)]
        );
        assert_eq!(
            guest_writes(&mut m, MISC_FEATURES_ENABLES, [2, 1]),
            [None, Some(1)]
        );
        assert_eq!(guest_writes(&mut m, TSC_ADJUST, [0, 5]), [Some(0), None]);
        let no_adjust = GuestCpu {
            tsc_adjust: false,
            ..CPU
        };
        assert!(m.set(TSC_ADJUST, 5, Access::Guest, no_adjust));
        assert_eq!(m.get(TSC_ADJUST, Access::Guest), Some(0));
        assert_eq!(
            guest_writes(&mut m, POWER_CTL, [0x4_0000]),
            [Some(0x4_0000)]
        );
        // Async #PF delivery by interrupt needs an in-kernel APIC.
        assert_eq!(m.get(KVM_ASYNC_PF_INT, Access::Guest), Some(0));
        assert!(!m.set(KVM_ASYNC_PF_INT, 0, Access::Guest, CPU));
        assert!(!m.set(0x1234_5678, 0, Access::Guest, CPU));
    }
}
