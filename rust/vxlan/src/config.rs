// SPDX-License-Identifier: GPL-2.0

//! A tunnel's configuration and the rules a change must pass before any of
//! it takes effect: a change is checked as a whole against the current
//! configuration, and either all of it applies or none.

use crate::header::Vni;
use crate::uapi::{df, MAX_LEARNED_LIMIT, MAX_REMOTES};
use core::ffi::CStr;
use core::net::IpAddr;

/// The underlay address family of a tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4 underlay (the default).
    V4,
    /// IPv6 underlay.
    V6,
}

impl Family {
    /// The family of `addr`.
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// The remote VTEPs flooded to; a fixed-capacity list (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remotes {
    addrs: [IpAddr; MAX_REMOTES],
    len: usize,
}

impl Default for Remotes {
    fn default() -> Self {
        Self {
            addrs: [IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED); MAX_REMOTES],
            len: 0,
        }
    }
}

impl Remotes {
    /// Appends `addr`; false if the list is full.
    pub fn push(&mut self, addr: IpAddr) -> bool {
        if self.len == MAX_REMOTES {
            return false;
        }
        self.addrs[self.len] = addr;
        self.len += 1;
        true
    }

    /// Removes `addr`; whether it was there.
    pub fn remove(&mut self, addr: &IpAddr) -> bool {
        match self.as_slice().iter().position(|a| a == addr) {
            Some(i) => {
                self.addrs.copy_within(i + 1..self.len, i);
                self.len -= 1;
                true
            }
            None => false,
        }
    }

    /// Puts `addr` first, or leaves it where it is if listed; false if
    /// the list is full.
    pub fn insert_first(&mut self, addr: IpAddr) -> bool {
        if self.as_slice().contains(&addr) {
            return true;
        }
        if self.len == MAX_REMOTES {
            return false;
        }
        self.addrs.copy_within(0..self.len, 1);
        self.addrs[0] = addr;
        self.len += 1;
        true
    }

    /// The addresses.
    pub fn as_slice(&self) -> &[IpAddr] {
        &self.addrs[..self.len]
    }
}

/// Why a change was refused; `errno` is what the kernel returns with the
/// message (as a netlink extended ack).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigError {
    /// The error class.
    pub errno: Errno,
    /// What is wrong, for the user (a C string: the kernel hands it to
    /// netlink's extended ack as is).
    pub msg: &'static CStr,
}

/// The error classes a configuration change can fail with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errno {
    /// `EINVAL`.
    Invalid,
    /// `ERANGE`.
    Range,
    /// `E2BIG`.
    TooBig,
    /// `EADDRNOTAVAIL`.
    AddrNotAvail,
    /// `EOPNOTSUPP`: a setting fixed at creation (as Linux vxlan's
    /// changelink answers for its VNI, port and port range).
    NotSupported,
    /// `EEXIST`.
    Exists,
    /// `ENOENT`.
    NoEntry,
    /// `EAFNOSUPPORT`.
    AfNotSupported,
}

/// The UDP port of a device created without `IFLA_VXLAN_PORT` (or with
/// 0): Linux vxlan's `udp_port` module parameter default, the port Linux
/// used before IANA assigned 4789 (iproute2 warns and suggests
/// `dstport 4789`).
pub const LINUX_DEFAULT_PORT: u16 = 8472;

/// Linux's `FDB_AGE_DEFAULT`: what an ageing time of 0 becomes.
pub const FDB_AGE_DEFAULT: u32 = 300;

fn err(errno: Errno, msg: &'static CStr) -> ConfigError {
    ConfigError { errno, msg }
}

