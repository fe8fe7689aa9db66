// SPDX-License-Identifier: GPL-2.0

//! The PC's 8254 programmable interval timer and system control port B
//! (0x61), as `rvisor boot` emulates them: channel 0 drives IRQ 0,
//! channel 2 is gated by port 0x61 bit 0 and its output is read back in
//! bit 5 (Linux calibrates the TSC with it), channel 1 is the old DRAM
//! refresh timer.
//!
//! Behaviour follows the Intel 8254 datasheet (order number 231164): the
//! six counting modes, binary and BCD counting, the counter-latch and
//! read-back commands, LSB/MSB/LSB-then-MSB access, and the gate input
//! (level-sensitive in modes 0, 2, 3 and 4, edge-triggered in 1, 2, 3
//! and 5). Time is the caller's: every access takes `now` in nanoseconds
//! of a monotonic clock, so the model is deterministic and tested on the
//! host. The counters run at 1.193182 MHz (the PC's 14.31818 MHz / 12).
//!
//! One simplification, as QEMU's i8254: a count written in modes 2 and 3
//! while counting takes effect at once rather than at the end of the
//! current period.

/// Counter clock of the PC's 8254, in Hz.
pub const PIT_HZ: u64 = 1_193_182;
/// Counter 0's port; counters 1 and 2 follow.
pub const COUNTER0: u16 = 0x40;
/// The control word register.
pub const CONTROL: u16 = 0x43;
/// System control port B: gate 2, speaker enable, refresh, OUT2.
pub const PORT_B: u16 = 0x61;

/// Period of the refresh request toggle in port B bit 4 (about 15 us on
/// the PC: the DRAM refresh cadence of channel 1 programmed by the BIOS).
const REFRESH_NS: u64 = 15_085;

const NS: u128 = 1_000_000_000;

/// How a counter's count is read and written (control word bits 5-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Lsb,
    Msb,
    Word,
}

#[derive(Debug, Clone)]
struct Counter {
    mode: u8,
    bcd: bool,
    access: Access,
    /// The count the counter reloads (1-0x10000, or 1-10000 in BCD).
    reload: u32,
    /// Whether a count was written since the control word (else the
    /// counter does not count: "null count").
    loaded: bool,
    /// Clock pulses counted before `since` (while the gate allowed).
    base: u64,
    /// When counting resumed, if it is counting now.
    since: Option<u64>,
    /// The gate input.
    gate: bool,
    /// Modes 1 and 5: a trigger (gate rising edge) happened.
    triggered: bool,
    /// LSB of a word count written, MSB next.
    write_msb_next: bool,
    write_lsb: u8,
    /// Next read of a word count returns the MSB.
    read_msb_next: bool,
    /// A counter-latch command's value and how many bytes are left.
    latched: Option<(u16, u8)>,
    /// A read-back command's status byte.
    status: Option<u8>,
    /// The clock pulse up to which rising edges of OUT were reported.
    edges_seen: u64,
}

/// Nanoseconds of `pulses` of the PIT clock, rounded up: the first
/// instant at which that many have been counted.
fn pulses_to_ns(pulses: u64) -> u64 {
    (u128::from(pulses) * NS).div_ceil(u128::from(PIT_HZ)) as u64
}

fn from_bcd(v: u16) -> u32 {
    let d = |s: u16| u32::from((v >> s) & 0xf).min(9);
    d(12) * 1000 + d(8) * 100 + d(4) * 10 + d(0)
}

