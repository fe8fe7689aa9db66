// SPDX-License-Identifier: GPL-2.0

//! The commands: link add/set/del/show over RTM_*LINK, FDB over
//! RTM_*NEIGH (the same messages `bridge fdb` sends).

use crate::netlink::{attrs, Message, Socket};
use crate::params;
use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use vxlan::netlink::attr;
use vxlan::uapi::COUNTER_NAMES;

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWNEIGH: u16 = 28;
const RTM_DELNEIGH: u16 = 29;
const RTM_GETNEIGH: u16 = 30;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINKINFO: u16 = 18;
const IFLA_STATS64: u16 = 23;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_INFO_XSTATS: u16 = 3;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
const NUD_PERMANENT: u16 = 0x80;
const NTF_SELF: u8 = 0x02;
const AF_BRIDGE: u8 = 7;
const KIND: &[u8] = b"rvxlan\0";
/// rvxlan loaded with `kind=vxlan` (or Linux vxlan: same attributes, but
/// other counters).
const KIND_VXLAN: &[u8] = b"vxlan\0";
const ZERO_MAC: [u8; 6] = [0; 6];

/// Why a command failed.
pub(crate) enum Failure {
    /// Bad command line.
    Usage(String),
    /// The kernel refused (with its message when it gave one).
    Kernel(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Kernel(e)
    }
}

fn usage<T>(msg: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Usage(msg.into()))
}

/// Runs the command in `args`.
pub(crate) fn run(args: &[&str]) -> Result<(), Failure> {
    match args {
        ["add", dev, rest @ ..] => link_change(dev, rest, true),
        ["set", dev, rest @ ..] if !rest.is_empty() => link_change(dev, rest, false),
        ["del", dev] => link_del(dev),
        ["show"] => show(None),
        ["show", dev] => show(Some(dev)),
        ["fdb", "add", dev, mac, "via", ip, rest @ ..] => fdb_add(dev, mac, ip, rest),
        ["fdb", "del", dev, mac] => fdb_del(dev, mac, None),
        ["fdb", "del", dev, mac, "via", ip] => fdb_del(dev, mac, Some(ip)),
        ["fdb", "show", dev] => fdb_show(dev),
        ["help"] | ["--help"] | ["-h"] => usage("help"),
        [] => usage("no command"),
        _ => usage(format!("cannot parse: {}", args.join(" "))),
    }
}

/// Runs one command per line of `file` (`-`: stdin), stopping at the
/// first failure, which names the line.
pub(crate) fn batch(file: &str) -> Result<(), Failure> {
    let text = if file == "-" {
        io::read_to_string(io::stdin())?
    } else {
        std::fs::read_to_string(file)?
    };
    for (n, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() || words[0].starts_with('#') {
            continue;
        }
        run(&words).map_err(|f| match f {
            Failure::Usage(m) => Failure::Usage(format!("line {}: {m}", n + 1)),
            Failure::Kernel(e) => {
                Failure::Kernel(io::Error::new(e.kind(), format!("line {}: {e}", n + 1)))
            }
        })?;
    }
    Ok(())
}

fn ifindex(dev: &str) -> Result<i32, Failure> {
    let name = std::ffi::CString::new(dev)
        .map_err(|_| Failure::Usage(format!("bad device name {dev}")))?;
    // SAFETY: `name` is a NUL-terminated string that lives across the
    // call, which only reads it.
    let i = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if i == 0 {
        return Err(Failure::Kernel(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{dev}: no such device"),
        )));
    }
    Ok(i as i32)
}

fn ifinfomsg(index: i32) -> [u8; 16] {
    let mut m = [0u8; 16];
    m[4..8].copy_from_slice(&index.to_ne_bytes());
    m
}