/// A tunnel's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The VNI; `None` until configured (the device then sends nothing).
    pub vni: Option<Vni>,
    /// Local address; `None` lets the route choose the source.
    pub local: Option<IpAddr>,
    /// The default remote (Linux's `IFLA_VXLAN_GROUP`, `default_dst`):
    /// listed first in `remotes` when set. Deleting its flood-list entry
    /// through the FDB leaves it shown here, as in Linux.
    pub remote: Option<IpAddr>,
    /// UDP destination port, and the port the tunnel socket binds.
    pub port: u16,
    /// UDP source port range `[low, high)` as configured; `low >= high`
    /// (Linux's default `0 0`) means the local port range, as Linux's
    /// `udp_flow_src_port()` reads it.
    pub src_ports: (u16, u16),
    /// Outer TTL; 0 = the route's default.
    pub ttl: u8,
    /// Outer TOS; 1 = inherit the inner one.
    pub tos: u8,
    /// One of [`crate::uapi::df`].
    pub df: u8,
    /// Whether to learn source MACs.
    pub learning: bool,
    /// Seconds a learned entry lives unconfirmed (never 0: 0 is taken
    /// as [`FDB_AGE_DEFAULT`], as in Linux).
    pub ageing: u32,
    /// Most learned entries.
    pub limit: u32,
    /// Flood list.
    pub remotes: Remotes,
    /// The underlay address family, fixed when the device is created
    /// ([`Config::create`]): the family of the local address or first
    /// remote given then, IPv4 if none. The tunnel's socket is of this
    /// family, so every address it sends to must be too.
    pub family: Family,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            vni: None,
            local: None,
            remote: None,
            port: LINUX_DEFAULT_PORT,
            src_ports: (0, 0),
            ttl: 0,
            tos: 0,
            df: df::UNSET,
            learning: true,
            ageing: FDB_AGE_DEFAULT,
            limit: 4096,
            remotes: Remotes::default(),
            family: Family::V4,
        }
    }
}

/// A requested change: each `Some` field replaces the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Change {
    /// New VNI (raw, checked here).
    pub vni: Option<u32>,
    /// New local address; the unspecified address clears it.
    pub local: Option<IpAddr>,
    /// New default remote; the unspecified address clears it.
    pub remote: Option<IpAddr>,
    /// New port.
    pub port: Option<u16>,
    /// New source port range.
    pub src_ports: Option<(u16, u16)>,
    /// New TTL.
    pub ttl: Option<u8>,
    /// New TOS.
    pub tos: Option<u8>,
    /// New DF mode.
    pub df: Option<u8>,
    /// New learning switch (raw, 0 or 1).
    pub learning: Option<u8>,
    /// New ageing time.
    pub ageing: Option<u32>,
    /// New learned-entry limit.
    pub limit: Option<u32>,
    /// New flood list (unchecked).
    pub remotes: Option<Remotes>,
}

fn is_multicast(a: &IpAddr) -> bool {
    a.is_multicast() || matches!(a, IpAddr::V4(v4) if v4.is_broadcast())
}

impl Config {
    /// The underlay family (fixed at creation).
    pub fn family(&self) -> Family {
        self.family
    }

    /// The configuration of a device created with `change`, or why it is
    /// refused. Fixes the address family: that of the local address or
    /// default remote given, even unspecified (`ip -6 link add` sends
    /// `::`), else of the first flood-list remote, IPv4 if none, as Linux's
    /// `vxlan_config_validate()`.
    pub fn create(change: &Change) -> Result<Config, ConfigError> {
        let mut base = Config::default();
        if let (Some(l), Some(r)) = (change.local, change.remote) {
            if Family::of(&l) != Family::of(&r) {
                return Err(err(
                    Errno::Invalid,
                    c"Local and remote address must be from the same family",
                ));
            }
        }
        let first = change
            .local
            .or(change.remote)
            .or_else(|| change.remotes.and_then(|r| r.as_slice().first().copied()));
        if let Some(a) = first {
            base.family = Family::of(&a);
        }
        base.apply_inner(change, true)
    }

    /// The configuration a change of an existing device leads to, or why
    /// it is refused. The VNI (once set), UDP port, source port range and
    /// address family are fixed, as in Linux vxlan's changelink
    /// (`vxlan_nl2conf`, which also refuses the port and range attributes
    /// whatever their value: `netlink::change`): they name the tunnel's
    /// socket and its place in the VNI demux, so changing them would move
    /// the device to another segment. A VNI may be given to a device
    /// created without one (rvxlan's addition: Linux's has VNI 0), and the
    /// same value as the current one is no change.
    pub fn apply(&self, change: &Change) -> Result<Config, ConfigError> {
        self.apply_inner(change, false)
    }

