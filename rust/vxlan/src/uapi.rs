// SPDX-License-Identifier: GPL-2.0

//! rvxlan's netlink interface, shared by the kernel module and the `rvxlan`
//! tool: the `IFLA_INFO_DATA` attributes of the `rvxlan` link kind and the
//! counters it reports in `IFLA_INFO_XSTATS` and `ethtool -S`.
//!
//! The numbers are ABI. `rust/rvxlan/rvxlan_uapi.h` declares the same for
//! the kernel's C policy table; a host test checks that both agree.

use core::ffi::CStr;

/// Attributes nested in `IFLA_LINKINFO` / `IFLA_INFO_DATA`.
pub mod attr {
    /// `u32`: the VNI, below 2^24.
    pub const VNI: u16 = 1;
    /// `be32`: local IPv4 address (source of encapsulated packets).
    pub const LOCAL: u16 = 2;
    /// 16 bytes: local IPv6 address.
    pub const LOCAL6: u16 = 3;
    /// `be16`: UDP destination port, and the port the tunnel socket binds.
    pub const PORT: u16 = 4;
    /// `{be16 low, be16 high}`: UDP source ports, `low <= port < high`.
    pub const PORT_RANGE: u16 = 5;
    /// `u8`: outer TTL / hop limit; 0 takes the route's default.
    pub const TTL: u16 = 6;
    /// `u8`: outer TOS / traffic class; 1 inherits the inner one.
    pub const TOS: u16 = 7;
    /// `u8`: outer IPv4 DF bit, one of [`super::df`].
    pub const DF: u16 = 8;
    /// `u8`: learn inner source MACs from received frames (0 or 1).
    pub const LEARNING: u16 = 9;
    /// `u32`: seconds a learned entry lives unconfirmed; 0 = forever.
    pub const AGEING: u16 = 10;
    /// `u32`: most learned FDB entries, 1 to [`super::MAX_LEARNED_LIMIT`].
    pub const LIMIT: u16 = 11;
    /// Nested: the remote VTEPs that broadcast, multicast and unknown
    /// unicast frames are replicated to, as [`super::REMOTE_ADDR`]
    /// attributes. Present means "replace the list"; empty clears it.
    pub const REMOTES: u16 = 12;
    /// Highest attribute number.
    pub const MAX: u16 = REMOTES;
}

/// Inside [`attr::REMOTES`]: one address, 4 (IPv4) or 16 (IPv6) bytes.
pub const REMOTE_ADDR: u16 = 1;

/// Most remote VTEPs per device.
pub const MAX_REMOTES: usize = 32;

/// Highest value of [`attr::LIMIT`].
pub const MAX_LEARNED_LIMIT: u32 = 65536;

/// Values of [`attr::DF`], as Linux vxlan's `IFLA_VXLAN_DF`.
pub mod df {
    /// DF clear.
    pub const UNSET: u8 = 0;
    /// DF set.
    pub const SET: u8 = 1;
    /// DF copied from the inner IPv4 header.
    pub const INHERIT: u8 = 2;
}

/// Per-device counters beyond the standard link statistics, in the order
/// of the `u64` array in `IFLA_INFO_XSTATS` and of `ethtool -S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Counter {
    /// Transmit: no FDB entry and no remote to flood to.
    TxNoDestination,
    /// Transmit: the inner frame is longer than the device MTU allows.
    TxTooBig,
    /// Transmit: no underlay route to the remote (or it loops back).
    TxNoRoute,
    /// Transmit: no memory for a copy or for headroom.
    TxNoBuffer,
    /// Receive: a reserved header bit set (extensions are not accepted).
    RxReservedBits,
    /// Receive: the inner frame is shorter than an Ethernet header.
    RxInnerTooShort,
    /// Receive: the inner frame is longer than the device MTU allows.
    RxTooBig,
    /// Receive: the inner source MAC is the device's own (a loop).
    RxOwnSource,
    /// Receive: the device went down while the frame was on its way (a
    /// down device's VNI is not in the demux table: `SockRxVniDown`).
    RxDeviceDown,
    /// Learning: new MACs learned.
    LearnedNew,
    /// Learning: MACs that moved to another remote.
    LearnedMoved,
    /// Learning: MACs not learned because the table was at its limit.
    LearnFull,
    /// Transmit: a destination of the other address family than the
    /// tunnel's socket (the configuration rules make it impossible; the
    /// data path checks again rather than send through the wrong one).
    TxWrongFamily,
    /// Receive: the outer header says CE (congestion experienced) but the
    /// inner packet is not ECN-capable: dropped, as RFC 6040 section 4.2
    /// and Linux tunnels say (the congestion signal cannot be passed on).
    RxEcnCeNotEct,
    /// Shared underlay socket (same for every device on it): datagrams
    /// shorter than a VXLAN header.
    SockRxTruncated,
    /// Shared underlay socket: headers with the I flag clear.
    SockRxNoVniFlag,
    /// Shared underlay socket: VNIs no device on the socket has.
    SockRxUnknownVni,
    /// Shared underlay socket: VNIs of a device that is down (or not yet
    /// registered): claimed, but not reachable by receive.
    SockRxVniDown,
}

