// SPDX-License-Identifier: GPL-2.0

//! Loading a Linux bzImage for the 32-bit boot protocol
//! (`Documentation/arch/x86/boot.rst`, "32-bit boot protocol"):
//! `linux-loader` copies the protected-mode kernel to `code32_start`
//! (1 MiB); the VMM writes the zero page (`boot_params`: the image's setup
//! header, the e820 map, the command line and initrd addresses) and enters
//! the kernel in flat 32-bit protected mode, paging off, with ESI pointing
//! at the zero page and `__BOOT_CS`/`__BOOT_DS` (0x10/0x18) loaded. The
//! kernel does its own switch to long mode, so the guest exercises real
//! mode-change exits from the first instruction.

use crate::guest::{descriptor, segment};
use kvm_bindings::{kvm_regs, kvm_sregs};
use linux_loader::bootparam::{boot_e820_entry, boot_params};
use linux_loader::cmdline::Cmdline;
use linux_loader::configurator::linux::LinuxBootConfigurator;
use linux_loader::configurator::{BootConfigurator, BootParams};
use linux_loader::loader::bzimage::BzImage;
use linux_loader::loader::{load_cmdline, KernelLoader};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};
use vmx::cr::{CR0_ET, CR0_PE};

/// The boot GDT (null, null, `__BOOT_CS`, `__BOOT_DS`).
const GDT_ADDR: u64 = 0x500;
/// The zero page.
const ZERO_PAGE: u64 = 0x7000;
/// The kernel command line.
const CMDLINE_ADDR: u64 = 0x20000;
/// End of conventional memory in the e820 map (the EBDA and the BIOS
/// area above it are not RAM on a PC).
const LOW_RAM_END: u64 = 0x9fc00;
/// Where the protected-mode kernel goes (`code32_start`).
const HIGH_RAM: u64 = 0x10_0000;
/// e820 type of usable RAM.
const E820_RAM: u32 = 1;
/// `type_of_loader`: an unregistered boot loader.
const LOADER_UNDEFINED: u8 = 0xff;

/// Where things were put, for the report.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The 32-bit entry point.
    pub entry: u64,
    /// Boot protocol version of the image.
    pub protocol: u16,
    /// The initrd's guest address and size, if any.
    pub initrd: Option<(u64, u64)>,
}

