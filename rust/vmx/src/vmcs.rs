// SPDX-License-Identifier: GPL-2.0

//! VMCS field encodings, control bits, exit reasons and the decoding of
//! exit qualifications (Intel SDM Vol. 3C, Appendix B and C, chapter 28).

/// VMCS field encodings (SDM Vol. 3D, Appendix B).
pub mod field {
    #![allow(missing_docs)]
    // 16-bit control, guest and host fields.
    pub const VIRTUAL_PROCESSOR_ID: u32 = 0x0000;
    pub const GUEST_ES_SELECTOR: u32 = 0x0800;
    pub const GUEST_CS_SELECTOR: u32 = 0x0802;
    pub const GUEST_SS_SELECTOR: u32 = 0x0804;
    pub const GUEST_DS_SELECTOR: u32 = 0x0806;
    pub const GUEST_FS_SELECTOR: u32 = 0x0808;
    pub const GUEST_GS_SELECTOR: u32 = 0x080a;
    pub const GUEST_LDTR_SELECTOR: u32 = 0x080c;
    pub const GUEST_TR_SELECTOR: u32 = 0x080e;
    pub const HOST_ES_SELECTOR: u32 = 0x0c00;
    pub const HOST_CS_SELECTOR: u32 = 0x0c02;
    pub const HOST_SS_SELECTOR: u32 = 0x0c04;
    pub const HOST_DS_SELECTOR: u32 = 0x0c06;
    pub const HOST_FS_SELECTOR: u32 = 0x0c08;
    pub const HOST_GS_SELECTOR: u32 = 0x0c0a;
    pub const HOST_TR_SELECTOR: u32 = 0x0c0c;
    // 64-bit control fields.
    pub const IO_BITMAP_A: u32 = 0x2000;
    pub const IO_BITMAP_B: u32 = 0x2002;
    pub const MSR_BITMAP: u32 = 0x2004;
    pub const EPT_POINTER: u32 = 0x201a;
    // 64-bit read-only data field.
    pub const GUEST_PHYSICAL_ADDRESS: u32 = 0x2400;
    // 64-bit guest-state fields.
    pub const VMCS_LINK_POINTER: u32 = 0x2800;
    pub const GUEST_IA32_DEBUGCTL: u32 = 0x2802;
    pub const GUEST_IA32_PAT: u32 = 0x2804;
    pub const GUEST_IA32_EFER: u32 = 0x2806;
    pub const GUEST_PDPTR0: u32 = 0x280a;
    pub const GUEST_PDPTR1: u32 = 0x280c;
    pub const GUEST_PDPTR2: u32 = 0x280e;
    pub const GUEST_PDPTR3: u32 = 0x2810;
    // 64-bit host-state fields.
    pub const HOST_IA32_PAT: u32 = 0x2c00;
    pub const HOST_IA32_EFER: u32 = 0x2c02;
    // 32-bit control fields.
    pub const PIN_BASED_VM_EXEC_CONTROL: u32 = 0x4000;
    pub const CPU_BASED_VM_EXEC_CONTROL: u32 = 0x4002;
    pub const EXCEPTION_BITMAP: u32 = 0x4004;
    pub const PAGE_FAULT_ERROR_CODE_MASK: u32 = 0x4006;
    pub const PAGE_FAULT_ERROR_CODE_MATCH: u32 = 0x4008;
    pub const CR3_TARGET_COUNT: u32 = 0x400a;
    pub const VM_EXIT_CONTROLS: u32 = 0x400c;
    pub const VM_EXIT_MSR_STORE_COUNT: u32 = 0x400e;
    pub const VM_EXIT_MSR_LOAD_COUNT: u32 = 0x4010;
    pub const VM_ENTRY_CONTROLS: u32 = 0x4012;
    pub const VM_ENTRY_MSR_LOAD_COUNT: u32 = 0x4014;
    pub const VM_ENTRY_INTR_INFO_FIELD: u32 = 0x4016;
    pub const VM_ENTRY_EXCEPTION_ERROR_CODE: u32 = 0x4018;
    pub const VM_ENTRY_INSTRUCTION_LEN: u32 = 0x401a;
    pub const SECONDARY_VM_EXEC_CONTROL: u32 = 0x401e;
    // 32-bit read-only data fields.
    pub const VM_INSTRUCTION_ERROR: u32 = 0x4400;
    pub const VM_EXIT_REASON: u32 = 0x4402;
    pub const VM_EXIT_INTR_INFO: u32 = 0x4404;
    pub const VM_EXIT_INTR_ERROR_CODE: u32 = 0x4406;
    pub const IDT_VECTORING_INFO_FIELD: u32 = 0x4408;
    pub const IDT_VECTORING_ERROR_CODE: u32 = 0x440a;
    pub const VM_EXIT_INSTRUCTION_LEN: u32 = 0x440c;
    pub const VMX_INSTRUCTION_INFO: u32 = 0x440e;
    // 32-bit guest-state fields.
    pub const GUEST_ES_LIMIT: u32 = 0x4800;
    pub const GUEST_CS_LIMIT: u32 = 0x4802;
    pub const GUEST_SS_LIMIT: u32 = 0x4804;
    pub const GUEST_DS_LIMIT: u32 = 0x4806;
    pub const GUEST_FS_LIMIT: u32 = 0x4808;
    pub const GUEST_GS_LIMIT: u32 = 0x480a;
    pub const GUEST_LDTR_LIMIT: u32 = 0x480c;
    pub const GUEST_TR_LIMIT: u32 = 0x480e;
    pub const GUEST_GDTR_LIMIT: u32 = 0x4810;
    pub const GUEST_IDTR_LIMIT: u32 = 0x4812;
    pub const GUEST_ES_AR_BYTES: u32 = 0x4814;
    pub const GUEST_CS_AR_BYTES: u32 = 0x4816;
    pub const GUEST_SS_AR_BYTES: u32 = 0x4818;
    pub const GUEST_DS_AR_BYTES: u32 = 0x481a;
    pub const GUEST_FS_AR_BYTES: u32 = 0x481c;
    pub const GUEST_GS_AR_BYTES: u32 = 0x481e;
    pub const GUEST_LDTR_AR_BYTES: u32 = 0x4820;
    pub const GUEST_TR_AR_BYTES: u32 = 0x4822;
    pub const GUEST_INTERRUPTIBILITY_INFO: u32 = 0x4824;
    pub const GUEST_ACTIVITY_STATE: u32 = 0x4826;
    pub const GUEST_SYSENTER_CS: u32 = 0x482a;
    pub const VMX_PREEMPTION_TIMER_VALUE: u32 = 0x482e;
    pub const HOST_IA32_SYSENTER_CS: u32 = 0x4c00;
    // Natural-width control fields.
    pub const CR0_GUEST_HOST_MASK: u32 = 0x6000;
    pub const CR4_GUEST_HOST_MASK: u32 = 0x6002;
    pub const CR0_READ_SHADOW: u32 = 0x6004;
    pub const CR4_READ_SHADOW: u32 = 0x6006;
    // Natural-width read-only data fields.
    pub const EXIT_QUALIFICATION: u32 = 0x6400;
    pub const GUEST_LINEAR_ADDRESS: u32 = 0x640a;
    // Natural-width guest-state fields.
    pub const GUEST_CR0: u32 = 0x6800;
    pub const GUEST_CR3: u32 = 0x6802;
    pub const GUEST_CR4: u32 = 0x6804;
    pub const GUEST_ES_BASE: u32 = 0x6806;
    pub const GUEST_CS_BASE: u32 = 0x6808;
    pub const GUEST_SS_BASE: u32 = 0x680a;
    pub const GUEST_DS_BASE: u32 = 0x680c;
    pub const GUEST_FS_BASE: u32 = 0x680e;
    pub const GUEST_GS_BASE: u32 = 0x6810;
    pub const GUEST_LDTR_BASE: u32 = 0x6812;
    pub const GUEST_TR_BASE: u32 = 0x6814;
    pub const GUEST_GDTR_BASE: u32 = 0x6816;
    pub const GUEST_IDTR_BASE: u32 = 0x6818;
    pub const GUEST_DR7: u32 = 0x681a;
    pub const GUEST_RSP: u32 = 0x681c;
    pub const GUEST_RIP: u32 = 0x681e;
    pub const GUEST_RFLAGS: u32 = 0x6820;
    pub const GUEST_PENDING_DBG_EXCEPTIONS: u32 = 0x6822;
    pub const GUEST_SYSENTER_ESP: u32 = 0x6824;
    pub const GUEST_SYSENTER_EIP: u32 = 0x6826;
    // Natural-width host-state fields.
    pub const HOST_CR0: u32 = 0x6c00;
    pub const HOST_CR3: u32 = 0x6c02;
    pub const HOST_CR4: u32 = 0x6c04;
    pub const HOST_FS_BASE: u32 = 0x6c06;
    pub const HOST_GS_BASE: u32 = 0x6c08;
    pub const HOST_TR_BASE: u32 = 0x6c0a;
    pub const HOST_GDTR_BASE: u32 = 0x6c0c;
    pub const HOST_IDTR_BASE: u32 = 0x6c0e;
    pub const HOST_IA32_SYSENTER_ESP: u32 = 0x6c10;
    pub const HOST_IA32_SYSENTER_EIP: u32 = 0x6c12;
    pub const HOST_RSP: u32 = 0x6c14;
    pub const HOST_RIP: u32 = 0x6c16;
}

