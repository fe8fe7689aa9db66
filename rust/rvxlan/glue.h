/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The boundary between rvxlan's Rust code and its C glue, in both
 * directions; rust/rvxlan/glue.rs declares the same functions.
 */
#ifndef RVXLAN_GLUE_H
#define RVXLAN_GLUE_H

#include <linux/types.h>

struct net_device;
struct sk_buff;

/* Implemented in C (glue.c), called by Rust. */
int rvx_rtnl_register(size_t priv_size, u32 max_mtu);
void rvx_rtnl_unregister(void);
void rvx_drop_tx(struct sk_buff *skb, struct net_device *dev);

/* Implemented in Rust, called by the C glue. */
int rvxlan_dev_init(struct net_device *dev, void *priv);
void rvxlan_dev_uninit(void *priv);
void rvxlan_xmit(struct sk_buff *skb, struct net_device *dev, void *priv);

#endif /* RVXLAN_GLUE_H */
