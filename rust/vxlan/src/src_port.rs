// SPDX-License-Identifier: GPL-2.0

//! The outer UDP source port: RFC 7348 section 5 recommends a hash of the
//! inner frame's headers, so that the underlay spreads flows over paths
//! (ECMP) while keeping each flow on one. rvxlan maps the flow hash into
//! the configured range exactly as Linux's `udp_flow_src_port()` does, so
//! the two drivers pick the same port for the same flow and range.

/// The default range when none is configured: Linux's default ephemeral
/// port range (`net.ipv4.ip_local_port_range`), as Linux vxlan uses.
pub const DEFAULT_RANGE: (u16, u16) = (32768, 61000);

/// The source port for a flow with hash `hash` in `[min, max)`.
pub fn src_port(hash: u32, min: u16, max: u16) -> u16 {
    let (min, max) = if max > min { (min, max) } else { DEFAULT_RANGE };
    // Use the high bits: the low bits of some flow hashes are weak.
    let h = hash ^ (hash << 16);
    ((u64::from(h) * u64::from(max - min)) >> 32) as u16 + min
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_in_range_and_spreads() {
        let mut seen = [false; 16];
        for i in 0..10_000u32 {
            let hash = i.wrapping_mul(2_654_435_761);
            let p = src_port(hash, 1000, 1016);
            assert!((1000..1016).contains(&p));
            seen[usize::from(p - 1000)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn same_flow_same_port_and_default_range() {
        assert_eq!(
            src_port(0xdead_beef, 2000, 3000),
            src_port(0xdead_beef, 2000, 3000)
        );
        let p = src_port(12345, 0, 0);
        assert!((DEFAULT_RANGE.0..DEFAULT_RANGE.1).contains(&p));
        assert_eq!(src_port(0, 5000, 6000), 5000);
        // 0x8000_0000 shifted by 16 vanishes: h = 2^31, the middle of the range.
        assert_eq!(src_port(0x8000_0000, 5000, 6000), 5500);
    }
}
