// SPDX-License-Identifier: GPL-2.0

//! Command-line options.

use crate::guest::Mode;

/// Usage text.
pub const USAGE: &str = "usage: rvisor run GUEST [--mode real|protected|paged|long] [--mem SIZE]
                  [--device PATH] [--verbose]
       rvisor bench [--device PATH] [--iterations N]
  GUEST     flat binary, loaded and entered at guest-physical 0x1000
  --mode    CPU mode at entry (default real)
  --mem     guest memory, e.g. 16M or 1G (default 16M; at least 1M)
  --device  KVM-compatible device (default /dev/rvisor; /dev/kvm compares)
  --verbose report every exit on stderr
  bench     time exit round trips (CPUID, VMCALL, port I/O to user space)
            and a 1 GiB slot plus first entry; prints key value lines";

/// The subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run a guest.
    Run,
    /// Time exits.
    Bench {
        /// Iterations of each timed loop.
        iterations: u32,
    },
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
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
pub fn parse_size(s: &str) -> Result<u64, String> {
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
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut it = args.iter();
    let command = match it.next().map(String::as_str) {
        Some("run") => Command::Run,
        Some("bench") => Command::Bench { iterations: 10_000 },
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
