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
use crate::netlink::{self, FdbAdd, FdbDel};
use crate::recent_source::RecentSource;
use crate::rtnl::Rtnl;
use crate::uapi::{Counter, COUNTERS, FIRST_SOCKET_COUNTER};
use core::net::IpAddr;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::{lock::spinlock::SpinLockBackend, lock::Guard, SpinLock};

/// The underlay MTU a device's default MTU assumes (standard Ethernet); the
/// default is this less the encapsulation overhead (`configure`).
const UNDERLAY_MTU: u32 = 1500;

/// What the data path reads under the lock.
pub(crate) struct State {
    /// The configuration.
    pub(crate) config: Config,
    /// The forwarding database.
    pub(crate) fdb: FdbTable,
    /// The endpoint holding this device's VNI claim, if configured.
    pub(crate) claim: Option<(Key, Vni, *mut RvxEndpoint)>,
    /// Whether this device holds its endpoint's socket open (it is up
    /// and has a VNI).
    pub(crate) open: bool,
    /// Whether the device is up (between `ndo_open` and `ndo_stop`).
    pub(crate) up: bool,
}

// SAFETY: the raw pointers in `claim` name objects owned by the endpoint
// registry, valid on any CPU while the claim lasts.
unsafe impl Send for State {}

/// A tunnel.
///
/// # Invariants
///
/// A `Tunnel` lives only in the private area of its rvxlan `net_device`
/// (`rvxlan_tunnel_init` is its only constructor, and the area never
/// moves: pinned), so its address is the `tunnel` pointer the C glue maps
/// back to the device (`rvx_from_tunnel`) for as long as it lives.
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

/// Which rules a configuration request passes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// `newlink`: everything may be set; the sender holds CAP_NET_ADMIN
    /// over the underlay (the core checked it for the sender's namespace
    /// or `IFLA_LINK_NETNSID`'s, which becomes the underlay).
    Create,
    /// `changelink` or an FDB edit of a live device, possibly by a tenant
    /// that owns the namespace the device was moved to.
    Change,
}

