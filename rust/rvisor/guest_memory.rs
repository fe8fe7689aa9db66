// SPDX-License-Identifier: GPL-2.0

//! A VM's guest memory: its slots and the EPT that maps them.
//!
//! Pages are mapped lazily: an EPT violation on a slot's page looks up
//! the user page behind it (`pin_user_pages_fast()`) and installs a 4 KiB
//! write-back leaf, then drops the pin, as KVM holds no reference on the
//! pages its EPT maps (a held pin would make them unreclaimable: reclaim
//! and compaction skip pinned anonymous pages, so it would amount to
//! unaccounted mlock). What keeps a leaf right is the VM's MMU notifier
//! ([`crate::vm`]): it hears of every change to the VMM's mapping of an
//! address (munmap, `MAP_FIXED`, `MADV_DONTNEED`, mprotect, reclaim,
//! migration, COW after fork) before the change is made, and unmaps the
//! guest pages behind it first, as KVM's
//! `kvm_mmu_notifier_invalidate_range_start()` does. So a leaf exists only
//! while the VMM maps that page at that address, which keeps the page
//! allocated, and the guest always sees what the VMM sees.
//!
//! Everything here is changed under the VM's spinlock, which the notifier
//! takes. So nothing done under it may sleep, allocate with reclaim, touch
//! user memory or pin pages (all of which can run the notifier): a fault
//! looks up under the lock, pins and allocates table pages outside it,
//! and installs under it again, unless an invalidation ran meanwhile
//! (KVM's `mmu_invalidate_seq` and `mmu_invalidate_in_progress`, checked
//! by `mmu_invalidate_retry_gfn()`), in which case the guest retries. The
//! pin is dropped only after the lock, once the leaf is in place.
//!
//! Removing leaves takes two steps around a TLB flush, all under the lock
//! and before the notifier returns (so before the VMM's page can go):
//! leaves are revoked (permissions cleared, the address and write bit
//! kept); the caller flushes every CPU's EPT translations; then the
//! revoked leaves are released (the page marked dirty if it was mapped
//! writable, as `kvm_set_page_dirty()` does, and the entry zeroed).

use crate::ept::{self, EptEntry, ENTRIES, LEVELS};
use crate::glue;
use crate::memslot::{MemSlots, Slot, SlotChange, SlotError, MAX_SLOTS, PAGE_SIZE};
use crate::uapi::KvmUserspaceMemoryRegion;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::page::Page;
use kernel::prelude::*;

/// Physical address of a page we own.
fn phys_of(page: &Page) -> u64 {
    // SAFETY: `page` is a valid, allocated page.
    unsafe { glue::rv_page_to_phys(page.as_ptr()) }
}

/// The 512 entries of the table at physical address `pa`.
///
/// # Safety
///
/// `pa` must be an EPT table page owned by the [`EptTables`] the caller
/// borrows, so that it stays allocated while the pointer is used.
unsafe fn table_at(pa: u64) -> *mut u64 {
    // SAFETY: table pages are ordinary kernel pages in the direct map.
    unsafe { glue::rv_phys_to_virt(pa) as *mut u64 }
}

fn read_entry(table: *mut u64, i: usize) -> EptEntry {
    // SAFETY: `table` points at 512 entries (callers' invariant) and
    // `i < 512`; the processor may read it concurrently, so volatile.
    EptEntry(unsafe { table.add(i).read_volatile() })
}

fn write_entry(table: *mut u64, i: usize, e: EptEntry) {
    // SAFETY: as for `read_entry`; an aligned 8-byte store is atomic with
    // respect to the processor's page walks.
    unsafe { table.add(i).write_volatile(e.0) }
}

/// Table pages for the levels a fault may have to add (at most one per
/// level below the root), allocated before the VM's lock is taken.
pub(crate) struct SpareTables([Option<Page>; LEVELS as usize - 1]);

impl SpareTables {
    /// `n` zeroed pages, charged to the VMM's memory cgroup.
    pub(crate) fn alloc(n: usize) -> Result<Self> {
        let mut spare = Self([const { None }; LEVELS as usize - 1]);
        for slot in spare.0.iter_mut().take(n) {
            *slot = Some(Page::alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO)?);
        }
        Ok(spare)
    }

    fn take(&mut self) -> Option<Page> {
        self.0.iter_mut().find_map(Option::take)
    }
}

/// A user page pinned while an EPT violation maps it.
///
/// # Invariants
///
/// `page` holds one pin taken by `pin_user_pages_fast()`, given back when
/// this value is dropped (after the leaf, if any, is in place).
pub(crate) struct PinnedPage {
    page: NonNull<bindings::page>,
}

