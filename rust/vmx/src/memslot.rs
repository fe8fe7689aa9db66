// SPDX-License-Identifier: GPL-2.0

//! Guest memory slots: the table `KVM_SET_USER_MEMORY_REGION` edits,
//! validated with KVM's rules and error codes.

use crate::ept::GPA_LIMIT;
use crate::uapi::{KvmUserspaceMemoryRegion, KVM_MEM_READONLY};

/// Slots per VM (`KVM_CAP_NR_MEMSLOTS`).
pub const MAX_SLOTS: usize = 32;
/// Page size of guest memory.
pub const PAGE_SIZE: u64 = 4096;
/// Largest slot KVM accepts, in pages (`KVM_MEM_MAX_NR_PAGES` on x86).
pub const MAX_SLOT_PAGES: u64 = (1 << 31) - 1;

/// Why a region was refused; the kernel maps these to KVM's errnos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotError {
    /// Bad flags, alignment, size, slot number, or an invalid change of an
    /// existing slot (`EINVAL`).
    Invalid,
    /// The range overlaps another slot (`EEXIST`).
    Overlap,
}

/// One guest memory slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Slot number.
    pub id: u16,
    /// First guest-physical address.
    pub gpa: u64,
    /// Size in bytes (a multiple of [`PAGE_SIZE`], never 0).
    pub size: u64,
    /// User address backing `gpa`.
    pub hva: u64,
    /// Guest writes exit to user space instead of landing.
    pub read_only: bool,
}

impl Slot {
    /// Whether `gpa` lies in the slot.
    pub fn contains(&self, gpa: u64) -> bool {
        gpa >= self.gpa && gpa - self.gpa < self.size
    }

    /// The user address backing `gpa`, which must lie in the slot.
    pub fn hva_of(&self, gpa: u64) -> u64 {
        self.hva + (gpa - self.gpa)
    }

    /// One past the last guest-physical address.
    pub fn end(&self) -> u64 {
        self.gpa + self.size
    }

    /// The guest-physical range `[start, end)` whose backing lies in the
    /// user range `[hva_start, hva_end)`, page-aligned outwards, if any:
    /// what must be unmapped when the VMM's mapping of those addresses
    /// changes (KVM's `kvm_handle_hva_range()`).
    pub fn gpa_range_of_hva(&self, hva_start: u64, hva_end: u64) -> Option<(u64, u64)> {
        let lo = hva_start.max(self.hva);
        let hi = hva_end.min(self.hva + self.size);
        if lo >= hi {
            return None;
        }
        let start = (lo - self.hva) & !(PAGE_SIZE - 1);
        let end = (hi - self.hva).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        Some((self.gpa + start, self.gpa + end.min(self.size)))
    }

    fn overlaps(&self, gpa: u64, size: u64) -> bool {
        gpa < self.end() && self.gpa < gpa + size
    }
}

/// What a valid `KVM_SET_USER_MEMORY_REGION` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotChange {
    /// A new slot.
    Create(Slot),
    /// Removes the slot; its mappings must be torn down.
    Delete(Slot),
    /// The slot moves to another guest-physical range (old, new).
    Move(Slot, Slot),
    /// Nothing changes.
    Unchanged,
}

/// The slot table of one VM.
#[derive(Debug, Clone, Default)]
pub struct MemSlots {
    slots: [Option<Slot>; MAX_SLOTS],
}

impl MemSlots {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The slot containing `gpa`.
    pub fn find(&self, gpa: u64) -> Option<&Slot> {
        self.slots.iter().flatten().find(|s| s.contains(gpa))
    }

    /// Iterates over the slots in use.
    pub fn iter(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().flatten()
    }

