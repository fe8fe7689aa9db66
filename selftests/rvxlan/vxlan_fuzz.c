// SPDX-License-Identifier: GPL-2.0
/*
 * Packet fuzzer for rvxlan's receive path: COUNT mutated VXLAN datagrams
 * to DEST_ADDR:PORT from a UDP socket (the kernel writes correct outer
 * IPv4/IPv6 and UDP headers, so every datagram reaches the tunnel socket,
 * which must then account for each exactly once).
 *
 *   vxlan_fuzz SEED COUNT DEST_ADDR PORT VNI[,VNI...] OWN_MAC
 *   vxlan_fuzz macs COUNT DEST_ADDR PORT VNI
 *
 * Mutations, drawn from a seeded xorshift64* (same seed, same datagrams):
 * the flags byte (the I flag, reserved bits), the reserved fields, the
 * VNI (one of the given ones, or any 24-bit value), the length (0..7:
 * truncated header; 8..21: inner frame shorter than Ethernet; up to 1500;
 * now and then up to 9000, which the sender's IP layer fragments, so the
 * receiver reassembles the outer packet), the inner Ethernet addresses
 * (broadcast, multicast, zero, random, the device's own OWN_MAC), the
 * EtherType, and inner IPv4/IPv6/ARP headers with random lengths,
 * versions and header sizes. Prints what it sent, per class.
 *
 * `macs`: COUNT well-formed broadcast frames to VNI, each from another
 * source MAC (02:00:xx:xx:xx:xx), for the learning limit and FDB growth.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/fuzz_rng.h"

#define MAX_VNIS 64

static int parse_mac(const char *s, unsigned char mac[6])
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (unsigned char)b[i];
	return 0;
}

/* An Ethernet address of one of the kinds learning and delivery judge. */
static void some_mac(unsigned char *m, const unsigned char own[6])
{
	switch (below(6)) {
	case 0:
		memset(m, 0xff, 6);
		break;
	case 1:
		memset(m, 0, 6);
		break;
	case 2:
		memcpy(m, own, 6);
		break;
	case 3:
		fill(m, 6);
		m[0] |= 1;	/* multicast */
		break;
	default:
		fill(m, 6);
		m[0] &= ~1;	/* unicast */
		break;
	}
}

/* The inner frame after the Ethernet header: an IPv4, IPv6 or ARP header
 * with plausible-looking but often wrong fields, or noise. */
static void inner_payload(unsigned char *p, size_t n, uint16_t *ethertype)
{
	fill(p, n);
	switch (below(5)) {
	case 0:
		*ethertype = 0x0800;
		if (n >= 20) {
			p[0] = (unsigned char)(0x40 | (below(4) ? 5 : below(16)));
			if (below(3) == 0)
				p[0] = (unsigned char)rnd();
			/* total length: right, short, long, or anything */
			switch (below(4)) {
			case 0:
				p[2] = (unsigned char)(n >> 8);
				p[3] = (unsigned char)n;
				break;
			case 1:
				p[2] = 0;
				p[3] = (unsigned char)below(20);
				break;
			case 2:
				p[2] = 0xff;
				p[3] = 0xff;
				break;
			}
			p[9] = below(2) ? 1 : (unsigned char)rnd();	/* ICMP or any */
		}
		break;
	case 1:
		*ethertype = 0x86dd;
		if (n >= 40) {
			p[0] = below(4) ? 0x60 : (unsigned char)rnd();
			if (below(2)) {
				p[4] = (unsigned char)((n - 40) >> 8);
				p[5] = (unsigned char)(n - 40);
			}
			p[6] = below(2) ? 58 : (unsigned char)rnd();	/* ICMPv6 or any */
		}
		break;
	case 2:
		*ethertype = 0x0806;
		break;
	case 3:
		*ethertype = 0x8100;	/* a VLAN tag, then anything */
		break;
	default:
		*ethertype = (uint16_t)rnd();
		break;
	}
}

