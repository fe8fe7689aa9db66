// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C glue in `glue.c` (see `glue.h` for the C side).
//!
//! Only the safe wrappers in [`crate::arch`], [`crate::cpuhp`] and
//! [`crate::dev`] call these.

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint};

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
    pub(crate) fn rv_emergency_register(callback: unsafe extern "C" fn());
    pub(crate) fn rv_emergency_unregister(callback: unsafe extern "C" fn());
    pub(crate) fn rv_misc_register() -> c_int;
    pub(crate) fn rv_misc_deregister();
}
