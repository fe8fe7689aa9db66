// SPDX-License-Identifier: GPL-2.0
/*
 * C glue of rvxlan.ko, data plane: the shared UDP tunnel socket of an
 * endpoint (underlay namespace, port, family) with its VNI → device
 * xarray, the receive hook that socket runs, and encapsulation on
 * transmit. The decisions (header validity, learning, where to send) are
 * Rust's; this file does the sk_buff mechanics, which are static inlines
 * in 6.12's headers.
 */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <linux/xarray.h>
#include <net/dst_cache.h>
#include <net/gro_cells.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ip_tunnels.h>
#include <net/ipv6.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>

#include "glue.h"
#include "rvx_dev.h"

#define RVX_VXLAN_HLEN 8

/*
 * One shared endpoint. Rust's registry owns it (under RTNL) and decides
 * when to open and close its socket; receivers reach it through the
 * socket's sk_user_data, under RCU.
 */
struct rvx_endpoint {
	struct socket *sock;
	/* VNI → struct rvx_dev * of the device that is up with it, or
	 * RVX_CLAIMED for a configured device that is down (or not yet
	 * registered): the claim makes a second device with the VNI fail,
	 * while receive reaches only devices between ndo_open and ndo_stop.
	 * xa_load() is lock-free and its depth is at most four levels for
	 * 24-bit keys, so demux cost does not grow with the number of VNIs.
	 */
	struct xarray vnis;
	atomic64_t counters[RVX_EP_COUNTERS];
};

struct rvx_endpoint *rvx_endpoint_alloc(void)
{
	struct rvx_endpoint *ep = kzalloc(sizeof(*ep), GFP_KERNEL);

	if (ep)
		xa_init(&ep->vnis);
	return ep;
}

/* The socket is closed and no VNI is claimed (Rust guarantees both). */
void rvx_endpoint_free(struct rvx_endpoint *ep)
{
	WARN_ON(ep->sock || !xa_empty(&ep->vnis));
	xa_destroy(&ep->vnis);
	kfree(ep);
}

static int rvx_encap_rcv(struct sock *sk, struct sk_buff *skb);

int rvx_endpoint_open(struct rvx_endpoint *ep, struct net *net, u16 family, u16 port)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.sk_user_data = ep,
		.encap_type = 1,
		.encap_rcv = rvx_encap_rcv,
	};
	struct udp_port_cfg ucfg = {
		.local_udp_port = htons(port),
	};
	struct socket *sock;
	int err;

	if (family == AF_INET6) {
		if (!IS_ENABLED(CONFIG_IPV6))
			return -EAFNOSUPPORT;
		ucfg.family = AF_INET6;
		ucfg.ipv6_v6only = 1;
		ucfg.use_udp6_rx_checksums = 1;
	} else {
		ucfg.family = AF_INET;
	}
	err = udp_sock_create(net, &ucfg, &sock);
	if (err)
		return err;
	setup_udp_tunnel_sock(net, sock, &tcfg);
	ep->sock = sock;
	return 0;
}

/* Waits for receivers to leave (udp_tunnel_sock_release synchronises RCU). */
void rvx_endpoint_close(struct rvx_endpoint *ep)
{
	udp_tunnel_sock_release(ep->sock);
	ep->sock = NULL;
}

#define RVX_CLAIMED xa_mk_value(0)

/* A claim: RVX_CLAIMED until the device goes up. -EBUSY if the VNI is
 * taken. Not published yet, so a device whose register_netdevice() fails
 * after ndo_init (which then frees it without a grace period) was never
 * reachable.
 */
int rvx_endpoint_claim(struct rvx_endpoint *ep, u32 vni, void *tunnel)
{
	return xa_insert(&ep->vnis, vni, RVX_CLAIMED, GFP_KERNEL);
}

void rvx_endpoint_unclaim(struct rvx_endpoint *ep, u32 vni)
{
	xa_erase(&ep->vnis, vni);
}

/* Replacing an entry allocates nothing, so neither of these can fail. */
void rvx_endpoint_publish(struct rvx_endpoint *ep, u32 vni, void *tunnel)
{
	WARN_ON_ONCE(xa_is_err(xa_store(&ep->vnis, vni, rvx_from_tunnel(tunnel), GFP_KERNEL)));
}

/* Receivers that loaded the device before this may still use it: it
 * lives until its destructor, after the core's synchronize_net().
 */
void rvx_endpoint_unpublish(struct rvx_endpoint *ep, u32 vni)
{
	WARN_ON_ONCE(xa_is_err(xa_store(&ep->vnis, vni, RVX_CLAIMED, GFP_KERNEL)));
}