/// The VMCS fields of one guest segment register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentFields {
    /// Selector field.
    pub selector: u32,
    /// Base field.
    pub base: u32,
    /// Limit field.
    pub limit: u32,
    /// Access-rights field.
    pub ar: u32,
}

/// A guest segment register, in `kvm_sregs` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Segment {
    Cs,
    Ds,
    Es,
    Fs,
    Gs,
    Ss,
    Tr,
    Ldtr,
}

impl Segment {
    /// All segment registers, in `kvm_sregs` order.
    pub const ALL: [Segment; 8] = [
        Segment::Cs,
        Segment::Ds,
        Segment::Es,
        Segment::Fs,
        Segment::Gs,
        Segment::Ss,
        Segment::Tr,
        Segment::Ldtr,
    ];

    /// The VMCS fields holding this register. Encodings of one register
    /// are spaced by 2 from ES in each group (SDM Appendix B).
    pub const fn fields(self) -> SegmentFields {
        let i = match self {
            Segment::Es => 0,
            Segment::Cs => 1,
            Segment::Ss => 2,
            Segment::Ds => 3,
            Segment::Fs => 4,
            Segment::Gs => 5,
            Segment::Ldtr => 6,
            Segment::Tr => 7,
        };
        SegmentFields {
            selector: field::GUEST_ES_SELECTOR + 2 * i,
            base: field::GUEST_ES_BASE + 2 * i,
            limit: field::GUEST_ES_LIMIT + 2 * i,
            ar: field::GUEST_ES_AR_BYTES + 2 * i,
        }
    }
}

