// SPDX-License-Identifier: GPL-2.0

//! The data path's decisions: where a frame goes on transmit (FDB or
//! flood list, with head-end replication), and what a received header and
//! frame are worth (demux key, size, learning). The C glue does the
//! sk_buff work around them.

use crate::config::Remotes;
use crate::fdb::{self, Learned};
use crate::glue::{self, RvxAddr, RvxTxFrame, RvxTxParams};
use crate::header::{self, HeaderError, HEADER_LEN};
use crate::skb::Skb;
use crate::src_port;
use crate::tunnel::Tunnel;
use crate::uapi::Counter;
use core::net::IpAddr;

const ETH_HLEN: u32 = 14;

/// Why [`Tunnel::receive`] drops a frame; the C glue turns it into the
/// skb drop reason (`glue::RVX_RX_DROP_*`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RxDrop {
    /// Longer than the MTU allows.
    TooBig,
    /// The device's own MAC as source: a loop.
    OwnSource,
}
/// Room for one 802.1Q tag beyond the MTU, as Ethernet devices allow.
const VLAN_HLEN: u32 = 4;

/// The header's verdict for the C receive path: the VNI, the VNI with
/// [`glue::RVX_RX_RESERVED_BITS`], or [`glue::RVX_RX_NO_VNI_FLAG`].
pub(crate) fn classify_header(hdr: &[u8; HEADER_LEN]) -> i64 {
    match header::decode(hdr) {
        Ok(vni) => i64::from(vni.get()),
        Err(HeaderError::ReservedBits(vni)) => i64::from(vni.get()) | glue::RVX_RX_RESERVED_BITS,
        Err(HeaderError::NoVniFlag) | Err(HeaderError::Truncated) => glue::RVX_RX_NO_VNI_FLAG,
    }
}

impl Tunnel {
    /// Sends one frame from the stack: to the FDB entry of its
    /// destination MAC, or (broadcast, multicast, unknown unicast) a copy
    /// to every remote of the flood list. Consumes `skb`.
    pub(crate) fn xmit(&self, skb: Skb, frame: &RvxTxFrame, dst: &fdb::Mac) {
        let me = self.me();
        let (params, ep, cached, dests) = {
            let st = self.lock();
            let c = &st.config;
            let (Some(vni), Some((_, _, ep)), true) = (c.vni, st.claim, st.open) else {
                drop(st);
                return self.drop_tx(skb, Counter::TxNoDestination);
            };
            if frame.gso == 0 && frame.len > frame.mtu + ETH_HLEN + VLAN_HLEN {
                drop(st);
                return self.drop_tx(skb, Counter::TxTooBig);
            }
            let known = if fdb::is_unicast(dst) {
                // SAFETY: plain clock read.
                let now = unsafe { glue::rvx_now_ms() };
                st.fdb.lookup(dst, now, u64::from(c.ageing) * 1000)
            } else {
                None
            };
            // The FDB's remote, or the whole flood list.
            let dests = match known {
                Some(remote) => {
                    let mut one = Remotes::default();
                    one.push(remote);
                    one
                }
                None => c.remotes,
            };
            let mut vxh = [0; HEADER_LEN];
            header::encode(vni, &mut vxh);
            let params = RvxTxParams {
                saddr: RvxAddr::from_ip(c.local.as_ref()),
                daddr: RvxAddr::default(),
                vxh,
                sport: src_port::src_port(frame.hash, c.src_ports.0, c.src_ports.1),
                dport: c.port,
                ttl: c.ttl,
                tos: c.tos,
                df: c.df,
                use_dst_cache: 0,
                pmtu_reply: 0,
            };
            (params, ep, c.remotes.as_slice().first().copied(), dests)
        };
        let n = dests.as_slice().len();
        if n == 0 {
            return self.drop_tx(skb, Counter::TxNoDestination);
        }
        let mut params = params;
        let mut skb = Some(skb);
        for (i, dest) in dests.as_slice().iter().enumerate() {
            // Head-end replication: a clone for all but the last copy.
            let copy = if i + 1 == n {
                skb.take()
            } else {
                skb.as_ref().and_then(Skb::try_clone)
            };
            let Some(copy) = copy else {
                self.count(Counter::TxNoBuffer);
                continue;
            };
            params.daddr = RvxAddr::from_ip(Some(dest));
            params.use_dst_cache = u8::from(Some(*dest) == cached);
            // One ICMP "too big" per frame, however many remotes it is
            // flooded to: only the last copy may answer.
            params.pmtu_reply = u8::from(i + 1 == n);
            // SAFETY: `copy` is ours and consumed by the call; `me` is
            // this tunnel; `ep` is its endpoint, whose socket is open
            // while the device is up (and we are transmitting).
            let rc = unsafe { glue::rvx_tx_one(copy.into_raw(), me, ep, &params) };
            match rc {
                glue::RVX_TX_OK => {}
                glue::RVX_TX_NO_ROUTE => self.count(Counter::TxNoRoute),
                glue::RVX_TX_TOO_BIG => self.count(Counter::TxTooBig),
                glue::RVX_TX_NO_BUFFER => self.count(Counter::TxNoBuffer),
                glue::RVX_TX_WRONG_FAMILY => self.count(Counter::TxWrongFamily),
                _ => self.count(Counter::TxNoRoute),
            }
        }
    }

