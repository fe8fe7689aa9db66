// SPDX-License-Identifier: GPL-2.0

//! The 8-byte VXLAN header (RFC 7348, section 5):
//!
//! ```text
//!  0                   1                   2                   3
//! |R|R|R|R|I|R|R|R|            Reserved                           |
//! |                VXLAN Network Identifier (VNI) |   Reserved    |
//! ```

/// Length of the VXLAN header.
pub const HEADER_LEN: usize = 8;

/// IANA-assigned VXLAN UDP destination port.
pub const DEFAULT_PORT: u16 = 4789;

/// Bytes an IPv4 underlay adds around the inner Ethernet frame's payload:
/// outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet header (14).
pub const OVERHEAD_IPV4: u32 = 20 + 8 + HEADER_LEN as u32 + 14;

/// Same for an IPv6 underlay: outer IPv6 header is 40 bytes.
pub const OVERHEAD_IPV6: u32 = 40 + 8 + HEADER_LEN as u32 + 14;

/// The "I" flag: the VNI field is valid. The only flag RFC 7348 defines.
const FLAG_I: u8 = 0x08;

/// A 24-bit VXLAN Network Identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vni(u32);

impl Vni {
    /// Largest valid VNI (2^24 - 1).
    pub const MAX: u32 = (1 << 24) - 1;

    /// A VNI, or `None` if `value` does not fit in 24 bits.
    pub const fn new(value: u32) -> Option<Self> {
        if value <= Self::MAX {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The numeric value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// Why a received VXLAN header was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderError {
    /// Fewer than [`HEADER_LEN`] bytes.
    Truncated,
    /// The I flag is clear: the VNI is not valid (RFC 7348: discard).
    NoVniFlag,
    /// A reserved bit is set. RFC 7348 says to ignore them, but they are
    /// how extensions (GBP, GPE) mark headers that change the meaning of
    /// the payload; like Linux vxlan, rvxlan drops such frames rather than
    /// deliver them as plain Ethernet. The VNI is still reported so that
    /// the drop can be counted on the device it names.
    ReservedBits(Vni),
}

/// Writes the header for `vni` into `out`: I flag set, every reserved bit
/// zero, as RFC 7348 requires of a sender.
pub fn encode(vni: Vni, out: &mut [u8; HEADER_LEN]) {
    let v = vni.get().to_be_bytes();
    *out = [FLAG_I, 0, 0, 0, v[1], v[2], v[3], 0];
}

/// Reads the VNI from a received header. A clear I flag is an error; so
/// is any reserved bit set (see [`HeaderError::ReservedBits`]).
pub fn decode(bytes: &[u8]) -> Result<Vni, HeaderError> {
    let h = bytes.get(..HEADER_LEN).ok_or(HeaderError::Truncated)?;
    if h[0] & FLAG_I == 0 {
        return Err(HeaderError::NoVniFlag);
    }
    let vni = Vni(u32::from_be_bytes([0, h[4], h[5], h[6]]));
    if h[0] != FLAG_I || h[1] | h[2] | h[3] | h[7] != 0 {
        return Err(HeaderError::ReservedBits(vni));
    }
    Ok(vni)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vni_range() {
        assert_eq!(Vni::new(0).map(Vni::get), Some(0));
        assert_eq!(Vni::new(Vni::MAX).map(Vni::get), Some(0xff_ffff));
        assert_eq!(Vni::new(1 << 24), None);
        assert_eq!(Vni::new(u32::MAX), None);
    }

    #[test]
    fn encode_matches_rfc_layout() {
        let mut h = [0xff; HEADER_LEN];
        encode(Vni::new(0x12_3456).unwrap(), &mut h);
        assert_eq!(h, [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
    }

    #[test]
    fn round_trip() {
        for v in [0, 1, 100, 200, 0xab_cdef, Vni::MAX] {
            let vni = Vni::new(v).unwrap();
            let mut h = [0; HEADER_LEN];
            encode(vni, &mut h);
            assert_eq!(decode(&h), Ok(vni));
        }
    }

    #[test]
    fn reserved_bits_are_refused_with_their_vni() {
        let vni = Vni::new(100).unwrap();
        for (i, bit) in [(0, 0x80), (0, 0x01), (1, 1), (2, 0x40), (3, 0x80), (7, 1)] {
            let mut h = [0x08, 0, 0, 0, 0, 0, 100, 0];
            h[i] |= bit;
            assert_eq!(decode(&h), Err(HeaderError::ReservedBits(vni)), "byte {i}");
        }
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(
            decode(&[0x08, 0, 0, 0, 0, 0, 1]),
            Err(HeaderError::Truncated)
        );
        assert_eq!(decode(&[]), Err(HeaderError::Truncated));
        assert_eq!(
            decode(&[0xf7, 0, 0, 0, 0, 0, 1, 0]),
            Err(HeaderError::NoVniFlag)
        );
    }

    #[test]
    fn overheads() {
        assert_eq!(OVERHEAD_IPV4, 50);
        assert_eq!(OVERHEAD_IPV6, 70);
    }
}
