// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C glue (`glue.c`, `host_glue.c`, `fd_glue.c`,
//! `vmenter.S`; see `glue.h` for the C side).
//!
//! The modules that need them call them directly, each call in an `unsafe`
//! block with its `SAFETY` argument (`Documentation/design.rst`, "Rust and
//! C glue").

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint, c_ulong, c_void};

/// `struct rv_host_state`: the host values the VMCS host-state area and
/// the post-exit restore need.
#[repr(C)]
#[derive(Default)]
pub(crate) struct HostStateRaw {
    pub(crate) cr0: u64,
    pub(crate) cr3: u64,
    pub(crate) cr4: u64,
    pub(crate) fs_base: u64,
    pub(crate) gs_base: u64,
    pub(crate) kernel_gs_base: u64,
    pub(crate) tr_base: u64,
    pub(crate) gdt_base: u64,
    pub(crate) idt_base: u64,
    pub(crate) sysenter_cs: u64,
    pub(crate) sysenter_esp: u64,
    pub(crate) sysenter_eip: u64,
    pub(crate) efer: u64,
    pub(crate) pat: u64,
    pub(crate) debugctl: u64,
    pub(crate) cs_sel: u16,
    pub(crate) ss_sel: u16,
    pub(crate) ds_sel: u16,
    pub(crate) es_sel: u16,
    pub(crate) fs_sel: u16,
    pub(crate) gs_sel: u16,
    pub(crate) tr_sel: u16,
    pub(crate) ldt_sel: u16,
}

// Only pointers cross the boundary; the pointee types (e.g. `page`, which
// embeds a field-less `lockdep_map` in this configuration) are opaque here.
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rv_cpuid_ecx(leaf: u32) -> u32;
    pub(crate) fn rv_rdmsr_safe(msr: u32, val: *mut u64) -> c_int;
    pub(crate) fn rv_wrmsr_safe(msr: u32, val: u64) -> c_int;
    pub(crate) fn rv_cr4_vmxe() -> bool;
    pub(crate) fn rv_cr4_set_vmxe();
    pub(crate) fn rv_cr4_clear_vmxe();
    pub(crate) fn rv_vmxon(phys: u64) -> c_int;
    pub(crate) fn rv_vmxoff() -> c_int;
    pub(crate) fn rv_page_to_phys(page: *mut bindings::page) -> u64;
    pub(crate) fn rv_nr_cpu_ids() -> c_uint;
    pub(crate) fn rv_this_cpu() -> c_uint;
    pub(crate) fn rv_cpuhp_setup_dyn(
        name: *const c_char,
        startup: unsafe extern "C" fn(c_uint) -> c_int,
        teardown: unsafe extern "C" fn(c_uint) -> c_int,
    ) -> c_int;
    pub(crate) fn rv_cpuhp_remove(state: c_int);
    pub(crate) fn rv_reboot_register(callback: unsafe extern "C" fn());
    pub(crate) fn rv_reboot_unregister();
    /// Warns unless reboot has begun: a VMX instruction faulted.
    pub(crate) fn rv_vmx_fault();
    pub(crate) fn rv_misc_register() -> c_int;
    pub(crate) fn rv_misc_deregister();

    pub(crate) fn rv_host_state_save(hs: *mut HostStateRaw);
    pub(crate) fn rv_host_cpu_state_save(hs: *mut HostStateRaw);
    pub(crate) fn rv_host_state_restore(hs: *const HostStateRaw);
    pub(crate) fn rv_vmx_host_rip() -> c_ulong;
    pub(crate) fn rv_machine_check();
    pub(crate) fn rv_mitigations_init() -> c_int;
    pub(crate) fn rv_mitigations_exit();
    pub(crate) fn rv_l1d_flush_mode() -> *const c_char;
    pub(crate) fn rv_l1d_flush(host_ran: bool);
    pub(crate) fn rv_vmcs_switch(vmcs: u64);
    pub(crate) fn rv_vmcs_forget(vmcs: u64);
    pub(crate) fn rv_guest_ran();
    pub(crate) fn rv_wrmsr(msr: u32, val: u64);
    pub(crate) fn rv_rdmsr(msr: u32) -> u64;
    pub(crate) fn rv_kernel_fpu_begin();
    pub(crate) fn rv_kernel_fpu_end();
    pub(crate) fn rv_xgetbv0() -> u64;
    pub(crate) fn rv_xsetbv0(val: u64);
    pub(crate) fn rv_has_xsave() -> bool;
    pub(crate) fn rv_cpuid_count(leaf: u32, subleaf: u32, out: *mut u32);
    pub(crate) fn rv_local_irq_disable();
    pub(crate) fn rv_local_irq_enable();
    pub(crate) fn rv_preempt_disable();
    pub(crate) fn rv_preempt_enable();
    pub(crate) fn rv_signal_pending() -> bool;
    pub(crate) fn rv_task_work_pending() -> bool;
    pub(crate) fn rv_vcpu_mutex_init(lock: *mut bindings::mutex);
    pub(crate) fn rv_mutex_lock_killable(lock: *mut bindings::mutex) -> c_int;
    pub(crate) fn rv_mutex_unlock(lock: *mut bindings::mutex);
    pub(crate) fn rv_cond_resched();
    pub(crate) fn rv_need_resched() -> bool;

    pub(crate) fn rv_vmx_run(regs: *mut u64, resume: bool) -> c_int;
    pub(crate) fn rv_handle_nmi_irqoff();
    pub(crate) fn rv_nmi_path() -> *const c_char;
    pub(crate) fn rv_nmi_path_ok() -> bool;

    pub(crate) fn rv_vm_fd(vm: *mut c_void) -> c_int;
    pub(crate) fn rv_vcpu_fd(vcpu: *mut c_void) -> c_int;
    pub(crate) fn rv_user_range_ok(addr: u64, size: u64) -> bool;
    pub(crate) fn rv_pin_user_page(
        addr: u64,
        writable: bool,
        page: *mut *mut bindings::page,
    ) -> c_int;
    pub(crate) fn rv_unpin_user_page(page: *mut bindings::page);
    pub(crate) fn rv_free_page(phys: u64);
    pub(crate) fn rv_set_page_dirty(phys: u64);
    pub(crate) fn rv_mmu_notifier_alloc() -> *mut c_void;
    pub(crate) fn rv_mmu_notifier_register(notifier: *mut c_void, vm: *mut c_void) -> c_int;
    pub(crate) fn rv_mmu_notifier_unregister(notifier: *mut c_void);
    pub(crate) fn rv_mmu_notifier_free(notifier: *mut c_void);
    pub(crate) fn rv_page_address(page: *mut bindings::page) -> *mut c_void;
    pub(crate) fn rv_phys_to_virt(phys: u64) -> *mut c_void;
    pub(crate) fn rv_kick_cpu(cpu: c_int);
    pub(crate) fn rv_copy_from_user(to: *mut c_void, from: u64, n: c_ulong) -> c_ulong;
    pub(crate) fn rv_copy_to_user(to: u64, from: *const c_void, n: c_ulong) -> c_ulong;
    pub(crate) fn rv_cmpxchg_user(to: u64, old: u64, new: u64, width: c_int) -> c_int;
    pub(crate) fn rv_on_each_cpu_invept_all();
    pub(crate) fn rv_mm_grab_current() -> *mut c_void;
    pub(crate) fn rv_mm_drop(mm: *mut c_void);
    pub(crate) fn rv_mm_is_current(mm: *const c_void) -> bool;
}