fn to_bcd(v: u32) -> u16 {
    let v = v % 10000;
    ((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | (v % 10)) as u16
}

impl Counter {
    fn new(gate: bool) -> Self {
        Self {
            mode: 0,
            bcd: false,
            access: Access::Word,
            reload: 0x10000,
            loaded: false,
            base: 0,
            since: None,
            gate,
            triggered: false,
            write_msb_next: false,
            write_lsb: 0,
            read_msb_next: false,
            latched: None,
            status: None,
            edges_seen: 0,
        }
    }

    /// Clock pulses counted since the count was loaded (or the trigger).
    fn pulses(&self, now: u64) -> u64 {
        let running = self.since.map_or(0, |t| {
            (u128::from(now.saturating_sub(t)) * u128::from(PIT_HZ) / NS) as u64
        });
        self.base.saturating_add(running)
    }

    /// The time at which pulse `p` (at or after the current segment's
    /// start) is counted, if the counter runs.
    fn time_of(&self, p: u64) -> Option<u64> {
        let t = self.since?;
        Some(t.saturating_add(pulses_to_ns(p.saturating_sub(self.base))))
    }

    fn modulus(&self) -> u32 {
        if self.bcd {
            10000
        } else {
            0x10000
        }
    }

    /// Whether the counter's gate lets it count in its mode.
    fn gate_allows(&self) -> bool {
        match self.mode {
            1 | 5 => self.triggered,
            _ => self.gate,
        }
    }

    fn start_or_stop(&mut self, now: u64) {
        let run = self.loaded && self.gate_allows();
        match (run, self.since) {
            (true, None) => self.since = Some(now),
            (false, Some(_)) => {
                self.base = self.pulses(now);
                self.since = None;
            }
            _ => {}
        }
    }

    /// Restarts counting from the reload value (count written, trigger).
    fn restart(&mut self, now: u64) {
        self.base = 0;
        self.since = None;
        self.edges_seen = 0;
        self.start_or_stop(now);
    }

    /// The count as the counter holds it now (for reads and latches).
    fn count(&self, now: u64) -> u32 {
        if !self.loaded || (matches!(self.mode, 1 | 5) && !self.triggered) {
            return self.reload % self.modulus();
        }
        let n = u64::from(self.reload);
        let d = self.pulses(now);
        let m = u64::from(self.modulus());
        let c = match self.mode {
            2 | 6 => n - d % n,
            3 | 7 => {
                // Counts down by two each pulse, twice per period.
                let half = n.div_ceil(2);
                let phase = d % n;
                let left = if phase < half {
                    half - phase
                } else {
                    n - phase
                };
                (left * 2).min(n)
            }
            // Modes 0, 1, 4, 5: down from N through 0 and on, wrapping.
            _ => (n + m - d % m) % m,
        };
        (c % m) as u32
    }

    /// The OUT pin now.
    fn out(&self, now: u64) -> bool {
        if !self.loaded {
            // After the control word: low in mode 0, high otherwise.
            return self.mode != 0;
        }
        let n = u64::from(self.reload);
        match self.mode {
            0 => self.pulses(now) >= n,
            1 => !self.triggered || self.pulses(now) >= n,
            2 | 6 => !self.gate || self.pulses(now) % n != n - 1,
            3 | 7 => !self.gate || self.pulses(now) % n < n.div_ceil(2),
            4 | 5 => {
                let started = self.mode == 4 || self.triggered;
                !(started && self.since.is_some() && self.pulses(now) == n)
            }
            _ => true,
        }
    }

    /// The pulse at which OUT next rises after pulse `after`, if it will.
    fn next_rise(&self, after: u64) -> Option<u64> {
        if !self.loaded || self.since.is_none() {
            return None;
        }
        let n = u64::from(self.reload);
        match self.mode {
            0 | 1 => (after < n).then_some(n),
            4 | 5 => (after < n + 1).then_some(n + 1),
            // Modes 2 and 3: at every reload.
            _ => Some((after / n + 1) * n),
        }
    }

    fn status_byte(&self, now: u64) -> u8 {
        let rw = match self.access {
            Access::Lsb => 1,
            Access::Msb => 2,
            Access::Word => 3,
        };
        u8::from(self.out(now)) << 7
            | u8::from(!self.loaded) << 6
            | rw << 4
            | self.mode << 1
            | u8::from(self.bcd)
    }

    fn latch(&mut self, now: u64) {
        if self.latched.is_none() {
            let c = self.count(now);
            let c = if self.bcd { to_bcd(c) } else { c as u16 };
            let bytes = if self.access == Access::Word { 2 } else { 1 };
            self.latched = Some((c, bytes));
        }
    }

    fn control(&mut self, value: u8, now: u64) {
        let access = match (value >> 4) & 3 {
            1 => Access::Lsb,
            2 => Access::Msb,
            _ => Access::Word,
        };
        let mode = (value >> 1) & 7;
        *self = Self {
            mode: if mode >= 6 { mode - 4 } else { mode },
            bcd: value & 1 != 0,
            access,
            ..Self::new(self.gate)
        };
        self.start_or_stop(now);
    }

    fn load(&mut self, raw: u16, now: u64) {
        let v = if self.bcd {
            from_bcd(raw)
        } else {
            u32::from(raw)
        };
        // 0 is the largest count: 2^16, or 10^4 in BCD.
        self.reload = if v == 0 { self.modulus() } else { v };
        self.loaded = true;
        if self.mode == 1 || self.mode == 5 {
            // Counting starts at the next trigger.
            self.base = 0;
            self.since = None;
            self.edges_seen = 0;
        } else {
            self.restart(now);
        }
    }

    fn write(&mut self, value: u8, now: u64) {
        match self.access {
            Access::Lsb => self.load(u16::from(value), now),
            Access::Msb => self.load(u16::from(value) << 8, now),
            Access::Word => {
                if self.write_msb_next {
                    self.write_msb_next = false;
                    self.load(u16::from(self.write_lsb) | u16::from(value) << 8, now);
                } else {
                    // Mode 0: writing the first byte stops the count.
                    if self.mode == 0 && self.since.is_some() {
                        self.base = self.pulses(now);
                        self.since = None;
                    }
                    self.write_lsb = value;
                    self.write_msb_next = true;
                }
            }
        }
    }

    fn read(&mut self, now: u64) -> u8 {
        if let Some(s) = self.status.take() {
            return s;
        }
        let (value, last) = match self.latched {
            Some((v, left)) => {
                let byte_msb =
                    self.access == Access::Msb || (self.access == Access::Word && left == 1);
                if left <= 1 {
                    self.latched = None;
                } else {
                    self.latched = Some((v, left - 1));
                }
                return if byte_msb { (v >> 8) as u8 } else { v as u8 };
            }
            None => {
                let c = self.count(now);
                let c = if self.bcd { to_bcd(c) } else { c as u16 };
                (c, self.read_msb_next)
            }
        };
        match self.access {
            Access::Lsb => value as u8,
            Access::Msb => (value >> 8) as u8,
            Access::Word => {
                self.read_msb_next = !last;
                if last {
                    (value >> 8) as u8
                } else {
                    value as u8
                }
            }
        }
    }

    fn set_gate(&mut self, high: bool, now: u64) {
        let rising = high && !self.gate;
        self.gate = high;
        if rising && matches!(self.mode, 1 | 2 | 3 | 5) && self.loaded {
            // Modes 1 and 5 trigger, 2 and 3 reload, on the rising edge.
            self.triggered = true;
            self.restart(now);
        } else {
            self.start_or_stop(now);
        }
    }
}

/// The 8254 and port 0x61.
#[derive(Debug, Clone)]
pub struct Pit {
    counters: [Counter; 3],
    /// Port 0x61 bit 1: speaker data enable (kept, no sound).
    speaker: bool,
}

impl Default for Pit {
    fn default() -> Self {
        Self::new()
    }
}

impl Pit {
    /// The PIT as after RESET: no counter counts until programmed; gates
    /// 0 and 1 are tied high, gate 2 is low until port 0x61 sets it.
    pub fn new() -> Self {
        Self {
            counters: [Counter::new(true), Counter::new(true), Counter::new(false)],
            speaker: false,
        }
    }

    /// A guest read of ports 0x40-0x43 or 0x61; `None` for other ports.
    pub fn read(&mut self, port: u16, now: u64) -> Option<u8> {
        Some(match port {
            0x40..=0x42 => self.counters[usize::from(port - COUNTER0)].read(now),
            // The control word register cannot be read (8254: no
            // operation, the bus floats).
            CONTROL => 0xff,
            PORT_B => {
                let c2 = &self.counters[2];
                let refresh = (now / REFRESH_NS) & 1 != 0;
                u8::from(c2.out(now)) << 5
                    | u8::from(refresh) << 4
                    | u8::from(self.speaker) << 1
                    | u8::from(c2.gate)
            }
            _ => return None,
        })
    }

    /// A guest write to ports 0x40-0x43 or 0x61; `false` for other ports.
    pub fn write(&mut self, port: u16, value: u8, now: u64) -> bool {
        match port {
            0x40..=0x42 => self.counters[usize::from(port - COUNTER0)].write(value, now),
            CONTROL => {
                let sc = value >> 6;
                if sc == 3 {
                    // Read-back: bit 5 clear latches counts, bit 4 clear
                    // latches status, bits 3-1 pick counters 2-0.
                    for (i, c) in self.counters.iter_mut().enumerate() {
                        if value & (2 << i) == 0 {
                            continue;
                        }
                        if value & 0x10 == 0 && c.status.is_none() {
                            c.status = Some(c.status_byte(now));
                        }
                        if value & 0x20 == 0 {
                            c.latch(now);
                        }
                    }
                } else if (value >> 4) & 3 == 0 {
                    self.counters[usize::from(sc)].latch(now);
                } else {
                    self.counters[usize::from(sc)].control(value, now);
                }
            }
            PORT_B => {
                self.speaker = value & 2 != 0;
                self.counters[2].set_gate(value & 1 != 0, now);
            }
            _ => return false,
        }
        true
    }

    /// Whether counter 0's OUT (IRQ 0) rose since the last call: the VMM
    /// then pulses IRQ 0 on the PIC. Several rises since the last call
    /// are one interrupt, as a late timer tick is on real hardware when
    /// the processor had interrupts off.
    pub fn irq0_rose(&mut self, now: u64) -> bool {
        let c = &mut self.counters[0];
        let Some(rise) = c.next_rise(c.edges_seen) else {
            return false;
        };
        let p = c.pulses(now);
        if p >= rise {
            c.edges_seen = p;
            true
        } else {
            false
        }
    }

    /// When counter 0's OUT rises next (nanoseconds), if it will: the
    /// VMM's timer sleeps until then.
    pub fn next_irq0(&self) -> Option<u64> {
        let c = &self.counters[0];
        c.time_of(c.next_rise(c.edges_seen)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nanoseconds of `p` PIT pulses, rounded up. Times in the tests are
    /// a segment's start plus `ns(p)`, so that exactly `p` pulses have
    /// been counted since it.
    fn ns(p: u64) -> u64 {
        pulses_to_ns(p)
    }

    fn program(pit: &mut Pit, counter: u8, mode: u8, count: u16, now: u64) {
        pit.write(CONTROL, counter << 6 | 0x30 | mode << 1, now);
        let port = COUNTER0 + u16::from(counter);
        pit.write(port, count as u8, now);
        pit.write(port, (count >> 8) as u8, now);
    }

    fn read_word(pit: &mut Pit, counter: u8, now: u64) -> u16 {
        let port = COUNTER0 + u16::from(counter);
        let lo = pit.read(port, now).unwrap();
        let hi = pit.read(port, now).unwrap();
        u16::from(lo) | u16::from(hi) << 8
    }

    fn latched(pit: &mut Pit, counter: u8, now: u64) -> u16 {
        pit.write(CONTROL, counter << 6, now);
        read_word(pit, counter, now)
    }

    #[test]
    fn linux_periodic_tick_mode_2_at_100_hz() {
        // Linux's pit_set_periodic() (drivers/clocksource/i8253.c) for
        // HZ=100: mode 2 (0x34), LATCH =
        // (PIT_HZ + 50) / 100 = 11932.
        let mut pit = Pit::new();
        let t0 = 1_000_000;
        program(&mut pit, 0, 2, 11932, t0);
        assert!(!pit.irq0_rose(t0));
        let first = pit.next_irq0().unwrap();
        assert_eq!(first, t0 + ns(11932));
        assert!((first - t0).abs_diff(10_000_000) < 1_000, "10 ms");
        assert!(!pit.irq0_rose(first - 1));
        assert!(pit.irq0_rose(first));
        assert!(!pit.irq0_rose(first), "once per rise");
        assert_eq!(pit.next_irq0().unwrap(), t0 + ns(2 * 11932));
        // Missed ticks are one interrupt, and the next is still on the
        // period.
        assert!(pit.irq0_rose(t0 + ns(5 * 11932) + 10));
        assert_eq!(pit.next_irq0().unwrap(), t0 + ns(6 * 11932));
        // The count runs N..1 and reloads.
        assert_eq!(latched(&mut pit, 0, t0), 11932);
        assert_eq!(latched(&mut pit, 0, t0 + ns(100)), 11832);
        assert_eq!(latched(&mut pit, 0, t0 + ns(11931)), 1);
        assert_eq!(latched(&mut pit, 0, t0 + ns(11932)), 11932);
    }

    #[test]
    fn mode_2_out_is_low_for_one_pulse_at_count_1() {
        let mut pit = Pit::new();
        pit.write(PORT_B, 1, 0);
        program(&mut pit, 2, 2, 10, 0);
        let out2 = |pit: &mut Pit, p| pit.read(PORT_B, ns(p)).unwrap() & 0x20 != 0;
        assert!(out2(&mut pit, 0));
        assert!(out2(&mut pit, 8));
        assert!(!out2(&mut pit, 9));
        assert!(out2(&mut pit, 10));
        assert!(!out2(&mut pit, 19));
    }

    #[test]
    fn linux_tsc_calibration_mode_0_on_counter_2() {
        // pit_calibrate_tsc(): gate 2 high, speaker off; mode 0 (0xb0),
        // count 0xffff... here 11932 (10 ms); poll OUT2 in port B bit 5.
        let mut pit = Pit::new();
        let t0 = 5_000;
        let b = pit.read(PORT_B, t0).unwrap();
        pit.write(PORT_B, (b & !2) | 1, t0);
        pit.write(CONTROL, 0xb0, t0);
        assert_eq!(
            pit.read(PORT_B, t0).unwrap() & 0x20,
            0,
            "mode 0: OUT low at once"
        );
        pit.write(0x42, (11932 & 0xff) as u8, t0);
        pit.write(0x42, (11932 >> 8) as u8, t0);
        let end = t0 + ns(11932);
        assert_eq!(pit.read(PORT_B, end - 1).unwrap() & 0x20, 0);
        assert_eq!(pit.read(PORT_B, end).unwrap() & 0x20, 0x20);
        // The MSB falls as the count runs (pit_expect_msb()).
        let msb = |pit: &mut Pit, t| {
            pit.read(0x42, t);
            pit.read(0x42, t).unwrap()
        };
        assert_eq!(msb(&mut pit, t0), (11932 >> 8) as u8);
        assert_eq!(msb(&mut pit, t0 + ns(0x100)), ((11932 - 0x100) >> 8) as u8);
        // After terminal count the counter wraps on, OUT stays high.
        assert_eq!(latched(&mut pit, 2, t0 + ns(11933)), 0xffff);
        assert_eq!(pit.read(PORT_B, t0 + ns(20000)).unwrap() & 0x20, 0x20);
    }

    #[test]
    fn gate_low_pauses_mode_0() {
        let mut pit = Pit::new();
        pit.write(PORT_B, 1, 0);
        program(&mut pit, 2, 0, 1000, 0);
        pit.write(PORT_B, 0, ns(400));
        assert_eq!(latched(&mut pit, 2, ns(900)), 600, "paused at 600");
        let t = ns(900);
        pit.write(PORT_B, 1, t);
        assert_eq!(latched(&mut pit, 2, t + ns(100)), 500);
        assert_eq!(pit.read(PORT_B, t + ns(599)).unwrap() & 0x20, 0);
        assert_eq!(pit.read(PORT_B, t + ns(600)).unwrap() & 0x20, 0x20);
    }

    #[test]
    fn mode_3_square_wave_and_gate_reload() {
        let mut pit = Pit::new();
        pit.write(PORT_B, 1, 0);
        program(&mut pit, 2, 3, 10, 0);
        let out2 = |pit: &mut Pit, t: u64, p| pit.read(PORT_B, t + ns(p)).unwrap() & 0x20 != 0;
        assert!(out2(&mut pit, 0, 0));
        assert!(out2(&mut pit, 0, 4));
        assert!(!out2(&mut pit, 0, 5));
        assert!(!out2(&mut pit, 0, 9));
        assert!(out2(&mut pit, 0, 10));
        // Odd count: high one pulse longer.
        let t = ns(100);
        program(&mut pit, 2, 3, 9, t);
        assert!(out2(&mut pit, t, 4));
        assert!(!out2(&mut pit, t, 5));
        // Gate low forces OUT high; the rising edge restarts the period.
        pit.write(PORT_B, 0, t + ns(6));
        assert!(out2(&mut pit, t, 6));
        let t = ns(200);
        pit.write(PORT_B, 1, t);
        assert!(out2(&mut pit, t, 4));
        assert!(!out2(&mut pit, t, 5));
    }

    #[test]
    fn mode_1_and_5_wait_for_the_gate() {
        let mut pit = Pit::new();
        program(&mut pit, 2, 1, 50, 0);
        let out2 = |pit: &mut Pit, t: u64, p| pit.read(PORT_B, t + ns(p)).unwrap() & 0x20 != 0;
        assert!(out2(&mut pit, 0, 100), "no trigger: OUT high");
        assert_eq!(latched(&mut pit, 2, ns(100)), 50);
        let t = ns(100);
        pit.write(PORT_B, 1, t);
        assert!(!out2(&mut pit, t, 20));
        assert_eq!(latched(&mut pit, 2, t + ns(20)), 30);
        assert!(out2(&mut pit, t, 50));
        // Retrigger.
        pit.write(PORT_B, 0, t + ns(60));
        let t = ns(170);
        pit.write(PORT_B, 1, t);
        assert!(!out2(&mut pit, t, 1));
        // Mode 5: a one-pulse strobe N pulses after the trigger.
        program(&mut pit, 2, 5, 20, ns(300));
        pit.write(PORT_B, 0, ns(300));
        let t = ns(310);
        pit.write(PORT_B, 1, t);
        assert!(out2(&mut pit, t, 19));
        assert!(!out2(&mut pit, t, 20));
        assert!(out2(&mut pit, t, 21));
    }

    #[test]
    fn mode_4_strobe_on_counter_0_raises_irq0_once() {
        let mut pit = Pit::new();
        program(&mut pit, 0, 4, 100, 0);
        assert_eq!(pit.next_irq0(), Some(ns(101)));
        assert!(!pit.irq0_rose(ns(100)));
        assert!(pit.irq0_rose(ns(101)));
        assert_eq!(pit.next_irq0(), None, "one strobe only");
        assert!(!pit.irq0_rose(ns(100_000)));
    }

    #[test]
    fn mode_0_on_counter_0_is_a_one_shot_interrupt() {
        // Linux's oneshot clockevent of the PIT: mode 0, count per event.
        let mut pit = Pit::new();
        program(&mut pit, 0, 0, 500, 0);
        assert_eq!(pit.next_irq0(), Some(ns(500)));
        assert!(pit.irq0_rose(ns(600)));
        assert_eq!(pit.next_irq0(), None);
        program(&mut pit, 0, 0, 200, ns(700));
        assert_eq!(pit.next_irq0(), Some(ns(700) + ns(200)));
    }

    #[test]
    fn an_unprogrammed_or_reprogrammed_counter_raises_nothing() {
        let mut pit = Pit::new();
        assert_eq!(pit.next_irq0(), None);
        assert!(!pit.irq0_rose(u64::MAX));
        program(&mut pit, 0, 2, 1000, 0);
        // A control word alone stops the counter until a count follows.
        pit.write(CONTROL, 0x34, ns(10));
        assert_eq!(pit.next_irq0(), None);
        assert!(!pit.irq0_rose(ns(5000)));
    }

    #[test]
    fn counter_latch_holds_the_value_until_read() {
        let mut pit = Pit::new();
        program(&mut pit, 0, 2, 1000, 0);
        pit.write(CONTROL, 0x00, ns(10));
        // A second latch before reading is ignored.
        pit.write(CONTROL, 0x00, ns(20));
        assert_eq!(read_word(&mut pit, 0, ns(500)), 990);
        // Unlatched: live value.
        assert_eq!(read_word(&mut pit, 0, ns(500)), 500);
    }

    #[test]
    fn lsb_and_msb_access_modes() {
        let mut pit = Pit::new();
        pit.write(CONTROL, 0x14, 0); // counter 0, LSB only, mode 2
        pit.write(0x40, 200, 0);
        assert_eq!(pit.read(0x40, ns(50)), Some(150));
        pit.write(CONTROL, 0x24, 0); // MSB only
        pit.write(0x40, 0x10, 0);
        assert_eq!(pit.read(0x40, ns(0x100)), Some(0x0f));
        // Count 0 is 65536.
        program(&mut pit, 1, 2, 0, 0);
        assert_eq!(latched(&mut pit, 1, ns(1)), 0xffff);
    }

    #[test]
    fn bcd_counting() {
        let mut pit = Pit::new();
        pit.write(CONTROL, 0x31, 0); // counter 0, word, mode 0, BCD
        pit.write(0x40, 0x34, 0);
        pit.write(0x40, 0x12, 0); // 1234 decimal
        assert_eq!(latched(&mut pit, 0, ns(34)), 0x1200);
        assert_eq!(latched(&mut pit, 0, ns(1235)), 0x9999, "wraps in decimal");
        assert_eq!(pit.next_irq0(), Some(ns(1234)));
    }

    #[test]
    fn read_back_latches_status_and_count() {
        let mut pit = Pit::new();
        program(&mut pit, 2, 3, 100, 0);
        pit.write(PORT_B, 1, 0);
        // Status and count of counter 2.
        pit.write(CONTROL, 0xc8, ns(30));
        let status = pit.read(0x42, ns(80)).unwrap();
        // OUT high (first half), count loaded, word access, mode 3, binary.
        assert_eq!(status, 0x80 | 0x30 | 3 << 1);
        let c = read_word(&mut pit, 2, ns(80));
        assert_eq!(c, 40, "the count at the read-back, not at the read");
        // Status only, on a counter programmed but not loaded: null count.
        pit.write(CONTROL, 0x90, ns(90));
        pit.write(CONTROL, 0xe8, ns(90));
        assert_eq!(pit.read(0x42, ns(90)).unwrap(), 0x40 | 0x10);
        // The control register itself reads as a floating bus.
        assert_eq!(pit.read(CONTROL, 0), Some(0xff));
    }

    #[test]
    fn port_b_keeps_gate_and_speaker_and_toggles_refresh() {
        let mut pit = Pit::new();
        pit.write(PORT_B, 0xff, 0);
        let v = pit.read(PORT_B, 0).unwrap();
        assert_eq!(v & 0x03, 0x03);
        assert_eq!(v & 0xc0, 0, "no NMI sources");
        let r0 = pit.read(PORT_B, 0).unwrap() & 0x10;
        let r1 = pit.read(PORT_B, REFRESH_NS).unwrap() & 0x10;
        assert_ne!(r0, r1);
        assert_eq!(pit.read(0x44, 0), None);
        assert!(!pit.write(0x60, 0, 0));
    }

    #[test]
    fn hostile_sequences_never_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut pit = Pit::new();
        let mut now = 0u64;
        for _ in 0..200_000 {
            let r = next();
            now = now.wrapping_add(r % 100_000);
            let port = [0x40, 0x41, 0x42, 0x43, 0x61][(r >> 20) as usize % 5];
            if r & 1 != 0 {
                pit.write(port, (r >> 8) as u8, now);
            } else {
                pit.read(port, now);
            }
            pit.irq0_rose(now);
            // The time the VMM's timer would sleep until does raise IRQ 0
            // (the prediction and the check agree).
            if let Some(t) = pit.next_irq0() {
                let mut p = pit.clone();
                assert!(t > now, "a rise already due was reported");
                assert!(!p.clone().irq0_rose(t - 1), "predicted late");
                assert!(p.irq0_rose(t), "predicted early");
            }
        }
        // Far-future times do not overflow.
        pit.irq0_rose(u64::MAX);
        pit.read(0x40, u64::MAX);
    }
}
