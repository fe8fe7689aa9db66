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
PARAM: vni N | local IP | remote IP (repeat; replaces the list) | noremote
       | port N | srcport LOW HIGH | ttl N | tos N|inherit
       | df unset|set|inherit | learning on|off | ageing SECONDS | limit N
The MAC 00:00:00:00:00:00 in `fdb add/del` edits the flood list.";

/// Exit status for a usage error (sysexits' EX_USAGE).
const EX_USAGE: u8 = 64;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["-batch", file] => commands::batch(file),
        _ => commands::run(&args),
    };
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
