// SPDX-License-Identifier: GPL-2.0

//! Shared tunnel endpoints: one UDP socket per (underlay namespace, port,
//! family), shared by every rvxlan device configured on it, as Linux vxlan
//! shares its `vxlan_sock`. The registry counts configured devices (each
//! holds a VNI claim in the endpoint's demux table, up or down) and up
//! devices (the socket is open while there is one).

use crate::config::Family;
use crate::glue::{self, RvxEndpoint, AF_INET, AF_INET6};
use crate::rtnl::{Rtnl, RtnlCell};
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::prelude::*;

/// What identifies an endpoint.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    /// Underlay namespace.
    pub(crate) net: *mut bindings::net,
    /// UDP port.
    pub(crate) port: u16,
    /// Underlay family.
    pub(crate) family: Family,
}

#[derive(Clone, Copy)]
struct Entry {
    key: Key,
    ep: *mut RvxEndpoint,
    configured: usize,
    up: usize,
}

// SAFETY: the pointers are only used under RTNL (the registry's lock).
unsafe impl Send for Entry {}

static REGISTRY: RtnlCell<KVec<Entry>> = RtnlCell::new(KVec::new());

fn find(list: &mut KVec<Entry>, key: &Key) -> Option<usize> {
    list.iter().position(|e| e.key == *key)
}

/// Why a claim failed.
pub(crate) enum ClaimError {
    /// Another device has this VNI on this endpoint.
    Taken,
    /// Any other error.
    Other(Error),
}

/// Claims `vni` on the endpoint `key` for `tunnel` (creating the
/// endpoint if needed) and returns the endpoint.
pub(crate) fn claim(
    rtnl: &mut Rtnl,
    key: Key,
    vni: u32,
    tunnel: *mut u8,
) -> Result<*mut RvxEndpoint, ClaimError> {
    let list = REGISTRY.get(rtnl);
    let i = match find(list, &key) {
        Some(i) => i,
        None => {
            // SAFETY: plain allocation.
            let ep = unsafe { glue::rvx_endpoint_alloc() };
            if ep.is_null() {
                return Err(ClaimError::Other(ENOMEM));
            }
            let entry = Entry {
                key,
                ep,
                configured: 0,
                up: 0,
            };
            if let Err(e) = list.push(entry, GFP_KERNEL) {
                // SAFETY: fresh, unused endpoint.
                unsafe { glue::rvx_endpoint_free(ep) };
                return Err(ClaimError::Other(e.into()));
            }
            list.len() - 1
        }
    };
    let ep = list[i].ep;
    // SAFETY: `ep` is live (registered); `tunnel` outlives the claim,
    // which `unclaim` removes before the tunnel is freed.
    let rc = unsafe { glue::rvx_endpoint_claim(ep, vni, tunnel) };
    if rc != 0 {
        release_if_unused(list, i);
        return Err(if rc == EBUSY.to_errno() {
            ClaimError::Taken
        } else {
            ClaimError::Other(Error::from_errno(rc))
        });
    }
    list[i].configured += 1;
    Ok(ep)
}

/// Drops the claim on `vni` made by [`claim`].
pub(crate) fn unclaim(rtnl: &mut Rtnl, key: &Key, vni: u32) {
    let list = REGISTRY.get(rtnl);
    if let Some(i) = find(list, key) {
        // SAFETY: `ep` is live; the VNI was claimed by the caller.
        unsafe { glue::rvx_endpoint_unclaim(list[i].ep, vni) };
        list[i].configured -= 1;
        release_if_unused(list, i);
    }
}

fn release_if_unused(list: &mut KVec<Entry>, i: usize) {
    if list[i].configured == 0 && list[i].up == 0 {
        let ep = list[i].ep;
        let last = list.len() - 1;
        list.as_mut_slice().swap(i, last);
        // SAFETY: shrinks by one; the dropped element is `Copy` (nothing
        // to drop) and was moved to the end.
        unsafe { list.set_len(last) };
        // SAFETY: no claim, socket closed: nothing refers to it.
        unsafe { glue::rvx_endpoint_free(ep) };
    }
}

/// A device on `key` goes up: the socket opens with the first.
pub(crate) fn up(rtnl: &mut Rtnl, key: &Key) -> Result {
    let list = REGISTRY.get(rtnl);
    let i = find(list, key).ok_or(EINVAL)?;
    if list[i].up == 0 {
        let family = match key.family {
            Family::V4 => AF_INET,
            Family::V6 => AF_INET6,
        };
        // SAFETY: `ep` is live with its socket closed; `net` is the
        // live underlay namespace of a configured device.
        kernel::error::to_result(unsafe {
            glue::rvx_endpoint_open(list[i].ep, key.net, family, key.port)
        })?;
    }
    list[i].up += 1;
    Ok(())
}

/// Makes the device holding the claim on `vni` reachable by receive (it
/// is up).
pub(crate) fn publish(_rtnl: &mut Rtnl, ep: *mut RvxEndpoint, vni: u32, tunnel: *mut u8) {
    // SAFETY: `ep` is live while claimed (RTNL held, the caller holds the
    // claim); `tunnel` lives until after `unclaim` and a grace period.
    unsafe { glue::rvx_endpoint_publish(ep, vni, tunnel) };
}

/// Makes it unreachable again (it goes down), keeping the claim.
pub(crate) fn unpublish(_rtnl: &mut Rtnl, ep: *mut RvxEndpoint, vni: u32) {
    // SAFETY: as in `publish`.
    unsafe { glue::rvx_endpoint_unpublish(ep, vni) };
}

/// A device on `key` goes down: the socket closes with the last.
pub(crate) fn down(rtnl: &mut Rtnl, key: &Key) {
    let list = REGISTRY.get(rtnl);
    if let Some(i) = find(list, key) {
        list[i].up -= 1;
        if list[i].up == 0 {
            // SAFETY: the socket is open (it was up); this waits for
            // receivers to leave.
            unsafe { glue::rvx_endpoint_close(list[i].ep) };
        }
        release_if_unused(list, i);
    }
}

/// Frees the registry's own storage once the last endpoint is gone (at
/// module unload, after every device was deleted).
pub(crate) fn shutdown(rtnl: &mut Rtnl) {
    let list = REGISTRY.get(rtnl);
    if list.is_empty() {
        *list = KVec::new();
    }
}
