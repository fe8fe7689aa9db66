// SPDX-License-Identifier: GPL-2.0
/*
 * Several VMs and vCPUs at once, and what one guest can reach:
 *  - two VMs with two vCPUs each run a memory test in four threads at the
 *    same guest-physical addresses; each sees only its own data;
 *  - a guest reading guest-physical addresses outside its slots gets an
 *    MMIO exit for every access and reads only what user space answers.
 *
 *   vm_smp [DEVICE]               the tests above (KTAP)
 *   vm_smp DEVICE spin MIB        a guest that touches MIB MiB, reports
 *                                 "touched", then spins until killed
 *   vm_smp DEVICE hold            a VM that exists until killed
 *   vm_smp DEVICE closerun MIB    a guest touching MIB MiB runs in a second
 *                                 thread while the main thread closes the
 *                                 VM and vCPU fds under it, then stops the
 *                                 run with a signal; prints "released"
 *                                 once the run returned, then waits
 */
#include <pthread.h>
#include <signal.h>
#include "vmtest.h"

#define ROUNDS 8
#define WORDS 4096

/* EBX seed, ESI region, ECX dwords: fill, sum, OUT the sum; ROUNDS times. */
VT_GUEST(g_work);
asm(".pushsection .rodata\n.code32\n"
    "g_work_start:\n"
    "  mov $8, %edi\n"
    "1:\n"
    "  xor %edx, %edx\n"
    "2:\n"
    "  lea (%ebx,%edx), %eax\n"
    "  mov %eax, (%esi,%edx,4)\n"
    "  inc %edx\n"
    "  cmp %ecx, %edx\n"
    "  jb 2b\n"
    "  xor %eax, %eax\n"
    "  xor %edx, %edx\n"
    "3:\n"
    "  add (%esi,%edx,4), %eax\n"
    "  inc %edx\n"
    "  cmp %ecx, %edx\n"
    "  jb 3b\n"
    "  out %eax, $0x90\n"
    "  dec %edi\n"
    "  jnz 1b\n"
    "  hlt\n"
    "g_work_end:\n"
    ".code64\n.popsection\n");

/* ESI: list of ECX addresses; reads each, XORs the values, OUTs the result. */
VT_GUEST(g_probe);
asm(".pushsection .rodata\n.code32\n"
    "g_probe_start:\n"
    "  xor %ebx, %ebx\n"
    "1:\n"
    "  mov (%esi), %edx\n"
    "  mov (%edx), %eax\n"
    "  xor %eax, %ebx\n"
    "  add $4, %esi\n"
    "  dec %ecx\n"
    "  jnz 1b\n"
    "  mov %ebx, %eax\n"
    "  out %eax, $0x91\n"
    "  hlt\n"
    "g_probe_end:\n"
    ".code64\n.popsection\n");

/* Touch ECX pages from ESI on (one write each), OUT, then spin. */
VT_GUEST(g_touch);
asm(".pushsection .rodata\n.code32\n"
    "g_touch_start:\n"
    "1:\n"
    "  movl $0x1234, (%esi)\n"
    "  add $4096, %esi\n"
    "  dec %ecx\n"
    "  jnz 1b\n"
    "  out %al, $0x92\n"
    "  sti\n"
    "2: jmp 2b\n"
    "g_touch_end:\n"
    ".code64\n.popsection\n");

/* Reads 0x200000 (slot 1) forever. */
VT_GUEST(g_reader);
asm(".pushsection .rodata\n.code32\n"
    "g_reader_start:\n"
    "  sti\n"
    "1: mov 0x200000, %eax\n"
    "  jmp 1b\n"
    "g_reader_end:\n"
    ".code64\n.popsection\n");

static const char *dev;

struct worker {
	struct vt_vcpu v;
	uint32_t seed, region;
	int ok;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct kvm_regs r;
	uint32_t want = 0;
	int i;

	for (i = 0; i < WORDS; i++)
		want += w->seed + i;
	vt_protected_mode(&w->v, 0x1000);
	r = vt_regs(&w->v);
	r.rbx = w->seed;
	r.rsi = w->region;
	r.rcx = WORDS;
	ioctl(w->v.fd, KVM_SET_REGS, &r);
	w->ok = 1;
	for (i = 0; i < ROUNDS; i++) {
		if (vt_run(&w->v) != KVM_EXIT_IO || vt_io_u32(&w->v) != want) {
			w->ok = 0;
			return NULL;
		}
	}
	w->ok = vt_run(&w->v) == KVM_EXIT_HLT;
	return NULL;
}