fn link_change(dev: &str, words: &[&str], create: bool) -> Result<(), Failure> {
    let (flags, index) = if create {
        (
            (libc::NLM_F_CREATE | libc::NLM_F_EXCL | libc::NLM_F_ACK) as u16,
            0,
        )
    } else {
        (libc::NLM_F_ACK as u16, ifindex(dev)?)
    };
    let (kind, group) = if create {
        (KIND.to_vec(), None)
    } else {
        link_kind_and_group(index)?
    };
    let mut m = Message::new(RTM_NEWLINK, flags, &ifinfomsg(index));
    if create {
        let mut name = dev.as_bytes().to_vec();
        name.push(0);
        m.attr(IFLA_IFNAME, &name);
    }
    m.begin(IFLA_LINKINFO);
    m.attr(IFLA_INFO_KIND, &kind);
    m.begin(IFLA_INFO_DATA);
    let enc = params::encode(words, &mut m, create, group).map_err(Failure::Usage)?;
    m.end();
    m.end();
    Socket::open()?.request(&mut m)?;
    if let Some(list) = enc.remotes {
        sync_flood_list(if create { ifindex(dev)? } else { index }, &list)?;
    }
    Ok(())
}

/// Makes the device's flood list (its all-zeros FDB entries) `list`:
/// the kernel already put the first in (the default remote); the rest
/// are appended, and those not listed deleted, as `bridge fdb append` and
/// `bridge fdb del` would. Not atomic, unlike the link change.
fn sync_flood_list(index: i32, list: &[IpAddr]) -> Result<(), Failure> {
    let now: Vec<IpAddr> = fdb_entries(index)?
        .into_iter()
        .filter(|e| e.0 == ZERO_MAC)
        .map(|e| e.1)
        .collect();
    // Additions first: a refused remote then leaves the others in place.
    for new in list.iter().filter(|r| !now.contains(r)) {
        let flags = libc::NLM_F_ACK | libc::NLM_F_CREATE | libc::NLM_F_APPEND;
        neigh(RTM_NEWNEIGH, flags, index, &ZERO_MAC, Some(new))?;
    }
    for gone in now.iter().filter(|r| !list.contains(r)) {
        neigh(RTM_DELNEIGH, libc::NLM_F_ACK, index, &ZERO_MAC, Some(gone))?;
    }
    Ok(())
}

/// The kind of link `index` (to send changes to the same) and its
/// default remote (`IFLA_VXLAN_GROUP`/`GROUP6`), if any.
fn link_kind_and_group(index: i32) -> Result<(Vec<u8>, Option<IpAddr>), Failure> {
    let mut m = Message::new(RTM_GETLINK, libc::NLM_F_ACK as u16, &ifinfomsg(index));
    let replies = Socket::open()?.request(&mut m)?;
    let (mut kind, mut group) = (KIND.to_vec(), None);
    for r in replies.iter().filter(|r| r.ty == RTM_NEWLINK) {
        for (ty, v) in attrs(r.payload.get(16..).unwrap_or(&[])) {
            if ty != IFLA_LINKINFO {
                continue;
            }
            for (ity, iv) in attrs(v) {
                match ity {
                    IFLA_INFO_KIND => kind = iv.to_vec(),
                    IFLA_INFO_DATA => {
                        group = attrs(iv)
                            .find(|(t, _)| *t == attr::GROUP || *t == attr::GROUP6)
                            .and_then(|(_, a)| addr(a))
                    }
                    _ => {}
                }
            }
        }
    }
    Ok((kind, group))
}

fn link_del(dev: &str) -> Result<(), Failure> {
    let mut m = Message::new(
        RTM_DELLINK,
        libc::NLM_F_ACK as u16,
        &ifinfomsg(ifindex(dev)?),
    );
    Socket::open()?.request(&mut m)?;
    Ok(())
}

fn addr(v: &[u8]) -> Option<IpAddr> {
    match v.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(v[0], v[1], v[2], v[3]))),
        16 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(v).ok()?))),
        _ => None,
    }
}

fn u32_of(v: &[u8]) -> u32 {
    v.get(..4)
        .map_or(0, |b| u32::from_ne_bytes(b.try_into().unwrap()))
}

