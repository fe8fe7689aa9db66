/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rvxlan's netlink ABI: the IFLA_INFO_DATA attributes of the "rvxlan" link
 * kind (see Documentation/uapi.rst). rust/vxlan/src/uapi.rs has the same
 * numbers for the Rust side; a host test checks that both agree.
 */
#ifndef RVXLAN_UAPI_H
#define RVXLAN_UAPI_H

enum {
	IFLA_RVXLAN_UNSPEC,
	IFLA_RVXLAN_VNI = 1,
	IFLA_RVXLAN_LOCAL = 2,
	IFLA_RVXLAN_LOCAL6 = 3,
	IFLA_RVXLAN_PORT = 4,
	IFLA_RVXLAN_PORT_RANGE = 5,
	IFLA_RVXLAN_TTL = 6,
	IFLA_RVXLAN_TOS = 7,
	IFLA_RVXLAN_DF = 8,
	IFLA_RVXLAN_LEARNING = 9,
	IFLA_RVXLAN_AGEING = 10,
	IFLA_RVXLAN_LIMIT = 11,
	IFLA_RVXLAN_REMOTES = 12,
	__IFLA_RVXLAN_MAX
};

#define IFLA_RVXLAN_MAX (__IFLA_RVXLAN_MAX - 1)

/* Inside IFLA_RVXLAN_REMOTES. */
enum {
	RVXLAN_REMOTE_UNSPEC,
	RVXLAN_REMOTE_ADDR = 1,
};

#define RVXLAN_MAX_REMOTES 32
#define RVXLAN_COUNTERS 18

#endif /* RVXLAN_UAPI_H */
