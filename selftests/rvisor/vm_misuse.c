// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input to every fd of a KVM-compatible device gets KVM's error code
 * and leaves the VM usable: misaligned, overlapping, oversized and
 * out-of-range memory slots, kernel and unmapped user addresses, bad
 * pointers, duplicate and out-of-range vCPU ids, KVM_RUN before memory
 * exists, oversized tables, invalid special registers, unknown ioctls.
 * At the end a guest still runs.
 *
 *   vm_misuse [DEVICE]
 */
#include "vmtest.h"

static void expect_err(int r, int want, const char *what)
{
	int err = errno;

	if (r != -1 || err != want)
		vt_diag("%s: returned %d, errno %d (%s); want errno %d (%s)", what, r,
			r == -1 ? err : 0, r == -1 ? strerror(err) : "-", want, strerror(want));
	vt_result(r == -1 && err == want, "%s: %s", what, strerror(want));
}

static int set_region(struct vt_vm *vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		      uint64_t size, uint64_t hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = hva,
	};

	return ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &r);
}

VT_GUEST(g_touch);
asm(".pushsection .rodata\n.code32\n"
    "g_touch_start:\n"
    "  mov 0x100000, %eax\n"
    "  hlt\n"
    "g_touch_end:\n"
    ".code64\n.popsection\n");

