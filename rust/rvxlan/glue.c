// SPDX-License-Identifier: GPL-2.0
/*
 * C glue of rvxlan.ko, control plane: the rtnl link kind (netlink policy,
 * attribute parsing and filling), net_device and ethtool ops, the FDB
 * ndos behind `bridge fdb`, and the pernet hook that deletes devices whose
 * underlay namespace dies. Every decision is Rust's (see glue.h); this
 * file hands netlink attributes to Rust and writes back what Rust says.
 */
#include <linux/capability.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <net/neighbour.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/rtnetlink.h>

#include "glue.h"
#include "rvx_dev.h"

static u32 rvx_max_mtu __read_mostly;
static size_t rvx_tunnel_size __read_mostly;
/* Every registered rvxlan device, in any namespace; under RTNL. */
static LIST_HEAD(rvx_devices);

static void *rvx_tunnel(const struct net_device *dev)
{
	return ((struct rvx_dev *)netdev_priv(dev))->tunnel;
}

static int rvx_ndo_init(struct net_device *dev)
{
	struct rvx_dev *rd = netdev_priv(dev);
	int err;

	err = gro_cells_init(&rd->gro, dev);
	if (err)
		return err;
	err = dst_cache_init(&rd->dst_cache, GFP_KERNEL);
	if (err)
		gro_cells_destroy(&rd->gro);
	return err;
}

static void rvx_ndo_uninit(struct net_device *dev)
{
	struct rvx_dev *rd = netdev_priv(dev);

	if (!list_empty(&rd->all))
		list_del_init(&rd->all);
	/* Unhooks the VNI from the shared socket. In-flight receives may
	 * still hold the device; the core's synchronize_net() after
	 * ndo_uninit covers them before rvx_destructor frees the tunnel.
	 */
	rvxlan_tunnel_detach(rd->tunnel);
	dst_cache_destroy(&rd->dst_cache);
	gro_cells_destroy(&rd->gro);
}

static void rvx_destructor(struct net_device *dev)
{
	struct rvx_dev *rd = netdev_priv(dev);

	/* No receiver is left to schedule it again (a grace period passed
	 * since the VNI was unpublished).
	 */
	cancel_work_sync(&rd->fdb_grow);
	if (rd->tunnel_live) {
		rvxlan_tunnel_drop(rd->tunnel);
		rd->tunnel_live = false;
	}
}

static int rvx_ndo_open(struct net_device *dev)
{
	int err = rvxlan_open(rvx_tunnel(dev));

	if (!err)
		netif_carrier_on(dev);
	return err;
}

static int rvx_ndo_stop(struct net_device *dev)
{
	netif_carrier_off(dev);
	rvxlan_stop(rvx_tunnel(dev));
	return 0;
}

static netdev_tx_t rvx_ndo_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct rvx_tx_frame frame;

	if (!pskb_may_pull(skb, ETH_HLEN)) {
		rvx_tx_dropped(dev);
		kfree_skb(skb);
		return NETDEV_TX_OK;
	}
	frame.eth = skb->data;
	frame.len = skb->len;
	frame.hash = skb_get_hash(skb);
	frame.mtu = READ_ONCE(dev->mtu);
	frame.gso = skb_is_gso(skb);
	rvxlan_xmit(skb, rvx_tunnel(dev), &frame);
	return NETDEV_TX_OK;
}

/* A refusal's message from the Rust side: a static string (the ack keeps
 * the pointer), so NL_SET_ERR_MSG's literal-only form is not needed.
 */
static void rvx_set_msg(struct netlink_ext_ack *extack, const char *msg)
{
	if (extack)
		extack->_msg = msg;
}

static bool rvx_addr_from_nla(struct rvx_addr *a, const struct nlattr *nla)
{
	memset(a, 0, sizeof(*a));
	if (nla_len(nla) == sizeof(struct in_addr))
		a->family = AF_INET;
	else if (nla_len(nla) == sizeof(struct in6_addr))
		a->family = AF_INET6;
	else
		return false;
	memcpy(a->addr, nla_data(nla), nla_len(nla));
	return true;
}

static int rvx_put_addr(struct sk_buff *skb, int type, const struct rvx_addr *a)
{
	return nla_put(skb, type, a->family == AF_INET ? 4 : 16, a->addr);
}

