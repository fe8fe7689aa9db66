/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The boundary between rvxlan's Rust code and its C glue, in both
 * directions; rust/rvxlan/glue.rs declares the same functions and mirrors
 * the structs (rvx_abi_check() compares their sizes at load time).
 *
 * Division of labour: Rust owns every decision and all device state (the
 * configuration and its rules, the FDB, learning, flooding, the shared
 * socket registry, counters). C holds the tables of ops the kernel calls
 * and the packet mechanics that are static inlines in 6.12's headers
 * (pulling headers, routing, encapsulating, GRO cells).
 */
#ifndef RVXLAN_GLUE_H
#define RVXLAN_GLUE_H

#include <linux/bits.h>
#include <linux/if_link.h>
#include <linux/types.h>

#include "rvxlan_uapi.h"

struct net;
struct net_device;
struct sk_buff;
struct socket;

/* An underlay address: family 0 (none), AF_INET or AF_INET6; the address
 * in network byte order, IPv4 in the first four bytes.
 */
struct rvx_addr {
	u16 family;
	u8 addr[16];
};

/* IFLA_INFO_DATA's slots, by attribute type (Linux vxlan's, <linux/if_link.h>). */
#define RVX_VXLAN_SLOTS (IFLA_VXLAN_MAX + 1)

/* One RTM_NEWLINK request as rtnetlink parsed it with vxlan's policy,
 * for Rust to judge (rust/vxlan/src/netlink.rs): each present attribute's
 * payload, NULL if absent; has_data is 0 without IFLA_INFO_DATA.
 */
struct rvx_request {
	const void *data[RVX_VXLAN_SLOTS];
	u16 len[RVX_VXLAN_SLOTS];
	u16 address_len;
	u8 has_data;
	u8 has_mtu;
	u8 kind_vxlan;	/* registered as kind "vxlan" (module parameter) */
	u8 pad;
	const void *address;	/* IFLA_ADDRESS, or NULL */
	u32 mtu;		/* IFLA_MTU, if has_mtu */
};

/* Which attribute a refusal is about (the extack's bad attribute): 0 none,
 * 1..IFLA_VXLAN_MAX an IFLA_INFO_DATA attribute, or one of these.
 */
enum {
	RVX_BAD_ADDRESS = 0x10000,
	RVX_BAD_MTU = 0x20000,
};

/* One attribute fill_info writes (Rust decides which and what). */
struct rvx_nla {
	u16 type;
	u16 len;
	u8 data[16];
};

/* One FDB entry, for dumps. */
struct rvx_fdb_entry {
	u8 mac[6];
	u8 is_static;
	u8 is_remote;	/* a flood-list remote, shown as 00:00:00:00:00:00 */
	u32 idle_ms;
	struct rvx_addr remote;
};

/* One encapsulation: where and how to send a frame. */
struct rvx_tx_params {
	struct rvx_addr saddr;	/* family 0: the route chooses */
	struct rvx_addr daddr;
	u8 vxh[8];
	u16 sport;
	u16 dport;
	u8 ttl;
	u8 tos;
	u8 df;
	u8 use_dst_cache;
	u8 pmtu_reply;	/* the copy that may answer "too big" (the last) */
};

/* What C tells Rust about a frame to send. */
struct rvx_tx_frame {
	const u8 *eth;	/* at least the Ethernet header, linear */
	u32 len;
	u32 hash;
	u32 mtu;
	u8 gso;
};

/* Results of rvx_tx_one(): RVX_TX_OK or the counter to charge. */
enum {
	RVX_TX_OK = 0,
	RVX_TX_NO_ROUTE = 1,
	RVX_TX_NO_BUFFER = 2,
	RVX_TX_TOO_BIG = 3,
	RVX_TX_WRONG_FAMILY = 4,
};

/* rvxlan_rx_frame() results besides 0 (deliver). */
enum {
	RVX_RX_DROP_TOO_BIG = 1,
	RVX_RX_DROP_OWN_SOURCE = 2,
};

/* rvxlan_rx_header() results beyond a plain VNI (bits 0-23). */
#define RVX_RX_RESERVED_BITS BIT(24)
#define RVX_RX_NO_VNI_FLAG (-1L)