VT_GUEST(g_hlt);
asm(".pushsection .rodata\n.code16\n"
    "g_hlt_start:\n"
    "  mov $0x21, %al\n"
    "  out %al, $0x10\n"
    "  hlt\n"
    "g_hlt_end:\n"
    ".code64\n.popsection\n");

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/rvisor";
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = mmap(NULL, 0x200000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t hva = (uint64_t)(uintptr_t)mem;
	struct vt_vcpu v;
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[1];
	} small = { .c.nent = 1 };
	struct kvm_cpuid2 *big;
	struct kvm_sregs s;
	int r, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n1..37\n# device %s\n", dev);

	/* System fd. */
	expect_err(ioctl(vm.sys, KVM_CREATE_VM, 1), EINVAL, "KVM_CREATE_VM of an unknown machine type");
	expect_err(ioctl(vm.sys, KVM_GET_VCPU_MMAP_SIZE, 1), EINVAL, "KVM_GET_VCPU_MMAP_SIZE with an argument");
	expect_err(ioctl(vm.sys, KVM_GET_SUPPORTED_CPUID, &small), E2BIG,
		   "KVM_GET_SUPPORTED_CPUID into a 1-entry array");
	vt_result(small.c.nent > 1, "... and nent says how many are needed (%u)", small.c.nent);
	expect_err(ioctl(vm.sys, KVM_GET_SUPPORTED_CPUID, NULL), EFAULT, "KVM_GET_SUPPORTED_CPUID(NULL)");
	expect_err(ioctl(vm.sys, _IO(KVMIO, 0xfe), 0), ENOTTY, "unknown system ioctl");

	/* Memory slots. */
	expect_err(set_region(&vm, 0, 0, 0x800, 0x1000, hva), EINVAL, "slot at a misaligned GPA");
	expect_err(set_region(&vm, 0, 0, 0, 0x1800, hva), EINVAL, "slot of a misaligned size");
	expect_err(set_region(&vm, 0, 0, 0, 0x1000, hva + 8), EINVAL, "slot at a misaligned user address");
	expect_err(set_region(&vm, 0x7fff, 0, 0, 0x1000, hva), EINVAL, "slot number out of range");
	expect_err(set_region(&vm, 0x10000, 0, 0, 0x1000, hva), EINVAL, "address space 1 (SMM) slot");
	expect_err(set_region(&vm, 0, 1u << 7, 0, 0x1000, hva), EINVAL, "unknown slot flag");
	expect_err(set_region(&vm, 0, 0, 0, 1ull << 50, hva), EINVAL, "slot of 2^50 bytes");
	expect_err(set_region(&vm, 0, 0, ~0ull << 12, 0x2000, hva), EINVAL, "slot wrapping the GPA space");
	expect_err(set_region(&vm, 0, 0, 0, 0x1000, 0xffff888000000000ull), EINVAL,
		   "slot backed by a kernel address");
	expect_err(set_region(&vm, 3, 0, 0, 0, hva), EINVAL, "deleting a slot that does not exist");
	expect_err(ioctl(vm.vm, KVM_SET_USER_MEMORY_REGION, NULL), EFAULT, "KVM_SET_USER_MEMORY_REGION(NULL)");

	/* KVM_RUN before any memory: the reset vector is nowhere. */
	v = vt_vcpu_create(&vm, 0);
	r = vt_run(&v);
	vt_result(r == KVM_EXIT_INTERNAL_ERROR || r == KVM_EXIT_MMIO || r == KVM_EXIT_SHUTDOWN,
		  "KVM_RUN before memory is set: an exit for user space (%s)", vt_exit_name(r));
	vt_vcpu_destroy(&vm, &v);

	vt_result(set_region(&vm, 0, 0, 0, 0x100000, hva) == 0, "a good slot 0 (1 MiB)");
	expect_err(set_region(&vm, 1, 0, 0x80000, 0x100000, hva + 0x100000), EEXIST, "overlapping slot");
	expect_err(set_region(&vm, 0, 0, 0, 0x200000, hva), EINVAL, "resizing an existing slot");

	/* vCPUs. */
	fd = ioctl(vm.vm, KVM_CREATE_VCPU, 4);
	vt_result(fd >= 0, "KVM_CREATE_VCPU 4");
	expect_err(ioctl(vm.vm, KVM_CREATE_VCPU, 4), EEXIST, "KVM_CREATE_VCPU with a used id");
	expect_err(ioctl(vm.vm, KVM_CREATE_VCPU, 0), EEXIST,
		   "KVM_CREATE_VCPU with the id of a closed vCPU (ids are not reused)");
	expect_err(ioctl(vm.vm, KVM_CREATE_VCPU, 1000000), EINVAL, "KVM_CREATE_VCPU with an id out of range");
	expect_err(ioctl(fd, KVM_SET_REGS, NULL), EFAULT, "KVM_SET_REGS(NULL)");
	expect_err(ioctl(fd, KVM_GET_SREGS, (void *)8), EFAULT, "KVM_GET_SREGS into a bad pointer");
	big = calloc(1, sizeof(*big) + 1000 * sizeof(struct kvm_cpuid_entry2));
	big->nent = 1000;
	expect_err(ioctl(fd, KVM_SET_CPUID2, big), E2BIG, "KVM_SET_CPUID2 with 1000 entries");
	free(big);
	ioctl(fd, KVM_GET_SREGS, &s);
	s.cr0 = X86_CR0_PG; /* without PE */
	expect_err(ioctl(fd, KVM_SET_SREGS, &s), EINVAL, "KVM_SET_SREGS with CR0.PG but not PE");
	ioctl(fd, KVM_GET_SREGS, &s);
	s.efer = EFER_LMA; /* without LME */
	expect_err(ioctl(fd, KVM_SET_SREGS, &s), EINVAL, "KVM_SET_SREGS with EFER.LMA alone");
	expect_err(ioctl(fd, KVM_RUN, 1), EINVAL, "KVM_RUN with an argument");
	expect_err(ioctl(fd, _IO(KVMIO, 0xfd), 0), ENOTTY, "unknown vCPU ioctl");
	expect_err(ioctl(vm.vm, _IO(KVMIO, 0xfd), 0), ENOTTY, "unknown VM ioctl");
	close(fd);

	/* A slot whose user memory is gone: the access fails with EFAULT. */
	{
		void *gone = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		munmap(gone, 0x10000);
		vt_result(set_region(&vm, 2, 0, 0x100000, 0x10000, (uint64_t)(uintptr_t)gone) == 0,
			  "a slot over unmapped user memory is accepted (as KVM does)");
		v = vt_vcpu_create(&vm, 2);
		VT_LOAD(mem, 0x2000, g_touch);
		vt_protected_mode(&v, 0x2000);
		r = vt_run(&v);
		vt_result(r == -EFAULT, "a guest touching it: KVM_RUN fails with EFAULT (got %d)", r);
		vt_vcpu_destroy(&vm, &v);
		vt_result(set_region(&vm, 2, 0, 0x100000, 0, 0) == 0, "... and the slot can be deleted");
	}

	/* The VM still works. */
	v = vt_vcpu_create(&vm, 1);
	VT_LOAD(mem, 0x1000, g_hlt);
	vt_real_mode(&v, 0x1000);
	r = vt_expect_exit(&v, KVM_EXIT_IO, "io") && vt_io_u32(&v) % 256 == 0x21;
	vt_result(r && vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "after all that, a guest runs");
	vt_vcpu_destroy(&vm, &v);

	printf("# %d tests, %d failed\n", vt_num, vt_failed);
	vt_vm_destroy(&vm);
	return vt_failed ? 1 : 0;
}
