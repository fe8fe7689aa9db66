// SPDX-License-Identifier: GPL-2.0

//! External interrupts from a user-space interrupt controller: the rules
//! KVM applies when a VMM has no in-kernel irqchip (QEMU with
//! `kernel-irqchip=off`, or any VMM that emulates the 8259A itself), so
//! that such a VMM sees the same `kvm_run` fields and exits on rvisor.
//!
//! The protocol (`Documentation/virt/kvm/api.rst`, `KVM_INTERRUPT` and
//! `struct kvm_run`): after every `KVM_RUN` the VMM reads
//! `ready_for_interrupt_injection`; when it is set the VMM may queue one
//! vector with `KVM_INTERRUPT`, which the next entry delivers. When it is
//! clear and an interrupt waits, the VMM sets `request_interrupt_window`
//! and the run returns `KVM_EXIT_IRQ_WINDOW_OPEN` as soon as the guest can
//! take it. The VMM is trusted with nothing: a vector queued against
//! `RFLAGS.IF` is delivered anyway, as on KVM, and the processor's entry
//! checks fail the entry (`KVM_EXIT_FAIL_ENTRY`); nothing here depends on
//! it following the protocol.

use crate::cr::RFLAGS_IF;
use crate::uapi::{vcpu_events, KvmVcpuEvents, KVM_NR_INTERRUPTS};
use crate::vmcs::{interruptibility, intr_info, reason, vector};

/// The vector of a `KVM_INTERRUPT`, or `None` (`EINVAL`) if it is not one
/// (`irq >= KVM_NR_INTERRUPTS`, as `kvm_vcpu_ioctl_interrupt()` checks).
pub fn kvm_interrupt_vector(irq: u32) -> Option<u8> {
    if irq < KVM_NR_INTERRUPTS {
        Some(irq as u8)
    } else {
        None
    }
}

/// Whether the guest blocks external interrupts: RFLAGS.IF clear, or the
/// instruction after STI or MOV SS (KVM's `vmx_interrupt_blocked()`).
pub fn interrupt_blocked(rflags: u64, intr_state: u32) -> bool {
    rflags & RFLAGS_IF == 0 || intr_state & (interruptibility::STI | interruptibility::MOV_SS) != 0
}

/// Whether the guest blocks NMIs: an NMI handler runs (virtual-NMI
/// blocking, until its IRET), or an STI or MOV SS shadow (KVM's
/// `vmx_nmi_blocked()`).
pub fn nmi_blocked(intr_state: u32) -> bool {
    intr_state & (interruptibility::STI | interruptibility::MOV_SS | interruptibility::NMI) != 0
}

/// Whether interruption information (the VM-entry, VM-exit or
/// IDT-vectoring format) is valid and of type `ty` (`intr_info::TYPE_*`).
pub fn event_is(info: u32, ty: u32) -> bool {
    info & intr_info::VALID != 0 && info & intr_info::TYPE_MASK == ty
}

/// Whether NMIs are masked for [`pending_nmis`]: an NMI handler runs
/// (blocking by NMI) or an NMI's delivery is armed (KVM's `get_nmi_mask()`
/// or `nmi_injected` in `process_nmi()`).
pub fn nmi_masked(intr_state: u32, entry_info: u32) -> bool {
    intr_state & interruptibility::NMI != 0 || event_is(entry_info, intr_info::TYPE_NMI)
}

/// Whether an exit came in the middle of an IRET that had unblocked NMIs,
/// so that blocking by NMI must be set again before the IRET runs again
/// (SDM Vol. 3C, 28.2.3): bit 12 of the exit interruption information of
/// an exception exit other than #DF, or of an EPT violation's
/// qualification, and only when no event was being delivered, where the
/// bit is undefined (KVM's `vmx_recover_nmi_blocking()` and
/// `handle_ept_violation()`). `exit_intr_info` is read for exception exits
/// and `qualification` for EPT violations; the other is not looked at.
pub fn reblock_nmi_after(
    basic: u16,
    exit_intr_info: u32,
    qualification: u64,
    idt_vectoring: u32,
) -> bool {
    const UNBLOCKED: u32 = intr_info::NMI_UNBLOCKED_BY_IRET;
    if idt_vectoring & intr_info::VALID != 0 {
        return false;
    }
    match basic {
        reason::EXCEPTION_NMI => {
            event_is(exit_intr_info, intr_info::TYPE_HARD_EXCEPTION)
                && exit_intr_info & UNBLOCKED != 0
                && exit_intr_info as u8 != vector::DF
        }
        reason::EPT_VIOLATION => qualification & u64::from(UNBLOCKED) != 0,
        _ => false,
    }
}