/* Device counters the C receive path charges (enum Counter in uapi.rs). */
enum {
	RVX_CNT_RX_RESERVED_BITS = 4,
	RVX_CNT_RX_INNER_TOO_SHORT = 5,
	RVX_CNT_RX_DEVICE_DOWN = 8,
	RVX_CNT_RX_ECN_CE_NOT_ECT = 13,
};

/* Socket counters, kept per shared endpoint. */
enum {
	RVX_EP_TRUNCATED,
	RVX_EP_NO_VNI_FLAG,
	RVX_EP_UNKNOWN_VNI,
	RVX_EP_VNI_DOWN,
	RVX_EP_COUNTERS
};

/* Implemented in C, called by Rust. */
int rvx_abi_check(size_t request, size_t nla, size_t fdb_entry, size_t tx_params,
		  size_t tx_frame, size_t tunnel_align, const u16 *vxlan_attrs, size_t n_attrs);
int rvx_rtnl_register(size_t tunnel_size, u32 max_mtu);
void rvx_rtnl_unregister(void);
void rvx_rtnl_lock(void);
void rvx_rtnl_unlock(void);
u64 rvx_now_ms(void);
void rvx_bh_disable(void);
void rvx_bh_enable(void);
void rvx_tx_dropped(struct net_device *dev);
struct net *rvx_underlay(void *tunnel);
struct net_device *rvx_netdev(void *tunnel);
void rvx_dst_cache_reset(void *tunnel);
bool rvx_underlay_capable(void *tunnel);
void rvx_fdb_grow_schedule(void *tunnel);

struct rvx_endpoint *rvx_endpoint_alloc(void);
void rvx_endpoint_free(struct rvx_endpoint *ep);
int rvx_endpoint_open(struct rvx_endpoint *ep, struct net *net, u16 family, u16 port);
void rvx_endpoint_close(struct rvx_endpoint *ep);
int rvx_endpoint_claim(struct rvx_endpoint *ep, u32 vni, void *tunnel);
void rvx_endpoint_unclaim(struct rvx_endpoint *ep, u32 vni);
void rvx_endpoint_publish(struct rvx_endpoint *ep, u32 vni, void *tunnel);
void rvx_endpoint_unpublish(struct rvx_endpoint *ep, u32 vni);
void rvx_endpoint_counters(struct rvx_endpoint *ep, u64 *out);

void rvx_skb_free(struct sk_buff *skb);
struct sk_buff *rvx_skb_clone(struct sk_buff *skb);
int rvx_tx_one(struct sk_buff *skb, void *tunnel, struct rvx_endpoint *ep,
	       const struct rvx_tx_params *p);

/* Implemented in Rust, called by the C glue. The tunnel pointer is the
 * Rust part of an rvxlan device's private area.
 */
int rvxlan_tunnel_init(void *tunnel, struct net_device *dev);
void rvxlan_tunnel_detach(void *tunnel);
void rvxlan_tunnel_drop(void *tunnel);
int rvxlan_validate(const struct rvx_request *req, const char **msg, u32 *bad);
int rvxlan_configure(void *tunnel, const struct rvx_request *req, bool creating,
		     u32 *default_mtu, const char **msg, u32 *bad);
u32 rvxlan_fill(void *tunnel, struct rvx_nla *out);
int rvxlan_open(void *tunnel);
void rvxlan_stop(void *tunnel);
void rvxlan_xmit(struct sk_buff *skb, void *tunnel, const struct rvx_tx_frame *frame);
long rvxlan_rx_header(const u8 *hdr);
int rvxlan_rx_frame(void *tunnel, const u8 *eth, const u8 *own_mac, u32 len, u32 mtu, u8 gso,
		    const struct rvx_addr *src);
void rvxlan_count(void *tunnel, u32 counter);
void rvxlan_counters(void *tunnel, u64 *out, bool with_socket);
const char *rvxlan_counter_name(u32 counter);
int rvxlan_fdb_add(void *tunnel, const u8 *mac, const struct rvx_addr *remote, u16 nlm_flags,
		   const char **msg);
int rvxlan_fdb_del(void *tunnel, const u8 *mac, const struct rvx_addr *remote,
		   const char **msg);
long rvxlan_fdb_get(void *tunnel, long pos, struct rvx_fdb_entry *out);
void rvxlan_fdb_grow(void *tunnel);

#endif /* RVXLAN_GLUE_H */