/// Pin-based VM-execution controls.
pub mod pin {
    /// External interrupts cause VM exits.
    pub const EXT_INTR_EXITING: u32 = 1 << 0;
    /// NMIs cause VM exits.
    pub const NMI_EXITING: u32 = 1 << 3;
    /// Virtual NMIs.
    pub const VIRTUAL_NMIS: u32 = 1 << 5;
    /// The VMX-preemption timer counts down in the guest and exits at 0.
    pub const PREEMPTION_TIMER: u32 = 1 << 6;
}

/// Guest interruptibility state (SDM Vol. 3C, 25.4.2, Table 25-3).
pub mod interruptibility {
    /// Blocking by STI: the instruction after an STI that set IF.
    pub const STI: u32 = 1 << 0;
    /// Blocking by MOV SS or POP SS.
    pub const MOV_SS: u32 = 1 << 1;
    /// Blocking by NMI: an NMI handler runs, until its IRET.
    pub const NMI: u32 = 1 << 3;
}

/// Primary processor-based VM-execution controls.
pub mod proc {
    /// An exit at the first instruction boundary where the guest can take
    /// an external interrupt (RFLAGS.IF set, no STI or MOV SS blocking).
    pub const INTR_WINDOW_EXITING: u32 = 1 << 2;
    /// HLT exits.
    pub const HLT_EXITING: u32 = 1 << 7;
    /// INVLPG exits.
    pub const INVLPG_EXITING: u32 = 1 << 9;
    /// MWAIT exits.
    pub const MWAIT_EXITING: u32 = 1 << 10;
    /// RDPMC exits.
    pub const RDPMC_EXITING: u32 = 1 << 11;
    /// MOV to CR3 exits.
    pub const CR3_LOAD_EXITING: u32 = 1 << 15;
    /// MOV from CR3 exits.
    pub const CR3_STORE_EXITING: u32 = 1 << 16;
    /// MOV to CR8 exits.
    pub const CR8_LOAD_EXITING: u32 = 1 << 19;
    /// MOV from CR8 exits.
    pub const CR8_STORE_EXITING: u32 = 1 << 20;
    /// An exit at the first instruction boundary where the guest has no
    /// virtual-NMI blocking (and no MOV SS blocking).
    pub const NMI_WINDOW_EXITING: u32 = 1 << 22;
    /// MOV DR exits.
    pub const MOV_DR_EXITING: u32 = 1 << 23;
    /// Every IN/OUT/INS/OUTS exits.
    pub const UNCOND_IO_EXITING: u32 = 1 << 24;
    /// RDMSR/WRMSR exit as the MSR bitmap says.
    pub const USE_MSR_BITMAPS: u32 = 1 << 28;
    /// MONITOR exits.
    pub const MONITOR_EXITING: u32 = 1 << 29;
    /// The secondary controls apply.
    pub const ACTIVATE_SECONDARY: u32 = 1 << 31;
}