/// Loads `kernel` (and `initrd`) into `mem` of `mem_size` bytes and sets
/// `sregs`/`regs` for the 32-bit entry.
pub(crate) fn load(
    mem: &GuestMemoryMmap,
    mem_size: u64,
    kernel: &[u8],
    initrd: Option<&[u8]>,
    cmdline: &str,
    sregs: &mut kvm_sregs,
    regs: &mut kvm_regs,
) -> Result<Loaded, String> {
    let loaded = BzImage::load(
        mem,
        None,
        &mut std::io::Cursor::new(kernel),
        Some(GuestAddress(HIGH_RAM)),
    )
    .map_err(|e| format!("bzImage: {e}"))?;
    let mut hdr = loaded.setup_header.ok_or("bzImage: no setup header")?;
    let version = hdr.version;
    if version < 0x0206 {
        return Err(format!(
            "bzImage: boot protocol {version:#x}, 2.06 or later needed (cmdline_size)"
        ));
    }
    // The kernel needs init_size bytes from where it runs: its preferred
    // address (16 MiB for the default CONFIG_PHYSICAL_START) when loaded
    // below it, which a relocatable kernel moves to (head_64.S).
    let runtime = HIGH_RAM.max(hdr.pref_address);
    let kernel_end = runtime.saturating_add(u64::from(hdr.init_size));
    if kernel_end > mem_size {
        return Err(format!(
            "--mem {mem_size:#x}: the kernel needs {kernel_end:#x} bytes to decompress"
        ));
    }

    let mut line = Cmdline::new(hdr.cmdline_size as usize + 1).map_err(|e| e.to_string())?;
    line.insert_str(cmdline)
        .map_err(|e| format!("--cmdline: {e}"))?;
    load_cmdline(mem, GuestAddress(CMDLINE_ADDR), &line).map_err(|e| format!("cmdline: {e}"))?;
    hdr.cmd_line_ptr = CMDLINE_ADDR as u32;
    hdr.type_of_loader = LOADER_UNDEFINED;

    let mut placed = None;
    if let Some(rd) = initrd {
        // As high as the kernel allows, page-aligned, above the kernel.
        let limit = mem_size.min(u64::from(hdr.initrd_addr_max) + 1);
        let size = rd.len() as u64;
        let addr = limit
            .checked_sub(size)
            .map(|a| a & !0xfff)
            .filter(|&a| a >= kernel_end)
            .ok_or_else(|| {
                format!(
                    "--initrd of {size} bytes does not fit between {kernel_end:#x} and {limit:#x}"
                )
            })?;
        mem.write_slice(rd, GuestAddress(addr))
            .map_err(|e| format!("initrd: {e}"))?;
        hdr.ramdisk_image = addr as u32;
        hdr.ramdisk_size = size as u32;
        placed = Some((addr, size));
    }

    let mut params = boot_params {
        hdr,
        ..Default::default()
    };
    let e820 = [(0, LOW_RAM_END), (HIGH_RAM, mem_size - HIGH_RAM)];
    for (i, (addr, size)) in e820.iter().enumerate() {
        params.e820_table[i] = boot_e820_entry {
            addr: *addr,
            size: *size,
            r#type: E820_RAM,
        };
    }
    params.e820_entries = e820.len() as u8;
    LinuxBootConfigurator::write_bootparams::<GuestMemoryMmap>(
        &BootParams::new::<boot_params>(&params, GuestAddress(ZERO_PAGE)),
        mem,
    )
    .map_err(|e| format!("zero page: {e}"))?;

    let code = segment(0x10, true, false);
    let data = segment(0x18, false, false);
    let gdt = [0, 0, descriptor(&code), descriptor(&data)];
    for (i, d) in gdt.iter().enumerate() {
        mem.write_obj(*d, GuestAddress(GDT_ADDR + 8 * i as u64))
            .map_err(|e| format!("GDT: {e}"))?;
    }
    sregs.gdt.base = GDT_ADDR;
    sregs.gdt.limit = (gdt.len() * 8 - 1) as u16;
    sregs.cs = code;
    sregs.ds = data;
    sregs.es = data;
    sregs.fs = data;
    sregs.gs = data;
    sregs.ss = data;
    sregs.cr0 = CR0_PE | CR0_ET;
    sregs.cr4 = 0;
    sregs.efer = 0;
    let entry = u64::from(hdr.code32_start);
    *regs = kvm_regs {
        rip: entry,
        rsi: ZERO_PAGE,
        rflags: 2,
        ..Default::default()
    };
    Ok(Loaded {
        entry,
        protocol: version,
        initrd: placed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest image `BzImage::load` takes: one setup sector plus the
    /// boot sector, `HdrS`, protocol 2.15, LOADED_HIGH, 64 KiB of
    /// "kernel" that decompresses to 4 MiB.
    fn fake_bzimage() -> Vec<u8> {
        let mut img = vec![0u8; 2 * 512 + 0x10000];
        img[0x1f1] = 1; // setup_sects
        img[0x1fe..0x200].copy_from_slice(&0xaa55u16.to_le_bytes());
        img[0x202..0x206].copy_from_slice(b"HdrS");
        img[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
        img[0x211] = 1; // loadflags: LOADED_HIGH
        img[0x214..0x218].copy_from_slice(&0x10_0000u32.to_le_bytes());
        img[0x22c..0x230].copy_from_slice(&0x37ff_ffffu32.to_le_bytes());
        img[0x238..0x23c].copy_from_slice(&2048u32.to_le_bytes()); // cmdline_size
        img[0x260..0x264].copy_from_slice(&(4u32 << 20).to_le_bytes()); // init_size
        img[1024] = 0xf4; // the "kernel": HLT
        img
    }

    fn boot(
        mem_size: u64,
        initrd: Option<&[u8]>,
    ) -> Result<(GuestMemoryMmap, Loaded, kvm_sregs, kvm_regs), String> {
        let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), mem_size as usize)]).unwrap();
        let (mut s, mut r) = (kvm_sregs::default(), kvm_regs::default());
        let l = load(
            &mem,
            mem_size,
            &fake_bzimage(),
            initrd,
            "console=ttyS0 quiet",
            &mut s,
            &mut r,
        )?;
        Ok((mem, l, s, r))
    }

    #[test]
    fn zero_page_and_entry_state_follow_the_32_bit_protocol() {
        let rd = vec![0x5au8; 10_000];
        let (mem, l, s, r) = boot(64 << 20, Some(&rd)).unwrap();
        assert_eq!((l.entry, l.protocol), (0x10_0000, 0x020f));
        assert_eq!((r.rip, r.rsi, r.rflags), (0x10_0000, ZERO_PAGE, 2));
        assert_eq!(
            (s.cs.selector, s.ds.selector, s.ss.selector),
            (0x10, 0x18, 0x18)
        );
        assert_eq!(s.cr0 & 0x8000_0001, 1, "protected mode, paging off");
        let p: boot_params = mem.read_obj(GuestAddress(ZERO_PAGE)).unwrap();
        assert_eq!({ p.hdr.type_of_loader }, 0xff);
        let hdr = p.hdr;
        assert_eq!({ hdr.cmd_line_ptr }, CMDLINE_ADDR as u32);
        let mut line = [0u8; 20];
        mem.read_slice(&mut line, GuestAddress(CMDLINE_ADDR))
            .unwrap();
        assert_eq!(&line, b"console=ttyS0 quiet\0");
        // The initrd at the top of memory, page-aligned.
        let (addr, size) = l.initrd.unwrap();
        assert_eq!((addr + size + 0xfff) & !0xfff, 64 << 20);
        assert_eq!(
            ({ hdr.ramdisk_image }, { hdr.ramdisk_size }),
            (addr as u32, 10_000)
        );
        assert_eq!(
            mem.read_obj::<u8>(GuestAddress(addr + 9_999)).unwrap(),
            0x5a
        );
        // The e820 map: low RAM below the EBDA, and all of high RAM.
        assert_eq!(p.e820_entries, 2);
        let e = p.e820_table;
        assert_eq!((e[0].addr, e[0].size, e[0].r#type), (0, 0x9fc00, 1));
        assert_eq!((e[1].addr, e[1].size), (0x10_0000, (64 << 20) - 0x10_0000));
        // The kernel is where code32_start said, and the boot GDT's
        // __BOOT_CS is a flat 32-bit code segment.
        assert_eq!(mem.read_obj::<u8>(GuestAddress(0x10_0000)).unwrap(), 0xf4);
        let cs: u64 = mem.read_obj(GuestAddress(GDT_ADDR + 0x10)).unwrap();
        assert_eq!(cs, 0x00cf_9b00_0000_ffff);
    }

    #[test]
    fn the_kernel_needs_init_size_from_its_preferred_address() {
        // pref_address 16 MiB, init_size 4 MiB: 20 MiB are the kernel's,
        // a 3 MiB initrd does not fit in 22 MiB, it does in 24 MiB.
        let mut img = fake_bzimage();
        img[0x258..0x260].copy_from_slice(&(16u64 << 20).to_le_bytes());
        let rd = vec![0u8; 3 << 20];
        for (mem_size, fits) in [(22u64 << 20, false), (24 << 20, true), (19 << 20, false)] {
            let mem =
                GuestMemoryMmap::from_ranges(&[(GuestAddress(0), mem_size as usize)]).unwrap();
            let (mut s, mut r) = (kvm_sregs::default(), kvm_regs::default());
            let res = load(&mem, mem_size, &img, Some(&rd), "", &mut s, &mut r);
            assert_eq!(res.is_ok(), fits, "{mem_size:#x}: {res:?}");
        }
    }

    #[test]
    fn what_does_not_fit_is_refused() {
        assert!(boot(4 << 20, None).unwrap_err().contains("decompress"));
        let rd = vec![0u8; 8 << 20];
        assert!(boot(12 << 20, Some(&rd)).unwrap_err().contains("--initrd"));
        let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 64 << 20)]).unwrap();
        let (mut s, mut r) = (kvm_sregs::default(), kvm_regs::default());
        let mut bad = fake_bzimage();
        bad[0x202] = b'X';
        assert!(load(&mem, 64 << 20, &bad, None, "", &mut s, &mut r).is_err());
    }
}
