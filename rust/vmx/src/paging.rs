// SPDX-License-Identifier: GPL-2.0

//! Guest page-table walks (linear to guest-physical): unchecked for
//! fetching the instruction behind an MMIO exit (the processor already
//! performed that access, or faulted before the exit), and checked as the
//! processor checks a data access for the memory operand of INS/OUTS, which
//! exits before the processor touches memory.

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

/// Paging-structure entry: present (SDM Vol. 3A Tables 4-4 to 4-19).
pub const PRESENT: u64 = 1;
/// Paging-structure entry: writable.
pub const WRITABLE: u64 = 1 << 1;
/// Paging-structure entry: user-mode accesses allowed.
pub const USER: u64 = 1 << 2;
/// Paging-structure entry: maps a large page (PDE, PDPTE).
pub const PS: u64 = 1 << 7;
const XD: u64 = 1 << 63;
const ADDR: u64 = 0x000f_ffff_ffff_f000;
/// The accessed flag of every paging-structure entry (SDM Vol. 3A 4.8).
const ACCESSED: u8 = 1 << 5;
/// The dirty flag of an entry that maps a page.
const DIRTY: u8 = 1 << 6;

/// Bits of a #PF error code (SDM Vol. 3A 4.7).
pub mod pf {
    /// The fault was a protection violation, not a non-present page.
    pub const PRESENT: u32 = 1 << 0;
    /// The access was a write.
    pub const WRITE: u32 = 1 << 1;
    /// The access was a user-mode one (CPL 3).
    pub const USER: u32 = 1 << 2;
    /// A reserved bit was set in a paging-structure entry.
    pub const RSVD: u32 = 1 << 3;
    /// The access was an instruction fetch (reported with NXE or SMEP).
    pub const FETCH: u32 = 1 << 4;
}

/// What a data access asks of the translation, with the control bits that
/// decide it (SDM Vol. 3A 4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights {
    /// A write.
    pub write: bool,
    /// A user-mode access: CPL 3.
    pub user: bool,
    /// CR0.WP: supervisor writes honour read-only pages.
    pub wp: bool,
    /// CR4.SMAP with RFLAGS.AC clear: a supervisor access to a user page
    /// faults.
    pub smap: bool,
    /// EFER.NXE: bit 63 of an entry is XD, not reserved.
    pub nxe: bool,
    /// The guest's MAXPHYADDR: address bits at and above it are reserved.
    pub maxphyaddr: u8,
    /// CPUID.80000001H:EDX.Page1GB: without it PS in a PDPTE is reserved
    /// (KVM's `rsvd_bits_mask`).
    pub gbpages: bool,
}

impl Rights {
    /// The #PF error code of this access: W and U from the access, plus
    /// `extra`.
    pub fn error_code(self, extra: u32) -> u32 {
        let mut code = extra;
        if self.write {
            code |= pf::WRITE;
        }
        if self.user {
            code |= pf::USER;
        }
        code
    }

    fn fault(self, extra: u32) -> WalkError {
        WalkError::Fault(self.error_code(extra))
    }
}

/// Why a checked walk gave no address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkError {
    /// The access faults: #PF with this error code.
    Fault(u32),
    /// A paging-structure entry lies in memory no slot backs.
    Unbacked,
}

/// An accessed/dirty flag update a successful walk asks for: the entry at
/// `pa` (`width` bytes) read as `old`, to become `new`. The caller makes
/// it with a compare-and-exchange, and walks again if the entry changed
/// (KVM's `update_accessed_dirty_bits()`), so that a racing change of the
/// entry by another vCPU is never undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Update {
    /// Guest-physical address of the entry.
    pub pa: u64,
    /// The entry as the walk read it.
    pub old: u64,
    /// The entry with the flags set.
    pub new: u64,
    /// 4 (32-bit paging) or 8 bytes.
    pub width: u32,
}