    fn apply_inner(&self, change: &Change, creating: bool) -> Result<Config, ConfigError> {
        let mut c = *self;
        if let Some(v) = change.vni {
            let vni =
                Vni::new(v).ok_or(err(Errno::Range, c"VXLAN ID must be lower than 16777216"))?;
            if !creating && self.vni.is_some_and(|old| old != vni) {
                return Err(err(Errno::NotSupported, c"Cannot change VNI"));
            }
            c.vni = Some(vni);
        }
        if let Some(local) = change.local {
            if Family::of(&local) != self.family {
                return Err(err(
                    Errno::NotSupported,
                    c"New local address family does not match old",
                ));
            }
            c.local = (!local.is_unspecified()).then_some(local);
        }
        if let Some(remote) = change.remote {
            if Family::of(&remote) != self.family {
                return Err(err(
                    Errno::NotSupported,
                    c"New group address family does not match old group",
                ));
            }
            // As vxlan_changelink(): the new default destination joins the
            // all-zeros FDB entry (NLM_F_APPEND), the old one leaves it.
            if let Some(old) = self.remote {
                c.remotes.remove(&old);
            }
            c.remote = (!remote.is_unspecified()).then_some(remote);
            if let Some(new) = c.remote {
                if !c.remotes.insert_first(new) {
                    return Err(err(
                        Errno::TooBig,
                        c"the flood list holds at most 32 remotes",
                    ));
                }
            }
        }
        if let Some(p) = change.port {
            // 0 is the default (vxlan_config_validate()).
            let p = if p == 0 { LINUX_DEFAULT_PORT } else { p };
            if !creating && p != self.port {
                return Err(err(Errno::NotSupported, c"Cannot change port"));
            }
            c.port = p;
        }
        if let Some((low, high)) = change.src_ports {
            if high < low {
                return Err(err(Errno::Invalid, c"Invalid source port range"));
            }
            if !creating && (low, high) != self.src_ports {
                return Err(err(Errno::NotSupported, c"Cannot change port range"));
            }
            c.src_ports = (low, high);
        }
        if let Some(t) = change.ttl {
            c.ttl = t;
        }
        if let Some(t) = change.tos {
            c.tos = t;
        }
        if let Some(d) = change.df {
            if d > df::INHERIT {
                return Err(err(Errno::Invalid, c"Invalid DF attribute"));
            }
            c.df = d;
        }
        if let Some(l) = change.learning {
            // Any non-zero value is on (vxlan_nl2flag()).
            c.learning = l != 0;
        }
        if let Some(a) = change.ageing {
            c.ageing = if a == 0 { FDB_AGE_DEFAULT } else { a };
        }
        if let Some(l) = change.limit {
            // Linux's 0 is "unlimited"; rvxlan's table is bounded.
            if l == 0 || l > MAX_LEARNED_LIMIT {
                return Err(err(
                    Errno::Range,
                    c"rvxlan's IFLA_VXLAN_LIMIT (maxaddress) is 1 to 65536: no unlimited learning",
                ));
            }
            c.limit = l;
        }
        if let Some(r) = change.remotes {
            c.remotes = r;
        }
        c.check_addresses()?;
        Ok(c)
    }

    /// Whether `r` may be a remote VTEP of this tunnel (in the flood list
    /// or behind a static FDB entry): unicast, and of the tunnel's family.
    pub fn check_remote(&self, r: &IpAddr) -> Result<(), ConfigError> {
        if r.is_unspecified() {
            return Err(err(
                Errno::AddrNotAvail,
                c"remote address must not be unspecified",
            ));
        }
        if is_multicast(r) {
            return Err(err(
                Errno::AddrNotAvail,
                c"multicast remotes are not supported: list each remote VTEP (head-end replication)",
            ));
        }
        if Family::of(r) != self.family {
            return Err(err(
                Errno::Invalid,
                c"local and remote addresses must all be IPv4 or all IPv6: the address family is fixed at creation",
            ));
        }
        Ok(())
    }