/// Secondary processor-based VM-execution controls.
pub mod proc2 {
    /// EPT.
    pub const ENABLE_EPT: u32 = 1 << 1;
    /// RDTSCP is allowed (else #UD).
    pub const ENABLE_RDTSCP: u32 = 1 << 3;
    /// VPID.
    pub const ENABLE_VPID: u32 = 1 << 5;
    /// WBINVD exits.
    pub const WBINVD_EXITING: u32 = 1 << 6;
    /// Unrestricted guest.
    pub const UNRESTRICTED_GUEST: u32 = 1 << 7;
    /// INVPCID is allowed (else #UD).
    pub const ENABLE_INVPCID: u32 = 1 << 12;
    /// XSAVES/XRSTORS are allowed (else #UD).
    pub const ENABLE_XSAVES: u32 = 1 << 20;
}

/// VM-exit controls.
pub mod exit_ctl {
    /// Save debug controls.
    pub const SAVE_DEBUG_CONTROLS: u32 = 1 << 2;
    /// The host runs in 64-bit mode after the exit.
    pub const HOST_ADDR_SPACE_SIZE: u32 = 1 << 9;
    /// Acknowledge interrupt on exit.
    pub const ACK_INTR_ON_EXIT: u32 = 1 << 15;
    /// Save guest IA32_PAT.
    pub const SAVE_IA32_PAT: u32 = 1 << 18;
    /// Load host IA32_PAT.
    pub const LOAD_IA32_PAT: u32 = 1 << 19;
    /// Save guest IA32_EFER.
    pub const SAVE_IA32_EFER: u32 = 1 << 20;
    /// Load host IA32_EFER.
    pub const LOAD_IA32_EFER: u32 = 1 << 21;
}

/// VM-entry controls.
pub mod entry_ctl {
    /// Load debug controls.
    pub const LOAD_DEBUG_CONTROLS: u32 = 1 << 2;
    /// The guest is in IA-32e mode (EFER.LMA) after entry.
    pub const IA32E_MODE: u32 = 1 << 9;
    /// Load guest IA32_PAT.
    pub const LOAD_IA32_PAT: u32 = 1 << 14;
    /// Load guest IA32_EFER.
    pub const LOAD_IA32_EFER: u32 = 1 << 15;
}

