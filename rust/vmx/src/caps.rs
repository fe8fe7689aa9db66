// SPDX-License-Identifier: GPL-2.0

//! VMX capability reporting MSRs (Intel SDM Vol. 3D, Appendix A).
//!
//! The hypervisor reads these MSRs once and decides from them what it can
//! use; this module only decodes the raw values.

/// MSR numbers of the VMX capability MSRs and IA32_FEATURE_CONTROL.
pub mod msr {
    /// IA32_FEATURE_CONTROL: lock bit and the VMXON enable bits.
    pub const FEATURE_CONTROL: u32 = 0x3a;
    /// IA32_VMX_BASIC: VMCS revision, region size, memory type.
    pub const VMX_BASIC: u32 = 0x480;
    /// IA32_VMX_PINBASED_CTLS.
    pub const PINBASED_CTLS: u32 = 0x481;
    /// IA32_VMX_PROCBASED_CTLS.
    pub const PROCBASED_CTLS: u32 = 0x482;
    /// IA32_VMX_EXIT_CTLS.
    pub const EXIT_CTLS: u32 = 0x483;
    /// IA32_VMX_ENTRY_CTLS.
    pub const ENTRY_CTLS: u32 = 0x484;
    /// IA32_VMX_MISC.
    pub const MISC: u32 = 0x485;
    /// IA32_VMX_CR0_FIXED0: CR0 bits that must be 1 in VMX operation.
    pub const CR0_FIXED0: u32 = 0x486;
    /// IA32_VMX_CR0_FIXED1: CR0 bits that may be 1 in VMX operation.
    pub const CR0_FIXED1: u32 = 0x487;
    /// IA32_VMX_CR4_FIXED0: CR4 bits that must be 1 in VMX operation.
    pub const CR4_FIXED0: u32 = 0x488;
    /// IA32_VMX_CR4_FIXED1: CR4 bits that may be 1 in VMX operation.
    pub const CR4_FIXED1: u32 = 0x489;
    /// IA32_VMX_PROCBASED_CTLS2 (secondary processor-based controls).
    pub const PROCBASED_CTLS2: u32 = 0x48b;
    /// IA32_VMX_EPT_VPID_CAP.
    pub const EPT_VPID_CAP: u32 = 0x48c;
    /// IA32_VMX_TRUE_PINBASED_CTLS.
    pub const TRUE_PINBASED_CTLS: u32 = 0x48d;
    /// IA32_VMX_TRUE_PROCBASED_CTLS.
    pub const TRUE_PROCBASED_CTLS: u32 = 0x48e;
    /// IA32_VMX_TRUE_EXIT_CTLS.
    pub const TRUE_EXIT_CTLS: u32 = 0x48f;
    /// IA32_VMX_TRUE_ENTRY_CTLS.
    pub const TRUE_ENTRY_CTLS: u32 = 0x490;
}

/// IA32_FEATURE_CONTROL bits.
pub mod feature_control {
    /// Once set, the MSR cannot be written until reset.
    pub const LOCKED: u64 = 1 << 0;
    /// VMXON allowed inside SMX operation (TXT).
    pub const VMXON_INSIDE_SMX: u64 = 1 << 1;
    /// VMXON allowed outside SMX operation: what a hypervisor needs.
    pub const VMXON_OUTSIDE_SMX: u64 = 1 << 2;
}

/// What IA32_FEATURE_CONTROL says about using VMXON outside SMX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureControl {
    /// Locked with VMXON outside SMX enabled: ready to use.
    Enabled,
    /// Not locked yet: software may enable VMX and lock the MSR.
    Unlocked,
    /// Locked with VMXON outside SMX disabled (by firmware): VMX unusable
    /// until reset.
    LockedOff,
}

impl FeatureControl {
    /// Decodes a raw IA32_FEATURE_CONTROL value.
    pub fn decode(raw: u64) -> Self {
        if raw & feature_control::LOCKED == 0 {
            Self::Unlocked
        } else if raw & feature_control::VMXON_OUTSIDE_SMX != 0 {
            Self::Enabled
        } else {
            Self::LockedOff
        }
    }

    /// The value to write to an unlocked MSR to enable VMXON outside SMX
    /// and lock it, keeping the bits already set.
    pub fn enable_and_lock(raw: u64) -> u64 {
        raw | feature_control::LOCKED | feature_control::VMXON_OUTSIDE_SMX
    }
}

