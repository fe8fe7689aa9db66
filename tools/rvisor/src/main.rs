// SPDX-License-Identifier: GPL-2.0

//! `rvisor`: runs a flat-binary guest on `/dev/rvisor` (or any device
//! speaking the KVM ABI, such as `/dev/kvm`) with the rust-vmm crates.
//!
//! ```text
//! rvisor run GUEST [--mode real|protected|paged|long] [--mem SIZE]
//!                  [--device PATH] [--verbose]
//! rvisor boot --kernel BZIMAGE [--initrd FILE] [--cmdline ARGS]
//!             [--mem SIZE] [--device PATH] [--timeout SECONDS]
//! rvisor bench [--device PATH] [--iterations N]
//! ```
//!
//! `run` loads the guest at guest-physical 0x1000 and enters it in the
//! chosen mode, set up through `KVM_SET_SREGS`/`KVM_SET_REGS` the way KVM
//! clients do. Bytes written to port 0xe9 or 0x3f8 go to stdout; every
//! other exit is reported on stderr (with `--verbose`) and counted. The run
//! ends at HLT (status 0), a triple fault (2) or an exit rvisor cannot
//! continue from (3).

mod bench;
mod boot;
mod guest;
mod linux;
mod machine;
mod options;
mod runner;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match options::parse(&args) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("rvisor: {msg}\n\n{}", options::USAGE);
            return ExitCode::from(64);
        }
    };
    let result = match &opts.command {
        options::Command::Run => runner::run(&opts),
        options::Command::Boot(b) => boot::run(&opts, b),
        options::Command::Bench { iterations } => bench::run(&opts.device, *iterations),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("rvisor: {e}");
            ExitCode::from(1)
        }
    }
}
