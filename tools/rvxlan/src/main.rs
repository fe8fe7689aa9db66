// SPDX-License-Identifier: GPL-2.0

//! `rvxlan`: configures rvxlan tunnel devices over rtnetlink, as `wg`
//! does for WireGuard. See `rvxlan help` and Documentation/uapi.rst.

mod commands;
mod netlink;
mod params;

use std::process::ExitCode;

const USAGE: &str = "\
usage: rvxlan add DEV [PARAM]...        create an rvxlan device
       rvxlan set DEV PARAM...          change a device's tunnel
       rvxlan del DEV                   delete a device
       rvxlan show [DEV]                configuration and counters
       rvxlan fdb add DEV MAC via IP [replace]
       rvxlan fdb del DEV MAC [via IP]
       rvxlan fdb show DEV
       rvxlan -batch FILE               one command per line (- for stdin)
       rvxlan -n NETNS COMMAND...       in network namespace NETNS (a name
                                        under /run/netns, as `ip -n`)
PARAM: vni N | local IP | remote IP (repeat; replaces the list) | noremote
       | port N | srcport LOW HIGH | ttl N | tos N|inherit
       | df unset|set|inherit | learning on|off | ageing SECONDS | limit N
The MAC 00:00:00:00:00:00 in `fdb add/del` edits the flood list.";

/// Exit status for a usage error (sysexits' EX_USAGE).
const EX_USAGE: u8 = 64;

/// Enters the network namespace `name` (`ip netns add`'s file under
/// /run/netns) as `ip -n` does: only the network namespace, so that the
/// sockets opened after it are there. Unlike `ip netns exec` no mount
/// namespace is made and sysfs is not remounted, which the tool does not
/// read; that costs seconds per call on the debug kernel under TCG.
fn enter_netns(name: &str) -> Result<(), commands::Failure> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(commands::Failure::Usage(format!(
            "bad namespace name {name:?}"
        )));
    }
    let file = std::fs::File::open(format!("/run/netns/{name}")).map_err(|e| {
        commands::Failure::Kernel(std::io::Error::new(
            e.kind(),
            format!("network namespace {name}: {e}"),
        ))
    })?;
    // SAFETY: `file` is an open descriptor for the call's duration;
    // setns() only reads it.
    if unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(commands::Failure::Kernel(std::io::Error::new(
            e.kind(),
            format!("entering network namespace {name}: {e}"),
        )));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut result = Ok(());
    if let ["-n", ns, ..] = args.as_slice() {
        result = enter_netns(ns);
        args.drain(..2);
    }
    let result = result.and_then(|()| match args.as_slice() {
        ["-batch", file] => commands::batch(file),
        _ => commands::run(&args),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(commands::Failure::Usage(msg)) => {
            eprintln!("rvxlan: {msg}\n{USAGE}");
            ExitCode::from(EX_USAGE)
        }
        Err(commands::Failure::Kernel(e)) => {
            eprintln!("rvxlan: {e}");
            ExitCode::FAILURE
        }
    }
}
