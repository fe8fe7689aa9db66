// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink fuzzer for rvxlan's control plane: COUNT random requests, one
 * at a time, each answered before the next.
 *
 *   rtnl_fuzz SEED COUNT NAME_PREFIX [nodel]
 *
 * Requests (weights in the table below), on the devices NAME_PREFIX0..7
 * of the current network namespace: RTM_NEWLINK creating an rvxlan device
 * or changing one (changelink), with random IFLA_INFO_DATA; link up and
 * down; RTM_DELLINK; RTM_NEWNEIGH and RTM_DELNEIGH (AF_BRIDGE, the FDB
 * ndos) with random NDA_* attributes and flags; and dumps (RTM_GETLINK,
 * RTM_GETNEIGH), which run the fill functions. Attributes have wrong and
 * boundary types, lengths, values, nesting and duplicates. Seeded by an
 * xorshift64*: the same seed sends the same requests. Prints the number
 * sent and the answers by errno, as KTAP diagnostics. With `nodel`, no
 * RTM_DELLINK: the devices given stay to be attacked.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/fuzz_rng.h"

#define RVX_ATTR_MAX 32		/* IFLA_VXLAN_LABEL_POLICY (Linux 6.12) */
#define BUF 8192

struct msg {
	unsigned char buf[BUF];
	size_t len;
};

static void *put(struct msg *m, const void *data, size_t n)
{
	void *p = m->buf + m->len;

	if (m->len + NLMSG_ALIGN(n) > BUF)
		return NULL;
	if (data)
		memcpy(p, data, n);
	else
		memset(p, 0, NLMSG_ALIGN(n));
	m->len += NLMSG_ALIGN(n);
	return p;
}

/* Starts an attribute; returns its offset, for nest_end. */
static size_t attr(struct msg *m, uint16_t type, const void *data, size_t n)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type };
	size_t off = m->len;

	if (m->len + NLA_HDRLEN + NLA_ALIGN(n) > BUF)
		return off;
	put(m, &a, sizeof(a));
	if (n)
		put(m, data, n);
	return off;
}

static void nest_end(struct msg *m, size_t off)
{
	((struct nlattr *)(m->buf + off))->nla_len = (uint16_t)(m->len - off);
}

/* A length: mostly the right one, else a neighbour or anything. */
static size_t some_len(size_t right)
{
	static const size_t odd[] = { 0, 1, 2, 3, 5, 7, 8, 15, 17, 32 };

	if (below(4))
		return right;
	return below(2) ? odd[below(10)] : below(40);
}

/* A plausible value for rvxlan attribute `type`, `n` bytes. */
static void value(unsigned char *v, uint16_t type, size_t n)
{
	uint32_t x;

	fill(v, n);
	switch (type) {
	case 1:		/* VNI: small, boundary, or anything */
		x = below(3) == 0 ? (1u << 24) - below(2) : below(3) == 0 ? 1u << 24 : below(300);
		memcpy(v, &x, n < 4 ? n : 4);
		break;
	case 2:		/* LOCAL: 10.77.0.x */
	case 3:		/* LOCAL6 */
		if (n >= 4 && below(2)) {
			v[0] = type == 2 ? 10 : 0xfd;
			v[1] = 77;
		}
		break;
	case 4:		/* PORT, big-endian */
		if (n >= 2 && below(2)) {
			v[0] = 0x12;
			v[1] = 0xb5 + below(2);	/* 4789, 4790 */
		}
		break;
	case 9:		/* LEARNING */
	case 8:		/* DF */
		if (n)
			v[0] = (unsigned char)below(4);
		break;
	case 11:	/* LIMIT */
		x = below(2) ? below(70000) : 0xffffffffu;
		memcpy(v, &x, n < 4 ? n : 4);
		break;
	}
}

static void rvxlan_data(struct msg *m)
{
	size_t data = attr(m, IFLA_INFO_DATA | (below(8) ? 0 : NLA_F_NESTED), NULL, 0);
	uint32_t i, n = below(9);
	/* The IFLA_VXLAN_* payload lengths (vxlan_policy). */
	static const size_t right[RVX_ATTR_MAX + 1] = {
		0, 4, 4, 4, 4, 1, 1, 1, 4, 4, 4, 1, 1, 1, 1, 2, 16,
		16, 1, 1, 1, 1, 1, 0, 0, 1, 4, 0, 0, 1, 1, 1, 4,
	};

	for (i = 0; i < n; i++) {
		uint16_t type = (uint16_t)(below(16) ? 1 + below(RVX_ATTR_MAX) : below(40));
		unsigned char v[64];
		size_t len;

		if (!below(8)) {
			/* A nest where vxlan has none: addresses of 4 or 16 bytes, or wrong ones */
			size_t nest = attr(m, type | (below(2) ? NLA_F_NESTED : 0), NULL, 0);
			uint32_t k, nr = below(3) ? below(4) : below(40);

			for (k = 0; k < nr; k++) {
				size_t al = below(4) ? (below(2) ? 4 : 16) : some_len(4);

				fill(v, al);
				if (al >= 2 && below(2)) {
					v[0] = al == 16 ? 0xfd : 10;
					v[1] = 77;
				}
				attr(m, (uint16_t)(below(8) ? 1 : below(4)), v, al);
			}
			nest_end(m, nest);
			continue;
		}
		len = some_len(type <= RVX_ATTR_MAX ? right[type] : 4);
		value(v, type, len);
		attr(m, type, v, len);
	}
	nest_end(m, data);
}

