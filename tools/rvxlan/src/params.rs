// SPDX-License-Identifier: GPL-2.0

//! Tunnel parameters on the command line → Linux vxlan's `IFLA_VXLAN_*`
//! attributes in `IFLA_INFO_DATA`. Only the syntax is checked here; the
//! kernel checks the values and says what is wrong.
//!
//! The remote list maps onto Linux vxlan's model: the first remote is the
//! default destination (`IFLA_VXLAN_GROUP`/`GROUP6`), the others are
//! all-zeros FDB entries (`bridge fdb append 00:00:00:00:00:00`), which
//! the caller adds or removes after the link request ([`Encoded::remotes`]).

use crate::netlink::Message;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use vxlan::header::DEFAULT_PORT;
use vxlan::netlink::attr;
use vxlan::uapi::df;

/// What [`encode`] leaves to the caller.
pub(crate) struct Encoded {
    /// The flood list asked for (`remote`... or `noremote`), if any.
    pub(crate) remotes: Option<Vec<IpAddr>>,
}

/// Parses `words` and appends the attributes to `msg`. `create`: a new
/// device, which gets UDP port 4789 (IANA's) unless `port` is given, as
/// this tool always did (the kernel's default without the attribute is
/// Linux's 8472). `group`: the device's current default remote, whose
/// family `noremote` needs.
pub(crate) fn encode(
    words: &[&str],
    msg: &mut Message,
    create: bool,
    group: Option<IpAddr>,
) -> Result<Encoded, String> {
    let mut remotes: Option<Vec<IpAddr>> = None;
    let mut port = false;
    let mut it = words.iter().copied();
    while let Some(key) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{key}: value missing"));
        match key {
            "vni" => {
                msg.attr(attr::ID, &number::<u32>(key, value()?)?.to_ne_bytes());
            }
            "local" => {
                match ip(key, value()?)? {
                    IpAddr::V4(a) => msg.attr(attr::LOCAL, &a.octets()),
                    IpAddr::V6(a) => msg.attr(attr::LOCAL6, &a.octets()),
                };
            }
            "remote" => remotes
                .get_or_insert_with(Vec::new)
                .push(ip(key, value()?)?),
            "noremote" => remotes = Some(Vec::new()),
            "port" => {
                msg.attr(attr::PORT, &number::<u16>(key, value()?)?.to_be_bytes());
                port = true;
            }
            "srcport" => {
                let low = number::<u16>(key, value()?)?;
                let high = number::<u16>(key, value()?)?;
                let mut r = low.to_be_bytes().to_vec();
                r.extend_from_slice(&high.to_be_bytes());
                msg.attr(attr::PORT_RANGE, &r);
            }
            "ttl" => {
                msg.attr(attr::TTL, &[number::<u8>(key, value()?)?]);
            }
            "tos" => {
                let v = value()?;
                let tos = if v == "inherit" {
                    1
                } else {
                    number::<u8>(key, v)?
                };
                msg.attr(attr::TOS, &[tos]);
            }
            "df" => {
                let d = match value()? {
                    "unset" => df::UNSET,
                    "set" => df::SET,
                    "inherit" => df::INHERIT,
                    v => return Err(format!("df: {v}: want unset, set or inherit")),
                };
                msg.attr(attr::DF, &[d]);
            }
            "learning" => {
                let l = match value()? {
                    "on" => 1,
                    "off" => 0,
                    v => return Err(format!("learning: {v}: want on or off")),
                };
                msg.attr(attr::LEARNING, &[l]);
            }
            "ageing" => {
                msg.attr(attr::AGEING, &number::<u32>(key, value()?)?.to_ne_bytes());
            }
            "limit" => {
                msg.attr(attr::LIMIT, &number::<u32>(key, value()?)?.to_ne_bytes());
            }
            _ => return Err(format!("unknown parameter {key}")),
        }
    }
    if create && !port {
        msg.attr(attr::PORT, &DEFAULT_PORT.to_be_bytes());
    }
    match (remotes.as_deref(), group) {
        (Some([first, ..]), _) => {
            msg.attr(group_attr(first), &octets(first));
        }
        // No list: clear the default remote of the current family.
        (Some([]), Some(g)) => {
            let none = match g {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            msg.attr(group_attr(&none), &octets(&none));
        }
        _ => {}
    }
    Ok(Encoded { remotes })
}

