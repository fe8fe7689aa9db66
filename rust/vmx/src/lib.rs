// SPDX-License-Identifier: GPL-2.0

//! Pure logic of rvisor: the VMX encodings (capability MSRs, VMCS fields
//! and exit qualifications, EPT, the MSR bitmap) and the rules of the KVM
//! ABI it implements (memory slots, CPUID, MSRs, control registers,
//! events, FPU state, segments, the MMIO instruction decoder and guest
//! page walks, the uAPI structures).
//!
//! Nothing here touches hardware or the kernel: `rvisor.ko` reads the MSRs
//! and the VMCS and includes these files (all but this one) with `#[path]`; on the host they are built as
//! this crate and unit-tested with `cargo test`.

#![no_std]

pub mod caps;
pub mod cpuid_table;
pub mod cpulist;
pub mod cr;
pub mod ept;
pub mod events;
pub mod fpu;
pub mod insn;
pub mod memslot;
pub mod msr_bitmap;
pub mod msrs;
pub mod paging;
pub mod segment;
pub mod string_io;
pub mod uapi;
pub mod vmcs;