    /// Whether no slot is set.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Validates `region` against the table without changing it, as KVM's
    /// `kvm_set_memory_region()` does. `user_range_ok` says whether a user
    /// address range is one user space may pass at all (`access_ok`).
    pub fn plan(
        &self,
        region: &KvmUserspaceMemoryRegion,
        user_range_ok: impl Fn(u64, u64) -> bool,
    ) -> Result<SlotChange, SlotError> {
        if region.flags & !KVM_MEM_READONLY != 0 {
            return Err(SlotError::Invalid);
        }
        // The high 16 bits select an address space; x86 has one (SMM aside).
        let id = region.slot as usize;
        if id >= MAX_SLOTS {
            return Err(SlotError::Invalid);
        }
        let (gpa, size, hva) = (
            region.guest_phys_addr,
            region.memory_size,
            region.userspace_addr,
        );
        if size % PAGE_SIZE != 0 || gpa % PAGE_SIZE != 0 || hva % PAGE_SIZE != 0 {
            return Err(SlotError::Invalid);
        }
        let old = self.slots[id];
        if size == 0 {
            return old.map(SlotChange::Delete).ok_or(SlotError::Invalid);
        }
        let in_range = matches!(gpa.checked_add(size), Some(end) if end <= GPA_LIMIT);
        if size / PAGE_SIZE > MAX_SLOT_PAGES || !in_range || !user_range_ok(hva, size) {
            return Err(SlotError::Invalid);
        }
        let new = Slot {
            id: id as u16,
            gpa,
            size,
            hva,
            read_only: region.flags & KVM_MEM_READONLY != 0,
        };
        if let Some(old) = old {
            // An existing slot may only move; its backing, size and
            // read-only flag are fixed (KVM's rule).
            if old.hva != hva || old.size != size || old.read_only != new.read_only {
                return Err(SlotError::Invalid);
            }
            if old.gpa == gpa {
                return Ok(SlotChange::Unchanged);
            }
        }
        let clash = self
            .iter()
            .filter(|s| usize::from(s.id) != id)
            .any(|s| s.overlaps(gpa, size));
        if clash {
            return Err(SlotError::Overlap);
        }
        Ok(match old {
            Some(old) => SlotChange::Move(old, new),
            None => SlotChange::Create(new),
        })
    }