fn group_attr(ip: &IpAddr) -> u16 {
    match ip {
        IpAddr::V4(_) => attr::GROUP,
        IpAddr::V6(_) => attr::GROUP6,
    }
}

fn number<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{key}: {v}: not a number in range"))
}

/// An address as netlink carries it: 4 or 16 bytes, network order.
pub(crate) fn octets(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// Parses an IP address.
pub(crate) fn ip(key: &str, v: &str) -> Result<IpAddr, String> {
    v.parse()
        .map_err(|_| format!("{key}: {v}: not an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::attrs;

    fn encoded(words: &[&str]) -> Result<Vec<(u16, Vec<u8>)>, String> {
        let mut m = Message::new(0, 0, &[]);
        encode(words, &mut m, true, None)?;
        let bytes = m.bytes_for_test();
        Ok(attrs(&bytes[16..]).map(|(t, v)| (t, v.to_vec())).collect())
    }

    #[test]
    fn encodes_each_parameter() {
        let a = encoded(&[
            "vni", "100", "local", "10.0.0.1", "remote", "10.0.0.2", "remote", "10.0.0.3", "port",
            "8472",
        ])
        .unwrap();
        assert_eq!(a[0], (attr::ID, 100u32.to_ne_bytes().to_vec()));
        assert_eq!(a[1], (attr::LOCAL, vec![10, 0, 0, 1]));
        assert_eq!(a[2], (attr::PORT, vec![0x21, 0x18]));
        // The first remote is the default destination; the rest are left
        // to the FDB.
        assert_eq!(a[3], (attr::GROUP, vec![10, 0, 0, 2]));
        assert_eq!(a.len(), 4);
        let a = encoded(&[
            "local", "fd00::1", "tos", "inherit", "df", "set", "learning", "off", "srcport",
            "1000", "2000",
        ])
        .unwrap();
        assert_eq!(a[0].0, attr::LOCAL6);
        assert_eq!(a[1], (attr::TOS, vec![1]));
        assert_eq!(a[2], (attr::DF, vec![df::SET]));
        assert_eq!(a[3], (attr::LEARNING, vec![0]));
        assert_eq!(a[4], (attr::PORT_RANGE, vec![0x03, 0xe8, 0x07, 0xd0]));
        // A new device gets IANA's port unless told otherwise.
        assert_eq!(a[5], (attr::PORT, vec![0x12, 0xb5]));
        // No remote: the unspecified address of the current family.
        let mut m = Message::new(0, 0, &[]);
        encode(
            &["noremote"],
            &mut m,
            false,
            Some("fd00::2".parse().unwrap()),
        )
        .unwrap();
        let bytes = m.bytes_for_test();
        let a: Vec<_> = attrs(&bytes[16..]).map(|(t, v)| (t, v.to_vec())).collect();
        assert_eq!(a, vec![(attr::GROUP6, vec![0; 16])]);
    }

    #[test]
    fn syntax_errors_are_caught_here() {
        assert!(encoded(&["vni"]).is_err());
        assert!(encoded(&["vni", "x"]).is_err());
        assert!(encoded(&["local", "10.0.0"]).is_err());
        assert!(encoded(&["df", "maybe"]).is_err());
        assert!(encoded(&["colour", "blue"]).is_err());
        // Values in range for the type go to the kernel, which judges them.
        assert!(encoded(&["vni", "16777216"]).is_ok());
    }
}
