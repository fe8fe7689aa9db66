/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small harness for rvisor's C selftests, after KVM's selftests: create
 * a VM on a KVM-compatible device (/dev/rvisor or /dev/kvm), give it
 * memory, load guest code, run vCPUs and check their exits. Guest code is
 * written with the assembler's .code16/.code32/.code64 directives in the
 * test file and copied into guest memory.
 */
#ifndef RVISOR_VMTEST_H
#define RVISOR_VMTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "x86.h"

static int vt_num, vt_failed;

static inline void vt_result(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%sok %d ", ok ? "" : "not ", ++vt_num);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	if (!ok)
		vt_failed++;
}

#define vt_diag(...) do { printf("# " __VA_ARGS__); printf("\n"); } while (0)

static inline void vt_die(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

struct vt_vm {
	int sys, vm;
	size_t run_size;
};

struct vt_vcpu {
	int fd;
	struct kvm_run *run;
};

static inline struct vt_vm vt_vm_create(const char *dev)
{
	struct vt_vm vm;

	vm.sys = open(dev, O_RDWR | O_CLOEXEC);
	if (vm.sys < 0)
		vt_die(dev);
	vm.vm = ioctl(vm.sys, KVM_CREATE_VM, 0);
	if (vm.vm < 0)
		vt_die("KVM_CREATE_VM");
	vm.run_size = ioctl(vm.sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	return vm;
}

static inline void vt_vm_destroy(struct vt_vm *vm)
{
	close(vm->vm);
	close(vm->sys);
}

/* Anonymous memory for a slot; returns its host address. */
static inline void *vt_mem(struct vt_vm *vm, int slot, uint64_t gpa, size_t size, uint32_t flags)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)p,
	};

	if (p == MAP_FAILED)
		vt_die("mmap");
	if (ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &r))
		vt_die("KVM_SET_USER_MEMORY_REGION");
	return p;
}

static inline struct vt_vcpu vt_vcpu_create(struct vt_vm *vm, int id)
{
	struct vt_vcpu v;

	v.fd = ioctl(vm->vm, KVM_CREATE_VCPU, id);
	if (v.fd < 0)
		vt_die("KVM_CREATE_VCPU");
	v.run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v.fd, 0);
	if (v.run == MAP_FAILED)
		vt_die("mmap vcpu");
	return v;
}

static inline void vt_vcpu_destroy(struct vt_vm *vm, struct vt_vcpu *v)
{
	munmap(v->run, vm->run_size);
	close(v->fd);
}

