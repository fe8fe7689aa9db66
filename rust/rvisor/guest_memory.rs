// SPDX-License-Identifier: GPL-2.0

//! A VM's guest memory: its slots and the EPT that maps them.
//!
//! Pages are mapped lazily: an EPT violation on a slot's page pins the
//! user page behind it (`pin_user_pages_fast(FOLL_LONGTERM)`) and installs
//! a 4 KiB write-back leaf. The leaf is the only record of the pin.
//!
//! Tearing a range down takes two steps around a TLB flush, so that no CPU
//! can reach a page after its pin is dropped (which may free it, if user
//! space unmapped it already): [`GuestMemory::set_region`] revokes the
//! leaves (permissions cleared, the address kept as the record of the
//! pin); the caller flushes every CPU's EPT translations; then
//! [`GuestMemory::release_revoked`] unpins the pages (dirty if they were
//! writable) and zeroes the entries. See
//! [`crate::vm::Vm::set_memory_region`].

use crate::ept::{self, EptEntry, ENTRIES, LEVELS};
use crate::glue;
use crate::memslot::{MemSlots, Slot, SlotChange, SlotError, PAGE_SIZE};
use crate::uapi::KvmUserspaceMemoryRegion;
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
/// borrows, so that it stays allocated while the slice is used.
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

/// The EPT paging structures of one VM.
pub(crate) struct EptTables {
    root: Page,
    /// Every non-root table, freed with the VM.
    tables: KVec<Page>,
}

impl EptTables {
    fn new() -> Result<Self> {
        Ok(Self {
            root: Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?,
            tables: KVec::new(),
        })
    }

    /// The EPT pointer for the VMCS.
    pub(crate) fn eptp(&self) -> u64 {
        ept::eptp(phys_of(&self.root))
    }

    /// The page table (level 1) covering `gpa`, allocating missing levels.
    fn leaf_table(&mut self, gpa: u64) -> Result<*mut u64> {
        // SAFETY: the root is ours.
        let mut table = unsafe { table_at(phys_of(&self.root)) };
        for level in (2..=LEVELS).rev() {
            let i = ept::index(gpa, level);
            let e = read_entry(table, i);
            let next = if e.present() {
                e.addr()
            } else {
                let page = Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?;
                let pa = phys_of(&page);
                self.tables.push(page, GFP_KERNEL)?;
                write_entry(table, i, EptEntry::table(pa));
                pa
            };
            // SAFETY: `next` is one of our table pages.
            table = unsafe { table_at(next) };
        }
        Ok(table)
    }

