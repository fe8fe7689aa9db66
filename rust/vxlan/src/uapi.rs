// SPDX-License-Identifier: GPL-2.0

//! rvxlan's own netlink numbers, shared by the kernel module and the
//! `rvxlan` tool: its limits and the counters it reports in
//! `IFLA_INFO_XSTATS` and `ethtool -S`. The link attributes are Linux
//! vxlan's (`crate::netlink`).
//!
//! The numbers are ABI. `rust/rvxlan/rvxlan_uapi.h` declares the same for
//! the kernel's C side; a host test checks that both agree.

use core::ffi::CStr;

/// Most remote VTEPs per device.
pub const MAX_REMOTES: usize = 32;

/// Highest `IFLA_VXLAN_LIMIT` (Linux's 0, unlimited, is refused).
pub const MAX_LEARNED_LIMIT: u32 = 65536;

/// Values of `IFLA_VXLAN_DF` (`enum ifla_vxlan_df`).
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

    #[test]
    fn c_header_agrees() {
        let h = include_str!("../../rvxlan/rvxlan_uapi.h");
        let defines: std::vec::Vec<_> = h
            .lines()
            .filter(|l| l.starts_with("#define RVXLAN_"))
            .collect();
        assert!(
            defines.contains(&std::format!("#define RVXLAN_MAX_REMOTES {MAX_REMOTES}").as_str())
        );
        assert!(defines.contains(&std::format!("#define RVXLAN_COUNTERS {COUNTERS}").as_str()));
        let fill = crate::netlink::FILL_MAX;
        assert!(defines.contains(&std::format!("#define RVXLAN_FILL_MAX {fill}").as_str()));
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
