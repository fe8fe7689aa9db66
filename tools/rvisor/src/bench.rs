// SPDX-License-Identifier: GPL-2.0

//! `rvisor bench`: exit round-trip costs as a guest sees them, on any
//! KVM-compatible device, printed as `key value` lines for `scripts/bench`
//! to put side by side (rvisor and `kvm_intel` cannot be loaded at once).
//!
//! The guest times N CPUID exits and N VMCALL exits (both handled in the
//! kernel) and N `OUT`s to a port user space handles, with RDTSC around
//! each loop (no TSC offsetting or RDTSC exiting on either hypervisor, so
//! it reads the host TSC). The host times `KVM_SET_USER_MEMORY_REGION` of
//! 1 GiB plus the first entry into a guest using it.

use crate::guest::{Mode, LOAD_ADDR};
use crate::machine::{self, GuestMemory, Machine};
use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::{Kvm, VcpuExit, VmFd};
use std::time::Instant;

// The guest (32-bit protected mode). EBX = N. Data at fixed addresses
// (0x3000: N, 0x3008: start TSC) since the code is copied to 0x1000.
// Each timed loop ends with the TSC delta on ports 0xb0 (low) and 0xb1
// (high).
core::arch::global_asm!(
    ".pushsection .rodata.rvisor_bench_guest,\"a\"",
    ".code32",
    ".globl rvisor_bench_guest_start, rvisor_bench_guest_end",
    "rvisor_bench_guest_start:",
    "  mov %ebx, 0x3000",
    // Empty loop: the baseline subtracted by scripts/bench.
    "  call 8f",
    "  mov 0x3000, %ebp",
    "1: dec %ebp",
    "  jnz 1b",
    "  call 9f",
    // CPUID.
    "  call 8f",
    "  mov 0x3000, %ebp",
    "2: xor %eax, %eax",
    "  cpuid",
    "  dec %ebp",
    "  jnz 2b",
    "  call 9f",
    // VMCALL (an unknown hypercall: -KVM_ENOSYS on both).
    "  call 8f",
    "  mov 0x3000, %ebp",
    "3: mov $0x1234, %eax",
    "  vmcall",
    "  dec %ebp",
    "  jnz 3b",
    "  call 9f",
    // OUT to user space.
    "  call 8f",
    "  mov 0x3000, %ebp",
    "4: out %al, $0x80",
    "  dec %ebp",
    "  jnz 4b",
    "  call 9f",
    "  hlt",
    "8: rdtsc",
    "  mov %eax, 0x3008",
    "  mov %edx, 0x300c",
    "  ret",
    "9: rdtsc",
    "  sub 0x3008, %eax",
    "  sbb 0x300c, %edx",
    "  out %eax, $0xb0",
    "  mov %edx, %eax",
    "  out %eax, $0xb1",
    "  ret",
    "rvisor_bench_guest_end:",
    ".code64",
    ".popsection",
    options(att_syntax)
);

extern "C" {
    static rvisor_bench_guest_start: u8;
    static rvisor_bench_guest_end: u8;
}

fn guest_code() -> &'static [u8] {
    // SAFETY: both symbols delimit one read-only block defined above.
    unsafe {
        let start = &raw const rvisor_bench_guest_start;
        let end = &raw const rvisor_bench_guest_end;
        std::slice::from_raw_parts(start, end as usize - start as usize)
    }
}

fn new_vm(kvm: &Kvm) -> Result<VmFd, String> {
    kvm.create_vm().map_err(|e| format!("KVM_CREATE_VM: {e}"))
}

/// Runs the timed loops with `n` iterations each; prints `key value`.
pub(crate) fn run(device: &str, n: u32) -> Result<u8, String> {
    let kvm = machine::open(device)?;
    let mut m = Machine::new(&kvm, 1 << 20, Mode::Protected, guest_code(), u64::from(n))?;
    let vcpu = &mut m.vcpu;

    let names = ["empty_loop", "cpuid", "vmcall", "pio_user"];
    let mut results = Vec::new();
    let mut low = 0u64;
    loop {
        match vcpu.run().map_err(|e| format!("KVM_RUN: {e}"))? {
            VcpuExit::IoOut(0xb0, d) => {
                low = u64::from(u32::from_le_bytes(d.try_into().unwrap_or([0; 4])))
            }
            VcpuExit::IoOut(0xb1, d) => {
                let high = u64::from(u32::from_le_bytes(d.try_into().unwrap_or([0; 4])));
                results.push((high << 32) | low);
            }
            VcpuExit::IoOut(0x80, _) => {}
            VcpuExit::Hlt => break,
            other => return Err(format!("unexpected exit {other:?}")),
        }
    }
    if results.len() != names.len() {
        return Err(format!(
            "guest reported {} timings, want {}",
            results.len(),
            names.len()
        ));
    }
    println!("device {device}");
    println!("iterations {n}");
    for (name, tsc) in names.iter().zip(&results) {
        println!("{name}_tsc_total {tsc}");
    }
    drop(m);

    // 1 GiB slot plus the first entry into a guest that uses it.
    // The memory before the VM, which is dropped first (reverse order).
    let gib = 1u64 << 30;
    let mut big = GuestMemory::new(gib)?;
    let vm = new_vm(&kvm)?;
    big.as_mut_slice()[LOAD_ADDR as usize] = 0xf4; // HLT
    let mut vcpu = vm.create_vcpu(0).map_err(|e| e.to_string())?;
    let mut s = vcpu.get_sregs().map_err(|e| e.to_string())?;
    s.cs.base = 0;
    s.cs.selector = 0;
    vcpu.set_sregs(&s).map_err(|e| e.to_string())?;
    let mut r = vcpu.get_regs().map_err(|e| e.to_string())?;
    r.rip = LOAD_ADDR;
    vcpu.set_regs(&r).map_err(|e| e.to_string())?;
    let region = kvm_userspace_memory_region {
        slot: 0,
        flags: 0,
        guest_phys_addr: 0,
        memory_size: gib,
        userspace_addr: big.addr(),
    };
    let t0 = Instant::now();
    // SAFETY: `big` is a live allocation of `gib` bytes at
    // `userspace_addr`; declared before `vm`, it is dropped after it.
    unsafe { vm.set_user_memory_region(region) }.map_err(|e| format!("1 GiB slot: {e}"))?;
    let t1 = Instant::now();
    match vcpu.run().map_err(|e| format!("KVM_RUN: {e}"))? {
        VcpuExit::Hlt => {}
        other => return Err(format!("first entry: unexpected exit {other:?}")),
    }
    let t2 = Instant::now();
    println!("slot_1g_set_ns {}", (t1 - t0).as_nanos());
    println!("slot_1g_first_entry_ns {}", (t2 - t1).as_nanos());
    Ok(0)
}