/// The write-back memory type, the only one rvisor uses for the VMCS and EPT.
pub const MEMORY_TYPE_WB: u8 = 6;

/// Decoded IA32_VMX_BASIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmxBasic(pub u64);

impl VmxBasic {
    /// VMCS revision identifier, written at the start of the VMXON region
    /// and of every VMCS (bits 30:0).
    pub fn revision_id(self) -> u32 {
        (self.0 & 0x7fff_ffff) as u32
    }

    /// Bytes to allocate for the VMXON region and each VMCS (bits 44:32).
    pub fn region_size(self) -> u32 {
        ((self.0 >> 32) & 0x1fff) as u32
    }

    /// Whether VMXON/VMCS regions must lie below 4 GiB (bit 48).
    pub fn phys_addr_32bit(self) -> bool {
        self.0 & (1 << 48) != 0
    }

    /// Memory type the processor uses to access the VMCS (bits 53:50).
    pub fn memory_type(self) -> u8 {
        ((self.0 >> 50) & 0xf) as u8
    }

    /// Whether INS/OUTS exits report instruction information (bit 54).
    pub fn ins_outs_info(self) -> bool {
        self.0 & (1 << 54) != 0
    }

    /// Whether the IA32_VMX_TRUE_*_CTLS MSRs exist (bit 55); they allow
    /// clearing some "default1" controls.
    pub fn true_controls(self) -> bool {
        self.0 & (1 << 55) != 0
    }
}

/// The allowed settings of one 32-bit VMX control field, as reported by its
/// capability MSR: low half "allowed-0" (a 1 bit must be 1), high half
/// "allowed-1" (a 0 bit must be 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlCaps(pub u64);

impl ControlCaps {
    /// Bits that must be 1.
    pub fn must_be_one(self) -> u32 {
        self.0 as u32
    }

    /// Bits that may be 1.
    pub fn may_be_one(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Whether `bits` may all be set.
    pub fn allows(self, bits: u32) -> bool {
        self.may_be_one() & bits == bits
    }

    /// Chooses a control value: every `required` bit (an error naming the
    /// unsupported ones if the processor does not allow them), each
    /// `optional` bit the processor allows, and every bit it forces to 1.
    pub fn adjust(self, required: u32, optional: u32) -> Result<u32, u32> {
        let unsupported = required & !self.may_be_one();
        if unsupported != 0 {
            return Err(unsupported);
        }
        Ok(((required | optional) & self.may_be_one()) | self.must_be_one())
    }
}

/// Primary processor-based VM-execution control: activate secondary controls.
pub const PROC_ACTIVATE_SECONDARY: u32 = 1 << 31;

/// Secondary processor-based VM-execution controls (the subset rvisor reads).
pub mod secondary {
    /// Enable EPT.
    pub const ENABLE_EPT: u32 = 1 << 1;
    /// Enable VPID.
    pub const ENABLE_VPID: u32 = 1 << 5;
    /// Unrestricted guest: real mode and unpaged protected mode under EPT.
    pub const UNRESTRICTED_GUEST: u32 = 1 << 7;
}

/// IA32_VMX_EPT_VPID_CAP bits (the subset rvisor needs).
pub mod ept_vpid {
    /// Page-walk length of 4 supported.
    pub const WALK_LENGTH_4: u64 = 1 << 6;
    /// EPT paging structures may be write-back.
    pub const MEMORY_TYPE_WB: u64 = 1 << 14;
    /// 2 MiB EPT pages.
    pub const PAGE_2M: u64 = 1 << 16;
    /// 1 GiB EPT pages.
    pub const PAGE_1G: u64 = 1 << 17;
    /// INVEPT supported.
    pub const INVEPT: u64 = 1 << 20;
    /// Single-context INVEPT.
    pub const INVEPT_SINGLE_CONTEXT: u64 = 1 << 25;
    /// All-context INVEPT.
    pub const INVEPT_ALL_CONTEXT: u64 = 1 << 26;
    /// INVVPID supported.
    pub const INVVPID: u64 = 1 << 32;
    /// Single-context INVVPID.
    pub const INVVPID_SINGLE_CONTEXT: u64 = 1 << 41;
    /// All-context INVVPID.
    pub const INVVPID_ALL_CONTEXT: u64 = 1 << 42;
}

/// The raw capability MSRs of one processor. Absent MSRs (the secondary
/// controls when they cannot be activated, EPT/VPID when neither exists, the
/// TRUE_* MSRs without [`VmxBasic::true_controls`]) read as zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawCaps {
    /// IA32_VMX_BASIC.
    pub basic: u64,
    /// IA32_VMX_(TRUE_)PINBASED_CTLS.
    pub pinbased: u64,
    /// IA32_VMX_(TRUE_)PROCBASED_CTLS.
    pub procbased: u64,
    /// IA32_VMX_PROCBASED_CTLS2, or 0.
    pub procbased2: u64,
    /// IA32_VMX_(TRUE_)EXIT_CTLS.
    pub exit: u64,
    /// IA32_VMX_(TRUE_)ENTRY_CTLS.
    pub entry: u64,
    /// IA32_VMX_MISC.
    pub misc: u64,
    /// IA32_VMX_EPT_VPID_CAP, or 0.
    pub ept_vpid: u64,
}

