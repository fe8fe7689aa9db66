// SPDX-License-Identifier: GPL-2.0

//! Linux vxlan's link attributes: the `IFLA_VXLAN_*` attributes inside
//! `IFLA_INFO_DATA` (Linux 6.12 `include/uapi/linux/if_link.h`), read into
//! a [`Change`] and written from a [`Config`] with the semantics of
//! `drivers/net/vxlan/vxlan_core.c`: `vxlan_validate()`, `vxlan_nl2conf()`
//! (changelink's rules, with Linux's extack messages), and
//! `vxlan_fill_info()` (what `ip -d link show` prints).
//!
//! The kernel glue hands the attributes over as rtnetlink parsed them with
//! Linux's own policy table (copied in `rust/rvxlan/glue.c`), so the types
//! and minimum lengths are Linux's; the values are judged here. An
//! attribute rvxlan does not implement is refused with a message naming
//! it, unless its value asks for what rvxlan does anyway (e.g. `noproxy`,
//! `nol2miss`: Linux's default, rvxlan's only behaviour), which is then
//! not ignored but met.

use crate::config::{Change, Config, ConfigError, Errno, Family};
use core::ffi::CStr;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The `IFLA_VXLAN_*` numbers of Linux 6.12.
pub mod attr {
    #![allow(missing_docs)]
    pub const ID: u16 = 1;
    pub const GROUP: u16 = 2;
    pub const LINK: u16 = 3;
    pub const LOCAL: u16 = 4;
    pub const TTL: u16 = 5;
    pub const TOS: u16 = 6;
    pub const LEARNING: u16 = 7;
    pub const AGEING: u16 = 8;
    pub const LIMIT: u16 = 9;
    pub const PORT_RANGE: u16 = 10;
    pub const PROXY: u16 = 11;
    pub const RSC: u16 = 12;
    pub const L2MISS: u16 = 13;
    pub const L3MISS: u16 = 14;
    pub const PORT: u16 = 15;
    pub const GROUP6: u16 = 16;
    pub const LOCAL6: u16 = 17;
    pub const UDP_CSUM: u16 = 18;
    pub const UDP_ZERO_CSUM6_TX: u16 = 19;
    pub const UDP_ZERO_CSUM6_RX: u16 = 20;
    pub const REMCSUM_TX: u16 = 21;
    pub const REMCSUM_RX: u16 = 22;
    pub const GBP: u16 = 23;
    pub const REMCSUM_NOPARTIAL: u16 = 24;
    pub const COLLECT_METADATA: u16 = 25;
    pub const LABEL: u16 = 26;
    pub const GPE: u16 = 27;
    pub const TTL_INHERIT: u16 = 28;
    pub const DF: u16 = 29;
    pub const VNIFILTER: u16 = 30;
    pub const LOCALBYPASS: u16 = 31;
    pub const LABEL_POLICY: u16 = 32;
    /// `IFLA_VXLAN_MAX`.
    pub const MAX: u16 = LABEL_POLICY;

    /// All of them in `<linux/if_link.h>`'s order, for the kernel glue to
    /// compare with that header's enum when the module loads.
    pub const ALL: [u16; MAX as usize] = [
        ID,
        GROUP,
        LINK,
        LOCAL,
        TTL,
        TOS,
        LEARNING,
        AGEING,
        LIMIT,
        PORT_RANGE,
        PROXY,
        RSC,
        L2MISS,
        L3MISS,
        PORT,
        GROUP6,
        LOCAL6,
        UDP_CSUM,
        UDP_ZERO_CSUM6_TX,
        UDP_ZERO_CSUM6_RX,
        REMCSUM_TX,
        REMCSUM_RX,
        GBP,
        REMCSUM_NOPARTIAL,
        COLLECT_METADATA,
        LABEL,
        GPE,
        TTL_INHERIT,
        DF,
        VNIFILTER,
        LOCALBYPASS,
        LABEL_POLICY,
    ];
}

/// Entries of an attribute table indexed by type (`IFLA_VXLAN_MAX + 1`).
pub const SLOTS: usize = attr::MAX as usize + 1;

/// The C names of the attributes, by number (`NAMES[0]` is `UNSPEC`).
pub const NAMES: [&str; SLOTS] = [
    "IFLA_VXLAN_UNSPEC",
    "IFLA_VXLAN_ID",
    "IFLA_VXLAN_GROUP",
    "IFLA_VXLAN_LINK",
    "IFLA_VXLAN_LOCAL",
    "IFLA_VXLAN_TTL",
    "IFLA_VXLAN_TOS",
    "IFLA_VXLAN_LEARNING",
    "IFLA_VXLAN_AGEING",
    "IFLA_VXLAN_LIMIT",
    "IFLA_VXLAN_PORT_RANGE",
    "IFLA_VXLAN_PROXY",
    "IFLA_VXLAN_RSC",
    "IFLA_VXLAN_L2MISS",
    "IFLA_VXLAN_L3MISS",
    "IFLA_VXLAN_PORT",
    "IFLA_VXLAN_GROUP6",
    "IFLA_VXLAN_LOCAL6",
    "IFLA_VXLAN_UDP_CSUM",
    "IFLA_VXLAN_UDP_ZERO_CSUM6_TX",
    "IFLA_VXLAN_UDP_ZERO_CSUM6_RX",
    "IFLA_VXLAN_REMCSUM_TX",
    "IFLA_VXLAN_REMCSUM_RX",
    "IFLA_VXLAN_GBP",
    "IFLA_VXLAN_REMCSUM_NOPARTIAL",
    "IFLA_VXLAN_COLLECT_METADATA",
    "IFLA_VXLAN_LABEL",
    "IFLA_VXLAN_GPE",
    "IFLA_VXLAN_TTL_INHERIT",
    "IFLA_VXLAN_DF",
    "IFLA_VXLAN_VNIFILTER",
    "IFLA_VXLAN_LOCALBYPASS",
    "IFLA_VXLAN_LABEL_POLICY",
];