static struct nlmsghdr *start(struct msg *m, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h;

	m->len = 0;
	h = put(m, NULL, sizeof(*h));
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return h;
}

static void name_attr(struct msg *m, const char *prefix, uint32_t k)
{
	char name[IFNAMSIZ];

	snprintf(name, sizeof(name), "%s%u", prefix, k);
	attr(m, IFLA_IFNAME, name, strlen(name) + 1);
}

static void newlink(struct msg *m, const char *prefix, int create)
{
	uint16_t flags = create ? NLM_F_CREATE | (below(4) ? NLM_F_EXCL : 0) : 0;
	struct ifinfomsg *ifi;
	size_t li;

	if (below(16) == 0)
		flags |= NLM_F_REPLACE;
	start(m, RTM_NEWLINK, flags);
	ifi = put(m, NULL, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	/* Now and then an ifindex that exists (1 is lo): register_netdevice
	 * then fails late, after ndo_init, with the VNI configured. */
	if (create && below(8) == 0)
		ifi->ifi_index = (int)below(4);
	name_attr(m, prefix, below(8));
	if (below(8) == 0) {
		int32_t id = (int32_t)below(4) - 1;	/* -1 .. 2 */

		attr(m, IFLA_LINK_NETNSID, &id, sizeof(id));
	}
	if (below(8) == 0) {
		uint32_t mtu = below(2) ? below(70000) : 1400;

		attr(m, IFLA_MTU, &mtu, sizeof(mtu));
	}
	li = attr(m, IFLA_LINKINFO, NULL, 0);
	attr(m, IFLA_INFO_KIND, "rvxlan", 7);
	if (below(8))
		rvxlan_data(m);
	nest_end(m, li);
}

static void setlink_updown(struct msg *m, const char *prefix)
{
	struct ifinfomsg *ifi;

	start(m, RTM_NEWLINK, 0);
	ifi = put(m, NULL, sizeof(*ifi));
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = below(2) ? IFF_UP : 0;
	name_attr(m, prefix, below(8));
}

static void dellink(struct msg *m, const char *prefix)
{
	start(m, RTM_DELLINK, 0);
	put(m, NULL, sizeof(struct ifinfomsg));
	name_attr(m, prefix, below(8));
}

static int exchange(int fd, struct msg *m, uint32_t seq);
static int ifindex_of(int fd, const char *name);

static void neigh(int fd, struct msg *m, const char *prefix, int add)
{
	static const uint16_t flags[] = { NLM_F_CREATE, NLM_F_CREATE | NLM_F_EXCL,
					  NLM_F_CREATE | NLM_F_APPEND, NLM_F_CREATE | NLM_F_REPLACE, 0 };
	char name[IFNAMSIZ];
	struct ndmsg *nd;
	unsigned char v[32];
	size_t n;

	int ifindex;

	snprintf(name, sizeof(name), "%s%u", prefix, below(8));
	ifindex = ifindex_of(fd, name);
	start(m, add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? flags[below(5)] : 0);
	nd = put(m, NULL, sizeof(*nd));
	nd->ndm_family = AF_BRIDGE;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = below(4) ? NUD_PERMANENT : (uint16_t)rnd();
	nd->ndm_flags = below(2) ? NTF_SELF : (uint8_t)rnd();
	n = below(6) ? 6 : some_len(6);
	fill(v, n);
	if (below(3) == 0)
		memset(v, 0, n);	/* the flood list */
	else if (n)
		v[0] &= below(4) ? 0xfe : 0xff;
	attr(m, NDA_LLADDR, v, n);
	if (below(8)) {
		n = below(4) ? (below(2) ? 4 : 16) : some_len(4);
		fill(v, n);
		if (n >= 2 && below(2)) {
			v[0] = n == 16 ? 0xfd : 10;
			v[1] = 77;
		}
		attr(m, NDA_DST, v, n);
	}
	if (below(16) == 0) {
		uint16_t t = below(2) ? NDA_PORT : NDA_VNI;

		n = some_len(t == NDA_PORT ? 2 : 4);
		fill(v, n);
		attr(m, t, v, n);
	}
	if (below(16) == 0) {
		uint16_t vid = (uint16_t)below(4096);

		attr(m, NDA_VLAN, &vid, sizeof(vid));
	}
}

static void dump(int fd, struct msg *m, const char *prefix)
{
	if (below(2)) {
		start(m, RTM_GETLINK, NLM_F_DUMP);
		put(m, NULL, sizeof(struct ifinfomsg));
	} else {
		char name[IFNAMSIZ];
		struct ndmsg *nd;
		int ifindex;

		snprintf(name, sizeof(name), "%s%u", prefix, below(8));
		ifindex = ifindex_of(fd, name);
		start(m, RTM_GETNEIGH, NLM_F_DUMP);
		nd = put(m, NULL, sizeof(*nd));
		nd->ndm_family = AF_BRIDGE;
		nd->ndm_ifindex = ifindex;
	}
}

/* Sends m, reads to the ack or the end of the dump; the errno (0 if ok). */
static int exchange(int fd, struct msg *m, uint32_t seq)
{
	static unsigned char rbuf[1 << 16];
	struct nlmsghdr *h = (struct nlmsghdr *)m->buf;

	h->nlmsg_len = (uint32_t)m->len;
	h->nlmsg_seq = seq;
	if (send(fd, m->buf, m->len, 0) < 0)
		return errno;
	for (;;) {
		ssize_t n = recv(fd, rbuf, sizeof(rbuf), 0);
		struct nlmsghdr *r;

		if (n < 0)
			return errno == ENOBUFS ? 0 : errno;
		for (r = (struct nlmsghdr *)rbuf; NLMSG_OK(r, (size_t)n); r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_seq != seq)
				continue;
			if (r->nlmsg_type == NLMSG_ERROR)
				return -((struct nlmsgerr *)NLMSG_DATA(r))->error;
			if (r->nlmsg_type == NLMSG_DONE)
				return 0;
		}
	}
}

