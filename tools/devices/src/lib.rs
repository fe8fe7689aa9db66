// SPDX-License-Identifier: GPL-2.0

//! The legacy PC devices `rvisor boot` emulates in user space: rvisor has
//! no in-kernel irqchip or timer (`KVM_CAP_IRQCHIP` is 0), so its VMM
//! models them, as QEMU does with `kernel-irqchip=off`. Pure logic: port
//! accesses and input lines in, interrupt requests out, time passed in by
//! the caller, so that every rule is tested on the host.

#![deny(missing_docs)]

pub mod cmos;
pub mod pic;
pub mod pit;