/// `VXLAN_N_VID`.
const N_VID: u32 = 1 << 24;
/// `ETH_MIN_MTU`, `ETH_MAX_MTU`.
const ETH_MIN_MTU: u32 = 68;
const ETH_MAX_MTU: u32 = 65535;
/// `IPV6_FLOWLABEL_MASK` in host order (the attribute is `be32`).
const FLOWLABEL_MASK: u32 = 0x000f_ffff;

/// Where a refusal points: the extended ack's bad attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// No attribute in particular.
    Nothing,
    /// `IFLA_INFO_DATA`'s attribute of this type.
    Data(u16),
    /// The top-level `IFLA_ADDRESS`.
    Address,
    /// The top-level `IFLA_MTU`.
    Mtu,
}

/// A refused request: errno, message (Linux's where Linux refuses it too)
/// and the attribute it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrError {
    /// The error class and message.
    pub error: ConfigError,
    /// The attribute.
    pub at: At,
}

fn refuse(errno: Errno, msg: &'static CStr, at: At) -> AttrError {
    AttrError {
        error: ConfigError { errno, msg },
        at,
    }
}

/// One `RTM_NEWLINK` request as rtnetlink parsed it with the policy.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `IFLA_INFO_DATA`'s attributes by type; `None` if there is no
    /// `IFLA_INFO_DATA` at all.
    pub data: Option<[Option<&'a [u8]>; SLOTS]>,
    /// `IFLA_ADDRESS`.
    pub address: Option<&'a [u8]>,
    /// `IFLA_MTU`.
    pub mtu: Option<u32>,
    /// Whether rvxlan stands in for Linux vxlan (kind `vxlan`). As kind
    /// `rvxlan` a device may be created without `IFLA_INFO_DATA`, which
    /// is what iproute2 sends for a kind it has no plugin for (`ip link
    /// add vx0 type rvxlan`): an unconfigured device.
    pub kind_vxlan: bool,
}

impl<'a> Request<'a> {
    fn get(&self, ty: u16) -> Option<&'a [u8]> {
        self.data.as_ref()?.get(usize::from(ty)).copied().flatten()
    }

    /// The first `N` bytes of attribute `ty`. The policy guarantees the
    /// minimum length; a shorter one (a glue bug) reads as absent rather
    /// than out of bounds.
    fn bytes<const N: usize>(&self, ty: u16) -> Option<[u8; N]> {
        self.get(ty)?.get(..N)?.try_into().ok()
    }

    fn u8(&self, ty: u16) -> Option<u8> {
        self.bytes::<1>(ty).map(|[b]| b)
    }

    /// `NLA_U32` is in host order (`nla_get_u32`).
    fn u32(&self, ty: u16) -> Option<u32> {
        self.bytes::<4>(ty).map(u32::from_ne_bytes)
    }

    fn be16(&self, ty: u16) -> Option<u16> {
        self.bytes::<2>(ty).map(u16::from_be_bytes)
    }

    fn port_range(&self) -> Option<(u16, u16)> {
        self.bytes::<4>(attr::PORT_RANGE)
            .map(|[a, b, c, d]| (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])))
    }

    fn v4(&self, ty: u16) -> Option<IpAddr> {
        self.bytes::<4>(ty).map(|a| IpAddr::V4(Ipv4Addr::from(a)))
    }

    fn v6(&self, ty: u16) -> Option<IpAddr> {
        self.bytes::<16>(ty).map(|a| IpAddr::V6(Ipv6Addr::from(a)))
    }
}

/// `vxlan_validate()`: the checks rtnetlink runs before newlink or
/// changelink.
pub fn validate(req: &Request<'_>) -> Result<(), AttrError> {
    if let Some(a) = req.address {
        if a.len() != 6 {
            return Err(refuse(
                Errno::Invalid,
                c"Provided link layer address is not Ethernet",
                At::Address,
            ));
        }
        // is_valid_ether_addr(): not multicast, not all zeros.
        if a[0] & 1 != 0 || a.iter().all(|b| *b == 0) {
            return Err(refuse(
                Errno::AddrNotAvail,
                c"Provided Ethernet address is not unicast",
                At::Address,
            ));
        }
    }
    if let Some(mtu) = req.mtu {
        if !(ETH_MIN_MTU..=ETH_MAX_MTU).contains(&mtu) {
            return Err(refuse(
                Errno::Invalid,
                c"MTU must be between 68 and 65535",
                At::Mtu,
            ));
        }
    }
    if req.data.is_none() && req.kind_vxlan {
        return Err(refuse(
            Errno::Invalid,
            c"Required attributes not provided to perform the operation",
            At::Nothing,
        ));
    }
    if req.u32(attr::ID).is_some_and(|id| id >= N_VID) {
        return Err(refuse(
            Errno::Range,
            c"VXLAN ID must be lower than 16777216",
            At::Data(attr::ID),
        ));
    }
    if req.port_range().is_some_and(|(low, high)| high < low) {
        return Err(refuse(
            Errno::Invalid,
            c"Invalid source port range",
            At::Data(attr::PORT_RANGE),
        ));
    }
    if req
        .u8(attr::DF)
        .is_some_and(|df| df > crate::uapi::df::INHERIT)
    {
        return Err(refuse(
            Errno::Invalid,
            c"Invalid DF attribute",
            At::Data(attr::DF),
        ));
    }
    Ok(())
}

