// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl fuzzer for a KVM-compatible device: random sequences of every
 * ioctl rvisor implements, with valid, boundary and hostile arguments,
 * from several threads at once, racing KVM_RUN against fd close, slot
 * deletion, SET_SREGS, munmap/remap/MADV_DONTNEED of guest RAM, fork with
 * inherited fds, and SIGKILL of the whole process.
 *
 *   ioctl_fuzz [DEVICE [IOCTLS [SEED]]]
 *
 * IOCTLS (default 200000) are spread over rounds: each round is a child
 * process with THREADS threads that the parent kills at a random moment
 * (a quarter of them) or that ends by itself after its share. The seed picks every argument
 * of every thread; the interleaving of the threads is the scheduler's, so
 * a seed reproduces the inputs, not the races.
 *
 * What it checks, beyond "the kernel survives" (the runner's kernel log
 * check, and KASAN/lockdep/kmemleak on the debug kernel):
 *  - every error is one of KVM's errnos for bad input (EINVAL, EFAULT,
 *    E2BIG, ENOMEM, EEXIST, ENOTTY, EINTR, EIO, ENOSPC, ENXIO, EBUSY, EPERM,
 *    EAGAIN, ENOENT, EBADF); anything else is reported;
 *  - the constant answers stay constant (API version 12, the run-page size);
 *  - a VM or vCPU fd used from a forked child gets EIO, never a result;
 *  - every fuzzed ioctl both succeeded and failed at least once (so the
 *    arguments reached past the first check: a fuzzer that only ever hit
 *    -EFAULT would fail here);
 *  - afterwards a fresh VM still runs a guest to HLT (the positive control).
 * The wrapper (ioctl_fuzz.sh) then unloads the module: no reference is left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/kvm.h>

#include "../lib/fuzz_rng.h"
#include "x86.h"

#define THREADS 4
#define NVM 2
#define NVCPU 3
#define RAM_SIZE (256 * 1024)
#define ROUND_MAX 20000	/* ioctls per round, at most */

/* What a thread does; one counter pair per entry. */
enum op {
	OP_API, OP_EXT, OP_MMAP_SIZE, OP_SUP_CPUID, OP_MSR_LIST,
	OP_CREATE_VM, OP_CREATE_VCPU, OP_SET_REGION, OP_TSS, OP_IDMAP,
	OP_RUN, OP_GET_REGS, OP_SET_REGS, OP_GET_SREGS, OP_SET_SREGS,
	OP_SET_CPUID, OP_GET_CPUID, OP_GET_MSRS, OP_SET_MSRS, OP_INTERRUPT, OP_NMI, OP_GET_MP, OP_SET_MP, OP_GET_EVENTS, OP_SET_EVENTS,
	OP_GET_FPU, OP_SET_FPU, OP_SETUP_MCE, OP_UNKNOWN,
	OP_MAP_RUN, OP_NR,
};

static const char *const op_name[OP_NR] = {
	"GET_API_VERSION", "CHECK_EXTENSION", "GET_VCPU_MMAP_SIZE", "GET_SUPPORTED_CPUID",
	"GET_MSR_INDEX_LIST", "CREATE_VM", "CREATE_VCPU", "SET_USER_MEMORY_REGION",
	"SET_TSS_ADDR", "SET_IDENTITY_MAP_ADDR", "RUN", "GET_REGS", "SET_REGS", "GET_SREGS",
	"SET_SREGS", "SET_CPUID2", "GET_CPUID2", "GET_MSRS", "SET_MSRS", "INTERRUPT", "NMI", "GET_MP_STATE", "SET_MP_STATE", "GET_VCPU_EVENTS",
	"SET_VCPU_EVENTS", "GET_FPU", "SET_FPU", "X86_SETUP_MCE", "unknown ioctl",
	"mmap of a vCPU fd",
};

/* Shared with the parent (MAP_SHARED): counts survive SIGKILL. */
struct shared {
	atomic_long ioctls;
	atomic_long ok[OP_NR], err[OP_NR];
	atomic_long bad_errno, bad_value, fork_leak, forks, remap_failed, faults, ram_lost;
	atomic_int last_bad_errno, last_bad_op;
};
static struct shared *sh;

static const char *dev;
static int sys_fd, null_fd;
static long run_size;

/* The fuzzed objects. A slot's fd number never changes: closing a VM or
 * vCPU is dup2() of /dev/null over it (so no other thread's ioctl can
 * reach a file opened meanwhile under a reused number), creating one is
 * dup2() of the new fd onto it. */
struct vm_slot {
	pthread_mutex_t lock;	/* fd replacement, RAM layout, guest code writes */
	int fd;
	int vcpu[NVCPU];
	uint8_t *ram;		/* RAM_SIZE bytes, reserved for the whole round */
	int ram_mapped;		/* 1: writable; 0: not (mprotect); -1: given up */
};
static struct vm_slot vms[NVM];