/// Formats one link's rvxlan configuration and counters.
fn describe(payload: &[u8], only: Option<&str>) -> Option<String> {
    let mut name = String::new();
    let index = i32::from_ne_bytes(payload.get(4..8)?.try_into().ok()?);
    let (mut data, mut xstats, mut stats, mut mtu) = (None, None, None, 0);
    let mut is_rvxlan = false;
    for (ty, v) in attrs(payload.get(16..)?) {
        match ty {
            IFLA_IFNAME => {
                name = String::from_utf8_lossy(v.split(|b| *b == 0).next()?).into_owned()
            }
            IFLA_MTU => mtu = u32_of(v),
            IFLA_STATS64 => stats = Some(v),
            IFLA_LINKINFO => {
                for (ity, iv) in attrs(v) {
                    match ity {
                        IFLA_INFO_KIND => {
                            is_rvxlan = [KIND, KIND_VXLAN]
                                .iter()
                                .any(|k| iv == *k || iv == &k[..k.len() - 1])
                        }
                        IFLA_INFO_DATA => data = Some(iv),
                        IFLA_INFO_XSTATS => xstats = Some(iv),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if !is_rvxlan || only.is_some_and(|d| d != name) {
        return None;
    }
    let mut out = format!("{name}: mtu {mtu}\n");
    for (ty, v) in attrs(data.unwrap_or(&[])) {
        let field = match ty {
            attr::ID => format!("vni {}", u32_of(v)),
            attr::LOCAL | attr::LOCAL6 => format!("local {}", addr(v)?),
            attr::PORT => format!("port {}", u16::from_be_bytes(v.get(..2)?.try_into().ok()?)),
            attr::PORT_RANGE => format!(
                "srcport {} {}",
                u16::from_be_bytes(v.get(..2)?.try_into().ok()?),
                u16::from_be_bytes(v.get(2..4)?.try_into().ok()?)
            ),
            attr::TTL => format!("ttl {}", v.first()?),
            attr::TOS => format!("tos {}", v.first()?),
            attr::DF => format!(
                "df {}",
                ["unset", "set", "inherit"].get(usize::from(*v.first()?))?
            ),
            attr::LEARNING => format!("learning {}", if *v.first()? == 1 { "on" } else { "off" }),
            attr::AGEING => format!("ageing {}", u32_of(v)),
            attr::LIMIT => format!("limit {}", u32_of(v)),
            _ => continue,
        };
        let _ = writeln!(out, "  {field}");
    }
    // The flood list: the default remote and the appended ones. A device
    // the caller may not dump the FDB of shows none.
    for e in fdb_entries(index).unwrap_or_default() {
        if e.0 == ZERO_MAC {
            let _ = writeln!(out, "  remote {}", e.1);
        }
    }
    if let Some(s) = stats {
        let n = |i: usize| {
            s.get(i * 8..i * 8 + 8)
                .map_or(0, |b| u64::from_ne_bytes(b.try_into().unwrap()))
        };
        let _ = writeln!(
            out,
            "  rx {} packets {} bytes, tx {} packets {} bytes, rx_dropped {}, tx_dropped {}",
            n(0),
            n(2),
            n(1),
            n(3),
            n(6),
            n(7)
        );
    }
    if let Some(x) = xstats {
        for (i, name) in COUNTER_NAMES.iter().enumerate() {
            if let Some(b) = x.get(i * 8..i * 8 + 8) {
                let name = name.to_str().unwrap_or("?");
                let _ = writeln!(
                    out,
                    "  {name} {}",
                    u64::from_ne_bytes(b.try_into().unwrap())
                );
            }
        }
    }
    Some(out)
}

fn show(dev: Option<&str>) -> Result<(), Failure> {
    if let Some(d) = dev {
        ifindex(d)?;
    }
    let mut m = Message::new(RTM_GETLINK, libc::NLM_F_DUMP as u16, &ifinfomsg(0));
    let replies = Socket::open()?.request(&mut m)?;
    let mut found = false;
    for r in replies.iter().filter(|r| r.ty == RTM_NEWLINK) {
        if let Some(text) = describe(&r.payload, dev) {
            print!("{text}");
            found = true;
        }
    }
    if let (Some(d), false) = (dev, found) {
        return Err(Failure::Kernel(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{d} is not an rvxlan device"),
        )));
    }
    Ok(())
}

fn parse_mac(s: &str) -> Result<[u8; 6], Failure> {
    let parts: Vec<_> = s.split(':').collect();
    let mut mac = [0u8; 6];
    if parts.len() != 6 {
        return usage(format!("{s}: not a MAC address"));
    }
    for (m, p) in mac.iter_mut().zip(parts) {
        *m = u8::from_str_radix(p, 16)
            .map_err(|_| Failure::Usage(format!("{s}: not a MAC address")))?;
    }
    Ok(mac)
}

fn ndmsg(index: i32) -> [u8; 12] {
    let mut m = [0u8; 12];
    m[0] = AF_BRIDGE;
    m[4..8].copy_from_slice(&index.to_ne_bytes());
    m[8..10].copy_from_slice(&NUD_PERMANENT.to_ne_bytes());
    m[10] = NTF_SELF;
    m
}

fn fdb_add(dev: &str, mac: &str, ip: &str, rest: &[&str]) -> Result<(), Failure> {
    let replace = match rest {
        [] => false,
        ["replace"] => true,
        _ => return usage(format!("unexpected: {}", rest.join(" "))),
    };
    let mac = parse_mac(mac)?;
    let ip = params::ip("via", ip).map_err(Failure::Usage)?;
    let flags = libc::NLM_F_ACK
        | libc::NLM_F_CREATE
        | if replace {
            libc::NLM_F_REPLACE
        } else {
            libc::NLM_F_EXCL
        };
    neigh(RTM_NEWNEIGH, flags, ifindex(dev)?, &mac, Some(&ip))
}

/// One RTM_NEWNEIGH/RTM_DELNEIGH request for `mac` (via `dst`).
fn neigh(
    ty: u16,
    flags: libc::c_int,
    index: i32,
    mac: &[u8; 6],
    dst: Option<&IpAddr>,
) -> Result<(), Failure> {
    let mut m = Message::new(ty, flags as u16, &ndmsg(index));
    m.attr(NDA_LLADDR, mac);
    if let Some(ip) = dst {
        m.attr(NDA_DST, &params::octets(ip));
    }
    Socket::open()?.request(&mut m)?;
    Ok(())
}

fn fdb_del(dev: &str, mac: &str, ip: Option<&str>) -> Result<(), Failure> {
    let mac = parse_mac(mac)?;
    let ip = ip
        .map(|ip| params::ip("via", ip))
        .transpose()
        .map_err(Failure::Usage)?;
    neigh(
        RTM_DELNEIGH,
        libc::NLM_F_ACK,
        ifindex(dev)?,
        &mac,
        ip.as_ref(),
    )
}

/// The FDB entries of device `index`: MAC, destination, static.
fn fdb_entries(index: i32) -> Result<Vec<([u8; 6], IpAddr, bool)>, Failure> {
    let mut m = Message::new(RTM_GETNEIGH, libc::NLM_F_DUMP as u16, &ndmsg(0)[..12]);
    let mut out = Vec::new();
    for r in Socket::open()?
        .request(&mut m)?
        .iter()
        .filter(|r| r.ty == RTM_NEWNEIGH)
    {
        let p = &r.payload;
        if p.len() < 12 || i32::from_ne_bytes(p[4..8].try_into().unwrap()) != index {
            continue;
        }
        let state = u16::from_ne_bytes([p[8], p[9]]);
        let (mut mac, mut dst) = (None, None);
        for (ty, v) in attrs(&p[12..]) {
            match ty {
                NDA_LLADDR => mac = <[u8; 6]>::try_from(v).ok(),
                NDA_DST => dst = addr(v),
                _ => {}
            }
        }
        if let (Some(mac), Some(dst)) = (mac, dst) {
            out.push((mac, dst, state & NUD_PERMANENT != 0));
        }
    }
    Ok(out)
}

fn fdb_show(dev: &str) -> Result<(), Failure> {
    for (mac, dst, is_static) in fdb_entries(ifindex(dev)?)? {
        let mac: Vec<_> = mac.iter().map(|b| format!("{b:02x}")).collect();
        let kind = if is_static { "static" } else { "learned" };
        println!("{} via {dst} {kind}", mac.join(":"));
    }
    Ok(())
}
