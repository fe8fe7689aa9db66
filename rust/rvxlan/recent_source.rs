// SPDX-License-Identifier: GPL-2.0

//! The receive path's memory of the last source it learned: frames of one
//! flow keep arriving from the same inner MAC and outer address, and
//! their FDB entry was confirmed moments ago, so for up to a second they
//! need neither the state lock nor a table write. This keeps the lock off
//! the per-packet receive path of a busy flow.
//!
//! Only a source that was learned (or refreshed) is remembered, so
//! skipping is never wrong about the entry existing; it delays the entry's
//! time by under a second, well below the ageing granularity. Control-plane
//! changes that may remove entries call [`RecentSource::forget`].

use core::net::IpAddr;
use core::sync::atomic::{AtomicU64, Ordering};

/// How long a remembered source needs no confirmation.
const VALID_MS: u64 = 1000;

/// The remembered source: a 64-bit digest of (MAC, remote) and when.
pub(crate) struct RecentSource {
    key: AtomicU64,
    at_ms: AtomicU64,
}

fn digest(mac: &[u8; 6], remote: &IpAddr) -> u64 {
    // FNV-1a over the MAC and the address; 0 means "nothing remembered".
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |b: u8| h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    mac.iter().for_each(|b| feed(*b));
    match remote {
        IpAddr::V4(a) => a.octets().iter().for_each(|b| feed(*b)),
        IpAddr::V6(a) => a.octets().iter().for_each(|b| feed(*b)),
    }
    h | 1
}

impl RecentSource {
    /// Nothing remembered.
    pub(crate) const fn new() -> Self {
        Self {
            key: AtomicU64::new(0),
            at_ms: AtomicU64::new(0),
        }
    }

    /// Whether (`mac`, `remote`) was learned less than a second before
    /// `now_ms`.
    pub(crate) fn is_recent(&self, mac: &[u8; 6], remote: &IpAddr, now_ms: u64) -> bool {
        self.key.load(Ordering::Relaxed) == digest(mac, remote)
            && now_ms.saturating_sub(self.at_ms.load(Ordering::Relaxed)) < VALID_MS
    }

    /// Remembers (`mac`, `remote`), just learned or refreshed at `now_ms`.
    pub(crate) fn remember(&self, mac: &[u8; 6], remote: &IpAddr, now_ms: u64) {
        // Time first: a reader that sees the new key sees a time at least
        // as recent as the old one, and the entry exists either way.
        self.at_ms.store(now_ms, Ordering::Relaxed);
        self.key.store(digest(mac, remote), Ordering::Relaxed);
    }

    /// Forgets the source (entries may have been removed).
    pub(crate) fn forget(&self) {
        self.key.store(0, Ordering::Relaxed);
    }
}