/// A successful checked walk: the guest-physical address, and the entries
/// whose accessed (and, for a write, the leaf's dirty) flag the access
/// sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walked {
    /// The guest-physical address.
    pub gpa: u64,
    updates: [Update; 4],
    len: usize,
}

impl Walked {
    fn new(gpa: u64) -> Self {
        Self {
            gpa,
            updates: [Update {
                pa: 0,
                old: 0,
                new: 0,
                width: 0,
            }; 4],
            len: 0,
        }
    }

    /// The flag updates, outermost entry first.
    pub fn updates(&self) -> &[Update] {
        &self.updates[..self.len]
    }

    fn mark(&mut self, (pa, entry, width): (u64, u64, u32), leaf: bool, rights: Option<Rights>) {
        let Some(r) = rights else { return };
        let want = if leaf && r.write {
            ACCESSED | DIRTY
        } else {
            ACCESSED
        };
        let missing = u64::from(want) & !entry;
        if missing != 0 && self.len < self.updates.len() {
            self.updates[self.len] = Update {
                pa,
                old: entry,
                new: entry | missing,
                width,
            };
            self.len += 1;
        }
    }
}

/// Translates `linear` with page tables rooted at `cr3`; `read(pa, width)`
/// reads a `width`-byte (4 or 8) entry of guest-physical memory. `None` if an entry is not present or
/// unreadable. Permissions are not checked (see [`walk`] for that).
pub fn translate(
    mode: PagingMode,
    cr3: u64,
    linear: u64,
    read: impl Fn(u64, u32) -> Option<u64>,
) -> Option<u64> {
    walk(mode, cr3, linear, None, read).ok().map(|w| w.gpa)
}

/// Translates `linear` as the processor does for a data access with
/// `rights` (checked: not-present and reserved-bit faults, U/S and R/W
/// accumulated over every level, CR0.WP and SMAP, with the error code the
/// processor would report), or without any check if `rights` is `None`.
/// Accessed and dirty flags are not written: the caller sets those of
/// [`Walked::updates`] once the access is certain, as KVM's
/// `FNAME(walk_addr_generic)` does after its permission check.
pub fn walk(
    mode: PagingMode,
    cr3: u64,
    linear: u64,
    rights: Option<Rights>,
    read: impl Fn(u64, u32) -> Option<u64>,
) -> Result<Walked, WalkError> {
    // U/S and R/W of every level, ANDed (SDM Vol. 3A 4.6.1).
    let mut allowed = WRITABLE | USER;
    let walked = match mode {
        PagingMode::None => Walked::new(linear & 0xffff_ffff),
        PagingMode::Bits32 { pse } => {
            let la = linear & 0xffff_ffff;
            let pde_pa = (cr3 & 0xffff_f000) + ((la >> 22) << 2);
            let pde = read(pde_pa, 4).ok_or(WalkError::Unbacked)? & 0xffff_ffff;
            if pde & PRESENT == 0 {
                return Err(rights.map_or(WalkError::Unbacked, |r| r.fault(0)));
            }
            allowed &= pde;
            if pse && pde & PS != 0 {
                // A 4 MiB page's PDE: bit 21 and the PSE-36 address bits
                // 20:13 at or above MAXPHYADDR are reserved (Table 4-4;
                // KVM's rsvd_bits(17, 21) for MAXPHYADDR 36).
                if let Some(r) = rights {
                    let maxphy = u32::from(r.maxphyaddr).clamp(32, 40);
                    let rsvd = ((1u64 << 22) - 1) & !((1u64 << (13 + maxphy - 32)) - 1);
                    if pde & rsvd != 0 {
                        return Err(r.fault(pf::PRESENT | pf::RSVD));
                    }
                }
                // Bits 20:13 hold physical address bits 39:32.
                let high = ((pde >> 13) & 0xff) << 32;
                let mut w = Walked::new(high | (pde & 0xffc0_0000) | (la & 0x3f_ffff));
                w.mark((pde_pa, pde, 4), true, rights);
                w
            } else {
                let pte_pa = (pde & 0xffff_f000) + (((la >> 12) & 0x3ff) << 2);
                let pte = read(pte_pa, 4).ok_or(WalkError::Unbacked)? & 0xffff_ffff;
                if pte & PRESENT == 0 {
                    return Err(rights.map_or(WalkError::Unbacked, |r| r.fault(0)));
                }
                allowed &= pte;
                let mut w = Walked::new((pte & 0xffff_f000) | (la & 0xfff));
                w.mark((pde_pa, pde, 4), false, rights);
                w.mark((pte_pa, pte, 4), true, rights);
                w
            }
        }
        PagingMode::Pae(pdptes) => {
            let la = linear & 0xffff_ffff;
            // PDPTEs were checked when loaded, and carry no U/S, R/W or
            // accessed flag in PAE paging (SDM Vol. 3A 4.4.1).
            let pdpte = pdptes[(la >> 30) as usize];
            if pdpte & PRESENT == 0 {
                return Err(rights.map_or(WalkError::Unbacked, |r| r.fault(0)));
            }
            walk_from(pdpte & ADDR, 2, la, rights, &mut allowed, read)?
        }
        PagingMode::FourLevel => walk_from(cr3 & ADDR, 4, linear, rights, &mut allowed, read)?,
    };
    if let Some(r) = rights {
        if mode != PagingMode::None {
            let user_page = allowed & USER != 0;
            let writable = allowed & WRITABLE != 0;
            let denied = if r.user {
                !user_page || (r.write && !writable)
            } else {
                (r.write && !writable && r.wp) || (user_page && r.smap)
            };
            if denied {
                return Err(r.fault(pf::PRESENT));
            }
        }
    }
    Ok(walked)
}

