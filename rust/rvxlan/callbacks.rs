// SPDX-License-Identifier: GPL-2.0

//! The functions the C glue calls (declared in `glue.h`): the unsafe edge
//! where raw pointers become references. Each checks nothing the C side
//! guarantees and states what it relies on.

use crate::glue::{self, RvxAddr, RvxFdbEntry, RvxRequest, RvxTxFrame};
use crate::header::HEADER_LEN;
use crate::netlink::{self, At, AttrError, Nla, Request, FILL_MAX, SLOTS};
use crate::rtnl::Rtnl;
use crate::skb::Skb;
use crate::tunnel::{Phase, Refusal, Tunnel};
use crate::uapi::{COUNTERS, COUNTER_NAMES};
use core::ffi::{c_char, c_int, c_long};
use kernel::bindings;
use kernel::init::PinInit;
use kernel::prelude::*;

/// # Safety
///
/// `tunnel` points at a live `Tunnel` (between `rvxlan_tunnel_init` and
/// `rvxlan_tunnel_drop`).
unsafe fn tunnel<'a>(tunnel: *mut u8) -> &'a Tunnel {
    // SAFETY: guaranteed by the caller.
    unsafe { &*tunnel.cast::<Tunnel>() }
}

/// Hands the refusal's message to the C caller and returns its errno.
///
/// # Safety
///
/// `msg` is valid for a write (the C caller's out-pointer).
unsafe fn refuse(r: Refusal, msg: *mut *const c_char) -> c_int {
    // An empty message is none: Linux answers some refusals with a bare
    // errno ("RTNETLINK answers: File exists"), and so must rvxlan.
    if !r.1.is_empty() {
        // SAFETY: valid for a write (caller); the message is `'static`,
        // so the netlink ack may keep the pointer.
        unsafe { *msg = r.1.as_ptr() };
    }
    r.0.to_errno()
}

/// Initialises the tunnel in a new device's private area.
///
/// # Safety
///
/// `tunnel` is the uninitialised, suitably aligned tunnel area of a
/// device that is not registered yet, at least `size_of::<Tunnel>()`
/// bytes. RTNL is held.
#[no_mangle]
unsafe extern "C" fn rvxlan_tunnel_init(tunnel: *mut u8, _dev: *mut bindings::net_device) -> c_int {
    let init = match Tunnel::new() {
        Ok(init) => init,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: the area is valid, aligned and never moves (the private
    // area of a net_device); on error nothing was initialised.
    match unsafe { init.__pinned_init(tunnel.cast::<Tunnel>()) } {
        Ok(()) => 0,
        Err(never) => match never {},
    }
}

/// Gives up the tunnel's VNI and socket (device unregistering).
///
/// # Safety
///
/// `tunnel` is live; RTNL is held.
#[no_mangle]
unsafe extern "C" fn rvxlan_tunnel_detach(tunnel_ptr: *mut u8) {
    // SAFETY: RTNL is held (caller).
    let mut rtnl = unsafe { Rtnl::assume_held() };
    // SAFETY: live (caller).
    unsafe { tunnel(tunnel_ptr) }.detach(&mut rtnl);
}

/// Frees the tunnel.
///
/// # Safety
///
/// `tunnel` is live and detached, and no receiver can reach it any more
/// (a grace period passed since the detach); nothing uses it afterwards.
#[no_mangle]
unsafe extern "C" fn rvxlan_tunnel_drop(tunnel: *mut u8) {
    // SAFETY: guaranteed by the caller.
    unsafe { core::ptr::drop_in_place(tunnel.cast::<Tunnel>()) };
}

/// The request `r` points into, as the pure rules read it.
///
/// # Safety
///
/// Each non-null `r.data[i]` points at `r.len[i]` readable bytes, and a
/// non-null `r.address` at `r.address_len`, for `'a` (the netlink
/// message being handled).
unsafe fn request<'a>(r: &'a RvxRequest) -> Request<'a> {
    let slice = |p: *const u8, len: u16| {
        // SAFETY: readable for `len` bytes while the message lives
        // (caller).
        (!p.is_null()).then(|| unsafe { core::slice::from_raw_parts(p, usize::from(len)) })
    };
    let mut data = [None; SLOTS];
    for (i, d) in data.iter_mut().enumerate() {
        *d = slice(r.data[i], r.len[i]);
    }
    Request {
        data: (r.has_data != 0).then_some(data),
        address: slice(r.address, r.address_len),
        mtu: (r.has_mtu != 0).then_some(r.mtu),
        kind_vxlan: r.kind_vxlan != 0,
    }
}

