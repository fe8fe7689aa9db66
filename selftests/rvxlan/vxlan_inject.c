// SPDX-License-Identifier: GPL-2.0
/*
 * Sends crafted UDP datagrams, one per hex payload argument, so that the
 * selftests can put malformed VXLAN on the wire (clear I flag, reserved
 * bits, unknown VNI, truncated headers, short or oversize inner frames).
 *
 *   vxlan_inject [-t TOS] DEST_ADDR PORT HEX...
 *
 * To IPv4, from a raw socket: the program writes the UDP header itself
 * (source port 4789, checksum zero, as a VTEP sends), the kernel only
 * adds the IP header. To IPv6 (whose UDP needs a checksum), from a UDP
 * socket. -t sets the outer TOS / traffic class (ECN tests). Exits 0
 * when every datagram was sent.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST };
	static unsigned char buf[65536];
	struct addrinfo *ai;
	size_t hdr = 0;
	int fd, i, tos = -1;

	if (argc > 2 && !strcmp(argv[1], "-t")) {
		tos = (int)strtol(argv[2], NULL, 0);
		argv += 2;
		argc -= 2;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: %s [-t TOS] DEST_ADDR PORT HEX...\n", argv[0]);
		return 64;
	}
	if (getaddrinfo(argv[1], argv[2], &hints, &ai)) {
		fprintf(stderr, "bad address %s port %s\n", argv[1], argv[2]);
		return 64;
	}
	if (ai->ai_family == AF_INET) {
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
		hdr = sizeof(struct udphdr);
	} else {
		fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	}
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (tos >= 0 && (ai->ai_family == AF_INET ?
			 setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) :
			 setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos)))) {
		perror("setsockopt TOS");
		return 1;
	}
	for (i = 3; i < argc; i++) {
		size_t n = strlen(argv[i]) / 2, k;

		if (strlen(argv[i]) % 2 || n + hdr > sizeof(buf)) {
			fprintf(stderr, "bad hex payload %d\n", i - 2);
			return 64;
		}
		for (k = 0; k < n; k++) {
			int hi = hexval(argv[i][2 * k]), lo = hexval(argv[i][2 * k + 1]);

			if (hi < 0 || lo < 0) {
				fprintf(stderr, "bad hex payload %d\n", i - 2);
				return 64;
			}
			buf[hdr + k] = hi << 4 | lo;
		}
		if (hdr) {
			struct udphdr *uh = (struct udphdr *)buf;

			uh->source = htons(4789);
			uh->dest = ((struct sockaddr_in *)ai->ai_addr)->sin_port;
			uh->len = htons(hdr + n);
			uh->check = 0;
		}
		if (sendto(fd, buf, hdr + n, 0, ai->ai_addr, ai->ai_addrlen) != (ssize_t)(hdr + n)) {
			perror("sendto");
			return 1;
		}
	}
	freeaddrinfo(ai);
	close(fd);
	return 0;
}