/// IA32_VMX_MISC bits 4:0: the VMX-preemption timer counts down once
/// every 2^X TSC cycles, X being this field (SDM Vol. 3D, A.6).
pub const MISC_TIMER_RATE: u64 = 0x1f;

/// What the processor offers, in the terms rvisor decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmxCaps {
    raw: RawCaps,
}

impl VmxCaps {
    /// Wraps the raw MSR values.
    pub fn new(raw: RawCaps) -> Self {
        Self { raw }
    }

    /// The raw MSR values.
    pub fn raw(&self) -> &RawCaps {
        &self.raw
    }

    /// IA32_VMX_BASIC, decoded.
    pub fn basic(&self) -> VmxBasic {
        VmxBasic(self.raw.basic)
    }

    /// Whether the secondary processor-based controls can be activated at
    /// all; every feature below depends on it.
    pub fn has_secondary(&self) -> bool {
        ControlCaps(self.raw.procbased).allows(PROC_ACTIVATE_SECONDARY)
    }

    fn secondary_allows(&self, bits: u32) -> bool {
        self.has_secondary() && ControlCaps(self.raw.procbased2).allows(bits)
    }

    /// EPT usable the way rvisor uses it: 4-level walk, write-back tables.
    pub fn ept(&self) -> bool {
        let need = ept_vpid::WALK_LENGTH_4 | ept_vpid::MEMORY_TYPE_WB;
        self.secondary_allows(secondary::ENABLE_EPT) && self.raw.ept_vpid & need == need
    }

    /// VPID-tagged TLB entries, with INVVPID to flush them.
    pub fn vpid(&self) -> bool {
        self.secondary_allows(secondary::ENABLE_VPID) && self.raw.ept_vpid & ept_vpid::INVVPID != 0
    }

    /// Unrestricted guest (needs EPT): the vCPU may run in real mode.
    pub fn unrestricted_guest(&self) -> bool {
        self.ept() && self.secondary_allows(secondary::UNRESTRICTED_GUEST)
    }