void rvx_endpoint_counters(struct rvx_endpoint *ep, u64 *out)
{
	int i;

	for (i = 0; i < RVX_EP_COUNTERS; i++)
		out[i] = atomic64_read(&ep->counters[i]);
}

static void rvx_outer_source(const struct sk_buff *skb, struct rvx_addr *src)
{
	memset(src, 0, sizeof(*src));
	if (ip_hdr(skb)->version == 4) {
		src->family = AF_INET;
		memcpy(src->addr, &ip_hdr(skb)->saddr, 4);
	} else {
		src->family = AF_INET6;
		memcpy(src->addr, &ipv6_hdr(skb)->saddr, 16);
	}
}

/*
 * The socket's receive hook: skb->data is at the UDP header. Returns 0
 * (consumed) for everything, good or bad, as a VXLAN port carries nothing
 * else.
 */
static int rvx_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct rvx_endpoint *ep = rcu_dereference_sk_user_data(sk);
	/* The outer IP header, as an offset: pulls may move skb->head. */
	unsigned int nh = skb_network_header(skb) - skb->head;
	struct rvx_addr src;
	/* Each drop has a counter (the accounting) and, for drop
	 * monitors (skb:kfree_skb), the kernel's reason, as vxlan_rcv's.
	 */
	enum skb_drop_reason reason = SKB_DROP_REASON_DEV_READY;
	struct rvx_dev *rd;
	int ecn = 0, rc;
	long v;

	if (!ep)
		goto drop;
	if (!pskb_may_pull(skb, sizeof(struct udphdr) + RVX_VXLAN_HLEN)) {
		atomic64_inc(&ep->counters[RVX_EP_TRUNCATED]);
		reason = SKB_DROP_REASON_PKT_TOO_SMALL;
		goto drop;
	}
	v = rvxlan_rx_header(skb->data + sizeof(struct udphdr));
	if (v == RVX_RX_NO_VNI_FLAG) {
		atomic64_inc(&ep->counters[RVX_EP_NO_VNI_FLAG]);
		reason = SKB_DROP_REASON_VXLAN_INVALID_HDR;
		goto drop;
	}
	rd = xa_load(&ep->vnis, v & ~RVX_RX_RESERVED_BITS);
	if (!rd) {
		atomic64_inc(&ep->counters[RVX_EP_UNKNOWN_VNI]);
		reason = SKB_DROP_REASON_VXLAN_VNI_NOT_FOUND;
		goto drop;
	}
	if (xa_is_value(rd)) {
		atomic64_inc(&ep->counters[RVX_EP_VNI_DOWN]);
		reason = SKB_DROP_REASON_DEV_READY;
		goto drop;
	}
	if (v & RVX_RX_RESERVED_BITS) {
		rvxlan_count(rd->tunnel, RVX_CNT_RX_RESERVED_BITS);
		reason = SKB_DROP_REASON_VXLAN_INVALID_HDR;
		goto drop_dev;
	}
	rvx_outer_source(skb, &src);
	/* Pulls UDP + VXLAN, checks that an Ethernet header follows, and
	 * scrubs the skb when it crosses into a tenant namespace.
	 */
	if (__iptunnel_pull_header(skb, sizeof(struct udphdr) + RVX_VXLAN_HLEN, htons(ETH_P_TEB),
				   false, !net_eq(rd->underlay, dev_net(rd->dev)))) {
		rvxlan_count(rd->tunnel, RVX_CNT_RX_INNER_TOO_SHORT);
		reason = SKB_DROP_REASON_PKT_TOO_SMALL;
		goto drop_dev;
	}
	if (unlikely(!(READ_ONCE(rd->dev->flags) & IFF_UP))) {
		rvxlan_count(rd->tunnel, RVX_CNT_RX_DEVICE_DOWN);
		reason = SKB_DROP_REASON_DEV_READY;
		goto drop_dev;
	}
	/* Counts its own drop reasons (too big, own source). */
	rc = rvxlan_rx_frame(rd->tunnel, skb->data, rd->dev->dev_addr, skb->len,
			     READ_ONCE(rd->dev->mtu), skb_is_gso(skb), &src);
	if (rc) {
		reason = rc == RVX_RX_DROP_TOO_BIG ? SKB_DROP_REASON_PKT_TOO_BIG :
						     SKB_DROP_REASON_MAC_INVALID_SOURCE;
		goto drop_dev;
	}
	skb->protocol = eth_type_trans(skb, rd->dev);
	skb_postpull_rcsum(skb, eth_hdr(skb), ETH_HLEN);
	skb_reset_network_header(skb);
	/* The inner IPv4/IPv6 header the ECN decision reads, as vxlan_rcv
	 * pulls it; a frame too short for the header it announces.
	 */
	if (!pskb_inet_may_pull(skb)) {
		rvxlan_count(rd->tunnel, RVX_CNT_RX_INNER_TOO_SHORT);
		reason = SKB_DROP_REASON_PKT_TOO_SMALL;
		goto drop_dev;
	}
	/* RFC 6040 section 4.2, as vxlan_ecn_decapsulate: CE outside
	 * marks an ECN-capable inner packet CE; over a Not-ECT one, the
	 * signal cannot be passed on and the packet is dropped.
	 */
	/* Only on an untagged inner IPv4/IPv6 packet, whose header
	 * pskb_inet_may_pull made linear: the decapsulate helpers look past
	 * VLAN tags with the outer mac_len and would read (and mark) payload
	 * bytes. Marking CE writes the inner header: unshare it first.
	 */
	if (skb->protocol == htons(ETH_P_IP) || skb->protocol == htons(ETH_P_IPV6)) {
		u8 outer = sk->sk_family == AF_INET ?
			   ((struct iphdr *)(skb->head + nh))->tos :
			   ipv6_get_dsfield((struct ipv6hdr *)(skb->head + nh));

		if (INET_ECN_is_ce(outer) &&
		    skb_ensure_writable(skb, skb_network_offset(skb) +
					(skb->protocol == htons(ETH_P_IP) ?
					 sizeof(struct iphdr) : sizeof(struct ipv6hdr)))) {
			reason = SKB_DROP_REASON_NOMEM;
			goto drop_dev;
		}
		if (sk->sk_family == AF_INET)
			ecn = IP_ECN_decapsulate((struct iphdr *)(skb->head + nh), skb);
#if IS_ENABLED(CONFIG_IPV6)
		else
			ecn = IP6_ECN_decapsulate((struct ipv6hdr *)(skb->head + nh), skb);
#endif
	}
	if (unlikely(ecn > 1)) {
		rvxlan_count(rd->tunnel, RVX_CNT_RX_ECN_CE_NOT_ECT);
		DEV_STATS_INC(rd->dev, rx_frame_errors);
		DEV_STATS_INC(rd->dev, rx_errors);
		reason = SKB_DROP_REASON_IP_TUNNEL_ECN;
		goto drop_dev;
	}
	dev_sw_netstats_rx_add(rd->dev, skb->len);
	gro_cells_receive(&rd->gro, skb);
	return 0;
