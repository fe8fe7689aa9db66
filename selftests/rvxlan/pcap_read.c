// SPDX-License-Identifier: GPL-2.0
/*
 * Reads a capture that dumpcap wrote (pcapng, or classic pcap) and
 * answers the one question a test asks of it, without tshark: tshark
 * loads every dissector before it reads a packet, which on the debug
 * kernel under TCG took almost five minutes for one file. Tests that
 * check what a reference dissector makes of rvxlan's packets
 * (interop.sh) keep tshark; this is for counting.
 *
 *   pcap_read FILE count          the number of packets
 *   pcap_read FILE vnis SRC PORT  the VNIs of the VXLAN packets (UDP from
 *                                 or to PORT, as tshark decodes them)
 *                                 that SRC (an IPv4 or IPv6 address)
 *                                 sent, sorted, unique, on one line; a
 *                                 UDP datagram from SRC on other ports,
 *                                 or one too short for a VXLAN header,
 *                                 adds "other", so that a check of the
 *                                 VNIs sees it
 *
 * Ethernet link type only (veth, what the tests capture on), IPv4 or
 * IPv6 with UDP directly after the fixed header, first fragments only.
 * Exits 1 when the file cannot be read as a capture, or ends inside a
 * block or record.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETH_HLEN 14
#define VXLAN_HLEN 8

static unsigned char buf[1 << 20];
static unsigned char seen[1 << 21]; /* one bit per 24-bit VNI */
static long packets;
static int other;

static uint32_t get32(const unsigned char *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static uint16_t get16(const unsigned char *p, int swap)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return swap ? __builtin_bswap16(v) : v;
}

/* Reads exactly n bytes: 0 at a clean end of file, 1 done, -1 cut short. */
static int get(void *p, size_t n, FILE *fp)
{
	size_t got = fread(p, 1, n, fp);

	if (got == n)
		return 1;
	return got == 0 && feof(fp) ? 0 : -1;
}

/* One captured Ethernet frame: note its VNI if it is SRC's VXLAN to PORT. */
static void frame(const unsigned char *f, size_t len, int family, const unsigned char *src, unsigned int port)
{
	size_t off = ETH_HLEN;
	unsigned int type;
	const unsigned char *udp;
	uint32_t vni;

	packets++;
	if (!family || len < ETH_HLEN)
		return;
	type = f[12] << 8 | f[13];
	while (type == 0x8100 && len >= off + 4) {
		type = f[off + 2] << 8 | f[off + 3];
		off += 4;
	}
	if (type == 0x0800 && family == 4) {
		const unsigned char *ip = f + off;
		size_t ihl;

		if (len < off + 20 || (ip[0] >> 4) != 4 || ip[9] != 17 || ((ip[6] << 8 | ip[7]) & 0x1fff) ||
		    memcmp(ip + 12, src, 4))
			return;
		ihl = (ip[0] & 15) * 4;
		if (ihl < 20)
			return;
		off += ihl;
	} else if (type == 0x86dd && family == 6) {
		const unsigned char *ip = f + off;

		if (len < off + 40 || ip[6] != 17 || memcmp(ip + 8, src, 16))
			return;
		off += 40;
	} else {
		return;
	}
	udp = f + off;
	if (len < off + 8 + VXLAN_HLEN ||
	    ((unsigned int)(udp[0] << 8 | udp[1]) != port && (unsigned int)(udp[2] << 8 | udp[3]) != port)) {
		other = 1;
		return;
	}
	vni = (uint32_t)udp[12] << 16 | udp[13] << 8 | udp[14];
	seen[vni >> 3] |= 1 << (vni & 7);
}

