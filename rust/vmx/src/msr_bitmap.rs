// SPDX-License-Identifier: GPL-2.0

//! The VMX MSR bitmap (SDM Vol. 3C, 25.6.9): one 4 KiB page, a bit per
//! MSR and direction; a set bit makes RDMSR/WRMSR of that MSR exit. MSRs
//! outside the two covered ranges always exit.

/// Size of the bitmap.
pub const SIZE: usize = 4096;

/// Offset of the first byte for `msr` in the read half, if covered.
fn read_offset(msr: u32) -> Option<usize> {
    match msr {
        0..=0x1fff => Some(0),
        0xc000_0000..=0xc000_1fff => Some(1024),
        _ => None,
    }
}

/// A bitmap where every access exits.
pub fn all_exiting() -> [u8; SIZE] {
    [0xff; SIZE]
}

/// Lets the guest read and write `msr` without exiting. Returns `false`
/// (and changes nothing) for an MSR the bitmap does not cover.
pub fn pass_through(bitmap: &mut [u8; SIZE], msr: u32) -> bool {
    let Some(base) = read_offset(msr) else {
        return false;
    };
    let bit = (msr & 0x1fff) as usize;
    let (byte, mask) = (bit / 8, 1u8 << (bit % 8));
    bitmap[base + byte] &= !mask;
    bitmap[base + 2048 + byte] &= !mask;
    true
}

/// Whether an access to `msr` (a write if `write`) exits.
pub fn exits(bitmap: &[u8; SIZE], msr: u32, write: bool) -> bool {
    let Some(base) = read_offset(msr) else {
        return true;
    };
    let bit = (msr & 0x1fff) as usize;
    let base = base + if write { 2048 } else { 0 };
    bitmap[base + bit / 8] & (1 << (bit % 8)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let mut b = all_exiting();
        assert!(pass_through(&mut b, 0xc000_0100)); // FS_BASE
        assert!(pass_through(&mut b, 0x175)); // SYSENTER_ESP
                                              // FS_BASE: bit 0x100 of the high halves (read at 1024, write at 3072).
        assert_eq!(b[1024 + 0x20], 0xfe);
        assert_eq!(b[3072 + 0x20], 0xfe);
        // 0x175: byte 0x2e, bit 5 of the low halves.
        assert_eq!(b[0x2e], !(1 << 5));
        assert_eq!(b[2048 + 0x2e], !(1 << 5));
        assert!(!exits(&b, 0xc000_0100, false) && !exits(&b, 0xc000_0100, true));
        assert!(exits(&b, 0xc000_0101, false) && exits(&b, 0x174, true));
        // Uncovered MSRs always exit and cannot be passed through.
        assert!(!pass_through(&mut b, 0x4000_0000));
        assert!(exits(&b, 0x4000_0000, false));
        assert_eq!(b.iter().filter(|&&x| x != 0xff).count(), 4);
    }
}
