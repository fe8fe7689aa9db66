/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The private area of an rvxlan net_device, shared by the two C glue
 * files: the C-owned part (kernel objects Rust cannot embed in 6.12), then
 * Rust's Tunnel.
 */
#ifndef RVXLAN_RVX_DEV_H
#define RVXLAN_RVX_DEV_H

#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/workqueue.h>
#include <net/dst_cache.h>
#include <net/gro_cells.h>

#define RVX_TUNNEL_ALIGN 16

struct rvx_dev {
	struct net_device *dev;
	/* The namespace of the tunnel socket: where the device was created.
	 * It stays when the device moves to a tenant namespace; when it
	 * dies, the device is deleted (rvx_net_exit_rtnl). Not refcounted,
	 * as in Linux vxlan.
	 */
	struct net *underlay;
	/* On rvx_devices, under RTNL, while registered. */
	struct list_head all;
	struct gro_cells gro;
	/* The route to the first remote VTEP (the common point-to-point
	 * case); reset on every configuration change.
	 */
	struct dst_cache dst_cache;
	/* Grows the FDB in process context when learning (softirq) found
	 * it full below its limit; cancelled before the tunnel is freed.
	 */
	struct work_struct fdb_grow;
	/* Whether tunnel[] holds a live Tunnel. */
	bool tunnel_live;
	u8 tunnel[] __aligned(RVX_TUNNEL_ALIGN);
};

static inline struct rvx_dev *rvx_from_tunnel(void *tunnel)
{
	return (struct rvx_dev *)((u8 *)tunnel - offsetof(struct rvx_dev, tunnel));
}

#endif /* RVXLAN_RVX_DEV_H */
