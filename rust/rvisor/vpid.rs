// SPDX-License-Identifier: GPL-2.0

//! VPID allocation: one tag per live vCPU, so that guest TLB entries
//! never need flushing on VM entry and exit. VPID 0 is the host's.

use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

const WORDS: usize = 1024;
/// One bit per VPID (65536); bit 0 (the host's) is never handed out.
static USED: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];

/// An allocated VPID, released on drop.
pub(crate) struct Vpid(u16);

impl Vpid {
    /// Allocates a VPID; `ENOSPC` when all 65535 are in use.
    pub(crate) fn alloc() -> Result<Self> {
        for (w, word) in USED.iter().enumerate() {
            let mut cur = word.load(Ordering::Relaxed);
            loop {
                // Never hand out bit 0 of word 0 (VPID 0).
                let taken = if w == 0 { cur | 1 } else { cur };
                if taken == u64::MAX {
                    break;
                }
                let bit = (!taken).trailing_zeros();
                match word.compare_exchange(
                    cur,
                    cur | (1 << bit),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok(Self((w * 64 + bit as usize) as u16)),
                    Err(now) => cur = now,
                }
            }
        }
        Err(ENOSPC)
    }

    /// The tag.
    pub(crate) fn get(&self) -> u16 {
        self.0
    }
}

impl Drop for Vpid {
    fn drop(&mut self) {
        let (w, bit) = (usize::from(self.0) / 64, self.0 % 64);
        USED[w].fetch_and(!(1 << bit), Ordering::AcqRel);
    }
}
