// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C glue (see `glue.h` for the C side and for who
//! does what), and `#[repr(C)]` mirrors of the structs that cross it;
//! `rvx_abi_check` compares their sizes with C's when the module loads.

use crate::netlink::SLOTS;
use crate::uapi::Counter;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use kernel::bindings;
use kernel::ffi::c_int;

/// `AF_INET` and `AF_INET6`.
pub(crate) const AF_INET: u16 = bindings::AF_INET as u16;
pub(crate) const AF_INET6: u16 = bindings::AF_INET6 as u16;

/// `struct rvx_addr`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct RvxAddr {
    pub(crate) family: u16,
    pub(crate) addr: [u8; 16],
}

impl RvxAddr {
    /// The address, if the family is one.
    pub(crate) fn get(&self) -> Option<IpAddr> {
        match self.family {
            AF_INET => {
                let [a, b, c, d, ..] = self.addr;
                Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
            }
            AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(self.addr))),
            _ => None,
        }
    }

    /// The C form of `addr`.
    pub(crate) fn from_ip(addr: Option<&IpAddr>) -> Self {
        let mut out = Self::default();
        match addr {
            Some(IpAddr::V4(v4)) => {
                out.family = AF_INET;
                out.addr[..4].copy_from_slice(&v4.octets());
            }
            Some(IpAddr::V6(v6)) => {
                out.family = AF_INET6;
                out.addr = v6.octets();
            }
            None => {}
        }
        out
    }
}

/// `struct rvx_request`: one `RTM_NEWLINK`'s attributes, as pointers
/// into the message and lengths.
#[repr(C)]
pub(crate) struct RvxRequest {
    pub(crate) data: [*const u8; SLOTS],
    pub(crate) len: [u16; SLOTS],
    pub(crate) address_len: u16,
    pub(crate) has_data: u8,
    pub(crate) has_mtu: u8,
    pub(crate) kind_vxlan: u8,
    pub(crate) pad: u8,
    pub(crate) address: *const u8,
    pub(crate) mtu: u32,
}

/// `RVX_BAD_*`: the top-level attributes a refusal may point at.
pub(crate) const RVX_BAD_ADDRESS: u32 = 0x10000;
pub(crate) const RVX_BAD_MTU: u32 = 0x20000;

/// `struct rvx_fdb_entry`.
#[repr(C)]
pub(crate) struct RvxFdbEntry {
    pub(crate) mac: [u8; 6],
    pub(crate) is_static: u8,
    pub(crate) is_remote: u8,
    pub(crate) idle_ms: u32,
    pub(crate) remote: RvxAddr,
}

/// `struct rvx_tx_params`.
#[repr(C)]
pub(crate) struct RvxTxParams {
    pub(crate) saddr: RvxAddr,
    pub(crate) daddr: RvxAddr,
    pub(crate) vxh: [u8; 8],
    pub(crate) sport: u16,
    pub(crate) dport: u16,
    pub(crate) ttl: u8,
    pub(crate) tos: u8,
    pub(crate) df: u8,
    pub(crate) use_dst_cache: u8,
    pub(crate) pmtu_reply: u8,
}

/// `struct rvx_tx_frame`.
#[repr(C)]
pub(crate) struct RvxTxFrame {
    pub(crate) eth: *const u8,
    pub(crate) len: u32,
    pub(crate) hash: u32,
    pub(crate) mtu: u32,
    pub(crate) gso: u8,
}

/// `rvx_tx_one()` results.
pub(crate) const RVX_TX_OK: c_int = 0;
pub(crate) const RVX_TX_NO_ROUTE: c_int = 1;
pub(crate) const RVX_TX_NO_BUFFER: c_int = 2;
pub(crate) const RVX_TX_TOO_BIG: c_int = 3;
pub(crate) const RVX_TX_WRONG_FAMILY: c_int = 4;