/* FDB: `bridge fdb add MAC dev vx0 dst IP` (the all-zeros MAC adds a
 * flood-list remote, as with Linux vxlan). RTNL held.
 */
static int rvx_fdb_add(struct ndmsg *ndm, struct nlattr *tb[], struct net_device *dev,
		       const unsigned char *addr, u16 vid, u16 flags,
		       struct netlink_ext_ack *extack)
{
	const char *msg = NULL;
	struct rvx_addr remote;
	int err;

	if (!(ndm->ndm_state & (NUD_PERMANENT | NUD_NOARP))) {
		NL_SET_ERR_MSG(extack, "rvxlan FDB entries are static (permanent)");
		return -EINVAL;
	}
	if (vid) {
		NL_SET_ERR_MSG(extack, "rvxlan has no VLAN-aware FDB");
		return -EINVAL;
	}
	/* As Linux's vxlan_fdb_add() and vxlan_nla_get_addr(): no dst is a
	 * bare -EINVAL, one of another length -EAFNOSUPPORT.
	 */
	if (!tb[NDA_DST])
		return -EINVAL;
	if (!rvx_addr_from_nla(&remote, tb[NDA_DST])) {
		NL_SET_ERR_MSG(extack, "Unsupported address family");
		return -EAFNOSUPPORT;
	}
	if (tb[NDA_PORT] || tb[NDA_VNI] || tb[NDA_IFINDEX] || tb[NDA_NH_ID]) {
		NL_SET_ERR_MSG(extack, "per-entry port, VNI, via and nexthop are not supported");
		return -EOPNOTSUPP;
	}
	err = rvxlan_fdb_add(rvx_tunnel(dev), addr, &remote, flags, &msg);
	if (err && msg)
		rvx_set_msg(extack, msg);
	return err;
}

static int rvx_fdb_del(struct ndmsg *ndm, struct nlattr *tb[], struct net_device *dev,
		       const unsigned char *addr, u16 vid, struct netlink_ext_ack *extack)
{
	struct rvx_addr remote = {};
	const char *msg = NULL;
	int err;

	if (tb[NDA_DST] && !rvx_addr_from_nla(&remote, tb[NDA_DST])) {
		NL_SET_ERR_MSG(extack, "bad dst address");
		return -EINVAL;
	}
	err = rvxlan_fdb_del(rvx_tunnel(dev), addr, &remote, &msg);
	if (err && msg)
		rvx_set_msg(extack, msg);
	return err;
}

static int rvx_fdb_fill(struct sk_buff *skb, struct net_device *dev, u32 portid, u32 seq,
			const struct rvx_fdb_entry *e)
{
	struct rvx_dev *rd = netdev_priv(dev);
	struct nda_cacheinfo ci = {};
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	nlh = nlmsg_put(skb, portid, seq, RTM_NEWNEIGH, sizeof(*ndm), NLM_F_MULTI);
	if (!nlh)
		return -EMSGSIZE;
	ndm = nlmsg_data(nlh);
	memset(ndm, 0, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	ndm->ndm_state = e->is_static ? NUD_PERMANENT : NUD_REACHABLE;
	ndm->ndm_ifindex = dev->ifindex;
	ndm->ndm_flags = NTF_SELF;
	ndm->ndm_type = RTN_UNICAST;
	ci.ndm_used = jiffies_to_clock_t(msecs_to_jiffies(e->idle_ms));
	ci.ndm_updated = ci.ndm_used;
	if (!net_eq(dev_net(dev), rd->underlay) &&
	    nla_put_s32(skb, NDA_LINK_NETNSID, peernet2id(dev_net(dev), rd->underlay)))
		goto fail;
	if (nla_put(skb, NDA_LLADDR, ETH_ALEN, e->mac) ||
	    rvx_put_addr(skb, NDA_DST, &e->remote) ||
	    nla_put(skb, NDA_CACHEINFO, sizeof(ci), &ci))
		goto fail;
	nlmsg_end(skb, nlh);
	return 0;
fail:
	nlmsg_cancel(skb, nlh);
	return -EMSGSIZE;
}

static int rvx_fdb_dump(struct sk_buff *skb, struct netlink_callback *cb, struct net_device *dev,
			struct net_device *filter_dev, int *idx)
{
	struct rvx_fdb_entry e;
	long pos = 0;
	int err;

	while ((pos = rvxlan_fdb_get(rvx_tunnel(dev), pos, &e)) >= 0) {
		if (*idx >= cb->args[2]) {
			err = rvx_fdb_fill(skb, dev, NETLINK_CB(cb->skb).portid,
					   cb->nlh->nlmsg_seq, &e);
			if (err)
				return err;
		}
		*idx += 1;
	}
	return 0;
}

static void rvx_fdb_grow_work(struct work_struct *work)
{
	struct rvx_dev *rd = container_of(work, struct rvx_dev, fdb_grow);

	rvxlan_fdb_grow(rd->tunnel);
}

void rvx_fdb_grow_schedule(void *tunnel)
{
	schedule_work(&rvx_from_tunnel(tunnel)->fdb_grow);
}

static const struct net_device_ops rvx_netdev_ops = {
	.ndo_init = rvx_ndo_init,
	.ndo_uninit = rvx_ndo_uninit,
	.ndo_open = rvx_ndo_open,
	.ndo_stop = rvx_ndo_stop,
	.ndo_start_xmit = rvx_ndo_start_xmit,
	.ndo_get_stats64 = dev_get_tstats64,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
	.ndo_fdb_add = rvx_fdb_add,
	.ndo_fdb_del = rvx_fdb_del,
	.ndo_fdb_dump = rvx_fdb_dump,
};

static void rvx_get_drvinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	strscpy(info->driver, "rvxlan", sizeof(info->driver));
}