/* Boundary values first, then anything. */
static uint64_t pick64(void)
{
	static const uint64_t edge[] = {
		0, 1, 2, 0xfff, 0x1000, 0x1001, 0x7fffffff, 0x80000000, 0xffffffff,
		0x100000000ULL, 0xfffffffffffff000ULL, 0xffffffffffffffffULL,
		0x7fffffffffffffffULL, 0x8000000000000000ULL, 0x000ffffffffff000ULL,
		0x0010000000000000ULL, 0xffff800000000000ULL, 0x00007ffffffff000ULL,
	};

	switch (below(4)) {
	case 0: return edge[below(sizeof(edge) / sizeof(edge[0]))];
	case 1: return rnd() & 0xffff;
	case 2: return rnd() & ~0xfffULL;
	default: return rnd();
	}
}

/* A user pointer: usually a good buffer, sometimes a hostile one. */
static void *pick_ptr(void *good)
{
	switch (below(12)) {
	case 0: return NULL;
	case 1: return (void *)0xffff888000000000ULL;	/* kernel direct map */
	case 2: return (void *)0xffffffff81000000ULL;	/* kernel text */
	case 3: return (void *)0x10;			/* unmapped, low */
	case 4: return (char *)good + 1;		/* misaligned */
	default: return good;
	}
}

static int allowed_errno(int e)
{
	switch (e) {
	case EINVAL: case EFAULT: case E2BIG: case ENOMEM: case EEXIST: case ENOTTY:
	case EINTR: case EIO: case ENOSPC: case ENXIO: case EBUSY: case EPERM:
	case EAGAIN: case ENOENT: case EBADF:
		return 1;
	}
	return 0;
}

/* Counts one ioctl's result. */
static void account(enum op op, long r, int e)
{
	atomic_fetch_add(&sh->ioctls, 1);
	if (r >= 0) {
		atomic_fetch_add(&sh->ok[op], 1);
		return;
	}
	atomic_fetch_add(&sh->err[op], 1);
	if (!allowed_errno(e)) {
		atomic_fetch_add(&sh->bad_errno, 1);
		atomic_store(&sh->last_bad_errno, e);
		atomic_store(&sh->last_bad_op, op);
	}
}

static long do_ioctl(enum op op, int fd, unsigned long cmd, void *arg)
{
	long r = ioctl(fd, cmd, arg);

	account(op, r, r < 0 ? errno : 0);
	return r;
}

static int any_vcpu(void)
{
	struct vm_slot *s = &vms[below(NVM)];

	return s->vcpu[below(NVCPU)];
}

/* Guest code at random places in RAM: sensitive instructions, loops,
 * faults, and junk. */
static void write_guest(struct vm_slot *s)
{
	static const uint8_t snip[][8] = {
		{ 0xf4 },			/* hlt */
		{ 0xe6, 0x10 },			/* out %al, $0x10 */
		{ 0xe4, 0x10 },			/* in $0x10, %al */
		{ 0x0f, 0xa2 },			/* cpuid */
		{ 0x0f, 0x32 },			/* rdmsr */
		{ 0x0f, 0x30 },			/* wrmsr */
		{ 0x0f, 0x22, 0xc0 },		/* mov %eax, %cr0 */
		{ 0x0f, 0x22, 0xe0 },		/* mov %eax, %cr4 */
		{ 0x0f, 0x05 },			/* syscall */
		{ 0x0f, 0x01, 0xd1 },		/* xsetbv */
		{ 0x0f, 0x01, 0xc1 },		/* vmcall */
		{ 0x0f, 0x09 },			/* wbinvd */
		{ 0x0f, 0x0b },			/* ud2 */
		{ 0xcc },			/* int3 */
		{ 0xeb, 0xfe },			/* jmp . */
		{ 0x8e, 0xd8 },			/* mov %ax, %ds */
		{ 0xa1, 0x00, 0x00, 0x10, 0x00 },	/* mov 0x100000, %eax (MMIO) */
		{ 0x0f, 0x23, 0xf8 },		/* mov %eax, %dr7 */
	};
	uint8_t *p;

	pthread_mutex_lock(&s->lock);
	if (s->ram_mapped > 0) {
		for (int i = 0; i < 16; i++) {
			uint32_t off = below(RAM_SIZE - 16);

			p = s->ram + off;
			if (below(4) == 0) {
				for (int j = 0; j < 16; j++)
					p[j] = (uint8_t)rnd();
			} else {
				memcpy(p, snip[below(sizeof(snip) / sizeof(snip[0]))], 8);
			}
		}
		/* The entry point of the default real-mode state (0xfff0 of
		 * the first slot's RAM at GPA 0) and of vt-style tests (0x1000). */
		memcpy(s->ram + 0x1000, snip[below(sizeof(snip) / sizeof(snip[0]))], 8);
	}
	pthread_mutex_unlock(&s->lock);
}