    /// Whether this processor's capabilities are those `other` was set up
    /// for: all CPUs of one host must agree, as one VMCS layout and one set
    /// of controls is used everywhere.
    pub fn compatible_with(&self, other: &VmxCaps) -> bool {
        self.raw == other.raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(revision: u32, size: u32, mem_type: u64, true_ctls: bool) -> u64 {
        u64::from(revision)
            | (u64::from(size) << 32)
            | (mem_type << 50)
            | (u64::from(true_ctls) << 55)
    }

    fn ctl(must: u32, may: u32) -> u64 {
        u64::from(must) | (u64::from(may) << 32)
    }

    fn full_caps() -> RawCaps {
        RawCaps {
            basic: basic(4, 0x400, 6, true),
            procbased: ctl(0x0401_e172, 0xfff9_fffe),
            procbased2: ctl(
                0,
                secondary::ENABLE_EPT | secondary::ENABLE_VPID | secondary::UNRESTRICTED_GUEST,
            ),
            ept_vpid: ept_vpid::WALK_LENGTH_4
                | ept_vpid::MEMORY_TYPE_WB
                | ept_vpid::INVEPT
                | ept_vpid::INVVPID,
            ..RawCaps::default()
        }
    }

    #[test]
    fn basic_fields() {
        let b = VmxBasic(basic(0x12, 0x1000, 6, true) | (1 << 54) | (1 << 48));
        assert_eq!(b.revision_id(), 0x12);
        assert_eq!(b.region_size(), 0x1000);
        assert_eq!(b.memory_type(), MEMORY_TYPE_WB);
        assert!(b.true_controls() && b.ins_outs_info() && b.phys_addr_32bit());
        let b = VmxBasic(basic(0x7fff_ffff, 0x400, 0, false));
        assert_eq!(b.revision_id(), 0x7fff_ffff);
        assert!(!b.true_controls() && !b.ins_outs_info() && !b.phys_addr_32bit());
    }

    #[test]
    fn revision_id_excludes_bit_31() {
        // Bit 31 of VMX_BASIC is always 0 on real hardware, but the revision
        // written to a VMXON region must never carry it (it would mean
        // "shadow VMCS").
        assert_eq!(VmxBasic(0x8000_0004).revision_id(), 4);
    }

    #[test]
    fn feature_control_states() {
        assert_eq!(FeatureControl::decode(0), FeatureControl::Unlocked);
        assert_eq!(
            FeatureControl::decode(feature_control::VMXON_OUTSIDE_SMX),
            FeatureControl::Unlocked
        );
        assert_eq!(
            FeatureControl::decode(feature_control::LOCKED),
            FeatureControl::LockedOff
        );
        assert_eq!(
            FeatureControl::decode(feature_control::LOCKED | feature_control::VMXON_INSIDE_SMX),
            FeatureControl::LockedOff
        );
        assert_eq!(
            FeatureControl::decode(feature_control::LOCKED | feature_control::VMXON_OUTSIDE_SMX),
            FeatureControl::Enabled
        );
        let enabled = FeatureControl::enable_and_lock(1 << 20);
        assert_eq!(FeatureControl::decode(enabled), FeatureControl::Enabled);
        assert_ne!(enabled & (1 << 20), 0, "other bits are kept");
    }

    #[test]
    fn adjust_honours_allowed_settings() {
        let caps = ControlCaps(ctl(0b0001, 0b0111));
        // Forced-1 bits always appear; optional bits only where allowed.
        assert_eq!(caps.adjust(0, 0), Ok(0b0001));
        assert_eq!(caps.adjust(0b0010, 0b1100), Ok(0b0111));
        // A required bit the CPU cannot set is reported, not dropped.
        assert_eq!(caps.adjust(0b1010, 0), Err(0b1000));
    }

    #[test]
    fn features_from_full_caps() {
        let caps = VmxCaps::new(full_caps());
        assert!(caps.has_secondary());
        assert!(caps.ept() && caps.vpid() && caps.unrestricted_guest());
    }

    #[test]
    fn secondary_controls_need_activation() {
        let mut raw = full_caps();
        raw.procbased = ctl(0, 0x7fff_ffff);
        let caps = VmxCaps::new(raw);
        assert!(!caps.has_secondary());
        assert!(!caps.ept() && !caps.vpid() && !caps.unrestricted_guest());
    }

    #[test]
    fn ept_needs_walk_length_and_wb() {
        for missing in [ept_vpid::WALK_LENGTH_4, ept_vpid::MEMORY_TYPE_WB] {
            let mut raw = full_caps();
            raw.ept_vpid &= !missing;
            let caps = VmxCaps::new(raw);
            assert!(!caps.ept());
            // Unrestricted guest is meaningless without EPT.
            assert!(!caps.unrestricted_guest());
            assert!(caps.vpid());
        }
    }

    #[test]
    fn vpid_needs_invvpid() {
        let mut raw = full_caps();
        raw.ept_vpid &= !ept_vpid::INVVPID;
        assert!(!VmxCaps::new(raw).vpid());
        assert!(VmxCaps::new(raw).ept());
    }

    #[test]
    fn compatibility_is_exact() {
        let a = VmxCaps::new(full_caps());
        let mut raw = full_caps();
        assert!(a.compatible_with(&VmxCaps::new(raw)));
        raw.basic ^= 1;
        assert!(!a.compatible_with(&VmxCaps::new(raw)));
    }
}