/// NMIs pending once `queued` more came from `KVM_NMI`: at most two, one to
/// deliver now and one latched behind it, or one if an NMI is already
/// being handled or delivered (`masked`): a VMM cannot queue more, however
/// often it asks (KVM's `process_nmi()`).
pub fn pending_nmis(pending: u8, queued: u32, masked: bool) -> u8 {
    let limit = if masked { 1 } else { 2 };
    core::cmp::min(u32::from(pending).saturating_add(queued), limit) as u8
}

/// Which window exit waits for a pending NMI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NmiWindow {
    /// None: no NMI left pending.
    None,
    /// NMI-window exiting.
    Nmi,
    /// Interrupt-window exiting: in an STI shadow, which blocks NMIs on
    /// some processors but ends no NMI window (KVM's
    /// `vmx_enable_nmi_window()`).
    Interrupt,
}

/// What the next entry does with `pending` NMIs: deliver one if nothing
/// else is delivered (`entry_info`) and the guest does not block NMIs, and
/// wait for a window for the rest (KVM's `kvm_check_and_inject_events()`).
pub fn plan_nmi(pending: u8, entry_info: u32, intr_state: u32) -> (bool, NmiWindow) {
    if pending == 0 {
        return (false, NmiWindow::None);
    }
    let entry_free = entry_info & intr_info::VALID == 0;
    let inject = entry_free && !nmi_blocked(intr_state);
    // The delivery of another event ends an STI shadow: after it, only
    // virtual-NMI blocking can hold the NMI back.
    let window = if pending == u8::from(inject) {
        NmiWindow::None
    } else if entry_free && intr_state & interruptibility::STI != 0 {
        NmiWindow::Interrupt
    } else {
        NmiWindow::Nmi
    };
    (inject, window)
}

/// What decides `ready_for_interrupt_injection`, read at the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventState {
    /// Guest RFLAGS.
    pub rflags: u64,
    /// Guest interruptibility state.
    pub intr_state: u32,
    /// The VM-entry interruption information: an event the next entry
    /// delivers (an interrupted delivery, an injected exception).
    pub entry_info: u32,
    /// A `KVM_INTERRUPT` vector not yet armed in the VMCS.
    pub queued: Option<u8>,
    /// An exception decided but not yet armed.
    pub exception_pending: bool,
}

impl EventState {
    /// KVM's `kvm_vcpu_ready_for_interrupt_injection()` without an
    /// in-kernel irqchip: the guest takes interrupts now, no vector is
    /// queued (`kvm_cpu_accept_dm_intr()`), and no event waits to be
    /// delivered, so that user space may also deliver one itself by
    /// editing the registers, at an instruction boundary.
    pub fn ready_for_injection(&self) -> bool {
        !interrupt_blocked(self.rflags, self.intr_state)
            && self.queued.is_none()
            && self.entry_info & intr_info::VALID == 0
            && !self.exception_pending
    }
}

/// The VM-entry interruption information that delivers the queued vector
/// at the next entry, or `None` if nothing is queued or the entry already
/// delivers an event (an interrupted delivery or an exception goes first,
/// as in KVM's `kvm_check_and_inject_events()`, and the vector is lost,
/// see [`queue_after_entry`]).
pub fn arm_queued(entry_info: u32, queued: Option<u8>) -> Option<u32> {
    match queued {
        Some(vector) if entry_info & intr_info::VALID == 0 => {
            Some(intr_info::ext_interrupt(vector))
        }
        _ => None,
    }
}

/// The queue after an entry: an entry that happened ends it, whether it
/// delivered the vector or another event took its place (a single-step
/// #DB after an instruction user space completed, an exception whose
/// delivery an exit interrupted), as KVM's `vmx_complete_interrupts()`
/// clears the queue at every exit; a delivery the exit interrupted puts the
/// vector back from the IDT-vectoring information. An entry that failed
/// delivered nothing and keeps it. A vector never waits in the queue for
/// a later entry, when the guest may have turned interrupts off.
pub fn queue_after_entry(queued: Option<u8>, entered: bool) -> Option<u8> {
    if entered {
        None
    } else {
        queued
    }
}

