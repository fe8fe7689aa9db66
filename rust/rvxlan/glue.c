// SPDX-License-Identifier: GPL-2.0
/*
 * C glue of rvxlan.ko, control plane: the rtnl link kind (netlink policy,
 * attribute parsing and filling), net_device and ethtool ops, the FDB
 * ndos behind `bridge fdb`, and the pernet hook that deletes devices whose
 * underlay namespace dies. Every decision is Rust's (see glue.h); this
 * file translates between netlink and struct rvx_config and forwards.
 */
#include <linux/capability.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
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
	if (!tb[NDA_DST] || !rvx_addr_from_nla(&remote, tb[NDA_DST])) {
		NL_SET_ERR_MSG(extack, "need the remote VTEP address (dst), IPv4 or IPv6");
		return -EINVAL;
	}
	if (tb[NDA_PORT] || tb[NDA_VNI] || tb[NDA_IFINDEX] || tb[NDA_NH_ID]) {
		NL_SET_ERR_MSG(extack, "per-entry port, VNI, via and nexthop are not supported");
		return -EOPNOTSUPP;
	}
	err = rvxlan_fdb_add(rvx_tunnel(dev), addr, &remote, flags & NLM_F_REPLACE, &msg);
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

/* Types and exact lengths; the values are checked by the Rust rules,
 * which say what is wrong (rust/vxlan/src/config.rs). rtnetlink parses
 * IFLA_INFO_DATA liberally (nla_parse_nested_deprecated), under which a
 * plain NLA_U32 of the wrong length only warns: exact-length policies are
 * enforced in any mode, so an 8-byte IPv4 address is an error.
 */
static const struct nla_policy rvx_policy[IFLA_RVXLAN_MAX + 1] = {
	[IFLA_RVXLAN_VNI] = NLA_POLICY_EXACT_LEN(sizeof(u32)),
	[IFLA_RVXLAN_LOCAL] = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[IFLA_RVXLAN_LOCAL6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[IFLA_RVXLAN_PORT] = NLA_POLICY_EXACT_LEN(sizeof(__be16)),
	[IFLA_RVXLAN_PORT_RANGE] = NLA_POLICY_EXACT_LEN(2 * sizeof(__be16)),
	[IFLA_RVXLAN_TTL] = NLA_POLICY_EXACT_LEN(sizeof(u8)),
	[IFLA_RVXLAN_TOS] = NLA_POLICY_EXACT_LEN(sizeof(u8)),
	[IFLA_RVXLAN_DF] = NLA_POLICY_EXACT_LEN(sizeof(u8)),
	[IFLA_RVXLAN_LEARNING] = NLA_POLICY_EXACT_LEN(sizeof(u8)),
	[IFLA_RVXLAN_AGEING] = NLA_POLICY_EXACT_LEN(sizeof(u32)),
	[IFLA_RVXLAN_LIMIT] = NLA_POLICY_EXACT_LEN(sizeof(u32)),
	[IFLA_RVXLAN_REMOTES] = { .type = NLA_NESTED },
};

static int rvx_validate(struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	if (tb[IFLA_ADDRESS]) {
		if (nla_len(tb[IFLA_ADDRESS]) != ETH_ALEN) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS],
					    "MAC address must be 6 bytes");
			return -EINVAL;
		}
		if (!is_valid_ether_addr(nla_data(tb[IFLA_ADDRESS]))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS],
					    "invalid unicast MAC address");
			return -EADDRNOTAVAIL;
		}
	}
	if (data && data[IFLA_RVXLAN_LOCAL] && data[IFLA_RVXLAN_LOCAL6]) {
		NL_SET_ERR_MSG_ATTR(extack, data[IFLA_RVXLAN_LOCAL6],
				    "give one local address, IPv4 or IPv6");
		return -EINVAL;
	}
	return 0;
}