static void op_set_region(struct vm_slot *s)
{
	struct kvm_userspace_memory_region r = { 0 };
	static const uint32_t slots[] = { 0, 1, 2, 3, 31, 32, 509, 32767, 0x10000, 0xffffffff };

	r.slot = below(3) ? below(4) : slots[below(10)];
	r.flags = below(4) ? 0 : below(2) ? KVM_MEM_READONLY : (uint32_t)rnd();
	if (below(3)) {
		/* A plausible slot: part of the round's RAM, page aligned. */
		uint64_t off = (uint64_t)below(RAM_SIZE / 4096) * 4096;

		r.guest_phys_addr = below(2) ? 0 : (uint64_t)below(64) << 20;
		r.memory_size = below(5) ? (RAM_SIZE - off) & ~0xfffULL : 0;
		r.userspace_addr = (uint64_t)(uintptr_t)s->ram + off;
	} else {
		r.guest_phys_addr = pick64();
		r.memory_size = pick64();
		r.userspace_addr = below(2) ? (uint64_t)(uintptr_t)s->ram : pick64();
	}
	do_ioctl(OP_SET_REGION, s->fd, KVM_SET_USER_MEMORY_REGION, pick_ptr(&r));
}

static void op_regs(int fd, int set)
{
	struct kvm_regs r;

	if (!set) {
		do_ioctl(OP_GET_REGS, fd, KVM_GET_REGS, pick_ptr(&r));
		return;
	}
	memset(&r, 0, sizeof(r));
	if (below(2)) {
		r.rip = below(2) ? 0x1000 : pick64();
		r.rflags = below(2) ? 2 : pick64();
		r.rsp = pick64();
		r.rax = pick64();
		r.rcx = pick64();
	} else {
		uint64_t *w = (uint64_t *)&r;

		for (size_t i = 0; i < sizeof(r) / 8; i++)
			w[i] = pick64();
	}
	do_ioctl(OP_SET_REGS, fd, KVM_SET_REGS, pick_ptr(&r));
}

static void op_sregs(int fd, int set)
{
	struct kvm_sregs s;

	if (ioctl(fd, KVM_GET_SREGS, &s) < 0 || !set) {
		if (!set)
			do_ioctl(OP_GET_SREGS, fd, KVM_GET_SREGS, pick_ptr(&s));
		return;
	}
	switch (below(6)) {
	case 0: s.cr0 = pick64(); break;
	case 1: s.cr4 = pick64(); break;
	case 2: s.efer = pick64(); break;
	case 3: s.cr3 = pick64(); break;
	case 4: {
		struct kvm_segment *seg[] = { &s.cs, &s.ds, &s.ss, &s.tr, &s.ldt };
		struct kvm_segment *g = seg[below(5)];

		g->base = pick64();
		g->limit = (uint32_t)pick64();
		g->selector = (uint16_t)rnd();
		g->type = rnd() & 15;
		g->present = rnd() & 1;
		g->dpl = rnd() & 3;
		g->db = rnd() & 1;
		g->s = rnd() & 1;
		g->l = rnd() & 1;
		g->g = rnd() & 1;
		g->unusable = rnd() & 1;
		break;
	}
	default: {
		/* Long mode, consistently or not. */
		s.cr0 |= X86_CR0_PG | X86_CR0_PE;
		s.cr4 |= X86_CR4_PAE;
		s.efer |= EFER_LME | EFER_LMA;
		s.cs.l = 1;
		s.cs.db = 0;
		s.cr3 = below(2) ? 0x2000 : pick64();
		break;
	}
	}
	if (below(8) == 0)
		s.apic_base = pick64();
	if (below(8) == 0)
		s.interrupt_bitmap[below(4)] = pick64();
	do_ioctl(OP_SET_SREGS, fd, KVM_SET_SREGS, pick_ptr(&s));
}

/* A kvm_cpuid2 with room for more entries than any device has. */
struct cpuid_buf {
	struct kvm_cpuid2 c;
	struct kvm_cpuid_entry2 e[260];
};

static void op_cpuid(int fd, int set)
{
	static const uint32_t nents[] = { 0, 1, 2, 80, 256, 257, 0x7fffffff, 0xffffffff };
	struct cpuid_buf *b = calloc(1, sizeof(*b));

	if (!b)
		return;
	b->c.nent = below(2) ? below(260) : nents[below(8)];
	for (int i = 0; i < 260; i++) {
		b->e[i].function = below(2) ? below(0x20) : (uint32_t)pick64();
		b->e[i].index = below(4);
		b->e[i].flags = below(4);
		b->e[i].eax = (uint32_t)rnd();
		b->e[i].ebx = (uint32_t)rnd();
		b->e[i].ecx = (uint32_t)rnd();
		b->e[i].edx = (uint32_t)rnd();
	}
	if (set)
		do_ioctl(OP_SET_CPUID, fd, KVM_SET_CPUID2, pick_ptr(b));
	else
		do_ioctl(OP_GET_CPUID, fd, KVM_GET_CPUID2, pick_ptr(b));
	free(b);
}

