// SPDX-License-Identifier: GPL-2.0

//! A VM's guest memory: its slots and the EPT that maps them.
//!
//! Pages are mapped lazily: an EPT violation on a slot's page pins the
//! user page behind it (`pin_user_pages_fast(FOLL_LONGTERM)`) and installs
//! a 4 KiB write-back leaf. The leaf is the only record of the pin: tearing
//! a range down walks the EPT, unpins each mapped page (dirty if it was
//! writable) and clears the entry. Callers flush the TLBs of every CPU that
//! may cache the old entries before the pages are reused, see
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

    /// The page table (level 1) covering `gpa`, allocating missing levels
    /// if `alloc`.
    fn leaf_table(&mut self, gpa: u64, alloc: bool) -> Result<Option<*mut u64>> {
        // SAFETY: the root is ours.
        let mut table = unsafe { table_at(phys_of(&self.root)) };
        for level in (2..=LEVELS).rev() {
            let i = ept::index(gpa, level);
            let e = read_entry(table, i);
            let next = if e.present() {
                e.addr()
            } else if alloc {
                let page = Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?;
                let pa = phys_of(&page);
                self.tables.push(page, GFP_KERNEL)?;
                write_entry(table, i, EptEntry::table(pa));
                pa
            } else {
                return Ok(None);
            };
            // SAFETY: `next` is one of our table pages.
            table = unsafe { table_at(next) };
        }
        Ok(Some(table))
    }

    /// The leaf entry for `gpa`, if mapped.
    fn lookup(&mut self, gpa: u64) -> Option<EptEntry> {
        let table = self.leaf_table(gpa, false).ok().flatten()?;
        let e = read_entry(table, ept::index(gpa, 1));
        e.present().then_some(e)
    }

    /// Clears every leaf in `[start, end)`, handing each present one to
    /// `release`. Skips unallocated subtrees.
    fn clear_range(&mut self, start: u64, end: u64, mut release: impl FnMut(EptEntry)) {
        // SAFETY: the root is ours.
        let root = unsafe { table_at(phys_of(&self.root)) };
        clear_level(root, LEVELS, 0, start, end, &mut release);
    }
}

/// Recursive worker of [`EptTables::clear_range`] for the table `table`
/// of `level` whose first entry maps `base`.
fn clear_level(
    table: *mut u64,
    level: u32,
    base: u64,
    start: u64,
    end: u64,
    release: &mut impl FnMut(EptEntry),
) {
    let span = 1u64 << (12 + 9 * (level - 1));
    for i in 0..ENTRIES {
        let lo = base + i as u64 * span;
        let hi = lo + span;
        if hi <= start || lo >= end {
            continue;
        }
        let e = read_entry(table, i);
        if !e.present() {
            continue;
        }
        if level == 1 {
            write_entry(table, i, EptEntry::default());
            release(e);
        } else {
            // SAFETY: non-leaf entries point at our table pages.
            let next = unsafe { table_at(e.addr()) };
            clear_level(next, level - 1, lo, start, end, release);
        }
    }
}

/// Unpins the guest page a leaf mapped.
fn unpin(e: EptEntry) {
    // SAFETY: every leaf maps a page pinned by `GuestMemory::map`, exactly
    // once; the leaf was just cleared so this is the only release.
    unsafe { glue::rv_unpin_user_page(glue::rv_phys_to_page(e.addr()), e.writable()) };
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

    /// Applies `KVM_SET_USER_MEMORY_REGION`. Returns whether mappings were
    /// removed (the caller must flush the TLBs before returning to user
    /// space, which may then unmap the memory).
    pub(crate) fn set_region(&mut self, region: &KvmUserspaceMemoryRegion) -> Result<bool> {
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
            SlotChange::Delete(old) | SlotChange::Move(old, _) => {
                self.ept.clear_range(old.gpa, old.end(), unpin);
                true
            }
            SlotChange::Create(_) | SlotChange::Unchanged => false,
        };
        self.slots.apply(change);
        Ok(removed)
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
        if self.ept.lookup(page_gpa).is_some() {
            // Another vCPU mapped it meanwhile.
            return Ok(Fault::Mapped);
        }
        self.map(&slot, page_gpa)?;
        Ok(Fault::Mapped)
    }

    fn map(&mut self, slot: &Slot, page_gpa: u64) -> Result {
        let table = self.ept.leaf_table(page_gpa, true)?.ok_or(ENOMEM)?;
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
        // The VM is gone: no vCPU can run, so no TLB can be refilled from
        // these tables; stale entries are flushed by the VM before this.
        self.ept.clear_range(0, ept::GPA_LIMIT, unpin);
    }
}
