/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rvxlan's own numbers (see Documentation/rvxlan.rst). The link attributes
 * are Linux vxlan's IFLA_VXLAN_* from <linux/if_link.h>; the IFLA_RVXLAN_*
 * numbering of earlier versions is retired. rust/vxlan/src/uapi.rs and
 * netlink.rs have the same numbers for the Rust side; a host test checks
 * that they agree.
 */
#ifndef RVXLAN_UAPI_H
#define RVXLAN_UAPI_H

#define RVXLAN_MAX_REMOTES 32
#define RVXLAN_COUNTERS 18
/* Most IFLA_VXLAN_* attributes rvxlan's fill_info writes. */
#define RVXLAN_FILL_MAX 32

#endif /* RVXLAN_UAPI_H */
