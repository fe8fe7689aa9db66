// SPDX-License-Identifier: GPL-2.0

//! Formatting of CPU sets in the kernel's "cpulist" syntax (`0-3,6`), the
//! format of `/sys/devices/system/cpu/online`, so that tests can compare
//! rvisor's report with it directly.

use core::fmt;

/// Writes the CPUs `i` for which `is_set(i)` holds, `i < n`, as a cpulist.
/// An empty set is written as an empty string.
pub fn write_cpulist(
    out: &mut dyn fmt::Write,
    n: usize,
    is_set: impl Fn(usize) -> bool,
) -> fmt::Result {
    let mut first = true;
    let mut cpu = 0;
    while cpu < n {
        if !is_set(cpu) {
            cpu += 1;
            continue;
        }
        let start = cpu;
        while cpu + 1 < n && is_set(cpu + 1) {
            cpu += 1;
        }
        if !first {
            out.write_str(",")?;
        }
        first = false;
        if start == cpu {
            write!(out, "{start}")?;
        } else {
            write!(out, "{start}-{cpu}")?;
        }
        cpu += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::write_cpulist;
    use std::string::String;

    fn list(bits: &[bool]) -> String {
        let mut s = String::new();
        write_cpulist(&mut s, bits.len(), |i| bits[i]).unwrap();
        s
    }

    #[test]
    fn formats_like_sysfs() {
        assert_eq!(list(&[]), "");
        assert_eq!(list(&[false, false]), "");
        assert_eq!(list(&[true]), "0");
        assert_eq!(list(&[true, true]), "0-1");
        assert_eq!(list(&[true, false, true]), "0,2");
        assert_eq!(
            list(&[false, true, true, true, false, true, true]),
            "1-3,5-6"
        );
    }
}
