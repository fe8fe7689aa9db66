// SPDX-License-Identifier: GPL-2.0

//! One rvxlan device's tunnel: its configuration, FDB and counters, and
//! the control-plane operations on them (configure, up, down, detach,
//! FDB edits). The data path is in `datapath.rs`.
//!
//! Locking: `state` is a spinlock taken by the data path (softirq or with
//! BH off) and, with BH disabled, by the control plane. The control plane
//! additionally holds RTNL, which serialises all writers, so it may read
//! the state, drop the lock to do something that sleeps (open a socket,
//! claim a VNI), and write back without racing another writer.

use crate::config::{Change, Config, ConfigError, Errno, Family};
use crate::endpoint::{self, ClaimError, Key};
use crate::fdb_table::FdbTable;
use crate::glue::{self, RvxEndpoint};
use crate::header::{self, Vni};
use crate::recent_source::RecentSource;
use crate::rtnl::Rtnl;
use crate::uapi::{Counter, COUNTERS, FIRST_SOCKET_COUNTER};
use core::net::IpAddr;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::alloc::flags::GFP_KERNEL;
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::{lock::spinlock::SpinLockBackend, lock::Guard, SpinLock};

/// MTU of an underlay with a standard Ethernet MTU, less the overhead.
const UNDERLAY_MTU: u32 = 1500;

/// What the data path reads under the lock.
pub(crate) struct State {
    /// The configuration.
    pub(crate) config: Config,
    /// The forwarding database.
    pub(crate) fdb: FdbTable,
    /// The endpoint holding this device's VNI claim, if configured.
    pub(crate) claim: Option<(Key, Vni, *mut RvxEndpoint)>,
    /// Whether this device holds its endpoint's socket open (it is up).
    pub(crate) open: bool,
}

// SAFETY: the raw pointers in `claim` name objects owned by the endpoint
// registry, valid on any CPU while the claim lasts.
unsafe impl Send for State {}

/// A tunnel. Lives in the private area of its `net_device`, which never
/// moves (pinned).
#[pin_data]
pub(crate) struct Tunnel {
    #[pin]
    pub(crate) state: SpinLock<State>,
    counters: [AtomicU64; FIRST_SOCKET_COUNTER],
    /// The receive path's lock-free memory of its last learned source.
    pub(crate) recent_source: RecentSource,
}

