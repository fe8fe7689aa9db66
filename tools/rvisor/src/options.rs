// SPDX-License-Identifier: GPL-2.0

//! Command-line options.

use crate::guest::Mode;

/// Usage text.
pub(crate) const USAGE: &str =
    "usage: rvisor run GUEST [--mode real|protected|paged|long] [--mem SIZE]
                  [--device PATH] [--verbose]
       rvisor boot --kernel BZIMAGE [--initrd FILE] [--cmdline ARGS] [--mem SIZE]
                   [--device PATH] [--timeout SECONDS] [--mark TEXT] [--verbose]
       rvisor bench [--device PATH] [--iterations N]
  GUEST     flat binary, loaded and entered at guest-physical 0x1000
  --mode    CPU mode at entry (default real)
  --mem     guest memory, e.g. 16M or 1G (default 16M; at least 1M)
  --device  KVM-compatible device (default /dev/rvisor; /dev/kvm compares)
  --verbose report every exit on stderr
  boot      boot a Linux bzImage: 8259A PIC, 8254 PIT, 16550 on ttyS0
            (stdin/stdout), i8042 reset; ends when the guest halts or
            resets (status 0) or after --timeout (status 124, reported)
  --cmdline kernel command line (default: console=ttyS0 and the options
            for a PIC-only PC, see Documentation/linux-guests.rst)
  --mark    report the time at which the console first shows TEXT
  bench     time exit round trips (CPUID, VMCALL, port I/O to user space)
            and a 1 GiB slot plus first entry; prints key value lines";

/// The subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Run a guest.
    Run,
    /// Boot Linux.
    Boot(Boot),
    /// Time exits.
    Bench {
        /// Iterations of each timed loop.
        iterations: u32,
    },
}

/// What `rvisor boot` boots.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Boot {
    /// The bzImage.
    pub kernel: String,
    /// The initramfs, if any.
    pub initrd: Option<String>,
    /// The kernel command line.
    pub cmdline: String,
    /// Give up after this many seconds (0: never).
    pub timeout: u64,
    /// Report when the console first shows this text (`--mark`).
    pub mark: Option<String>,
}

/// The command line `rvisor boot` gives a kernel when none is given: the
/// serial console, and a PC without local APIC, I/O APIC, ACPI or PCI
/// (the VMM has a PIC and a PIT only).
pub(crate) const DEFAULT_CMDLINE: &str =
    "console=ttyS0 earlyprintk=serial,ttyS0 nolapic noapic acpi=off pci=off nokaslr mce=off io_delay=none panic=-1";

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// What to do.
    pub command: Command,
    /// Path of the guest binary.
    pub guest: String,
    /// Mode at entry.
    pub mode: Mode,
    /// Guest memory in bytes.
    pub mem: u64,
    /// Device path.
    pub device: String,
    /// Report every exit.
    pub verbose: bool,
}

/// Parses a size such as `4096`, `64K`, `16M`, `1G`.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 1 << 10),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 1 << 20),
        Some(b'G' | b'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let n: u64 = num.parse().map_err(|_| format!("bad size '{s}'"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size '{s}' too large"))
}

/// Parses `run GUEST [options]`.
pub(crate) fn parse(args: &[String]) -> Result<Options, String> {
    let mut it = args.iter();
    let command = match it.next().map(String::as_str) {
        Some("run") => Command::Run,
        Some("bench") => Command::Bench { iterations: 10_000 },
        Some("boot") => Command::Boot(Boot {
            cmdline: DEFAULT_CMDLINE.into(),
            ..Default::default()
        }),
        Some(other) => return Err(format!("unknown command '{other}'")),
        None => return Err("no command".into()),
    };
    let mut opts = Options {
        command,
        guest: String::new(),
        mode: Mode::Real,
        mem: 16 << 20,
        device: "/dev/rvisor".into(),
        verbose: false,
    };
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--mode" => opts.mode = value()?.parse()?,
            "--mem" => opts.mem = parse_size(value()?)?,
            "--device" => opts.device = value()?.clone(),
            "--verbose" | "-v" => opts.verbose = true,
            "--kernel" | "--initrd" | "--cmdline" | "--timeout" | "--mark" => {
                let v = value()?.clone();
                let Command::Boot(b) = &mut opts.command else {
                    return Err(format!("{arg} is an option of 'boot'"));
                };
                match arg.as_str() {
                    "--kernel" => b.kernel = v,
                    "--initrd" => b.initrd = Some(v),
                    "--cmdline" => b.cmdline = v,
                    "--mark" => b.mark = Some(v),
                    _ => b.timeout = v.parse().map_err(|_| "bad --timeout".to_string())?,
                }
            }
            "--iterations" => {
                let n: u32 = value()?
                    .parse()
                    .map_err(|_| "bad --iterations".to_string())?;
                if n == 0 {
                    return Err("--iterations must be at least 1".into());
                }
                opts.command = Command::Bench { iterations: n };
            }
            s if s.starts_with('-') => return Err(format!("unknown option '{s}'")),
            s if opts.guest.is_empty() => opts.guest = s.into(),
            s => return Err(format!("unexpected argument '{s}'")),
        }
    }
    if opts.command == Command::Run && opts.guest.is_empty() {
        return Err("no guest binary given".into());
    }
    if let Command::Boot(b) = &mut opts.command {
        if b.kernel.is_empty() {
            return Err("boot needs --kernel".into());
        }
        if !opts.guest.is_empty() {
            return Err(format!("unexpected argument '{}'", opts.guest));
        }
        if opts.mem == 16 << 20 {
            opts.mem = 128 << 20;
        }
    }
    if opts.mem < (1 << 20) || !opts.mem.is_multiple_of(4096) {
        return Err("--mem must be a multiple of 4 KiB and at least 1M".into());
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("x").is_err());
        assert!(parse_size("99999999999999G").is_err());
    }

    #[test]
    fn run_options() {
        let o = parse(&args(
            "run g.bin --mode long --mem 64M --device /dev/kvm -v",
        ))
        .unwrap();
        assert_eq!(o.guest, "g.bin");
        assert_eq!(o.mode, Mode::Long);
        assert_eq!(o.mem, 64 << 20);
        assert_eq!(o.device, "/dev/kvm");
        assert!(o.verbose);
        let o = parse(&args("run g.bin")).unwrap();
        assert_eq!(
            (o.mode, o.mem, o.device.as_str()),
            (Mode::Real, 16 << 20, "/dev/rvisor")
        );
    }

    #[test]
    fn boot_options() {
        let o = parse(&args(
            "boot --kernel bz --initrd i.gz --cmdline quiet --mem 64M --timeout 30 --mark @@",
        ))
        .unwrap();
        assert_eq!(
            o.command,
            Command::Boot(Boot {
                kernel: "bz".into(),
                initrd: Some("i.gz".into()),
                cmdline: "quiet".into(),
                timeout: 30,
                mark: Some("@@".into()),
            })
        );
        assert_eq!(o.mem, 64 << 20);
        let o = parse(&args("boot --kernel bz")).unwrap();
        assert_eq!(o.mem, 128 << 20);
        let Command::Boot(b) = o.command else {
            panic!("not boot")
        };
        assert_eq!(b.cmdline, DEFAULT_CMDLINE);
        for bad in [
            "boot",
            "boot --initrd i",
            "boot --kernel bz extra",
            "run g --kernel bz",
            "boot --kernel bz --timeout x",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_options() {
        for bad in [
            "",
            "start g",
            "run",
            "run g --mode weird",
            "run g --mem 12",
            "run g --mem",
            "run a b",
            "run g --x",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }
}