/// Basic exit reasons (SDM Vol. 3D, Appendix C).
pub mod reason {
    #![allow(missing_docs)]
    pub const EXCEPTION_NMI: u16 = 0;
    pub const EXTERNAL_INTERRUPT: u16 = 1;
    pub const TRIPLE_FAULT: u16 = 2;
    pub const INIT_SIGNAL: u16 = 3;
    pub const INTERRUPT_WINDOW: u16 = 7;
    pub const NMI_WINDOW: u16 = 8;
    pub const TASK_SWITCH: u16 = 9;
    pub const CPUID: u16 = 10;
    pub const HLT: u16 = 12;
    pub const INVD: u16 = 13;
    pub const INVLPG: u16 = 14;
    pub const RDPMC: u16 = 15;
    pub const RDTSC: u16 = 16;
    pub const VMCALL: u16 = 18;
    pub const CR_ACCESS: u16 = 28;
    pub const DR_ACCESS: u16 = 29;
    pub const IO_INSTRUCTION: u16 = 30;
    pub const MSR_READ: u16 = 31;
    pub const MSR_WRITE: u16 = 32;
    pub const INVALID_GUEST_STATE: u16 = 33;
    pub const MSR_LOAD_FAIL: u16 = 34;
    pub const MWAIT: u16 = 36;
    pub const MONITOR: u16 = 39;
    pub const PAUSE: u16 = 40;
    pub const MCE_DURING_VMENTRY: u16 = 41;
    pub const EPT_VIOLATION: u16 = 48;
    pub const EPT_MISCONFIG: u16 = 49;
    pub const PREEMPTION_TIMER: u16 = 52;
    pub const WBINVD: u16 = 54;
    pub const XSETBV: u16 = 55;
    pub const APIC_ACCESS: u16 = 44;
    pub const PML_FULL: u16 = 62;
    pub const NOTIFY: u16 = 75;
    pub const GETSEC: u16 = 11;
    pub const VMCLEAR: u16 = 19;
    pub const VMLAUNCH: u16 = 20;
    pub const VMPTRLD: u16 = 21;
    pub const VMPTRST: u16 = 22;
    pub const VMREAD: u16 = 23;
    pub const VMRESUME: u16 = 24;
    pub const VMWRITE: u16 = 25;
    pub const VMXOFF: u16 = 26;
    pub const VMXON: u16 = 27;
    pub const INVEPT: u16 = 50;
    pub const INVVPID: u16 = 53;
}

/// The exit reason field: basic reason in bits 15:0, bit 31 set when the
/// exit is a failed VM entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitReason(pub u32);

impl ExitReason {
    /// The basic exit reason.
    pub fn basic(self) -> u16 {
        self.0 as u16
    }

    /// Whether VM entry failed (invalid guest state, MSR loading, #MC).
    pub fn entry_failed(self) -> bool {
        self.0 & Self::ENTRY_FAILED != 0
    }

    /// Bit 31: VM-entry failure.
    pub const ENTRY_FAILED: u32 = 1 << 31;
}

/// Exit qualification of an I/O instruction exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoQualification(pub u64);

impl IoQualification {
    /// Access size in bytes: 1, 2 or 4.
    pub fn size(self) -> u8 {
        (self.0 & 7) as u8 + 1
    }

    /// IN (true) or OUT (false).
    pub fn is_in(self) -> bool {
        self.0 & (1 << 3) != 0
    }

    /// INS/OUTS.
    pub fn is_string(self) -> bool {
        self.0 & (1 << 4) != 0
    }

    /// REP prefixed.
    pub fn is_rep(self) -> bool {
        self.0 & (1 << 5) != 0
    }

    /// The port.
    pub fn port(self) -> u16 {
        (self.0 >> 16) as u16
    }
}

/// Exit qualification of a control-register access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrQualification(pub u64);

/// What a control-register access exit was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrAccess {
    /// MOV to CR`cr` from general register `gpr`.
    MovTo {
        /// Control register number.
        cr: u8,
        /// General register number (0 = RAX ... 15 = R15).
        gpr: u8,
    },
    /// MOV from CR`cr` to general register `gpr`.
    MovFrom {
        /// Control register number.
        cr: u8,
        /// General register number.
        gpr: u8,
    },
    /// CLTS.
    Clts,
    /// LMSW with the given 16-bit source.
    Lmsw(u16),
}

impl CrQualification {
    /// Decodes the access.
    pub fn access(self) -> CrAccess {
        let cr = (self.0 & 0xf) as u8;
        let gpr = ((self.0 >> 8) & 0xf) as u8;
        match (self.0 >> 4) & 3 {
            0 => CrAccess::MovTo { cr, gpr },
            1 => CrAccess::MovFrom { cr, gpr },
            2 => CrAccess::Clts,
            _ => CrAccess::Lmsw((self.0 >> 16) as u16),
        }
    }
}

/// Exit qualification of a MOV-DR exit (SDM Vol. 3C, 28.2.1, Table 28-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrQualification(pub u64);

impl DrQualification {
    /// Bits 2:0: the debug register.
    pub fn dr(self) -> u8 {
        (self.0 & 7) as u8
    }

    /// Bit 4: MOV from DR (true) or to DR (false).
    pub fn is_from(self) -> bool {
        self.0 & (1 << 4) != 0
    }

    /// Bits 11:8: the general register (0 = RAX ... 15 = R15).
    pub fn gpr(self) -> u8 {
        ((self.0 >> 8) & 0xf) as u8
    }
}