    fn drop_tx(&self, skb: Skb, why: Counter) {
        self.count(why);
        // SAFETY: `me()` is this tunnel inside a live device (`Tunnel`'s
        // invariant).
        unsafe { glue::rvx_tx_dropped(glue::rvx_netdev(self.me())) };
        drop(skb);
    }

    /// Judges a decapsulated frame (`eth`: its Ethernet header, `len`
    /// bytes in all) from the outer source `src`, and learns its source
    /// MAC. Returns whether to deliver it, or why not (counted).
    pub(crate) fn receive(
        &self,
        eth: &[u8; 14],
        own_mac: &[u8; 6],
        len: u32,
        mtu: u32,
        gso: bool,
        src: IpAddr,
    ) -> Result<(), RxDrop> {
        if !gso && len > mtu + ETH_HLEN + VLAN_HLEN {
            self.count(Counter::RxTooBig);
            return Err(RxDrop::TooBig);
        }
        let mut smac = [0; 6];
        smac.copy_from_slice(&eth[6..12]);
        if smac == *own_mac {
            self.count(Counter::RxOwnSource);
            return Err(RxDrop::OwnSource);
        }
        if !fdb::is_unicast(&smac) {
            return Ok(());
        }
        // SAFETY: plain clock read.
        let now = unsafe { glue::rvx_now_ms() };
        if self.recent_source.is_recent(&smac, &src, now) {
            return Ok(());
        }
        let (learned, grow, old_storage) = {
            let mut st = self.lock();
            if !st.config.learning {
                return Ok(());
            }
            let ageing_ms = u64::from(st.config.ageing) * 1000;
            let (learned, old) = st.fdb.learn(smac, src, now, ageing_ms);
            (
                learned,
                learned == Learned::Full && st.fdb.growth_blocked(),
                old,
            )
        };
        // Freed outside the lock.
        drop(old_storage);
        if grow {
            // SAFETY: `me()` is this tunnel in its live device (type
            // invariant); the glue cancels the work before freeing it.
            unsafe { glue::rvx_fdb_grow_schedule(self.me()) };
        }
        if matches!(learned, Learned::New | Learned::Moved | Learned::Refreshed) {
            self.recent_source.remember(&smac, &src, now);
        }
        match learned {
            Learned::New => self.count(Counter::LearnedNew),
            Learned::Moved => self.count(Counter::LearnedMoved),
            Learned::Full => self.count(Counter::LearnFull),
            Learned::Refreshed | Learned::Ignored => {}
        }
        Ok(())
    }
}