    /// `vxlan_config_validate()`'s address rules, then the flood list's.
    fn check_addresses(&self) -> Result<(), ConfigError> {
        if let Some(l) = &self.local {
            if l.is_multicast() {
                return Err(err(Errno::Invalid, c"Local address cannot be multicast"));
            }
            if Family::of(l) != self.family {
                return Err(err(
                    Errno::Invalid,
                    c"Local and remote address must be from the same family",
                ));
            }
        }
        if let Some(r) = &self.remote {
            // Linux needs the underlay device (IFLA_VXLAN_LINK) for a
            // multicast group, which rvxlan does not take: its answer.
            if r.is_multicast() {
                return Err(err(
                    Errno::Invalid,
                    c"Local interface required for multicast remote destination",
                ));
            }
        }
        // IPv6 scopes: a link-local local address needs a link-local (or
        // no) remote and the underlay device, which rvxlan does not take.
        let link_local = |a: &Option<IpAddr>| matches!(a, Some(IpAddr::V6(v6)) if v6.segments()[0] & 0xffc0 == 0xfe80);
        if self.family == Family::V6 {
            let remote_link_local = link_local(&self.remote);
            if link_local(&self.local) {
                if !remote_link_local && self.remote.is_some() {
                    return Err(err(
                        Errno::Invalid,
                        c"Invalid combination of local and remote address scopes",
                    ));
                }
                return Err(err(
                    Errno::Invalid,
                    c"Local interface required for link-local local/remote addresses",
                ));
            }
            if remote_link_local {
                return Err(err(
                    Errno::Invalid,
                    c"Invalid combination of local and remote address scopes",
                ));
            }
        }
        for (i, r) in self.remotes.as_slice().iter().enumerate() {
            self.check_remote(r)?;
            if self.remotes.as_slice()[..i].contains(r) {
                return Err(err(Errno::Invalid, c"remote listed twice"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    fn v4(d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, d))
    }

    fn remotes(list: &[IpAddr]) -> Remotes {
        let mut r = Remotes::default();
        for a in list {
            assert!(r.push(*a));
        }
        r
    }

    #[test]
    fn defaults_match_linux_vxlan() {
        let c = Config::default();
        assert_eq!(
            (c.port, c.src_ports, c.ttl, c.learning, c.ageing),
            (8472, (0, 0), 0, true, 300)
        );
        assert_eq!(c.family(), Family::V4);
        assert_eq!(c.vni, None);
    }

    #[test]
    fn a_good_change_applies_whole() {
        let c = Config::create(&Change {
            vni: Some(100),
            local: Some(v4(1)),
            remotes: Some(remotes(&[v4(2), v4(3)])),
            port: Some(8472),
            src_ports: Some((1000, 2000)),
            ttl: Some(64),
            limit: Some(10),
            ..Change::default()
        })
        .unwrap();
        assert_eq!(c.vni.map(Vni::get), Some(100));
        assert_eq!(
            (c.port, c.src_ports, c.ttl, c.limit),
            (8472, (1000, 2000), 64, 10)
        );
        assert_eq!(c.remotes.as_slice(), &[v4(2), v4(3)]);
        // Clearing the local address.
        let c = c
            .apply(&Change {
                local: Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                ..Change::default()
            })
            .unwrap();
        assert_eq!(c.local, None);
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let c = Config::default();
        let bad = [
            (
                Change {
                    vni: Some(1 << 24),
                    ..Change::default()
                },
                Errno::Range,
            ),
            (
                Change {
                    src_ports: Some((2001, 2000)),
                    ..Change::default()
                },
                Errno::Invalid,
            ),
            (
                Change {
                    df: Some(3),
                    ..Change::default()
                },
                Errno::Invalid,
            ),
            (
                Change {
                    remote: Some(IpAddr::V4(Ipv4Addr::new(239, 1, 1, 1))),
                    ..Change::default()
                },
                Errno::Invalid,
            ),
            (
                Change {
                    local: Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
                    ..Change::default()
                },
                Errno::NotSupported,
            ),
            (
                Change {
                    limit: Some(0),
                    ..Change::default()
                },
                Errno::Range,
            ),
            (
                Change {
                    limit: Some(MAX_LEARNED_LIMIT + 1),
                    ..Change::default()
                },
                Errno::Range,
            ),
            (
                Change {
                    local: Some(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 1))),
                    ..Change::default()
                },
                Errno::Invalid,
            ),
            (
                Change {
                    remotes: Some(remotes(&[IpAddr::V4(Ipv4Addr::BROADCAST)])),
                    ..Change::default()
                },
                Errno::AddrNotAvail,
            ),
            (
                Change {
                    remotes: Some(remotes(&[IpAddr::V6(Ipv6Addr::UNSPECIFIED)])),
                    ..Change::default()
                },
                Errno::AddrNotAvail,
            ),
            (
                Change {
                    remotes: Some(remotes(&[v4(2), v4(2)])),
                    ..Change::default()
                },
                Errno::Invalid,
            ),
            (
                Change {
                    local: Some(v4(1)),
                    remotes: Some(remotes(&[IpAddr::V6(Ipv6Addr::LOCALHOST)])),
                    ..Change::default()
                },
                Errno::Invalid,
            ),
        ];
        for (change, errno) in bad {
            let e = c.apply(&change).unwrap_err();
            assert_eq!(e.errno, errno, "{change:?}");
            assert!(!e.msg.to_bytes().is_empty());
        }
    }

    #[test]
    fn remotes_for_static_entries_follow_the_same_rules() {
        let c = Config::default();
        assert_eq!(c.check_remote(&v4(9)), Ok(()));
        for (bad, errno) in [
            (IpAddr::V4(Ipv4Addr::BROADCAST), Errno::AddrNotAvail),
            (IpAddr::V4(Ipv4Addr::UNSPECIFIED), Errno::AddrNotAvail),
            (IpAddr::V4(Ipv4Addr::new(239, 1, 1, 1)), Errno::AddrNotAvail),
            (IpAddr::V6(Ipv6Addr::LOCALHOST), Errno::Invalid),
        ] {
            assert_eq!(c.check_remote(&bad).unwrap_err().errno, errno, "{bad}");
        }
    }

    #[test]
    fn family_follows_the_addresses_at_creation() {
        let six = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2));
        let c = Config::create(&Change {
            remotes: Some(remotes(&[six])),
            ..Change::default()
        })
        .unwrap();
        assert_eq!(c.family(), Family::V6);
        let c = Config::create(&Change {
            local: Some(six),
            ..Change::default()
        })
        .unwrap();
        assert_eq!(c.family(), Family::V6);
        assert_eq!(
            Config::create(&Change::default()).unwrap().family(),
            Family::V4
        );
    }

    /// The sequence that once sent an IPv6 FDB destination through an
    /// IPv4 socket: IPv6 remote, static entry via IPv6, remotes cleared.
    /// The family stays, so the entry stays valid and no entry of the
    /// other family can be added.
    #[test]
    fn the_family_survives_clearing_the_addresses() {
        let six = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2));
        let c = Config::create(&Change {
            vni: Some(10),
            remotes: Some(remotes(&[six])),
            ..Change::default()
        })
        .unwrap();
        assert_eq!(c.check_remote(&six), Ok(()));
        let c = c
            .apply(&Change {
                remotes: Some(Remotes::default()),
                ..Change::default()
            })
            .unwrap();
        assert_eq!(c.family(), Family::V6);
        assert_eq!(c.check_remote(&six), Ok(()));
        assert_eq!(c.check_remote(&v4(2)).unwrap_err().errno, Errno::Invalid);
        let change = Change {
            remotes: Some(remotes(&[v4(2)])),
            ..Change::default()
        };
        assert_eq!(c.apply(&change).unwrap_err().errno, Errno::Invalid);
        // Linux's changelink answer for the local address of the other
        // family.
        let local = Change {
            local: Some(v4(1)),
            ..Change::default()
        };
        assert_eq!(c.apply(&local).unwrap_err().errno, Errno::NotSupported);
    }

    #[test]
    fn vni_port_and_port_range_are_fixed_after_creation() {
        let c = Config::create(&Change {
            vni: Some(100),
            ..Change::default()
        })
        .unwrap();
        for change in [
            Change {
                vni: Some(200),
                ..Change::default()
            },
            Change {
                port: Some(4789),
                ..Change::default()
            },
            Change {
                src_ports: Some((1000, 2000)),
                ..Change::default()
            },
        ] {
            assert_eq!(
                c.apply(&change).unwrap_err().errno,
                Errno::NotSupported,
                "{change:?}"
            );
        }
        // The current values are no change.
        let same = Change {
            vni: Some(100),
            port: Some(c.port),
            src_ports: Some(c.src_ports),
            ttl: Some(9),
            ..Change::default()
        };
        assert_eq!(c.apply(&same).unwrap().ttl, 9);
        // A device created without a VNI gets one once.
        let c = Config::create(&Change::default()).unwrap();
        let c = c
            .apply(&Change {
                vni: Some(5),
                ..Change::default()
            })
            .unwrap();
        assert_eq!(c.vni.map(Vni::get), Some(5));
        let again = Change {
            vni: Some(6),
            ..Change::default()
        };
        assert_eq!(c.apply(&again).unwrap_err().errno, Errno::NotSupported);
    }

    #[test]
    fn the_default_remote_leads_the_flood_list_as_linux_default_dst() {
        let c = Config::create(&Change {
            remote: Some(v4(2)),
            ..Change::default()
        })
        .unwrap();
        assert_eq!(
            (c.remote, c.remotes.as_slice()),
            (Some(v4(2)), &[v4(2)][..])
        );
        // An appended remote (bridge fdb append 00:00:00:00:00:00).
        let mut r = c.remotes;
        assert!(r.push(v4(3)));
        let c = c
            .apply(&Change {
                remotes: Some(r),
                ..Change::default()
            })
            .unwrap();
        // A new default replaces the old in the list; the others stay.
        let c = c
            .apply(&Change {
                remote: Some(v4(4)),
                ..Change::default()
            })
            .unwrap();
        assert_eq!(c.remotes.as_slice(), &[v4(4), v4(3)]);
        let c = c
            .apply(&Change {
                remote: Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                ..Change::default()
            })
            .unwrap();
        assert_eq!((c.remote, c.remotes.as_slice()), (None, &[v4(3)][..]));
        // The unspecified address fixes the family at creation.
        let six = Config::create(&Change {
            remote: Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
            ..Change::default()
        })
        .unwrap();
        assert_eq!((six.family(), six.remote), (Family::V6, None));
        let mixed = Change {
            local: Some(v4(1)),
            remote: Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            ..Change::default()
        };
        assert_eq!(Config::create(&mixed).unwrap_err().errno, Errno::Invalid);
        let ll = Change {
            local: Some(IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1))),
            ..Change::default()
        };
        assert_eq!(
            Config::create(&ll).unwrap_err().msg,
            c"Local interface required for link-local local/remote addresses"
        );
    }

    #[test]
    fn linux_zero_values_are_its_defaults() {
        let c = Config::create(&Change {
            port: Some(0),
            ageing: Some(0),
            learning: Some(2),
            ..Change::default()
        })
        .unwrap();
        assert_eq!((c.port, c.ageing, c.learning), (8472, 300, true));
        assert_eq!(
            Config::create(&Change {
                limit: Some(0),
                ..Change::default()
            })
            .unwrap_err()
            .errno,
            Errno::Range
        );
    }

    #[test]
    fn remote_list_is_bounded() {
        let mut r = Remotes::default();
        for i in 0..MAX_REMOTES {
            assert!(r.push(v4(i as u8 + 1)));
        }
        assert!(!r.push(v4(200)));
        assert!(r.remove(&v4(1)));
        assert!(!r.remove(&v4(1)));
        assert_eq!(r.as_slice()[0], v4(2));
    }
}
