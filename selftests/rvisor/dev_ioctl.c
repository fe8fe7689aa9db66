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

	/*
	 * Exactly the capabilities rvisor implements are reported, with the
	 * values of Documentation/uapi.rst; every other number reads 0.
	 */
	for (cap = 0; cap < 512; cap++) {
		int want = 0;

		switch (cap) {
		case KVM_CAP_USER_MEMORY:
		case KVM_CAP_SET_TSS_ADDR:
		case KVM_CAP_EXT_CPUID:
		case KVM_CAP_MP_STATE:
		case KVM_CAP_USER_NMI:
		case KVM_CAP_VCPU_EVENTS:
		case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
		case KVM_CAP_SET_IDENTITY_MAP_ADDR:
		case KVM_CAP_INTERNAL_ERROR_DATA:
		case KVM_CAP_READONLY_MEM:
		case KVM_CAP_IMMEDIATE_EXIT:
		case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
			want = 1;
			break;
		case KVM_CAP_IRQ_ROUTING:
			want = 4096;
			break;
		case KVM_CAP_NR_VCPUS:
		case KVM_CAP_MAX_VCPUS:
		case KVM_CAP_MAX_VCPU_ID:
			want = 16;
			break;
		case KVM_CAP_NR_MEMSLOTS:
		case KVM_CAP_MCE:
			want = 32;
			break;
		}
		r = ioctl(fd, KVM_CHECK_EXTENSION, cap);
		if (r != want) {
			printf("# KVM_CHECK_EXTENSION(%d) = %d (errno %d), want %d\n", cap, r, errno, want);
			nonzero++;
		}
	}
	result(nonzero == 0, "KVM_CHECK_EXTENSION reports exactly the implemented capabilities (0..511)");
	r = ioctl(fd, KVM_CHECK_EXTENSION, ~0UL);
	result(r == 0, "KVM_CHECK_EXTENSION with an out-of-range number is 0");

	r = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	result(r == 3 * 4096, "KVM_GET_VCPU_MMAP_SIZE is 3 pages, as KVM on x86 (%d)", r);
	r = ioctl(fd, KVM_CREATE_VM, 0);
	result(r >= 0, "KVM_CREATE_VM returns a file descriptor (%d)", r);
	if (r >= 0)
		close(r);
	expect_errno(fd, _IO(0x12, 0x34), 0, ENOTTY, "a foreign ioctl number");

	r = ioctl(fd, KVM_GET_API_VERSION, 0);
	result(r == KVM_API_VERSION, "device still answers after the rejected calls");
	close(fd);

	printf("# Totals: pass:%d fail:%d skip:0\n", test_num - failed, failed);
	return failed ? 1 : 0;
}
