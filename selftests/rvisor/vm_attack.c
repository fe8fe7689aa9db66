// SPDX-License-Identifier: GPL-2.0
/*
 * Guests that attack the host: each does what a hostile guest would to
 * reach host state, and must get exactly what it gets on KVM (kvm_intel
 * runs the same program in kvm_compare.sh; the "# guest:" lines must be
 * identical). Each test failed before the fix named in its comment.
 *
 *   vm_attack DEVICE
 */
#include "vmtest.h"

#define CODE 0x1000
#define MSR_LSTAR 0xc0000082

/* 64-bit: HLT, placed at the very last byte of the address space. */
VT_GUEST(g_hlt);
asm(".pushsection .rodata\n.code64\n"
    "g_hlt_start:\n"
    "  hlt\n"
    "g_hlt_end:\n"
    ".code64\n.popsection\n");

/* 64-bit: SYSCALL with EFER.SCE set and LSTAR never written. */
VT_GUEST(g_syscall);
asm(".pushsection .rodata\n.code64\n"
    "g_syscall_start:\n"
    "  syscall\n"
    "  hlt\n"
    "g_syscall_end:\n"
    ".code64\n.popsection\n");

/* 64-bit: WRMSR LSTAR = 0x3000, then at once SYSCALL. */
VT_GUEST(g_lstar);
asm(".pushsection .rodata\n.code64\n"
    "g_lstar_start:\n"
    "  mov $0xc0000082, %ecx\n"
    "  mov $0x3000, %eax\n"
    "  xor %edx, %edx\n"
    "  wrmsr\n"
    "  syscall\n"
    "  hlt\n"
    "g_lstar_end:\n"
    ".code64\n.popsection\n");

/* 64-bit: set EFER.SCE with WRMSR, then at once SYSCALL. */
VT_GUEST(g_sce);
asm(".pushsection .rodata\n.code64\n"
    "g_sce_start:\n"
    "  mov $0xc0000080, %ecx\n"
    "  rdmsr\n"
    "  or $1, %eax\n"
    "  wrmsr\n"
    "  syscall\n"
    "  hlt\n"
    "g_sce_end:\n"
    ".code64\n.popsection\n");

/* 64-bit: a 1-byte MMIO load whose 2-byte instruction ends the address space. */
VT_GUEST(g_mmio_top);
asm(".pushsection .rodata\n.code64\n"
    "g_mmio_top_start:\n"
    "  mov (%rbx), %al\n"
    "g_mmio_top_end:\n"
    ".code64\n.popsection\n");

static const char *dev;

static void set_msr(struct vt_vcpu *v, uint32_t index, uint64_t value)
{
	struct {
		struct kvm_msrs m;
		struct kvm_msr_entry e;
	} msrs = { .m.nmsrs = 1, .e = { .index = index, .data = value } };

	if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 1)
		vt_die("KVM_SET_MSRS");
}

/* Whether a guest-visible address looks like the host kernel's. */
static int host_kernel_address(uint64_t a)
{
	return a >= 0xffff800000000000ull && a != ~0ull;
}

/*
 * A long-mode vCPU: 0-6 MiB identity mapped with 2 MiB pages (4-6 MiB
 * has no slot: MMIO), and the last 2 MiB of the address space mapped to GPA 2-4 MiB. No IDT: any
 * exception ends in a triple fault.
 */
static uint8_t *long_mode_vm(struct vt_vm *vm, struct vt_vcpu *v, uint64_t efer)
{
	uint8_t *mem = vt_mem(vm, 0, 0, 0x400000, 0);
	uint64_t *pml4 = (uint64_t *)(mem + 0x10000);
	uint64_t *pdpt = (uint64_t *)(mem + 0x11000);
	uint64_t *pd = (uint64_t *)(mem + 0x12000);
	uint64_t *pdpt_top = (uint64_t *)(mem + 0x13000);
	uint64_t *pd_top = (uint64_t *)(mem + 0x14000);
	struct kvm_sregs s;

	pml4[0] = 0x11000 | 3;
	pdpt[0] = 0x12000 | 3;
	pd[0] = 0x0 | 0x83;
	pd[1] = 0x200000 | 0x83;
	pd[2] = 0x400000 | 0x83; /* 4-6 MiB: no slot, so MMIO */
	pml4[511] = 0x13000 | 3;
	pdpt_top[511] = 0x14000 | 3;
	pd_top[511] = 0x200000 | 0x83;
	*v = vt_vcpu_create(vm, 0);
	vt_set_supported_cpuid(vm, v);
	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.cs = (struct kvm_segment){ .selector = 8, .type = 11, .present = 1, .s = 1, .l = 1, .g = 1,
				     .limit = 0xffffffff };
	s.ds = s.es = s.fs = s.gs = s.ss = (struct kvm_segment){ .selector = 16, .type = 3,
		.present = 1, .s = 1, .db = 1, .g = 1, .limit = 0xffffffff };
	s.cr3 = 0x10000;
	s.cr4 = 0x20;
	s.cr0 = 0x80000011;
	s.efer = efer;
	s.idt.base = 0;
	s.idt.limit = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS long mode");
	return mem;
}

