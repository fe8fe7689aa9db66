// SPDX-License-Identifier: GPL-2.0

//! The PC's two cascaded 8259A programmable interrupt controllers, as
//! `rvisor boot` emulates them for a guest (rvisor has no in-kernel
//! irqchip: the VMM decides which vector to hand to `KVM_INTERRUPT`).
//!
//! Behaviour follows the Intel 8259A datasheet (order number 231468):
//! initialization by ICW1-ICW4, operation commands OCW1-OCW3, fully nested
//! priority with rotation, specific and non-specific EOI, automatic EOI,
//! special mask mode, poll mode, and the spurious IR7 an acknowledge gets
//! when the request went away. Edge or level sensing per input comes from
//! the ELCR at ports 0x4d0/0x4d1 (PIIX/ICH), as on every PC since the PCI
//! chipsets, or from ICW1.LTIM for a whole chip.
//!
//! Wiring of the PC: the master at 0x20/0x21 takes IRQ 0-7, the slave at
//! 0xa0/0xa1 takes IRQ 8-15 and drives the master's IR2.

/// Ports of the master (command, data), the slave, and the ELCR pair.
pub const MASTER_CMD: u16 = 0x20;
/// The master's data port (IMR, ICW2-4).
pub const MASTER_DATA: u16 = 0x21;
/// The slave's command port.
pub const SLAVE_CMD: u16 = 0xa0;
/// The slave's data port.
pub const SLAVE_DATA: u16 = 0xa1;
/// Edge/level control for IRQ 0-7.
pub const ELCR_MASTER: u16 = 0x4d0;
/// Edge/level control for IRQ 8-15.
pub const ELCR_SLAVE: u16 = 0x4d1;

/// The master's input the slave drives.
const CASCADE_IR: u8 = 2;
/// ELCR bits that exist: IRQ 0, 1, 2, 8 and 13 are edge-triggered only
/// (PIIX4 datasheet, 4.1.11).
const ELCR_WRITABLE: [u8; 2] = [0xf8, 0xde];

/// Where the initialization sequence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Init {
    /// Initialized: data-port writes are OCW1.
    Ready,
    /// ICW1 seen: the next data-port write is ICW2.
    Icw2,
    /// ICW3 expected (cascade mode).
    Icw3,
    /// ICW4 expected (ICW1.IC4).
    Icw4,
}

/// One 8259A.
#[derive(Debug, Clone)]
struct Chip {
    /// Interrupt request register.
    irr: u8,
    /// In-service register.
    isr: u8,
    /// Interrupt mask register (OCW1).
    imr: u8,
    /// Input levels last seen, for edge detection.
    level: u8,
    /// Level-triggered inputs (ELCR, or all of them with ICW1.LTIM).
    elcr: u8,
    /// ICW1.LTIM.
    ltim: bool,
    /// Vector of IR0 (ICW2, low three bits clear).
    base: u8,
    /// The input with the highest priority (0 after ICW1; rotation moves
    /// it, the one just serviced getting the lowest).
    top: u8,
    /// OCW3: reads of the command port return ISR (else IRR).
    read_isr: bool,
    /// OCW3: the next command-port read is a poll.
    poll: bool,
    /// OCW3: special mask mode.
    special_mask: bool,
    /// ICW4.AEOI.
    auto_eoi: bool,
    /// OCW2: rotate in automatic EOI mode.
    rotate_auto_eoi: bool,
    /// ICW4.SFNM.
    special_fully_nested: bool,
    init: Init,
    /// ICW1.IC4.
    icw4: bool,
    /// ICW1.SNGL (no ICW3).
    single: bool,
}

impl Chip {
    fn new() -> Self {
        Self {
            irr: 0,
            isr: 0,
            imr: 0,
            level: 0,
            elcr: 0,
            ltim: false,
            base: 0,
            top: 0,
            read_isr: false,
            poll: false,
            special_mask: false,
            auto_eoi: false,
            rotate_auto_eoi: false,
            special_fully_nested: false,
            init: Init::Ready,
            icw4: false,
            single: false,
        }
    }

    fn level_triggered(&self, mask: u8) -> bool {
        self.ltim || self.elcr & mask != 0
    }