pub(crate) fn refusal(e: ConfigError) -> Refusal {
    let errno = match e.errno {
        Errno::Invalid => EINVAL,
        Errno::Range => ERANGE,
        Errno::TooBig => E2BIG,
        Errno::AddrNotAvail => Error::from_errno(-(bindings::EADDRNOTAVAIL as i32)),
        Errno::NotSupported => Error::from_errno(-(bindings::EOPNOTSUPP as i32)),
        Errno::Exists => EEXIST,
        Errno::NoEntry => ENOENT,
        Errno::AfNotSupported => Error::from_errno(-(bindings::EAFNOSUPPORT as i32)),
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
            fdb: FdbTable::new(config.limit as usize)?,
            config,
            claim: None,
            open: false,
            up: false,
        };
        Ok(pin_init!(Self {
            state <- kernel::new_spinlock!(state, "rvxlan_tunnel"),
            counters: [const { AtomicU64::new(0) }; FIRST_SOCKET_COUNTER],
            recent_source: RecentSource::new(),
        }))
    }

    /// This tunnel as the C glue names it: the address inside its
    /// device's private area (the type invariant), valid for every glue
    /// call that takes a `tunnel` while `self` lives.
    pub(crate) fn me(&self) -> *mut u8 {
        core::ptr::from_ref(self).cast_mut().cast()
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

    /// All counters, socket ones from the endpoint if `with_socket`
    /// (zero otherwise).
    pub(crate) fn counters(&self, out: &mut [u64; COUNTERS], with_socket: bool) {
        out.fill(0);
        for (o, c) in out.iter_mut().zip(self.counters.iter()) {
            *o = c.load(Ordering::Relaxed);
        }
        if !with_socket {
            return;
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
        change: &Change,
        phase: Phase,
    ) -> Result<u32, Refusal> {
        let me = self.me();
        // As Linux vxlan_changelink (rtnl_dev_link_net_capable): a device
        // living outside its underlay namespace is changed only by who
        // holds CAP_NET_ADMIN over the underlay. Its VNI, remotes, local
        // address, learning and outer header all decide what the host
        // sends or accepts there; a tenant owning the namespace the
        // device was moved to may use it (up, addresses, MTU), not re-aim
        // it. Checked first, so a refusal tells nothing about the VNIs
        // (no EEXIST answers).
        if phase == Phase::Change {
            self.may_change()?;
        }
        let (old, old_claim, open, up) =
            self.with_state(|st| (st.config, st.claim, st.open, st.up));
        let new = match phase {
            Phase::Create => Config::create(change),
            Phase::Change => old.apply(change),
        }
        .map_err(refusal)?;
        // SAFETY: `me` is this tunnel inside its device's private area
        // (`Tunnel`'s invariant).
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
        let mut opens = false;
        // The port and family are fixed and so is a VNI once set
        // (`Config::apply`): only a first VNI gets here.
        if new_key != old_key {
            if open {
                return Err((EBUSY, c"the device is up with another VNI"));
            }
            claim = match new_key {
                Some((key, vni)) => match endpoint::claim(rtnl, key, vni.get(), me) {
                    Ok(ep) => Some((key, vni, ep)),
                    Err(ClaimError::Taken) => {
                        // Linux's message (vxlan_config_validate()): the
                        // same VNI on the same port, family and namespace.
                        return Err((
                            EEXIST,
                            c"A VXLAN device with the specified VNI already exists",
                        ));
                    }
                    Err(ClaimError::Other(e)) => {
                        return Err((e, c"cannot set up the tunnel endpoint"))
                    }
                },
                None => None,
            };
            // A device already up without a VNI starts working now.
            if let (true, Some((key, vni, ep))) = (up, claim) {
                if let Err(e) = endpoint::up(rtnl, &key) {
                    endpoint::unclaim(rtnl, &key, vni.get());
                    return Err((e, c"cannot open the tunnel socket"));
                }
                endpoint::publish(rtnl, ep, vni.get(), me);
                opens = true;
            }
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
            st.open |= opens;
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
    ///
    /// Only now does receive reach the device: its VNI is published in
    /// the endpoint's demux table after the socket opened.
    pub(crate) fn up(&self, rtnl: &mut Rtnl) -> Result {
        let me = self.me();
        let claim = self.with_state(|st| st.claim);
        if let Some((key, vni, ep)) = claim {
            endpoint::up(rtnl, &key)?;
            endpoint::publish(rtnl, ep, vni.get(), me);
            self.with_state(|st| st.open = true);
        }
        self.with_state(|st| st.up = true);
        Ok(())
    }

    /// Whether the caller may change the tunnel (see [`Tunnel::configure`]).
    pub(crate) fn may_change(&self) -> Result<(), Refusal> {
        self.underlay_admin(
            c"changing the tunnel of a device outside its underlay namespace needs CAP_NET_ADMIN in the underlay namespace",
        )
    }

    /// Refuses with `EPERM` and `msg` unless the device lives in its
    /// underlay namespace or the caller holds CAP_NET_ADMIN over it.
    fn underlay_admin(&self, msg: &'static core::ffi::CStr) -> Result<(), Refusal> {
        // SAFETY: `me()` is this tunnel inside its device's private area
        // (`Tunnel`'s invariant).
        if unsafe { glue::rvx_underlay_capable(self.me()) } {
            Ok(())
        } else {
            Err((EPERM, msg))
        }
    }

    /// The device goes down: receive no longer reaches it (those already
    /// on their way finish before its memory goes: see `ndo_uninit`).
    pub(crate) fn down(&self, rtnl: &mut Rtnl) {
        let (claim, open) = self.with_state(|st| {
            st.up = false;
            (st.claim, core::mem::replace(&mut st.open, false))
        });
        if let (Some((key, vni, ep)), true) = (claim, open) {
            endpoint::unpublish(rtnl, ep, vni.get());
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
    /// Linux vxlan). `nlm_flags` decide as Linux's (`netlink::fdb_add`):
    /// `add` of an existing MAC is `EEXIST`, `replace` moves a unicast
    /// one, `append` adds to the flood list only.
    pub(crate) fn fdb_add(
        &self,
        rtnl: &mut Rtnl,
        mac: [u8; 6],
        remote: IpAddr,
        nlm_flags: u16,
    ) -> Result<(), Refusal> {
        // Beyond Linux vxlan, whose FDB ndos check only the device's
        // namespace: a destination aims the host's UDP as a remote does,
        // so the underlay's CAP_NET_ADMIN is asked first, before any
        // answer says something about the tunnel.
        if mac == [0; 6] {
            self.may_change()?;
        } else {
            self.underlay_admin(
                c"adding an FDB destination to a device outside its underlay namespace needs CAP_NET_ADMIN in the underlay namespace",
            )?;
        }
        let config = self.with_state(|st| st.config);
        // Linux's vxlan_fdb_add(): a destination of the other family is a
        // bare EAFNOSUPPORT, before the entry is looked at.
        if Family::of(&remote) != config.family {
            return Err(refusal(ConfigError {
                errno: Errno::AfNotSupported,
                msg: c"",
            }));
        }
        if mac == [0; 6] {
            let mut remotes = config.remotes;
            let action = netlink::fdb_add(nlm_flags, !remotes.as_slice().is_empty(), true)
                .map_err(refusal)?;
            match action {
                FdbAdd::Nothing => return Ok(()),
                FdbAdd::Append if remotes.as_slice().contains(&remote) => return Ok(()),
                // Replace is refused for the flood entry (above).
                FdbAdd::Create | FdbAdd::Append | FdbAdd::Replace => {}
            }
            config.check_remote(&remote).map_err(refusal)?;
            if !remotes.push(remote) {
                return Err((E2BIG, c"the flood list holds at most 32 remotes"));
            }
            let change = Change {
                remotes: Some(remotes),
                ..Change::default()
            };
            return self.configure(rtnl, &change, Phase::Change).map(|_| ());
        }
        config.check_remote(&remote).map_err(refusal)?;
        if !crate::fdb::is_unicast(&mac) {
            return Err((
                EINVAL,
                c"FDB entries are for unicast MACs (00:00:00:00:00:00 is the flood list)",
            ));
        }
        self.grow_fdb();
        self.with_state(|st| {
            let exists = st.fdb.contains(&mac);
            match netlink::fdb_add(nlm_flags, exists, false).map_err(refusal)? {
                FdbAdd::Nothing | FdbAdd::Append => Ok(()),
                FdbAdd::Create | FdbAdd::Replace => st
                    .fdb
                    .add_static(mac, remote, true)
                    .map_err(|e| (e, c"the FDB is full")),
            }
        })
    }

    /// Grows the FDB by one doubling if it is getting full, allocating
    /// in process context (may sleep): for static entries, and for
    /// learning, which asks for it from softirq (`rvx_fdb_grow_schedule`)
    /// rather than allocate big storage there.
    pub(crate) fn grow_fdb(&self) {
        let Some(slots) = self.with_state(|st| st.fdb.wants_room()) else {
            return;
        };
        let Ok(new) = FdbTable::sleeping_storage(slots) else {
            return;
        };
        // Whichever storage is left over is freed here, unlocked.
        drop(self.with_state(|st| st.fdb.grow_into(new)));
    }

    /// Removes an FDB entry, or a flood-list remote (all-zeros MAC),
    /// as Linux's `__vxlan_fdb_delete()` (`netlink::fdb_del`): a `dst`
    /// the entry does not have changes nothing.
    pub(crate) fn fdb_del(
        &self,
        rtnl: &mut Rtnl,
        mac: [u8; 6],
        remote: Option<IpAddr>,
    ) -> Result<(), Refusal> {
        if mac == [0; 6] {
            let mut remotes = self.with_state(|st| st.config.remotes);
            let found = remote.is_some_and(|r| remotes.as_slice().contains(&r));
            match netlink::fdb_del(remotes.as_slice().len(), remote.is_some(), found)
                .map_err(refusal)?
            {
                FdbDel::Nothing => return Ok(()),
                FdbDel::Remote => {
                    if let Some(r) = remote {
                        remotes.remove(&r);
                    }
                }
                FdbDel::Entry => remotes = Default::default(),
            }
            let change = Change {
                remotes: Some(remotes),
                ..Change::default()
            };
            return self.configure(rtnl, &change, Phase::Change).map(|_| ());
        }
        self.recent_source.forget();
        self.with_state(|st| {
            let now = st.fdb.remote_of(&mac);
            let found = remote.is_some_and(|r| now == Some(r));
            match netlink::fdb_del(usize::from(now.is_some()), remote.is_some(), found)
                .map_err(refusal)?
            {
                FdbDel::Nothing => {}
                FdbDel::Entry | FdbDel::Remote => {
                    st.fdb.remove(&mac);
                }
            }
            Ok(())
        })
    }
}