static int rvx_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? RVXLAN_COUNTERS : -EOPNOTSUPP;
}

static void rvx_get_strings(struct net_device *dev, u32 sset, u8 *buf)
{
	u32 i;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < RVXLAN_COUNTERS; i++)
		ethtool_puts(&buf, rvxlan_counter_name(i));
}

/* The shared endpoint's counters count every tenant's unattributable
 * frames (unknown VNIs, VNIs of down devices): the underlay's business,
 * shown only on a device that lives there. A device moved into a tenant
 * namespace reports them as 0, whoever asks (link notifications carry
 * them to every listener of that namespace).
 */
static bool rvx_socket_counters_shown(const struct net_device *dev)
{
	return net_eq(dev_net(dev), ((struct rvx_dev *)netdev_priv(dev))->underlay);
}

static void rvx_get_ethtool_stats(struct net_device *dev, struct ethtool_stats *stats, u64 *data)
{
	rvxlan_counters(rvx_tunnel(dev), data, rvx_socket_counters_shown(dev));
}

static const struct ethtool_ops rvx_ethtool_ops = {
	.get_drvinfo = rvx_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_sset_count = rvx_get_sset_count,
	.get_strings = rvx_get_strings,
	.get_ethtool_stats = rvx_get_ethtool_stats,
};

/* Offloads as Linux vxlan: the stack hands over large TCP segments and
 * partial checksums, which udp_tunnel_xmit_skb() resolves (GSO with the
 * UDP tunnel type) at the underlay device.
 */
#define RVX_FEATURES (NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_RXCSUM | NETIF_F_FRAGLIST | \
		      NETIF_F_GSO_SOFTWARE)

static void rvx_setup(struct net_device *dev)
{
	struct rvx_dev *rd = netdev_priv(dev);

	ether_setup(dev);
	dev->netdev_ops = &rvx_netdev_ops;
	dev->ethtool_ops = &rvx_ethtool_ops;
	dev->needs_free_netdev = true;
	dev->priv_destructor = rvx_destructor;
	dev->priv_flags |= IFF_LIVE_ADDR_CHANGE | IFF_NO_QUEUE;
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	dev->lltx = true;
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	dev->features |= RVX_FEATURES;
	dev->hw_features |= RVX_FEATURES;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = rvx_max_mtu;
	eth_hw_addr_random(dev);
	INIT_WORK(&rd->fdb_grow, rvx_fdb_grow_work);
	rd->dev = dev;
	INIT_LIST_HEAD(&rd->all);
}

/*
 * Linux 6.12 vxlan's policy (drivers/net/vxlan/vxlan_core.c vxlan_policy),
 * verbatim: rtnetlink then checks types and lengths as it does for Linux
 * vxlan (IFLA_INFO_DATA is parsed liberally: a u8 attribute longer than a
 * byte only warns, a shorter one is refused), so the same malformed
 * request gets the same answer. The values are judged in Rust
 * (rust/vxlan/src/netlink.rs), which refuses what rvxlan does not do.
 */