impl PinnedPage {
    /// Pins the VMM's page at `hva`, for writing if `writable`. Fails as
    /// GUP does (`EFAULT` where nothing is mapped); never call it with the
    /// VM's lock held (faulting the page in may run the MMU notifier).
    pub(crate) fn pin(hva: u64, writable: bool) -> Result<Self> {
        let mut page: *mut bindings::page = core::ptr::null_mut();
        // SAFETY: `page` is a valid out pointer; the address is a user
        // address of the calling task, which is the VM's owner (checked on
        // every ioctl), checked by `access_ok` when the slot was set.
        let ret = unsafe { glue::rv_pin_user_page(hva, writable, &mut page) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: the call succeeded, so `page` is pinned once.
        NonNull::new(page).map(|page| Self { page }).ok_or(EFAULT)
    }

    /// The leaf mapping this page.
    fn leaf(&self, read_only: bool) -> EptEntry {
        // SAFETY: `page` is pinned, so valid.
        let pa = unsafe { glue::rv_page_to_phys(self.page.as_ptr()) };
        EptEntry::page(pa, read_only)
    }
}

impl Drop for PinnedPage {
    fn drop(&mut self) {
        // SAFETY: by the type invariant this value holds one pin, released
        // once, here.
        unsafe { glue::rv_unpin_user_page(self.page.as_ptr()) };
    }
}

/// The EPT paging structures of one VM. Its leaves need nothing done when
/// it is dropped: unregistering the VM's notifier (or the death of the
/// address space before) already removed every one through `release`.
///
/// # Invariants
///
/// Every present non-leaf entry below `root` points at a page allocated
/// with [`Page::alloc_page`] that the tree owns: it is freed once, in
/// [`Drop`], and table pages are never unlinked before that.
pub(crate) struct EptTables {
    root: Page,
}

impl EptTables {
    fn new() -> Result<Self> {
        Ok(Self {
            root: Page::alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO)?,
        })
    }

    /// The EPT pointer for the VMCS.
    pub(crate) fn eptp(&self) -> u64 {
        ept::eptp(phys_of(&self.root))
    }

    /// The page table (level 1) covering `gpa`, or, if some table on the
    /// way does not exist yet, how many are missing (so many pages a fault
    /// at `gpa` needs). Tables are never removed, so the count only falls
    /// until the lock is taken again.
    fn find_leaf_table(&self, gpa: u64) -> core::result::Result<*mut u64, usize> {
        // SAFETY: the root is ours.
        let mut table = unsafe { table_at(phys_of(&self.root)) };
        for level in (2..=LEVELS).rev() {
            let e = read_entry(table, ept::index(gpa, level));
            if !e.present() {
                return Err(level as usize - 1);
            }
            // SAFETY: `e` is a non-leaf entry: one of our table pages.
            table = unsafe { table_at(e.addr()) };
        }
        Ok(table)
    }

    /// The page table (level 1) covering `gpa`, linking missing levels
    /// from `spare`; `None` if `spare` ran out.
    fn leaf_table(&mut self, gpa: u64, spare: &mut SpareTables) -> Option<*mut u64> {
        // SAFETY: the root is ours.
        let mut table = unsafe { table_at(phys_of(&self.root)) };
        for level in (2..=LEVELS).rev() {
            let i = ept::index(gpa, level);
            let e = read_entry(table, i);
            let next = if e.present() {
                e.addr()
            } else {
                let page = spare.take()?;
                let pa = phys_of(&page);
                // INVARIANT: the page is zeroed and now owned by the tree.
                core::mem::forget(page);
                write_entry(table, i, EptEntry::table(pa));
                pa
            };
            // SAFETY: `next` is one of our table pages.
            table = unsafe { table_at(next) };
        }
        Some(table)
    }

    /// Visits every leaf slot in `[start, end)` whose entry is not zero,
    /// skipping unallocated subtrees; `f` may rewrite the entry.
    fn for_each_leaf(&mut self, start: u64, end: u64, mut f: impl FnMut(&mut EptEntry)) {
        // SAFETY: the root is ours.
        let root = unsafe { table_at(phys_of(&self.root)) };
        walk_level(root, LEVELS, 0, start, end, &mut f);
    }
}

impl Drop for EptTables {
    fn drop(&mut self) {
        // SAFETY: the root is ours.
        let root = unsafe { table_at(phys_of(&self.root)) };
        free_tables(root, LEVELS);
    }
}

/// Frees the tables below `table`, a table of `level`.
fn free_tables(table: *mut u64, level: u32) {
    if level < 2 {
        return;
    }
    for i in 0..ENTRIES {
        let e = read_entry(table, i);
        if e.present() {
            // SAFETY: non-leaf entries point at our table pages.
            free_tables(unsafe { table_at(e.addr()) }, level - 1);
            // SAFETY: by the `EptTables` invariant the page is the tree's,
            // allocated by `Page::alloc_page`, and freed only here.
            unsafe { glue::rv_free_page(e.addr()) };
        }
    }
}

