// SPDX-License-Identifier: GPL-2.0

//! Decoder for the instructions guests use to access MMIO: the `mov`
//! forms between a register or an immediate and memory, and `movzx` from
//! memory. It reports what user space needs for `KVM_EXIT_MMIO` (size,
//! direction, the value stored or the register to load) and the
//! instruction length, to move the guest past it.

use crate::cr::{CR0_PE, EFER_LMA};
use crate::segment::ar;

/// Longest x86 instruction.
pub const MAX_LEN: usize = 15;

/// Fields of the instruction encoding (SDM Vol. 2A, 2.1 and 2.2.1; the
/// w and d opcode bits, Vol. 2D, B.1.4).
mod enc {
    /// REX.W: 64-bit operand size.
    pub(super) const REX_W: u8 = 1 << 3;
    /// REX.R: extends ModRM.reg.
    pub(super) const REX_R: u8 = 1 << 2;
    /// Opcode bit 0 (w) clear: byte operands.
    pub(super) const OP_W: u8 = 1 << 0;
    /// Opcode bit 1 (d): the direction of a MOV between register and
    /// memory (set: to the register); reversed in the A0-A3 moffs forms.
    pub(super) const OP_D: u8 = 1 << 1;
    /// ModRM.mod value of a register operand (no memory access).
    pub(super) const MOD_REG: u8 = 3;
    /// ModRM.rm (and SIB.base) value 4: a SIB byte follows (32/64-bit
    /// addressing).
    pub(super) const RM_SIB: u8 = 4;
    /// ModRM.rm (and SIB.base) value 5 with mod 0: disp32 without base
    /// (RIP-relative in 64-bit mode).
    pub(super) const RM_DISP32: u8 = 5;
    /// ModRM.rm value 6 with mod 0 under 16-bit addressing: disp16 only.
    pub(super) const RM16_DISP16: u8 = 6;

    /// ModRM bits 7:6, mod.
    pub(super) const fn modrm_mod(modrm: u8) -> u8 {
        modrm >> 6
    }

    /// ModRM bits 5:3, reg (or an opcode extension).
    pub(super) const fn modrm_reg(modrm: u8) -> u8 {
        (modrm >> 3) & 7
    }

    /// ModRM bits 2:0, rm; SIB bits 2:0, base.
    pub(super) const fn low3(b: u8) -> u8 {
        b & 7
    }
}

/// The guest's code-segment mode, which fixes default operand and address
/// sizes and whether REX prefixes exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuMode {
    /// Real mode (16-bit defaults).
    Real,
    /// Protected mode with a 16-bit code segment.
    Protected16,
    /// Protected mode with a 32-bit code segment.
    Protected32,
    /// 64-bit mode.
    Long,
}

impl CpuMode {
    /// The mode from the guest's CR0, EFER and CS access rights (VMCS
    /// format, SDM Vol. 3C 25.4.1: L is bit 13, D/B bit 14).
    pub fn from_state(cr0: u64, efer: u64, cs_ar: u32) -> Self {
        if cr0 & CR0_PE == 0 {
            Self::Real
        } else if efer & EFER_LMA != 0 && cs_ar & ar::L != 0 {
            Self::Long
        } else if cs_ar & ar::DB != 0 {
            Self::Protected32
        } else {
            Self::Protected16
        }
    }

    /// The address after an instruction of `len` bytes at `rip`, as the
    /// processor and KVM compute it: it wraps at the top of the address
    /// space, and outside 64-bit mode it is truncated to 32 bits (KVM's
    /// `skip_emulated_instruction()`, and the emulator's `assign_eip`).
    /// A guest chooses `rip`, so this must never overflow.
    pub fn next_rip(self, rip: u64, len: u64) -> u64 {
        let next = rip.wrapping_add(len);
        if self == Self::Long {
            next
        } else {
            next & 0xffff_ffff
        }
    }
}

