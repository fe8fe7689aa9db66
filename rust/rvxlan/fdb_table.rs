// SPDX-License-Identifier: GPL-2.0

//! A device's FDB in kernel memory: the pure table of `fdb.rs` over a
//! `KVVec` that grows by doubling as entries come, up to a bound, and
//! ageing applied on lookup and by sweeps.
//!
//! Growth driven by remote traffic (learning, in softirq) stays small:
//! GFP_ATOMIC only up to [`ATOMIC_MAX_BYTES`] (below the page allocator's
//! costly order). Beyond that, learning reports the table full and asks
//! for a grow in process context ([`FdbTable::wants_room`],
//! [`Tunnel::grow_fdb`]), which allocates with GFP_KERNEL (kvmalloc: vmalloc
//! for the large sizes, so nothing is above the kmalloc limit and no
//! allocation warns).
//!
//! [`Tunnel::grow_fdb`]: crate::tunnel::Tunnel::grow_fdb

use crate::fdb::{Entry, Fdb, FdbError, Learned, Mac, Origin};
use core::net::IpAddr;
use kernel::alloc::{flags::GFP_ATOMIC, Flags, KVVec};
use kernel::prelude::*;

/// Slots a new device starts with.
const INITIAL_SLOTS: usize = 16;
/// Most slots: the learned-entry limit (at most 65536) plus as many static
/// entries, at three quarters load.
const MAX_SLOTS: usize = 1 << 18;
/// Most static entries.
pub(crate) const MAX_STATIC: usize = 65536;
/// The biggest storage the receive path allocates itself (order 3, the
/// page allocator's PAGE_ALLOC_COSTLY_ORDER): 1024 slots.
const ATOMIC_MAX_BYTES: usize = 8 * 4096;

/// The table's storage.
pub(crate) type Storage = KVVec<Option<Entry>>;

/// The table.
pub(crate) struct FdbTable {
    fdb: Fdb<Storage>,
    last_sweep_ms: u64,
}

fn storage(slots: usize, flags: Flags) -> Result<Storage> {
    Ok(KVVec::from_elem(None, slots, flags)?)
}

impl FdbTable {
    /// An empty table allowing `limit` learned entries (process context).
    pub(crate) fn new(limit: usize) -> Result<Self> {
        Ok(Self {
            fdb: Fdb::new(storage(INITIAL_SLOTS, GFP_KERNEL)?, limit),
            last_sweep_ms: 0,
        })
    }

    /// Makes room for one more entry if the table is getting full, from
    /// the receive path: only while the bigger storage is small. `Err` if
    /// it cannot (too big for softirq, bound reached, or no memory);
    /// otherwise the old storage, for the caller to free unlocked.
    fn reserve_atomic(&mut self) -> Result<Option<Storage>, ()> {
        if !self.fdb.needs_room() {
            return Ok(None);
        }
        let slots = self.fdb.capacity() * 2;
        if slots > MAX_SLOTS || slots * core::mem::size_of::<Option<Entry>>() > ATOMIC_MAX_BYTES {
            return Err(());
        }
        let new = storage(slots, GFP_ATOMIC).map_err(|_| ())?;
        Ok(Some(self.move_into(new)))
    }

    fn move_into(&mut self, new: Storage) -> Storage {
        let mut bigger = Fdb::new(new, self.fdb.max_learned());
        for e in self.fdb.iter() {
            bigger.restore(*e);
        }
        core::mem::replace(&mut self.fdb, bigger).into_storage()
    }

    /// If the table is getting full and may grow: the slot count it
    /// should grow to, for [`FdbTable::grow_into`].
    pub(crate) fn wants_room(&self) -> Option<usize> {
        let slots = self.fdb.capacity() * 2;
        (self.fdb.needs_room() && slots <= MAX_SLOTS).then_some(slots)
    }

    /// Moves the entries into `new` (allocated, without the lock, for a
    /// [`FdbTable::wants_room`] answer) if the table is still that size;
    /// returns the storage to free after the lock is dropped.
    pub(crate) fn grow_into(&mut self, new: Storage) -> Storage {
        if new.len() == self.fdb.capacity() * 2 && self.fdb.needs_room() {
            self.move_into(new)
        } else {
            new
        }
    }

    /// Whether learning is refused only for want of storage the receive
    /// path may not allocate (below the limit, the table would grow).
    pub(crate) fn growth_blocked(&self) -> bool {
        self.fdb.learned() < self.fdb.max_learned() && self.wants_room().is_some()
    }

    /// Storage of `slots` empty slots, from process context.
    pub(crate) fn sleeping_storage(slots: usize) -> Result<Storage> {
        storage(slots, GFP_KERNEL)
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

    /// Learns `mac` behind `remote` (softirq). Sweeps out aged entries now
    /// and then (every half ageing period, at most once a second).
    /// Returns what it did and storage the table moved out of, to be
    /// freed once the caller dropped its lock.
    pub(crate) fn learn(
        &mut self,
        mac: Mac,
        remote: IpAddr,
        now_ms: u64,
        ageing_ms: u64,
    ) -> (Learned, Option<Storage>) {
        if ageing_ms != 0 && now_ms.saturating_sub(self.last_sweep_ms) > (ageing_ms / 2).max(1000) {
            self.fdb.age(now_ms, ageing_ms);
            self.last_sweep_ms = now_ms;
        }
        // Growing is only for a new MAC, and only needed when the table
        // is getting full: look the MAC up only then.
        let mut old = None;
        if self.fdb.needs_room()
            && self.fdb.learned() < self.fdb.max_learned()
            && self.fdb.lookup(&mac).is_none()
        {
            match self.reserve_atomic() {
                Ok(o) => old = o,
                Err(()) => return (Learned::Full, None),
            }
        }
        (self.fdb.learn(mac, remote, now_ms), old)
    }

    /// Adds a static entry; `replace` allows overwriting a static one.
    /// The caller made room beforehand ([`Tunnel::grow_fdb`]).
    ///
    /// [`Tunnel::grow_fdb`]: crate::tunnel::Tunnel::grow_fdb
    pub(crate) fn add_static(&mut self, mac: Mac, remote: IpAddr, replace: bool) -> Result {
        match self.fdb.lookup(&mac) {
            Some(e) if e.origin == Origin::Static && !replace => return Err(EEXIST),
            Some(_) => {}
            None => {
                if self.fdb.len() - self.fdb.learned() >= MAX_STATIC || self.fdb.needs_room() {
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

    /// Whether `mac` has an entry (static or learned, aged or not).
    pub(crate) fn contains(&self, mac: &Mac) -> bool {
        self.fdb.lookup(mac).is_some()
    }

    /// The destination of `mac`'s entry, if it has one (aged or not).
    pub(crate) fn remote_of(&self, mac: &Mac) -> Option<IpAddr> {
        self.fdb.lookup(mac).map(|e| e.remote)
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
