// SPDX-License-Identifier: GPL-2.0

//! Creating the VM, running the guest and reporting its exits.

use crate::machine::{self, Machine};
use crate::options::Options;
use kvm_ioctls::VcpuExit;
use std::io::Write;

/// Per-kind exit counts.
#[derive(Default)]
struct Counts {
    io: u64,
    mmio: u64,
}

/// Runs the guest; returns the process exit status.
pub(crate) fn run(opts: &Options) -> Result<u8, String> {
    let image = std::fs::read(&opts.guest).map_err(|e| format!("{}: {e}", opts.guest))?;
    let kvm = machine::open(&opts.device)?;
    let mut m = Machine::new(&kvm, opts.mem, opts.mode, &image, 0)?;
    let vcpu = &mut m.vcpu;

    let mut counts = Counts::default();
    let mut out = std::io::stdout().lock();
    let verbose = opts.verbose;
    let status = loop {
        let exit = vcpu.run().map_err(|e| format!("KVM_RUN: {e}"))?;
        match exit {
            VcpuExit::IoOut(port, data) => {
                counts.io += 1;
                if port == 0xe9 || port == 0x3f8 {
                    out.write_all(data).map_err(|e| e.to_string())?;
                } else if verbose {
                    eprintln!("exit: io out port {port:#x} data {data:02x?}");
                }
            }
            VcpuExit::IoIn(port, data) => {
                counts.io += 1;
                data.fill(0xff);
                if verbose {
                    eprintln!(
                        "exit: io in port {port:#x} size {} (answered 0xff)",
                        data.len()
                    );
                }
            }
            VcpuExit::MmioRead(addr, data) => {
                counts.mmio += 1;
                data.fill(0);
                if verbose {
                    eprintln!("exit: mmio read {addr:#x} size {} (answered 0)", data.len());
                }
            }
            VcpuExit::MmioWrite(addr, data) => {
                counts.mmio += 1;
                if verbose {
                    eprintln!("exit: mmio write {addr:#x} data {data:02x?}");
                }
            }
            VcpuExit::Hlt => {
                if verbose {
                    eprintln!("exit: hlt");
                }
                break 0;
            }
            VcpuExit::Shutdown => {
                eprintln!("rvisor: guest shut down (triple fault)");
                break 2;
            }
            VcpuExit::FailEntry(reason, cpu) => {
                eprintln!("rvisor: VM entry failed on CPU {cpu}: hardware reason {reason:#x}");
                break 3;
            }
            VcpuExit::InternalError => {
                eprintln!("rvisor: internal error (see the kernel's kvm_run.internal)");
                break 3;
            }
            other => {
                eprintln!("rvisor: unexpected exit {other:?}");
                break 3;
            }
        }
    };
    out.flush().map_err(|e| e.to_string())?;
    let rip = vcpu.get_regs().map(|r| r.rip).unwrap_or(0);
    eprintln!(
        "rvisor: {} guest on {}: {} I/O and {} MMIO exits, stopped at rip {rip:#x} (status {status})",
        format!("{:?}", opts.mode).to_lowercase(),
        opts.device,
        counts.io,
        counts.mmio
    );
    Ok(status)
}