int main(int argc, char **argv)
{
	unsigned char src[16] = { 0 };
	unsigned int port = 0;
	int family = 0, swap = 0, classic = 0, linktype = -1;
	unsigned char hdr[24];
	const char *sep = "";
	uint32_t vni;
	FILE *fp;

	if (argc == 3 && !strcmp(argv[2], "count")) {
		/* nothing to parse */
	} else if (argc == 5 && !strcmp(argv[2], "vnis")) {
		if (inet_pton(AF_INET, argv[3], src) == 1)
			family = 4;
		else if (inet_pton(AF_INET6, argv[3], src) == 1)
			family = 6;
		port = (unsigned int)strtoul(argv[4], NULL, 0);
		if (!family || !port || port > 65535) {
			fprintf(stderr, "pcap_read: bad address %s or port %s\n", argv[3], argv[4]);
			return 64;
		}
	} else {
		fprintf(stderr, "usage: %s FILE count | FILE vnis SRC PORT\n", argv[0]);
		return 64;
	}
	fp = fopen(argv[1], "rb");
	if (!fp || fread(hdr, 1, 24, fp) != 24) {
		fprintf(stderr, "pcap_read: cannot read %s\n", argv[1]);
		return 1;
	}
	switch (get32(hdr, 0)) {
	case 0xa1b2c3d4: case 0xa1b23c4d:
		classic = 1;
		break;
	case 0xd4c3b2a1: case 0x4d3cb2a1:
		classic = 1;
		swap = 1;
		break;
	case 0x0a0d0d0a:
		swap = get32(hdr + 8, 0) != 0x1a2b3c4d;
		if (swap && get32(hdr + 8, 1) != 0x1a2b3c4d)
			goto bad;
		/* Skip the rest of the section header block. */
		if (get32(hdr + 4, swap) < 28 || get32(hdr + 4, swap) - 24 > sizeof(buf) ||
		    get(buf, get32(hdr + 4, swap) - 24, fp) != 1)
			goto bad;
		break;
	default:
		goto bad;
	}
	if (classic) {
		linktype = (int)get32(hdr + 20, swap);
		if (linktype != 1)
			family = 0;
		for (;;) {
			uint32_t caplen;
			int r = get(hdr, 16, fp);

			if (r == 0)
				break;
			caplen = get32(hdr + 8, swap);
			if (r < 0 || caplen > sizeof(buf) || get(buf, caplen, fp) != 1)
				goto bad;
			frame(buf, caplen, family, src, port);
		}
	} else {
		for (;;) {
			uint32_t type, blen, caplen;
			int r = get(hdr, 8, fp);

			if (r == 0)
				break;
			type = get32(hdr, swap);
			blen = get32(hdr + 4, swap);
			if (r < 0 || blen < 12 || blen % 4 || blen - 8 > sizeof(buf) || get(buf, blen - 8, fp) != 1)
				goto bad;
			if (type == 0x0a0d0d0a) {
				goto bad; /* a second section: not what dumpcap writes */
			} else if (type == 1) {
				/* Interface description: the first one's link type rules. */
				if (linktype < 0) {
					linktype = get16(buf, swap);
					if (linktype != 1)
						family = 0;
				}
			} else if (type == 6) {
				/* Enhanced packet: interface, timestamp, caplen, len, data. */
				caplen = get32(buf + 12, swap);
				if (blen < 32 || caplen > blen - 32)
					goto bad;
				frame(buf + 20, caplen, family, src, port);
			} else if (type == 3) {
				/* Simple packet: original length, data. */
				if (blen < 16)
					goto bad;
				caplen = get32(buf, swap);
				if (caplen > blen - 16)
					caplen = blen - 16;
				frame(buf + 4, caplen, family, src, port);
			}
		}
	}
	fclose(fp);
	if (!port) {
		printf("%ld\n", packets);
		return 0;
	}
	for (vni = 0; vni < 1 << 24; vni++) {
		if (!seen[vni >> 3]) {
			vni |= 7;
			continue;
		}
		if (seen[vni >> 3] & (1 << (vni & 7))) {
			printf("%s%u", sep, vni);
			sep = " ";
		}
	}
	if (other)
		printf("%sother", sep);
	printf("\n");
	return 0;
bad:
	fprintf(stderr, "pcap_read: %s is not a capture this program reads\n", argv[1]);
	return 1;
}