static const struct nla_policy rvx_policy[IFLA_VXLAN_MAX + 1] = {
	[IFLA_VXLAN_UNSPEC]     = { .strict_start_type = IFLA_VXLAN_LOCALBYPASS },
	[IFLA_VXLAN_ID]		= { .type = NLA_U32 },
	[IFLA_VXLAN_GROUP]	= { .len = sizeof_field(struct iphdr, daddr) },
	[IFLA_VXLAN_GROUP6]	= { .len = sizeof(struct in6_addr) },
	[IFLA_VXLAN_LINK]	= { .type = NLA_U32 },
	[IFLA_VXLAN_LOCAL]	= { .len = sizeof_field(struct iphdr, saddr) },
	[IFLA_VXLAN_LOCAL6]	= { .len = sizeof(struct in6_addr) },
	[IFLA_VXLAN_TOS]	= { .type = NLA_U8 },
	[IFLA_VXLAN_TTL]	= { .type = NLA_U8 },
	[IFLA_VXLAN_LABEL]	= { .type = NLA_U32 },
	[IFLA_VXLAN_LEARNING]	= { .type = NLA_U8 },
	[IFLA_VXLAN_AGEING]	= { .type = NLA_U32 },
	[IFLA_VXLAN_LIMIT]	= { .type = NLA_U32 },
	[IFLA_VXLAN_PORT_RANGE] = { .len  = sizeof(struct ifla_vxlan_port_range) },
	[IFLA_VXLAN_PROXY]	= { .type = NLA_U8 },
	[IFLA_VXLAN_RSC]	= { .type = NLA_U8 },
	[IFLA_VXLAN_L2MISS]	= { .type = NLA_U8 },
	[IFLA_VXLAN_L3MISS]	= { .type = NLA_U8 },
	[IFLA_VXLAN_COLLECT_METADATA]	= { .type = NLA_U8 },
	[IFLA_VXLAN_PORT]	= { .type = NLA_U16 },
	[IFLA_VXLAN_UDP_CSUM]	= { .type = NLA_U8 },
	[IFLA_VXLAN_UDP_ZERO_CSUM6_TX]	= { .type = NLA_U8 },
	[IFLA_VXLAN_UDP_ZERO_CSUM6_RX]	= { .type = NLA_U8 },
	[IFLA_VXLAN_REMCSUM_TX]	= { .type = NLA_U8 },
	[IFLA_VXLAN_REMCSUM_RX]	= { .type = NLA_U8 },
	[IFLA_VXLAN_GBP]	= { .type = NLA_FLAG, },
	[IFLA_VXLAN_GPE]	= { .type = NLA_FLAG, },
	[IFLA_VXLAN_REMCSUM_NOPARTIAL]	= { .type = NLA_FLAG },
	[IFLA_VXLAN_TTL_INHERIT]	= { .type = NLA_FLAG },
	[IFLA_VXLAN_DF]		= { .type = NLA_U8 },
	[IFLA_VXLAN_VNIFILTER]	= { .type = NLA_U8 },
	[IFLA_VXLAN_LOCALBYPASS]	= NLA_POLICY_MAX(NLA_U8, 1),
	[IFLA_VXLAN_LABEL_POLICY]       = NLA_POLICY_MAX(NLA_U32, VXLAN_LABEL_MAX),
};

/* Registered as kind "vxlan" (the kind module parameter, below). */
static bool rvx_kind_vxlan __read_mostly;

/* tb/data → struct rvx_request: pointers and lengths only. */
static void rvx_request(struct rvx_request *req, struct nlattr *tb[], struct nlattr *data[])
{
	int i;

	memset(req, 0, sizeof(*req));
	req->kind_vxlan = rvx_kind_vxlan;
	if (tb[IFLA_ADDRESS]) {
		req->address = nla_data(tb[IFLA_ADDRESS]);
		req->address_len = nla_len(tb[IFLA_ADDRESS]);
	}
	if (tb[IFLA_MTU]) {
		req->has_mtu = 1;
		req->mtu = nla_get_u32(tb[IFLA_MTU]);
	}
	if (!data)
		return;
	req->has_data = 1;
	for (i = 1; i < RVX_VXLAN_SLOTS; i++) {
		if (data[i]) {
			req->data[i] = nla_data(data[i]);
			req->len[i] = nla_len(data[i]);
		}
	}
}