static void op_msrs(int fd, int set)
{
	static const uint32_t idx[] = {
		0x10, 0x1b, 0x3a, 0x48, 0x49, 0x8b, 0xc1, 0xe7, 0xe8, 0x174, 0x175, 0x176,
		0x1a0, 0x1d9, 0x277, 0x2ff, 0x6e0, 0xc0000080, 0xc0000081, 0xc0000082,
		0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103,
		0x4b564d00, 0x4b564d01, 0x40000000, 0xffffffff, 0, 0x3ff, 0x400,
	};
	struct {
		struct kvm_msrs m;
		struct kvm_msr_entry e[64];
	} b;

	memset(&b, 0, sizeof(b));
	b.m.nmsrs = below(4) ? below(65) : (uint32_t)pick64();
	for (int i = 0; i < 64; i++) {
		b.e[i].index = below(4) ? idx[below(sizeof(idx) / 4)] : (uint32_t)rnd();
		b.e[i].data = pick64();
	}
	do_ioctl(set ? OP_SET_MSRS : OP_GET_MSRS, fd, set ? KVM_SET_MSRS : KVM_GET_MSRS,
		 pick_ptr(&b));
}

static void op_sup_cpuid(void);

static void op_sys(void)
{
	uint64_t arg;
	long r;

	switch (below(5)) {
	case 0:
		/* KVM takes no argument here: a non-zero one is EINVAL. */
		arg = below(8) ? 0 : pick64();
		r = do_ioctl(OP_API, sys_fd, KVM_GET_API_VERSION, (void *)(uintptr_t)arg);
		if (!arg && r != 12)
			atomic_fetch_add(&sh->bad_value, 1);
		break;
	case 1:
		do_ioctl(OP_EXT, below(2) ? sys_fd : vms[below(NVM)].fd, KVM_CHECK_EXTENSION,
			 (void *)(uintptr_t)(below(2) ? below(256) : pick64()));
		break;
	case 2:
		arg = below(8) ? 0 : pick64();
		r = do_ioctl(OP_MMAP_SIZE, sys_fd, KVM_GET_VCPU_MMAP_SIZE, (void *)(uintptr_t)arg);
		if (!arg && r != run_size)
			atomic_fetch_add(&sh->bad_value, 1);
		break;
	case 3:
		op_sup_cpuid();
		break;
	default: {
		struct {
			struct kvm_msr_list l;
			uint32_t i[512];
		} b;

		b.l.nmsrs = below(2) ? below(512) : (uint32_t)pick64();
		do_ioctl(OP_MSR_LIST, sys_fd, KVM_GET_MSR_INDEX_LIST, pick_ptr(&b));
	}
	}
}

static void op_sup_cpuid(void)
{
	struct cpuid_buf *b = calloc(1, sizeof(*b));

	if (!b)
		return;
	b->c.nent = below(2) ? below(260) : (uint32_t)pick64();
	do_ioctl(OP_SUP_CPUID, sys_fd, KVM_GET_SUPPORTED_CPUID, pick_ptr(b));
	free(b);
}

static void replace_fd(int slot_fd, int new_fd)
{
	dup2(new_fd, slot_fd);
	if (new_fd != null_fd)
		close(new_fd);
}

static void op_create_vm(struct vm_slot *s)
{
	long fd = do_ioctl(OP_CREATE_VM, sys_fd, KVM_CREATE_VM,
			   (void *)(uintptr_t)(below(8) ? 0 : pick64()));

	if (fd < 0)
		return;
	pthread_mutex_lock(&s->lock);
	replace_fd(s->fd, fd);
	pthread_mutex_unlock(&s->lock);
}

static void op_create_vcpu(struct vm_slot *s)
{
	static const uint64_t ids[] = { 0, 1, 2, 3, 254, 255, 256, 1023, 1024, 4095, 0x7fffffff,
					0xffffffff, 0xffffffffffffffffULL };
	uint64_t id = below(2) ? below(4) : ids[below(13)];
	long fd = do_ioctl(OP_CREATE_VCPU, s->fd, KVM_CREATE_VCPU, (void *)(uintptr_t)id);

	if (fd < 0)
		return;
	pthread_mutex_lock(&s->lock);
	replace_fd(s->vcpu[below(NVCPU)], fd);
	pthread_mutex_unlock(&s->lock);
}

/* Guest RAM under the VM's feet: replaced by fresh zero pages at the same
 * address, dropped, made read-only, unmapped. A hole is never left open:
 * another thread's mmap(NULL) could land in it, and a later remap would
 * then clobber that mapping (and its munmap our RAM); so an unmapped part
 * comes back at once with MAP_FIXED_NOREPLACE, and if something else took
 * the place, the RAM is given up for the round (write_guest() skips it). */