/// `rvxlan_rx_frame()` results besides 0 (deliver).
pub(crate) const RVX_RX_DROP_TOO_BIG: c_int = 1;
pub(crate) const RVX_RX_DROP_OWN_SOURCE: c_int = 2;

/// `rvxlan_rx_header()` results beyond a plain VNI.
pub(crate) const RVX_RX_RESERVED_BITS: i64 = 1 << 24;
pub(crate) const RVX_RX_NO_VNI_FLAG: i64 = -1;

// The C receive path charges these counters by number.
const _: () = assert!(Counter::RxReservedBits as u32 == 4);
const _: () = assert!(Counter::RxInnerTooShort as u32 == 5);
const _: () = assert!(Counter::RxDeviceDown as u32 == 8);
const _: () = assert!(Counter::RxEcnCeNotEct as u32 == 13);

/// `struct rvx_endpoint`, opaque: owned by [`crate::endpoint`].
#[repr(C)]
pub(crate) struct RvxEndpoint {
    _opaque: [u8; 0],
}

// Only pointers to `net`, `net_device`, `sk_buff` cross the boundary.
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rvx_abi_check(
        request: usize,
        nla: usize,
        fdb_entry: usize,
        tx_params: usize,
        tx_frame: usize,
        tunnel_align: usize,
        vxlan_attrs: *const u16,
        n_attrs: usize,
    ) -> c_int;
    pub(crate) fn rvx_rtnl_register(tunnel_size: usize, max_mtu: u32) -> c_int;
    pub(crate) fn rvx_rtnl_unregister();
    pub(crate) fn rvx_rtnl_lock();
    pub(crate) fn rvx_rtnl_unlock();
    pub(crate) fn rvx_now_ms() -> u64;
    pub(crate) fn rvx_bh_disable();
    pub(crate) fn rvx_bh_enable();
    pub(crate) fn rvx_tx_dropped(dev: *mut bindings::net_device);
    pub(crate) fn rvx_underlay(tunnel: *mut u8) -> *mut bindings::net;
    pub(crate) fn rvx_netdev(tunnel: *mut u8) -> *mut bindings::net_device;
    pub(crate) fn rvx_dst_cache_reset(tunnel: *mut u8);
    pub(crate) fn rvx_underlay_capable(tunnel: *mut u8) -> bool;
    pub(crate) fn rvx_fdb_grow_schedule(tunnel: *mut u8);

    pub(crate) fn rvx_endpoint_alloc() -> *mut RvxEndpoint;
    pub(crate) fn rvx_endpoint_free(ep: *mut RvxEndpoint);
    pub(crate) fn rvx_endpoint_open(
        ep: *mut RvxEndpoint,
        net: *mut bindings::net,
        family: u16,
        port: u16,
    ) -> c_int;
    pub(crate) fn rvx_endpoint_close(ep: *mut RvxEndpoint);
    pub(crate) fn rvx_endpoint_claim(ep: *mut RvxEndpoint, vni: u32, tunnel: *mut u8) -> c_int;
    pub(crate) fn rvx_endpoint_unclaim(ep: *mut RvxEndpoint, vni: u32);
    pub(crate) fn rvx_endpoint_publish(ep: *mut RvxEndpoint, vni: u32, tunnel: *mut u8);
    pub(crate) fn rvx_endpoint_unpublish(ep: *mut RvxEndpoint, vni: u32);
    pub(crate) fn rvx_endpoint_counters(ep: *mut RvxEndpoint, out: *mut u64);

    pub(crate) fn rvx_skb_free(skb: *mut bindings::sk_buff);
    pub(crate) fn rvx_skb_clone(skb: *mut bindings::sk_buff) -> *mut bindings::sk_buff;
    pub(crate) fn rvx_tx_one(
        skb: *mut bindings::sk_buff,
        tunnel: *mut u8,
        ep: *mut RvxEndpoint,
        params: *const RvxTxParams,
    ) -> c_int;
}
