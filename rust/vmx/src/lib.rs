// SPDX-License-Identifier: GPL-2.0

//! Pure VMX logic of rvisor: decoding of the VMX capability MSRs and the
//! rules for choosing VM-execution controls from them.
//!
//! Nothing here touches hardware or the kernel: `rvisor.ko` reads the MSRs
//! and includes these files with `#[path]`; on the host they are built as
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