/// `kvm_run.cr8` as user space left it, checked as `kvm_set_cr8()` does on
/// every `KVM_RUN` (`EINVAL` for bits above the four of the TPR).
pub fn run_cr8(cr8: u64) -> Option<u64> {
    (cr8 & !crate::cr::CR8_TPR == 0).then_some(cr8)
}

/// Whether `KVM_SET_MP_STATE` accepts `state` for a vCPU without an
/// in-kernel APIC: only RUNNABLE, the state such a vCPU is always in; the
/// APIC states (HALTED, INIT/SIPI, UNINITIALIZED, AP reset hold) need the
/// in-kernel APIC and anything else is no x86 state
/// (`kvm_arch_vcpu_ioctl_set_mpstate()`: `EINVAL`).
pub fn mp_state_settable(state: u32) -> bool {
    state == crate::uapi::mp_state::RUNNABLE
}

/// Whether `KVM_SET_VCPU_EVENTS` takes `ev` (else `EINVAL`, and nothing
/// changes): KVM's checks in `kvm_vcpu_ioctl_x86_set_vcpu_events()` for a
/// VM that enabled neither `KVM_CAP_EXCEPTION_PAYLOAD` nor
/// `KVM_CAP_X86_TRIPLE_FAULT_EVENT` (rvisor offers neither): known flags
/// only, no payload, no triple-fault event, an injected exception a
/// vector below 32 other than NMI's; and, rvisor having no SMM, no SMM
/// state (as KVM built without `CONFIG_KVM_SMM`).
pub fn set_events_valid(ev: &KvmVcpuEvents) -> bool {
    use vcpu_events::*;
    let known = VALID_NMI_PENDING
        | VALID_SIPI_VECTOR
        | VALID_SHADOW
        | VALID_SMM
        | VALID_PAYLOAD
        | VALID_TRIPLE_FAULT;
    if ev.flags & !known != 0 || ev.flags & (VALID_PAYLOAD | VALID_TRIPLE_FAULT) != 0 {
        return false;
    }
    // Without the payload capability `exception.pending` is ignored.
    if ev.exception.injected != 0 && (ev.exception.nr > 31 || ev.exception.nr == 2) {
        return false;
    }
    let smi = &ev.smi;
    !(ev.flags & VALID_SMM != 0 && (smi.smm != 0 || smi.pending != 0 || smi.smm_inside_nmi != 0))
}

/// `kvm_vcpu_events.interrupt.shadow` from the interruptibility state
/// (KVM's `vmx_get_interrupt_shadow()`).
pub fn shadow_of(intr_state: u32) -> u8 {
    let mut shadow = 0;
    if intr_state & interruptibility::STI != 0 {
        shadow |= vcpu_events::SHADOW_INT_STI;
    }
    if intr_state & interruptibility::MOV_SS != 0 {
        shadow |= vcpu_events::SHADOW_INT_MOV_SS;
    }
    shadow
}

/// The interruptibility state with the shadow `shadow` asks for: MOV SS
/// if asked, else STI if asked, never both, which no entry accepts (KVM's
/// `vmx_set_interrupt_shadow()`).
pub fn with_shadow(intr_state: u32, shadow: u8) -> u32 {
    let base = intr_state & !(interruptibility::STI | interruptibility::MOV_SS);
    if shadow & vcpu_events::SHADOW_INT_MOV_SS != 0 {
        base | interruptibility::MOV_SS
    } else if shadow & vcpu_events::SHADOW_INT_STI != 0 {
        base | interruptibility::STI
    } else {
        base
    }
}

/// The interruptibility state with blocking by NMI set or clear (KVM's
/// `vmx_set_nmi_mask()` with virtual NMIs).
pub fn with_nmi_mask(intr_state: u32, masked: bool) -> u32 {
    if masked {
        intr_state | interruptibility::NMI
    } else {
        intr_state & !interruptibility::NMI
    }
}