static void op_ram(struct vm_slot *s)
{
	uint32_t off = below(RAM_SIZE / 4096) * 4096;
	size_t len = (below(RAM_SIZE / 4096 - off / 4096) + 1) * 4096;

	pthread_mutex_lock(&s->lock);
	switch (below(5)) {
	case 0:
		if (s->ram_mapped < 0)
			break;
		munmap(s->ram + off, len);
		if (mmap(s->ram + off, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != s->ram + off) {
			atomic_fetch_add(&sh->ram_lost, 1);
			s->ram_mapped = -1;
		}
		break;
	case 1:
		madvise(s->ram + off, len, MADV_DONTNEED);
		break;
	case 2:
		if (s->ram_mapped < 0)
			break;
		mprotect(s->ram, RAM_SIZE, below(2) ? PROT_READ : PROT_NONE);
		s->ram_mapped = 0;
		break;
	case 3:
		if (s->ram_mapped < 0)
			break;
		if (mprotect(s->ram, RAM_SIZE, PROT_READ | PROT_WRITE) == 0)
			s->ram_mapped = 1;
		else
			atomic_fetch_add(&sh->remap_failed, 1);
		break;
	default:
		/* Replaced in one step: no hole. */
		if (s->ram_mapped < 0)
			break;
		if (mmap(s->ram + off, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			atomic_fetch_add(&sh->remap_failed, 1);
		break;
	}
	pthread_mutex_unlock(&s->lock);
}

/* A child process with the inherited fds: every VM and vCPU ioctl is EIO
 * (or ENOTTY, where the slot holds /dev/null). */
static void op_fork(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		int leak = 0;

		for (int i = 0; i < 8; i++) {
			struct vm_slot *s = &vms[i % NVM];
			struct kvm_regs r;
			long v;

			v = ioctl(s->fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
			if (v >= 0 || (errno != EIO && errno != ENOTTY))
				leak = 1;
			if (i & 1)
				v = ioctl(s->vcpu[i % NVCPU], KVM_RUN, 0);
			else
				v = ioctl(s->vcpu[i % NVCPU], KVM_GET_REGS, &r);
			if (v >= 0 || (errno != EIO && errno != ENOTTY))
				leak = 1;
		}
		_exit(leak);
	}
	if (pid > 0) {
		int st;

		atomic_fetch_add(&sh->forks, 1);
		if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st))
			atomic_fetch_add(&sh->fork_leak, 1);
	}
}

/*
 * KVM_INTERRUPT with any vector, KVM_NMI, KVM_GET/SET_MP_STATE with any state,
 * KVM_GET/SET_VCPU_EVENTS, KVM_GET/SET_FPU and KVM_X86_SETUP_MCE with anything, and
 * the run-page fields KVM_RUN reads
 * (request_interrupt_window, cr8: a TPR above 15 must fail the run with
 * EINVAL, change nothing) set to anything, as a hostile VMM may.
 */
static void op_interrupt(int v)
{
	struct kvm_interrupt irq = { .irq = below(4) ? below(256) : (uint32_t)pick64() };

	if (below(4) == 0) {
		struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v, 0);

		if (run != MAP_FAILED) {
			run->request_interrupt_window = below(2) ? below(2) : (uint8_t)rnd();
			run->cr8 = below(2) ? below(16) : pick64();
			munmap(run, run_size);
		}
	}
	do_ioctl(OP_INTERRUPT, v, KVM_INTERRUPT, pick_ptr(&irq));
	if (below(2))
		do_ioctl(OP_NMI, v, KVM_NMI, NULL);
	if (below(4) == 0) {
		struct kvm_vcpu_events e;

		/* What the vCPU has, an edit of it, or anything at all. */
		uint32_t how = below(3);

		if (ioctl(v, KVM_GET_VCPU_EVENTS, &e) < 0 || how == 0) {
			for (size_t i = 0; i < sizeof(e); i++)
				((uint8_t *)&e)[i] = (uint8_t)rnd();
		} else if (how == 1) {
			e.exception.injected = below(2);
			e.exception.nr = below(2) ? below(32) : (uint8_t)rnd();
			e.exception.has_error_code = below(2);
			e.exception.error_code = (uint32_t)pick64();
			e.interrupt.injected = below(2);
			e.interrupt.nr = (uint8_t)rnd();
			e.interrupt.shadow = below(4);
			e.nmi.injected = below(2);
			e.nmi.pending = below(4);
			e.nmi.masked = below(2);
			e.flags = below(2) ? below(16) : (uint32_t)rnd();
		}
		if (below(2))
			do_ioctl(OP_GET_EVENTS, v, KVM_GET_VCPU_EVENTS, pick_ptr(&e));
		else
			do_ioctl(OP_SET_EVENTS, v, KVM_SET_VCPU_EVENTS, pick_ptr(&e));
	}
	if (below(4) == 0) {
		/*
		 * RUNNABLE half of the time: it is the one state SET accepts
		 * without an in-kernel APIC, and the check below needs SET to
		 * succeed at least once (with below(12) alone, about 70 SETs
		 * in 20,000 ioctls all failed one run in ten).
		 */
		struct kvm_mp_state mp = {
			.mp_state = below(2) ? KVM_MP_STATE_RUNNABLE :
				    below(2) ? below(12) : (uint32_t)pick64()
		};

		if (below(2))
			do_ioctl(OP_GET_MP, v, KVM_GET_MP_STATE, pick_ptr(&mp));
		else
			do_ioctl(OP_SET_MP, v, KVM_SET_MP_STATE, pick_ptr(&mp));
	}
	if (below(4) == 0) {
		/* Any bytes at all: MXCSR's reserved bits included, which the
		 * restore before the next entry must never see. */
		struct kvm_fpu f;

		for (size_t i = 0; i < sizeof(f); i++)
			((uint8_t *)&f)[i] = (uint8_t)rnd();
		if (below(2))
			do_ioctl(OP_GET_FPU, v, KVM_GET_FPU, pick_ptr(&f));
		else
			do_ioctl(OP_SET_FPU, v, KVM_SET_FPU, pick_ptr(&f));
	}
	if (below(8) == 0) {
		/* QEMU's MCG_CAP with any bank count, or anything. */
		uint64_t cap = below(2) ? (1ull << 8 | 1ull << 24 | below(40)) : pick64();

		do_ioctl(OP_SETUP_MCE, v, KVM_X86_SETUP_MCE, pick_ptr(&cap));
	}
}

