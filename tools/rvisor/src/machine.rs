// SPDX-License-Identifier: GPL-2.0

//! A one-vCPU machine on a KVM-compatible device: guest memory in slot 0,
//! the device's supported CPUID, and a guest image entered in a given
//! mode, set up the way KVM clients do it.

use crate::guest::{self, Mode, LOAD_ADDR, MAX_IMAGE};
use kvm_bindings::{kvm_userspace_memory_region, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::{Kvm, VcpuFd, VmFd};
use std::alloc::{alloc_zeroed, dealloc, Layout};

/// Opens a KVM-compatible device (`/dev/rvisor`, `/dev/kvm`).
pub(crate) fn open(device: &str) -> Result<Kvm, String> {
    let path = std::ffi::CString::new(device).map_err(|_| "bad device path".to_string())?;
    Kvm::new_with_path(&path).map_err(|e| format!("{device}: {e}"))
}

/// Page-aligned, zeroed guest memory.
pub(crate) struct GuestMemory {
    ptr: *mut u8,
    layout: Layout,
}

impl GuestMemory {
    /// Allocates `size` bytes, zeroed and page-aligned.
    pub(crate) fn new(size: u64) -> Result<Self, String> {
        let layout = Layout::from_size_align(size as usize, 4096).map_err(|e| e.to_string())?;
        // SAFETY: the layout has a non-zero size (checked by the options).
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(format!("cannot allocate {size} bytes of guest memory"));
        }
        Ok(Self { ptr, layout })
    }

    /// The user address, for `userspace_addr`.
    pub(crate) fn addr(&self) -> u64 {
        self.ptr as u64
    }

    /// The memory as bytes.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `ptr` is a live allocation of `layout.size()` bytes.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.layout.size()) }
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr, self.layout) };
    }
}

/// A VM with one vCPU, ready to run.
pub(crate) struct Machine {
    // Dropped in this order: the vCPU and the VM before their memory.
    /// The vCPU.
    pub vcpu: VcpuFd,
    /// Held for the vCPU's sake: the VM lives as long as the machine.
    _vm: VmFd,
    /// Slot 0's memory, which must outlive the VM.
    _mem: GuestMemory,
}

impl Machine {
    /// Creates the VM with `mem_size` bytes, loads `image` at
    /// [`LOAD_ADDR`] and sets the vCPU up to enter it in `mode`, with RBX
    /// set to `rbx`.
    pub(crate) fn new(
        kvm: &Kvm,
        mem_size: u64,
        mode: Mode,
        image: &[u8],
        rbx: u64,
    ) -> Result<Self, String> {
        if image.len() > MAX_IMAGE {
            return Err(format!(
                "guest image of {} bytes: at most {MAX_IMAGE} fit",
                image.len()
            ));
        }
        let vm = kvm.create_vm().map_err(|e| format!("KVM_CREATE_VM: {e}"))?;
        let mut mem = GuestMemory::new(mem_size)?;
        let region = kvm_userspace_memory_region {
            slot: 0,
            flags: 0,
            guest_phys_addr: 0,
            memory_size: mem_size,
            userspace_addr: mem.addr(),
        };
        // SAFETY: the region is our allocation, which the machine keeps
        // alive until after the VM.
        unsafe { vm.set_user_memory_region(region) }
            .map_err(|e| format!("KVM_SET_USER_MEMORY_REGION: {e}"))?;
        let vcpu = vm
            .create_vcpu(0)
            .map_err(|e| format!("KVM_CREATE_VCPU: {e}"))?;
        let cpuid = kvm
            .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
            .map_err(|e| format!("KVM_GET_SUPPORTED_CPUID: {e}"))?;
        vcpu.set_cpuid2(&cpuid)
            .map_err(|e| format!("KVM_SET_CPUID2: {e}"))?;
        let slice = mem.as_mut_slice();
        slice[LOAD_ADDR as usize..LOAD_ADDR as usize + image.len()].copy_from_slice(image);
        let mut sregs = vcpu
            .get_sregs()
            .map_err(|e| format!("KVM_GET_SREGS: {e}"))?;
        let mut regs = vcpu.get_regs().map_err(|e| format!("KVM_GET_REGS: {e}"))?;
        guest::setup(mode, slice, &mut sregs, &mut regs);
        regs.rbx = rbx;
        vcpu.set_sregs(&sregs)
            .map_err(|e| format!("KVM_SET_SREGS: {e}"))?;
        vcpu.set_regs(&regs)
            .map_err(|e| format!("KVM_SET_REGS: {e}"))?;
        Ok(Self {
            vcpu,
            _vm: vm,
            _mem: mem,
        })
    }
}