/* A refusal's message and bad attribute from the Rust side. The message
 * is a static string (the ack keeps the pointer), so NL_SET_ERR_MSG's
 * literal-only form is not needed.
 */
static void rvx_refusal(struct netlink_ext_ack *extack, const char *msg, u32 bad,
			struct nlattr *tb[], struct nlattr *data[])
{
	if (!extack)
		return;
	if (msg)
		extack->_msg = msg;
	if (bad == RVX_BAD_ADDRESS)
		extack->bad_attr = tb[IFLA_ADDRESS];
	else if (bad == RVX_BAD_MTU)
		extack->bad_attr = tb[IFLA_MTU];
	else if (data && bad > 0 && bad < RVX_VXLAN_SLOTS)
		extack->bad_attr = data[bad];
}

static int rvx_validate(struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	struct rvx_request *req;
	const char *msg = NULL;
	u32 bad = 0;
	int err;

	req = kmalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	rvx_request(req, tb, data);
	err = rvxlan_validate(req, &msg, &bad);
	if (err)
		rvx_refusal(extack, msg, bad, tb, data);
	kfree(req);
	return err;
}

static int rvx_apply(struct net_device *dev, struct nlattr *tb[], struct nlattr *data[],
		     bool creating, struct netlink_ext_ack *extack)
{
	struct rvx_request *req;
	const char *msg = NULL;
	u32 mtu = 0, bad = 0;
	int err;

	req = kmalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	rvx_request(req, tb, data);
	err = rvxlan_configure(rvx_tunnel(dev), req, creating, &mtu, &msg, &bad);
	if (err)
		rvx_refusal(extack, msg, bad, tb, data);
	if (!err && creating && !tb[IFLA_MTU])
		dev->mtu = mtu;
	kfree(req);
	return err;
}

static int rvx_newlink(struct net *src_net, struct net_device *dev, struct nlattr *tb[],
		       struct nlattr *data[], struct netlink_ext_ack *extack)
{
	struct rvx_dev *rd = netdev_priv(dev);
	int err;

	rd->underlay = src_net;
	err = rvxlan_tunnel_init(rd->tunnel, dev);
	if (err)
		return err;
	rd->tunnel_live = true;
	err = rvx_apply(dev, tb, data, true, extack);
	if (!err)
		err = register_netdevice(dev);
	if (err) {
		/* register_netdevice() runs ndo_uninit and the destructor on
		 * its late failures (with no grace period between them);
		 * otherwise undo here. Receive never reached the device: its
		 * VNI is published only in ndo_open.
		 */
		if (rd->tunnel_live) {
			rvxlan_tunnel_detach(rd->tunnel);
			synchronize_net();
			cancel_work_sync(&rd->fdb_grow);
			rvxlan_tunnel_drop(rd->tunnel);
			rd->tunnel_live = false;
		}
		return err;
	}
	list_add(&rd->all, &rvx_devices);
	return 0;
}

static int rvx_changelink(struct net_device *dev, struct nlattr *tb[], struct nlattr *data[],
			  struct netlink_ext_ack *extack)
{
	return rvx_apply(dev, tb, data, false, extack);
}

static size_t rvx_get_size(const struct net_device *dev)
{
	return RVXLAN_FILL_MAX * nla_total_size(sizeof_field(struct rvx_nla, data));
}

/* What vxlan_fill_info() writes, as Rust lists it (netlink::fill). */
static int rvx_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	struct rvx_nla *out;
	int err = 0;
	u32 i, n;

	out = kmalloc_array(RVXLAN_FILL_MAX, sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	n = min_t(u32, rvxlan_fill(rvx_tunnel(dev), out), RVXLAN_FILL_MAX);
	for (i = 0; i < n && !err; i++)
		err = nla_put(skb, out[i].type, min_t(u16, out[i].len, sizeof(out[i].data)),
			      out[i].data);
	kfree(out);
	return err;
}

/* IFLA_INFO_XSTATS: the counters as an array of u64, in uapi order. */
static size_t rvx_get_xstats_size(const struct net_device *dev)
{
	return nla_total_size(RVXLAN_COUNTERS * sizeof(u64));
}