/// Hands an attribute refusal to the C caller: message, bad attribute,
/// errno.
///
/// # Safety
///
/// `msg` and `bad` are valid for writes.
unsafe fn refuse_attr(e: AttrError, msg: *mut *const c_char, bad: *mut u32) -> c_int {
    let at = match e.at {
        At::Nothing => 0,
        At::Data(t) => u32::from(t),
        At::Address => glue::RVX_BAD_ADDRESS,
        At::Mtu => glue::RVX_BAD_MTU,
    };
    // SAFETY: valid for writes (caller).
    unsafe { *bad = at };
    // SAFETY: valid for a write (caller).
    unsafe { refuse(crate::tunnel::refusal(e.error), msg) }
}

/// `rtnl_link_ops.validate`.
///
/// # Safety
///
/// `req` is valid as [`request`] says; `msg` and `bad` are valid for
/// writes.
#[no_mangle]
unsafe extern "C" fn rvxlan_validate(
    req: *const RvxRequest,
    msg: *mut *const c_char,
    bad: *mut u32,
) -> c_int {
    // SAFETY: valid (caller).
    let req = unsafe { request(&*req) };
    match netlink::validate(&req) {
        Ok(()) => 0,
        // SAFETY: valid for writes (caller).
        Err(e) => unsafe { refuse_attr(e, msg, bad) },
    }
}

/// Applies a configuration change from netlink, or refuses it whole.
///
/// # Safety
///
/// `tunnel` is live; `req` is valid as [`request`] says; `mtu`, `msg`
/// and `bad` are valid for writes; RTNL is held. `creating` is true only
/// for the first configuration, from `newlink`, before the device is
/// registered.
#[no_mangle]
unsafe extern "C" fn rvxlan_configure(
    tunnel_ptr: *mut u8,
    req: *const RvxRequest,
    creating: bool,
    mtu: *mut u32,
    msg: *mut *const c_char,
    bad: *mut u32,
) -> c_int {
    // SAFETY: RTNL is held (caller).
    let mut rtnl = unsafe { Rtnl::assume_held() };
    // SAFETY: valid (caller).
    let req = unsafe { request(&*req) };
    // SAFETY: live (caller).
    let t = unsafe { tunnel(tunnel_ptr) };
    let phase = if creating {
        Phase::Create
    } else {
        // As vxlan_changelink(): who may change the device is checked
        // before what is asked.
        if let Err(r) = t.may_change() {
            // SAFETY: `msg` is valid for writes (caller).
            return unsafe { refuse(r, msg) };
        }
        Phase::Change
    };
    let current = (!creating).then(|| t.with_state(|st| st.config));
    let change = match netlink::change(&req, current.as_ref()) {
        Ok(c) => c,
        // SAFETY: valid for writes (caller).
        Err(e) => return unsafe { refuse_attr(e, msg, bad) },
    };
    match t.configure(&mut rtnl, &change, phase) {
        Ok(m) => {
            // SAFETY: valid for writes (caller).
            unsafe { *mtu = m };
            0
        }
        // SAFETY: `msg` is valid for writes (caller).
        Err(r) => unsafe { refuse(r, msg) },
    }
}

/// The attributes `fill_info` writes, into `out`; returns how many.
///
/// # Safety
///
/// `tunnel` is live; `out` has room for `RVXLAN_FILL_MAX` entries.
#[no_mangle]
unsafe extern "C" fn rvxlan_fill(tunnel_ptr: *mut u8, out: *mut Nla) -> u32 {
    // SAFETY: room for FILL_MAX entries (caller).
    let out = unsafe { &mut *out.cast::<[Nla; FILL_MAX]>() };
    // SAFETY: live (caller).
    let c = unsafe { tunnel(tunnel_ptr) }.with_state(|st| st.config);
    netlink::fill(&c, out) as u32
}

