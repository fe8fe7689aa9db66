// SPDX-License-Identifier: GPL-2.0

//! Rules for the instructions rvisor emulates on the guest's behalf: MOV to
//! CR0 (KVM's `kvm_set_cr0()`), MOV to and from DR4/DR5, the single-step
//! trap after an emulated instruction, and `VMCALL`'s answer. The kernel
//! crate reads and writes the VMCS; what the result is is decided here.

// Control-register, EFER and RFLAGS bits: SDM Vol. 3A, 2.5 (CR0, CR4),
// 2.2.1 (EFER) and Vol. 1, 3.4.3 (RFLAGS); KVM's names.

/// CR0.PE.
pub const CR0_PE: u64 = 1 << 0;
/// CR0.ET: 387 coprocessor type, hardwired to 1 since the i486.
pub const CR0_ET: u64 = 1 << 4;
/// CR0 after reset and INIT: CD, NW, ET (SDM Vol. 3A, 10.1.1, Table 10-1).
pub const CR0_RESET: u64 = CR0_CD | CR0_NW | CR0_ET;
/// CR0.NE.
pub const CR0_NE: u64 = 1 << 5;
/// CR0.WP: supervisor writes honour read-only pages.
pub const CR0_WP: u64 = 1 << 16;
/// CR0.NW.
pub const CR0_NW: u64 = 1 << 29;
/// CR0.CD.
pub const CR0_CD: u64 = 1 << 30;
/// CR0.PG.
pub const CR0_PG: u64 = 1 << 31;
/// CR4.VME.
pub const CR4_VME: u64 = 1 << 0;
/// CR4.PVI.
pub const CR4_PVI: u64 = 1 << 1;
/// CR4.TSD.
pub const CR4_TSD: u64 = 1 << 2;
/// CR4.DE: DR4/DR5 are reserved instead of aliases of DR6/DR7.
pub const CR4_DE: u64 = 1 << 3;
/// CR4.PSE: 4 MiB pages in 32-bit paging.
pub const CR4_PSE: u64 = 1 << 4;
/// CR4.PAE.
pub const CR4_PAE: u64 = 1 << 5;
/// CR4.MCE.
pub const CR4_MCE: u64 = 1 << 6;
/// CR4.PGE.
pub const CR4_PGE: u64 = 1 << 7;
/// CR4.PCE.
pub const CR4_PCE: u64 = 1 << 8;
/// CR4.OSFXSR.
pub const CR4_OSFXSR: u64 = 1 << 9;
/// CR4.OSXMMEXCPT.
pub const CR4_OSXMMEXCPT: u64 = 1 << 10;
/// CR4.VMXE.
pub const CR4_VMXE: u64 = 1 << 13;
/// CR4.PCIDE.
pub const CR4_PCIDE: u64 = 1 << 17;
/// CR4.OSXSAVE.
pub const CR4_OSXSAVE: u64 = 1 << 18;
/// CR4.SMAP: supervisor accesses to user pages fault unless RFLAGS.AC.
pub const CR4_SMAP: u64 = 1 << 21;
/// CR8 bits 3:0, the task-priority class; the others are reserved (SDM
/// Vol. 3A, 2.5).
pub const CR8_TPR: u64 = 0xf;
/// EFER.SCE: SYSCALL/SYSRET enabled.
pub const EFER_SCE: u64 = 1 << 0;
/// EFER.LME.
pub const EFER_LME: u64 = 1 << 8;
/// EFER.LMA.
pub const EFER_LMA: u64 = 1 << 10;
/// EFER.NXE.
pub const EFER_NXE: u64 = 1 << 11;
/// RFLAGS bit 1, reserved and always 1.
pub const RFLAGS_FIXED: u64 = 1 << 1;
/// The RFLAGS bits that are defined (CF, bit 1, PF, AF, ZF, SF, TF, IF,
/// DF, OF, IOPL, NT, RF, VM, AC, VIF, VIP, ID): the others are reserved,
/// and `KVM_SET_REGS` clears them.
pub const RFLAGS_DEFINED: u64 = 0x3f_7fd7;
/// RFLAGS.TF.
pub const RFLAGS_TF: u64 = 1 << 8;
/// RFLAGS.IF: maskable external interrupts are enabled.
pub const RFLAGS_IF: u64 = 1 << 9;
/// RFLAGS.DF: string instructions move down.
pub const RFLAGS_DF: u64 = 1 << 10;
/// RFLAGS.AC: alignment checks, and supervisor access to user pages
/// under SMAP.
pub const RFLAGS_AC: u64 = 1 << 18;
/// RFLAGS.RF: set in the image a fault pushes, so that the handler's IRET
/// does not break again on an instruction breakpoint (SDM Vol. 3A,
/// 18.3.1.1).
pub const RFLAGS_RF: u64 = 1 << 16;