static int flood_macs(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST };
	unsigned char f[8 + 60] = { 0x08 };
	unsigned long long count, i;
	struct addrinfo *ai;
	uint32_t vni;
	int fd;

	if (argc != 6) {
		fprintf(stderr, "usage: %s macs COUNT DEST_ADDR PORT VNI\n", argv[0]);
		return 64;
	}
	count = strtoull(argv[2], NULL, 0);
	vni = (uint32_t)strtoul(argv[5], NULL, 0);
	if (getaddrinfo(argv[3], argv[4], &hints, &ai)) {
		fprintf(stderr, "bad address %s port %s\n", argv[3], argv[4]);
		return 64;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	f[4] = (unsigned char)(vni >> 16);
	f[5] = (unsigned char)(vni >> 8);
	f[6] = (unsigned char)vni;
	memset(f + 8, 0xff, 6);
	f[14] = 0x02;
	f[20] = 0x88;	/* local experimental EtherType */
	f[21] = 0xb5;
	for (i = 0; i < count; i++) {
		f[16] = (unsigned char)(i >> 24);
		f[17] = (unsigned char)(i >> 16);
		f[18] = (unsigned char)(i >> 8);
		f[19] = (unsigned char)i;
		if (sendto(fd, f, sizeof(f), 0, ai->ai_addr, ai->ai_addrlen) != (ssize_t)sizeof(f)) {
			perror("sendto");
			return 1;
		}
	}
	printf("sent %llu\n", count);
	freeaddrinfo(ai);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST };
	static unsigned char buf[9000];
	unsigned long long sent = 0, classes[6] = { 0 };
	static const char *const class_names[6] = {
		"truncated header", "I flag clear", "reserved bits",
		"inner frame under 14 bytes", "well-formed header", "fragmented (over 1500)",
	};
	uint32_t vnis[MAX_VNIS], n_vnis = 0;
	unsigned char own[6];
	unsigned long long count;
	struct addrinfo *ai;
	char *list, *tok;
	int fd, off = 0, i;

	if (argc > 1 && !strcmp(argv[1], "macs"))
		return flood_macs(argc, argv);
	if (argc != 7) {
		fprintf(stderr, "usage: %s SEED COUNT DEST_ADDR PORT VNI[,VNI...] OWN_MAC\n", argv[0]);
		return 64;
	}
	rng_seed(strtoull(argv[1], NULL, 0));
	count = strtoull(argv[2], NULL, 0);
	if (getaddrinfo(argv[3], argv[4], &hints, &ai)) {
		fprintf(stderr, "bad address %s port %s\n", argv[3], argv[4]);
		return 64;
	}
	list = strdup(argv[5]);
	for (tok = strtok(list, ","); tok && n_vnis < MAX_VNIS; tok = strtok(NULL, ","))
		vnis[n_vnis++] = (uint32_t)strtoul(tok, NULL, 0);
	if (!n_vnis || parse_mac(argv[6], own)) {
		fprintf(stderr, "need VNIs and a MAC\n");
		return 64;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/* Let the IP layer fragment what exceeds the path MTU. */
	if (ai->ai_family == AF_INET) {
		int v = IP_PMTUDISC_DONT;

		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	} else {
		int v = IPV6_PMTUDISC_DONT;

		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
	}
	while (sent < count) {
		uint32_t vni = below(10) < 7 ? vnis[below(n_vnis)] : (uint32_t)rnd() & 0xffffff;
		uint32_t r = below(100);
		size_t len;
		int cls;

		/* Length first: it decides what the header can be. */
		if (r < 5)
			len = below(8);
		else if (r < 12)
			len = 8 + below(14);
		else if (r < 97)
			len = 22 + below(1500 - 8 - 22 - 28 - 40 + 1);
		else
			len = 1500 + below(sizeof(buf) - 1500);
		fill(buf, len < 8 ? len : 8);
		if (len >= 8) {
			/* flags: mostly I only; else clear or with reserved bits */
			switch (below(10)) {
			case 0:
				buf[0] = (unsigned char)(rnd() & ~0x08);
				break;
			case 1:
				buf[0] = (unsigned char)(0x08 | (rnd() & ~0x08));
				break;
			default:
				buf[0] = 0x08;
				break;
			}
			if (below(10)) {
				buf[1] = buf[2] = buf[3] = 0;
				buf[7] = 0;
			}
			buf[4] = (unsigned char)(vni >> 16);
			buf[5] = (unsigned char)(vni >> 8);
			buf[6] = (unsigned char)vni;
		}
		if (len >= 22) {
			uint16_t et;

			some_mac(buf + 8, own);
			some_mac(buf + 14, own);
			inner_payload(buf + 22, len - 22, &et);
			buf[20] = (unsigned char)(et >> 8);
			buf[21] = (unsigned char)et;
		} else if (len > 8) {
			fill(buf + 8, len - 8);
		}
		if (len < 8)
			cls = 0;
		else if (!(buf[0] & 0x08))
			cls = 1;
		else if (buf[0] != 0x08 || buf[1] || buf[2] || buf[3] || buf[7])
			cls = 2;
		else if (len < 22)
			cls = 3;
		else if (len > 1500 - 28)
			cls = 5;
		else
			cls = 4;
		/* Now and then another outer TOS: ECN codepoints (CE over a
		 * Not-ECT inner packet is dropped) and DSCP. */
		if (below(16) == 0) {
			int tos = (int)below(256);

			if (ai->ai_family == AF_INET)
				setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
			else
				setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
		}
		if (sendto(fd, buf, len, 0, ai->ai_addr, ai->ai_addrlen) != (ssize_t)len) {
			perror("sendto");
			return 1;
		}
		classes[cls]++;
		sent++;
	}
	printf("sent %llu\n", sent);
	for (i = 0; i < 6; i++)
		off += printf("# %s: %llu\n", class_names[i], classes[i]);
	freeaddrinfo(ai);
	free(list);
	close(fd);
	return off < 0;
}