static void test_smp(void)
{
	struct vt_vm vm[2];
	uint32_t *mem[2];
	struct worker w[4];
	pthread_t t[4];
	int i, own = 1;

	for (i = 0; i < 2; i++) {
		vm[i] = vt_vm_create(dev);
		mem[i] = vt_mem(&vm[i], 0, 0, 0x100000, 0);
		VT_LOAD(mem[i], 0x1000, g_work);
	}
	for (i = 0; i < 4; i++) {
		w[i].v = vt_vcpu_create(&vm[i / 2], i % 2);
		w[i].seed = 0x1000000 * (i + 1);
		w[i].region = 0x10000 + 0x10000 * (i % 2);
	}
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, work, &w[i]);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		vt_result(w[i].ok, "VM %d vCPU %d: %d rounds of fill and sum, all correct", i / 2, i % 2, ROUNDS);
	}
	/* Each VM's memory holds its own vCPUs' patterns only. */
	for (i = 0; i < 4; i++) {
		uint32_t *region = mem[i / 2] + w[i].region / 4;

		if (region[0] != w[i].seed || region[WORDS - 1] != w[i].seed + WORDS - 1)
			own = 0;
	}
	vt_result(own, "two VMs at the same guest-physical addresses each see only their own data");
	for (i = 0; i < 4; i++)
		vt_vcpu_destroy(&vm[i / 2], &w[i].v);
	vt_vm_destroy(&vm[0]);
	vt_vm_destroy(&vm[1]);
}