/// Walks 64-bit entries from the table at `table` of `level` (4 = PML4,
/// 2 = page directory), ANDing their U/S and R/W into `allowed`.
fn walk_from(
    mut table: u64,
    level: u32,
    la: u64,
    rights: Option<Rights>,
    allowed: &mut u64,
    read: impl Fn(u64, u32) -> Option<u64>,
) -> Result<Walked, WalkError> {
    let mut path = [(0u64, 0u64); 4];
    for lvl in (1..=level).rev() {
        let shift = 12 + 9 * (lvl - 1);
        let pa = table + ((la >> shift) & 0x1ff) * 8;
        let e = read(pa, 8).ok_or(WalkError::Unbacked)?;
        if e & PRESENT == 0 {
            return Err(rights.map_or(WalkError::Unbacked, |r| r.fault(0)));
        }
        let large = (lvl == 2 || lvl == 3) && e & PS != 0;
        if let Some(r) = rights {
            // PAE paging (at most 2 levels here) reserves bits 62:52 too.
            if reserved(e, lvl, large, level == 2, r) {
                return Err(r.fault(pf::PRESENT | pf::RSVD));
            }
        }
        *allowed &= e;
        path[(level - lvl) as usize] = (pa, e);
        let leaf = large || lvl == 1;
        if leaf {
            let mask = (1u64 << shift) - 1;
            let mut w = Walked::new((e & ADDR & !mask) | (la & mask));
            let n = (level - lvl + 1) as usize;
            for (i, &(pa, e)) in path[..n].iter().enumerate() {
                w.mark((pa, e, 8), i + 1 == n, rights);
            }
            return Ok(w);
        }
        table = e & ADDR;
    }
    // Not reached: the loop returns at level 1 at the latest.
    Err(WalkError::Unbacked)
}