/* netlink attributes → rvx_config (shapes only). */
static int rvx_parse(struct nlattr *data[], struct rvx_config *cfg, struct netlink_ext_ack *extack)
{
	memset(cfg, 0, sizeof(*cfg));
	if (!data)
		return 0;
	if (data[IFLA_RVXLAN_VNI]) {
		cfg->set |= RVX_CFG_VNI;
		cfg->vni = nla_get_u32(data[IFLA_RVXLAN_VNI]);
	}
	if (data[IFLA_RVXLAN_LOCAL] || data[IFLA_RVXLAN_LOCAL6]) {
		struct nlattr *nla = data[IFLA_RVXLAN_LOCAL] ?: data[IFLA_RVXLAN_LOCAL6];

		/* The policy fixed the length; checked again, not assumed. */
		if (!rvx_addr_from_nla(&cfg->local, nla)) {
			NL_SET_ERR_MSG_ATTR(extack, nla, "local address must be 4 or 16 bytes");
			return -EINVAL;
		}
		cfg->set |= RVX_CFG_LOCAL;
	}
	if (data[IFLA_RVXLAN_PORT]) {
		cfg->set |= RVX_CFG_PORT;
		cfg->port = be16_to_cpu(nla_get_be16(data[IFLA_RVXLAN_PORT]));
	}
	if (data[IFLA_RVXLAN_PORT_RANGE]) {
		const __be16 *r = nla_data(data[IFLA_RVXLAN_PORT_RANGE]);

		cfg->set |= RVX_CFG_PORT_RANGE;
		cfg->port_low = be16_to_cpu(r[0]);
		cfg->port_high = be16_to_cpu(r[1]);
	}
	if (data[IFLA_RVXLAN_TTL]) {
		cfg->set |= RVX_CFG_TTL;
		cfg->ttl = nla_get_u8(data[IFLA_RVXLAN_TTL]);
	}
	if (data[IFLA_RVXLAN_TOS]) {
		cfg->set |= RVX_CFG_TOS;
		cfg->tos = nla_get_u8(data[IFLA_RVXLAN_TOS]);
	}
	if (data[IFLA_RVXLAN_DF]) {
		cfg->set |= RVX_CFG_DF;
		cfg->df = nla_get_u8(data[IFLA_RVXLAN_DF]);
	}
	if (data[IFLA_RVXLAN_LEARNING]) {
		cfg->set |= RVX_CFG_LEARNING;
		cfg->learning = nla_get_u8(data[IFLA_RVXLAN_LEARNING]);
	}
	if (data[IFLA_RVXLAN_AGEING]) {
		cfg->set |= RVX_CFG_AGEING;
		cfg->ageing = nla_get_u32(data[IFLA_RVXLAN_AGEING]);
	}
	if (data[IFLA_RVXLAN_LIMIT]) {
		cfg->set |= RVX_CFG_LIMIT;
		cfg->limit = nla_get_u32(data[IFLA_RVXLAN_LIMIT]);
	}
	if (data[IFLA_RVXLAN_REMOTES]) {
		struct nlattr *nla;
		int rem;

		cfg->set |= RVX_CFG_REMOTES;
		nla_for_each_nested(nla, data[IFLA_RVXLAN_REMOTES], rem) {
			if (nla_type(nla) != RVXLAN_REMOTE_ADDR) {
				NL_SET_ERR_MSG_ATTR(extack, nla,
						    "unknown attribute in the remote list");
				return -EINVAL;
			}
			if (cfg->n_remotes == RVXLAN_MAX_REMOTES) {
				NL_SET_ERR_MSG_ATTR(extack, nla, "more than 32 remotes");
				return -E2BIG;
			}
			if (!rvx_addr_from_nla(&cfg->remotes[cfg->n_remotes], nla)) {
				NL_SET_ERR_MSG_ATTR(extack, nla,
						    "remote address must be 4 or 16 bytes");
				return -EINVAL;
			}
			cfg->n_remotes++;
		}
	}
	return 0;
}

