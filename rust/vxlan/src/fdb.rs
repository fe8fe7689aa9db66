// SPDX-License-Identifier: GPL-2.0

//! The forwarding database of one rvxlan device: inner destination MAC to
//! remote VTEP, as RFC 7348 section 4 describes. Static entries come from
//! the operator; learned ones from the source of decapsulated frames, are
//! bounded in number (once full, learning stops, as Linux vxlan's
//! `addrmax` does) and age out.
//!
//! The table is open addressing with linear probing over storage the
//! caller provides (a kernel `KVec`, a host `Vec` or a slice), so lookups
//! are O(1) on average and nothing here allocates. The caller grows the
//! table by moving the entries into bigger storage ([`Fdb::needs_room`],
//! [`Fdb::restore`]). Deletion shifts the following run back, so there
//! are no tombstones.

use core::net::IpAddr;
use core::ops::DerefMut;

/// An Ethernet address.
pub type Mac = [u8; 6];

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Configured; never aged, never overwritten by learning.
    Static,
    /// Learned from a received frame at the given time.
    Learned,
}

/// One entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Inner destination MAC.
    pub mac: Mac,
    /// The VTEP behind it.
    pub remote: IpAddr,
    /// Static or learned.
    pub origin: Origin,
    /// When it was last confirmed (any monotonic clock, e.g. jiffies).
    pub updated: u64,
}

/// What learning a source did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learned {
    /// A new entry.
    New,
    /// The MAC moved to another VTEP.
    Moved,
    /// Known already: its time was refreshed.
    Refreshed,
    /// Not learned: a static entry owns the MAC, or the MAC is not a
    /// unicast address.
    Ignored,
    /// Not learned: the learned-entry limit is reached.
    Full,
}

/// Why a static entry could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdbError {
    /// The table has no free slot.
    Full,
    /// Not a unicast MAC (the all-zeros MAC is the flood list's).
    BadMac,
}

/// Whether `mac` is a unicast address other than all zeros.
pub fn is_unicast(mac: &Mac) -> bool {
    mac[0] & 1 == 0 && *mac != [0; 6]
}

