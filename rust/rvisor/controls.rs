// SPDX-License-Identifier: GPL-2.0

//! The VM-execution, exit and entry controls rvisor runs guests with,
//! chosen once per VM from the capability MSRs: what rvisor needs is
//! required (the VM cannot be created without it), bits the processor
//! forces to 1 are kept (and their exits handled).

use crate::caps::{ControlCaps, VmxCaps, MISC_TIMER_RATE};
use crate::cr::{
    CR0_CD, CR0_NE, CR0_NW, CR0_PE, CR0_PG, CR4_DE, CR4_MCE, CR4_OSFXSR, CR4_OSXMMEXCPT,
    CR4_OSXSAVE, CR4_PAE, CR4_PCE, CR4_PGE, CR4_PSE, CR4_PVI, CR4_TSD, CR4_VME,
};
use crate::vmcs::{entry_ctl, exit_ctl, pin, proc, proc2};
use crate::vmx_root::eopnotsupp;
use kernel::prelude::*;

/// CR0 bits the host owns: NE must stay 1 in VMX operation; PG changes
/// are emulated so that long-mode activation and PAE PDPTE loading are
/// exact; CD and NW are kept clear in the processor (the guest sees its
/// own values through the read shadow).
pub(crate) const CR0_HOST_OWNED: u64 = CR0_NE | CR0_PG | CR0_CD | CR0_NW;

/// CR4 bits a guest may set, and OSXSAVE where the host has XSAVE. Writes
/// of any other bit exit and get #GP.
const CR4_GUEST_BITS: u64 = CR4_VME
    | CR4_PVI
    | CR4_TSD
    | CR4_DE
    | CR4_PSE
    | CR4_PAE
    | CR4_MCE
    | CR4_PGE
    | CR4_PCE
    | CR4_OSFXSR
    | CR4_OSXMMEXCPT;

/// The chosen controls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Controls {
    pub(crate) pin: u32,
    pub(crate) proc: u32,
    pub(crate) proc2: u32,
    pub(crate) exit: u32,
    pub(crate) entry: u32,
    pub(crate) vpid: bool,
    /// CR4.VMXE and every bit the guest may not set.
    pub(crate) cr4_host_owned: u64,
    /// IA32_VMX_CR0_FIXED0, minus PE and PG (unrestricted guest).
    pub(crate) cr0_fixed0: u64,
    /// IA32_VMX_CR4_FIXED0.
    pub(crate) cr4_fixed0: u64,
    /// Whether the host has XSAVE enabled (XCR0 must be switched).
    pub(crate) xsave: bool,
    /// The VMX-preemption timer value loaded at every entry, if the
    /// processor has the timer.
    pub(crate) preemption_timer: Option<u64>,
    /// Whether INS/OUTS exits report their address size and segment
    /// (IA32_VMX_BASIC bit 54), which emulating them needs.
    pub(crate) ins_outs_info: bool,
}

fn pick(name: &str, caps: u64, required: u32, optional: u32) -> Result<u32> {
    ControlCaps(caps)
        .adjust(required, optional)
        .map_err(|missing| {
            pr_err!(
                "{} controls {:#x} not supported by this processor\n",
                name,
                missing
            );
            eopnotsupp()
        })
}

