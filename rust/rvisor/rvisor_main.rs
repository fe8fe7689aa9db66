// SPDX-License-Identifier: GPL-2.0

//! rvisor: a minimal Intel VMX hypervisor, driven from user space through
//! the KVM ioctl ABI on `/dev/rvisor`.
//!
//! Loading the module puts every online CPU in VMX root operation (and
//! refuses, with the reason in the kernel log, when VMX is missing, locked
//! off or held by another hypervisor); unloading leaves it.

use kernel::prelude::*;

mod arch;
mod controls;
mod cpuhp;
mod cpuid;
mod dev;
mod exits;
mod fd;
mod glue;
mod guest_fpu;
mod guest_memory;
mod guest_msrs;
mod ins_outs;
mod kvm_abi;
mod mmio;
mod run;
mod user_copy;
mod vcpu;
mod vcpu_lock;
mod vcpu_setup;
mod vm;
mod vmcs_region;
mod vmx_insn;
mod vmx_root;
mod vpid;

// Pure logic shared with the host crate in rust/vmx, unit-tested there.
// Its items are `pub` for that crate, and not all are used here.
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/caps.rs"]
mod caps;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/cpuid_table.rs"]
mod cpuid_table;
#[allow(unreachable_pub)]
#[path = "../vmx/src/cpulist.rs"]
mod cpulist;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/cr.rs"]
mod cr;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/ept.rs"]
mod ept;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/events.rs"]
mod events;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/fpu.rs"]
mod fpu;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/insn.rs"]
mod insn;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/memslot.rs"]
mod memslot;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/msr_bitmap.rs"]
mod msr_bitmap;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/msrs.rs"]
mod msrs;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/paging.rs"]
mod paging;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/segment.rs"]
mod segment;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/string_io.rs"]
mod string_io;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/uapi.rs"]
mod uapi;
#[allow(dead_code, unreachable_pub)]
#[path = "../vmx/src/vmcs.rs"]
mod vmcs;

// Kernel abstractions that 6.12's `kernel` crate lacks.
#[path = "../kernel_ext/global.rs"]
mod global;
#[path = "../kernel_ext/sysfs_buf.rs"]
mod sysfs_buf;

module! {
    type: Rvisor,
    name: "rvisor",
    author: "rvisor developers",
    description: "Minimal Intel VMX hypervisor with a KVM-compatible ioctl ABI",
    license: "GPL",
}

/// The mitigations rvisor.ko sets up for all VMs (the L1D flush buffer and
/// mode: see `rv_mitigations_init()`), for the life of the module.
struct Mitigations;

impl Mitigations {
    fn init() -> Result<Self> {
        // SAFETY: called once, at module init, before any VM can run.
        kernel::error::to_result(unsafe { glue::rv_mitigations_init() })?;
        Ok(Self)
    }
}

impl Drop for Mitigations {
    fn drop(&mut self) {
        // SAFETY: the VMX operation (and with it every VM) is gone: this
        // field is dropped last.
        unsafe { glue::rv_mitigations_exit() };
    }
}

struct Rvisor {
    // Dropped first: the device's attributes read the VMX state.
    _dev: dev::Registration,
    _vmx: vmx_root::VmxOperation,
    _mitigations: Mitigations,
}

impl kernel::Module for Rvisor {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let caps = vmx_root::probe()?;
        // SAFETY: only reads CPU features and symbol addresses.
        if !unsafe { glue::rv_nmi_path_ok() } {
            pr_err!("FRED host without KVM's FRED entry: NMIs in guests could not be handled\n");
            return Err(ENODEV);
        }
        let mitigations = Mitigations::init()?;
        let vmx = vmx_root::VmxOperation::start(caps)?;
        let dev = dev::Registration::new(&vmx)?;
        // SAFETY: both return static NUL-terminated strings.
        let (nmi, l1d) = unsafe {
            (
                CStr::from_char_ptr(glue::rv_nmi_path()),
                CStr::from_char_ptr(glue::rv_l1d_flush_mode()),
            )
        };
        pr_info!(
            "/dev/rvisor ready (KVM API version {}; host NMIs through {}; L1D flush on entry: {})\n",
            kvm_abi::KVM_API_VERSION,
            nmi.to_str().unwrap_or("?"),
            l1d.to_str().unwrap_or("?")
        );
        Ok(Self {
            _dev: dev,
            _vmx: vmx,
            _mitigations: mitigations,
        })
    }
}