/// A register operand: a general register number (0 = RAX ... 15 = R15),
/// or for byte accesses without REX, AH/CH/DH/BH as bits 15:8 of
/// registers 0-3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reg {
    /// Register number.
    pub num: u8,
    /// Bits 15:8 (AH, CH, DH, BH).
    pub high8: bool,
}

/// The source of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// A register (its low `size` bytes, or bits 15:8).
    Reg(Reg),
    /// An immediate, already sign-extended to the access size.
    Imm(u64),
}

/// What the instruction does with memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmioOp {
    /// Writes `size` bytes of the operand to memory.
    Store(Operand),
    /// Reads `size` bytes into `dest`, zero-extended to `dest_size` bytes.
    Load {
        /// Destination register.
        dest: Reg,
        /// Bytes written to the destination (>= the access size).
        dest_size: u8,
    },
}

/// A decoded MMIO instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmioInsn {
    /// Instruction length in bytes.
    pub len: u8,
    /// Bytes accessed in memory: 1, 2, 4 or 8.
    pub size: u8,
    /// The access.
    pub op: MmioOp,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn next(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn imm(&mut self, n: usize) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..n {
            v |= u64::from(self.next()?) << (8 * i);
        }
        Some(v)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.imm(n).map(|_| ())
    }
}

/// Sign-extends the low `bytes` bytes of `v` to 64 bits.
fn sign_extend(v: u64, bytes: usize) -> u64 {
    let shift = 64 - 8 * bytes as u32;
    (((v << shift) as i64) >> shift) as u64
}

/// Skips the ModRM memory operand's SIB and displacement; `None` if the
/// ModRM names a register (not a memory access) or bytes run out.
fn skip_mem_operand(c: &mut Cursor<'_>, modrm: u8, addr16: bool) -> Option<()> {
    let md = enc::modrm_mod(modrm);
    let rm = enc::low3(modrm);
    if md == enc::MOD_REG {
        return None;
    }
    if addr16 {
        let disp = match (md, rm) {
            (0, enc::RM16_DISP16) => 2,
            (0, _) => 0,
            (1, _) => 1,
            _ => 2,
        };
        return c.skip(disp);
    }
    let mut disp = match md {
        0 => 0,
        1 => 1,
        _ => 4,
    };
    if rm == enc::RM_SIB {
        let sib = c.next()?;
        if md == 0 && enc::low3(sib) == enc::RM_DISP32 {
            disp = 4;
        }
    } else if md == 0 && rm == enc::RM_DISP32 {
        // disp32, RIP-relative in 64-bit mode.
        disp = 4;
    }
    c.skip(disp)
}