/// The vector of `kvm_sregs.interrupt_bitmap` that `KVM_SET_SREGS` queues:
/// its lowest set bit (KVM's `find_first_bit()` in `__set_sregs()`), or
/// `None` if no bit is set (what is queued stays queued).
pub fn bitmap_vector(bitmap: &[u64; 4]) -> Option<u8> {
    bitmap
        .iter()
        .enumerate()
        .find(|(_, w)| **w != 0)
        .map(|(i, w)| (i as u32 * 64 + w.trailing_zeros()) as u8)
}

/// `kvm_sregs.interrupt_bitmap` as `KVM_GET_SREGS` reports it: the bit of
/// the queued vector, if any.
pub fn vector_bitmap(queued: Option<u8>) -> [u64; 4] {
    let mut bitmap = [0u64; 4];
    if let Some(v) = queued {
        bitmap[usize::from(v / 64)] = 1 << (v % 64);
    }
    bitmap
}

#[cfg(test)]
mod tests {
    use super::*;

    const IF: u64 = RFLAGS_IF;

    fn open() -> EventState {
        EventState {
            rflags: 2 | IF,
            intr_state: 0,
            entry_info: 0,
            queued: None,
            exception_pending: false,
        }
    }

    #[test]
    fn kvm_interrupt_takes_vectors_below_256() {
        assert_eq!(kvm_interrupt_vector(0), Some(0));
        assert_eq!(kvm_interrupt_vector(0x20), Some(0x20));
        assert_eq!(kvm_interrupt_vector(255), Some(255));
        assert_eq!(kvm_interrupt_vector(256), None);
        assert_eq!(kvm_interrupt_vector(0x120), None);
        assert_eq!(kvm_interrupt_vector(u32::MAX), None);
    }

    #[test]
    fn blocked_by_if_sti_and_mov_ss_not_nmi() {
        assert!(!interrupt_blocked(2 | IF, 0));
        assert!(interrupt_blocked(2, 0));
        assert!(interrupt_blocked(2 | IF, interruptibility::STI));
        assert!(interrupt_blocked(2 | IF, interruptibility::MOV_SS));
        // Blocking by NMI blocks NMIs, not interrupts.
        assert!(!interrupt_blocked(2 | IF, interruptibility::NMI));
    }

    #[test]
    fn ready_needs_every_condition() {
        assert!(open().ready_for_injection());
        let cases = [
            EventState {
                rflags: 2,
                ..open()
            },
            EventState {
                intr_state: interruptibility::STI,
                ..open()
            },
            EventState {
                intr_state: interruptibility::MOV_SS,
                ..open()
            },
            EventState {
                queued: Some(0x20),
                ..open()
            },
            EventState {
                entry_info: intr_info::ext_interrupt(0x30),
                ..open()
            },
            EventState {
                entry_info: intr_info::exception(14, true),
                ..open()
            },
            EventState {
                exception_pending: true,
                ..open()
            },
        ];
        for c in cases {
            assert!(!c.ready_for_injection(), "{c:?}");
        }
        // A stale entry field without the valid bit is no event.
        assert!(EventState {
            entry_info: 0x20,
            ..open()
        }
        .ready_for_injection());
    }

    #[test]
    fn queued_vector_waits_for_a_free_entry_field() {
        assert_eq!(arm_queued(0, None), None);
        assert_eq!(arm_queued(0, Some(0x20)), Some(0x8000_0020));
        assert_eq!(arm_queued(0, Some(0)), Some(0x8000_0000));
        assert_eq!(arm_queued(0, Some(255)), Some(0x8000_00ff));
        let exception = intr_info::exception(13, true);
        assert_eq!(arm_queued(exception, Some(0x20)), None);
        assert_eq!(arm_queued(0x20, Some(0x21)), Some(0x8000_0021));
    }

    #[test]
    fn the_queue_lasts_one_entry() {
        assert_eq!(queue_after_entry(Some(0x20), true), None);
        assert_eq!(queue_after_entry(None, true), None);
        assert_eq!(queue_after_entry(Some(0x20), false), Some(0x20));
        assert_eq!(queue_after_entry(None, false), None);
    }

    #[test]
    fn sregs_bitmap_round_trips_and_takes_the_lowest_bit() {
        for v in [0u8, 1, 0x20, 63, 64, 127, 128, 200, 255] {
            assert_eq!(bitmap_vector(&vector_bitmap(Some(v))), Some(v));
        }
        assert_eq!(vector_bitmap(None), [0; 4]);
        assert_eq!(bitmap_vector(&[0; 4]), None);
        assert_eq!(bitmap_vector(&[0, 0b1100, 0, 1 << 63]), Some(66));
        assert_eq!(bitmap_vector(&[0, 0, 0, 1 << 63]), Some(255));
        assert_eq!(bitmap_vector(&[u64::MAX; 4]), Some(0));
    }