/// Exit qualification of an EPT violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EptViolation(pub u64);

impl EptViolation {
    /// The access was a data read.
    pub fn read(self) -> bool {
        self.0 & 1 != 0
    }

    /// The access was a data write.
    pub fn write(self) -> bool {
        self.0 & 2 != 0
    }

    /// The access was an instruction fetch.
    pub fn fetch(self) -> bool {
        self.0 & 4 != 0
    }

    /// A guest linear address caused the access (bit 7). Without one, under
    /// PAE paging, the access was the processor loading the PDPTEs.
    pub fn linear_valid(self) -> bool {
        self.0 & (1 << 7) != 0
    }

    /// The access was made by the guest's page walk, to a paging-structure
    /// entry (bit 7: a linear address is known; bit 8 clear: the access was
    /// not to the translation of that address).
    pub fn page_walk(self) -> bool {
        self.linear_valid() && self.0 & (1 << 8) == 0
    }

    /// Whether the guest-physical address was mapped at all (readable,
    /// writable or executable in the EPT entry).
    pub fn was_present(self) -> bool {
        self.0 & (7 << 3) != 0
    }
}

/// VM-entry interruption-information field (event injection).
pub mod intr_info {
    /// The field is valid.
    pub const VALID: u32 = 1 << 31;
    /// Deliver the error code.
    pub const DELIVER_ERROR_CODE: u32 = 1 << 11;
    /// Type: hardware exception.
    pub const TYPE_HARD_EXCEPTION: u32 = 3 << 8;
    /// Type: NMI.
    pub const TYPE_NMI: u32 = 2 << 8;
    /// Type: external interrupt.
    pub const TYPE_EXT_INTR: u32 = 0;
    /// Type: software interrupt (INT n).
    pub const TYPE_SOFT_INTR: u32 = 4 << 8;
    /// VM-exit interruption information (and EPT-violation qualification)
    /// bit 12: the exit came while an IRET that unblocked NMIs executed, so
    /// blocking by NMI must be set again before the IRET is re-executed
    /// (SDM Vol. 3C, 28.2.3, "NMI unblocking due to IRET").
    pub const NMI_UNBLOCKED_BY_IRET: u32 = 1 << 12;
    /// The type field, bits 10:8.
    pub const TYPE_MASK: u32 = 7 << 8;
    /// The vector field, bits 7:0.
    pub const VECTOR: u32 = 0xff;

    /// The field value injecting an NMI (vector 2).
    pub const NMI: u32 = VALID | TYPE_NMI | 2;

    /// The field value injecting external interrupt `vector`.
    pub const fn ext_interrupt(vector: u8) -> u32 {
        VALID | TYPE_EXT_INTR | vector as u32
    }

    /// The field value injecting hardware exception `vector`, with an error
    /// code if `error_code`.
    pub const fn exception(vector: u8, error_code: bool) -> u32 {
        let ec = if error_code { DELIVER_ERROR_CODE } else { 0 };
        VALID | TYPE_HARD_EXCEPTION | ec | vector as u32
    }
}

/// The event a VM entry must deliver again because the last exit came in
/// the middle of its delivery: what goes into the VM-entry
/// interruption-information, exception error code and instruction length
/// fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redelivery {
    /// VM-entry interruption information.
    pub info: u32,
    /// VM-entry exception error code, if the event pushes one.
    pub error_code: Option<u32>,
    /// VM-entry instruction length, for software interrupts and
    /// exceptions (the return address pushed is past the instruction).
    pub insn_len: Option<u32>,
    /// An NMI is delivered again: its delivery did not complete, so it
    /// blocks no NMI yet; "blocking by NMI" is cleared, as KVM does (and
    /// with virtual NMIs the entry checks require it, SDM Vol. 3C 27.3.1.5).
    pub unblock_nmi: bool,
}