impl Controls {
    /// Chooses the controls, or `EOPNOTSUPP` if EPT or unrestricted guest
    /// is missing.
    pub(crate) fn new(caps: &VmxCaps) -> Result<Self> {
        if !caps.unrestricted_guest() {
            pr_err!("this processor lacks EPT or unrestricted guest: cannot run VMs\n");
            return Err(eopnotsupp());
        }
        let raw = caps.raw();
        // The preemption timer bounds every stay in the guest: on some
        // implementations (Bochs) external interrupts only cause exits while
        // the guest has RFLAGS.IF set, so a guest spinning with interrupts
        // off would otherwise keep its CPU from the host indefinitely.
        let pin = pick(
            "pin-based",
            raw.pinbased,
            // Virtual NMIs: the processor tracks the guest's NMI blocking
            // (from an injected NMI to its IRET), which KVM_NMI needs, as
            // KVM's enable_vnmi.
            pin::EXT_INTR_EXITING | pin::NMI_EXITING | pin::VIRTUAL_NMIS,
            pin::PREEMPTION_TIMER,
        )?;
        // Timer ticks are TSC cycles >> IA32_VMX_MISC[4:0]; aim at about
        // 2^22 cycles (1-2 ms on current processors).
        let timer_rate = (raw.misc & MISC_TIMER_RATE) as u32;
        let preemption_timer =
            (pin & pin::PREEMPTION_TIMER != 0).then(|| (1u64 << 22) >> timer_rate);
        let proc = pick(
            "processor-based",
            raw.procbased,
            proc::HLT_EXITING
                | proc::UNCOND_IO_EXITING
                | proc::USE_MSR_BITMAPS
                | proc::ACTIVATE_SECONDARY
                // CR8 is the TPR of the host's local APIC without a TPR shadow.
                | proc::CR8_LOAD_EXITING
                | proc::CR8_STORE_EXITING
                // DR0-3 and DR6 are not switched by VM entry and exit.
                | proc::MOV_DR_EXITING
                | proc::MWAIT_EXITING
                | proc::MONITOR_EXITING
                // The host's performance counters are not the guest's.
                | proc::RDPMC_EXITING,
            0,
        )?;
        // Set only while an interrupt or NMI waits for its window
        // (`run::arm_events`), but needed by every VMM that injects them,
        // as KVM's setup_vmcs_config() requires the first and enable_vnmi
        // the second.
        pick(
            "processor-based",
            raw.procbased,
            proc::INTR_WINDOW_EXITING | proc::NMI_WINDOW_EXITING,
            0,
        )?;
        let vpid = caps.vpid();
        let proc2 = pick(
            "secondary",
            raw.procbased2,
            proc2::ENABLE_EPT
                | proc2::UNRESTRICTED_GUEST
                | if vpid { proc2::ENABLE_VPID } else { 0 },
            // A guest's WBINVD would flush the caches of a CPU other tenants
            // share; with no non-coherent DMA it is a no-op, as on KVM
            // (kvm_emulate_wbinvd()).
            proc2::WBINVD_EXITING,
        )?;
        let exit = pick(
            "VM-exit",
            raw.exit,
            exit_ctl::HOST_ADDR_SPACE_SIZE
                // The guest's DR7 and DEBUGCTL are its own (loaded at entry,
                // saved at exit; exit sets DR7 to 0x400 and clears
                // DEBUGCTL, and the host's are put back after the
                // section), as KVM requires in setup_vmcs_config().
                | exit_ctl::SAVE_DEBUG_CONTROLS
                | exit_ctl::SAVE_IA32_EFER
                | exit_ctl::LOAD_IA32_EFER
                | exit_ctl::SAVE_IA32_PAT
                | exit_ctl::LOAD_IA32_PAT,
            0,
        )?;
        let entry = pick(
            "VM-entry",
            raw.entry,
            entry_ctl::LOAD_DEBUG_CONTROLS | entry_ctl::LOAD_IA32_EFER | entry_ctl::LOAD_IA32_PAT,
            0,
        )?;
        let msr = |m| crate::arch::rdmsr(m).unwrap_or(0);
        let cr0_fixed0 = msr(crate::caps::msr::CR0_FIXED0) & !(CR0_PE | CR0_PG);
        let cr4_fixed0 = msr(crate::caps::msr::CR4_FIXED0);
        let cr4_fixed1 = msr(crate::caps::msr::CR4_FIXED1);
        // SAFETY: reads a boot CPU feature flag.
        let xsave = unsafe { crate::glue::rv_has_xsave() };
        let mut cr4_guest_bits = CR4_GUEST_BITS & cr4_fixed1;
        if xsave {
            cr4_guest_bits |= CR4_OSXSAVE & cr4_fixed1;
        }
        Ok(Self {
            pin,
            proc,
            proc2,
            exit,
            entry,
            vpid,
            cr4_host_owned: !cr4_guest_bits,
            cr0_fixed0,
            cr4_fixed0,
            xsave,
            preemption_timer,
            ins_outs_info: caps.basic().ins_outs_info(),
        })
    }
}