static int rvx_apply(struct net_device *dev, struct nlattr *tb[], struct nlattr *data[],
		     bool creating, struct netlink_ext_ack *extack)
{
	struct rvx_config *cfg;
	const char *msg = NULL;
	u32 mtu = 0;
	int err;

	cfg = kmalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;
	err = rvx_parse(data, cfg, extack);
	if (!err) {
		err = rvxlan_configure(rvx_tunnel(dev), cfg, creating, &mtu, &msg);
		if (err && msg)
			rvx_set_msg(extack, msg);
	}
	if (!err && creating && !tb[IFLA_MTU])
		dev->mtu = mtu;
	kfree(cfg);
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
	return nla_total_size(sizeof(u32)) +			/* VNI */
	       nla_total_size(sizeof(struct in6_addr)) +	/* LOCAL or LOCAL6 */
	       nla_total_size(sizeof(__be16)) +			/* PORT */
	       nla_total_size(2 * sizeof(__be16)) +		/* PORT_RANGE */
	       4 * nla_total_size(sizeof(u8)) +			/* TTL TOS DF LEARNING */
	       2 * nla_total_size(sizeof(u32)) +		/* AGEING LIMIT */
	       nla_total_size(0) +				/* REMOTES */
	       RVXLAN_MAX_REMOTES * nla_total_size(sizeof(struct in6_addr));
}

static int rvx_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	struct rvx_config *cfg;
	struct nlattr *nest;
	__be16 range[2];
	int err = -EMSGSIZE;
	u32 i;

	cfg = kmalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;
	rvxlan_get_config(rvx_tunnel(dev), cfg);
	range[0] = cpu_to_be16(cfg->port_low);
	range[1] = cpu_to_be16(cfg->port_high);
	if ((cfg->set & RVX_CFG_VNI) && nla_put_u32(skb, IFLA_RVXLAN_VNI, cfg->vni))
		goto out;
	if (cfg->local.family &&
	    rvx_put_addr(skb, cfg->local.family == AF_INET ? IFLA_RVXLAN_LOCAL : IFLA_RVXLAN_LOCAL6,
			 &cfg->local))
		goto out;
	if (nla_put_be16(skb, IFLA_RVXLAN_PORT, cpu_to_be16(cfg->port)) ||
	    nla_put(skb, IFLA_RVXLAN_PORT_RANGE, sizeof(range), range) ||
	    nla_put_u8(skb, IFLA_RVXLAN_TTL, cfg->ttl) ||
	    nla_put_u8(skb, IFLA_RVXLAN_TOS, cfg->tos) ||
	    nla_put_u8(skb, IFLA_RVXLAN_DF, cfg->df) ||
	    nla_put_u8(skb, IFLA_RVXLAN_LEARNING, cfg->learning) ||
	    nla_put_u32(skb, IFLA_RVXLAN_AGEING, cfg->ageing) ||
	    nla_put_u32(skb, IFLA_RVXLAN_LIMIT, cfg->limit))
		goto out;
	nest = nla_nest_start(skb, IFLA_RVXLAN_REMOTES);
	if (!nest)
		goto out;
	for (i = 0; i < cfg->n_remotes; i++)
		if (rvx_put_addr(skb, RVXLAN_REMOTE_ADDR, &cfg->remotes[i]))
			goto out;
	nla_nest_end(skb, nest);
	err = 0;
out:
	kfree(cfg);
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

/* priv_size (and rvx_max_mtu above) are set from Rust before registration. */
static struct rtnl_link_ops rvx_link_ops __read_mostly = {
	.kind = "rvxlan",
	.maxtype = IFLA_RVXLAN_MAX,
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

int rvx_abi_check(size_t config, size_t fdb_entry, size_t tx_params, size_t tx_frame,
		  size_t tunnel_align)
{
	if (config != sizeof(struct rvx_config) || fdb_entry != sizeof(struct rvx_fdb_entry) ||
	    tx_params != sizeof(struct rvx_tx_params) || tx_frame != sizeof(struct rvx_tx_frame) ||
	    tunnel_align > RVX_TUNNEL_ALIGN) {
		pr_err("rvxlan: C and Rust disagree on the glue structs\n");
		return -EINVAL;
	}
	return 0;
}

int rvx_rtnl_register(size_t tunnel_size, u32 max_mtu)
{
	int err;

	rvx_tunnel_size = tunnel_size;
	rvx_link_ops.priv_size = sizeof(struct rvx_dev) + tunnel_size;
	rvx_max_mtu = max_mtu;
	err = register_pernet_subsys(&rvx_net_ops);
	if (err)
		return err;
	err = rtnl_link_register(&rvx_link_ops);
	if (err)
		unregister_pernet_subsys(&rvx_net_ops);
	return err;
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
