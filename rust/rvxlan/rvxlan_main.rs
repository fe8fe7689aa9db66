// SPDX-License-Identifier: GPL-2.0

//! rvxlan: a VXLAN (RFC 7348) tunnel endpoint netdev with per-VNI tenant
//! isolation, wire-compatible with Linux's `vxlan`.

use kernel::prelude::*;

mod callbacks;
mod datapath;
mod endpoint;
mod fdb_table;
mod glue;
mod link;
mod recent_source;
mod rtnl;
mod skb;
mod tunnel;

// Pure logic shared with the host crate in rust/vxlan, unit-tested there.
// Its items are `pub` for that crate, and not all are used here.
#[allow(dead_code, unreachable_pub)]
#[path = "../vxlan/src/config.rs"]
mod config;
#[allow(dead_code, unreachable_pub)]
#[path = "../vxlan/src/fdb.rs"]
mod fdb;
#[allow(dead_code, unreachable_pub)]
#[path = "../vxlan/src/header.rs"]
mod header;
#[allow(dead_code, unreachable_pub)]
#[path = "../vxlan/src/netlink.rs"]
mod netlink;
#[allow(dead_code, unreachable_pub)]
#[path = "../vxlan/src/src_port.rs"]
mod src_port;
#[allow(dead_code, unreachable_pub)]
#[path = "../vxlan/src/uapi.rs"]
mod uapi;

module! {
    type: Rvxlan,
    name: "rvxlan",
    author: "rvisor developers",
    description: "VXLAN tunnel endpoint with per-VNI tenant isolation",
    license: "GPL",
    alias: ["rtnl-link-rvxlan"],
}

struct Rvxlan {
    _link: link::LinkKind,
}

impl kernel::Module for Rvxlan {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let link = link::LinkKind::register()?;
        Ok(Self { _link: link })
    }
}