    /// Level-triggered requests follow their lines (after ICW1 or an
    /// ELCR change).
    fn resample(&mut self) {
        let level_mask = if self.ltim { 0xff } else { self.elcr };
        self.irr = (self.irr & !level_mask) | (self.level & level_mask);
    }

    /// A change of input `ir`'s line.
    fn set_input(&mut self, ir: u8, high: bool) {
        let mask = 1u8 << ir;
        if self.level_triggered(mask) {
            if high {
                self.irr |= mask;
            } else {
                self.irr &= !mask;
            }
        } else if high && self.level & mask == 0 {
            // A rising edge latches the request; it stays until
            // acknowledged, whatever the line does meanwhile.
            self.irr |= mask;
        }
        if high {
            self.level |= mask;
        } else {
            self.level &= !mask;
        }
    }

    /// The input of `bits` with the highest priority, if any.
    fn highest(&self, bits: u8) -> Option<u8> {
        (0..8)
            .map(|p| (self.top + p) & 7)
            .find(|&ir| bits & (1 << ir) != 0)
    }

    /// Priority rank of `ir` (0 highest).
    fn rank(&self, ir: u8) -> u8 {
        ir.wrapping_sub(self.top) & 7
    }

    /// The input the chip's INT output asks for, if any: the highest
    /// unmasked request whose priority is above every input in service
    /// (fully nested mode). In special mask mode masked inputs in service
    /// do not block; in special fully nested mode (master) the cascade
    /// input in service does not block the slave.
    fn pending(&self, cascade: bool) -> Option<u8> {
        let ir = self.highest(self.irr & !self.imr)?;
        let mut in_service = self.isr;
        if self.special_mask {
            in_service &= !self.imr;
        }
        if cascade && self.special_fully_nested {
            in_service &= !(1 << CASCADE_IR);
        }
        match self.highest(in_service) {
            Some(busy) if self.rank(busy) <= self.rank(ir) => None,
            _ => Some(ir),
        }
    }

    /// Interrupt acknowledge of `ir`: the request moves to service
    /// (unless automatic EOI), an edge request is consumed.
    fn acknowledge(&mut self, ir: u8) {
        let mask = 1u8 << ir;
        if !self.level_triggered(mask) {
            self.irr &= !mask;
        }
        if self.auto_eoi {
            if self.rotate_auto_eoi {
                self.top = (ir + 1) & 7;
            }
        } else {
            self.isr |= mask;
        }
    }

    fn write_cmd(&mut self, value: u8) {
        if value & 0x10 != 0 {
            // ICW1 (A0 = 0, D4 = 1): reset and start the sequence. The
            // datasheet: edge sense reset, IMR cleared, IR7 lowest
            // priority, special mask mode off, status read is IRR; without
            // IC4 every ICW4 function is zero.
            // The lines keep their levels: a line held high must go low
            // and high again to request, unless it is level-triggered.
            let (elcr, level) = (self.elcr, self.level);
            *self = Self::new();
            self.elcr = elcr;
            self.level = level;
            self.ltim = value & 0x08 != 0;
            self.resample();
            self.single = value & 0x02 != 0;
            self.icw4 = value & 0x01 != 0;
            self.init = Init::Icw2;
        } else if value & 0x08 != 0 {
            // OCW3.
            if value & 0x04 != 0 {
                self.poll = true;
            }
            if value & 0x02 != 0 {
                self.read_isr = value & 0x01 != 0;
            }
            if value & 0x40 != 0 {
                self.special_mask = value & 0x20 != 0;
            }
        } else {
            // OCW2: R, SL, EOI in bits 7-5, the level in 2-0.
            let level = value & 7;
            match value >> 5 {
                0b000 => self.rotate_auto_eoi = false,
                0b100 => self.rotate_auto_eoi = true,
                0b001 | 0b101 => {
                    // Non-specific EOI: the highest-priority input in
                    // service (the one being handled in fully nested mode).
                    if let Some(ir) = self.highest(self.isr) {
                        self.isr &= !(1 << ir);
                        if value & 0x80 != 0 {
                            self.top = (ir + 1) & 7;
                        }
                    }
                }
                0b011 => self.isr &= !(1 << level),
                0b111 => {
                    self.isr &= !(1 << level);
                    self.top = (level + 1) & 7;
                }
                0b110 => self.top = (level + 1) & 7,
                _ => {} // 0b010: no operation.
            }
        }
    }

