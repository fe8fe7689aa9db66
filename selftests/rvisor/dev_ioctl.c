// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/rvisor answers the KVM system ioctls it implements with KVM's
 * numbers and values, and rejects everything else without side effects.
 * Needs rvisor.ko loaded (the runner's script loads it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#define KSFT_SKIP 4

static int test_num, failed;

static void result(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%sok %d ", ok ? "" : "not ", ++test_num);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (!ok)
		failed++;
}

/* Expects ioctl(fd, cmd, arg) to fail with errno `want`. */
static void expect_errno(int fd, unsigned long cmd, unsigned long arg, int want, const char *name)
{
	int r = ioctl(fd, cmd, arg);
	int err = errno;

	if (r != -1 || err != want)
		printf("# %s: returned %d, errno %d (%s); want -1, errno %d (%s)\n",
		       name, r, r == -1 ? err : 0, r == -1 ? strerror(err) : "-", want, strerror(want));
	result(r == -1 && err == want, "%s fails with %s", name, strerror(want));
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/rvisor";
	int fd, r, cap, nonzero = 0;

	printf("KTAP version 1\n1..9\n");
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("# open %s: %s\n", path, strerror(errno));
		printf("not ok 1 open %s\n", path);
		return 1;
	}
	result(1, "open %s", path);

	r = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION)
		printf("# KVM_GET_API_VERSION returned %d (errno %d)\n", r, errno);
	result(r == KVM_API_VERSION, "KVM_GET_API_VERSION is %d", KVM_API_VERSION);

	/* KVM rejects a non-zero argument; so must we. */
	expect_errno(fd, KVM_GET_API_VERSION, 1, EINVAL, "KVM_GET_API_VERSION with argument 1");

	/* Nothing optional is implemented yet: every capability reads 0. */
	for (cap = 0; cap < 512; cap++) {
		r = ioctl(fd, KVM_CHECK_EXTENSION, cap);
		if (r != 0) {
			printf("# KVM_CHECK_EXTENSION(%d) = %d (errno %d)\n", cap, r, errno);
			nonzero++;
		}
	}
	result(nonzero == 0, "KVM_CHECK_EXTENSION reports no capability (0..511)");
	r = ioctl(fd, KVM_CHECK_EXTENSION, ~0UL);
	result(r == 0, "KVM_CHECK_EXTENSION with an out-of-range number is 0");

	/* Not implemented yet: must be ENOTTY, never a crash or a fake success. */
	expect_errno(fd, KVM_CREATE_VM, 0, ENOTTY, "KVM_CREATE_VM");
	expect_errno(fd, KVM_GET_VCPU_MMAP_SIZE, 0, ENOTTY, "KVM_GET_VCPU_MMAP_SIZE");
	expect_errno(fd, _IO(0x12, 0x34), 0, ENOTTY, "a foreign ioctl number");

	r = ioctl(fd, KVM_GET_API_VERSION, 0);
	result(r == KVM_API_VERSION, "device still answers after the rejected calls");
	close(fd);

	printf("# Totals: pass:%d fail:%d skip:0\n", test_num - failed, failed);
	return failed ? 1 : 0;
}