static void one_op(void)
{
	struct vm_slot *s = &vms[below(NVM)];
	int v = any_vcpu();
	uint32_t pick = below(100);

	if (pick < 25) {
		/* KVM_RUN is the one that matters most: a quarter of all. */
		if (below(4) == 0)
			write_guest(s);
		long r = do_ioctl(OP_RUN, v, KVM_RUN, (void *)(uintptr_t)(below(16) ? 0 : 1));
		(void)r;
		return;
	}
	switch (pick % 23) {
	case 0: op_sys(); break;
	case 1: op_sup_cpuid(); break;
	case 2: if (below(3) == 0) op_create_vm(s); else op_create_vcpu(s); break;
	case 3: op_create_vcpu(s); break;
	case 4: case 5: op_set_region(s); break;
	case 6:
		do_ioctl(below(2) ? OP_TSS : OP_IDMAP, s->fd,
			 below(2) ? KVM_SET_TSS_ADDR : KVM_SET_IDENTITY_MAP_ADDR,
			 below(2) ? (void *)(uintptr_t)pick64() : pick_ptr(&(uint64_t){ pick64() }));
		break;
	case 7: op_regs(v, 0); break;
	case 8: case 9: op_regs(v, 1); break;
	case 10: op_sregs(v, 0); break;
	case 11: case 12: op_sregs(v, 1); break;
	case 13: op_cpuid(v, 1); break;
	case 14: op_cpuid(v, 0); break;
	case 15: op_msrs(v, 0); break;
	case 16: op_msrs(v, 1); break;
	case 17: {
		/* Another fd type's ioctls, and numbers nobody defines: these
		 * never succeed (on KVM either). */
		static const unsigned long sys_cmds[] = { KVM_CREATE_VM, KVM_GET_SUPPORTED_CPUID,
							  KVM_GET_MSR_INDEX_LIST };
		static const unsigned long vm_cmds[] = { KVM_CREATE_VCPU, KVM_SET_USER_MEMORY_REGION };
		static const unsigned long vcpu_cmds[] = { KVM_RUN, KVM_GET_REGS, KVM_SET_SREGS,
							   KVM_GET_MSRS };
		uint64_t buf[128] = { 0 };
		int fd;
		unsigned long cmd;

		switch (below(4)) {
		case 0: fd = sys_fd; cmd = below(2) ? vm_cmds[below(2)] : vcpu_cmds[below(4)]; break;
		case 1:
			/* KVM_SET_GSI_ROUTING: there is no in-kernel irqchip. */
			fd = s->fd;
			cmd = below(3) == 0 ? KVM_SET_GSI_ROUTING : below(2) ? sys_cmds[below(3)] : vcpu_cmds[below(4)];
			break;
		case 2: fd = v; cmd = below(2) ? sys_cmds[below(3)] : vm_cmds[below(2)]; break;
		default:
			fd = below(3) == 0 ? sys_fd : below(2) ? s->fd : v;
			/* KVMIO numbers KVM leaves unused, or any number. */
			cmd = below(2) ? _IO(KVMIO, 0xf0 + below(16)) : (unsigned long)(uint32_t)rnd();
			break;
		}
		do_ioctl(OP_UNKNOWN, fd, cmd, pick_ptr(buf));
		break;
	}
	case 18: {
		/* The run page: any length, any offset; unmapped again. */
		size_t len = below(2) ? (size_t)run_size : (below(4) + 1) * 4096;
		off_t off = below(2) ? 0 : (off_t)below(4) * 4096;
		int prot = below(2) ? PROT_READ | PROT_WRITE : PROT_READ | PROT_EXEC;
		void *p = mmap(NULL, len, prot, below(4) ? MAP_SHARED : MAP_PRIVATE, v, off);

		atomic_fetch_add(&sh->ioctls, 1);
		if (p == MAP_FAILED) {
			atomic_fetch_add(&sh->err[OP_MAP_RUN], 1);
		} else {
			atomic_fetch_add(&sh->ok[OP_MAP_RUN], 1);
			munmap(p, len);
		}
		break;
	}
	case 19: op_ram(s); break;
	case 21: op_interrupt(v); break;
	case 20:
		/* Close a vCPU or a whole VM while other threads use it. */
		pthread_mutex_lock(&s->lock);
		if (below(4) == 0)
			replace_fd(s->fd, null_fd);
		else
			replace_fd(s->vcpu[below(NVCPU)], null_fd);
		pthread_mutex_unlock(&s->lock);
		break;
	default:
		if (below(8) == 0)
			op_fork();
		else
			op_set_region(s);
		break;
	}
}