/// A refusal with the message for the netlink extended ack.
pub(crate) type Refusal = (Error, &'static core::ffi::CStr);

fn refusal(e: ConfigError) -> Refusal {
    let errno = match e.errno {
        Errno::Invalid => EINVAL,
        Errno::Range => ERANGE,
        Errno::TooBig => E2BIG,
        Errno::AddrNotAvail => Error::from_errno(-(bindings::EADDRNOTAVAIL as i32)),
    };
    (errno, e.msg)
}

/// Disables bottom halves while alive: the control plane's way to take
/// the state lock, which softirq receivers also take.
struct BhOff;

impl BhOff {
    fn new() -> Self {
        // SAFETY: paired with `drop`.
        unsafe { glue::rvx_bh_disable() };
        BhOff
    }
}

impl Drop for BhOff {
    fn drop(&mut self) {
        // SAFETY: paired with `new`.
        unsafe { glue::rvx_bh_enable() };
    }
}

impl Tunnel {
    /// A new, unconfigured tunnel.
    pub(crate) fn new() -> Result<impl PinInit<Self>> {
        let config = Config::default();
        let state = State {
            fdb: FdbTable::new(config.limit as usize, GFP_KERNEL)?,
            config,
            claim: None,
            open: false,
        };
        Ok(pin_init!(Self {
            state <- kernel::new_spinlock!(state, "rvxlan_tunnel"),
            counters: [const { AtomicU64::new(0) }; FIRST_SOCKET_COUNTER],
            recent_source: RecentSource::new(),
        }))
    }

    /// Runs `f` on the state from process context (BH off, lock held).
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let _bh = BhOff::new();
        let mut st = self.state.lock();
        f(&mut st)
    }

    /// The state, from the data path (softirq, or BH already off).
    pub(crate) fn lock(&self) -> Guard<'_, State, SpinLockBackend> {
        self.state.lock()
    }

    /// Adds one to `c` (a device counter).
    pub(crate) fn count(&self, c: Counter) {
        if let Some(n) = self.counters.get(c as usize) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// All counters, socket ones from the endpoint.
    pub(crate) fn counters(&self, out: &mut [u64; COUNTERS]) {
        for (o, c) in out.iter_mut().zip(self.counters.iter()) {
            *o = c.load(Ordering::Relaxed);
        }
        self.with_state(|st| {
            if let Some((_, _, ep)) = st.claim {
                // SAFETY: the endpoint lives while claimed; the output
                // has room for the socket counters after the device ones.
                unsafe {
                    glue::rvx_endpoint_counters(ep, out[FIRST_SOCKET_COUNTER..].as_mut_ptr())
                };
            }
        });
    }

    /// Applies `change` as a whole or refuses it, changing nothing.
    /// Returns the default MTU for the resulting underlay family.
    pub(crate) fn configure(
        &self,
        rtnl: &mut Rtnl,
        me: *mut u8,
        change: &Change,
    ) -> Result<u32, Refusal> {
        let (old, old_claim, open) = self.with_state(|st| (st.config, st.claim, st.open));
        let new = old.apply(change).map_err(refusal)?;
        // SAFETY: `me` is this tunnel inside its device's private area.
        let net = unsafe { glue::rvx_underlay(me) };
        let new_key = new.vni.map(|vni| {
            (
                Key {
                    net,
                    port: new.port,
                    family: new.family(),
                },
                vni,
            )
        });
        let old_key = old_claim.map(|(k, v, _)| (k, v));
        let mut claim = old_claim;
        if new_key != old_key {
            if open {
                return Err((
                    EBUSY,
                    c"set the device down to change its VNI, port or address family",
                ));
            }
            claim = match new_key {
                Some((key, vni)) => match endpoint::claim(rtnl, key, vni.get(), me) {
                    Ok(ep) => Some((key, vni, ep)),
                    Err(ClaimError::Taken) => {
                        return Err((
                            EEXIST,
                            c"another rvxlan device has this VNI on this UDP port, address family and namespace",
                        ))
                    }
                    Err(ClaimError::Other(e)) => return Err((e, c"cannot set up the tunnel endpoint")),
                },
                None => None,
            };
            if let Some((key, vni)) = old_key {
                endpoint::unclaim(rtnl, &key, vni.get());
            }
        }
        self.recent_source.forget();
        self.with_state(|st| {
            if !new.learning || new.family() != old.family() {
                st.fdb.flush_learned();
            }
            st.fdb.set_limit(new.limit as usize);
            st.config = new;
            st.claim = claim;
        });
        // SAFETY: as above.
        unsafe { glue::rvx_dst_cache_reset(me) };
        let overhead = match new.family() {
            Family::V4 => header::OVERHEAD_IPV4,
            Family::V6 => header::OVERHEAD_IPV6,
        };
        Ok(UNDERLAY_MTU - overhead)
    }

    /// The device goes up: a configured tunnel opens (or shares) its
    /// endpoint's socket. An unconfigured one just sends nothing.
    pub(crate) fn up(&self, rtnl: &mut Rtnl) -> Result {
        let claim = self.with_state(|st| st.claim);
        if let Some((key, _, _)) = claim {
            endpoint::up(rtnl, &key)?;
            self.with_state(|st| st.open = true);
        }
        Ok(())
    }

    /// The device goes down.
    pub(crate) fn down(&self, rtnl: &mut Rtnl) {
        let (claim, open) =
            self.with_state(|st| (st.claim, core::mem::replace(&mut st.open, false)));
        if let (Some((key, _, _)), true) = (claim, open) {
            endpoint::down(rtnl, &key);
        }
    }

    /// The device is being unregistered: gives up the socket and the VNI.
    pub(crate) fn detach(&self, rtnl: &mut Rtnl) {
        self.down(rtnl);
        if let Some((key, vni, _)) = self.with_state(|st| st.claim.take()) {
            endpoint::unclaim(rtnl, &key, vni.get());
        }
    }

    /// Adds a static FDB entry, or with the all-zeros MAC a remote VTEP to
    /// the flood list (as `bridge fdb append 00:00:00:00:00:00` does for
    /// Linux vxlan).
    pub(crate) fn fdb_add(
        &self,
        rtnl: &mut Rtnl,
        me: *mut u8,
        mac: [u8; 6],
        remote: IpAddr,
        replace: bool,
    ) -> Result<(), Refusal> {
        let config = self.with_state(|st| st.config);
        if mac == [0; 6] {
            let mut remotes = config.remotes;
            if remotes.as_slice().contains(&remote) {
                return if replace {
                    Ok(())
                } else {
                    Err((EEXIST, c"this remote is already in the flood list"))
                };
            }
            if !remotes.push(remote) {
                return Err((E2BIG, c"the flood list holds at most 32 remotes"));
            }
            let change = Change {
                remotes: Some(remotes),
                ..Change::default()
            };
            return self.configure(rtnl, me, &change).map(|_| ());
        }
        config.check_remote(&remote).map_err(refusal)?;
        if !crate::fdb::is_unicast(&mac) {
            return Err((
                EINVAL,
                c"FDB entries are for unicast MACs (00:00:00:00:00:00 is the flood list)",
            ));
        }
        self.with_state(|st| {
            st.fdb
                .add_static(mac, remote, replace, kernel::alloc::flags::GFP_ATOMIC)
        })
        .map_err(|e| {
            let msg = if e == EEXIST {
                c"a static entry for this MAC exists (use replace)"
            } else {
                c"the FDB is full"
            };
            (e, msg)
        })
    }

    /// Removes an FDB entry, or a flood-list remote (all-zeros MAC).
    pub(crate) fn fdb_del(
        &self,
        rtnl: &mut Rtnl,
        me: *mut u8,
        mac: [u8; 6],
        remote: Option<IpAddr>,
    ) -> Result {
        if mac == [0; 6] {
            let mut remotes = self.with_state(|st| st.config.remotes);
            if !remote.is_some_and(|r| remotes.remove(&r)) {
                return Err(ENOENT);
            }
            let change = Change {
                remotes: Some(remotes),
                ..Change::default()
            };
            return self
                .configure(rtnl, me, &change)
                .map(|_| ())
                .map_err(|(e, _)| e);
        }
        self.recent_source.forget();
        if self.with_state(|st| st.fdb.remove(&mac)) {
            Ok(())
        } else {
            Err(ENOENT)
        }
    }
}
