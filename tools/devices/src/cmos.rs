// SPDX-License-Identifier: GPL-2.0

//! The PC's CMOS RAM and MC146818 real-time clock at ports 0x70/0x71,
//! reduced to what a booting Linux reads: the date and time (BCD, 24-hour,
//! from the caller's clock), status registers A-D with no update in
//! progress and the battery good, and 128 bytes of RAM that keep what the
//! guest writes. No alarm, periodic or update interrupts (IRQ 8 never
//! fires; Linux does not need it to boot).

/// The index port (bit 7: NMI disable, kept and ignored).
pub const INDEX: u16 = 0x70;
/// The data port.
pub const DATA: u16 = 0x71;

const REG_A: usize = 0x0a;
const REG_B: usize = 0x0b;
const REG_C: usize = 0x0c;
const REG_D: usize = 0x0d;
/// Register A: 32.768 kHz time base, 1024 Hz rate, no update in progress.
const A_VALUE: u8 = 0x26;
/// Register B: 24-hour mode, BCD (DM and the interrupt enables clear).
const B_24H: u8 = 0x02;
/// Register D: valid RAM and time (battery good).
const D_VRT: u8 = 0x80;

/// A calendar time, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateTime {
    /// Full year, e.g. 2026.
    pub year: u32,
    /// 1-12.
    pub month: u8,
    /// 1-31.
    pub day: u8,
    /// 1-7, Sunday 1.
    pub weekday: u8,
    /// 0-23.
    pub hour: u8,
    /// 0-59.
    pub minute: u8,
    /// 0-59.
    pub second: u8,
}

impl DateTime {
    /// The UTC time `secs` seconds after 1970-01-01 (days to civil date:
    /// H. Hinnant's algorithm).
    pub fn from_unix(secs: u64) -> Self {
        let days = secs / 86400;
        let rem = secs % 86400;
        let z = days as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u32;
        Self {
            year,
            month,
            day,
            // 1970-01-01 was a Thursday (5 with Sunday 1).
            weekday: ((days + 4) % 7 + 1) as u8,
            hour: (rem / 3600) as u8,
            minute: (rem / 60 % 60) as u8,
            second: (rem % 60) as u8,
        }
    }
}

fn bcd(v: u32) -> u8 {
    ((v / 10 % 10) << 4 | (v % 10)) as u8
}

/// CMOS RAM and clock.
#[derive(Debug, Clone)]
pub struct Cmos {
    index: u8,
    ram: [u8; 128],
}

impl Default for Cmos {
    fn default() -> Self {
        Self::new()
    }
}

impl Cmos {
    /// RAM zeroed but for the status registers.
    pub fn new() -> Self {
        let mut ram = [0u8; 128];
        ram[REG_A] = A_VALUE;
        ram[REG_B] = B_24H;
        ram[REG_D] = D_VRT;
        Self { index: 0, ram }
    }

    /// A guest read of 0x70/0x71 at time `now`; `None` for other ports.
    pub fn read(&mut self, port: u16, now: DateTime) -> Option<u8> {
        match port {
            // The index register is write-only; reads float.
            INDEX => Some(0xff),
            DATA => {
                let i = usize::from(self.index & 0x7f);
                Some(match i {
                    0x00 => bcd(now.second.into()),
                    0x02 => bcd(now.minute.into()),
                    0x04 => bcd(now.hour.into()),
                    0x06 => bcd(now.weekday.into()),
                    0x07 => bcd(now.day.into()),
                    0x08 => bcd(now.month.into()),
                    0x09 => bcd(now.year % 100),
                    // The century (the byte ACPI's FADT would name; Linux
                    // reads it only then).
                    0x32 => bcd(now.year / 100),
                    // Reading C clears the interrupt flags (none are set).
                    REG_C => 0,
                    _ => self.ram[i],
                })
            }
            _ => None,
        }
    }

    /// A guest write to 0x70/0x71; `false` for other ports. The clock
    /// registers and A-D stay as they are (the guest cannot set the host's
    /// time or stop the clock); other bytes are RAM.
    pub fn write(&mut self, port: u16, value: u8) -> bool {
        match port {
            INDEX => self.index = value,
            DATA => {
                let i = usize::from(self.index & 0x7f);
                if !matches!(i, 0x00..=0x09 | REG_A..=REG_D | 0x32) {
                    self.ram[i] = value;
                }
            }
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_time_to_civil() {
        assert_eq!(
            DateTime::from_unix(0),
            DateTime {
                year: 1970,
                month: 1,
                day: 1,
                weekday: 5,
                hour: 0,
                minute: 0,
                second: 0
            }
        );
        // 2026-12-04 21:37:37 UTC, a Friday.
        assert_eq!(
            DateTime::from_unix(1_796_420_257),
            DateTime {
                year: 2026,
                month: 12,
                day: 4,
                weekday: 6,
                hour: 21,
                minute: 37,
                second: 37
            }
        );
        // 2000-02-29 (leap day of a century leap year), a Tuesday.
        let d = DateTime::from_unix(951_782_400);
        assert_eq!((d.year, d.month, d.day, d.weekday), (2000, 2, 29, 3));
    }

    #[test]
    fn clock_reads_in_bcd_and_status_is_sane() {
        let mut c = Cmos::new();
        let now = DateTime::from_unix(1_796_420_257);
        let mut rd = |i: u8| {
            c.write(INDEX, 0x80 | i);
            c.read(DATA, now).unwrap()
        };
        assert_eq!(
            [rd(0), rd(2), rd(4), rd(7), rd(8), rd(9), rd(0x32)],
            [0x37, 0x37, 0x21, 0x04, 0x12, 0x26, 0x20]
        );
        assert_eq!(rd(0x0a) & 0x80, 0, "no update in progress");
        assert_eq!(rd(0x0b), 0x02, "24-hour BCD");
        assert_eq!(rd(0x0d), 0x80, "battery good");
    }

    #[test]
    fn ram_keeps_writes_but_the_clock_is_read_only() {
        let mut c = Cmos::new();
        let now = DateTime::default();
        c.write(INDEX, 0x0f);
        c.write(DATA, 0x5a);
        c.write(INDEX, 0x00);
        c.write(DATA, 0x59);
        c.write(INDEX, 0x0b);
        c.write(DATA, 0x80); // SET: stop the clock
        c.write(INDEX, 0x0f);
        assert_eq!(c.read(DATA, now), Some(0x5a));
        c.write(INDEX, 0x00);
        assert_eq!(c.read(DATA, now), Some(0));
        c.write(INDEX, 0x0b);
        assert_eq!(c.read(DATA, now), Some(0x02));
        assert_eq!(c.read(INDEX, now), Some(0xff));
        assert_eq!(c.read(0x72, now), None);
    }
}