drop_dev:
	/* Every drop charged to a device shows in its standard statistics
	 * too (ip -s link: rx_dropped), besides its reason's counter.
	 */
	dev_core_stats_rx_dropped_inc(rd->dev);
drop:
	kfree_skb_reason(skb, reason);
	return 0;
}

void rvx_skb_free(struct sk_buff *skb)
{
	kfree_skb(skb);
}

struct sk_buff *rvx_skb_clone(struct sk_buff *skb)
{
	return skb_clone(skb, GFP_ATOMIC);
}

/* The inner IPv4 or IPv6 header of a frame to send (skb->data at its
 * Ethernet header), made linear; NULL if the frame carries none.
 */
static const struct iphdr *rvx_inner_ip4(struct sk_buff *skb)
{
	if (skb->protocol != htons(ETH_P_IP) ||
	    !pskb_may_pull(skb, ETH_HLEN + sizeof(struct iphdr)))
		return NULL;
	return (const struct iphdr *)(skb->data + ETH_HLEN);
}

static const struct ipv6hdr *rvx_inner_ip6(struct sk_buff *skb)
{
	if (skb->protocol != htons(ETH_P_IPV6) ||
	    !pskb_may_pull(skb, ETH_HLEN + sizeof(struct ipv6hdr)))
		return NULL;
	return (const struct ipv6hdr *)(skb->data + ETH_HLEN);
}

/* Pushes the VXLAN header, with room for what the route will add. */
static int rvx_push_header(struct sk_buff *skb, struct dst_entry *dst, int iphdr_len,
			   const struct rvx_tx_params *p, bool udp_csum)
{
	int min_headroom = LL_RESERVED_SPACE(dst->dev) + dst->header_len + RVX_VXLAN_HLEN +
			   sizeof(struct udphdr) + iphdr_len;
	int err;

	err = skb_cow_head(skb, min_headroom);
	if (err)
		return err;
	err = udp_tunnel_handle_offloads(skb, udp_csum);
	if (err)
		return err;
	memcpy(__skb_push(skb, RVX_VXLAN_HLEN), p->vxh, RVX_VXLAN_HLEN);
	skb_set_inner_protocol(skb, htons(ETH_P_TEB));
	return 0;
}