    #[test]
    fn only_runnable_without_an_apic() {
        use crate::uapi::mp_state::*;
        assert!(mp_state_settable(RUNNABLE));
        for s in [
            UNINITIALIZED,
            INIT_RECEIVED,
            HALTED,
            SIPI_RECEIVED,
            AP_RESET_HOLD,
            5,
            10,
            u32::MAX,
        ] {
            assert!(!mp_state_settable(s), "{s}");
        }
    }

    #[test]
    fn nmis_are_blocked_by_a_handler_and_by_shadows() {
        assert!(!nmi_blocked(0));
        assert!(nmi_blocked(interruptibility::NMI));
        assert!(nmi_blocked(interruptibility::STI));
        assert!(nmi_blocked(interruptibility::MOV_SS));
    }

    #[test]
    fn nmi_mask_and_entry_types() {
        use interruptibility::{NMI, STI};
        assert!(!nmi_masked(0, 0));
        assert!(!nmi_masked(STI, intr_info::ext_interrupt(0x20)));
        assert!(nmi_masked(NMI, 0));
        assert!(nmi_masked(0, intr_info::NMI));
        // Without the valid bit the field delivers nothing.
        assert!(!nmi_masked(0, intr_info::NMI & !intr_info::VALID));
        assert!(event_is(
            intr_info::exception(6, false),
            intr_info::TYPE_HARD_EXCEPTION
        ));
        assert!(!event_is(
            intr_info::exception(6, false),
            intr_info::TYPE_NMI
        ));
    }

    #[test]
    fn reblock_after_an_iret_that_exits() {
        const BIT: u32 = intr_info::NMI_UNBLOCKED_BY_IRET;
        let ac = intr_info::exception(vector::AC, true) | BIT;
        let mc = intr_info::exception(vector::MC, false) | BIT;
        let df = intr_info::exception(vector::DF, true) | BIT;
        assert!(reblock_nmi_after(reason::EXCEPTION_NMI, ac, 0, 0));
        assert!(reblock_nmi_after(reason::EXCEPTION_NMI, mc, 0, 0));
        assert!(!reblock_nmi_after(reason::EXCEPTION_NMI, df, 0, 0));
        assert!(!reblock_nmi_after(reason::EXCEPTION_NMI, ac & !BIT, 0, 0));
        // A host NMI's exit is not a fault of the IRET.
        assert!(!reblock_nmi_after(
            reason::EXCEPTION_NMI,
            intr_info::NMI | BIT,
            0,
            0
        ));
        assert!(reblock_nmi_after(
            reason::EPT_VIOLATION,
            0,
            u64::from(BIT),
            0
        ));
        assert!(!reblock_nmi_after(reason::EPT_VIOLATION, BIT, 0, 0));
        assert!(!reblock_nmi_after(reason::CPUID, BIT, u64::from(BIT), 0));
        // Bit 12 is undefined with a vectoring event.
        let vectoring = intr_info::ext_interrupt(0x20);
        assert!(!reblock_nmi_after(reason::EXCEPTION_NMI, ac, 0, vectoring));
        assert!(!reblock_nmi_after(
            reason::EPT_VIOLATION,
            0,
            u64::from(BIT),
            vectoring
        ));
    }

    #[test]
    fn a_vmm_queues_at_most_two_nmis() {
        assert_eq!(pending_nmis(0, 0, false), 0);
        assert_eq!(pending_nmis(0, 1, false), 1);
        assert_eq!(pending_nmis(0, 3, false), 2);
        assert_eq!(pending_nmis(0, u32::MAX, false), 2);
        assert_eq!(pending_nmis(2, u32::MAX, false), 2);
        assert_eq!(pending_nmis(0, 3, true), 1);
        assert_eq!(pending_nmis(1, 1, true), 1);
        assert_eq!(pending_nmis(0, 0, true), 0);
    }