/// How rvxlan answers an attribute it does not implement.
struct Unsupported {
    ty: u16,
    /// For changelink: Linux's refusal (`vxlan_flag_attr_error()`, whose
    /// `NL_SET_ERR_MSG_MOD` prefixes the module name), or `None` where
    /// Linux may change it.
    change: Option<&'static CStr>,
    /// For a value other than the one describing what rvxlan does.
    msg: &'static CStr,
}

/// In `vxlan_nl2conf()`'s order. Each is accepted with the value that
/// asks for rvxlan's behaviour (Linux's default too, except where noted
/// in Documentation/rvxlan.rst: `udpcsum`, `localbypass`).
const UNSUPPORTED: [Unsupported; 17] = [
    Unsupported {
        ty: attr::LINK,
        change: None,
        msg: c"rvxlan does not support IFLA_VXLAN_LINK (dev): no underlay device binding",
    },
    Unsupported {
        ty: attr::TTL_INHERIT,
        change: Some(c"vxlan: cannot change TTL_INHERIT flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_TTL_INHERIT (ttl inherit)",
    },
    Unsupported {
        ty: attr::LABEL,
        change: None,
        msg: c"rvxlan does not support IFLA_VXLAN_LABEL (flowlabel): the flow label is 0",
    },
    Unsupported {
        ty: attr::LABEL_POLICY,
        change: None,
        msg: c"rvxlan does not support IFLA_VXLAN_LABEL_POLICY (flowlabel inherit)",
    },
    Unsupported {
        ty: attr::PROXY,
        change: Some(c"vxlan: cannot change PROXY flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_PROXY (proxy)",
    },
    Unsupported {
        ty: attr::RSC,
        change: Some(c"vxlan: cannot change RSC flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_RSC (rsc)",
    },
    Unsupported {
        ty: attr::L2MISS,
        change: Some(c"vxlan: cannot change L2MISS flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_L2MISS (l2miss)",
    },
    Unsupported {
        ty: attr::L3MISS,
        change: Some(c"vxlan: cannot change L3MISS flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_L3MISS (l3miss)",
    },
    Unsupported {
        ty: attr::COLLECT_METADATA,
        change: Some(c"vxlan: cannot change COLLECT_METADATA flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_COLLECT_METADATA (external)",
    },
    // Linux refuses IFLA_VXLAN_UDP_CSUM in changelink with its own message
    // ("Cannot change UDP_CSUM flag", not the flag helper's).
    Unsupported {
        ty: attr::UDP_CSUM,
        change: Some(c"Cannot change UDP_CSUM flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_UDP_CSUM (udpcsum): IPv4 UDP checksums are zero",
    },
    Unsupported {
        ty: attr::LOCALBYPASS,
        change: None,
        msg: c"rvxlan does not support IFLA_VXLAN_LOCALBYPASS (localbypass)",
    },
    Unsupported {
        ty: attr::UDP_ZERO_CSUM6_TX,
        change: Some(c"vxlan: cannot change UDP_ZERO_CSUM6_TX flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_UDP_ZERO_CSUM6_TX (udp6zerocsumtx)",
    },
    Unsupported {
        ty: attr::UDP_ZERO_CSUM6_RX,
        change: Some(c"vxlan: cannot change UDP_ZERO_CSUM6_RX flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_UDP_ZERO_CSUM6_RX (udp6zerocsumrx)",
    },
    Unsupported {
        ty: attr::REMCSUM_TX,
        change: Some(c"vxlan: cannot change REMCSUM_TX flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_REMCSUM_TX (remcsumtx)",
    },
    Unsupported {
        ty: attr::REMCSUM_RX,
        change: Some(c"vxlan: cannot change REMCSUM_RX flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_REMCSUM_RX (remcsumrx)",
    },
    Unsupported {
        ty: attr::GBP,
        change: Some(c"vxlan: cannot change GBP flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_GBP (gbp)",
    },
    Unsupported {
        ty: attr::GPE,
        change: Some(c"vxlan: cannot change GPE flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_GPE (gpe)",
    },
];

/// Flags (`NLA_FLAG`, set by presence) rvxlan does not implement, and the
/// last of `vxlan_nl2conf()`'s unsupported attributes.
const UNSUPPORTED_LATE: [Unsupported; 2] = [
    Unsupported {
        ty: attr::REMCSUM_NOPARTIAL,
        change: Some(c"vxlan: cannot change REMCSUM_NOPARTIAL flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_REMCSUM_NOPARTIAL (remcsum_nopartial)",
    },
    // Not in vxlan_flag_attr_error()'s list: its default message.
    Unsupported {
        ty: attr::VNIFILTER,
        change: Some(c"vxlan: cannot change flag"),
        msg: c"rvxlan does not support IFLA_VXLAN_VNIFILTER (vnifilter)",
    },
];

/// Whether attribute `ty`'s value asks for what rvxlan does.
fn is_rvxlan_behaviour(req: &Request<'_>, ty: u16) -> bool {
    match ty {
        // Presence alone sets these flags.
        attr::TTL_INHERIT | attr::GBP | attr::GPE | attr::REMCSUM_NOPARTIAL => false,
        // 0 is "no underlay device" for Linux too.
        attr::LINK => req.u32(ty) == Some(0),
        // Linux keeps only the flow-label bits (`& IPV6_FLOWLABEL_MASK`).
        attr::LABEL => req
            .bytes::<4>(ty)
            .is_some_and(|b| u32::from_be_bytes(b) & FLOWLABEL_MASK == 0),
        // VXLAN_LABEL_FIXED.
        attr::LABEL_POLICY => req.u32(ty) == Some(0),
        // rvxlan sends IPv4 UDP checksum zero (tunnel_glue.c rvx_tx_v4):
        // `noudpcsum`, Linux's VXLAN_F_UDP_ZERO_CSUM_TX.
        attr::UDP_CSUM => req.u8(ty) == Some(0),
        // Every other one is a u8 switch whose "off" rvxlan does.
        _ => req.u8(ty) == Some(0),
    }
}

fn check_unsupported(
    req: &Request<'_>,
    list: &[Unsupported],
    changing: bool,
) -> Result<(), AttrError> {
    for u in list {
        if req.get(u.ty).is_none() {
            continue;
        }
        if let (true, Some(m)) = (changing, u.change) {
            return Err(refuse(Errno::NotSupported, m, At::Data(u.ty)));
        }
        if !is_rvxlan_behaviour(req, u.ty) {
            return Err(refuse(Errno::NotSupported, u.msg, At::Data(u.ty)));
        }
    }
    Ok(())
}

fn family_of(ty: u16) -> Family {
    match ty {
        attr::GROUP6 | attr::LOCAL6 => Family::V6,
        _ => Family::V4,
    }
}

/// `vxlan_nl2conf()`: the change `req` asks for. `current` is the
/// device's configuration for changelink, `None` for newlink. The value
/// rules that need the whole configuration are [`Config::create`]'s and
/// [`Config::apply`]'s.
pub fn change(req: &Request<'_>, current: Option<&Config>) -> Result<Change, AttrError> {
    let changing = current.is_some();
    let mut c = Change::default();
    if let Some(id) = req.u32(attr::ID) {
        c.vni = Some(id);
    }
    // GROUP wins over GROUP6, LOCAL over LOCAL6, as in Linux.
    let group = [attr::GROUP, attr::GROUP6]
        .into_iter()
        .find(|t| req.get(*t).is_some());
    if let Some(ty) = group {
        if current.is_some_and(|cur| cur.family() != family_of(ty)) {
            return Err(refuse(
                Errno::NotSupported,
                c"New group address family does not match old group",
                At::Data(ty),
            ));
        }
        c.remote = if ty == attr::GROUP {
            req.v4(ty)
        } else {
            req.v6(ty)
        };
    }
    let local = [attr::LOCAL, attr::LOCAL6]
        .into_iter()
        .find(|t| req.get(*t).is_some());
    if let Some(ty) = local {
        if current.is_some_and(|cur| cur.family() != family_of(ty)) {
            return Err(refuse(
                Errno::NotSupported,
                c"New local address family does not match old",
                At::Data(ty),
            ));
        }
        c.local = if ty == attr::LOCAL {
            req.v4(ty)
        } else {
            req.v6(ty)
        };
    }
    c.tos = req.u8(attr::TOS);
    c.ttl = req.u8(attr::TTL);
    check_unsupported(req, &UNSUPPORTED[..4], changing)?;
    // Any non-zero value turns learning on (vxlan_nl2flag()).
    c.learning = req.u8(attr::LEARNING).map(|l| u8::from(l != 0));
    c.ageing = req.u32(attr::AGEING);
    check_unsupported(req, &UNSUPPORTED[4..8], changing)?;
    if let Some(limit) = req.u32(attr::LIMIT) {
        if changing {
            return Err(refuse(
                Errno::NotSupported,
                c"Cannot change limit",
                At::Data(attr::LIMIT),
            ));
        }
        c.limit = Some(limit);
    }
    check_unsupported(req, &UNSUPPORTED[8..9], changing)?;
    if let Some(range) = req.port_range() {
        if changing {
            return Err(refuse(
                Errno::NotSupported,
                c"Cannot change port range",
                At::Data(attr::PORT_RANGE),
            ));
        }
        c.src_ports = Some(range);
    }
    if let Some(port) = req.be16(attr::PORT) {
        if changing {
            return Err(refuse(
                Errno::NotSupported,
                c"Cannot change port",
                At::Data(attr::PORT),
            ));
        }
        c.port = Some(port);
    }
    check_unsupported(req, &UNSUPPORTED[9..], changing)?;
    if req.mtu.is_some() && changing {
        return Err(refuse(Errno::NotSupported, c"Cannot change mtu", At::Mtu));
    }
    c.df = req.u8(attr::DF);
    check_unsupported(req, &UNSUPPORTED_LATE, changing)?;
    Ok(c)
}

/// Most attributes [`fill`] writes.
pub const FILL_MAX: usize = 32;

/// One attribute to write: type, length and the first `len` bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Nla {
    /// `nla_type`.
    pub ty: u16,
    /// Payload length.
    pub len: u16,
    /// Payload (IPv6 addresses are the longest).
    pub data: [u8; 16],
}

impl Nla {
    fn new(ty: u16, bytes: &[u8]) -> Self {
        let mut data = [0; 16];
        data[..bytes.len()].copy_from_slice(bytes);
        Self {
            ty,
            len: bytes.len() as u16,
            data,
        }
    }
}

fn addr_bytes(a: &IpAddr) -> ([u8; 16], usize) {
    let mut b = [0; 16];
    match a {
        IpAddr::V4(v4) => {
            b[..4].copy_from_slice(&v4.octets());
            (b, 4)
        }
        IpAddr::V6(v6) => (v6.octets(), 16),
    }
}

/// `vxlan_fill_info()` for `c`: the attributes, in Linux's order, into
/// `out`; returns how many. Those rvxlan does not implement are written
/// with the value of what it does (as [`change`] accepts them), so that
/// `ip -d link show` prints the same keywords as for Linux vxlan.
pub fn fill(c: &Config, out: &mut [Nla; FILL_MAX]) -> usize {
    let mut n = 0;
    let mut put = |nla: Nla| {
        out[n] = nla;
        n += 1;
    };
    // A device created without a VNI has none yet (rvxlan's addition:
    // Linux's has VNI 0); it shows none rather than a VNI it lacks.
    if let Some(vni) = c.vni {
        put(Nla::new(attr::ID, &vni.get().to_ne_bytes()));
    }
    for (a, v4, v6) in [
        (c.remote, attr::GROUP, attr::GROUP6),
        (c.local, attr::LOCAL, attr::LOCAL6),
    ] {
        if let Some(a) = a.filter(|a| !a.is_unspecified()) {
            let (b, len) = addr_bytes(&a);
            put(Nla::new(if len == 4 { v4 } else { v6 }, &b[..len]));
        }
    }
    let u8s = |v: &[(u16, u8)], put: &mut dyn FnMut(Nla)| {
        for (t, b) in v {
            put(Nla::new(*t, &[*b]));
        }
    };
    u8s(
        &[
            (attr::TTL, c.ttl),
            (attr::TTL_INHERIT, 0),
            (attr::TOS, c.tos),
            (attr::DF, c.df),
        ],
        &mut put,
    );
    put(Nla::new(attr::LABEL, &0u32.to_be_bytes()));
    put(Nla::new(attr::LABEL_POLICY, &0u32.to_ne_bytes()));
    u8s(
        &[
            (attr::LEARNING, u8::from(c.learning)),
            (attr::PROXY, 0),
            (attr::RSC, 0),
            (attr::L2MISS, 0),
            (attr::L3MISS, 0),
            (attr::COLLECT_METADATA, 0),
        ],
        &mut put,
    );
    put(Nla::new(attr::AGEING, &c.ageing.to_ne_bytes()));
    put(Nla::new(attr::LIMIT, &c.limit.to_ne_bytes()));
    put(Nla::new(attr::PORT, &c.port.to_be_bytes()));
    u8s(
        &[
            (attr::UDP_CSUM, 0),
            (attr::UDP_ZERO_CSUM6_TX, 0),
            (attr::UDP_ZERO_CSUM6_RX, 0),
            (attr::REMCSUM_TX, 0),
            (attr::REMCSUM_RX, 0),
            (attr::LOCALBYPASS, 0),
        ],
        &mut put,
    );
    let (low, high) = c.src_ports;
    let mut range = [0; 4];
    range[..2].copy_from_slice(&low.to_be_bytes());
    range[2..].copy_from_slice(&high.to_be_bytes());
    put(Nla::new(attr::PORT_RANGE, &range));
    n
}

/// Netlink request flags (`include/uapi/linux/netlink.h`) an FDB add
/// carries: `bridge fdb add` sends CREATE|EXCL, `append` CREATE|APPEND,
/// `replace` CREATE|REPLACE.
pub mod nlm_f {
    /// `NLM_F_REPLACE`.
    pub const REPLACE: u16 = 0x100;
    /// `NLM_F_EXCL`.
    pub const EXCL: u16 = 0x200;
    /// `NLM_F_CREATE`.
    pub const CREATE: u16 = 0x400;
    /// `NLM_F_APPEND`.
    pub const APPEND: u16 = 0x800;
}

/// What an FDB add does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdbAdd {
    /// A new entry (for the all-zeros MAC: the first flood-list remote).
    Create,
    /// The unicast entry's destination becomes the given one.
    Replace,
    /// The destination joins the flood list, if not there yet.
    Append,
    /// Nothing changes, and the request succeeds.
    Nothing,
}

/// Linux 6.12 `vxlan_fdb_update()` and `vxlan_fdb_update_existing()`
/// (drivers/net/vxlan/vxlan_core.c) for an entry that `exists` or not, of
/// the all-zeros MAC (`flood`) or a unicast one: no entry and no CREATE is
/// `ENOENT`; an entry and EXCL is `EEXIST`, both without a message; REPLACE
/// changes a unicast destination and is refused on the flood entry;
/// APPEND adds to the flood entry only; anything else succeeds and
/// changes nothing (an append to a unicast MAC, for one).
pub fn fdb_add(flags: u16, exists: bool, flood: bool) -> Result<FdbAdd, ConfigError> {
    let fail = |errno, msg| Err(ConfigError { errno, msg });
    if !exists {
        return if flags & nlm_f::CREATE != 0 {
            Ok(FdbAdd::Create)
        } else {
            fail(Errno::NoEntry, c"")
        };
    }
    if flags & nlm_f::EXCL != 0 {
        return fail(Errno::Exists, c"");
    }
    if flags & nlm_f::REPLACE != 0 {
        return if flood {
            fail(
                Errno::NotSupported,
                c"Cannot replace non-unicast fdb entries",
            )
        } else {
            Ok(FdbAdd::Replace)
        };
    }
    if flags & nlm_f::APPEND != 0 && flood {
        return Ok(FdbAdd::Append);
    }
    Ok(FdbAdd::Nothing)
}

/// What an FDB delete does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdbDel {
    /// The whole entry goes (for the all-zeros MAC: the flood list).
    Entry,
    /// One destination of several goes.
    Remote,
    /// Nothing changes, and the request succeeds.
    Nothing,
}

/// Linux 6.12 `__vxlan_fdb_delete()`: no entry is `ENOENT` (no message);
/// a destination given that the entry does not have changes nothing and
/// succeeds; one of several destinations goes alone; otherwise the entry.
/// `dsts` is how many destinations the entry has, `found` whether the one
/// given (`given`) is among them.
pub fn fdb_del(dsts: usize, given: bool, found: bool) -> Result<FdbDel, ConfigError> {
    if dsts == 0 {
        return Err(ConfigError {
            errno: Errno::NoEntry,
            msg: c"",
        });
    }
    Ok(match (given, found) {
        (true, false) => FdbDel::Nothing,
        (true, true) if dsts > 1 => FdbDel::Remote,
        _ => FdbDel::Entry,
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    /// A request with `data` as `(type, bytes)` pairs.
    fn req<'a>(data: &[(u16, &'a [u8])]) -> Request<'a> {
        let mut d = [None; SLOTS];
        for (t, b) in data {
            d[usize::from(*t)] = Some(*b);
        }
        Request {
            data: Some(d),
            address: None,
            mtu: None,
            kind_vxlan: true,
        }
    }

    fn msg(e: AttrError) -> String {
        String::from(e.error.msg.to_str().unwrap())
    }

    /// The numbers agree with the system's `<linux/if_link.h>` for every
    /// attribute it has (Debian bookworm's headers are 6.1: up to
    /// LOCALBYPASS at most); the kernel glue compares all of them with
    /// the kernel's header when the module loads (`rvx_abi_check`).
    #[test]
    fn numbers_agree_with_the_uapi_header() {
        let h = std::fs::read_to_string("/usr/include/linux/if_link.h")
            .expect("linux-libc-dev's if_link.h");
        let start = h.find("IFLA_VXLAN_UNSPEC").expect("the IFLA_VXLAN enum");
        let names: Vec<&str> = h[start..]
            .lines()
            .map(|l| l.trim().split([',', ' ', '\t']).next().unwrap_or(""))
            .take_while(|n| *n != "__IFLA_VXLAN_MAX")
            .filter(|n| n.starts_with("IFLA_VXLAN_"))
            .collect();
        assert!(names.len() > attr::DF as usize, "{names:?}");
        for (i, a) in attr::ALL.iter().enumerate() {
            assert_eq!(usize::from(*a), i + 1);
        }
        for (i, n) in names.iter().enumerate() {
            assert_eq!(NAMES[i], *n);
        }
    }

    #[test]
    fn validate_as_linux() {
        const ID: [u8; 4] = 100u32.to_ne_bytes();
        let ok = req(&[(attr::ID, &ID)]);
        assert_eq!(validate(&ok), Ok(()));
        let cases: [(Request<'_>, Errno, &str); 6] = [
            (
                req(&[(attr::ID, &[0, 0, 0, 1])]),
                Errno::Range,
                "VXLAN ID must be lower than 16777216",
            ),
            (
                req(&[(attr::PORT_RANGE, &[0, 10, 0, 9])]),
                Errno::Invalid,
                "Invalid source port range",
            ),
            (
                req(&[(attr::DF, &[3])]),
                Errno::Invalid,
                "Invalid DF attribute",
            ),
            (
                Request { data: None, ..ok },
                Errno::Invalid,
                "Required attributes not provided to perform the operation",
            ),
            (
                Request {
                    address: Some(&[1, 2, 3, 4, 5, 6]),
                    ..ok
                },
                Errno::AddrNotAvail,
                "Provided Ethernet address is not unicast",
            ),
            (
                Request {
                    mtu: Some(67),
                    ..ok
                },
                Errno::Invalid,
                "MTU must be between 68 and 65535",
            ),
        ];
        for (r, errno, m) in cases {
            let e = validate(&r).unwrap_err();
            assert_eq!((e.error.errno, msg(e).as_str()), (errno, m));
        }
        // As kind rvxlan, iproute2's plugin-less request makes an
        // unconfigured device.
        let bare = Request {
            data: None,
            kind_vxlan: false,
            ..ok
        };
        assert_eq!(validate(&bare), Ok(()));
        // Equal ends are a valid range for Linux.
        assert_eq!(
            validate(&req(&[(attr::PORT_RANGE, &[0, 10, 0, 10])])),
            Ok(())
        );
    }

    #[test]
    fn reads_what_iproute2_sends() {
        // ip link add vx0 type vxlan id 100 remote 10.0.0.2 local 10.0.0.1
        //   dstport 4789 ttl 9 tos 1 df inherit ageing 60 maxaddress 10
        //   srcport 1000 2000 nolearning noproxy
        const ID: [u8; 4] = 100u32.to_ne_bytes();
        const PORT: [u8; 2] = 4789u16.to_be_bytes();
        const AGEING: [u8; 4] = 60u32.to_ne_bytes();
        const LIMIT: [u8; 4] = 10u32.to_ne_bytes();
        let r = req(&[
            (attr::ID, &ID),
            (attr::GROUP, &[10, 0, 0, 2]),
            (attr::LOCAL, &[10, 0, 0, 1]),
            (attr::PORT, &PORT),
            (attr::TTL, &[9]),
            (attr::TOS, &[1]),
            (attr::DF, &[2]),
            (attr::AGEING, &AGEING),
            (attr::LIMIT, &LIMIT),
            (attr::PORT_RANGE, &[0x03, 0xe8, 0x07, 0xd0]),
            (attr::LEARNING, &[0]),
            (attr::PROXY, &[0]),
        ]);
        let c = change(&r, None).unwrap();
        assert_eq!(c.vni, Some(100));
        assert_eq!(c.remote, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))));
        assert_eq!(c.local, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
        assert_eq!(
            (
                c.port,
                c.ttl,
                c.tos,
                c.df,
                c.ageing,
                c.limit,
                c.src_ports,
                c.learning
            ),
            (
                Some(4789),
                Some(9),
                Some(1),
                Some(2),
                Some(60),
                Some(10),
                Some((1000, 2000)),
                Some(0)
            )
        );
        // Any non-zero LEARNING is on; GROUP wins over GROUP6.
        let c = change(
            &req(&[
                (attr::LEARNING, &[7]),
                (attr::GROUP, &[10, 0, 0, 3]),
                (attr::GROUP6, &[0xfd; 16]),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(c.learning, Some(1));
        assert_eq!(c.remote, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3))));
    }

    #[test]
    fn changelink_rules_and_messages_are_linux() {
        let cur = Config::create(&Change {
            vni: Some(5),
            ..Change::default()
        })
        .unwrap();
        for (r, m) in [
            (req(&[(attr::PORT, &[0x12, 0xb5])]), "Cannot change port"),
            (
                req(&[(attr::PORT_RANGE, &[0, 1, 0, 2])]),
                "Cannot change port range",
            ),
            (req(&[(attr::LIMIT, &[1, 0, 0, 0])]), "Cannot change limit"),
            (
                req(&[(attr::PROXY, &[0])]),
                "vxlan: cannot change PROXY flag",
            ),
            (
                req(&[(attr::UDP_CSUM, &[0])]),
                "Cannot change UDP_CSUM flag",
            ),
            (req(&[(attr::VNIFILTER, &[0])]), "vxlan: cannot change flag"),
            (
                req(&[(attr::TTL_INHERIT, &[])]),
                "vxlan: cannot change TTL_INHERIT flag",
            ),
            (
                req(&[(attr::GROUP6, &[0xfd; 16])]),
                "New group address family does not match old group",
            ),
            (
                req(&[(attr::LOCAL6, &[0xfd; 16])]),
                "New local address family does not match old",
            ),
        ] {
            let e = change(&r, Some(&cur)).unwrap_err();
            assert_eq!((e.error.errno, msg(e).as_str()), (Errno::NotSupported, m));
        }
        let mtu = Request {
            mtu: Some(1400),
            ..req(&[])
        };
        assert_eq!(change(&mtu, Some(&cur)).unwrap_err().at, At::Mtu);
        assert!(change(&mtu, None).is_ok());
        // What may change.
        let c = change(
            &req(&[
                (attr::TTL, &[3]),
                (attr::LEARNING, &[0]),
                (attr::LOCALBYPASS, &[0]),
                (attr::GROUP, &[10, 0, 0, 9]),
            ]),
            Some(&cur),
        )
        .unwrap();
        assert_eq!((c.ttl, c.learning), (Some(3), Some(0)));
    }

    #[test]
    fn unsupported_attributes_are_refused_by_name_unless_they_ask_for_rvxlan() {
        for (t, v) in [
            (attr::LINK, &[2u8, 0, 0, 0][..]),
            (attr::TTL_INHERIT, &[][..]),
            (attr::LABEL, &[0, 0, 0, 5][..]),
            (attr::LABEL_POLICY, &[1, 0, 0, 0][..]),
            (attr::PROXY, &[1][..]),
            (attr::RSC, &[1][..]),
            (attr::L2MISS, &[1][..]),
            (attr::L3MISS, &[1][..]),
            (attr::COLLECT_METADATA, &[1][..]),
            (attr::UDP_CSUM, &[1][..]),
            (attr::LOCALBYPASS, &[1][..]),
            (attr::UDP_ZERO_CSUM6_TX, &[1][..]),
            (attr::UDP_ZERO_CSUM6_RX, &[1][..]),
            (attr::REMCSUM_TX, &[1][..]),
            (attr::REMCSUM_RX, &[1][..]),
            (attr::GBP, &[][..]),
            (attr::GPE, &[][..]),
            (attr::REMCSUM_NOPARTIAL, &[][..]),
            (attr::VNIFILTER, &[1][..]),
        ] {
            let e = change(&req(&[(t, v)]), None).unwrap_err();
            assert_eq!(e.at, At::Data(t));
            assert_eq!(e.error.errno, Errno::NotSupported);
            let m = msg(e);
            assert!(m.contains(NAMES[usize::from(t)]), "{m}");
        }
        for (t, v) in [
            (attr::LINK, &[0u8, 0, 0, 0][..]),
            (attr::LABEL, &[0xff, 0xf0, 0, 0][..]),
            (attr::LABEL_POLICY, &[0, 0, 0, 0][..]),
            (attr::PROXY, &[0][..]),
            (attr::UDP_CSUM, &[0][..]),
            (attr::LOCALBYPASS, &[0][..]),
            (attr::VNIFILTER, &[0][..]),
        ] {
            assert!(
                change(&req(&[(t, v)]), None).is_ok(),
                "{}",
                NAMES[usize::from(t)]
            );
        }
    }

    #[test]
    fn fill_is_linux_order_and_reads_back() {
        const ID: [u8; 4] = 42u32.to_ne_bytes();
        const PORT: [u8; 2] = 4789u16.to_be_bytes();
        let c = Config::create(
            &change(
                &req(&[
                    (attr::ID, &ID),
                    (
                        attr::GROUP6,
                        &[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
                    ),
                    (attr::TTL, &[4]),
                    (attr::PORT, &PORT),
                ]),
                None,
            )
            .unwrap(),
        )
        .unwrap();
        let mut out = [Nla::default(); FILL_MAX];
        let n = fill(&c, &mut out);
        let types: Vec<u16> = out[..n].iter().map(|a| a.ty).collect();
        assert_eq!(
            types,
            [
                attr::ID,
                attr::GROUP6,
                attr::TTL,
                attr::TTL_INHERIT,
                attr::TOS,
                attr::DF,
                attr::LABEL,
                attr::LABEL_POLICY,
                attr::LEARNING,
                attr::PROXY,
                attr::RSC,
                attr::L2MISS,
                attr::L3MISS,
                attr::COLLECT_METADATA,
                attr::AGEING,
                attr::LIMIT,
                attr::PORT,
                attr::UDP_CSUM,
                attr::UDP_ZERO_CSUM6_TX,
                attr::UDP_ZERO_CSUM6_RX,
                attr::REMCSUM_TX,
                attr::REMCSUM_RX,
                attr::LOCALBYPASS,
                attr::PORT_RANGE,
            ]
        );
        // What fill writes, change reads as the same configuration; but
        // TTL_INHERIT, which Linux fills as a u8 and parses as a flag
        // (present = set), as vxlan_fill_info() and vxlan_policy do.
        let mut d = [None; SLOTS];
        for a in out[..n].iter().filter(|a| a.ty != attr::TTL_INHERIT) {
            d[usize::from(a.ty)] = Some(&a.data[..usize::from(a.len)]);
        }
        let again = Request {
            data: Some(d),
            address: None,
            mtu: None,
            kind_vxlan: true,
        };
        let mut c2 = Config::create(&change(&again, None).unwrap()).unwrap();
        c2.limit = c.limit;
        assert_eq!(c2, c);
        // Linux's defaults: ageing 300, srcport 0 0 (the local port
        // range), port 8472 without IFLA_VXLAN_PORT.
        let d = Config::create(&change(&req(&[(attr::ID, &[1, 0, 0, 0])]), None).unwrap()).unwrap();
        assert_eq!((d.ageing, d.src_ports, d.port), (300, (0, 0), 8472));
    }

    /// Linux's FDB add and delete outcomes, per `bridge fdb` command.
    #[test]
    fn fdb_add_and_del_follow_linux() {
        use super::nlm_f::*;
        let add = CREATE | EXCL;
        let append = CREATE | APPEND;
        let replace = CREATE | REPLACE;
        let errno =
            |r: Result<FdbAdd, ConfigError>| r.map_err(|e| (e.errno, e.msg.to_bytes().len()));
        assert_eq!(fdb_add(add, false, false), Ok(FdbAdd::Create));
        assert_eq!(errno(fdb_add(add, true, false)), Err((Errno::Exists, 0)));
        assert_eq!(errno(fdb_add(add, true, true)), Err((Errno::Exists, 0)));
        assert_eq!(fdb_add(append, true, false), Ok(FdbAdd::Nothing));
        assert_eq!(fdb_add(append, true, true), Ok(FdbAdd::Append));
        assert_eq!(fdb_add(append, false, true), Ok(FdbAdd::Create));
        assert_eq!(fdb_add(replace, true, false), Ok(FdbAdd::Replace));
        assert_eq!(fdb_add(replace, false, false), Ok(FdbAdd::Create));
        assert_eq!(
            fdb_add(replace, true, true).map_err(|e| e.errno),
            Err(Errno::NotSupported)
        );
        assert_eq!(errno(fdb_add(EXCL, false, false)), Err((Errno::NoEntry, 0)));
        assert_eq!(
            fdb_del(0, true, false).map_err(|e| e.errno),
            Err(Errno::NoEntry)
        );
        assert_eq!(fdb_del(1, true, false), Ok(FdbDel::Nothing));
        assert_eq!(fdb_del(1, true, true), Ok(FdbDel::Entry));
        assert_eq!(fdb_del(2, true, true), Ok(FdbDel::Remote));
        assert_eq!(fdb_del(2, false, false), Ok(FdbDel::Entry));
    }
}