/// Number of counters.
pub const COUNTERS: usize = Counter::SockRxVniDown as usize + 1;

/// The counters' names, as `ethtool -S` and `rvxlan show` print them (C
/// strings: the kernel hands them to ethtool as they are).
pub const COUNTER_NAMES: [&CStr; COUNTERS] = [
    c"tx_no_destination",
    c"tx_too_big",
    c"tx_no_route",
    c"tx_no_buffer",
    c"rx_reserved_bits",
    c"rx_inner_too_short",
    c"rx_too_big",
    c"rx_own_source",
    c"rx_device_down",
    c"learned_new",
    c"learned_moved",
    c"learn_full",
    c"tx_wrong_family",
    c"rx_ecn_ce_not_ect",
    c"sock_rx_truncated",
    c"sock_rx_no_vni_flag",
    c"sock_rx_unknown_vni",
    c"sock_rx_vni_down",
];

/// The first counter kept by the shared socket rather than the device.
pub const FIRST_SOCKET_COUNTER: usize = Counter::SockRxTruncated as usize;

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    /// `NAME = N,` lines of an enum in the C header.
    fn c_enum(header: &str, prefix: &str) -> std::vec::Vec<(String, u16)> {
        header
            .lines()
            .filter_map(|l| {
                let l = l.trim().trim_end_matches(',');
                let (name, value) = l.split_once('=')?;
                let name = name.trim();
                name.starts_with(prefix)
                    .then(|| (String::from(name), value.trim().parse().ok()))
                    .and_then(|(n, v)| Some((n, v?)))
            })
            .collect()
    }

    #[test]
    fn c_header_agrees() {
        let h = include_str!("../../rvxlan/rvxlan_uapi.h");
        let attrs = c_enum(h, "IFLA_RVXLAN_");
        let want = [
            ("IFLA_RVXLAN_VNI", attr::VNI),
            ("IFLA_RVXLAN_LOCAL", attr::LOCAL),
            ("IFLA_RVXLAN_LOCAL6", attr::LOCAL6),
            ("IFLA_RVXLAN_PORT", attr::PORT),
            ("IFLA_RVXLAN_PORT_RANGE", attr::PORT_RANGE),
            ("IFLA_RVXLAN_TTL", attr::TTL),
            ("IFLA_RVXLAN_TOS", attr::TOS),
            ("IFLA_RVXLAN_DF", attr::DF),
            ("IFLA_RVXLAN_LEARNING", attr::LEARNING),
            ("IFLA_RVXLAN_AGEING", attr::AGEING),
            ("IFLA_RVXLAN_LIMIT", attr::LIMIT),
            ("IFLA_RVXLAN_REMOTES", attr::REMOTES),
        ];
        assert_eq!(attrs.len(), want.len());
        for (name, value) in want {
            assert!(attrs.contains(&(String::from(name), value)), "{name}");
        }
        assert!(c_enum(h, "RVXLAN_REMOTE_ADDR")
            .contains(&(String::from("RVXLAN_REMOTE_ADDR"), REMOTE_ADDR)));
        let defines: std::vec::Vec<_> = h
            .lines()
            .filter(|l| l.starts_with("#define RVXLAN_"))
            .collect();
        assert!(
            defines.contains(&std::format!("#define RVXLAN_MAX_REMOTES {MAX_REMOTES}").as_str())
        );
        assert!(defines.contains(&std::format!("#define RVXLAN_COUNTERS {COUNTERS}").as_str()));
    }

    #[test]
    fn counter_names_are_ethtool_strings() {
        for n in COUNTER_NAMES {
            assert!(n.to_bytes().len() < 32 && n.to_bytes().is_ascii());
        }
        assert_eq!(
            COUNTER_NAMES[Counter::RxOwnSource as usize],
            c"rx_own_source"
        );
    }
}
