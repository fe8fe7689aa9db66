// SPDX-License-Identifier: GPL-2.0
/*
 * Power-off with VMX work in flight. On each CPU, pinned there, one thread
 * keeps a vCPU in KVM_RUN with a guest that exits for ever without leaving
 * the kernel (CPUID with interrupts off), and WRITERS others each write to
 * another vCPU of the same VM without pause: KVM_SET_MSRS of a long list
 * of EFER writes (one VMCS load for the whole list, interrupts on; each
 * write checked against a CPUID table of 256 leaves) and KVM_GET_SREGS.
 * Power-off runs rvisor's reboot notifier, which executes VMXOFF on every
 * CPU by IPI (as KVM's kvm_shutdown()): an IPI that lands while a writer
 * has its VMCS loaded makes its next VMWRITE, VMREAD or VMCLEAR fault,
 * which must end in an error the caller sees, not an oops (KVM's
 * kvm_spurious_fault() fixups); KVM_RUN finds VMX gone at its next
 * section. The vCPU in KVM_RUN runs at nice 19, so that its CPU is the
 * writers' nearly all the time. The judge is the runner, which reads the
 * console after the power-off (scripts/check, job_poweroff).
 *
 * Each thread prints what its calls returned once they start failing;
 * "ready" on stdout means every vCPU has entered its guest.
 *
 *   poweroff_race DEVICE
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include "vmtest.h"

#define CODE 0x1000
#define MAX_CPUS 16

/* Real mode, interrupts off: CPUID for ever (each one an exit). */
VT_GUEST(g_spin);
asm(".pushsection .rodata\n.code16\n"
    "g_spin_start:\n"
    "  cli\n"
    "1: xor %eax, %eax\n"
    "  cpuid\n"
    "  jmp 1b\n"
    "g_spin_end:\n"
    ".code64\n.popsection\n");

/*
 * Writers per CPU: two, on two vCPUs, so that while one is in user space
 * between its ioctls the other has its VMCS loaded. With one, a power-off
 * sometimes found every writer between ioctls: they then failed with EIO
 * at their next VMCS load, correctly, but no VMX instruction was in
 * flight to fault, and the check's positive control failed (seen once in
 * three fresh-clone runs of make check).
 */
#define WRITERS 2

struct racer {
	int cpu;
	struct vt_vcpu v;	/* in KVM_RUN */
	struct vt_vcpu writer[WRITERS];	/* written without pause */
	volatile int entered;
};

struct writer_arg {
	struct racer *r;
	int n;
};

/*
 * KVM_SET_MSRS of EFER, many times over: each write is checked against
 * the vCPU's CPUID table (NXE needs CPUID NX) and goes into the VMCS, all
 * under one VMCS load, so that the writer spends most of its time with
 * its VMCS current and interrupts on.
 */
#define MSR_EFER 0xc0000080
#define EFER_SCE_NXE 0x801
#define NMSRS 255

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* write(2) of one line, so that lines from several threads stay whole. */
static void say(const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		write(1, buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1);
}

static void *run_thread(void *arg)
{
	struct racer *r = arg;
	long runs = 0;

	pin(r->cpu);
	/* Nice 19: the CPU goes to the writer, whose loaded VMCS is where the
	 * notifier's IPI can strike; this thread stays inside KVM_RUN, mostly
	 * preempted there. */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	r->entered = 1;
	for (;;) {
		if (ioctl(r->v.fd, KVM_RUN, 0) == 0) {
			runs++;
			continue;
		}
		if (errno == EINTR)
			continue;
		say("# racer cpu %d: KVM_RUN failed with %s after %ld returns\n", r->cpu,
		    strerror(errno), runs);
		/* The vCPU again, as a VMM would, after VMX is gone. */
		if (ioctl(r->v.fd, KVM_RUN, 0))
			say("# racer cpu %d: KVM_RUN again: %s\n", r->cpu, strerror(errno));
		return NULL;
	}
}

/*
 * A CPUID table of 256 leaves with CPUID.80000001H (NX) last: each EFER
 * check walks all of it, under the VMCS load.
 */
static void long_cpuid(struct vt_vcpu *v)
{
	static struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} t;
	int i;

	memset(&t, 0, sizeof(t));
	t.c.nent = 256;
	for (i = 0; i < 255; i++)
		t.e[i].function = 0x40000100 + i;
	t.e[255].function = 0x80000001;
	t.e[255].edx = 1u << 20;
	if (ioctl(v->fd, KVM_SET_CPUID2, &t))
		vt_die("KVM_SET_CPUID2");
}

static void *vmcs_thread(void *arg)
{
	struct writer_arg *w = arg;
	struct racer *r = w->r;
	struct vt_vcpu *writer = &r->writer[w->n];
	struct {
		struct kvm_msrs m;
		struct kvm_msr_entry e[NMSRS];
	} msrs;
	struct kvm_sregs sregs;
	int i, got;

	pin(r->cpu);
	memset(&msrs, 0, sizeof(msrs));
	msrs.m.nmsrs = NMSRS;
	for (i = 0; i < NMSRS; i++)
		msrs.e[i] = (struct kvm_msr_entry){ .index = MSR_EFER, .data = EFER_SCE_NXE };
	for (;;) {
		got = ioctl(writer->fd, KVM_SET_MSRS, &msrs);
		if (got == NMSRS && !ioctl(writer->fd, KVM_GET_SREGS, &sregs))
			continue;
		if (got < 0 && errno == EINTR)
			continue;
		say("# racer cpu %d writer %d: KVM_SET_MSRS gave %d (%s), then KVM_GET_SREGS\n", r->cpu, w->n, got,
		    got < 0 ? strerror(errno) : "short");
		return NULL;
	}
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/rvisor";
	int n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	static struct racer racers[MAX_CPUS];
	pthread_t t;
	int i, waited;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (n > MAX_CPUS)
		n = MAX_CPUS;
	for (i = 0; i < n; i++) {
		struct vt_vm *vm = malloc(sizeof(*vm));
		uint8_t *mem;

		if (!vm)
			vt_die("malloc");
		*vm = vt_vm_create(dev);
		mem = vt_mem(vm, 0, 0, 0x10000, 0);
		racers[i].cpu = i;
		racers[i].v = vt_vcpu_create(vm, 0);
		VT_LOAD(mem, CODE, g_spin);
		vt_real_mode(&racers[i].v, CODE);
		if (pthread_create(&t, NULL, run_thread, &racers[i]))
			vt_die("pthread_create");
		for (int w = 0; w < WRITERS; w++) {
			static struct writer_arg args[MAX_CPUS][WRITERS];

			racers[i].writer[w] = vt_vcpu_create(vm, 1 + w);
			long_cpuid(&racers[i].writer[w]);
			args[i][w] = (struct writer_arg){ &racers[i], w };
			if (pthread_create(&t, NULL, vmcs_thread, &args[i][w]))
				vt_die("pthread_create");
		}
	}
	for (waited = 0; waited < 100; waited++) {
		int all = 1;

		for (i = 0; i < n; i++)
			all &= racers[i].entered;
		if (all)
			break;
		usleep(10000);
	}
	/* Let every KVM_RUN get into its guest loop. */
	sleep(1);
	say("ready: %d vCPUs in KVM_RUN, one per CPU, each with %d VMCS writers\n", n, WRITERS);
	/* For the script, which powers off once the racers run. */
	close(open("/tmp/poweroff_race.ready", O_CREAT | O_WRONLY, 0644));
	for (;;)
		pause();
}