    fn write_data(&mut self, value: u8) {
        match self.init {
            Init::Ready => self.imr = value,
            Init::Icw2 => {
                // In 8086 mode T7-T3 give the vector, the low bits are the
                // input number.
                self.base = value & 0xf8;
                self.init = if !self.single {
                    Init::Icw3
                } else if self.icw4 {
                    Init::Icw4
                } else {
                    Init::Ready
                };
            }
            Init::Icw3 => {
                // The cascade wiring is fixed on a PC: nothing to keep.
                self.init = if self.icw4 { Init::Icw4 } else { Init::Ready };
            }
            Init::Icw4 => {
                self.auto_eoi = value & 0x02 != 0;
                self.special_fully_nested = value & 0x10 != 0;
                self.init = Init::Ready;
            }
        }
    }

    fn read_cmd(&self) -> u8 {
        if self.read_isr {
            self.isr
        } else {
            self.irr
        }
    }
}

/// The master and slave 8259A of a PC, as the VMM's interrupt controller.
#[derive(Debug, Clone)]
pub struct Pic {
    chips: [Chip; 2],
}

impl Default for Pic {
    fn default() -> Self {
        Self::new()
    }
}

impl Pic {
    /// Both chips as at power-on: uninitialized (vector base 0), nothing
    /// masked, every input edge-triggered.
    pub fn new() -> Self {
        Self {
            chips: [Chip::new(), Chip::new()],
        }
    }

    /// The slave's INT output drives the master's IR2.
    fn cascade(&mut self) {
        let int = self.chips[1].pending(false).is_some();
        self.chips[0].set_input(CASCADE_IR, int);
    }

    /// Sets the line of `irq` (0-15) high or low. An edge-triggered input
    /// requests on the rising edge, a level-triggered one while high.
    /// IRQ 2 is the cascade and has no line of its own (on a PC, IRQ 9
    /// takes its place); setting it does nothing.
    pub fn set_irq(&mut self, irq: u8, high: bool) {
        match irq {
            0..=7 if irq != CASCADE_IR => self.chips[0].set_input(irq, high),
            8..=15 => {
                self.chips[1].set_input(irq - 8, high);
                self.cascade();
            }
            _ => {}
        }
    }

    /// Whether the master's INT output is asserted: an interrupt waits for
    /// the processor (the VMM injects it once the guest can take it).
    pub fn interrupt_pending(&self) -> bool {
        self.chips[0].pending(true).is_some()
    }

    /// One interrupt acknowledge (INTA, or a poll) on `chip`: the input it
    /// services, moved to service, and for the master's cascade input the
    /// slave's, acknowledged in turn (`None` there if the slave's request
    /// went away). `None` if the chip has nothing to deliver.
    fn service(&mut self, chip: usize) -> Option<(u8, Option<u8>)> {
        let ir = self.chips[chip].pending(chip == 0)?;
        self.chips[chip].acknowledge(ir);
        let mut slave = None;
        if chip == 0 && ir == CASCADE_IR {
            slave = self.chips[1].pending(false);
            if let Some(sir) = slave {
                self.chips[1].acknowledge(sir);
            }
        }
        self.cascade();
        Some((ir, slave))
    }

    /// The processor's interrupt acknowledge: the vector to deliver. With
    /// nothing to deliver (the request went away, or was masked, since
    /// INT was seen) the chip answers with IR7's vector, a spurious
    /// interrupt, and sets nothing in service; for the slave, the master
    /// still services IR2.
    pub fn acknowledge(&mut self) -> u8 {
        match self.service(0) {
            Some((CASCADE_IR, slave)) => self.chips[1].base | slave.unwrap_or(7),
            Some((ir, _)) => self.chips[0].base | ir,
            None => self.chips[0].base | 7,
        }
    }

    /// A poll (OCW3.P, then a read): the acknowledge without a vector. The
    /// byte has bit 7 set and the input in bits 2-0 if one was waiting (a
    /// poll of the master for its cascade input services the slave's
    /// request too, so that the slave's INT does not stay up for ever).
    fn poll(&mut self, chip: usize) -> u8 {
        self.chips[chip].poll = false;
        self.service(chip).map_or(0, |(ir, _)| 0x80 | ir)
    }