fn hash(mac: &Mac) -> usize {
    // FNV-1a: cheap and good enough over six bytes.
    let mut h: u32 = 0x811c_9dc5;
    for b in mac {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h as usize
}

/// The table, over storage `S` (anything that derefs to a slice of
/// slots).
pub struct Fdb<S> {
    slots: S,
    len: usize,
    learned: usize,
    max_learned: usize,
}

impl<S: DerefMut<Target = [Option<Entry>]>> Fdb<S> {
    /// A table over `slots` (a power of two, at least 2, all `None`),
    /// holding at most `max_learned` learned entries. One slot always
    /// stays free so that probes end.
    pub fn new(slots: S, max_learned: usize) -> Self {
        debug_assert!(slots.len().is_power_of_two() && slots.len() >= 2);
        debug_assert!(slots.iter().all(Option::is_none));
        Self {
            slots,
            len: 0,
            learned: 0,
            max_learned,
        }
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The most learned entries the table takes.
    pub fn max_learned(&self) -> usize {
        self.max_learned
    }

    /// Changes the learned-entry limit; entries already learned stay.
    pub fn set_max_learned(&mut self, max_learned: usize) {
        self.max_learned = max_learned;
    }

    /// Whether one more entry would fill the table beyond three quarters,
    /// where linear probing gets slow: time to move to bigger storage.
    pub fn needs_room(&self) -> bool {
        (self.len + 1) * 4 > self.slots.len() * 3
    }

    /// Puts `entry` back as it is (static or learned, with its time),
    /// e.g. when moving the entries into bigger storage. Returns false if
    /// the table has no room or the MAC is present.
    pub fn restore(&mut self, entry: Entry) -> bool {
        let (i, found) = self.find(&entry.mac);
        if found || !self.room() {
            return false;
        }
        self.slots[i] = Some(entry);
        self.len += 1;
        if entry.origin == Origin::Learned {
            self.learned += 1;
        }
        true
    }

    /// Gives the storage back.
    pub fn into_storage(self) -> S {
        self.slots
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of learned entries.
    pub fn learned(&self) -> usize {
        self.learned
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot holding `mac`, or the free slot where it would go.
    fn find(&self, mac: &Mac) -> (usize, bool) {
        let mut i = hash(mac) & self.mask();
        loop {
            match &self.slots[i] {
                None => return (i, false),
                Some(e) if e.mac == *mac => return (i, true),
                Some(_) => i = (i + 1) & self.mask(),
            }
        }
    }

    /// The entry for `mac`.
    pub fn lookup(&self, mac: &Mac) -> Option<&Entry> {
        match self.find(mac) {
            (i, true) => self.slots[i].as_ref(),
            _ => None,
        }
    }

    fn room(&self) -> bool {
        self.len + 1 < self.slots.len()
    }

    /// Adds or replaces a static entry.
    pub fn add_static(&mut self, mac: Mac, remote: IpAddr) -> Result<(), FdbError> {
        if !is_unicast(&mac) {
            return Err(FdbError::BadMac);
        }
        let (i, found) = self.find(&mac);
        if found {
            if self.slots[i].is_some_and(|e| e.origin == Origin::Learned) {
                self.learned -= 1;
            }
        } else if !self.room() {
            return Err(FdbError::Full);
        } else {
            self.len += 1;
        }
        self.slots[i] = Some(Entry {
            mac,
            remote,
            origin: Origin::Static,
            updated: 0,
        });
        Ok(())
    }

    /// Learns that `mac` is behind `remote` at time `now`.
    pub fn learn(&mut self, mac: Mac, remote: IpAddr, now: u64) -> Learned {
        if !is_unicast(&mac) {
            return Learned::Ignored;
        }
        let (i, found) = self.find(&mac);
        if found {
            let e = self.slots[i].as_mut().expect("found");
            if e.origin == Origin::Static {
                return Learned::Ignored;
            }
            e.updated = now;
            if e.remote == remote {
                return Learned::Refreshed;
            }
            e.remote = remote;
            return Learned::Moved;
        }
        if self.learned >= self.max_learned || !self.room() {
            return Learned::Full;
        }
        self.slots[i] = Some(Entry {
            mac,
            remote,
            origin: Origin::Learned,
            updated: now,
        });
        self.len += 1;
        self.learned += 1;
        Learned::New
    }

    /// Removes the entry for `mac`; whether there was one.
    pub fn remove(&mut self, mac: &Mac) -> bool {
        let (i, found) = self.find(mac);
        if !found {
            return false;
        }
        self.remove_at(i);
        true
    }

    fn remove_at(&mut self, mut i: usize) {
        if self.slots[i].is_some_and(|e| e.origin == Origin::Learned) {
            self.learned -= 1;
        }
        self.slots[i] = None;
        self.len -= 1;
        // Shift back the entries of the run that follows, so that every
        // entry stays reachable from its home slot.
        let mut j = (i + 1) & self.mask();
        while let Some(e) = self.slots[j] {
            let home = hash(&e.mac) & self.mask();
            // Move `e` into the hole at `i` unless its home lies in (i, j].
            let between = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !between {
                self.slots[i] = Some(e);
                self.slots[j] = None;
                i = j;
            }
            j = (j + 1) & self.mask();
        }
    }

    /// Removes learned entries not confirmed since `now - max_age`;
    /// returns how many.
    pub fn age(&mut self, now: u64, max_age: u64) -> usize {
        let mut removed = 0;
        let mut i = 0;
        while i < self.slots.len() {
            match self.slots[i] {
                Some(e)
                    if e.origin == Origin::Learned && now.saturating_sub(e.updated) > max_age =>
                {
                    self.remove_at(i);
                    removed += 1;
                    // The shift may have moved another entry into `i`.
                }
                _ => i += 1,
            }
        }
        removed
    }

    /// The entry in slot `i`, if any (for dumps that resume by position).
    pub fn entry_at(&self, i: usize) -> Option<&Entry> {
        self.slots.get(i).and_then(Option::as_ref)
    }

    /// Iterates over the entries, in table order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};
    use std::vec::Vec;

    fn ip(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, n))
    }

    fn mac(n: u16) -> Mac {
        [2, 0, 0, 0, (n >> 8) as u8, n as u8]
    }

    #[test]
    fn static_and_learned() {
        let mut slots = [None; 16];
        let mut f = Fdb::new(&mut slots[..], 4);
        assert!(f.is_empty());
        assert_eq!(f.add_static(mac(1), ip(1)), Ok(()));
        assert_eq!(f.add_static([0; 6], ip(1)), Err(FdbError::BadMac));
        assert_eq!(
            f.add_static([1, 0, 0, 0, 0, 1], ip(1)),
            Err(FdbError::BadMac)
        );
        assert_eq!(f.learn(mac(2), ip(2), 100), Learned::New);
        assert_eq!(f.learn(mac(2), ip(2), 150), Learned::Refreshed);
        assert_eq!(f.learn(mac(2), ip(3), 160), Learned::Moved);
        assert_eq!(f.lookup(&mac(2)).unwrap().remote, ip(3));
        // Learning never overrides a static entry or multicast sources.
        assert_eq!(f.learn(mac(1), ip(9), 170), Learned::Ignored);
        assert_eq!(f.lookup(&mac(1)).unwrap().remote, ip(1));
        assert_eq!(f.learn([0xff; 6], ip(9), 170), Learned::Ignored);
        // A static entry replaces a learned one.
        f.add_static(mac(2), IpAddr::V6(Ipv6Addr::LOCALHOST))
            .unwrap();
        assert_eq!(f.lookup(&mac(2)).unwrap().origin, Origin::Static);
        assert_eq!((f.len(), f.learned()), (2, 0));
    }

    #[test]
    fn learning_is_bounded() {
        let mut slots = [None; 64];
        let mut f = Fdb::new(&mut slots[..], 10);
        for n in 0..20 {
            let r = f.learn(mac(n + 1), ip(1), 0);
            assert_eq!(r, if n < 10 { Learned::New } else { Learned::Full });
        }
        assert_eq!(f.learned(), 10);
        // Static entries still fit.
        assert_eq!(f.add_static(mac(500), ip(5)), Ok(()));
        // The table keeps one slot free.
        let mut small = [None; 4];
        let mut g = Fdb::new(&mut small[..], 100);
        for n in 0..3 {
            assert_eq!(g.learn(mac(n + 1), ip(1), 0), Learned::New);
        }
        assert_eq!(g.learn(mac(9), ip(1), 0), Learned::Full);
        assert_eq!(g.add_static(mac(10), ip(1)), Err(FdbError::Full));
    }

    #[test]
    fn aging_and_removal_keep_every_entry_reachable() {
        let mut slots = [None; 256];
        let mut f = Fdb::new(&mut slots[..], 200);
        for n in 0..180 {
            assert_eq!(
                f.learn(mac(n + 1), ip((n % 200) as u8), u64::from(n)),
                Learned::New
            );
        }
        f.add_static(mac(1000), ip(7)).unwrap();
        // Entries updated before time 90 go.
        assert_eq!(f.age(150, 60), 90);
        assert_eq!(f.learned(), 90);
        for n in 0..180u16 {
            assert_eq!(f.lookup(&mac(n + 1)).is_some(), n >= 90, "mac {n}");
        }
        assert!(f.lookup(&mac(1000)).is_some());
        // Remove every other one; the rest stay reachable.
        for n in (90..180u16).step_by(2) {
            assert!(f.remove(&mac(n + 1)));
        }
        assert!(!f.remove(&mac(1)));
        for n in 90..180u16 {
            assert_eq!(f.lookup(&mac(n + 1)).is_some(), n % 2 == 1, "mac {n}");
        }
        let all: Vec<_> = f.iter().collect();
        assert_eq!(all.len(), f.len());
        assert_eq!(f.len(), 46);
    }

    #[test]
    fn moves_into_bigger_storage() {
        let mut f = Fdb::new(std::vec![None; 4], 100);
        f.add_static(mac(1), ip(1)).unwrap();
        assert_eq!(f.learn(mac(2), ip(2), 7), Learned::New);
        assert!(!f.needs_room());
        assert_eq!(f.learn(mac(3), ip(3), 8), Learned::New);
        assert!(f.needs_room());
        let mut g = Fdb::new(std::vec![None; 8], f.max_learned());
        for e in f.iter() {
            assert!(g.restore(*e));
        }
        assert!(!g.restore(*f.lookup(&mac(1)).unwrap()), "already there");
        assert_eq!((g.len(), g.learned(), g.capacity()), (3, 2, 8));
        assert_eq!(g.lookup(&mac(1)).unwrap().origin, Origin::Static);
        assert_eq!(g.lookup(&mac(3)).unwrap().updated, 8);
        assert_eq!(f.into_storage().len(), 4);
    }
}
