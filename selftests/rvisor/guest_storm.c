// SPDX-License-Identifier: GPL-2.0
/*
 * A guest that does, many times over, what makes an emulator print: it
 * triple-faults (KVM_EXIT_SHUTDOWN; Bochs' debugger reports the fault),
 * prints (each OUT to port 0xe9 is a byte the VMM writes to stderr, which
 * the test points at the Bochs guest's VGA console) and idles (HLT). The
 * Bochs runner must carry a boot through all of it in bounded time: the
 * regression test for a runner that let Bochs block on output nobody
 * read (see scripts/bochs-run).
 *
 *   guest_storm DEVICE ROUNDS
 */
#include "vmtest.h"

#define CODE 0x1000

/* Real mode: prints a line through port 0xe9, then HLT. */
VT_GUEST(g_print);
asm(".pushsection .rodata\n.code16\n"
    "g_print_start:\n"
    "  mov $0x1000 + (msg - g_print_start), %si\n"
    "1: lodsb\n"
    "  test %al, %al\n"
    "  jz 2f\n"
    "  out %al, $0xe9\n"
    "  jmp 1b\n"
    "2: hlt\n"
    "msg: .asciz \"storm: a guest line printed through port 0xe9 by the VMM\\n\"\n"
    "g_print_end:\n"
    ".code64\n.popsection\n");

/* Real mode: INT3 with an empty IDT: #GP, #DF, triple fault. */
VT_GUEST(g_fault);
asm(".pushsection .rodata\n.code16\n"
    "g_fault_start:\n"
    "  int3\n"
    "  hlt\n"
    "g_fault_end:\n"
    ".code64\n.popsection\n");

/* One triple fault in a VM of its own; returns the exit reason. */
static int triple_fault(const char *dev)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x10000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct kvm_sregs s;
	int r;

	VT_LOAD(mem, CODE, g_fault);
	vt_real_mode(&v, CODE);
	if (ioctl(v.fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.idt.limit = 0;
	if (ioctl(v.fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS");
	r = vt_run(&v);
	vt_vcpu_destroy(&vm, &v);
	munmap(mem, 0x10000);
	vt_vm_destroy(&vm);
	return r;
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/rvisor";
	int rounds = argc > 2 ? atoi(argv[2]) : 100;
	long faults = 0, bytes = 0, halts = 0, other = 0;
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x10000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);

	printf("KTAP version 1\n1..3\n");
	VT_LOAD(mem, CODE, g_print);
	for (int i = 0; i < rounds; i++) {
		if (triple_fault(dev) == KVM_EXIT_SHUTDOWN)
			faults++;
		else
			other++;

		vt_real_mode(&v, CODE);
		for (;;) {
			int r = vt_run(&v);

			if (r == KVM_EXIT_IO && v.run->io.port == 0xe9 &&
			    v.run->io.direction == KVM_EXIT_IO_OUT) {
				fputc(*((uint8_t *)v.run + v.run->io.data_offset), stderr);
				bytes++;
				continue;
			}
			if (r == KVM_EXIT_HLT)
				halts++;
			else
				other++;
			break;
		}
	}
	vt_diag("%d rounds: %ld triple faults, %ld bytes printed, %ld HLT exits, %ld other exits",
		rounds, faults, bytes, halts, other);
	vt_result(faults == rounds, "every round's guest triple-faulted (KVM_EXIT_SHUTDOWN)");
	vt_result(bytes == (long)rounds * 57, "every round's guest printed its line");
	vt_result(halts == rounds && other == 0, "every round ended in HLT, no other exit");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
	return vt_failed ? 1 : 0;
}