/// Whether CR0 `cr0` is architecturally valid (KVM's `kvm_is_valid_cr0`):
/// no bit above 31, no NW without CD, no PG without PE.
pub fn valid_cr0(cr0: u64) -> bool {
    cr0 >> 32 == 0
        && !(cr0 & CR0_NW != 0 && cr0 & CR0_CD == 0)
        && !(cr0 & CR0_PG != 0 && cr0 & CR0_PE == 0)
}

/// What a MOV to CR0 that is allowed changes besides CR0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cr0Write {
    /// EFER after the write (LMA follows PG when LME is set).
    pub efer: u64,
    /// PAE paging outside long mode was turned on or its caching changed:
    /// the PDPTEs are loaded from CR3 (KVM's `X86_CR0_PDPTR_BITS`).
    pub load_pdptrs: bool,
}

/// A guest's MOV of `new` to CR0 when CR0 is `old`, with CR4 `cr4`, EFER
/// `efer` and CS.L `cs_l`: `None` if it raises #GP, in KVM's order
/// (`kvm_set_cr0()`). Paging may not be turned on into long mode from a
/// 64-bit code segment, nor off in 64-bit mode or with CR4.PCIDE (SDM
/// Vol. 3A, 10.8.5 and MOV CR in Vol. 2B).
pub fn mov_to_cr0(old: u64, new: u64, cr4: u64, efer: u64, cs_l: bool) -> Option<Cr0Write> {
    if !valid_cr0(new) {
        return None;
    }
    let mut efer = efer;
    let paging_on = old & CR0_PG == 0 && new & CR0_PG != 0;
    if paging_on && efer & EFER_LME != 0 {
        if cr4 & CR4_PAE == 0 || cs_l {
            return None;
        }
        efer |= EFER_LMA;
    }
    let long64 = efer & EFER_LMA != 0 && cs_l;
    if new & CR0_PG == 0 && (long64 || cr4 & CR4_PCIDE != 0) {
        return None;
    }
    if old & CR0_PG != 0 && new & CR0_PG == 0 {
        // Leaving long mode, from compatibility mode.
        efer &= !EFER_LMA;
    }
    let load_pdptrs = efer & EFER_LME == 0
        && new & CR0_PG != 0
        && cr4 & CR4_PAE != 0
        && (old ^ new) & (CR0_PG | CR0_CD | CR0_NW) != 0;
    Some(Cr0Write { efer, load_pdptrs })
}

/// Whether CR3 `cr3` has no bit at or above MAXPHYADDR (`maxphyaddr`),
/// bit 63 included, which is only PCID's no-flush bit with CR4.PCIDE
/// (rvisor offers no PCIDE): KVM's `kvm_vcpu_is_legal_cr3()`, or #GP.
pub fn legal_cr3(cr3: u64, maxphyaddr: u8) -> bool {
    cr3 & reserved_pa_bits(maxphyaddr) == 0
}

/// The bits of a physical address at and above the guest's MAXPHYADDR
/// (KVM's `rsvd_bits(maxphyaddr, 63)`, whatever value user space gave
/// CPUID.80000008H), but bit 63 always: no processor has a 64-bit
/// physical address, and a VM entry would fail on it.
fn reserved_pa_bits(maxphyaddr: u8) -> u64 {
    !0u64 << u32::from(maxphyaddr.min(63))
}

