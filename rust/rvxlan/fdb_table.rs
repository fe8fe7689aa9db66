// SPDX-License-Identifier: GPL-2.0

//! A device's FDB in kernel memory: the pure table of `fdb.rs` over a
//! `KVec` that grows (doubling, GFP_ATOMIC on the receive path) as entries
//! come, up to a bound, and ageing applied on lookup and by sweeps.

use crate::fdb::{Entry, Fdb, FdbError, Learned, Mac, Origin};
use core::net::IpAddr;
use kernel::alloc::{Flags, KVec};
use kernel::prelude::*;

/// Slots a new device starts with.
const INITIAL_SLOTS: usize = 16;
/// Most slots: the learned-entry limit (at most 65536) plus as many static
/// entries, at three quarters load.
const MAX_SLOTS: usize = 1 << 18;
/// Most static entries.
pub(crate) const MAX_STATIC: usize = 65536;

/// The table.
pub(crate) struct FdbTable {
    fdb: Fdb<KVec<Option<Entry>>>,
    last_sweep_ms: u64,
}

fn storage(slots: usize, flags: Flags) -> Result<KVec<Option<Entry>>> {
    Ok(KVec::from_elem(None, slots, flags)?)
}

impl FdbTable {
    /// An empty table allowing `limit` learned entries.
    pub(crate) fn new(limit: usize, flags: Flags) -> Result<Self> {
        Ok(Self {
            fdb: Fdb::new(storage(INITIAL_SLOTS, flags)?, limit),
            last_sweep_ms: 0,
        })
    }

    /// Makes room for one more entry if the table is getting full; false
    /// if it cannot (bound reached or no memory).
    fn reserve(&mut self, flags: Flags) -> bool {
        if !self.fdb.needs_room() {
            return true;
        }
        let slots = self.fdb.capacity() * 2;
        if slots > MAX_SLOTS {
            return false;
        }
        let Ok(new) = storage(slots, flags) else {
            return false;
        };
        let mut bigger = Fdb::new(new, self.fdb.max_learned());
        for e in self.fdb.iter() {
            bigger.restore(*e);
        }
        self.fdb = bigger;
        true
    }

    /// Sets the learned-entry limit.
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.fdb.set_max_learned(limit);
    }

    /// The remote for `mac`: a static entry, or a learned one younger
    /// than `ageing_ms` (0: no ageing).
    pub(crate) fn lookup(&self, mac: &Mac, now_ms: u64, ageing_ms: u64) -> Option<IpAddr> {
        let e = self.fdb.lookup(mac)?;
        let fresh = e.origin == Origin::Static
            || ageing_ms == 0
            || now_ms.saturating_sub(e.updated) <= ageing_ms;
        fresh.then_some(e.remote)
    }

    /// Learns `mac` behind `remote`. Sweeps out aged entries now and then
    /// (every half ageing period, at most once a second).
    pub(crate) fn learn(
        &mut self,
        mac: Mac,
        remote: IpAddr,
        now_ms: u64,
        ageing_ms: u64,
        flags: Flags,
    ) -> Learned {
        if ageing_ms != 0 && now_ms.saturating_sub(self.last_sweep_ms) > (ageing_ms / 2).max(1000) {
            self.fdb.age(now_ms, ageing_ms);
            self.last_sweep_ms = now_ms;
        }
        // Growing is only for a new MAC, and only needed when the table
        // is getting full: look the MAC up only then.
        if self.fdb.needs_room()
            && self.fdb.learned() < self.fdb.max_learned()
            && self.fdb.lookup(&mac).is_none()
            && !self.reserve(flags)
        {
            return Learned::Full;
        }
        self.fdb.learn(mac, remote, now_ms)
    }

    /// Adds a static entry; `replace` allows overwriting a static one.
    pub(crate) fn add_static(
        &mut self,
        mac: Mac,
        remote: IpAddr,
        replace: bool,
        flags: Flags,
    ) -> Result {
        match self.fdb.lookup(&mac) {
            Some(e) if e.origin == Origin::Static && !replace => return Err(EEXIST),
            Some(_) => {}
            None => {
                if self.fdb.len() - self.fdb.learned() >= MAX_STATIC || !self.reserve(flags) {
                    return Err(ENOSPC);
                }
            }
        }
        match self.fdb.add_static(mac, remote) {
            Ok(()) => Ok(()),
            Err(FdbError::Full) => Err(ENOSPC),
            Err(FdbError::BadMac) => Err(EINVAL),
        }
    }

    /// Removes `mac`'s entry; whether there was one.
    pub(crate) fn remove(&mut self, mac: &Mac) -> bool {
        self.fdb.remove(mac)
    }

    /// Removes every learned entry (learning switched off, or the remote
    /// family changed).
    pub(crate) fn flush_learned(&mut self) {
        self.fdb.age(u64::MAX, 0);
    }

    /// The entry in slot `i` and whether there are slots from `i` on.
    pub(crate) fn slot(&self, i: usize) -> (Option<&Entry>, bool) {
        (self.fdb.entry_at(i), i < self.fdb.capacity())
    }
}