/// Decodes the instruction at the start of `bytes` in `mode`; `None` if
/// it is not a supported MMIO form or is truncated.
pub fn decode(bytes: &[u8], mode: CpuMode) -> Option<MmioInsn> {
    let mut c = Cursor {
        bytes: &bytes[..bytes.len().min(MAX_LEN)],
        pos: 0,
    };
    let default16 = matches!(mode, CpuMode::Real | CpuMode::Protected16);
    let mut opsize16 = false;
    let mut addrsize_override = false;
    let mut rex = 0u8;
    let mut op = loop {
        let b = c.next()?;
        match b {
            0x66 => opsize16 = true,
            0x67 => addrsize_override = true,
            // Segment overrides and LOCK do not change the access.
            0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65 | 0xf0 => {}
            0x40..=0x4f if mode == CpuMode::Long => {
                rex = b;
                // A REX prefix must come last.
                let next = c.next()?;
                break next;
            }
            _ => break b,
        }
        rex = 0;
    };
    let rex_w = rex & enc::REX_W != 0;
    let rex_r = u8::from(rex & enc::REX_R != 0);
    // Operand size for non-byte forms.
    let opsize: u8 = if rex_w {
        8
    } else if opsize16 != default16 {
        2
    } else {
        4
    };
    let addr16 = match mode {
        CpuMode::Long => false,
        _ => default16 != addrsize_override,
    };
    let addr_bytes = match mode {
        CpuMode::Long if addrsize_override => 4,
        CpuMode::Long => 8,
        _ if addr16 => 2,
        _ => 4,
    };
    let byte_reg = |num: u8| {
        Reg {
            num,
            high8: rex == 0 && (4..8).contains(&num),
        }
        .normalize()
    };
    let word_reg = |num: u8| Reg { num, high8: false };
    let mut twobyte = false;
    if op == 0x0f {
        twobyte = true;
        op = c.next()?;
    }
    let insn = match (twobyte, op) {
        (false, 0x88..=0x8b) => {
            let modrm = c.next()?;
            skip_mem_operand(&mut c, modrm, addr16)?;
            let reg = enc::modrm_reg(modrm) | (rex_r << 3);
            let byte = op & enc::OP_W == 0;
            let size = if byte { 1 } else { opsize };
            let r = if byte { byte_reg(reg) } else { word_reg(reg) };
            let mop = if op & enc::OP_D == 0 {
                MmioOp::Store(Operand::Reg(r))
            } else {
                MmioOp::Load {
                    dest: r,
                    dest_size: size,
                }
            };
            (size, mop)
        }
        (false, 0xc6 | 0xc7) => {
            let modrm = c.next()?;
            // C6 /0 and C7 /0 only.
            if enc::modrm_reg(modrm) != 0 {
                return None;
            }
            skip_mem_operand(&mut c, modrm, addr16)?;
            let size = if op == 0xc6 { 1 } else { opsize };
            // The immediate is at most 32 bits, sign-extended for 64.
            let imm_len = core::cmp::min(usize::from(size), 4);
            let imm = sign_extend(c.imm(imm_len)?, imm_len);
            let imm = if size == 8 {
                imm
            } else {
                imm & ((1u64 << (8 * size)) - 1)
            };
            (size, MmioOp::Store(Operand::Imm(imm)))
        }
        (false, 0xa0..=0xa3) => {
            c.skip(addr_bytes)?;
            let byte = op & enc::OP_W == 0;
            let size = if byte { 1 } else { opsize };
            let rax = Reg {
                num: 0,
                high8: false,
            };
            let mop = if op & enc::OP_D == 0 {
                MmioOp::Load {
                    dest: rax,
                    dest_size: size,
                }
            } else {
                MmioOp::Store(Operand::Reg(rax))
            };
            (size, mop)
        }
        (true, 0xb6 | 0xb7) => {
            let modrm = c.next()?;
            skip_mem_operand(&mut c, modrm, addr16)?;
            let reg = enc::modrm_reg(modrm) | (rex_r << 3);
            let size = if op == 0xb6 { 1 } else { 2 };
            (
                size,
                MmioOp::Load {
                    dest: word_reg(reg),
                    dest_size: opsize,
                },
            )
        }
        _ => return None,
    };
    Some(MmioInsn {
        len: c.pos as u8,
        size: insn.0,
        op: insn.1,
    })
}

impl Reg {
    /// AH/CH/DH/BH are encoded as 4-7 without REX: bits 15:8 of 0-3.
    fn normalize(self) -> Self {
        if self.high8 {
            Self {
                num: self.num - 4,
                high8: true,
            }
        } else {
            self
        }
    }

    /// The value of this register operand given the full register value.
    pub fn value(self, full: u64) -> u64 {
        if self.high8 {
            (full >> 8) & 0xff
        } else {
            full
        }
    }
}