/* rvx_tx_v4/v6: too big, and the skb was turned into the ICMP reply
 * (consumed): charged as RVX_TX_TOO_BIG.
 */
#define RVX_TX_TOO_BIG_REPLIED (-1)

/*
 * Whether the frame fits the path once encapsulated (GSO frames by their
 * segments), and if not, tells its sender, as Linux tunnels do
 * (skb_tunnel_check_pmtu with reply): the skb becomes an ICMP
 * "fragmentation needed" / ICMPv6 "packet too big" with the path MTU less
 * the encapsulation, from the inner destination to the inner source, and
 * is received on the device as if it came through the tunnel. The device
 * keeps no dst (no netif_keep_dst), so the sender's stack learns the path
 * MTU from that message, whether it is local or behind a bridge. Returns
 * 0 (fits), RVX_TX_TOO_BIG (drop: no reply due, e.g. no DF, an ICMP
 * error, not IP, or not this copy's turn) or RVX_TX_TOO_BIG_REPLIED.
 */
static int rvx_check_size(struct sk_buff *skb, struct rvx_dev *rd, struct dst_entry *dst,
			  int iphdr_len, const struct rvx_tx_params *p)
{
	int headroom = ETH_HLEN + RVX_VXLAN_HLEN + sizeof(struct udphdr) + iphdr_len;
	int mtu = (int)dst_mtu(dst) - headroom;

	skb_set_network_header(skb, ETH_HLEN);
	if (skb_is_gso(skb) ? skb_gso_validate_network_len(skb, mtu) :
			      (int)(skb->len - ETH_HLEN) <= mtu)
		return 0;
	if (!p->pmtu_reply || skb_tunnel_check_pmtu(skb, dst, headroom, true) <= 0)
		return RVX_TX_TOO_BIG;
	/* Now a fresh ICMP: none of the tunnel's offload state. */
	skb->encapsulation = 0;
	skb->protocol = eth_type_trans(skb, rd->dev);
	dev_sw_netstats_rx_add(rd->dev, skb->len);
	netif_rx(skb);
	return RVX_TX_TOO_BIG_REPLIED;
}

static int rvx_tx_v4(struct sk_buff *skb, struct rvx_dev *rd, struct socket *sock,
		     const struct rvx_tx_params *p, u8 tos)
{
	struct ip_tunnel_key key = {};
	__be16 df = 0;
	struct rtable *rt;
	__be32 saddr;
	u8 ttl;

	memcpy(&key.u.ipv4.dst, p->daddr.addr, 4);
	if (p->saddr.family)
		memcpy(&key.u.ipv4.src, p->saddr.addr, 4);
	/* A marked packet may route elsewhere than the cached route says
	 * (as ip_tunnel_dst_cache_usable).
	 */
	rt = udp_tunnel_dst_lookup(skb, rd->dev, rd->underlay, 0, &saddr, &key, htons(p->sport),
				   htons(p->dport), tos,
				   p->use_dst_cache && !skb->mark ? &rd->dst_cache : NULL);
	if (IS_ERR(rt))
		return RVX_TX_NO_ROUTE;
	if (p->df == 1) {
		df = htons(IP_DF);
	} else if (p->df == 2) {
		const struct iphdr *inner = rvx_inner_ip4(skb);

		if (inner && (inner->frag_off & htons(IP_DF)))
			df = htons(IP_DF);
	}
	if (df) {
		int big = rvx_check_size(skb, rd, &rt->dst, sizeof(struct iphdr), p);

		if (big) {
			ip_rt_put(rt);
			return big;
		}
	}
	ttl = p->ttl ?: ip4_dst_hoplimit(&rt->dst);
	/* IPv4 underlay: UDP checksum zero, as Linux vxlan by default. */
	if (rvx_push_header(skb, &rt->dst, sizeof(struct iphdr), p, false)) {
		ip_rt_put(rt);
		return RVX_TX_NO_BUFFER;
	}
	udp_tunnel_xmit_skb(rt, sock->sk, skb, saddr, key.u.ipv4.dst, tos, ttl, df,
			    htons(p->sport), htons(p->dport),
			    !net_eq(rd->underlay, dev_net(rd->dev)), true);
	return RVX_TX_OK;
}