impl Redelivery {
    /// From the IDT-vectoring information, IDT-vectoring error code and
    /// VM-exit instruction length of an exit (SDM Vol. 3C, 28.2.4), as KVM's
    /// `__vmx_complete_interrupts()` requeues them; `None` if no event was
    /// being delivered. Bit 12 is undefined in IDT-vectoring information and
    /// reserved on entry, so only the vector, type, error-code and valid
    /// bits are kept.
    pub fn from_vectoring(idt_info: u32, error_code: u32, exit_insn_len: u32) -> Option<Self> {
        if idt_info & intr_info::VALID == 0 {
            return None;
        }
        let info = idt_info
            & (intr_info::VALID
                | intr_info::DELIVER_ERROR_CODE
                | intr_info::TYPE_MASK
                | intr_info::VECTOR);
        let ty = info & intr_info::TYPE_MASK;
        // Types 4-6 (software interrupt, privileged and ordinary software
        // exception) need the length (SDM Vol. 3C, 27.2.1.3). KVM drops type 5
        // (INT1): re-executing it raises it again; delivering it again gives
        // the guest the same, without a second exit.
        let soft = matches!(ty >> 8, 4..=6);
        Some(Self {
            info,
            error_code: (info & intr_info::DELIVER_ERROR_CODE != 0).then_some(error_code),
            insn_len: soft.then_some(exit_insn_len),
            unblock_nmi: ty == intr_info::TYPE_NMI,
        })
    }
}

/// The VM-entry interruption information `info` for a guest now in real
/// mode (`protected` false) or not: real-mode exceptions push no error
/// code, and an entry that delivers one there fails its checks (SDM Vol.
/// 3C, 27.2.1.3). KVM strips it when it injects (`kvm_inject_exception()`);
/// rvisor, whose pending event lives in the VMCS, when user space changes
/// CR0 under it.
pub fn entry_info_for_mode(info: u32, protected: bool) -> u32 {
    if protected {
        info
    } else {
        info & !intr_info::DELIVER_ERROR_CODE
    }
}

/// Whether an exit with valid IDT-vectoring information can be handled
/// and the event delivered again: the list of KVM's `__vmx_handle_exit()`.
/// Any other such exit is reported as `KVM_INTERNAL_ERROR_DELIVERY_EV`.
pub fn handles_vectoring(basic: u16) -> bool {
    matches!(
        basic,
        reason::EXCEPTION_NMI
            | reason::EPT_VIOLATION
            | reason::PML_FULL
            | reason::APIC_ACCESS
            | reason::TASK_SWITCH
            | reason::NOTIFY
    )
}

/// Exception vectors rvisor injects.
pub mod vector {
    /// Debug exception.
    pub const DB: u8 = 1;
    /// Invalid opcode.
    pub const UD: u8 = 6;
    /// Alignment check.
    pub const AC: u8 = 17;
    /// Page fault.
    pub const PF: u8 = 14;
    /// Double fault.
    pub const DF: u8 = 8;
    /// Machine check (intercepted, for the host's handler).
    pub const MC: u8 = 18;
    /// General protection.
    pub const GP: u8 = 13;
    /// Stack-segment fault.
    pub const SS: u8 = 12;
    /// NMI (reported through the exception-or-NMI exit).
    pub const NMI: u8 = 2;