struct worker_arg {
	uint64_t seed;
	long n;
};

static void *worker(void *p)
{
	struct worker_arg *a = p;

	rng_seed(a->seed * 0x9E3779B97F4A7C15ULL);
	for (long n = a->n; n > 0; n--)
		one_op();
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* A fault in the fuzzer itself is its own bug: say where, then end the
 * round with status 5 (counted; the parent reports it). */
static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	char b[160];
	int n;

	(void)sig;
	(void)ctx;
	n = snprintf(b, sizeof(b), "# fuzzer fault at %p (RAM %p, %p)\n", si->si_addr,
		     (void *)vms[0].ram, (void *)vms[1].ram);
	if (write(1, b, n) < 0)
		_exit(5);
	_exit(5);
}

/* One round: a process of its own, so that SIGKILL tears it all down
 * (the parent's kill lands in whatever the threads are doing). The main
 * thread kicks the workers out of KVM_RUN (a guest in "jmp ." runs until
 * a signal) every 5 ms. */
static void round_child(uint64_t seed, long share)
{
	pthread_t t[THREADS];
	struct worker_arg a[THREADS];
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec kick = { 0, 5000000 };
	int alive, joined[THREADS] = { 0 };

	struct sigaction segv = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };

	/* No SA_RESTART: KVM_RUN returns EINTR on the kick. */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGSEGV, &segv, NULL);
	sigaction(SIGBUS, &segv, NULL);
	sys_fd = open(dev, O_RDWR | O_CLOEXEC);
	null_fd = open("/dev/null", O_RDWR);
	if (sys_fd < 0 || null_fd < 0)
		_exit(3);
	run_size = ioctl(sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	for (int i = 0; i < NVM; i++) {
		struct vm_slot *s = &vms[i];
		int fd;

		pthread_mutex_init(&s->lock, NULL);
		s->fd = dup(null_fd);
		for (int j = 0; j < NVCPU; j++)
			s->vcpu[j] = dup(null_fd);
		s->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			      -1, 0);
		if (s->ram == MAP_FAILED)
			_exit(3);
		s->ram_mapped = 1;
		/* Start from something that runs: a VM, a vCPU, RAM at 0. */
		fd = ioctl(sys_fd, KVM_CREATE_VM, 0);
		if (fd >= 0) {
			struct kvm_userspace_memory_region r = {
				.slot = 0, .memory_size = RAM_SIZE,
				.userspace_addr = (uint64_t)(uintptr_t)s->ram,
			};

			replace_fd(s->fd, fd);
			ioctl(s->fd, KVM_SET_USER_MEMORY_REGION, &r);
			fd = ioctl(s->fd, KVM_CREATE_VCPU, 0);
			if (fd >= 0)
				replace_fd(s->vcpu[0], fd);
		}
	}
	for (int i = 0; i < THREADS; i++) {
		a[i].seed = seed * THREADS + i;
		a[i].n = share / THREADS;
		pthread_create(&t[i], NULL, worker, &a[i]);
	}
	do {
		nanosleep(&kick, NULL);
		alive = 0;
		for (int i = 0; i < THREADS; i++) {
			if (joined[i])
				continue;
			if (pthread_tryjoin_np(t[i], NULL) == 0) {
				joined[i] = 1;
				continue;
			}
			pthread_kill(t[i], SIGUSR1);
			alive = 1;
		}
	} while (alive);
	_exit(0);
}

/* The positive control: after the fuzzing, a fresh VM runs a guest to
 * HLT (real mode, at 0x1000: "out %al, $0x10; hlt"). */
static int control(void)
{
	static const uint8_t code[] = { 0xe6, 0x10, 0xf4 };
	int sys = open(dev, O_RDWR | O_CLOEXEC), vm, vcpu, io = 0, hlt = 0;
	uint8_t *ram = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region r = {
		.memory_size = 0x10000, .userspace_addr = (uint64_t)(uintptr_t)ram,
	};
	struct kvm_regs regs = { .rip = 0x1000, .rflags = X86_EFLAGS_FIXED };
	struct kvm_sregs sregs;
	struct kvm_run *run;

	if (sys < 0 || ram == MAP_FAILED)
		return 0;
	memcpy(ram + 0x1000, code, sizeof(code));
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r))
		return 0;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run = mmap(NULL, ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu, 0);
	if (vcpu < 0 || run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs))
		return 0;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs))
		return 0;
	for (int i = 0; i < 4 && !hlt; i++) {
		if (ioctl(vcpu, KVM_RUN, 0))
			return 0;
		io |= run->exit_reason == KVM_EXIT_IO && run->io.port == 0x10;
		hlt |= run->exit_reason == KVM_EXIT_HLT;
	}
	close(vcpu);
	close(vm);
	close(sys);
	return io && hlt;
}