    /// Visits every leaf slot in `[start, end)` whose entry is not zero,
    /// skipping unallocated subtrees; `f` may rewrite the entry.
    fn for_each_leaf(&mut self, start: u64, end: u64, mut f: impl FnMut(&mut EptEntry)) {
        // SAFETY: the root is ours.
        let root = unsafe { table_at(phys_of(&self.root)) };
        walk_level(root, LEVELS, 0, start, end, &mut f);
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

/// Unpins the page of a revoked leaf and zeroes the entry.
fn release(e: &mut EptEntry) {
    if let Some(writable) = e.revoked_writable() {
        unpin(e.addr(), writable);
        *e = EptEntry::default();
    }
}

/// Unpins the guest page at `pa`.
fn unpin(pa: u64, dirty: bool) {
    // SAFETY: every leaf records a page pinned by `GuestMemory::map`,
    // exactly once; the caller zeroes the leaf, so this is the only release.
    unsafe { glue::rv_unpin_user_page(glue::rv_phys_to_page(pa), dirty) };
}

/// What an EPT violation at a guest-physical address is.
pub(crate) enum Fault {
    /// The page is now mapped (or already was): re-enter the guest.
    Mapped,
    /// No slot backs the address, or the guest wrote a read-only slot:
    /// the access goes to user space as MMIO.
    Mmio,
}

/// Slots plus EPT.
pub(crate) struct GuestMemory {
    slots: MemSlots,
    ept: EptTables,
}

impl GuestMemory {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            slots: MemSlots::new(),
            ept: EptTables::new()?,
        })
    }

    /// The EPT pointer for the VMCS.
    pub(crate) fn eptp(&self) -> u64 {
        self.ept.eptp()
    }

    /// Applies `KVM_SET_USER_MEMORY_REGION`. Returns the guest-physical
    /// range whose mappings were revoked, if any: the caller flushes every
    /// CPU's EPT translations, then calls [`GuestMemory::release_revoked`].
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
        let revoked = match change {
            SlotChange::Delete(old) | SlotChange::Move(old, _) => {
                self.ept.for_each_leaf(old.gpa, old.end(), revoke);
                Some((old.gpa, old.end()))
            }
            SlotChange::Create(_) | SlotChange::Unchanged => None,
        };
        self.slots.apply(change);
        Ok(revoked)
    }

    /// Unpins the pages of the leaves revoked in `[start, end)`; only after
    /// no CPU can hold translations of them any more.
    pub(crate) fn release_revoked(&mut self, start: u64, end: u64) {
        self.ept.for_each_leaf(start, end, release);
    }

    /// Handles an EPT violation at `gpa` for a write (`write`) or other
    /// access: maps the page if a slot backs it.
    ///
    /// Fails with `EFAULT` if the slot's user memory cannot be pinned.
    pub(crate) fn fault(&mut self, gpa: u64, write: bool) -> Result<Fault> {
        let Some(slot) = self.slots.find(gpa).copied() else {
            return Ok(Fault::Mmio);
        };
        if write && slot.read_only {
            return Ok(Fault::Mmio);
        }
        let page_gpa = gpa & !(PAGE_SIZE - 1);
        let table = self.ept.leaf_table(page_gpa)?;
        if read_entry(table, ept::index(page_gpa, 1)).present() {
            // Another vCPU mapped it meanwhile.
            return Ok(Fault::Mapped);
        }
        Self::map(table, &slot, page_gpa)?;
        Ok(Fault::Mapped)
    }

    /// Pins the page backing `page_gpa` and installs its leaf in `table`,
    /// the page table covering it.
    fn map(table: *mut u64, slot: &Slot, page_gpa: u64) -> Result {
        let mut page: *mut bindings::page = core::ptr::null_mut();
        // SAFETY: `page` is a valid out pointer; the address is the user
        // address backing the page in the slot, checked by `access_ok` when
        // the slot was set.
        let ret =
            unsafe { glue::rv_pin_user_page(slot.hva_of(page_gpa), !slot.read_only, &mut page) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        // SAFETY: `page` was just pinned.
        let pa = unsafe { glue::rv_page_to_phys(page) };
        write_entry(
            table,
            ept::index(page_gpa, 1),
            EptEntry::page(pa, slot.read_only),
        );
        Ok(())
    }

    /// Reads guest-physical memory through the slots (not the EPT), for
    /// instruction fetches and page walks. `EFAULT` if some byte is not in
    /// a slot or its user memory is unreadable.
    pub(crate) fn read(&self, gpa: u64, buf: &mut [u8]) -> Result {
        let mut done = 0;
        while done < buf.len() {
            let at = gpa + done as u64;
            let slot = self.slots.find(at).ok_or(EFAULT)?;
            let n = core::cmp::min(buf.len() - done, (slot.end() - at) as usize);
            // SAFETY: `buf[done..done + n]` is writable kernel memory.
            let left = unsafe {
                glue::rv_copy_from_user(buf[done..].as_mut_ptr().cast(), slot.hva_of(at), n as _)
            };
            if left != 0 {
                return Err(EFAULT);
            }
            done += n;
        }
        Ok(())
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        // The VM is gone: no vCPU can run, and every CPU's translations of
        // this EPT were flushed before this (see the VM's drop).
        self.ept.for_each_leaf(0, ept::GPA_LIMIT, |e| {
            revoke(e);
            release(e);
        });
    }
}
