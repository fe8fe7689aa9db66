// SPDX-License-Identifier: GPL-2.0

//! Pure VXLAN logic of rvxlan (RFC 7348): the header codec, VNIs, the
//! encapsulation overheads, the configuration rules, the netlink attributes (Linux vxlan's),
//! the forwarding database (static and learned
//! entries, bounded and aged) and the outer UDP source-port choice.
//!
//! Nothing here touches the kernel: `rvxlan.ko` includes these files with
//! `#[path]`; on the host they are built as this crate and unit-tested
//! with `cargo test`.

#![no_std]

pub mod config;
pub mod fdb;
pub mod header;
pub mod netlink;
pub mod src_port;
pub mod uapi;