static int failed, num;

static void result(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%sok %d ", ok ? "" : "not ", ++num);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	failed += !ok;
}

int main(int argc, char **argv)
{
	long total = argc > 2 ? atol(argv[2]) : 200000;
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
	long rounds = 0, killed = 0, missing = 0;
	uint64_t prng = seed | 1;
	struct timespec t0, now;

	dev = argc > 1 ? argv[1] : "/dev/rvisor";
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	printf("KTAP version 1\n1..%d\n", 7);
	printf("# %s: %ld ioctls, seed %llu, %d threads per round\n", dev, total,
	       (unsigned long long)seed, THREADS);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&sh->ioctls) < total) {
		long share = total - atomic_load(&sh->ioctls);
		pid_t pid;
		int st;

		if (share > ROUND_MAX)
			share = ROUND_MAX;
		/* Whole ioctls per thread: a share below THREADS would be 0 each,
		 * and the round would do nothing, for ever. */
		share = (share + THREADS - 1) / THREADS * THREADS;
		prng ^= prng << 13;
		prng ^= prng >> 7;
		prng ^= prng << 17;
		pid = fork();
		if (pid == 0)
			round_child(seed * 100003 + rounds, share);
		if (pid < 0)
			return 1;
		rounds++;
		/* A quarter of the rounds are killed mid-way, at a random moment
		 * in their first second. */
		if ((prng & 3) == 0) {
			struct timespec d = { 0, (long)(prng >> 8) % 1000000000 };

			nanosleep(&d, NULL);
			if (kill(pid, SIGKILL) == 0)
				killed++;
		}
		if (waitpid(pid, &st, 0) != pid)
			return 1;
		if (rounds % 5 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			printf("# round %ld: %ld ioctls after %ld s\n", rounds, (long)atomic_load(&sh->ioctls),
			       (long)(now.tv_sec - t0.tv_sec));
			fflush(stdout);
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
			break;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 5)
			atomic_fetch_add(&sh->faults, 1);
	}
	printf("# %ld rounds (%ld killed), %ld ioctls, %ld forked children; guest RAM given up after munmap %ld times\n",
	       rounds, killed, (long)atomic_load(&sh->ioctls), (long)atomic_load(&sh->forks),
	       (long)atomic_load(&sh->ram_lost));
	for (int op = 0; op < OP_NR; op++) {
		long ok = atomic_load(&sh->ok[op]), err = atomic_load(&sh->err[op]);

		printf("#   %-24s %7ld ok %7ld failed\n", op_name[op], ok, err);
		/* Unknown ioctls never succeed; CHECK_EXTENSION never fails
		 * (0 is "no"), nor does mmap of a vCPU fd have to; every other
		 * op must do both. */
		if (op != OP_UNKNOWN && (!ok || (!err && op != OP_EXT && op != OP_MAP_RUN))) {
			printf("# %s never %s\n", op_name[op], ok ? "failed" : "succeeded");
			missing++;
		}
	}
	result(atomic_load(&sh->ioctls) >= total, "%ld ioctls issued (asked for %ld)",
	       (long)atomic_load(&sh->ioctls), total);
	result(!atomic_load(&sh->bad_errno), "every error is a KVM bad-input errno (%ld others%s%s)",
	       (long)atomic_load(&sh->bad_errno), atomic_load(&sh->bad_errno) ? ", last: " : "",
	       atomic_load(&sh->bad_errno) ? strerror(atomic_load(&sh->last_bad_errno)) : "");
	if (atomic_load(&sh->bad_errno))
		printf("# last unexpected errno on %s\n", op_name[atomic_load(&sh->last_bad_op)]);
	result(!atomic_load(&sh->bad_value), "API version and run-page size constant (%ld wrong)",
	       (long)atomic_load(&sh->bad_value));
	result(atomic_load(&sh->forks) > 0 && !atomic_load(&sh->fork_leak),
	       "inherited VM and vCPU fds give EIO in %ld forked children (%ld did not)",
	       (long)atomic_load(&sh->forks), (long)atomic_load(&sh->fork_leak));
	result(!atomic_load(&sh->faults) && !atomic_load(&sh->remap_failed),
	       "the fuzzer's own memory stayed where it put it (%ld faults, %ld failed remaps)",
	       (long)atomic_load(&sh->faults), (long)atomic_load(&sh->remap_failed));
	result(!missing && atomic_load(&sh->ok[OP_UNKNOWN]) == 0,
	       "every ioctl succeeded and (where an argument can be wrong) failed (%ld did not; unknown ioctls succeeded %ld times)",
	       missing, (long)atomic_load(&sh->ok[OP_UNKNOWN]));
	result(control(), "a fresh VM still runs a guest to HLT afterwards");
	return failed ? 1 : 0;
}