/// Whether PAE PDPTEs `p` may be loaded: no present entry with a reserved
/// bit (2:1, 8:5, or at and above MAXPHYADDR), as KVM's `load_pdptrs()`;
/// else the MOV to CR0 or CR3 raises #GP (SDM Vol. 3A, 5.4.1).
pub fn valid_pdptes(p: &[u64; 4], maxphyaddr: u8) -> bool {
    let reserved = reserved_pa_bits(maxphyaddr) | 0x1e6;
    p.iter().all(|&e| e & 1 == 0 || e & reserved == 0)
}

/// The debug register a MOV DR to or from `dr` accesses: DR4 and DR5 are
/// DR6 and DR7 without CR4.DE, and `None` (#UD) with it (KVM's
/// `kvm_require_dr()` and `kvm_get_dr()`; SDM Vol. 3B, 18.2.2).
pub fn debug_register(dr: u8, cr4: u64) -> Option<u8> {
    match dr {
        4 | 5 if cr4 & CR4_DE != 0 => None,
        4 | 5 => Some(dr + 2),
        _ => Some(dr),
    }
}

/// DR6.B0-B3: which breakpoint conditions were met.
pub const DR6_B0_B3: u64 = 0xf;
/// DR6 bits that read as 1 when nothing is reported (SDM Vol. 3B, 18.2.3; KVM's `DR6_FIXED_1`, with
/// RTM's bit 16 reserved too).
pub const DR6_FIXED_1: u64 = 0xffff_0ff0;
/// DR6 bits a MOV to DR6 sets: B0-B3, BLD, BD, BS, BT (KVM's
/// `DR6_VOLATILE`).
pub const DR6_VOLATILE: u64 = 0x0001_e00f;
/// DR7 bit 10, which reads as 1 (KVM's `DR7_FIXED_1`).
pub const DR7_FIXED_1: u64 = 1 << 10;
/// DR7 bits a MOV to DR7 keeps (KVM's `DR7_VOLATILE`).
pub const DR7_VOLATILE: u64 = 0xffff_2bff;
/// DR7.GD: general detect (SDM Vol. 3B, 18.2.4).
pub const DR7_GD: u64 = 1 << 13;
/// DR7's local and global enables of the four breakpoints, L0-G3.
pub const DR7_ENABLES: u64 = 0xff;
/// DR6.BD: the #DB came from general detect.
pub const DR6_BD: u64 = 1 << 13;
/// DR6.BS: the #DB is a single-step trap.
pub const DR6_BS: u64 = 1 << 14;

/// DR6 when a #DB caused by `cause` (DR6_BD or DR6_BS) is raised: B0-B3
/// cleared, the fixed and active-low bits set, and the cause (KVM's
/// `kvm_deliver_exception_payload()` for a #DB).
pub fn dr6_for_db(dr6: u64, cause: u64) -> u64 {
    (dr6 & !DR6_B0_B3) | DR6_FIXED_1 | cause
}

/// `-KVM_ENOSYS`: an unknown hypercall.
const KVM_ENOSYS: u64 = 1000;
/// `-KVM_EPERM`: a hypercall from CPL > 0.
const KVM_EPERM: u64 = 1;
/// `-KVM_EINVAL`.
const KVM_EINVAL: u64 = 22;
/// `-KVM_EOPNOTSUPP` (also Linux's `-EOPNOTSUPP`, the same number).
const KVM_EOPNOTSUPP: u64 = 95;