    /// Whether exception `vector` is a fault: not a trap (#DB, #BP, #OF),
    /// not an abort (#DF, #MC), not NMI (KVM's `exception_type()`, with
    /// reserved vectors faults).
    pub fn is_fault(vector: u8) -> bool {
        !matches!(vector, 1..=4 | DF | MC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_class_as_kvm() {
        let not: [u8; 6] = [vector::DB, vector::NMI, 3, 4, vector::DF, vector::MC];
        for v in 0..32u8 {
            assert_eq!(vector::is_fault(v), !not.contains(&v), "vector {v}");
        }
        assert!(vector::is_fault(vector::GP) && vector::is_fault(vector::PF));
    }

    #[test]
    fn segment_fields_follow_the_encoding_pattern() {
        let cs = Segment::Cs.fields();
        assert_eq!(cs.selector, field::GUEST_CS_SELECTOR);
        assert_eq!(cs.base, field::GUEST_CS_BASE);
        assert_eq!(cs.limit, field::GUEST_CS_LIMIT);
        assert_eq!(cs.ar, field::GUEST_CS_AR_BYTES);
        let tr = Segment::Tr.fields();
        assert_eq!(tr.selector, field::GUEST_TR_SELECTOR);
        assert_eq!(tr.base, field::GUEST_TR_BASE);
        assert_eq!(tr.limit, field::GUEST_TR_LIMIT);
        assert_eq!(tr.ar, field::GUEST_TR_AR_BYTES);
        let ldtr = Segment::Ldtr.fields();
        assert_eq!(ldtr.selector, field::GUEST_LDTR_SELECTOR);
        assert_eq!(ldtr.ar, field::GUEST_LDTR_AR_BYTES);
    }

    #[test]
    fn io_qualification() {
        // OUT DX, AL to port 0x3f8.
        let q = IoQualification(0x03f8_0000 | 0b0100_0000);
        assert_eq!((q.size(), q.is_in(), q.port()), (1, false, 0x3f8));
        // REP INSD from port 0x60.
        let q = IoQualification(0x0060_0000 | 0b0011_1011);
        assert_eq!(q.size(), 4);
        assert!(q.is_in() && q.is_string() && q.is_rep());
    }

    #[test]
    fn cr_qualification() {
        // mov cr0, rbx
        assert_eq!(
            CrQualification(0x300).access(),
            CrAccess::MovTo { cr: 0, gpr: 3 }
        );
        // mov r12, cr3
        assert_eq!(
            CrQualification(0xc13).access(),
            CrAccess::MovFrom { cr: 3, gpr: 12 }
        );
        assert_eq!(CrQualification(0x20).access(), CrAccess::Clts);
        assert_eq!(CrQualification(0x0011_0030).access(), CrAccess::Lmsw(0x11));
    }

    #[test]
    fn exit_reason_and_violation() {
        let r = ExitReason(0x8000_0021);
        assert!(r.entry_failed());
        assert_eq!(r.basic(), reason::INVALID_GUEST_STATE);
        let v = EptViolation(0b10_0010);
        assert!(v.write() && !v.read() && !v.fetch() && v.was_present());
        assert!(!EptViolation(0b001).was_present());
        assert!(EptViolation(0x81).page_walk());
        assert!(!EptViolation(0x181).page_walk());
        assert!(!EptViolation(0x1).page_walk());
    }

    #[test]
    fn redelivery() {
        assert_eq!(Redelivery::from_vectoring(0x0000_0301, 0, 2), None);
        // #DB (hardware exception, no error code); bit 12 dropped.
        assert_eq!(
            Redelivery::from_vectoring(0x8000_1301, 7, 2),
            Some(Redelivery {
                info: 0x8000_0301,
                error_code: None,
                insn_len: None,
                unblock_nmi: false
            })
        );
        // #PF with its error code.
        let pf = Redelivery::from_vectoring(0x8000_0b0e, 2, 3).unwrap();
        assert_eq!(
            (pf.info, pf.error_code, pf.insn_len),
            (0x8000_0b0e, Some(2), None)
        );
        // INT 0x21 and INT3: the instruction's length.
        let int = Redelivery::from_vectoring(0x8000_0421, 0, 2).unwrap();
        assert_eq!((int.info, int.insn_len), (0x8000_0421, Some(2)));
        assert_eq!(
            Redelivery::from_vectoring(0x8000_0603, 0, 1)
                .unwrap()
                .insn_len,
            Some(1)
        );
        assert_eq!(
            Redelivery::from_vectoring(0x8000_0501, 0, 1)
                .unwrap()
                .insn_len,
            Some(1)
        );
        // NMI: unblocked for the entry.
        let nmi = Redelivery::from_vectoring(0x8000_0202, 0, 0).unwrap();
        assert!(nmi.unblock_nmi && nmi.insn_len.is_none());
        // External interrupt.
        let ext = Redelivery::from_vectoring(0x8000_0030, 0, 0).unwrap();
        assert_eq!(
            (ext.info, ext.insn_len, ext.unblock_nmi),
            (0x8000_0030, None, false)
        );
    }

    #[test]
    fn error_code_in_real_mode() {
        assert_eq!(entry_info_for_mode(0x8000_0b0d, true), 0x8000_0b0d);
        assert_eq!(entry_info_for_mode(0x8000_0b0d, false), 0x8000_030d);
        assert_eq!(entry_info_for_mode(0x8000_0301, false), 0x8000_0301);
    }

    #[test]
    fn vectoring_exits() {
        assert!(handles_vectoring(reason::EPT_VIOLATION));
        assert!(handles_vectoring(reason::EXCEPTION_NMI));
        assert!(!handles_vectoring(reason::EPT_MISCONFIG));
        assert!(!handles_vectoring(reason::CPUID));
    }

    #[test]
    fn exception_injection() {
        assert_eq!(intr_info::exception(vector::GP, true), 0x8000_0b0d);
        assert_eq!(intr_info::exception(vector::UD, false), 0x8000_0306);
    }
}