    #[test]
    fn nmi_plan() {
        use interruptibility::{MOV_SS, NMI, STI};
        assert_eq!(plan_nmi(0, 0, 0), (false, NmiWindow::None));
        assert_eq!(plan_nmi(1, 0, 0), (true, NmiWindow::None));
        // The second waits for the first one's IRET.
        assert_eq!(plan_nmi(2, 0, 0), (true, NmiWindow::Nmi));
        assert_eq!(plan_nmi(1, 0, NMI), (false, NmiWindow::Nmi));
        assert_eq!(plan_nmi(1, 0, MOV_SS), (false, NmiWindow::Nmi));
        assert_eq!(plan_nmi(1, 0, STI), (false, NmiWindow::Interrupt));
        // An event the entry delivers already goes first.
        let armed = intr_info::ext_interrupt(0x20);
        assert_eq!(plan_nmi(1, armed, 0), (false, NmiWindow::Nmi));
        // Behind another event an STI shadow does not last.
        assert_eq!(plan_nmi(1, armed, STI), (false, NmiWindow::Nmi));
        assert_eq!(plan_nmi(1, 0x20, 0), (true, NmiWindow::None));
    }

    #[test]
    fn set_events_checks() {
        use crate::uapi::vcpu_events::*;
        let ok = KvmVcpuEvents::default();
        assert!(set_events_valid(&ok));
        let mut e = ok;
        e.flags = VALID_NMI_PENDING | VALID_SHADOW | VALID_SMM | VALID_SIPI_VECTOR;
        assert!(set_events_valid(&e));
        for f in [VALID_PAYLOAD, VALID_TRIPLE_FAULT, 64, 1 << 31] {
            e.flags = f;
            assert!(!set_events_valid(&e), "flags {f:#x}");
        }
        let mut e = ok;
        e.exception.injected = 1;
        for (nr, good) in [
            (0, true),
            (6, true),
            (13, true),
            (31, true),
            (2, false),
            (32, false),
            (255, false),
        ] {
            e.exception.nr = nr;
            assert_eq!(set_events_valid(&e), good, "vector {nr}");
        }
        // A vector is not looked at when nothing is injected.
        e.exception.injected = 0;
        e.exception.nr = 2;
        assert!(set_events_valid(&e));
        let mut e = ok;
        e.smi.smm = 1;
        assert!(set_events_valid(&e), "smi ignored without VALID_SMM");
        e.flags = VALID_SMM;
        assert!(!set_events_valid(&e));
        e.smi = Default::default();
        e.smi.pending = 1;
        assert!(!set_events_valid(&e));
        e.smi = Default::default();
        e.smi.smm_inside_nmi = 1;
        assert!(!set_events_valid(&e));
        e.smi = Default::default();
        e.smi.latched_init = 1;
        assert!(
            set_events_valid(&e),
            "latched INIT is ignored without an APIC"
        );
    }

    #[test]
    fn shadow_and_nmi_mask() {
        use crate::uapi::vcpu_events::{SHADOW_INT_MOV_SS, SHADOW_INT_STI};
        use interruptibility::{MOV_SS, NMI, STI};
        assert_eq!(shadow_of(0), 0);
        assert_eq!(shadow_of(STI | NMI), SHADOW_INT_STI);
        assert_eq!(shadow_of(MOV_SS), SHADOW_INT_MOV_SS);
        assert_eq!(with_shadow(NMI | STI, 0), NMI);
        assert_eq!(with_shadow(0, SHADOW_INT_STI), STI);
        assert_eq!(with_shadow(STI, SHADOW_INT_MOV_SS), MOV_SS);
        assert_eq!(with_shadow(0, SHADOW_INT_STI | SHADOW_INT_MOV_SS), MOV_SS);
        assert_eq!(with_shadow(0, 0xfc), 0);
        for s in [0u32, STI, MOV_SS] {
            assert_eq!(with_shadow(s | NMI, shadow_of(s)), s | NMI);
        }
        assert_eq!(with_nmi_mask(STI, true), STI | NMI);
        assert_eq!(with_nmi_mask(STI | NMI, false), STI);
    }

    #[test]
    fn run_cr8_is_a_tpr() {
        assert_eq!(run_cr8(0), Some(0));
        assert_eq!(run_cr8(15), Some(15));
        assert_eq!(run_cr8(16), None);
        assert_eq!(run_cr8(1 << 63), None);
    }
}