    /// Applies a change returned by [`MemSlots::plan`] on this table.
    pub fn apply(&mut self, change: SlotChange) {
        match change {
            SlotChange::Create(new) | SlotChange::Move(_, new) => {
                self.slots[usize::from(new.id)] = Some(new)
            }
            SlotChange::Delete(old) => self.slots[usize::from(old.id)] = None,
            SlotChange::Unchanged => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    fn region(slot: u32, gpa: u64, size: u64, hva: u64, flags: u32) -> KvmUserspaceMemoryRegion {
        KvmUserspaceMemoryRegion {
            slot,
            flags,
            guest_phys_addr: gpa,
            memory_size: size,
            userspace_addr: hva,
        }
    }

    fn any_user(_: u64, _: u64) -> bool {
        true
    }

    fn set(slots: &mut MemSlots, r: KvmUserspaceMemoryRegion) -> Result<SlotChange, SlotError> {
        let change = slots.plan(&r, any_user)?;
        slots.apply(change);
        Ok(change)
    }

    #[test]
    fn gpa_range_of_hva() {
        let s = Slot {
            id: 0,
            gpa: 0x10_0000,
            size: 0x4000,
            hva: 0x7000_0000,
            read_only: false,
        };
        // Disjoint, touching at either end.
        assert_eq!(s.gpa_range_of_hva(0, 0x7000_0000), None);
        assert_eq!(s.gpa_range_of_hva(0x7000_4000, 0x8000_0000), None);
        // Covering the slot, or more.
        assert_eq!(
            s.gpa_range_of_hva(0, u64::MAX),
            Some((0x10_0000, 0x10_4000))
        );
        // One page inside.
        assert_eq!(
            s.gpa_range_of_hva(0x7000_2000, 0x7000_3000),
            Some((0x10_2000, 0x10_3000))
        );
        // Unaligned bounds round outwards, and stop at the slot's end.
        assert_eq!(
            s.gpa_range_of_hva(0x7000_1fff, 0x7000_2001),
            Some((0x10_1000, 0x10_3000))
        );
        assert_eq!(
            s.gpa_range_of_hva(0x7000_3001, 0x7000_5000),
            Some((0x10_3000, 0x10_4000))
        );
    }

    #[test]
    fn create_find_delete() {
        let mut s = MemSlots::new();
        assert!(s.is_empty());
        set(&mut s, region(0, 0, 2 * MB, 0x7000_0000, 0)).unwrap();
        set(
            &mut s,
            region(1, 0x1000_0000, MB, 0x7100_0000, KVM_MEM_READONLY),
        )
        .unwrap();
        let slot = s.find(0x1000_0fff).unwrap();
        assert!(slot.read_only);
        assert_eq!(slot.hva_of(0x1000_0fff), 0x7100_0fff);
        assert!(s.find(2 * MB).is_none());
        assert_eq!(s.find(2 * MB - 1).unwrap().id, 0);
        let del = set(&mut s, region(0, 0, 0, 0, 0)).unwrap();
        assert!(matches!(del, SlotChange::Delete(old) if old.size == 2 * MB));
        assert!(s.find(0).is_none());
        assert_eq!(s.iter().count(), 1);
    }

    #[test]
    fn kvm_errors() {
        let mut s = MemSlots::new();
        set(&mut s, region(0, MB, MB, 0x7000_0000, 0)).unwrap();
        let bad = [
            region(1, 0, MB, 0x7100_0000, 1 << 2),           // unknown flag
            region(1, 0, MB, 0x7100_0000, 1),                // dirty logging
            region(1, 0x800, MB, 0x7100_0000, 0),            // gpa misaligned
            region(1, 0, MB + 1, 0x7100_0000, 0),            // size misaligned
            region(1, 0, MB, 0x7100_0010, 0),                // hva misaligned
            region(MAX_SLOTS as u32, 0, MB, 0x7100_0000, 0), // slot out of range
            region(1 << 16, 0, MB, 0x7100_0000, 0),          // other address space
            region(2, 0, 0, 0, 0),                           // delete of nothing
            region(1, u64::MAX - 0xfff, 0x2000, 0x7100_0000, 0), // wraps
            region(1, GPA_LIMIT - MB, 2 * MB, 0x7100_0000, 0), // beyond 48 bits
            region(1, 0, (MAX_SLOT_PAGES + 1) * PAGE_SIZE, 0x7100_0000, 0),
            region(0, MB, 2 * MB, 0x7000_0000, 0), // resize
            region(0, MB, MB, 0x7200_0000, 0),     // new backing
            region(0, MB, MB, 0x7000_0000, KVM_MEM_READONLY), // flag change
        ];
        for r in bad {
            assert_eq!(s.plan(&r, any_user), Err(SlotError::Invalid), "{r:?}");
        }
        // Overlaps in every position get EEXIST.
        for (gpa, size) in [
            (0, 2 * MB),
            (MB, MB),
            (MB + 4096, 4096),
            (2 * MB - 4096, MB),
        ] {
            let r = region(1, gpa, size, 0x7100_0000, 0);
            assert_eq!(s.plan(&r, any_user), Err(SlotError::Overlap), "{gpa:#x}");
        }
        // Touching ranges are fine.
        assert!(s.plan(&region(1, 0, MB, 0x7100_0000, 0), any_user).is_ok());
        assert!(s
            .plan(&region(1, 2 * MB, MB, 0x7100_0000, 0), any_user)
            .is_ok());
        // User ranges the caller refuses are EINVAL.
        let r = region(1, 0, MB, 0xffff_8000_0000_0000, 0);
        assert_eq!(s.plan(&r, |a, _| a < 1 << 47), Err(SlotError::Invalid));
        // Nothing above changed the table.
        assert_eq!(s.iter().count(), 1);
    }

    #[test]
    fn move_and_unchanged() {
        let mut s = MemSlots::new();
        set(&mut s, region(3, 0, MB, 0x7000_0000, 0)).unwrap();
        set(&mut s, region(4, 4 * MB, MB, 0x7100_0000, 0)).unwrap();
        assert_eq!(
            set(&mut s, region(3, 0, MB, 0x7000_0000, 0)),
            Ok(SlotChange::Unchanged)
        );
        // A slot may move over its own old range but not onto another.
        assert_eq!(
            s.plan(&region(3, 4 * MB, MB, 0x7000_0000, 0), any_user),
            Err(SlotError::Overlap)
        );
        let mv = set(&mut s, region(3, MB / 2, MB, 0x7000_0000, 0)).unwrap();
        assert!(matches!(mv, SlotChange::Move(old, new) if old.gpa == 0 && new.gpa == MB / 2));
        assert!(s.find(0).is_none());
        assert_eq!(s.find(MB).unwrap().id, 3);
    }
}
