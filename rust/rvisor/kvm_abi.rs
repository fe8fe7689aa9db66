// SPDX-License-Identifier: GPL-2.0

//! What `/dev/rvisor` reports about itself through the KVM ABI.

use crate::memslot::MAX_SLOTS;
use crate::uapi::cap;
use crate::vm::MAX_VCPUS;

/// The API version every KVM since 2.6.22 reports; clients refuse others.
pub(crate) const KVM_API_VERSION: isize = crate::uapi::KVM_API_VERSION as isize;

/// The answer to `KVM_CHECK_EXTENSION(cap)`: rvisor reports only what it
/// implements; 0 for everything else.
pub(crate) fn check_extension(capability: u64) -> isize {
    match capability {
        cap::USER_MEMORY
        | cap::SET_TSS_ADDR
        | cap::EXT_CPUID
        | cap::MP_STATE
        | cap::USER_NMI
        | cap::VCPU_EVENTS
        | cap::DESTROY_MEMORY_REGION_WORKS
        | cap::SET_IDENTITY_MAP_ADDR
        | cap::INTERNAL_ERROR_DATA
        | cap::READONLY_MEM
        | cap::IMMEDIATE_EXIT
        | cap::JOIN_MEMORY_REGIONS_WORKS => 1,
        // As KVM built with irq routing, whether or not the VM has an
        // in-kernel irqchip (rvisor's never has): QEMU requires the cap
        // and, with a user-space irqchip, never sets a route;
        // KVM_SET_GSI_ROUTING fails with EINVAL, as on such a KVM VM.
        cap::IRQ_ROUTING => crate::uapi::KVM_MAX_IRQ_ROUTES as isize,
        // KVM_X86_SETUP_MCE, with up to this many banks.
        cap::MCE => crate::msrs::MCE_BANKS as isize,
        cap::NR_VCPUS | cap::MAX_VCPUS | cap::MAX_VCPU_ID => MAX_VCPUS as isize,
        cap::NR_MEMSLOTS => MAX_SLOTS as isize,
        _ => 0,
    }
}