/// Recursive worker of [`EptTables::for_each_leaf`] for the table `table`
/// of `level` whose first entry maps `base`.
fn walk_level(
    table: *mut u64,
    level: u32,
    base: u64,
    start: u64,
    end: u64,
    f: &mut impl FnMut(&mut EptEntry),
) {
    let span = 1u64 << (12 + 9 * (level - 1));
    for i in 0..ENTRIES {
        let lo = base + i as u64 * span;
        let hi = lo + span;
        if hi <= start || lo >= end {
            continue;
        }
        let e = read_entry(table, i);
        if level == 1 {
            if e.0 != 0 {
                let mut new = e;
                f(&mut new);
                if new != e {
                    write_entry(table, i, new);
                }
            }
        } else if e.present() {
            // SAFETY: non-leaf entries point at our table pages.
            let next = unsafe { table_at(e.addr()) };
            walk_level(next, level - 1, lo, start, end, f);
        }
    }
}

/// Revokes a mapped leaf: no permission left (the processor treats it as
/// not present), the address and the write bit's record kept for
/// [`release`].
fn revoke(e: &mut EptEntry) {
    if e.present() {
        *e = EptEntry::revoked(*e);
    }
}

/// Zeroes a revoked leaf, marking its page dirty if it was writable.
fn release(e: &mut EptEntry) {
    if let Some(writable) = e.revoked_writable() {
        if writable {
            // SAFETY: a leaf exists only while the VMM maps its page (the
            // notifier removes it before any change to that mapping, and
            // waits on the lock this runs under), so the page is allocated.
            unsafe { glue::rv_set_page_dirty(e.addr()) };
        }
        *e = EptEntry::default();
    }
}

/// What an EPT violation at a guest-physical address is.
pub(crate) enum Fault {
    /// The page is now mapped (or already was, or the guest should fault
    /// again after an invalidation): re-enter the guest.
    Mapped,
    /// No slot backs the address, or the guest wrote a read-only slot:
    /// the access goes to user space as MMIO.
    Mmio,
}

/// What an EPT violation at a guest-physical address needs.
pub(crate) enum Lookup {
    /// No slot backs the address, or the guest wrote a read-only slot:
    /// the access goes to user space as MMIO.
    Mmio,
    /// The page is mapped (another vCPU did it meanwhile).
    Mapped,
    /// The page must be pinned and mapped: see [`GuestMemory::install`].
    Missing(Missing),
}

/// A page to map, as looked up under the lock.
pub(crate) struct Missing {
    /// The user address to pin.
    pub(crate) hva: u64,
    /// Pin for writing (a writable slot).
    pub(crate) writable: bool,
    /// Table pages to allocate.
    pub(crate) tables: usize,
    page_gpa: u64,
    seq: u64,
}

/// Slots plus EPT.
pub(crate) struct GuestMemory {
    slots: MemSlots,
    ept: EptTables,
    /// Bumped when an invalidation ends and when the slots change: a fault
    /// that looked up under an older value retries (KVM's
    /// `mmu_invalidate_seq`).
    seq: u64,
    /// Invalidations started and not yet ended; no page is mapped while
    /// one is (KVM's `mmu_invalidate_in_progress`).
    in_progress: u32,
}