/// The new full value of a register after loading `data` (`size` bytes
/// read from memory) into it as `dest_size` bytes.
pub fn load_into(dest: Reg, old: u64, data: u64, size: u8, dest_size: u8) -> u64 {
    let data = if size >= 8 {
        data
    } else {
        data & ((1u64 << (8 * size)) - 1)
    };
    if dest.high8 {
        return (old & !0xff00) | ((data & 0xff) << 8);
    }
    match dest_size {
        1 => (old & !0xff) | data,
        2 => (old & !0xffff) | data,
        // 32-bit register writes clear bits 63:32.
        4 => data & 0xffff_ffff,
        _ => data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(num: u8) -> Reg {
        Reg { num, high8: false }
    }

    #[test]
    fn mode_from_state() {
        let code64 = (1 << 13) | 0x9b;
        let code32 = (1 << 14) | 0x9b;
        assert_eq!(CpuMode::from_state(0x10, 0, code32), CpuMode::Real);
        assert_eq!(CpuMode::from_state(0x11, 0, code32), CpuMode::Protected32);
        assert_eq!(CpuMode::from_state(0x11, 0, 0x9b), CpuMode::Protected16);
        // L without EFER.LMA is not 64-bit mode; LMA with a 32-bit CS is
        // compatibility mode.
        assert_eq!(CpuMode::from_state(0x11, 0, code64), CpuMode::Protected16);
        assert_eq!(
            CpuMode::from_state(0x8000_0011, 0x500, code32),
            CpuMode::Protected32
        );
        assert_eq!(
            CpuMode::from_state(0x8000_0011, 0x500, code64),
            CpuMode::Long
        );
    }

    #[test]
    fn next_rip_wraps_and_truncates() {
        // The top of the 64-bit address space wraps to 0 (a guest-chosen
        // RIP must not overflow).
        assert_eq!(CpuMode::Long.next_rip(u64::MAX, 1), 0);
        assert_eq!(CpuMode::Long.next_rip(u64::MAX - 1, 15), 13);
        assert_eq!(CpuMode::Long.next_rip(0xffff_ffff, 1), 0x1_0000_0000);
        // Outside 64-bit mode EIP wraps at 4 GiB, as on KVM.
        assert_eq!(CpuMode::Protected32.next_rip(0xffff_ffff, 1), 0);
        assert_eq!(CpuMode::Protected16.next_rip(0xffff_fffe, 4), 2);
        assert_eq!(CpuMode::Real.next_rip(0x1000, 2), 0x1002);
        // Real mode is not truncated to 16 bits: KVM does not either.
        assert_eq!(CpuMode::Real.next_rip(0xffff, 1), 0x1_0000);
    }

    #[test]
    fn real_mode_forms() {
        // mov [bx], al
        let i = decode(&[0x88, 0x07], CpuMode::Real).unwrap();
        assert_eq!((i.len, i.size), (2, 1));
        assert_eq!(i.op, MmioOp::Store(Operand::Reg(reg(0))));
        // mov ax, [0x1234]  (mod 00 rm 110: disp16)
        let i = decode(&[0x8b, 0x06, 0x34, 0x12], CpuMode::Real).unwrap();
        assert_eq!((i.len, i.size), (4, 2));
        assert_eq!(
            i.op,
            MmioOp::Load {
                dest: reg(0),
                dest_size: 2
            }
        );
        // mov eax, [si+8]  (66 prefix: 32-bit in real mode)
        let i = decode(&[0x66, 0x8b, 0x44, 0x08], CpuMode::Real).unwrap();
        assert_eq!((i.len, i.size), (4, 4));
        // mov byte [di], 0x5a
        let i = decode(&[0xc6, 0x05, 0x5a], CpuMode::Real).unwrap();
        assert_eq!((i.len, i.size), (3, 1));
        assert_eq!(i.op, MmioOp::Store(Operand::Imm(0x5a)));
        // mov [bx], ah (high byte)
        let i = decode(&[0x88, 0x27], CpuMode::Real).unwrap();
        assert_eq!(
            i.op,
            MmioOp::Store(Operand::Reg(Reg {
                num: 0,
                high8: true
            }))
        );
        // mov al, [0x5000] (moffs16)
        let i = decode(&[0xa0, 0x00, 0x50], CpuMode::Real).unwrap();
        assert_eq!((i.len, i.size), (3, 1));
    }

    #[test]
    fn protected_and_long_forms() {
        // mov [eax+ecx*4+0x10], edx  (SIB, disp8)
        let i = decode(&[0x89, 0x54, 0x88, 0x10], CpuMode::Protected32).unwrap();
        assert_eq!((i.len, i.size), (4, 4));
        assert_eq!(i.op, MmioOp::Store(Operand::Reg(reg(2))));
        // mov dword [0xfee000b0], 0  (disp32, imm32)
        let i = decode(
            &[0xc7, 0x05, 0xb0, 0x00, 0xe0, 0xfe, 0, 0, 0, 0],
            CpuMode::Protected32,
        )
        .unwrap();
        assert_eq!((i.len, i.size), (10, 4));
        // mov r9, [rip+0x100]  (REX.WR)
        let i = decode(&[0x4c, 0x8b, 0x0d, 0x00, 0x01, 0, 0], CpuMode::Long).unwrap();
        assert_eq!((i.len, i.size), (7, 8));
        assert_eq!(
            i.op,
            MmioOp::Load {
                dest: reg(9),
                dest_size: 8
            }
        );
        // mov qword [rax], -1  (imm32 sign-extended)
        let i = decode(&[0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff], CpuMode::Long).unwrap();
        assert_eq!(i.op, MmioOp::Store(Operand::Imm(u64::MAX)));
        // movzx eax, byte [rdi]
        let i = decode(&[0x0f, 0xb6, 0x07], CpuMode::Long).unwrap();
        assert_eq!((i.len, i.size), (3, 1));
        assert_eq!(
            i.op,
            MmioOp::Load {
                dest: reg(0),
                dest_size: 4
            }
        );
        // mov [rsi], sil  (REX: SIL, not DH)
        let i = decode(&[0x40, 0x88, 0x36], CpuMode::Long).unwrap();
        assert_eq!(i.op, MmioOp::Store(Operand::Reg(reg(6))));
        // mov ax, [rbx]  (66 in long mode: 16-bit)
        let i = decode(&[0x66, 0x8b, 0x03], CpuMode::Long).unwrap();
        assert_eq!(i.size, 2);
        // mov rax, [moffs64]
        let i = decode(&[0x48, 0xa1, 0, 0, 0, 0, 0, 0, 0, 0], CpuMode::Long).unwrap();
        assert_eq!((i.len, i.size), (10, 8));
    }

    #[test]
    fn rejects_other_forms() {
        assert!(decode(&[0x89, 0xc0], CpuMode::Long).is_none()); // register form
        assert!(decode(&[0xa5], CpuMode::Long).is_none()); // movs
        assert!(decode(&[0xc7, 0x08, 0, 0, 0, 0], CpuMode::Long).is_none()); // /1
        assert!(decode(&[0x8b], CpuMode::Long).is_none()); // truncated
        assert!(decode(&[0xc7, 0x05, 0xb0], CpuMode::Protected32).is_none());
        assert!(decode(&[0x66; 20], CpuMode::Long).is_none());
    }

    #[test]
    fn loads() {
        let old = 0x1111_2222_3333_4444;
        assert_eq!(load_into(reg(0), old, 0xab, 1, 1), 0x1111_2222_3333_44ab);
        assert_eq!(load_into(reg(0), old, 0xabcd, 2, 2), 0x1111_2222_3333_abcd);
        assert_eq!(load_into(reg(0), old, 0xdead_beef, 4, 4), 0xdead_beef);
        assert_eq!(load_into(reg(0), old, 0xff, 1, 4), 0xff); // movzx
        assert_eq!(
            load_into(
                Reg {
                    num: 0,
                    high8: true
                },
                old,
                0xab,
                1,
                1
            ),
            0x1111_2222_3333_ab44
        );
        assert_eq!(
            Reg {
                num: 3,
                high8: true
            }
            .value(0xbeef),
            0xbe
        );
    }
}