/// What `VMCALL` with RAX = `nr` and arguments `a` (RBX, RCX, RDX, RSI)
/// leaves in RAX, at `cpl`, in 64-bit mode or not (KVM's
/// `__kvm_emulate_hypercall()` for a VM with no in-kernel APIC and PV
/// features not enforced):
/// - `-KVM_EPERM` above CPL 0;
/// - 0 for `KVM_HC_VAPIC_POLL_IRQ` (1), `KVM_HC_KICK_CPU` (5) and
///   `KVM_HC_SCHED_YIELD` (11), hints with nothing to do here;
/// - `KVM_HC_CLOCK_PAIRING` (9): `-KVM_EOPNOTSUPP`, KVM's answer for any
///   clock type but the wall clock, and for that one on a host whose clock
///   is not the TSC (rvisor offers no pairing; `Documentation/uapi.rst`);
/// - `KVM_HC_SEND_IPI` (10): `-KVM_EINVAL` for an ICR (`a[3]`) with a
///   destination mode or shorthand, else `-EOPNOTSUPP`, as
///   `kvm_pv_send_ipi()` with no APIC map;
/// - `-KVM_ENOSYS` otherwise.
///
/// Outside 64-bit mode the number, the arguments and the result are 32-bit.
pub fn hypercall(nr: u64, a: [u64; 4], cpl: u8, long64: bool) -> u64 {
    let arg = |x: u64| if long64 { x } else { x & 0xffff_ffff };
    const APIC_DEST_MASK: u64 = 0x800;
    const APIC_SHORT_MASK: u64 = 0xc_0000;
    let ret = if cpl != 0 {
        KVM_EPERM.wrapping_neg()
    } else {
        match arg(nr) {
            1 | 5 | 11 => 0,
            9 => KVM_EOPNOTSUPP.wrapping_neg(),
            10 if arg(a[3]) & (APIC_DEST_MASK | APIC_SHORT_MASK) != 0 => KVM_EINVAL.wrapping_neg(),
            10 => KVM_EOPNOTSUPP.wrapping_neg(),
            _ => KVM_ENOSYS.wrapping_neg(),
        }
    };
    if long64 {
        ret
    } else {
        ret & 0xffff_ffff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PE_PG: u64 = CR0_PE | CR0_PG;

    #[test]
    fn cr0_validity() {
        assert!(valid_cr0(0x11));
        assert!(!valid_cr0(1 << 32));
        assert!(!valid_cr0(CR0_NW));
        assert!(valid_cr0(CR0_NW | CR0_CD));
        assert!(!valid_cr0(CR0_PG));
    }

    #[test]
    fn long_mode_activation() {
        let w = mov_to_cr0(1, PE_PG | 1, CR4_PAE, EFER_LME, false).unwrap();
        assert_eq!(w.efer, EFER_LME | EFER_LMA);
        assert!(!w.load_pdptrs);
        // Without PAE, or from a 64-bit code segment: #GP.
        assert_eq!(mov_to_cr0(1, PE_PG, 0, EFER_LME, false), None);
        assert_eq!(mov_to_cr0(1, PE_PG, CR4_PAE, EFER_LME, true), None);
    }

    #[test]
    fn paging_off() {
        let lm = EFER_LME | EFER_LMA;
        // In 64-bit mode: #GP; from compatibility mode it leaves long mode.
        assert_eq!(mov_to_cr0(PE_PG, CR0_PE, CR4_PAE, lm, true), None);
        let w = mov_to_cr0(PE_PG, CR0_PE, CR4_PAE, lm, false).unwrap();
        assert_eq!(w.efer, EFER_LME);
        // With PCIDE: #GP even outside 64-bit mode.
        assert_eq!(mov_to_cr0(PE_PG, CR0_PE, CR4_PCIDE, 0, false), None);
        // Plain 32-bit paging off.
        assert_eq!(
            mov_to_cr0(PE_PG, CR0_PE, 0, 0, false),
            Some(Cr0Write {
                efer: 0,
                load_pdptrs: false
            })
        );
    }

    #[test]
    fn pae_pdptrs() {
        assert!(mov_to_cr0(1, PE_PG, CR4_PAE, 0, false).unwrap().load_pdptrs);
        // CD changes with PAE paging on: reloaded, as KVM does.
        let cd = PE_PG | CR0_CD;
        assert!(
            mov_to_cr0(PE_PG, cd, CR4_PAE, 0, false)
                .unwrap()
                .load_pdptrs
        );
        // Other bits: not.
        assert!(
            !mov_to_cr0(PE_PG, PE_PG | 8, CR4_PAE, 0, false)
                .unwrap()
                .load_pdptrs
        );
        // Paging off: nothing to load.
        assert!(
            !mov_to_cr0(PE_PG, CR0_PE, CR4_PAE, 0, false)
                .unwrap()
                .load_pdptrs
        );
    }

    #[test]
    fn cr3_reserved_bits() {
        assert!(legal_cr3(0xf_ffff_f000, 36));
        assert!(!legal_cr3(0x10_0000_0000, 36));
        assert!(!legal_cr3(1 << 63, 46));
        assert!(legal_cr3(0x3fff_ffff_f000, 46));
    }

    #[test]
    fn pdptes() {
        assert!(valid_pdptes(&[0x1001, 0, 0x3001, 0x4001], 36));
        // RW (bit 1) is reserved in a PDPTE, unless the entry is not present.
        assert!(!valid_pdptes(&[0x1003, 0, 0, 0], 36));
        assert!(valid_pdptes(&[0x1002, 0, 0, 0], 36));
        assert!(!valid_pdptes(&[0x10_0000_1001, 0, 0, 0], 36));
        assert!(!valid_pdptes(&[1 << 63 | 1, 0, 0, 0], 52));
        // MAXPHYADDR as user space set it, not rounded up to 32 (KVM).
        assert!(!valid_pdptes(&[1 << 31 | 1, 0, 0, 0], 31));
        assert!(!legal_cr3(1 << 31, 31));
        assert!(legal_cr3(0x7fff_f000, 31));
        assert!(!legal_cr3(0x1000, 0));
        assert!(!legal_cr3(1 << 63, 64));
    }

    #[test]
    fn dr4_dr5() {
        assert_eq!(debug_register(4, 0), Some(6));
        assert_eq!(debug_register(5, 0), Some(7));
        assert_eq!(debug_register(4, CR4_DE), None);
        assert_eq!(debug_register(5, CR4_DE), None);
        assert_eq!(debug_register(7, CR4_DE), Some(7));
        assert_eq!(debug_register(0, 0), Some(0));
    }

    #[test]
    fn named_values() {
        // KVM's reset CR0 (kvm_vcpu_reset()) and the RFLAGS mask of
        // __set_regs() callers, as numbers.
        assert_eq!(CR0_RESET, 0x6000_0010);
        assert_eq!(DR7_FIXED_1, 0x400);
    }

    #[test]
    fn db_dr6() {
        assert_eq!(dr6_for_db(0xffff_0ff0, DR6_BS), 0xffff_4ff0);
        assert_eq!(dr6_for_db(0xffff_0ff3, DR6_BS), 0xffff_4ff0);
        assert_eq!(dr6_for_db(0, DR6_BS), 0xffff_4ff0);
        assert_eq!(dr6_for_db(0xffff_0ff1, DR6_BD), 0xffff_2ff0);
    }

    #[test]
    fn hypercalls() {
        let z = [0; 4];
        assert_eq!(hypercall(0, z, 0, true), 1000u64.wrapping_neg());
        assert_eq!(hypercall(0, z, 0, false), 0xffff_fc18);
        assert_eq!(hypercall(1, z, 0, true), 0);
        assert_eq!(hypercall(11, z, 0, false), 0);
        assert_eq!(hypercall(1, z, 3, true), u64::MAX);
        assert_eq!(hypercall(1, z, 3, false), 0xffff_ffff);
        // The number is 32-bit outside 64-bit mode.
        assert_eq!(hypercall(0x1_0000_0001, z, 0, false), 0);
        assert_eq!(hypercall(0x1_0000_0001, z, 0, true), 1000u64.wrapping_neg());
        // Clock pairing: not offered, whatever the clock type.
        assert_eq!(hypercall(9, z, 0, true), 95u64.wrapping_neg());
        assert_eq!(hypercall(9, [0, 1, 0, 0], 0, false), 0xffff_ffa1);
        // PV IPIs: an ICR with a shorthand or a logical destination is
        // invalid; any other finds no APIC map.
        assert_eq!(
            hypercall(10, [1, 0, 0, 0xfe], 0, true),
            95u64.wrapping_neg()
        );
        assert_eq!(
            hypercall(10, [1, 0, 0, 0x800], 0, true),
            22u64.wrapping_neg()
        );
        assert_eq!(
            hypercall(10, [1, 0, 0, 0xc_0000], 0, true),
            22u64.wrapping_neg()
        );
        // Outside 64-bit mode the ICR's upper half is not looked at.
        assert_eq!(hypercall(10, [1, 0, 0, 1 << 40], 0, false), 0xffff_ffa1);
        assert_eq!(
            hypercall(10, [1, 0, 0, 1 << 43], 0, true),
            95u64.wrapping_neg()
        );
    }
}