/// `ndo_open`.
///
/// # Safety
///
/// `tunnel` is live; RTNL is held.
#[no_mangle]
unsafe extern "C" fn rvxlan_open(tunnel_ptr: *mut u8) -> c_int {
    // SAFETY: RTNL is held (caller).
    let mut rtnl = unsafe { Rtnl::assume_held() };
    // SAFETY: live (caller).
    match unsafe { tunnel(tunnel_ptr) }.up(&mut rtnl) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `ndo_stop`.
///
/// # Safety
///
/// `tunnel` is live; RTNL is held.
#[no_mangle]
unsafe extern "C" fn rvxlan_stop(tunnel_ptr: *mut u8) {
    // SAFETY: RTNL is held (caller).
    let mut rtnl = unsafe { Rtnl::assume_held() };
    // SAFETY: live (caller).
    unsafe { tunnel(tunnel_ptr) }.down(&mut rtnl);
}

/// `ndo_start_xmit`, after the glue made the Ethernet header linear.
///
/// # Safety
///
/// `tunnel` is live in an up device; `skb` is owned by this call;
/// `frame.eth` points at the skb's at least 14 linear bytes.
#[no_mangle]
unsafe extern "C" fn rvxlan_xmit(
    skb: *mut bindings::sk_buff,
    tunnel_ptr: *mut u8,
    frame: *const RvxTxFrame,
) {
    // SAFETY: owned by this call (caller).
    let Some(skb) = (unsafe { Skb::from_raw(skb) }) else {
        return;
    };
    // SAFETY: valid (caller).
    let frame = unsafe { &*frame };
    let mut dst = [0u8; 6];
    // SAFETY: `eth` has at least 14 readable bytes (caller).
    dst.copy_from_slice(unsafe { core::slice::from_raw_parts(frame.eth, 6) });
    // SAFETY: live (caller).
    unsafe { tunnel(tunnel_ptr) }.xmit(skb, frame, &dst);
}

/// Classifies a received VXLAN header.
///
/// # Safety
///
/// `hdr` points at 8 readable bytes.
#[no_mangle]
unsafe extern "C" fn rvxlan_rx_header(hdr: *const u8) -> c_long {
    // SAFETY: 8 readable bytes (caller).
    let hdr = unsafe { &*hdr.cast::<[u8; HEADER_LEN]>() };
    crate::datapath::classify_header(hdr) as c_long
}

/// Judges a decapsulated frame: 0 to deliver it, else why it is dropped
/// (`RVX_RX_DROP_*`).
///
/// # Safety
///
/// `tunnel` is live; `eth` points at 14 readable bytes and `own_mac` at
/// 6; `src` is valid.
#[no_mangle]
unsafe extern "C" fn rvxlan_rx_frame(
    tunnel_ptr: *mut u8,
    eth: *const u8,
    own_mac: *const u8,
    len: u32,
    mtu: u32,
    gso: u8,
    src: *const RvxAddr,
) -> c_int {
    // SAFETY: readable as stated (caller).
    let (eth, own_mac, src) =
        unsafe { (&*eth.cast::<[u8; 14]>(), &*own_mac.cast::<[u8; 6]>(), &*src) };
    // The glue always gives the outer source an address family.
    let Some(src) = src.get() else {
        return glue::RVX_RX_DROP_OWN_SOURCE;
    };
    // SAFETY: live (caller).
    match unsafe { tunnel(tunnel_ptr) }.receive(eth, own_mac, len, mtu, gso != 0, src) {
        Ok(()) => 0,
        Err(crate::datapath::RxDrop::TooBig) => glue::RVX_RX_DROP_TOO_BIG,
        Err(crate::datapath::RxDrop::OwnSource) => glue::RVX_RX_DROP_OWN_SOURCE,
    }
}

/// Adds one to device counter `counter`.
///
/// # Safety
///
/// `tunnel` is live.
#[no_mangle]
unsafe extern "C" fn rvxlan_count(tunnel_ptr: *mut u8, counter: u32) {
    use crate::uapi::Counter;
    let c = match counter {
        4 => Counter::RxReservedBits,
        5 => Counter::RxInnerTooShort,
        8 => Counter::RxDeviceDown,
        13 => Counter::RxEcnCeNotEct,
        _ => return,
    };
    // SAFETY: live (caller).
    unsafe { tunnel(tunnel_ptr) }.count(c);
}

/// All counters, in uapi order.
///
/// # Safety
///
/// `tunnel` is live; `out` has room for `RVXLAN_COUNTERS` values.
/// `with_socket`: whether to include the shared endpoint's counters,
/// which count every tenant's unattributable frames (the glue gives them
/// only to a device in its underlay namespace).
#[no_mangle]
unsafe extern "C" fn rvxlan_counters(tunnel_ptr: *mut u8, out: *mut u64, with_socket: bool) {
    // SAFETY: room for COUNTERS values (caller).
    let out = unsafe { &mut *out.cast::<[u64; COUNTERS]>() };
    // SAFETY: live (caller).
    unsafe { tunnel(tunnel_ptr) }.counters(out, with_socket);
}

/// The name of counter `counter` (`ethtool -S`).
#[no_mangle]
extern "C" fn rvxlan_counter_name(counter: u32) -> *const c_char {
    COUNTER_NAMES
        .get(counter as usize)
        .map_or(c"".as_ptr(), |c| c.as_ptr())
}

/// Grows the FDB (the work item learning schedules).
///
/// # Safety
///
/// `tunnel` is live; process context.
#[no_mangle]
unsafe extern "C" fn rvxlan_fdb_grow(tunnel_ptr: *mut u8) {
    // SAFETY: live (caller).
    unsafe { tunnel(tunnel_ptr) }.grow_fdb();
}

/// `ndo_fdb_add`.
///
/// # Safety
///
/// `tunnel` is live; `mac` points at 6 bytes; `remote` and `msg` are
/// valid; RTNL is held.
#[no_mangle]
unsafe extern "C" fn rvxlan_fdb_add(
    tunnel_ptr: *mut u8,
    mac: *const u8,
    remote: *const RvxAddr,
    nlm_flags: u16,
    msg: *mut *const c_char,
) -> c_int {
    // SAFETY: RTNL is held (caller).
    let mut rtnl = unsafe { Rtnl::assume_held() };
    // SAFETY: valid (caller).
    let (mac, remote) = unsafe { (*mac.cast::<[u8; 6]>(), (*remote).get()) };
    let Some(remote) = remote else {
        return EINVAL.to_errno();
    };
    // SAFETY: live (caller).
    match unsafe { tunnel(tunnel_ptr) }.fdb_add(&mut rtnl, mac, remote, nlm_flags) {
        Ok(()) => 0,
        // SAFETY: `msg` is valid for writes (caller).
        Err(r) => unsafe { refuse(r, msg) },
    }
}

/// `ndo_fdb_del`.
///
/// # Safety
///
/// `tunnel` is live; `mac` points at 6 bytes; `remote` and `msg` are
/// valid; RTNL is held.
#[no_mangle]
unsafe extern "C" fn rvxlan_fdb_del(
    tunnel_ptr: *mut u8,
    mac: *const u8,
    remote: *const RvxAddr,
    msg: *mut *const c_char,
) -> c_int {
    // SAFETY: RTNL is held (caller).
    let mut rtnl = unsafe { Rtnl::assume_held() };
    // SAFETY: valid (caller).
    let (mac, remote) = unsafe { (*mac.cast::<[u8; 6]>(), (*remote).get()) };
    // SAFETY: live (caller).
    match unsafe { tunnel(tunnel_ptr) }.fdb_del(&mut rtnl, mac, remote) {
        Ok(()) => 0,
        // SAFETY: `msg` is valid for writes (caller).
        Err(r) => unsafe { refuse(r, msg) },
    }
}

/// The dump entry at or after position `pos` (flood-list remotes first,
/// then FDB slots) into `out`; returns the next position, or -1 at the
/// end.
///
/// # Safety
///
/// `tunnel` is live; `out` is valid for writes.
#[no_mangle]
unsafe extern "C" fn rvxlan_fdb_get(
    tunnel_ptr: *mut u8,
    pos: c_long,
    out: *mut RvxFdbEntry,
) -> c_long {
    // SAFETY: plain clock read.
    let now = unsafe { glue::rvx_now_ms() };
    // SAFETY: live (caller).
    let found = unsafe { tunnel(tunnel_ptr) }.with_state(|st| {
        let remotes = st.config.remotes;
        let n = remotes.as_slice().len();
        let mut pos = usize::try_from(pos).ok()?;
        if let Some(r) = remotes.as_slice().get(pos) {
            return Some((pos + 1, [0; 6], true, true, 0, *r));
        }
        let ageing_ms = u64::from(st.config.ageing) * 1000;
        loop {
            match st.fdb.slot(pos - n) {
                (Some(e), _) => {
                    let is_static = e.origin == crate::fdb::Origin::Static;
                    let idle = if is_static {
                        0
                    } else {
                        now.saturating_sub(e.updated)
                    };
                    // Aged entries no longer forward; they are not shown
                    // either, though the next sweep has yet to free them.
                    if !is_static && ageing_ms != 0 && idle > ageing_ms {
                        pos += 1;
                        continue;
                    }
                    return Some((pos + 1, e.mac, is_static, false, idle, e.remote));
                }
                (None, true) => pos += 1,
                (None, false) => return None,
            }
        }
    });
    let Some((next, mac, is_static, is_remote, idle, remote)) = found else {
        return -1;
    };
    let entry = RvxFdbEntry {
        mac,
        is_static: u8::from(is_static),
        is_remote: u8::from(is_remote),
        idle_ms: u32::try_from(idle).unwrap_or(u32::MAX),
        remote: RvxAddr::from_ip(Some(&remote)),
    };
    // SAFETY: valid for writes (caller).
    unsafe { out.write(entry) };
    next as c_long
}