/// Whether the present 64-bit entry `e` at `lvl` has a reserved bit set
/// (SDM Vol. 3A Tables 4-8 to 4-10 and 4-14 to 4-19; KVM's
/// `rsvd_bits_mask`): address bits at or above MAXPHYADDR (up to bit 51,
/// or 62 in PAE paging), XD without EFER.NXE, PS in a PML4E, PS in a PDPTE
/// without 1 GiB pages, and the address bits below a large page's
/// alignment.
fn reserved(e: u64, lvl: u32, large: bool, pae: bool, r: Rights) -> bool {
    let maxphy = u32::from(r.maxphyaddr).clamp(32, 52);
    let top = if pae { 63 } else { 52 };
    let high = ((1u64 << top) - 1) & !((1u64 << maxphy) - 1);
    if e & high != 0
        || (!r.nxe && e & XD != 0)
        || (lvl == 4 && e & PS != 0)
        || (lvl == 3 && large && !r.gbpages)
    {
        return true;
    }
    // A 2 MiB page: bits 20:13; a 1 GiB page: bits 29:13 (bit 12 is PAT).
    large && e & (((1u64 << (12 + 9 * (lvl - 1))) - 1) & !0x1fff) != 0
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::collections::HashMap;

    fn mem(entries: &[(u64, u64)]) -> impl Fn(u64, u32) -> Option<u64> + '_ {
        let map: HashMap<u64, u64> = entries.iter().copied().collect();
        move |pa, _| Some(*map.get(&pa).unwrap_or(&0))
    }

    #[test]
    fn no_paging() {
        assert_eq!(
            translate(PagingMode::None, 0, 0x1234_5678, |_, _| None),
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

    /// The updates as (entry address, flags added, width).
    fn flags(w: &Walked) -> Vec<(u64, u64, u32)> {
        w.updates()
            .iter()
            .map(|u| (u.pa, u.new & !u.old, u.width))
            .collect()
    }

    fn rights(write: bool, user: bool) -> Rights {
        Rights {
            write,
            user,
            wp: true,
            smap: false,
            nxe: true,
            maxphyaddr: 36,
            gbpages: true,
        }
    }

    /// PML4[0] -> 0x2000, PDPT[0] -> 0x3000, PD[0] -> 0x4000, PT[1] with
    /// the flags `pte_flags` (plus P) -> 0x7000; upper levels with `upper`.
    fn tables(upper: u64, pte_flags: u64) -> Vec<(u64, u64)> {
        std::vec![
            (0x1000, 0x2000 | upper),
            (0x2000, 0x3000 | upper),
            (0x3000, 0x4000 | upper),
            (0x4000 + 8, 0x7000 | 1 | pte_flags),
        ]
    }

    use std::vec::Vec;

    #[test]
    fn checked_walk_permissions() {
        let m = tables(7, 2 | 4);
        let w = walk(
            PagingMode::FourLevel,
            0x1000,
            0x1008,
            Some(rights(true, true)),
            mem(&m),
        );
        let w = w.unwrap();
        assert_eq!(w.gpa, 0x7008);
        // A on the four levels, and D on the leaf for a write.
        assert_eq!(
            flags(&w),
            [
                (0x1000, 0x20, 8),
                (0x2000, 0x20, 8),
                (0x3000, 0x20, 8),
                (0x4008, 0x60, 8)
            ]
        );
        // Each update is the entry as read, with the flags added.
        assert_eq!(w.updates()[3].old, 0x7007);
        assert_eq!(w.updates()[3].new, 0x7067);
        // A read sets no D; flags already set are not set again.
        let m = tables(7 | 0x20, 2 | 4 | 0x20);
        let w = walk(
            PagingMode::FourLevel,
            0x1000,
            0x1008,
            Some(rights(false, true)),
            mem(&m),
        );
        assert_eq!(flags(&w.unwrap()), []);

        // Read-only leaf: a user write faults P|W|U; a supervisor write
        // faults with CR0.WP and succeeds without it.
        let m = tables(7, 4);
        let walk_r = |r| walk(PagingMode::FourLevel, 0x1000, 0x1008, Some(r), mem(&m));
        assert_eq!(walk_r(rights(true, true)), Err(WalkError::Fault(7)));
        assert_eq!(walk_r(rights(false, true)).map(|w| w.gpa), Ok(0x7008));
        assert_eq!(walk_r(rights(true, false)), Err(WalkError::Fault(3)));
        let no_wp = Rights {
            wp: false,
            ..rights(true, false)
        };
        assert_eq!(walk_r(no_wp).map(|w| w.gpa), Ok(0x7008));

        // Read-only at an upper level only: still read-only.
        let mut m = tables(7, 2 | 4);
        m[1].1 &= !2;
        let r = walk(
            PagingMode::FourLevel,
            0x1000,
            0x1008,
            Some(rights(true, true)),
            mem(&m),
        );
        assert_eq!(r, Err(WalkError::Fault(7)));

        // Supervisor page: a user read faults P|U; supervisor reads work.
        let m = tables(3, 2);
        let walk_r = |r| walk(PagingMode::FourLevel, 0x1000, 0x1008, Some(r), mem(&m));
        assert_eq!(walk_r(rights(false, true)), Err(WalkError::Fault(5)));
        assert!(walk_r(rights(false, false)).is_ok());

        // SMAP: a supervisor access to a user page faults (P, W as asked).
        let m = tables(7, 2 | 4);
        let smap = Rights {
            smap: true,
            ..rights(true, false)
        };
        let r = walk(PagingMode::FourLevel, 0x1000, 0x1008, Some(smap), mem(&m));
        assert_eq!(r, Err(WalkError::Fault(3)));
    }

    #[test]
    fn checked_walk_faults() {
        // Not present at the PT: P clear in the error code.
        let m = tables(7, 0);
        let mut m2 = m.clone();
        m2[3].1 &= !1;
        let r = walk(
            PagingMode::FourLevel,
            0x1000,
            0x1008,
            Some(rights(true, true)),
            mem(&m2),
        );
        assert_eq!(r, Err(WalkError::Fault(6)));
        // Reserved: an address bit above MAXPHYADDR, XD without NXE, PS in
        // the PML4E, a 2 MiB page with bit 13 set.
        let mut m3 = m.clone();
        m3[2].1 |= 1 << 40;
        let r = walk(
            PagingMode::FourLevel,
            0x1000,
            0x1008,
            Some(rights(false, false)),
            mem(&m3),
        );
        assert_eq!(r, Err(WalkError::Fault(9)));
        let mut m4 = m.clone();
        m4[3].1 |= 1 << 63;
        let no_nx = Rights {
            nxe: false,
            ..rights(false, false)
        };
        let r = walk(PagingMode::FourLevel, 0x1000, 0x1008, Some(no_nx), mem(&m4));
        assert_eq!(r, Err(WalkError::Fault(9)));
        let mut m5 = m.clone();
        m5[0].1 |= 1 << 7;
        let r = walk(
            PagingMode::FourLevel,
            0x1000,
            0x1008,
            Some(rights(false, false)),
            mem(&m5),
        );
        assert_eq!(r, Err(WalkError::Fault(9)));
        let m6 = [(0x1000, 0x2007), (0x2000, 0x3007), (0x3000, 0x20_2087)];
        let r = walk(
            PagingMode::FourLevel,
            0x1000,
            0x10,
            Some(rights(false, false)),
            mem(&m6),
        );
        assert_eq!(r, Err(WalkError::Fault(9)));
        // Tables in memory no slot backs.
        let r = walk(
            PagingMode::FourLevel,
            0x1000,
            0,
            Some(rights(false, false)),
            |_, _| None,
        );
        assert_eq!(r, Err(WalkError::Unbacked));
    }

    #[test]
    fn checked_walk_32bit_and_pae() {
        // 32-bit paging: PDE 0 -> PT 0x3000 (user, read-only), PTE 1.
        let m = mem(&[(0x1000, 0x3005), (0x3000 + 4, 0x9007)]);
        let mode = PagingMode::Bits32 { pse: true };
        let r = walk(mode, 0x1000, 0x1004, Some(rights(true, true)), &m);
        assert_eq!(r, Err(WalkError::Fault(7)));
        let w = walk(mode, 0x1000, 0x1004, Some(rights(false, true)), &m).unwrap();
        assert_eq!(
            (w.gpa, flags(&w)),
            (0x9004, std::vec![(0x1000, 0x20, 4), (0x3004, 0x20, 4)])
        );
        // 4 MiB page with the reserved bit 21.
        let m = mem(&[(0x1000, 0x0060_0087)]);
        let r = walk(mode, 0x1000, 0x10, Some(rights(false, false)), &m);
        assert_eq!(r, Err(WalkError::Fault(9)));
        // PAE: a not-present PDPTE faults without reading memory.
        let r = walk(
            PagingMode::Pae([0; 4]),
            0,
            0x10,
            Some(rights(true, false)),
            |_, _| None,
        );
        assert_eq!(r, Err(WalkError::Fault(2)));
        // Unpaged: no check, no update.
        let w = walk(
            PagingMode::None,
            0,
            0x1_0000_1234,
            Some(rights(true, true)),
            |_, _| None,
        );
        assert_eq!(w.map(|w| (w.gpa, w.len)), Ok((0x1234, 0)));
    }

    #[test]
    fn review_reserved_bits() {
        // PAE: bits 62:52 are reserved (KVM's high_bits_rsvd).
        let m = mem(&[(0x2000, (1 << 55) | 0x4007), (0x4000, 0x5007)]);
        let r = walk(
            PagingMode::Pae([0x2001, 0, 0, 0]),
            0,
            0x10,
            Some(rights(false, false)),
            &m,
        );
        assert_eq!(r, Err(WalkError::Fault(9)));
        // ...which 4-level paging ignores (software-available bits).
        let m = tables(7, 2 | 4);
        let mut m2 = m.clone();
        m2[3].1 |= 1 << 55;
        let r = walk(
            PagingMode::FourLevel,
            0x1000,
            0x1008,
            Some(rights(false, false)),
            mem(&m2),
        );
        assert_eq!(r.map(|w| w.gpa), Ok(0x7008));
        // 32-bit PSE: with MAXPHYADDR 36, bits 20:17 of a 4 MiB PDE are
        // reserved; with 40, they are address bits 39:36.
        let m = mem(&[(0x1000, (1 << 17) | 0x0040_0087)]);
        let mode = PagingMode::Bits32 { pse: true };
        let r = walk(mode, 0x1000, 0x10, Some(rights(false, false)), &m);
        assert_eq!(r, Err(WalkError::Fault(9)));
        let wide = Rights {
            maxphyaddr: 40,
            ..rights(false, false)
        };
        let r = walk(mode, 0x1000, 0x10, Some(wide), &m);
        assert_eq!(r.map(|w| w.gpa), Ok(0x10_0040_0010));
        // A 1 GiB page without CPUID's Page1GB.
        let m = [(0x1000, 0x2007), (0x2000, 0x4000_0087)];
        let no_gb = Rights {
            gbpages: false,
            ..rights(false, false)
        };
        let r = walk(PagingMode::FourLevel, 0x1000, 0x10, Some(no_gb), mem(&m));
        assert_eq!(r, Err(WalkError::Fault(9)));
        let r = walk(
            PagingMode::FourLevel,
            0x1000,
            0x10,
            Some(rights(false, false)),
            mem(&m),
        );
        assert_eq!(r.map(|w| w.gpa), Ok(0x4000_0010));
    }

    #[test]
    fn entry_width() {
        // 32-bit paging reads 4-byte entries, so one at the end of a slot
        // is readable; 64-bit ones are read as 8 bytes.
        let seen = std::cell::RefCell::new(Vec::new());
        let m = mem(&[(0x1ffc, 0x3007), (0x3000, 0x9007)]);
        let read = |pa, width| {
            seen.borrow_mut().push(width);
            m(pa, width)
        };
        let mode = PagingMode::Bits32 { pse: false };
        let r = walk(mode, 0x1000, 0xffc0_0000, Some(rights(false, false)), read);
        assert_eq!(r.map(|w| w.gpa), Ok(0x9000));
        assert_eq!(*seen.borrow(), [4, 4]);
    }
}
