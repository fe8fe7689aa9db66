// SPDX-License-Identifier: GPL-2.0
/*
 * Small-packet UDP load for the rvxlan benchmark: a sender that pushes
 * fixed-size datagrams as fast as it can, and a sink that counts what
 * arrives.
 *
 *   udp_pps send DEST_ADDR PORT SECONDS SIZE   prints "sent N"
 *   udp_pps recv PORT SECONDS                  prints "received N pps P"
 *
 * The sink starts its clock at the first datagram and stops SECONDS
 * later, so start it before the sender and give the sender longer.
 */
#define _GNU_SOURCE
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int do_send(const char *dst, const char *port, double seconds, size_t size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST };
	static char payload[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned long long sent = 0;
	struct addrinfo *ai;
	double end;
	int fd, i;

	if (size > sizeof(payload[0]) || getaddrinfo(dst, port, &hints, &ai)) {
		fprintf(stderr, "bad address, port or size\n");
		return 64;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("socket");
		return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = payload[i];
		iov[i].iov_len = size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	end = now() + seconds;
	while (now() < end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			sent += n;
	}
	printf("sent %llu\n", sent);
	return 0;
}

static int do_recv(const char *port, double seconds)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(atoi(port)) };
	unsigned long long got = 0;
	int fd, off = 0, rcvbuf = 8 << 20;
	struct timeval tv = { .tv_sec = 5 };
	char buf[2048];
	double start = 0;

	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("bind");
		return 1;
	}
	for (;;) {
		if (recv(fd, buf, sizeof(buf), 0) < 0)
			break;
		if (!got++)
			start = now();
		if (now() - start >= seconds)
			break;
	}
	if (got < 2) {
		printf("received %llu pps 0\n", got);
		return 1;
	}
	printf("received %llu pps %.0f\n", got - 1, (got - 1) / (now() - start));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "send"))
		return do_send(argv[2], argv[3], atof(argv[4]), atoi(argv[5]));
	if (argc == 4 && !strcmp(argv[1], "recv"))
		return do_recv(argv[2], atof(argv[3]));
	fprintf(stderr, "usage: %s send DEST_ADDR PORT SECONDS SIZE | recv PORT SECONDS\n", argv[0]);
	return 64;
}
