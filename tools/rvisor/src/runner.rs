// SPDX-License-Identifier: GPL-2.0

//! Creating the VM, running the guest and reporting its exits.

use crate::guest::{self, LOAD_ADDR, MAX_IMAGE};
use crate::options::Options;
use kvm_bindings::{kvm_userspace_memory_region, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::{Kvm, VcpuExit};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::io::Write;

/// Page-aligned, zeroed guest memory.
pub struct GuestMemory {
    ptr: *mut u8,
    layout: Layout,
}

impl GuestMemory {
    /// Allocates `size` bytes, zeroed and page-aligned.
    pub fn new(size: u64) -> Result<Self, String> {
        let layout = Layout::from_size_align(size as usize, 4096).map_err(|e| e.to_string())?;
        // SAFETY: the layout has a non-zero size (checked by the options).
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(format!("cannot allocate {size} bytes of guest memory"));
        }
        Ok(Self { ptr, layout })
    }

    /// The user address, for `userspace_addr`.
    pub fn addr(&self) -> u64 {
        self.ptr as u64
    }

    /// The memory as bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
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

/// Per-kind exit counts.
#[derive(Default)]
struct Counts {
    io: u64,
    mmio: u64,
}

/// Runs the guest; returns the process exit status.
pub fn run(opts: &Options) -> Result<u8, String> {
    let image = std::fs::read(&opts.guest).map_err(|e| format!("{}: {e}", opts.guest))?;
    if image.len() > MAX_IMAGE {
        return Err(format!(
            "{}: {} bytes, more than the {MAX_IMAGE} that fit",
            opts.guest,
            image.len()
        ));
    }
    let path =
        std::ffi::CString::new(opts.device.as_str()).map_err(|_| "bad device path".to_string())?;
    let kvm = Kvm::new_with_path(&path).map_err(|e| format!("{}: {e}", opts.device))?;
    let vm = kvm.create_vm().map_err(|e| format!("KVM_CREATE_VM: {e}"))?;
    let mut mem = GuestMemory::new(opts.mem)?;
    let region = kvm_userspace_memory_region {
        slot: 0,
        flags: 0,
        guest_phys_addr: 0,
        memory_size: opts.mem,
        userspace_addr: mem.addr(),
    };
    // SAFETY: the region is our allocation, alive until after the VM.
    unsafe { vm.set_user_memory_region(region) }
        .map_err(|e| format!("KVM_SET_USER_MEMORY_REGION: {e}"))?;
    let mut vcpu = vm
        .create_vcpu(0)
        .map_err(|e| format!("KVM_CREATE_VCPU: {e}"))?;
    let cpuid = kvm
        .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
        .map_err(|e| format!("KVM_GET_SUPPORTED_CPUID: {e}"))?;
    vcpu.set_cpuid2(&cpuid)
        .map_err(|e| format!("KVM_SET_CPUID2: {e}"))?;

    let slice = mem.as_mut_slice();
    slice[LOAD_ADDR as usize..LOAD_ADDR as usize + image.len()].copy_from_slice(&image);
    let mut sregs = vcpu
        .get_sregs()
        .map_err(|e| format!("KVM_GET_SREGS: {e}"))?;
    let mut regs = vcpu.get_regs().map_err(|e| format!("KVM_GET_REGS: {e}"))?;
    guest::setup(opts.mode, slice, &mut sregs, &mut regs);
    vcpu.set_sregs(&sregs)
        .map_err(|e| format!("KVM_SET_SREGS: {e}"))?;
    vcpu.set_regs(&regs)
        .map_err(|e| format!("KVM_SET_REGS: {e}"))?;

    let mut counts = Counts::default();
    let mut out = std::io::stdout().lock();
    let verbose = opts.verbose;
    let status = loop {
        let exit = vcpu.run().map_err(|e| format!("KVM_RUN: {e}"))?;
        match exit {
            VcpuExit::IoOut(port, data) => {
                counts.io += 1;
                if port == 0xe9 || port == 0x3f8 {
                    out.write_all(data).map_err(|e| e.to_string())?;
                } else if verbose {
                    eprintln!("exit: io out port {port:#x} data {data:02x?}");
                }
            }
            VcpuExit::IoIn(port, data) => {
                counts.io += 1;
                data.fill(0xff);
                if verbose {
                    eprintln!(
                        "exit: io in port {port:#x} size {} (answered 0xff)",
                        data.len()
                    );
                }
            }
            VcpuExit::MmioRead(addr, data) => {
                counts.mmio += 1;
                data.fill(0);
                if verbose {
                    eprintln!("exit: mmio read {addr:#x} size {} (answered 0)", data.len());
                }
            }
            VcpuExit::MmioWrite(addr, data) => {
                counts.mmio += 1;
                if verbose {
                    eprintln!("exit: mmio write {addr:#x} data {data:02x?}");
                }
            }
            VcpuExit::Hlt => {
                if verbose {
                    eprintln!("exit: hlt");
                }
                break 0;
            }
            VcpuExit::Shutdown => {
                eprintln!("rvisor: guest shut down (triple fault)");
                break 2;
            }
            VcpuExit::FailEntry(reason, cpu) => {
                eprintln!("rvisor: VM entry failed on CPU {cpu}: hardware reason {reason:#x}");
                break 3;
            }
            VcpuExit::InternalError => {
                eprintln!("rvisor: internal error (see the kernel's kvm_run.internal)");
                break 3;
            }
            other => {
                eprintln!("rvisor: unexpected exit {other:?}");
                break 3;
            }
        }
    };
    out.flush().map_err(|e| e.to_string())?;
    let rip = vcpu.get_regs().map(|r| r.rip).unwrap_or(0);
    eprintln!(
        "rvisor: {} guest on {}: {} I/O and {} MMIO exits, stopped at rip {rip:#x} (status {status})",
        format!("{:?}", opts.mode).to_lowercase(),
        opts.device,
        counts.io,
        counts.mmio
    );
    Ok(status)
}
