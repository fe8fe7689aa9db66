// SPDX-License-Identifier: GPL-2.0

//! Extended page tables: entry and EPTP encoding (SDM Vol. 3C, 29.3).
//!
//! rvisor maps guest memory with 4-level tables and 4 KiB leaves, every
//! leaf write-back (the memory type rvisor requires), so that a slot's
//! pages are mapped, and unmapped by the MMU notifier, one at a time.

/// Levels of the EPT walk rvisor uses.
pub const LEVELS: u32 = 4;
/// Entries per table.
pub const ENTRIES: usize = 512;
/// Guest-physical addresses EPT can translate with 4 levels (48 bits).
pub const GPA_LIMIT: u64 = 1 << 48;

/// Entry permission: read.
pub const READ: u64 = 1 << 0;
/// Entry permission: write.
pub const WRITE: u64 = 1 << 1;
/// Entry permission: execute.
pub const EXECUTE: u64 = 1 << 2;
/// Bit 10 (ignored by the processor in a leaf): a revoked leaf.
const REVOKED: u64 = 1 << 10;
/// Bit 11 (ignored): the revoked leaf was writable.
const REVOKED_WRITABLE: u64 = 1 << 11;
/// Bits 51:12 hold the address of the next table or of the page.
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
/// Memory type field of a leaf (bits 5:3).
const MEMTYPE_SHIFT: u32 = 3;
/// Write-back memory type.
const MEMTYPE_WB: u64 = 6;

/// An EPT entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EptEntry(pub u64);

impl EptEntry {
    /// An entry pointing at the next-level table at `table_pa`. Non-leaf
    /// entries grant everything; the leaf decides.
    pub fn table(table_pa: u64) -> Self {
        Self((table_pa & ADDR_MASK) | READ | WRITE | EXECUTE)
    }

    /// A 4 KiB leaf mapping the host page at `page_pa`, write-back, with
    /// write permission unless `read_only`.
    pub fn page(page_pa: u64, read_only: bool) -> Self {
        let perms = if read_only {
            READ | EXECUTE
        } else {
            READ | WRITE | EXECUTE
        };
        Self((page_pa & ADDR_MASK) | perms | (MEMTYPE_WB << MEMTYPE_SHIFT))
    }

    /// Whether the entry maps anything (any permission bit set).
    pub fn present(self) -> bool {
        self.0 & (READ | WRITE | EXECUTE) != 0
    }

    /// Whether the entry allows writes.
    pub fn writable(self) -> bool {
        self.0 & WRITE != 0
    }

    /// A leaf with every permission removed (the processor treats it as
    /// not present) that still records the page it mapped and whether it
    /// was writable (in an ignored bit), until the page is released.
    pub fn revoked(mapped: EptEntry) -> Self {
        let was_writable = if mapped.writable() {
            REVOKED_WRITABLE
        } else {
            0
        };
        Self((mapped.0 & ADDR_MASK) | REVOKED | was_writable)
    }

    /// For a revoked leaf, whether the page was mapped writable; `None`
    /// for any other entry.
    pub fn revoked_writable(self) -> Option<bool> {
        (self.0 & REVOKED != 0 && !self.present()).then_some(self.0 & REVOKED_WRITABLE != 0)
    }

    /// The physical address the entry points at.
    pub fn addr(self) -> u64 {
        self.0 & ADDR_MASK
    }
}

/// Index into the table of `level` (4 = PML4 ... 1 = page table) for `gpa`.
pub fn index(gpa: u64, level: u32) -> usize {
    ((gpa >> (12 + 9 * (level - 1))) & 0x1ff) as usize
}

/// The EPT pointer for a PML4 table at `pml4_pa`: write-back paging
/// structures, 4-level walk, accessed/dirty flags off.
pub fn eptp(pml4_pa: u64) -> u64 {
    (pml4_pa & ADDR_MASK) | ((u64::from(LEVELS) - 1) << 3) | MEMTYPE_WB
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_encoding() {
        let e = EptEntry::page(0x1234_5000, false);
        assert_eq!(e.0, 0x1234_5000 | 0x7 | (6 << 3));
        assert!(e.present() && e.writable());
        assert_eq!(e.addr(), 0x1234_5000);
        let ro = EptEntry::page(0x1234_5000, true);
        assert_eq!(ro.0 & 7, READ | EXECUTE);
        assert!(ro.present() && !ro.writable());
        assert!(!EptEntry::default().present());
    }

    #[test]
    fn revoked_leaves() {
        let w = EptEntry::revoked(EptEntry::page(0x7000, false));
        assert!(!w.present());
        assert_eq!((w.addr(), w.revoked_writable()), (0x7000, Some(true)));
        let r = EptEntry::revoked(EptEntry::page(0x8000, true));
        assert_eq!(r.revoked_writable(), Some(false));
        assert_eq!(EptEntry::page(0x7000, false).revoked_writable(), None);
        assert_eq!(EptEntry::default().revoked_writable(), None);
    }

    #[test]
    fn table_entry_has_no_memory_type() {
        let e = EptEntry::table(0xabc_d000);
        assert_eq!(e.0, 0xabc_d007);
    }

    #[test]
    fn addresses_are_masked() {
        // Low bits and bits above 51 never leak into an entry.
        let e = EptEntry::page(0xfff0_0000_1234_5fff, false);
        assert_eq!(e.addr(), 0x0000_0000_1234_5000);
    }

    #[test]
    fn indices() {
        let gpa = (3u64 << 39) | (5 << 30) | (7 << 21) | (9 << 12) | 0xabc;
        assert_eq!(
            [index(gpa, 4), index(gpa, 3), index(gpa, 2), index(gpa, 1)],
            [3, 5, 7, 9]
        );
        assert_eq!(index(GPA_LIMIT - 1, 4), 511);
    }

    #[test]
    fn eptp_encoding() {
        // WB (6) in bits 2:0, walk length - 1 (3) in bits 5:3.
        assert_eq!(eptp(0x5000), 0x5000 | 0x1e);
    }
}
