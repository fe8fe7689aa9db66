// SPDX-License-Identifier: GPL-2.0

//! Guest page-table walks (linear to guest-physical), for fetching the
//! instruction behind an MMIO exit. Permission bits are not checked: the
//! processor already performed this access (or faulted before the exit).

/// The guest's paging mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingMode {
    /// CR0.PG = 0: linear = physical.
    None,
    /// 32-bit paging; `pse` allows 4 MiB pages.
    Bits32 {
        /// CR4.PSE.
        pse: bool,
    },
    /// PAE paging, with the four PDPTEs the processor loaded.
    Pae([u64; 4]),
    /// 4-level paging (IA-32e).
    FourLevel,
}

const PRESENT: u64 = 1;
const PS: u64 = 1 << 7;
const ADDR: u64 = 0x000f_ffff_ffff_f000;

/// Translates `linear` with page tables rooted at `cr3`; `read(pa)` reads
/// 8 bytes of guest-physical memory. `None` if an entry is not present or
/// unreadable.
pub fn translate(
    mode: PagingMode,
    cr3: u64,
    linear: u64,
    read: impl Fn(u64) -> Option<u64>,
) -> Option<u64> {
    match mode {
        PagingMode::None => Some(linear & 0xffff_ffff),
        PagingMode::Bits32 { pse } => {
            let la = linear & 0xffff_ffff;
            let pde = read((cr3 & 0xffff_f000) + ((la >> 22) << 2))? & 0xffff_ffff;
            if pde & PRESENT == 0 {
                return None;
            }
            if pse && pde & PS != 0 {
                // Bits 20:13 hold physical address bits 39:32.
                let high = ((pde >> 13) & 0xff) << 32;
                return Some(high | (pde & 0xffc0_0000) | (la & 0x3f_ffff));
            }
            let pte = read((pde & 0xffff_f000) + (((la >> 12) & 0x3ff) << 2))? & 0xffff_ffff;
            if pte & PRESENT == 0 {
                return None;
            }
            Some((pte & 0xffff_f000) | (la & 0xfff))
        }
        PagingMode::Pae(pdptes) => {
            let la = linear & 0xffff_ffff;
            let pdpte = pdptes[(la >> 30) as usize];
            if pdpte & PRESENT == 0 {
                return None;
            }
            walk_from(pdpte & ADDR, 2, la, read)
        }
        PagingMode::FourLevel => walk_from(cr3 & ADDR, 4, linear, read),
    }
}

/// Walks 64-bit entries from the table at `table` of `level` (4 = PML4,
/// 2 = page directory).
fn walk_from(
    mut table: u64,
    level: u32,
    la: u64,
    read: impl Fn(u64) -> Option<u64>,
) -> Option<u64> {
    for lvl in (1..=level).rev() {
        let shift = 12 + 9 * (lvl - 1);
        let e = read(table + ((la >> shift) & 0x1ff) * 8)?;
        if e & PRESENT == 0 {
            return None;
        }
        if (lvl == 2 || lvl == 3) && e & PS != 0 {
            let mask = (1u64 << shift) - 1;
            return Some((e & ADDR & !mask) | (la & mask));
        }
        table = e & ADDR;
    }
    Some(table | (la & 0xfff))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::collections::HashMap;

    fn mem(entries: &[(u64, u64)]) -> impl Fn(u64) -> Option<u64> + '_ {
        let map: HashMap<u64, u64> = entries.iter().copied().collect();
        move |pa| Some(*map.get(&pa).unwrap_or(&0))
    }

    #[test]
    fn no_paging() {
        assert_eq!(
            translate(PagingMode::None, 0, 0x1234_5678, |_| None),
            Some(0x1234_5678)
        );
    }

    #[test]
    fn bits32() {
        // PDE 1 -> PT at 0x3000; PTE 2 -> page 0x9000.
        let m = mem(&[(0x1000 + 4, 0x3003), (0x3000 + 8, 0x9003)]);
        let la = (1 << 22) | (2 << 12) | 0x123;
        assert_eq!(
            translate(PagingMode::Bits32 { pse: false }, 0x1000, la, &m),
            Some(0x9123)
        );
        // 4 MiB page.
        let m = mem(&[(0x1000 + 4, 0x0080_0083)]);
        assert_eq!(
            translate(PagingMode::Bits32 { pse: true }, 0x1000, la, &m),
            Some(0x0080_0000 | (la & 0x3f_ffff))
        );
        // Not present.
        assert_eq!(
            translate(PagingMode::Bits32 { pse: false }, 0x1000, 0, mem(&[])),
            None
        );
    }

    #[test]
    fn pae() {
        let pdptes = [0x2001, 0, 0, 0];
        // PDE 0 is a 2 MiB page at 0x40_0000.
        let m = mem(&[(0x2000, 0x40_0083)]);
        assert_eq!(
            translate(PagingMode::Pae(pdptes), 0, 0x1_2345, &m),
            Some(0x41_2345)
        );
        assert_eq!(translate(PagingMode::Pae(pdptes), 0, 0x4000_0000, &m), None);
    }

    #[test]
    fn four_level() {
        // PML4[0] -> 0x2000, PDPT[0] -> 0x3000, PD[1] -> 0x4000, PT[3] -> 0x7000.
        let la = (1 << 21) | (3 << 12) | 0x10;
        let m = mem(&[
            (0x1000, 0x2003),
            (0x2000, 0x3003),
            (0x3000 + 8, 0x4003),
            (0x4000 + 24, 0x7003),
        ]);
        assert_eq!(
            translate(PagingMode::FourLevel, 0x1000, la, &m),
            Some(0x7010)
        );
        // 1 GiB page.
        let m = mem(&[(0x1000, 0x2003), (0x2000, 0x4000_0083)]);
        assert_eq!(
            translate(PagingMode::FourLevel, 0x1000, 0x123_4567, &m),
            Some(0x4123_4567)
        );
    }
}