static int rvx_fill_xstats(struct sk_buff *skb, const struct net_device *dev)
{
	u64 counters[RVXLAN_COUNTERS];

	rvxlan_counters(rvx_tunnel(dev), counters, rvx_socket_counters_shown(dev));
	return nla_put(skb, IFLA_INFO_XSTATS, sizeof(counters), counters);
}

static struct net *rvx_get_link_net(const struct net_device *dev)
{
	return ((struct rvx_dev *)netdev_priv(dev))->underlay;
}

/*
 * The link kind: "rvxlan" by default, beside Linux's vxlan (the interop
 * tests run the two side by side); "vxlan" to stand in for Linux vxlan,
 * so that `ip link add ... type vxlan` and every other vxlan tool drive
 * rvxlan unchanged. That needs Linux's vxlan.ko not loaded: with it, the
 * kind is taken and loading fails with -EEXIST (rtnl_link_register()).
 */
static char *kind = "rvxlan";
module_param(kind, charp, 0444);
MODULE_PARM_DESC(kind, "link kind to register: rvxlan (default) or vxlan (Linux vxlan not loaded)");

/* priv_size, the kind (and rvx_max_mtu above) are set before registration. */
static struct rtnl_link_ops rvx_link_ops __read_mostly = {
	.kind = "rvxlan",
	.maxtype = IFLA_VXLAN_MAX,
	.policy = rvx_policy,
	.setup = rvx_setup,
	.validate = rvx_validate,
	.newlink = rvx_newlink,
	.changelink = rvx_changelink,
	.get_size = rvx_get_size,
	.fill_info = rvx_fill_info,
	.get_xstats_size = rvx_get_xstats_size,
	.fill_xstats = rvx_fill_xstats,
	.get_link_net = rvx_get_link_net,
};

/* An underlay namespace is going away: its sockets must go, so the devices
 * using it go too, wherever they live (as Linux vxlan does). A device that
 * lives in a dying namespace and has its underlay there is queued here
 * only; the core's own cleanup runs after and no longer sees it.
 */
static void __net_exit rvx_net_exit_rtnl(struct list_head *net_list, struct list_head *dev_to_kill)
{
	struct rvx_dev *rd, *next;
	struct net *net;

	ASSERT_RTNL();
	list_for_each_entry(net, net_list, exit_list)
		list_for_each_entry_safe(rd, next, &rvx_devices, all)
			if (net_eq(rd->underlay, net)) {
				list_del_init(&rd->all);
				unregister_netdevice_queue(rd->dev, dev_to_kill);
			}
}

static struct pernet_operations rvx_net_ops = {
	.exit_batch_rtnl = rvx_net_exit_rtnl,
};

/* The IFLA_VXLAN_* numbers in order, from the kernel's header, for Rust's
 * copy (rust/vxlan/src/netlink.rs attr) to be compared with.
 */
static const u16 rvx_vxlan_attrs[] = {
	IFLA_VXLAN_ID, IFLA_VXLAN_GROUP, IFLA_VXLAN_LINK, IFLA_VXLAN_LOCAL, IFLA_VXLAN_TTL,
	IFLA_VXLAN_TOS, IFLA_VXLAN_LEARNING, IFLA_VXLAN_AGEING, IFLA_VXLAN_LIMIT,
	IFLA_VXLAN_PORT_RANGE, IFLA_VXLAN_PROXY, IFLA_VXLAN_RSC, IFLA_VXLAN_L2MISS,
	IFLA_VXLAN_L3MISS, IFLA_VXLAN_PORT, IFLA_VXLAN_GROUP6, IFLA_VXLAN_LOCAL6,
	IFLA_VXLAN_UDP_CSUM, IFLA_VXLAN_UDP_ZERO_CSUM6_TX, IFLA_VXLAN_UDP_ZERO_CSUM6_RX,
	IFLA_VXLAN_REMCSUM_TX, IFLA_VXLAN_REMCSUM_RX, IFLA_VXLAN_GBP,
	IFLA_VXLAN_REMCSUM_NOPARTIAL, IFLA_VXLAN_COLLECT_METADATA, IFLA_VXLAN_LABEL,
	IFLA_VXLAN_GPE, IFLA_VXLAN_TTL_INHERIT, IFLA_VXLAN_DF, IFLA_VXLAN_VNIFILTER,
	IFLA_VXLAN_LOCALBYPASS, IFLA_VXLAN_LABEL_POLICY,
};