    /// A guest read of one of the PIC's ports; `None` for other ports.
    pub fn read(&mut self, port: u16) -> Option<u8> {
        let value = match port {
            MASTER_CMD | MASTER_DATA | SLAVE_CMD | SLAVE_DATA => {
                // A poll is answered at either port of the chip.
                let chip = usize::from(port == SLAVE_CMD || port == SLAVE_DATA);
                if self.chips[chip].poll {
                    self.poll(chip)
                } else if port == MASTER_CMD || port == SLAVE_CMD {
                    self.chips[chip].read_cmd()
                } else {
                    self.chips[chip].imr
                }
            }
            ELCR_MASTER => self.chips[0].elcr,
            ELCR_SLAVE => self.chips[1].elcr,
            _ => return None,
        };
        Some(value)
    }

    /// A guest write to one of the PIC's ports; `false` for other ports.
    pub fn write(&mut self, port: u16, value: u8) -> bool {
        match port {
            MASTER_CMD => self.chips[0].write_cmd(value),
            MASTER_DATA => self.chips[0].write_data(value),
            SLAVE_CMD => self.chips[1].write_cmd(value),
            SLAVE_DATA => self.chips[1].write_data(value),
            ELCR_MASTER | ELCR_SLAVE => {
                let chip = usize::from(port == ELCR_SLAVE);
                self.chips[chip].elcr = value & ELCR_WRITABLE[chip];
                self.chips[chip].resample();
            }
            _ => return false,
        }
        self.cascade();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Linux's init_8259A(): ICW1 edge, cascade, ICW4; master vectors
    /// 0x30, slave 0x38, slave on IR2, 8086 mode, normal EOI; then all
    /// inputs unmasked.
    fn linux_pic(auto_eoi: bool) -> Pic {
        let mut p = Pic::new();
        let icw4 = if auto_eoi { 0x03 } else { 0x01 };
        for (port, v) in [
            (MASTER_DATA, 0xff),
            (SLAVE_DATA, 0xff),
            (MASTER_CMD, 0x11),
            (MASTER_DATA, 0x30),
            (MASTER_DATA, 0x04),
            (MASTER_DATA, icw4),
            (SLAVE_CMD, 0x11),
            (SLAVE_DATA, 0x38),
            (SLAVE_DATA, 0x02),
            (SLAVE_DATA, 0x01),
            (MASTER_DATA, 0x00),
            (SLAVE_DATA, 0x00),
        ] {
            assert!(p.write(port, v));
        }
        p
    }

    fn eoi(p: &mut Pic, port: u16) {
        p.write(port, 0x20);
    }

    fn isr(p: &mut Pic, port: u16) -> u8 {
        p.write(port, 0x0b);
        let v = p.read(port).unwrap();
        p.write(port, 0x0a);
        v
    }

    #[test]
    fn initialization_sets_vectors_and_clears_state() {
        let mut p = linux_pic(false);
        assert!(!p.interrupt_pending());
        p.set_irq(0, true);
        assert!(p.interrupt_pending());
        assert_eq!(p.acknowledge(), 0x30);
        // A second ICW1 clears IRR, ISR and IMR and waits for ICW2 again.
        p.set_irq(1, true);
        p.write(MASTER_CMD, 0x11);
        assert_eq!(p.read(MASTER_CMD), Some(0));
        assert_eq!(isr(&mut p, MASTER_CMD), 0);
        p.write(MASTER_DATA, 0x20);
        p.write(MASTER_DATA, 0x04);
        p.write(MASTER_DATA, 0x01);
        assert_eq!(p.read(MASTER_DATA), Some(0), "IMR cleared by ICW1");
        // The edge detector was reset too: IRQ 1, still high, needs a new
        // rising edge.
        assert!(!p.interrupt_pending());
        p.set_irq(1, true);
        assert!(!p.interrupt_pending());
        p.set_irq(1, false);
        p.set_irq(1, true);
        assert_eq!(p.acknowledge(), 0x21);
    }

    #[test]
    fn single_mode_skips_icw3() {
        let mut p = Pic::new();
        p.write(MASTER_CMD, 0x13); // SNGL, IC4
        p.write(MASTER_DATA, 0x48); // ICW2
        p.write(MASTER_DATA, 0x01); // ICW4 (not ICW3)
        p.write(MASTER_DATA, 0xfe); // OCW1
        assert_eq!(p.read(MASTER_DATA), Some(0xfe));
        p.set_irq(0, true);
        assert_eq!(p.acknowledge(), 0x48);
    }

    #[test]
    fn fixed_priority_and_fully_nested_eoi() {
        let mut p = linux_pic(false);
        p.set_irq(4, true);
        p.set_irq(1, true);
        assert_eq!(p.read(MASTER_CMD), Some(0x12), "IRR");
        assert_eq!(p.acknowledge(), 0x31, "IR1 before IR4");
        // IR4 waits while IR1, of higher priority, is in service.
        assert!(!p.interrupt_pending());
        p.set_irq(0, true);
        assert!(p.interrupt_pending(), "IR0 nests over IR1");
        assert_eq!(p.acknowledge(), 0x30);
        assert_eq!(isr(&mut p, MASTER_CMD), 0x03);
        // Non-specific EOI ends the highest in service: IR0, then IR1.
        eoi(&mut p, MASTER_CMD);
        assert_eq!(isr(&mut p, MASTER_CMD), 0x02);
        assert!(!p.interrupt_pending());
        eoi(&mut p, MASTER_CMD);
        assert_eq!(p.acknowledge(), 0x34);
    }

    #[test]
    fn edge_requests_latch_level_requests_follow_the_line() {
        let mut p = linux_pic(false);
        // Edge: a pulse is enough, and a held line requests once.
        p.set_irq(3, true);
        p.set_irq(3, false);
        assert_eq!(p.acknowledge(), 0x33);
        eoi(&mut p, MASTER_CMD);
        p.set_irq(3, true);
        assert_eq!(p.acknowledge(), 0x33);
        eoi(&mut p, MASTER_CMD);
        assert!(!p.interrupt_pending(), "held high: no new edge");
        // Level (ELCR): requests while high, again after EOI, gone when low.
        p.write(ELCR_MASTER, 0x20);
        p.set_irq(5, true);
        assert_eq!(p.acknowledge(), 0x35);
        eoi(&mut p, MASTER_CMD);
        assert_eq!(p.acknowledge(), 0x35, "still high after EOI");
        eoi(&mut p, MASTER_CMD);
        p.set_irq(5, false);
        assert!(!p.interrupt_pending());
    }

    #[test]
    fn a_level_input_held_high_requests_again_after_icw1_and_elcr() {
        let mut p = linux_pic(false);
        p.set_irq(5, true);
        assert_eq!(p.acknowledge(), 0x35, "edge");
        eoi(&mut p, MASTER_CMD);
        assert!(!p.interrupt_pending());
        p.write(ELCR_MASTER, 0x20);
        assert_eq!(p.acknowledge(), 0x35, "now level, and high");
        eoi(&mut p, MASTER_CMD);
        p.write(MASTER_CMD, 0x11);
        p.write(MASTER_DATA, 0x30);
        p.write(MASTER_DATA, 0x04);
        p.write(MASTER_DATA, 0x01);
        assert_eq!(p.acknowledge(), 0x35, "ICW1 keeps ELCR and the line");
    }

    #[test]
    fn elcr_keeps_only_its_writable_bits() {
        let mut p = Pic::new();
        p.write(ELCR_MASTER, 0xff);
        p.write(ELCR_SLAVE, 0xff);
        assert_eq!(p.read(ELCR_MASTER), Some(0xf8));
        assert_eq!(p.read(ELCR_SLAVE), Some(0xde));
    }

    #[test]
    fn ltim_makes_every_input_level_triggered() {
        let mut p = Pic::new();
        p.write(MASTER_CMD, 0x1b); // LTIM, SNGL, IC4
        p.write(MASTER_DATA, 0x40);
        p.write(MASTER_DATA, 0x01);
        p.set_irq(6, true);
        assert_eq!(p.acknowledge(), 0x46);
        p.write(MASTER_CMD, 0x20);
        p.set_irq(6, false);
        assert!(!p.interrupt_pending());
    }

    #[test]
    fn masks_hold_requests_back() {
        let mut p = linux_pic(false);
        p.write(MASTER_DATA, 0x01);
        p.set_irq(0, true);
        assert!(!p.interrupt_pending());
        assert_eq!(p.read(MASTER_CMD), Some(0x01), "IRR has it");
        p.write(MASTER_DATA, 0x00);
        assert_eq!(p.acknowledge(), 0x30);
    }

    #[test]
    fn a_request_gone_before_the_acknowledge_is_spurious_ir7() {
        let mut p = linux_pic(false);
        p.write(ELCR_MASTER, 0x08);
        p.set_irq(3, true);
        assert!(p.interrupt_pending());
        p.set_irq(3, false);
        assert_eq!(p.acknowledge(), 0x37);
        assert_eq!(
            isr(&mut p, MASTER_CMD),
            0,
            "a spurious IR7 is not in service"
        );
        // The same on the slave: the master services IR2, the slave
        // answers with its IR7 (vector 0x3f).
        p.write(ELCR_SLAVE, 0x08);
        p.set_irq(11, true);
        assert!(p.interrupt_pending());
        p.set_irq(11, false);
        // The slave's INT went away; the master latched IR2 on the edge.
        assert_eq!(p.acknowledge(), 0x3f);
        assert_eq!(isr(&mut p, MASTER_CMD), 0x04);
        assert_eq!(isr(&mut p, SLAVE_CMD), 0);
    }

    #[test]
    fn the_slave_cascades_through_ir2() {
        let mut p = linux_pic(false);
        p.set_irq(14, true);
        assert!(p.interrupt_pending());
        assert_eq!(p.acknowledge(), 0x3e);
        assert_eq!(isr(&mut p, MASTER_CMD), 0x04);
        assert_eq!(isr(&mut p, SLAVE_CMD), 0x40);
        // IRQ 1 (above IR2) nests; IRQ 3 (below) and IRQ 9 wait.
        p.set_irq(3, true);
        p.set_irq(9, true);
        assert!(!p.interrupt_pending());
        p.set_irq(1, true);
        assert_eq!(p.acknowledge(), 0x31);
        eoi(&mut p, MASTER_CMD);
        // Linux ends a slave interrupt with EOI to both chips.
        eoi(&mut p, SLAVE_CMD);
        eoi(&mut p, MASTER_CMD);
        assert_eq!(p.acknowledge(), 0x39, "IRQ 9 (through IR2) before IRQ 3");
        eoi(&mut p, SLAVE_CMD);
        eoi(&mut p, MASTER_CMD);
        assert_eq!(p.acknowledge(), 0x33);
    }

    #[test]
    fn special_fully_nested_lets_the_slave_nest() {
        let mut p = linux_pic(false);
        // Master ICW4 with SFNM.
        p.write(MASTER_CMD, 0x11);
        p.write(MASTER_DATA, 0x30);
        p.write(MASTER_DATA, 0x04);
        p.write(MASTER_DATA, 0x11);
        p.set_irq(12, true);
        assert_eq!(p.acknowledge(), 0x3c);
        p.set_irq(10, true);
        assert!(p.interrupt_pending(), "IRQ 10 outranks IRQ 12 on the slave");
        assert_eq!(p.acknowledge(), 0x3a);
        // Without SFNM, the master's IR2 in service blocks it.
        let mut q = linux_pic(false);
        q.set_irq(12, true);
        assert_eq!(q.acknowledge(), 0x3c);
        q.set_irq(10, true);
        assert!(!q.interrupt_pending());
    }

    #[test]
    fn automatic_eoi_and_its_rotation() {
        let mut p = linux_pic(true);
        p.set_irq(3, true);
        assert_eq!(p.acknowledge(), 0x33);
        assert_eq!(isr(&mut p, MASTER_CMD), 0, "AEOI: nothing in service");
        p.set_irq(4, true);
        assert_eq!(p.acknowledge(), 0x34, "no EOI needed");
        // Rotate in AEOI mode: the serviced input becomes lowest.
        p.write(MASTER_CMD, 0x80);
        p.set_irq(0, true);
        assert_eq!(p.acknowledge(), 0x30);
        p.set_irq(0, false);
        p.set_irq(7, true);
        p.set_irq(0, true);
        assert_eq!(p.acknowledge(), 0x37, "IR7 now outranks IR0");
        p.write(MASTER_CMD, 0x00);
    }

    #[test]
    fn rotation_commands_move_the_priority() {
        let mut p = linux_pic(false);
        // Set priority (OCW2 0xc0 | L): L becomes lowest, L+1 highest.
        p.write(MASTER_CMD, 0xc4);
        p.set_irq(3, true);
        p.set_irq(5, true);
        assert_eq!(p.acknowledge(), 0x35, "IR5 first after setting IR4 lowest");
        // Rotate on non-specific EOI: IR5 becomes lowest.
        p.write(MASTER_CMD, 0xa0);
        assert_eq!(isr(&mut p, MASTER_CMD), 0);
        p.set_irq(5, false);
        p.set_irq(5, true);
        assert_eq!(p.acknowledge(), 0x33, "IR3 before IR5 now");
        // Rotate on specific EOI of IR3: IR4 highest.
        p.write(MASTER_CMD, 0xe3);
        assert_eq!(isr(&mut p, MASTER_CMD), 0);
        p.set_irq(4, true);
        assert_eq!(p.acknowledge(), 0x34);
        p.write(MASTER_CMD, 0x64); // specific EOI of IR4, no rotation
        assert_eq!(p.acknowledge(), 0x35);
    }

    #[test]
    fn specific_eoi_ends_only_its_input() {
        let mut p = linux_pic(false);
        p.set_irq(5, true);
        assert_eq!(p.acknowledge(), 0x35);
        p.set_irq(2 + 1, true);
        assert_eq!(p.acknowledge(), 0x33);
        p.write(MASTER_CMD, 0x65);
        assert_eq!(isr(&mut p, MASTER_CMD), 0x08);
    }

    #[test]
    fn special_mask_mode_lets_lower_inputs_in() {
        let mut p = linux_pic(false);
        p.set_irq(1, true);
        assert_eq!(p.acknowledge(), 0x31);
        p.set_irq(6, true);
        assert!(!p.interrupt_pending());
        // The handler masks its own input and enters special mask mode.
        p.write(MASTER_DATA, 0x02);
        p.write(MASTER_CMD, 0x68);
        assert_eq!(p.acknowledge(), 0x36);
        p.write(MASTER_CMD, 0x48);
        p.write(MASTER_DATA, 0x00);
        assert_eq!(isr(&mut p, MASTER_CMD), 0x42);
    }

    #[test]
    fn poll_mode_acknowledges_by_reading() {
        let mut p = linux_pic(false);
        p.write(MASTER_CMD, 0x0c);
        assert_eq!(p.read(MASTER_CMD), Some(0), "nothing waits");
        p.set_irq(6, true);
        p.write(MASTER_CMD, 0x0c);
        assert_eq!(p.read(MASTER_CMD), Some(0x86));
        assert_eq!(isr(&mut p, MASTER_CMD), 0x40);
        // Poll mode lasts one read.
        assert_eq!(p.read(MASTER_CMD), Some(0));
    }

    #[test]
    fn irq2_has_no_line_and_ports_outside_are_not_ours() {
        let mut p = linux_pic(false);
        p.set_irq(2, true);
        p.set_irq(16, true);
        assert!(!p.interrupt_pending());
        assert_eq!(p.read(0x22), None);
        assert!(!p.write(0x61, 0));
    }

    #[test]
    fn hostile_sequences_never_panic_and_keep_vectors_in_range() {
        // Any guest writes in any order: the model stays consistent (a
        // pending interrupt always acknowledges to base | 0..7).
        let mut seed = 0x1234_5678_9abc_def1u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let ports = [
            MASTER_CMD,
            MASTER_DATA,
            SLAVE_CMD,
            SLAVE_DATA,
            ELCR_MASTER,
            ELCR_SLAVE,
        ];
        let mut p = Pic::new();
        for _ in 0..200_000 {
            let r = next();
            let port = ports[(r % 6) as usize];
            match (r >> 8) % 4 {
                0 => {
                    p.write(port, (r >> 16) as u8);
                }
                1 => {
                    p.read(port);
                }
                2 => p.set_irq(((r >> 16) % 17) as u8, r & (1 << 40) != 0),
                _ => {
                    if p.interrupt_pending() {
                        let v = p.acknowledge();
                        let bases = [p.chips[0].base, p.chips[1].base];
                        assert!(bases.contains(&(v & 0xf8)));
                    }
                }
            }
        }
    }
}