static void test_probe(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint32_t *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	uint32_t *list = mem + 0x3000 / 4, want = 0, n = 0;
	uint64_t gpa;
	int exits = 0, right = 1;
	struct kvm_regs r;

	/* Just past the slot, then every 48 MiB up to 4 GiB, and the top page. */
	list[n++] = 0x100000;
	list[n++] = 0x100ffc;
	for (gpa = 0x200000; gpa < 0x100000000ull && n < 90; gpa += 0x3000000)
		list[n++] = gpa;
	list[n++] = 0xfee00000;
	list[n++] = 0xfffffffc;
	VT_LOAD(mem, 0x1000, g_probe);
	vt_protected_mode(&v, 0x1000);
	r = vt_regs(&v);
	r.rsi = 0x3000;
	r.rcx = n;
	ioctl(v.fd, KVM_SET_REGS, &r);
	for (;;) {
		int e = vt_run(&v);
		uint32_t val;

		if (e != KVM_EXIT_MMIO)
			break;
		if (v.run->mmio.is_write || v.run->mmio.len != 4 || exits >= (int)n ||
		    v.run->mmio.phys_addr != list[exits])
			right = 0;
		val = (uint32_t)v.run->mmio.phys_addr ^ 0x5a5a5a5a;
		want ^= val;
		memcpy(v.run->mmio.data, &val, 4);
		exits++;
	}
	vt_result(exits == (int)n && right,
		  "a guest reading %u addresses outside its slots gets one MMIO read exit each (%d)", n, exits);
	vt_result(v.run->exit_reason == KVM_EXIT_IO && vt_io_u32(&v) == want,
		  "and it read exactly what user space answered, nothing else");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

struct reader {
	struct vt_vcpu v;
	volatile int exit_reason;
};

static void *reader_thread(void *arg)
{
	struct reader *rd = arg;

	rd->exit_reason = vt_run(&rd->v);
	return NULL;
}

static void on_usr2(int sig)
{
	(void)sig;
}

/*
 * A slot deleted while a vCPU reads it: the deletion interrupts the vCPU
 * and flushes its EPT translations, so the next read is an MMIO exit;
 * nothing keeps reading the old pages.
 */
static void test_delete_under_reader(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	uint8_t *slot1 = vt_mem(&vm, 1, 0x200000, 0x1000, 0);
	struct reader rd = { .v = vt_vcpu_create(&vm, 0), .exit_reason = -1000 };
	struct kvm_userspace_memory_region del = { .slot = 1 };
	struct sigaction sa = { .sa_handler = on_usr2 };
	pthread_t t;
	int i;

	sigaction(SIGUSR2, &sa, NULL);
	memset(slot1, 0x5a, 0x1000);
	VT_LOAD(mem, 0x1000, g_reader);
	vt_protected_mode(&rd.v, 0x1000);
	pthread_create(&t, NULL, reader_thread, &rd);
	usleep(300000);
	vt_result(rd.exit_reason == -1000, "a vCPU keeps reading slot 1 without exiting");
	vt_result(ioctl(vm.vm, KVM_SET_USER_MEMORY_REGION, &del) == 0, "slot 1 deleted while it runs");
	for (i = 0; i < 500 && rd.exit_reason == -1000; i++)
		usleep(10000);
	if (rd.exit_reason == -1000) {
		pthread_kill(t, SIGUSR2);
		usleep(100000);
	}
	pthread_join(t, NULL);
	vt_result(rd.exit_reason == KVM_EXIT_MMIO && rd.v.run->mmio.phys_addr == 0x200000 &&
		  !rd.v.run->mmio.is_write,
		  "its next read of the deleted slot is an MMIO exit (got %s)",
		  rd.exit_reason < 0 ? strerror(-rd.exit_reason) : vt_exit_name(rd.exit_reason));
	vt_vcpu_destroy(&vm, &rd.v);
	vt_vm_destroy(&vm);
}

/* Loads g_touch to write every page of `size` bytes of memory above 64 KiB. */
static void setup_toucher(struct vt_vcpu *v, uint8_t *mem, size_t size)
{
	struct kvm_regs r;

	VT_LOAD(mem, 0x1000, g_touch);
	vt_protected_mode(v, 0x1000);
	r = vt_regs(v);
	r.rsi = 0x10000;
	r.rcx = (size - 0x10000) / 4096;
	ioctl(v->fd, KVM_SET_REGS, &r);
}

static int spin(unsigned long mib)
{
	struct vt_vm vm = vt_vm_create(dev);
	size_t size = mib << 20;
	uint8_t *mem = vt_mem(&vm, 0, 0, size, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);

	setup_toucher(&v, mem, size);
	if (vt_run(&v) != KVM_EXIT_IO)
		return 1;
	printf("touched %lu MiB\n", mib);
	fflush(stdout);
	for (;;)
		vt_run(&v);
}

struct closerun {
	struct vt_vcpu v;
	volatile int touched, returned;
};

static void on_usr1(int sig)
{
	(void)sig;
}

static void *closerun_thread(void *arg)
{
	struct closerun *c = arg;

	if (vt_run(&c->v) == KVM_EXIT_IO)
		c->touched = 1;
	/* Spins in the guest until a signal; the fds are closed meanwhile. */
	while (vt_run(&c->v) >= 0)
		;
	c->returned = 1;
	return NULL;
}

/*
 * Closes the VM and vCPU fds while another thread is in KVM_RUN: the run
 * holds the files, so everything is freed when it returns.
 */
static int closerun(unsigned long mib)
{
	struct vt_vm vm = vt_vm_create(dev);
	size_t size = mib << 20;
	uint8_t *mem = vt_mem(&vm, 0, 0, size, 0);
	struct closerun c = { .v = vt_vcpu_create(&vm, 0) };
	struct sigaction sa = { .sa_handler = on_usr1 };
	pthread_t t;

	sigaction(SIGUSR1, &sa, NULL);
	setup_toucher(&c.v, mem, size);
	pthread_create(&t, NULL, closerun_thread, &c);
	while (!c.touched)
		usleep(10000);
	usleep(500000);
	/* The guest spins in KVM_RUN; pull the files out from under it. */
	munmap(c.v.run, vm.run_size);
	close(c.v.fd);
	close(vm.vm);
	close(vm.sys);
	printf("closed while running\n");
	sleep(1);
	while (!c.returned) {
		pthread_kill(t, SIGUSR1);
		usleep(10000);
	}
	pthread_join(t, NULL);
	printf("released\n");
	pause();
	return 0;
}

int main(int argc, char **argv)
{
	dev = argc > 1 ? argv[1] : "/dev/rvisor";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 3 && !strcmp(argv[2], "spin"))
		return spin(strtoul(argv[3], NULL, 0));
	if (argc > 3 && !strcmp(argv[2], "closerun"))
		return closerun(strtoul(argv[3], NULL, 0));
	if (argc > 2 && !strcmp(argv[2], "hold")) {
		struct vt_vm vm = vt_vm_create(dev);
		struct vt_vcpu v = vt_vcpu_create(&vm, 0);

		(void)v;
		printf("holding\n");
		pause();
		return 0;
	}
	printf("KTAP version 1\n1..10\n# device %s\n", dev);
	test_smp();
	test_probe();
	test_delete_under_reader();
	printf("# %d tests, %d failed\n", vt_num, vt_failed);
	return vt_failed ? 1 : 0;
}