static_assert(ARRAY_SIZE(rvx_vxlan_attrs) == IFLA_VXLAN_MAX);

int rvx_abi_check(size_t request, size_t nla, size_t fdb_entry, size_t tx_params,
		  size_t tx_frame, size_t tunnel_align, const u16 *vxlan_attrs, size_t n_attrs)
{
	if (request != sizeof(struct rvx_request) || nla != sizeof(struct rvx_nla) ||
	    fdb_entry != sizeof(struct rvx_fdb_entry) ||
	    tx_params != sizeof(struct rvx_tx_params) || tx_frame != sizeof(struct rvx_tx_frame) ||
	    tunnel_align > RVX_TUNNEL_ALIGN) {
		pr_err("rvxlan: C and Rust disagree on the glue structs\n");
		return -EINVAL;
	}
	if (n_attrs != ARRAY_SIZE(rvx_vxlan_attrs) ||
	    memcmp(vxlan_attrs, rvx_vxlan_attrs, sizeof(rvx_vxlan_attrs))) {
		pr_err("rvxlan: Rust's IFLA_VXLAN_* numbers are not the kernel's\n");
		return -EINVAL;
	}
	return 0;
}

int rvx_rtnl_register(size_t tunnel_size, u32 max_mtu)
{
	int err;

	if (strcmp(kind, "rvxlan") && strcmp(kind, "vxlan")) {
		pr_err("rvxlan: kind=%s: want rvxlan or vxlan\n", kind);
		return -EINVAL;
	}
	rvx_link_ops.kind = kind;
	rvx_kind_vxlan = !strcmp(kind, "vxlan");
	rvx_tunnel_size = tunnel_size;
	rvx_link_ops.priv_size = sizeof(struct rvx_dev) + tunnel_size;
	rvx_max_mtu = max_mtu;
	err = register_pernet_subsys(&rvx_net_ops);
	if (err)
		return err;
	err = rtnl_link_register(&rvx_link_ops);
	if (err) {
		unregister_pernet_subsys(&rvx_net_ops);
		if (err == -EEXIST)
			pr_err("rvxlan: link kind %s is taken (is Linux's vxlan loaded?)\n", kind);
		return err;
	}
	pr_info("rvxlan: link kind %s registered\n", kind);
	return 0;
}

/* Deletes every rvxlan device, in every network namespace. */
void rvx_rtnl_unregister(void)
{
	rtnl_link_unregister(&rvx_link_ops);
	unregister_pernet_subsys(&rvx_net_ops);
}

void rvx_rtnl_lock(void)
{
	rtnl_lock();
}

void rvx_rtnl_unlock(void)
{
	rtnl_unlock();
}

u64 rvx_now_ms(void)
{
	return jiffies64_to_msecs(get_jiffies_64());
}

void rvx_bh_disable(void)
{
	local_bh_disable();
}

void rvx_bh_enable(void)
{
	local_bh_enable();
}

void rvx_tx_dropped(struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);
}

struct net *rvx_underlay(void *tunnel)
{
	return rvx_from_tunnel(tunnel)->underlay;
}

struct net_device *rvx_netdev(void *tunnel)
{
	return rvx_from_tunnel(tunnel)->dev;
}

void rvx_dst_cache_reset(void *tunnel)
{
	dst_cache_reset(&rvx_from_tunnel(tunnel)->dst_cache);
}

/*
 * Whether the device lives in its underlay namespace or the caller holds
 * CAP_NET_ADMIN over that (rtnl_dev_link_net_capable, as Linux
 * vxlan_changelink). The core checked only the namespace the device lives
 * in, which a tenant owns once the device is moved into a network
 * namespace of the tenant's user namespace. The caller is current:
 * rtnetlink runs a request in its sender's task. Like upstream, this
 * does not check who opened the netlink socket (changelink and the FDB
 * ndos get no skb).
 */
bool rvx_underlay_capable(void *tunnel)
{
	struct rvx_dev *rd = rvx_from_tunnel(tunnel);

	return rtnl_dev_link_net_capable(rd->dev, rd->underlay);
}