impl GuestMemory {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            slots: MemSlots::new(),
            ept: EptTables::new()?,
            seq: 0,
            in_progress: 0,
        })
    }

    /// The EPT pointer for the VMCS.
    pub(crate) fn eptp(&self) -> u64 {
        self.ept.eptp()
    }

    /// Applies `KVM_SET_USER_MEMORY_REGION`. Returns the guest-physical
    /// range that lost its slot, if any: nothing is mapped there any more
    /// (the slot is gone, and faults that looked it up before retry), and
    /// the caller removes its leaves ([`GuestMemory::revoke_range`]).
    pub(crate) fn set_region(
        &mut self,
        region: &KvmUserspaceMemoryRegion,
    ) -> Result<Option<(u64, u64)>> {
        let change = self
            .slots
            .plan(region, |addr, size| {
                // SAFETY: `access_ok` only compares against the task's
                // address limit.
                unsafe { glue::rv_user_range_ok(addr, size) }
            })
            .map_err(|e| match e {
                SlotError::Invalid => EINVAL,
                SlotError::Overlap => EEXIST,
            })?;
        let removed = match change {
            SlotChange::Delete(old) | SlotChange::Move(old, _) => Some((old.gpa, old.end())),
            SlotChange::Create(_) | SlotChange::Unchanged => None,
        };
        self.slots.apply(change);
        self.seq = self.seq.wrapping_add(1);
        Ok(removed)
    }

    /// Revokes the leaves in the guest-physical range `[start, end)`;
    /// whether there were any. Then the caller flushes every CPU's EPT
    /// translations, and calls [`GuestMemory::release_revoked`].
    pub(crate) fn revoke_range(&mut self, start: u64, end: u64) -> bool {
        let mut revoked = false;
        self.ept.for_each_leaf(start, end, |e| {
            revoked |= e.present();
            revoke(e);
        });
        revoked
    }

    /// Releases the leaves revoked in `[start, end)`; only after no CPU can
    /// hold translations of them any more.
    pub(crate) fn release_revoked(&mut self, start: u64, end: u64) {
        self.ept.for_each_leaf(start, end, release);
    }

    /// What an EPT violation at `gpa` for a write (`write`) or other access
    /// needs.
    pub(crate) fn lookup(&self, gpa: u64, write: bool) -> Lookup {
        let Some(slot) = self.slots.find(gpa) else {
            return Lookup::Mmio;
        };
        if write && slot.read_only {
            return Lookup::Mmio;
        }
        let page_gpa = gpa & !(PAGE_SIZE - 1);
        let tables = match self.ept.find_leaf_table(page_gpa) {
            Ok(table) if read_entry(table, ept::index(page_gpa, 1)).present() => {
                return Lookup::Mapped
            }
            Ok(_) => 0,
            Err(missing) => missing,
        };
        Lookup::Missing(Missing {
            hva: slot.hva_of(page_gpa),
            writable: !slot.read_only,
            tables,
            page_gpa,
            seq: self.seq,
        })
    }

    /// Maps `page` as `m` asked, unless the slots changed or the VMM's
    /// mapping was invalidated since [`GuestMemory::lookup`] (then the
    /// guest faults again, as KVM retries the fault when
    /// `mmu_invalidate_retry_gfn()` says so). The caller unpins `page`
    /// after releasing the lock.
    pub(crate) fn install(&mut self, m: &Missing, page: &PinnedPage, spare: &mut SpareTables) {
        // The same `seq` means the same slots (every slot change bumps it),
        // so `m` still describes the slot backing the page.
        if self.seq != m.seq || self.in_progress != 0 {
            return;
        }
        let Some(table) = self.ept.leaf_table(m.page_gpa, spare) else {
            return;
        };
        let i = ept::index(m.page_gpa, 1);
        if read_entry(table, i).0 == 0 {
            write_entry(table, i, page.leaf(!m.writable));
        }
    }

    /// Starts an invalidation of the VMM's addresses `[start, end)`: no
    /// page is mapped again until [`GuestMemory::invalidate_end`]. Returns
    /// the guest-physical ranges (one per slot, at most [`MAX_SLOTS`])
    /// those addresses back, whose leaves the caller then removes.
    pub(crate) fn invalidate_start(&mut self, start: u64, end: u64) -> GpaRanges {
        self.in_progress = self.in_progress.saturating_add(1);
        let mut ranges = GpaRanges {
            ranges: [(0, 0); MAX_SLOTS],
            len: 0,
        };
        for r in self
            .slots
            .iter()
            .filter_map(|s: &Slot| s.gpa_range_of_hva(start, end))
        {
            if ranges.len < MAX_SLOTS {
                ranges.ranges[ranges.len] = r;
                ranges.len += 1;
            }
        }
        ranges
    }

    /// Ends an invalidation: faults that looked up before it retry.
    pub(crate) fn invalidate_end(&mut self) {
        self.seq = self.seq.wrapping_add(1);
        self.in_progress = self.in_progress.saturating_sub(1);
    }

    /// The user address backing `gpa` and how many bytes from there on, up
    /// to `len`, the same slot backs; `EFAULT` outside every slot, and for
    /// a `write` into a read-only one.
    pub(crate) fn backing(&self, gpa: u64, len: usize, write: bool) -> Result<(u64, usize)> {
        let slot = self.slots.find(gpa).ok_or(EFAULT)?;
        if write && slot.read_only {
            return Err(EFAULT);
        }
        let n = core::cmp::min(len as u64, slot.end() - gpa) as usize;
        Ok((slot.hva_of(gpa), n))
    }
}

/// Guest-physical ranges, at most one per slot.
pub(crate) struct GpaRanges {
    ranges: [(u64, u64); MAX_SLOTS],
    len: usize,
}

impl GpaRanges {
    /// The ranges.
    pub(crate) fn as_slice(&self) -> &[(u64, u64)] {
        &self.ranges[..self.len]
    }
}
