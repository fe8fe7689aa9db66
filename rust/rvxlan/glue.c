// SPDX-License-Identifier: GPL-2.0
/*
 * C glue of rvxlan.ko: the rtnl link kind and net_device_ops tables, whose
 * types 6.12's kernel::bindings leaves opaque, and the static inline
 * helpers Rust needs. Device state and every decision live in Rust; the
 * ops here only forward to it.
 */
#include <linux/etherdevice.h>
#include <linux/if_link.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/rtnetlink.h>

#include "glue.h"

static u32 rvx_max_mtu __read_mostly;

static int rvx_ndo_init(struct net_device *dev)
{
	return rvxlan_dev_init(dev, netdev_priv(dev));
}

static void rvx_ndo_uninit(struct net_device *dev)
{
	rvxlan_dev_uninit(netdev_priv(dev));
}

static int rvx_ndo_open(struct net_device *dev)
{
	netif_carrier_on(dev);
	return 0;
}

static int rvx_ndo_stop(struct net_device *dev)
{
	netif_carrier_off(dev);
	return 0;
}

static netdev_tx_t rvx_ndo_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	rvxlan_xmit(skb, dev, netdev_priv(dev));
	return NETDEV_TX_OK;
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
};

static void rvx_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &rvx_netdev_ops;
	dev->needs_free_netdev = true;
	dev->priv_flags |= IFF_LIVE_ADDR_CHANGE | IFF_NO_QUEUE;
	dev->lltx = true;
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = rvx_max_mtu;
	eth_hw_addr_random(dev);
}

static int rvx_validate(struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	if (tb[IFLA_ADDRESS]) {
		if (nla_len(tb[IFLA_ADDRESS]) != ETH_ALEN) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS], "MAC address must be 6 bytes");
			return -EINVAL;
		}
		if (!is_valid_ether_addr(nla_data(tb[IFLA_ADDRESS]))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS], "invalid unicast MAC address");
			return -EADDRNOTAVAIL;
		}
	}
	return 0;
}

/* priv_size (and rvx_max_mtu above) are set from Rust before registration. */
static struct rtnl_link_ops rvx_link_ops __read_mostly = {
	.kind = "rvxlan",
	.setup = rvx_setup,
	.validate = rvx_validate,
};

int rvx_rtnl_register(size_t priv_size, u32 max_mtu)
{
	rvx_link_ops.priv_size = priv_size;
	rvx_max_mtu = max_mtu;
	return rtnl_link_register(&rvx_link_ops);
}

/* Deletes every rvxlan device, in every network namespace. */
void rvx_rtnl_unregister(void)
{
	rtnl_link_unregister(&rvx_link_ops);
}

void rvx_drop_tx(struct sk_buff *skb, struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);
	kfree_skb(skb);
}