static void report(struct vt_vcpu *v, int exit, const char *what)
{
	struct kvm_regs r = vt_regs(v);
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	/* CS and SS come from STAR, R11 is RFLAGS before SFMASK applied. */
	printf("# guest: %s: exit %s rip %#llx rcx %#llx r11 %#llx rflags %#llx cs %#x ss %#x cr2 %#llx\n",
	       what, vt_exit_name(exit), (unsigned long long)r.rip, (unsigned long long)r.rcx,
	       (unsigned long long)r.r11, (unsigned long long)r.rflags, s.cs.selector, s.ss.selector,
	       (unsigned long long)s.cr2);
	vt_result(!host_kernel_address(r.rip) && !host_kernel_address(r.rcx) &&
		  !host_kernel_address(s.cr2), "%s: no host kernel address in RIP, RCX or CR2", what);
}

/*
 * HLT at 0xffffffffffffffff: the next RIP wraps to 0. rvisor computed it
 * with a checked `+` and panicked (overflow checks on), in the middle of
 * guest execution with guest MSRs and XCR0 loaded.
 */
static void test_rip_wrap_64(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = long_mode_vm(&vm, &v, 0x500);
	struct kvm_regs r;
	int exit;

	mem[0x3fffff] = 0xf4;
	memset(&r, 0, sizeof(r));
	r.rip = ~0ull;
	r.rflags = 2;
	if (ioctl(v.fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	exit = vt_run(&v);
	vt_result(exit == KVM_EXIT_HLT, "HLT at the top of the 64-bit address space -> KVM_EXIT_HLT");
	r = vt_regs(&v);
	printf("# guest: top of the address space: exit %s rip %#llx\n", vt_exit_name(exit),
	       (unsigned long long)r.rip);
	vt_result(r.rip == 0, "RIP wrapped to 0 (%#llx)", (unsigned long long)r.rip);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/* HLT at 0xffffffff in 32-bit protected mode: EIP wraps to 0, as on KVM. */
static void test_rip_wrap_32(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *top = vt_mem(&vm, 0, 0xfffff000, 0x1000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct kvm_regs r;
	int exit;

	top[0xfff] = 0xf4;
	vt_protected_mode(&v, 0xffffffff);
	exit = vt_run(&v);
	vt_result(exit == KVM_EXIT_HLT, "HLT at 4 GiB - 1 in protected mode -> KVM_EXIT_HLT");
	r = vt_regs(&v);
	printf("# guest: top of 4 GiB: exit %s rip %#llx\n", vt_exit_name(exit),
	       (unsigned long long)r.rip);
	vt_result(r.rip == 0, "EIP wrapped to 0 (%#llx)", (unsigned long long)r.rip);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * SYSCALL with EFER.SCE and LSTAR never written: the guest must land at
 * its own LSTAR (0 after reset). rvisor loaded the guest's SYSCALL MSRs
 * only once they had been written, so the guest jumped to the host's
 * entry_SYSCALL_64 and, after the fault, GET_REGS showed that address.
 */
static void test_syscall_reset_lstar(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = long_mode_vm(&vm, &v, 0x501);
	struct kvm_regs r;
	int exit;

	mem[0] = 0xf4; /* LSTAR = 0: HLT there */
	VT_LOAD(mem, CODE, g_syscall);
	memset(&r, 0, sizeof(r));
	r.rip = CODE;
	r.rflags = 2;
	if (ioctl(v.fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	exit = vt_run(&v);
	r = vt_regs(&v);
	vt_result(exit == KVM_EXIT_HLT && r.rip == 1 && r.rcx == CODE + 2,
		  "SYSCALL without LSTAR lands at the guest's LSTAR 0 (exit %s, rip %#llx, rcx %#llx)",
		  vt_exit_name(exit), (unsigned long long)r.rip, (unsigned long long)r.rcx);
	report(&v, exit, "syscall, reset LSTAR");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * WRMSR LSTAR, then SYSCALL before any exit to user space: the value just
 * written must be the one used. rvisor loaded the SYSCALL MSRs once per
 * entry from user space, so a guest that wrote LSTAR and called SYSCALL
 * at once still reached the host's LSTAR.
 */
static void test_syscall_fresh_lstar(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = long_mode_vm(&vm, &v, 0x501);
	struct kvm_msrs *m = calloc(1, sizeof(*m) + sizeof(m->entries[0]));
	struct kvm_regs r;
	int exit;

	mem[0x3000] = 0xf4;
	VT_LOAD(mem, CODE, g_lstar);
	memset(&r, 0, sizeof(r));
	r.rip = CODE;
	r.rflags = 2;
	if (ioctl(v.fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	exit = vt_run(&v);
	r = vt_regs(&v);
	vt_result(exit == KVM_EXIT_HLT && r.rip == 0x3001,
		  "WRMSR LSTAR then SYSCALL lands at the new LSTAR (exit %s, rip %#llx)",
		  vt_exit_name(exit), (unsigned long long)r.rip);
	report(&v, exit, "syscall, fresh LSTAR");
	m->nmsrs = 1;
	m->entries[0].index = MSR_LSTAR;
	exit = ioctl(v.fd, KVM_GET_MSRS, m);
	vt_result(exit == 1 && m->entries[0].data == 0x3000,
		  "KVM_GET_MSRS reads back the guest's LSTAR (%#llx)",
		  (unsigned long long)m->entries[0].data);
	free(m);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * EFER.SCE set by the guest's own WRMSR, then SYSCALL in the same run, with
 * STAR and LSTAR given by the VMM (KVM_SET_MSRS): the section that began
 * with SCE clear had not loaded the guest's SYSCALL MSRs.
 */
static void test_syscall_guest_sets_sce(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = long_mode_vm(&vm, &v, 0x500);
	struct kvm_regs r;
	int exit;

	mem[0x5000] = 0xf4;
	VT_LOAD(mem, CODE, g_sce);
	set_msr(&v, 0xc0000081, 0x0023001000000000ull); /* STAR: SYSCALL CS 0x10 */
	set_msr(&v, MSR_LSTAR, 0x5000);
	set_msr(&v, 0xc0000084, 0x200); /* SFMASK: IF */
	memset(&r, 0, sizeof(r));
	r.rip = CODE;
	r.rflags = 0x202;
	if (ioctl(v.fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	exit = vt_run(&v);
	r = vt_regs(&v);
	vt_result(exit == KVM_EXIT_HLT && r.rip == 0x5001 && r.r11 == 0x202 && !(r.rflags & 0x200),
		  "WRMSR EFER.SCE then SYSCALL uses the VMM's STAR, LSTAR and SFMASK (exit %s, rip %#llx)",
		  vt_exit_name(exit), (unsigned long long)r.rip);
	report(&v, exit, "syscall, guest sets SCE");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * An MMIO load at 0xfffffffffffffffe: decoding fetches the instruction
 * bytes across the end of the address space. rvisor added the offset with
 * a checked `+` and panicked; the fetch must wrap, and RIP after it too.
 */
static void test_mmio_top(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = long_mode_vm(&vm, &v, 0x500);
	struct kvm_regs r;
	int exit, ok;

	memcpy(mem + 0x3ffffe, g_mmio_top_start, g_mmio_top_end - g_mmio_top_start);
	mem[0] = 0xf4; /* where the guest goes next: HLT */
	memset(&r, 0, sizeof(r));
	r.rip = ~1ull;
	r.rbx = 0x400010;
	r.rflags = 2;
	if (ioctl(v.fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	exit = vt_run(&v);
	ok = exit == KVM_EXIT_MMIO && v.run->mmio.phys_addr == 0x400010 && v.run->mmio.len == 1 &&
	     !v.run->mmio.is_write;
	vt_result(ok, "MMIO load at the top of the address space -> KVM_EXIT_MMIO (exit %s)",
		  vt_exit_name(exit));
	printf("# guest: mmio at the top: exit %s addr %#llx len %u\n", vt_exit_name(exit),
	       (unsigned long long)v.run->mmio.phys_addr, v.run->mmio.len);
	v.run->mmio.data[0] = 0x42;
	exit = vt_run(&v);
	r = vt_regs(&v);
	vt_result(exit == KVM_EXIT_HLT && r.rip == 1 && (r.rax & 0xff) == 0x42,
		  "the load completes and RIP wraps to 0 (exit %s, rip %#llx, al %#llx)",
		  vt_exit_name(exit), (unsigned long long)r.rip, (unsigned long long)(r.rax & 0xff));
	printf("# guest: mmio at the top, then: exit %s rip %#llx al %#llx\n", vt_exit_name(exit),
	       (unsigned long long)r.rip, (unsigned long long)(r.rax & 0xff));
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

int main(int argc, char **argv)
{
	dev = argc > 1 ? argv[1] : "/dev/rvisor";
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n1..13\n");
	printf("# device %s\n", dev);
	test_rip_wrap_32();
	test_syscall_reset_lstar();
	test_syscall_fresh_lstar();
	test_syscall_guest_sets_sce();
	/* Last: before their fixes these panic the host. */
	test_mmio_top();
	test_rip_wrap_64();
	printf("# %d tests, %d failed\n", vt_num, vt_failed);
	return vt_failed ? 1 : 0;
}