/* Zeroed registers, RIP = entry, interrupts off, stack below 0x8000. */
static inline void vt_set_entry(struct vt_vcpu *v, uint64_t entry)
{
	struct kvm_regs r;

	memset(&r, 0, sizeof(r));
	r.rip = entry;
	r.rflags = X86_EFLAGS_FIXED;
	r.rsp = 0x8000;
	if (ioctl(v->fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
}

/* Real mode, CS:IP = 0:entry, stack below 0x8000. */
static inline void vt_real_mode(struct vt_vcpu *v, uint64_t entry)
{
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.cs.base = 0;
	s.cs.selector = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS");
	vt_set_entry(v, entry);
}

/* Flat 32-bit protected mode, paging off. */
static inline void vt_protected_mode(struct vt_vcpu *v, uint64_t entry)
{
	struct kvm_sregs s;
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 8, .type = SEG_TYPE_CODE_XRA,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_segment data = code;

	data.type = SEG_TYPE_DATA_RWA;
	data.selector = 16;
	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 |= X86_CR0_PE;
	if (ioctl(v->fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS");
	vt_set_entry(v, entry);
}

static inline const char *vt_exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return "IO";
	case KVM_EXIT_HLT: return "HLT";
	case KVM_EXIT_MMIO: return "MMIO";
	case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
	case KVM_EXIT_INTR: return "INTR";
	case KVM_EXIT_IRQ_WINDOW_OPEN: return "IRQ_WINDOW_OPEN";
	case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
	default: return "?";
	}
}

/* Runs until the next exit; returns the exit reason, or -errno. */
static inline int vt_run(struct vt_vcpu *v)
{
	if (ioctl(v->fd, KVM_RUN, 0))
		return -errno;
	return v->run->exit_reason;
}

/* Runs and checks the exit reason; prints details of a surprise. */
static inline int vt_expect_exit(struct vt_vcpu *v, uint32_t want, const char *what)
{
	int r = vt_run(v);

	if (r != (int)want) {
		if (r < 0)
			vt_diag("%s: KVM_RUN failed: %s", what, strerror(-r));
		else
			vt_diag("%s: exit %s (%d), want %s", what, vt_exit_name(r), r, vt_exit_name(want));
		if (r == KVM_EXIT_INTERNAL_ERROR)
			vt_diag("  suberror %u ndata %u data %llx %llx %llx %llx", v->run->internal.suberror,
				v->run->internal.ndata,
				(unsigned long long)v->run->internal.data[0],
				(unsigned long long)v->run->internal.data[1],
				(unsigned long long)v->run->internal.data[2],
				(unsigned long long)v->run->internal.data[3]);
		if (r == KVM_EXIT_FAIL_ENTRY)
			vt_diag("  hardware reason %#llx",
				(unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
		if (r == KVM_EXIT_IO)
			vt_diag("  port %#x dir %d size %d", v->run->io.port, v->run->io.direction,
				v->run->io.size);
		if (r == KVM_EXIT_MMIO)
			vt_diag("  addr %#llx len %u write %d", (unsigned long long)v->run->mmio.phys_addr,
				v->run->mmio.len, v->run->mmio.is_write);
		return 0;
	}
	return 1;
}

static inline uint32_t vt_io_u32(struct vt_vcpu *v)
{
	uint32_t x;

	memcpy(&x, (uint8_t *)v->run + v->run->io.data_offset, 4);
	return x;
}

static inline struct kvm_regs vt_regs(struct vt_vcpu *v)
{
	struct kvm_regs r;

	if (ioctl(v->fd, KVM_GET_REGS, &r))
		vt_die("KVM_GET_REGS");
	return r;
}

/*
 * Gives the vCPU every CPUID leaf the device supports, as VMMs do;
 * returns CPUID.1:ECX.
 */
static inline uint32_t vt_set_supported_cpuid(struct vt_vm *vm, struct vt_vcpu *v)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[100];
	} cpuid = { .c.nent = 100 };
	uint32_t ecx = 0;

	if (ioctl(vm->sys, KVM_GET_SUPPORTED_CPUID, &cpuid))
		vt_die("KVM_GET_SUPPORTED_CPUID");
	for (unsigned int i = 0; i < cpuid.c.nent; i++)
		if (cpuid.e[i].function == 1)
			ecx = cpuid.e[i].ecx;
	if (ioctl(v->fd, KVM_SET_CPUID2, &cpuid))
		vt_die("KVM_SET_CPUID2");
	return ecx;
}

/* Guest code between two labels of a .pushsection block. */
/*
 * A fixed CPUID table (a Haswell without x2APIC, PMU, RDTSCP or leaf
 * 0x80000008), so that rvisor and KVM, whose supported lists differ, run
 * guests on the same one.
 */
static inline void vt_set_fixed_cpuid(struct vt_vcpu *v)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[8];
	} t = { .c.nent = 8 };
	const uint32_t sig = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;

	/* "GenuineIntel", 0xd basic leaves */
	t.e[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd, .ebx = 0x756e6547,
					    .ecx = 0x6c65746e, .edx = 0x49656e69 };
	/* Haswell signature; SSE3 SSSE3 CX16 SSE4.1 SSE4.2 POPCNT XSAVE; FPU ... SSE2 */
	t.e[1] = (struct kvm_cpuid_entry2){ .function = 1, .eax = 0x000306c3, .ebx = 0x00010800,
					    .ecx = 0x04982201, .edx = 0x0789fbff };
	/* BMI1 BMI2 ERMS */
	t.e[2] = (struct kvm_cpuid_entry2){ .function = 7, .flags = sig, .ebx = 0x308 };
	t.e[3] = (struct kvm_cpuid_entry2){ .function = 0xd, .flags = sig, .eax = 3, .ebx = 576,
					    .ecx = 576 };
	t.e[4] = (struct kvm_cpuid_entry2){ .function = 0xd, .index = 1, .flags = sig };
	t.e[5] = (struct kvm_cpuid_entry2){ .function = 0x80000000, .eax = 0x80000001 };
	/* LAHF ABM PREFETCHW; SYSCALL NX LM */
	t.e[6] = (struct kvm_cpuid_entry2){ .function = 0x80000001, .ecx = 0x121,
					    .edx = 0x20100800 };
	t.c.nent = 7;
	if (ioctl(v->fd, KVM_SET_CPUID2, &t))
		vt_die("KVM_SET_CPUID2");
}

#define VT_GUEST(name) extern const uint8_t name##_start[], name##_end[]
#define VT_LOAD(mem, off, name) memcpy((uint8_t *)(mem) + (off), name##_start, name##_end - name##_start)

#endif /* RVISOR_VMTEST_H */