#if IS_ENABLED(CONFIG_IPV6)
static int rvx_tx_v6(struct sk_buff *skb, struct rvx_dev *rd, struct socket *sock,
		     const struct rvx_tx_params *p, u8 tos)
{
	struct ip_tunnel_key key = {};
	struct dst_entry *dst;
	struct in6_addr saddr;
	u8 ttl;

	memcpy(&key.u.ipv6.dst, p->daddr.addr, 16);
	if (p->saddr.family)
		memcpy(&key.u.ipv6.src, p->saddr.addr, 16);
	dst = udp_tunnel6_dst_lookup(skb, rd->dev, rd->underlay, sock, 0, &saddr, &key,
				     htons(p->sport), htons(p->dport), tos,
				     p->use_dst_cache && !skb->mark ? &rd->dst_cache : NULL);
	if (IS_ERR(dst))
		return RVX_TX_NO_ROUTE;
	/* IPv6 never fragments in the network: too big is too big. */
	{
		int big = rvx_check_size(skb, rd, dst, sizeof(struct ipv6hdr), p);

		if (big) {
			dst_release(dst);
			return big;
		}
	}
	ttl = p->ttl ?: ip6_dst_hoplimit(dst);
	/* udp_tunnel6_xmit_skb(), unlike the IPv4 path's iptunnel_xmit(),
	 * does not scrub: the tenant's conntrack, mark, timestamp and dst
	 * must not cross into the underlay (as vxlan_xmit_one does).
	 */
	skb_scrub_packet(skb, !net_eq(rd->underlay, dev_net(rd->dev)));
	/* IPv6 underlay: UDP checksum computed (RFC 8200 allows zero only
	 * by exception; Linux vxlan computes it by default too).
	 */
	if (rvx_push_header(skb, dst, sizeof(struct ipv6hdr), p, true)) {
		dst_release(dst);
		return RVX_TX_NO_BUFFER;
	}
	udp_tunnel6_xmit_skb(dst, sock->sk, skb, rd->dev, &saddr, &key.u.ipv6.dst, tos, ttl, 0,
			     htons(p->sport), htons(p->dport), false);
	return RVX_TX_OK;
}
#endif

/* Encapsulates and sends `skb` (consumed, whatever the result). */
int rvx_tx_one(struct sk_buff *skb, void *tunnel, struct rvx_endpoint *ep,
	       const struct rvx_tx_params *p)
{
	struct rvx_dev *rd = rvx_from_tunnel(tunnel);
	struct socket *sock = READ_ONCE(ep->sock);
	u8 tos = p->tos;
	int rc = RVX_TX_NO_ROUTE;

	if (unlikely(!sock))
		goto drop;
	/* A tenant's mark is its namespace's: it must not choose underlay
	 * policy routes (the scrub after routing would be too late).
	 */
	if (!net_eq(rd->underlay, dev_net(rd->dev)))
		skb->mark = 0;
	skb_reset_mac_header(skb);
	{
		const struct iphdr *ip4 = rvx_inner_ip4(skb);
		const struct ipv6hdr *ip6 = ip4 ? NULL : rvx_inner_ip6(skb);
		u8 inner = ip4 ? ip4->tos : ip6 ? ipv6_get_dsfield(ip6) : 0;

		/* "tos inherit" copies the inner DSCP/ECN, as Linux vxlan's;
		 * then the outer ECN field follows the inner one (RFC 6040
		 * section 4.1; CE goes out as ECT(0)), as ip_tunnel_ecn_encap.
		 */
		if (tos == 1)
			tos = inner;
		tos = INET_ECN_encapsulate(tos, inner);
	}
	/* The socket's family decides, not the destination's: an address of
	 * the other family must never reach the other family's routing
	 * (an IPv6 destination through an IPv4 socket's path once oopsed in
	 * ip6_route_output_flags). Rust's rules keep every destination of
	 * the tunnel's family; this is the last check.
	 */
	if (unlikely(p->daddr.family != sock->sk->sk_family ||
		     (p->saddr.family && p->saddr.family != sock->sk->sk_family))) {
		rc = RVX_TX_WRONG_FAMILY;
		goto drop;
	}
	if (sock->sk->sk_family == AF_INET)
		rc = rvx_tx_v4(skb, rd, sock, p, tos);
#if IS_ENABLED(CONFIG_IPV6)
	else
		rc = rvx_tx_v6(skb, rd, sock, p, tos);
#endif
	if (rc == RVX_TX_OK)
		return rc;
	if (rc == RVX_TX_TOO_BIG_REPLIED) {
		/* Not sent; the skb went back to its sender as the ICMP. */
		dev_core_stats_tx_dropped_inc(rd->dev);
		return RVX_TX_TOO_BIG;
	}
drop:
	dev_core_stats_tx_dropped_inc(rd->dev);
	kfree_skb(skb);
	return rc;
}