/*
 * NAME's ifindex in this namespace, 0 if none, by RTM_GETLINK: not
 * if_nametoindex(), whose ioctl runs modprobe for every unknown name when
 * the caller has CAP_NET_ADMIN (dev_load), a fork and exec each on TCG.
 */
static int ifindex_of(int fd, const char *name)
{
	static unsigned char rbuf[1 << 16];
	static struct msg q;
	struct nlmsghdr *h;
	ssize_t n;

	q.len = 0;
	h = put(&q, NULL, sizeof(*h));
	h->nlmsg_type = RTM_GETLINK;
	h->nlmsg_flags = NLM_F_REQUEST;
	h->nlmsg_seq = 0x7fffffff;
	put(&q, NULL, sizeof(struct ifinfomsg));
	attr(&q, IFLA_IFNAME, name, strlen(name) + 1);
	h->nlmsg_len = (uint32_t)q.len;
	if (send(fd, q.buf, q.len, 0) < 0)
		return 0;
	for (;;) {
		struct nlmsghdr *r;

		n = recv(fd, rbuf, sizeof(rbuf), 0);
		if (n < 0)
			return 0;
		for (r = (struct nlmsghdr *)rbuf; NLMSG_OK(r, (size_t)n); r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_seq != 0x7fffffff)
				continue;
			if (r->nlmsg_type == RTM_NEWLINK)
				return ((struct ifinfomsg *)NLMSG_DATA(r))->ifi_index;
			if (r->nlmsg_type == NLMSG_ERROR)
				return 0;
		}
	}
}

int main(int argc, char **argv)
{
	static struct msg m;
	unsigned long long count, i, by_errno[256] = { 0 }, other = 0;
	const char *prefix;
	int fd, one = 1, e, nodel;

	if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "nodel"))) {
		fprintf(stderr, "usage: %s SEED COUNT NAME_PREFIX [nodel]\n", argv[0]);
		return 64;
	}
	nodel = argc == 5;
	rng_seed(strtoull(argv[1], NULL, 0));
	count = strtoull(argv[2], NULL, 0);
	prefix = argv[3];
	if (strlen(prefix) > 8) {
		fprintf(stderr, "prefix too long\n");
		return 64;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	for (i = 0; i < count; i++) {
		uint32_t r = below(1000);

		/* Deletions are rare: the core waits for RCU on each (tens
		 * of ms on TCG), and creations succeed only as often. */
		if (r < 100)
			newlink(&m, prefix, 1);
		else if (r < 450)
			newlink(&m, prefix, 0);
		else if (r < 500)
			setlink_updown(&m, prefix);
		else if (r < 505 && !nodel)
			dellink(&m, prefix);
		else if (r < 505)
			setlink_updown(&m, prefix);
		else if (r < 800)
			neigh(fd, &m, prefix, 1);
		else if (r < 950)
			neigh(fd, &m, prefix, 0);
		else
			dump(fd, &m, prefix);
		e = exchange(fd, &m, (uint32_t)i + 1);
		if (e >= 0 && e < 256)
			by_errno[e]++;
		else
			other++;
	}
	printf("sent %llu\n", count);
	for (e = 0; e < 256; e++)
		if (by_errno[e])
			printf("# %s: %llu\n", e ? strerror(e) : "accepted", by_errno[e]);
	if (other)
		printf("# other: %llu\n", other);
	close(fd);
	return 0;
}
