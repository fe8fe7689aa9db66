// SPDX-License-Identifier: GPL-2.0
/*
 * Guests that attack the host, and a VMM process that uses another
 * process's VM: each does what a hostile guest or process would to reach
 * host state or another's guest, and must get exactly what it gets on KVM (kvm_intel
 * runs the same program in kvm_compare.sh; the "# guest:" lines must be
 * identical). Each test failed before the fix named in its comment.
 *
 *   vm_attack DEVICE
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "vmtest.h"

#define CODE 0x1000
#define MSR_LSTAR 0xc0000082

/*
 * 64-bit, CPL3 with IOPL 3: REP INSB from port 0x60 to RDI (RCX bytes),
 * REP OUTSB from RSI to port 0x61, or an addr32 REP INSB, each followed by
 * OUT to port 0x70 to say it finished.
 */
VT_GUEST(g_ustr);
asm(".pushsection .rodata\n.code64\n"
    "g_ustr_start:\n"
    "  mov $0x60, %dx\n"
    "  rep insb\n"
    "  out %al, $0x70\n"
    "g_ustr_outs:\n"
    "  mov $0x61, %dx\n"
    "  rep outsb\n"
    "  out %al, $0x70\n"
    "g_ustr_a32:\n"
    "  mov $0x60, %dx\n"
    "  addr32 rep insb\n"
    "  out %al, $0x70\n"
    "g_ustr_end:\n"
    ".code64\n.popsection\n");
extern const uint8_t g_ustr_outs[], g_ustr_a32[];

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

/*
 * 64-bit, CR4.OSXSAVE set: enable AVX with XSETBV, then report the upper
 * half of YMM0 (bits 159:128), which the guest never wrote.
 */
VT_GUEST(g_avx);
asm(".pushsection .rodata\n.code64\n"
    "g_avx_start:\n"
    "  xor %ecx, %ecx\n"
    "  mov $7, %eax\n"
    "  xor %edx, %edx\n"
    "  xsetbv\n"
    "  vextractf128 $1, %ymm0, %xmm1\n"
    "  movd %xmm1, %eax\n"
    "  out %eax, $0x80\n"
    "  hlt\n"
    "g_avx_end:\n"
    ".code64\n.popsection\n");

/* 64-bit: DR7 written and read back; DR0 too. */
VT_GUEST(g_dr7);
asm(".pushsection .rodata\n.code64\n"
    "g_dr7_start:\n"
    "  mov $0x1100, %rax\n"
    "  mov %rax, %dr0\n"
    "  mov $0x0f0401, %rax\n" /* L0, R/W0 = 11 (data), LEN0 = 11 */
    "  mov %rax, %dr7\n"
    "  mov %dr7, %rbx\n"
    "  mov %dr0, %rcx\n"
    "  hlt\n"
    "g_dr7_end:\n"
    ".code64\n.popsection\n");

/* 64-bit: DR7.GD set, then any MOV DR raises #DB (no IDT: triple fault). */
VT_GUEST(g_gd);
asm(".pushsection .rodata\n.code64\n"
    "g_gd_start:\n"
    "  mov $0x2400, %rax\n"
    "  mov %rax, %dr7\n"
    "  mov %dr0, %rbx\n"
    "  mov $0x5a, %ebx\n"
    "  hlt\n"
    "g_gd_end:\n"
    ".code64\n.popsection\n");

/* 32-bit, CPL3, CR0.AM and EFLAGS.AC: a misaligned load raises #AC. */
VT_GUEST(g_ac);
asm(".pushsection .rodata\n.code32\n"
    "g_ac_start:\n"
    "  mov 0x2000, %eax\n"  /* aligned: fine */
    "  mov 0x2001, %ebx\n"  /* misaligned: #AC */
    "  mov $0x5a, %ecx\n"
    "  hlt\n"
    "g_ac_end:\n"
    ".code64\n.popsection\n");

/*
 * Real mode: forever increment the dword at 0x2000 and report it on port
 * 0x80. The VMM replaces, zaps and unmaps the page behind it between runs.
 */
VT_GUEST(g_remap);
asm(".pushsection .rodata\n.code16\n"
    "g_remap_start:\n"
    "1: incl 0x2000\n"
    "  movl 0x2000, %eax\n"
    "  outl %eax, $0x80\n"
    "  jmp 1b\n"
    "g_remap_end:\n"
    ".code64\n.popsection\n");

/* Real mode, interrupts off: CPUID for ever (each one an exit). */
VT_GUEST(g_cpuid_loop);
asm(".pushsection .rodata\n.code16\n"
    "g_cpuid_loop_start:\n"
    "  cli\n"
    "1: xor %eax, %eax\n"
    "  cpuid\n"
    "  jmp 1b\n"
    "g_cpuid_loop_end:\n"
    ".code64\n.popsection\n");

/*
 * 64-bit, with an IDT: three events whose delivery meets memory the guest
 * never touched (the IDT page and three fresh stacks), so each delivery
 * exits for an EPT violation half-way and must be delivered again.
 *  - a single-step #DB after MOV RSP: a trap, which re-executing the
 *    instruction does not raise again; its handler counts in R8;
 *  - INT 0x21 (a software interrupt: the return address pushed is the
 *    next instruction's); its handler counts in R9, the address in R10;
 *  - a #PF on a write to an unmapped page (error code 2); its handler
 *    pops the error code into R11, reads CR2 into R12 and resumes.
 */
VT_GUEST(g_vector);
extern const uint8_t g_vector_db[], g_vector_int[], g_vector_pf[], g_vector_ret[];
asm(".pushsection .rodata\n.code64\n"
    "g_vector_start:\n"
    "  pushfq\n"
    "  orq $0x100, (%rsp)\n"
    "  popfq\n"
    "  mov %rbx, %rsp\n"	/* traced: #DB after it, on a fresh stack */
    "  nop\n"
    "  mov %rcx, %rsp\n"
    "  int $0x21\n"
    "g_vector_ret:\n"
    "  mov %rdx, %rsp\n"
    "  movl $1, 0x600000\n"	/* not mapped: #PF */
    "1: hlt\n"
    "g_vector_db:\n"
    "  inc %r8\n"
    "  andq $~0x100, 16(%rsp)\n"
    "  iretq\n"
    "g_vector_int:\n"
    "  inc %r9\n"
    "  mov (%rsp), %r10\n"
    "  iretq\n"
    "g_vector_pf:\n"
    "  pop %r11\n"
    "  mov %cr2, %r12\n"
    "  lea 1b(%rip), %rax\n"
    "  mov %rax, (%rsp)\n"
    "  iretq\n"
    "g_vector_end:\n"
    ".code64\n.popsection\n");

/* 64-bit, entered with RFLAGS.TF and RSP in MMIO: the #DB after the first
 * instruction is pushed onto MMIO; the next instruction is a store. */
VT_GUEST(g_vector_mmio);
asm(".pushsection .rodata\n.code64\n"
    "g_vector_mmio_start:\n"
    "  mov 0x2000, %eax\n"
    "  mov %eax, 0x3000\n"
    "  hlt\n"
    "g_vector_mmio_end:\n"
    ".code64\n.popsection\n");

/* 32-bit, paging off: turn paging on (CR0.PG), then HLT. */
VT_GUEST(g_paging_on);
asm(".pushsection .rodata\n.code32\n"
    "g_paging_on_start:\n"
    "  mov %cr0, %eax\n"
    "  or $0x80000000, %eax\n"
    "  mov %eax, %cr0\n"	/* at +8 */
    "  hlt\n"
    "g_paging_on_end:\n"
    ".code64\n.popsection\n");

/*
 * 64-bit, with an IDT: RDMSR of an MSR neither hypervisor has (a #GP the
 * hypervisor injects), then UD2 (a #UD; rvisor lets the processor deliver
 * it, KVM injects it after failing to emulate). Each handler keeps the
 * RFLAGS image the fault pushed (R13 for #GP, R14 for #UD).
 */
VT_GUEST(g_fault_rf);
extern const uint8_t g_fault_rf_gp[], g_fault_rf_ud[];
asm(".pushsection .rodata\n.code64\n"
    "g_fault_rf_start:\n"
    "  mov %rbx, %rsp\n"
    "  mov $0x4b564dff, %ecx\n"
    "  rdmsr\n"
    "  ud2\n"
    "  hlt\n"
    "g_fault_rf_gp:\n"
    "  mov 24(%rsp), %r13\n"	/* error code, RIP, CS, RFLAGS */
    "  addq $2, 8(%rsp)\n"	/* past the RDMSR */
    "  add $8, %rsp\n"
    "  iretq\n"
    "g_fault_rf_ud:\n"
    "  mov 16(%rsp), %r14\n"	/* RIP, CS, RFLAGS */
    "  addq $2, (%rsp)\n"	/* past the UD2 */
    "  iretq\n"
    "g_fault_rf_end:\n"
    ".code64\n.popsection\n");

/*
 * 32-bit, CR4.PAE set: paging on and off for ever (ESI and EDI hold the
 * two CR0 values). Each MOV turning paging on waits for its PDPTEs,
 * which the hypervisor reads outside the VMX section.
 */
VT_GUEST(g_pae_toggle);
asm(".pushsection .rodata\n.code32\n"
    "g_pae_toggle_start:\n"
    "1: mov %esi, %cr0\n"
    "  mov %edi, %cr0\n"
    "  jmp 1b\n"
    "g_pae_toggle_end:\n"
    ".code64\n.popsection\n");

static const char *dev;

/* KVM_SET_MSRS or KVM_GET_MSRS of one MSR; returns the ioctl's result. */
static int one_msr(struct vt_vcpu *v, unsigned long ioctl_nr, uint32_t index, uint64_t *value)
{
	struct {
		struct kvm_msrs m;
		struct kvm_msr_entry e;
	} msrs = { .m.nmsrs = 1, .e = { .index = index, .data = *value } };
	int r = ioctl(v->fd, ioctl_nr, &msrs);

	*value = msrs.e.data;
	return r;
}

static void set_msr(struct vt_vcpu *v, uint32_t index, uint64_t value)
{
	if (one_msr(v, KVM_SET_MSRS, index, &value) != 1)
		vt_die("KVM_SET_MSRS");
}

/* Sets RIP, RFLAGS and RBX; every other register 0. */
static void enter(struct vt_vcpu *v, uint64_t rip, uint64_t rflags, uint64_t rbx)
{
	struct kvm_regs r = { .rip = rip, .rflags = rflags, .rbx = rbx };

	if (ioctl(v->fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
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

	pml4[0] = 0x11000 | PTE_PW;
	pdpt[0] = 0x12000 | PTE_PW;
	pd[0] = 0x0 | PTE_PW | PTE_PSE;
	pd[1] = 0x200000 | PTE_PW | PTE_PSE;
	pd[2] = 0x400000 | PTE_PW | PTE_PSE; /* 4-6 MiB: no slot, so MMIO */
	pml4[511] = 0x13000 | PTE_PW;
	pdpt_top[511] = 0x14000 | PTE_PW;
	pd_top[511] = 0x200000 | PTE_PW | PTE_PSE;
	*v = vt_vcpu_create(vm, 0);
	vt_set_supported_cpuid(vm, v);
	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.cs = (struct kvm_segment){ .selector = 8, .type = SEG_TYPE_CODE_XRA, .present = 1, .s = 1, .l = 1, .g = 1,
				     .limit = 0xffffffff };
	s.ds = s.es = s.fs = s.gs = s.ss = (struct kvm_segment){ .selector = 16, .type = SEG_TYPE_DATA_RWA,
		.present = 1, .s = 1, .db = 1, .g = 1, .limit = 0xffffffff };
	s.cr3 = 0x10000;
	s.cr4 = X86_CR4_PAE;
	s.cr0 = X86_CR0_PG | X86_CR0_ET | X86_CR0_PE;
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
	enter(&v, ~0ull, 2, 0);
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
	enter(&v, CODE, 2, 0);
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
	uint64_t lstar = 0;
	struct kvm_regs r;
	int exit;

	mem[0x3000] = 0xf4;
	VT_LOAD(mem, CODE, g_lstar);
	enter(&v, CODE, 2, 0);
	exit = vt_run(&v);
	r = vt_regs(&v);
	vt_result(exit == KVM_EXIT_HLT && r.rip == 0x3001,
		  "WRMSR LSTAR then SYSCALL lands at the new LSTAR (exit %s, rip %#llx)",
		  vt_exit_name(exit), (unsigned long long)r.rip);
	report(&v, exit, "syscall, fresh LSTAR");
	exit = one_msr(&v, KVM_GET_MSRS, MSR_LSTAR, &lstar);
	vt_result(exit == 1 && lstar == 0x3000, "KVM_GET_MSRS reads back the guest's LSTAR (%#llx)",
		  (unsigned long long)lstar);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * EFER.SCE set by the guest's own WRMSR, then SYSCALL in the same run, with
 * STAR, LSTAR and SFMASK given by the VMM (KVM_SET_MSRS). rvisor now loads
 * the SYSCALL MSRs only while EFER.SCE is set: this guards the rule that
 * a WRMSR to EFER ends the section, so that the next entry loads them (the
 * old code passed it, having loaded them since KVM_SET_MSRS).
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
	enter(&v, CODE, 0x202, 0);
	exit = vt_run(&v);
	r = vt_regs(&v);
	vt_result(exit == KVM_EXIT_HLT && r.rip == 0x5001 && r.r11 == (X86_EFLAGS_IF | X86_EFLAGS_FIXED) &&
		  !(r.rflags & X86_EFLAGS_IF),
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
	enter(&v, ~1ull, 2, 0x400010);
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

/*
 * A VM's and a vCPU's fds used from another process (inherited over
 * fork): every ioctl gets EIO, as on KVM, and the owner's guest still
 * runs. rvisor served the child, pinning its pages at the parent's slot
 * addresses and running the parent's vCPU.
 */
static void test_fd_other_process(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x10000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	int res[4] = { -1, -1, -1, -1 }, p[2], ok;
	pid_t pid;

	mem[CODE] = 0xf4;
	vt_real_mode(&v, CODE);
	if (pipe(p))
		vt_die("pipe");
	pid = fork();
	if (pid < 0)
		vt_die("fork");
	if (pid == 0) {
		struct kvm_userspace_memory_region region = {
			.slot = 1, .guest_phys_addr = 0x100000, .memory_size = 0x1000,
			.userspace_addr = (uint64_t)(uintptr_t)mem,
		};
		struct kvm_regs r;

		res[0] = ioctl(v.fd, KVM_RUN, 0) < 0 ? errno : 0;
		res[1] = ioctl(v.fd, KVM_GET_REGS, &r) < 0 ? errno : 0;
		res[2] = ioctl(vm.vm, KVM_CREATE_VCPU, 1) < 0 ? errno : 0;
		res[3] = ioctl(vm.vm, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? errno : 0;
		_exit(write(p[1], res, sizeof(res)) == sizeof(res) ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], res, sizeof(res)) != sizeof(res))
		vt_diag("the child reported nothing");
	close(p[0]);
	waitpid(pid, NULL, 0);
	printf("# guest: fds in a forked child, errno of KVM_RUN %d, KVM_GET_REGS %d, "
	       "KVM_CREATE_VCPU %d, KVM_SET_USER_MEMORY_REGION %d (EIO is %d)\n",
	       res[0], res[1], res[2], res[3], EIO);
	ok = res[0] == EIO && res[1] == EIO && res[2] == EIO && res[3] == EIO;
	vt_result(ok, "another process's ioctls on the VM and vCPU fds get EIO");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "owner"), "the owner's guest still runs");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * The host task's AVX registers: the VMM fills YMM0's upper half with a
 * pattern and runs a guest that enables AVX with XSETBV and reads it. On
 * KVM the guest sees its own (init) state, 0. rvisor switched the AVX
 * component only while the guest's XCR0 had it at entry, so the guest
 * read the VMM's pattern (any task's: the registers as the host left
 * them). Needs a host whose XCR0 has AVX (the Haswell Bochs model).
 */
static void test_avx_leak(void)
{
	static const uint32_t pattern[8] = { 1, 2, 3, 4, 0x5a5a5a5a, 0x5a5a5a5b, 0x5a5a5a5c, 0x5a5a5a5d };
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = long_mode_vm(&vm, &v, 0x500);
	struct kvm_sregs s;
	uint32_t seen;
	int ok;

	VT_LOAD(mem, CODE, g_avx);
	if (ioctl(v.fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXSAVE;
	if (ioctl(v.fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS OSXSAVE");
	enter(&v, CODE, 2, 0);
	/* Nothing between this and the KVM_RUN system call touches YMM0. */
	asm volatile("vmovdqu %0, %%ymm0" : : "m"(pattern) : "xmm0");
	ok = vt_expect_exit(&v, KVM_EXIT_IO, "avx") && v.run->io.port == 0x80;
	seen = ok ? vt_io_u32(&v) : 0xffffffff;
	printf("# guest: upper half of YMM0 after XSETBV: %#x\n", seen);
	vt_result(ok && seen == 0, "a guest enabling AVX sees its own YMM state, not the host task's (%#x)",
		  seen);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * DR7 is the guest's: what it writes it reads back (with KVM's fixed bits),
 * and DR0 too. rvisor ran guests without the load/save debug controls, so
 * the processor's DR7 in the guest was the host's.
 */
static void test_dr7(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = long_mode_vm(&vm, &v, 0x500);
	struct kvm_regs r;
	int exit;

	VT_LOAD(mem, CODE, g_dr7);
	enter(&v, CODE, 2, 0);
	exit = vt_run(&v);
	r = vt_regs(&v);
	printf("# guest: DR7 round trip: exit %s dr7 %#llx dr0 %#llx\n", vt_exit_name(exit),
	       (unsigned long long)r.rbx, (unsigned long long)r.rcx);
	vt_result(exit == KVM_EXIT_HLT && r.rbx == 0xf0401 && r.rcx == 0x1100,
		  "guest DR7 and DR0 read back what the guest wrote (%#llx, %#llx)",
		  (unsigned long long)r.rbx, (unsigned long long)r.rcx);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * DR7.GD: the next MOV DR raises #DB before it executes (here: no IDT, so a
 * triple fault at that instruction). The MOV-DR exit takes precedence, so
 * the hypervisor must raise it; rvisor ignored GD and the guest read DR0
 * and went on to HLT.
 */
static void test_dr_general_detect(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = long_mode_vm(&vm, &v, 0x500);
	struct kvm_regs r;
	int exit;

	VT_LOAD(mem, CODE, g_gd);
	enter(&v, CODE, 2, 0);
	exit = vt_run(&v);
	r = vt_regs(&v);
	printf("# guest: DR7.GD: exit %s rip %#llx rbx %#llx\n", vt_exit_name(exit),
	       (unsigned long long)r.rip, (unsigned long long)r.rbx);
	vt_result(exit == KVM_EXIT_SHUTDOWN && r.rbx != 0x5a,
		  "MOV DR with DR7.GD set raises #DB (exit %s)", vt_exit_name(exit));
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/* A 64-bit interrupt gate to CODE + (handler - g_vector_start), selector 8. */
/* A 64-bit interrupt gate for vector VEC at guest address OFF. */
static void idt_gate_at(uint8_t *mem, uint64_t idt, int vec, uint64_t off)
{
	uint64_t *gate = (uint64_t *)(mem + idt + 16 * vec);

	gate[0] = (off & 0xffff) | (8ull << 16) | (0x8eull << 40) | ((off >> 16 & 0xffff) << 48);
	gate[1] = off >> 32;
}

/* A gate for vector VEC to HANDLER, a label of g_vector (loaded at CODE). */
static void idt_gate(uint8_t *mem, uint64_t idt, int vec, const uint8_t *handler)
{
	idt_gate_at(mem, idt, vec, CODE + (uint64_t)(handler - g_vector_start));
}

/*
 * Events whose delivery exits half-way (here: an EPT violation on the
 * IDT or the stack, which the hypervisor maps) must be delivered again on
 * the next entry, from the IDT-vectoring information (KVM's
 * vmx_complete_interrupts()). rvisor dropped them: a fault raised again
 * when the instruction re-executed, but the single-step trap was lost.
 */
/*
 * long_mode_vm() with g_vector at CODE, a GDT and an IDT with its three
 * handlers; RBX, RCX and RDX point to three stacks in 2-4 MiB, which
 * nothing has touched.
 */
static uint8_t *idt_vm(struct vt_vm *vm, struct vt_vcpu *v)
{
	uint8_t *mem = long_mode_vm(vm, v, 0x500);
	uint64_t *gdt = (uint64_t *)(mem + 0x4000);
	struct kvm_regs r = { .rip = CODE, .rflags = X86_EFLAGS_FIXED,
			      .rbx = 0x300000, .rcx = 0x340000, .rdx = 0x380000 };
	struct kvm_sregs s;

	VT_LOAD(mem, CODE, g_vector);
	gdt[1] = 0x00af9b000000ffffull; /* 64-bit code */
	gdt[2] = 0x00cf93000000ffffull; /* data */
	idt_gate(mem, 0x5000, 1, g_vector_db);
	idt_gate(mem, 0x5000, 0x21, g_vector_int);
	idt_gate(mem, 0x5000, 14, g_vector_pf);
	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.gdt.base = 0x4000;
	s.gdt.limit = 23;
	s.idt.base = 0x5000;
	s.idt.limit = 256 * 16 - 1;
	if (ioctl(v->fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS");
	if (ioctl(v->fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	return mem;
}

/*
 * Events whose delivery exits half-way (here: an EPT violation on the
 * IDT or the stack, which the hypervisor maps) must be delivered again on
 * the next entry, from the IDT-vectoring information (KVM's
 * vmx_complete_interrupts()). rvisor dropped them: a fault raised again
 * when the instruction re-executed, but the single-step trap was lost.
 */
static void test_vectoring(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint64_t ret = CODE + (uint64_t)(g_vector_ret - g_vector_start);
	struct kvm_regs r;
	int exit, ok;

	idt_vm(&vm, &v);
	exit = vt_run(&v);
	r = vt_regs(&v);
	printf("# guest: events re-delivered: exit %s #DB %llu, INT %llu returning to %#llx, "
	       "#PF error %#llx cr2 %#llx\n", vt_exit_name(exit), (unsigned long long)r.r8,
	       (unsigned long long)r.r9, (unsigned long long)r.r10, (unsigned long long)r.r11,
	       (unsigned long long)r.r12);
	ok = exit == KVM_EXIT_HLT;
	vt_result(ok && r.r8 == 1, "a single-step #DB whose delivery exits is delivered (%llu times)",
		  (unsigned long long)r.r8);
	vt_result(ok && r.r9 == 1 && r.r10 == ret,
		  "INT 0x21 whose delivery exits is delivered once, returning after the INT");
	vt_result(ok && r.r11 == 2 && r.r12 == 0x600000,
		  "a #PF whose delivery exits is delivered with its error code and CR2");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * Event delivery that pushes onto MMIO: there is no instruction to emulate
 * (RIP is past the traced instruction, at a store). rvisor decoded that
 * store and reported it as an MMIO write of EAX to the stack's address;
 * now KVM_INTERNAL_ERROR_DELIVERY_EV, as KVM 6.14. KVM 6.12 emulates the
 * store (Documentation/uapi.rst), so on /dev/kvm this only shows what it did.
 */
static void test_vectoring_mmio(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = idt_vm(&vm, &v);
	struct kvm_regs r = { .rip = CODE + 0x800, .rflags = X86_EFLAGS_FIXED | X86_EFLAGS_TF, .rsp = 0x500000 };
	int exit, kvm = strstr(dev, "kvm") != NULL;

	VT_LOAD(mem, CODE + 0x800, g_vector_mmio);
	if (ioctl(v.fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	exit = vt_run(&v);
	if (exit == KVM_EXIT_INTERNAL_ERROR)
		printf("# %s: #DB pushed onto MMIO: exit %s suberror %u data %#llx %#llx %#llx %#llx\n",
		       dev, vt_exit_name(exit), v.run->internal.suberror,
		       (unsigned long long)v.run->internal.data[0],
		       (unsigned long long)v.run->internal.data[1],
		       (unsigned long long)v.run->internal.data[2],
		       (unsigned long long)v.run->internal.data[3]);
	else
		printf("# %s: #DB pushed onto MMIO: exit %s (MMIO address %#llx write %u)\n", dev,
		       vt_exit_name(exit), (unsigned long long)v.run->mmio.phys_addr,
		       v.run->mmio.is_write);
	if (kvm)
		vt_result(1, "event delivery onto MMIO # SKIP KVM 6.12 emulates the instruction at RIP");
	else
		vt_result(exit == KVM_EXIT_INTERNAL_ERROR &&
			  v.run->internal.suberror == KVM_INTERNAL_ERROR_DELIVERY_EV &&
			  v.run->internal.data[0] == 0x80000301 && v.run->internal.data[1] == 48 &&
			  v.run->internal.ndata == 5 && (v.run->internal.data[3] >> 12) == 0x4ff,
			  "event delivery onto MMIO is KVM_INTERNAL_ERROR_DELIVERY_EV, not emulated");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * A CPL3 long-mode vCPU with IOPL 3 and 4 KiB user pages over the first
 * 2 MiB (CR0.WP set), but 0x20000 read-only, 0x21000 supervisor-only and
 * 0x22000 not present; no IDT, so a fault ends in a triple fault with CR2
 * set.
 */
static uint8_t *user_strio_vm(struct vt_vm *vm, struct vt_vcpu *v)
{
	uint8_t *mem = vt_mem(vm, 0, 0, 0x400000, 0);
	uint64_t *pml4 = (uint64_t *)(mem + 0x10000);
	uint64_t *pdpt = (uint64_t *)(mem + 0x11000);
	uint64_t *pd = (uint64_t *)(mem + 0x12000);
	uint64_t *pt = (uint64_t *)(mem + 0x13000);
	struct kvm_sregs s;

	pml4[0] = 0x11000 | PTE_PW | PTE_USER;
	pdpt[0] = 0x12000 | PTE_PW | PTE_USER;
	pd[0] = 0x13000 | PTE_PW | PTE_USER;
	for (int i = 0; i < 512; i++)
		pt[i] = (uint64_t)i << 12 | PTE_PW | PTE_USER;
	pt[0x20] = 0x20000 | PTE_PRESENT | PTE_USER;
	pt[0x21] = 0x21000 | PTE_PW;
	pt[0x22] = 0;
	VT_LOAD(mem, CODE, g_ustr);
	*v = vt_vcpu_create(vm, 0);
	vt_set_supported_cpuid(vm, v);
	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.cs = (struct kvm_segment){ .selector = 0x2b, .type = SEG_TYPE_CODE_XRA, .present = 1, .s = 1, .l = 1,
				     .g = 1, .dpl = 3, .limit = 0xffffffff };
	s.ds = s.es = s.fs = s.gs = s.ss = (struct kvm_segment){ .selector = 0x33, .type = SEG_TYPE_DATA_RWA,
		.present = 1, .s = 1, .db = 1, .g = 1, .dpl = 3, .limit = 0xffffffff };
	s.cr3 = 0x10000;
	s.cr4 = X86_CR4_PAE;
	s.cr0 = X86_CR0_PG | X86_CR0_WP | X86_CR0_ET | X86_CR0_PE;
	s.efer = EFER_LME | EFER_LMA;
	s.idt.base = 0;
	s.idt.limit = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS CPL3");
	return mem;
}

/*
 * Runs the user-mode string I/O guest from ENTRY with RSI, RDI and RCX; for
 * an INS exit supplies bytes of FILL. Returns the exit that ended it (the
 * OUT to port 0x70, or SHUTDOWN) and prints what the guest saw.
 */
static int user_strio(struct vt_vcpu *v, const uint8_t *entry, uint64_t rsi, uint64_t rdi,
		      uint64_t rcx, int *io_exits, const char *what)
{
	struct kvm_regs r = { .rip = CODE + (uint64_t)(entry - g_ustr_start), .rflags = X86_EFLAGS_IOPL | X86_EFLAGS_FIXED,
			      .rsi = rsi, .rdi = rdi, .rcx = rcx };
	struct kvm_sregs s;
	int exit;

	if (ioctl(v->fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	*io_exits = 0;
	for (;;) {
		exit = vt_run(v);
		if (exit != KVM_EXIT_IO || v->run->io.port == 0x70)
			break;
		(*io_exits)++;
		if (v->run->io.direction == KVM_EXIT_IO_IN)
			memset((uint8_t *)v->run + v->run->io.data_offset, 0xee,
			       (size_t)v->run->io.size * v->run->io.count);
		if (*io_exits > 64)
			break;
	}
	r = vt_regs(v);
	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	printf("# guest: %s: exit %s%s after %d I/O exits, rsi %#llx rdi %#llx rcx %#llx cr2 %#llx\n",
	       what, vt_exit_name(exit), exit == KVM_EXIT_IO ? " (done)" : "", *io_exits,
	       (unsigned long long)r.rsi, (unsigned long long)r.rdi, (unsigned long long)r.rcx,
	       (unsigned long long)s.cr2);
	return exit;
}

/*
 * A user process in the guest with I/O privilege uses INS and OUTS to
 * reach memory its page tables deny it: INS into a read-only page, a
 * supervisor page, an absent page, across into the read-only page, at a
 * non-canonical or host-kernel address; OUTS from a supervisor page. The
 * hypervisor does the memory access for the processor, so it must check
 * what the processor would (SDM Vol. 3A 4.6): each faults (here a triple
 * fault, with CR2 at the address, as on KVM), nothing is written, and an
 * OUTS sends nothing. The control: the same instructions on a user page
 * move the data.
 */
static void test_string_io_cpl3(void)
{
	static const struct {
		const char *what;
		int outs;
		uint64_t addr, rcx, cr2;
		int io_exits;
	} cases[] = {
		{ "INS to a read-only user page", 0, 0x20000, 4, 0x20000, 1 },
		{ "INS to a supervisor page", 0, 0x21000, 4, 0x21000, 1 },
		{ "INS to an absent page", 0, 0x22000, 4, 0x22000, 1 },
		{ "INS running into a read-only page", 0, 0x1fffe, 4, 0x20000, 2 },
		{ "INS to a host kernel address", 0, 0xffff888000000000ull, 4, 0xffff888000000000ull, 1 },
		{ "INS to a non-canonical address", 0, 0x0000800000000000ull, 4, 0, 1 },
		{ "OUTS from a supervisor page", 1, 0x21000, 4, 0x21000, 0 },
	};
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = user_strio_vm(&vm, &v);
	struct kvm_sregs s;
	int exit, n, ok;

	/* Controls: INS and OUTS on a user page. */
	exit = user_strio(&v, g_ustr_start, 0, 0x30000, 4, &n, "INS to a user page");
	vt_result(exit == KVM_EXIT_IO && n == 1 && !memcmp(mem + 0x30000, "\xee\xee\xee\xee", 4) &&
		  vt_regs(&v).rdi == 0x30004, "control: CPL3 REP INSB to a user page writes it");
	memcpy(mem + 0x31000, "EVIL", 4);
	exit = user_strio(&v, g_ustr_outs, 0x31000, 0, 4, &n, "OUTS from a user page");
	vt_result(exit == KVM_EXIT_IO && n == 4, "control: CPL3 REP OUTSB from a user page sends it");
	/* The walk set the accessed and dirty flags, as the processor would. */
	printf("# guest: PTEs after INS and OUTS: %#llx %#llx\n",
	       (unsigned long long)((uint64_t *)(mem + 0x13000))[0x30],
	       (unsigned long long)((uint64_t *)(mem + 0x13000))[0x31]);
	vt_result((((uint64_t *)(mem + 0x13000))[0x30] & 0x60) == 0x60 &&
		  (((uint64_t *)(mem + 0x13000))[0x31] & 0x60) == 0x20,
		  "INS set the written page's A and D flags, OUTS only A");
	exit = user_strio(&v, g_ustr_a32, 0, 0xffffffff00032000ull, 2, &n, "addr32 INS");
	vt_result(exit == KVM_EXIT_IO && mem[0x32000] == 0xee && mem[0x32001] == 0xee &&
		  vt_regs(&v).rdi == 0x32002, "addr32 REP INSB uses EDI and zero-extends it");

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t start = cases[i].addr;
		int untouched;

		memset(mem + 0x1f000, 0, 0x4000);
		memcpy(mem + 0x21000, "KEYS", 4);
		if (cases[i].outs)
			exit = user_strio(&v, g_ustr_outs, start, 0, cases[i].rcx, &n, cases[i].what);
		else
			exit = user_strio(&v, g_ustr_start, 0, start, cases[i].rcx, &n, cases[i].what);
		if (ioctl(v.fd, KVM_GET_SREGS, &s))
			vt_die("KVM_GET_SREGS");
		/* Only the two bytes below the read-only page may be written. */
		untouched = !memcmp(mem + 0x20000, "\0\0\0\0", 4) &&
			    !memcmp(mem + 0x21000, "KEYS", 4) &&
			    (start == 0x1fffe ? mem[0x1fffe] == 0xee && mem[0x1ffff] == 0xee :
						mem[0x1fffe] == 0 && mem[0x1ffff] == 0);
		ok = exit == KVM_EXIT_SHUTDOWN && n == cases[i].io_exits && untouched &&
		     (cases[i].cr2 == 0 || s.cr2 == cases[i].cr2);
		vt_result(ok, "%s faults, writes nothing, sends nothing", cases[i].what);
		/* A fresh vCPU state after the triple fault. */
		vt_vcpu_destroy(&vm, &v);
		vt_vm_destroy(&vm);
		vm = vt_vm_create(dev);
		mem = user_strio_vm(&vm, &v);
	}
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * Flat 32-bit segments at CPL3 (code 0x1b, data 0x23), CR0.PE and CR0.AM
 * (alignment checks at CPL3 once EFLAGS.AC is set), and the given GDT and
 * IDT.
 */
static void cpl3_am(struct vt_vcpu *v, uint64_t gdt, uint16_t gdt_limit, uint64_t idt,
		    uint16_t idt_limit)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x1b, .type = SEG_TYPE_CODE_XRA,
		.present = 1, .dpl = 3, .db = 1, .s = 1, .g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_sregs s;

	data.type = SEG_TYPE_DATA_RWA;
	data.selector = 0x23;
	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 |= X86_CR0_PE | X86_CR0_AM;
	s.gdt.base = gdt;
	s.gdt.limit = gdt_limit;
	s.idt.base = idt;
	s.idt.limit = idt_limit;
	if (ioctl(v->fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS CPL3");
}

/*
 * #AC at CPL3 (CR0.AM, EFLAGS.AC, a misaligned load). rvisor intercepts it
 * and gives it back, so that a guest cannot keep the processor delivering
 * #AC without an exit (CVE-2015-5307); the guest must not notice: with no
 * IDT, a triple fault at the load, as on KVM.
 */
static void test_ac_cpl3(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x10000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct kvm_regs r;
	int exit;

	VT_LOAD(mem, CODE, g_ac);
	cpl3_am(&v, 0, 0xffff, 0, 0); /* the reset GDTR; no IDT */
	enter(&v, CODE, X86_EFLAGS_FIXED | X86_EFLAGS_AC, 0);
	exit = vt_run(&v);
	r = vt_regs(&v);
	printf("# guest: #AC at CPL3: exit %s rip %#llx rcx %#llx\n", vt_exit_name(exit),
	       (unsigned long long)r.rip, (unsigned long long)r.rcx);
	vt_result(exit == KVM_EXIT_SHUTDOWN && r.rip == CODE + 5 && r.rcx != 0x5a,
		  "a misaligned load at CPL3 with AC raises #AC in the guest (exit %s rip %#llx)",
		  vt_exit_name(exit), (unsigned long long)r.rip);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * CVE-2015-5307 itself: the #AC handler is a conforming code segment, so
 * the #AC is delivered at CPL3 onto the guest's misaligned stack, and that
 * delivery raises #AC again. Without the intercept the processor loops in
 * delivery with no exit; with it, rvisor must neither loop re-injecting
 * nor lose the event whose delivery failed: as KVM's
 * handle_exception_nmi(), KVM_INTERNAL_ERROR_SIMUL_EX.
 */
static void ac_alarm(int sig)
{
	(void)sig;
}

static void test_ac_in_delivery(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x10000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	uint64_t *gdt = (uint64_t *)(mem + 0x3000);
	uint32_t *idt = (uint32_t *)(mem + 0x4000);
	struct kvm_regs r = { .rip = CODE, .rflags = X86_EFLAGS_FIXED | X86_EFLAGS_AC, .rsp = 0x7003 };
	int exit;

	VT_LOAD(mem, CODE, g_ac);
	gdt[3] = 0x00cffb000000ffffull;	/* 0x1b: CPL3 code */
	gdt[4] = 0x00cff3000000ffffull;	/* 0x23: CPL3 data */
	gdt[5] = 0x00cf9f000000ffffull;	/* 0x28: conforming code, DPL0 */
	idt[17 * 2] = (0x28u << 16) | (CODE + 0x100);	/* #AC: interrupt gate */
	idt[17 * 2 + 1] = 0x8e00;
	cpl3_am(&v, 0x3000, 0x2f, 0x4000, 0xff);
	if (ioctl(v.fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	/* A loop of re-injections would end only here, with EINTR. */
	signal(SIGALRM, ac_alarm);
	alarm(10);
	exit = vt_run(&v);
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	printf("# guest: #AC delivered onto a misaligned CPL3 stack: exit %s suberror %u ndata %u vectoring %#llx info %#llx error code %#llx\n",
	       vt_exit_name(exit), v.run->internal.suberror, v.run->internal.ndata,
	       (unsigned long long)v.run->internal.data[0],
	       (unsigned long long)v.run->internal.data[1],
	       (unsigned long long)v.run->internal.data[2]);
	vt_result(exit == KVM_EXIT_INTERNAL_ERROR &&
		  v.run->internal.suberror == KVM_INTERNAL_ERROR_SIMUL_EX &&
		  v.run->internal.data[0] == 0x80000b11 && v.run->internal.data[1] == 0x80000b11,
		  "#AC raised by #AC's delivery: KVM_INTERNAL_ERROR_SIMUL_EX, no loop (exit %s)",
		  vt_exit_name(exit));
	/* The #AC whose delivery failed is still there: the next run meets it again. */
	alarm(10);
	exit = vt_run(&v);
	alarm(0);
	printf("# guest: run again: exit %s suberror %u vectoring %#llx\n", vt_exit_name(exit),
	       v.run->internal.suberror, (unsigned long long)v.run->internal.data[0]);
	vt_result(exit == KVM_EXIT_INTERNAL_ERROR &&
		  v.run->internal.suberror == KVM_INTERNAL_ERROR_SIMUL_EX &&
		  v.run->internal.data[0] == 0x80000b11,
		  "run again: the #AC was kept and its delivery fails the same way (exit %s)",
		  vt_exit_name(exit));
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/* One run of g_remap: the value it reported, or -errno if KVM_RUN failed. */
static long long remap_run(struct vt_vcpu *v, const char *what)
{
	int exit = vt_run(v);

	if (exit < 0)
		return exit;
	if (exit != KVM_EXIT_IO || v->run->io.port != 0x80) {
		vt_diag("%s: exit %s", what, vt_exit_name(exit));
		return -1000;
	}
	return vt_io_u32(v);
}

/* A fresh anonymous page at @page (MAP_FIXED), holding @value. */
static void map_fresh(uint8_t *page, uint32_t value, const char *what)
{
	if (mmap(page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		 0) == MAP_FAILED)
		vt_die(what);
	*(volatile uint32_t *)page = value;
}

/*
 * The guest's view of its RAM follows the VMM's mapping of it, as on KVM
 * (its MMU notifier): after a MAP_FIXED replacement of the page the guest
 * reads and writes the new page; after MADV_DONTNEED, a zero page; after
 * munmap, KVM_RUN fails with EFAULT, and a new mapping brings it back.
 * rvisor kept the first page pinned in its EPT: the guest went on using a
 * page the VMM no longer had, and the VMM's new page never saw a write.
 */
static void test_remap(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x10000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	volatile uint32_t *word = (volatile uint32_t *)(mem + 0x2000);
	long long first, replaced, zapped, unmapped, back;
	uint32_t seen_replaced, seen_back;

	VT_LOAD(mem, CODE, g_remap);
	*word = 0x11111110;
	vt_real_mode(&v, CODE);
	first = remap_run(&v, "first page");
	map_fresh(mem + 0x2000, 0x22222220, "mmap MAP_FIXED");
	replaced = remap_run(&v, "replaced page");
	seen_replaced = *word;
	if (madvise(mem + 0x2000, 4096, MADV_DONTNEED))
		vt_die("madvise");
	zapped = remap_run(&v, "zapped page");
	if (munmap(mem + 0x2000, 4096))
		vt_die("munmap");
	unmapped = remap_run(&v, "unmapped page");
	map_fresh(mem + 0x2000, 0x33333330, "mmap again");
	/* After the EFAULT, the guest is still at its load (it retries it). */
	back = remap_run(&v, "new page");
	seen_back = *word;
	printf("# guest: remap: first %#llx replaced %#llx (vmm %#x) zapped %#llx unmapped %lld "
	       "back %#llx (vmm %#x)\n", first, replaced, seen_replaced, zapped, unmapped, back,
	       seen_back);
	vt_result(first == 0x11111111, "the guest increments its page (%#llx)", first);
	vt_result(replaced == 0x22222221 && seen_replaced == 0x22222221,
		  "after MAP_FIXED the guest uses the VMM's new page (guest %#llx, VMM %#x)", replaced,
		  seen_replaced);
	vt_result(zapped == 1, "after MADV_DONTNEED the guest sees a zero page (%#llx)", zapped);
	vt_result(unmapped == -EFAULT, "after munmap KVM_RUN fails with EFAULT (%lld)", unmapped);
	vt_result(back == 0x33333331 && seen_back == 0x33333331,
		  "a new mapping at the same address is the guest's page again (guest %#llx, VMM %#x)",
		  back, seen_back);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/* The vCPU thread of test_killable_lock: KVM_RUN until a signal. */
static void *spin_vcpu(void *arg)
{
	struct vt_vcpu *v = arg;

	return (void *)(intptr_t)(ioctl(v->fd, KVM_RUN, 0) < 0 ? errno : 0);
}

/* The waiter of test_killable_lock: a second ioctl on the running vCPU. */
static int waiter(void *arg)
{
	struct kvm_regs r;

	_exit(ioctl(*(int *)arg, KVM_GET_REGS, &r) < 0 ? 2 : 3);
}

static void no_op(int sig)
{
	(void)sig;
}

/* The state letter of /proc/PID/stat, or '?'. */
static char proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * A task waiting for a running vCPU's lock dies when killed, as on KVM
 * (mutex_lock_killable() in kvm_vcpu_ioctl()). The guest spins with no
 * exit to user space, so its vCPU thread never lets go of the lock; the
 * waiter shares the VMM's address space (clone(CLONE_VM), so its ioctl is
 * served) but is another process, so killing it leaves the guest running.
 * rvisor's waiter stayed in D state, unkillable, until the guest stopped.
 */
static void test_killable_lock(void)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x10000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct sigaction sa = { .sa_handler = no_op };
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int i, reaped = 0, status = 0, fd = v.fd;
	char state = '?';
	pthread_t spinner;
	void *run_err;
	pid_t pid;

	/*
	 * sti; jmp .: with interrupts on, so that the host's interrupts
	 * (the signal's kick) still make it exit to the hypervisor in Bochs,
	 * which raises no external-interrupt exit while the guest has IF
	 * clear; kvm_intel, which has no other means to stop it there, then
	 * only got out on an RCU stall's NMI 21 s later.
	 */
	mem[CODE] = 0xfb;
	mem[CODE + 1] = 0xeb;
	mem[CODE + 2] = 0xfe;
	vt_real_mode(&v, CODE);
	sigaction(SIGUSR1, &sa, NULL);
	if (pthread_create(&spinner, NULL, spin_vcpu, &v))
		vt_die("pthread_create");
	nanosleep(&(struct timespec){ 0, 300 * 1000 * 1000 }, NULL);
	pid = clone(waiter, stack + sizeof(stack), CLONE_VM | SIGCHLD, &fd);
	if (pid < 0)
		vt_die("clone");
	/* Wait until it sleeps in the ioctl (or, wrongly, got an answer). */
	for (i = 0; i < 300 && state != 'D'; i++) {
		nanosleep(&tick, NULL);
		state = proc_state(pid);
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = -1;
			break;
		}
	}
	if (!reaped) {
		kill(pid, SIGKILL);
		for (i = 0; i < 300 && !reaped; i++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				reaped = 1;
			else
				nanosleep(&tick, NULL);
		}
	}
	pthread_kill(spinner, SIGUSR1);
	pthread_join(spinner, &run_err);
	if (!reaped)
		waitpid(pid, &status, 0);
	printf("# guest: killed waiter on a running vCPU: waited in %c, %s; KVM_RUN then errno %d\n",
	       state, reaped == 1 ? "reaped at once" : reaped ? "answered" : "not reaped while the guest ran",
	       (int)(intptr_t)run_err);
	vt_result(state == 'D' && reaped == 1 && WIFSIGNALED(status),
		  "a task waiting for a running vCPU's lock dies when killed (state %c)", state);
	vt_result((intptr_t)run_err == EINTR, "the signalled vCPU thread's KVM_RUN returns EINTR (%d)",
		  (int)(intptr_t)run_err);
	signal(SIGUSR1, SIG_DFL);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/* The vCPU thread of test_exit_storm: KVM_RUN until a signal, timed. */
struct storm {
	struct vt_vcpu *v;
	volatile int done;
	int err;
};

static void *storm_vcpu(void *arg)
{
	struct storm *st = arg;

	st->err = ioctl(st->v->fd, KVM_RUN, 0) < 0 ? errno : 0;
	st->done = 1;
	return NULL;
}

/*
 * A guest with interrupts off whose every instruction is an exit the
 * hypervisor handles itself (CPUID) must still let its CPU go: the host's
 * interrupts, IPIs and the signal that ends KVM_RUN get through within a
 * moment, as on KVM (which enables interrupts after every exit). rvisor
 * re-entered such a guest with interrupts off for as long as it kept
 * exiting, and where external interrupts do not force an exit while the
 * guest has RFLAGS.IF clear (Bochs), that was for ever: the CPU took no
 * interrupt again, and the next IPI to it hung the host.
 */
static void test_exit_storm(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x10000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct sigaction sa = { .sa_handler = no_op };
	struct storm st = { .v = &v };
	struct timespec t0, t1;
	pthread_t thread;
	long ms;
	int i;

	VT_LOAD(mem, CODE, g_cpuid_loop);
	vt_real_mode(&v, CODE);
	vt_set_supported_cpuid(&vm, &v);
	sigaction(SIGUSR1, &sa, NULL);
	if (pthread_create(&thread, NULL, storm_vcpu, &st))
		vt_die("pthread_create");
	nanosleep(&(struct timespec){ 0, 500 * 1000 * 1000 }, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_kill(thread, SIGUSR1);
	for (i = 0; i < 500 && !st.done; i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("# guest: CPUID storm with interrupts off: KVM_RUN %s, errno %d\n",
	       st.done ? "returned on the signal" : "still running after 5 s", st.err);
	vt_result(st.done && st.err == EINTR,
		  "a guest exiting in a loop with interrupts off still lets a signal end KVM_RUN (%ld ms)",
		  ms);
	if (st.done)
		pthread_join(thread, NULL);
	signal(SIGUSR1, SIG_DFL);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/* Whether this (host) CPU has AVX state enabled in XCR0. */
static int host_has_avx(void)
{
	uint32_t eax, ebx, ecx, edx, lo, hi;

	asm volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
	if (!(ecx & CPUID_1_ECX_OSXSAVE))
		return 0;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & (XFEATURE_MASK_SSE | XFEATURE_MASK_YMM)) ==
	       (XFEATURE_MASK_SSE | XFEATURE_MASK_YMM);
}

/*
 * A fault pushes RFLAGS with RF set (SDM Vol. 3A, 18.3.1.1), also one the
 * hypervisor injects: VM entry pushes the guest's RFLAGS as it is, so KVM
 * sets RF before it injects a fault (kvm_check_and_inject_events()).
 * rvisor did not, so the #GP it injected for RDMSR pushed RF clear. The
 * control: the #UD the processor delivers pushes RF set.
 */
static void test_fault_rf(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = idt_vm(&vm, &v);
	uint64_t at = CODE + 0x800;
	struct kvm_regs r = { .rip = at, .rflags = X86_EFLAGS_FIXED, .rbx = 0x300000 };
	int exit;

	VT_LOAD(mem, at, g_fault_rf);
	idt_gate_at(mem, 0x5000, 13, at + (uint64_t)(g_fault_rf_gp - g_fault_rf_start));
	idt_gate_at(mem, 0x5000, 6, at + (uint64_t)(g_fault_rf_ud - g_fault_rf_start));
	if (ioctl(v.fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	exit = vt_run(&v);
	r = vt_regs(&v);
	printf("# guest: pushed RFLAGS: exit %s #GP (injected) %#llx #UD %#llx\n",
	       vt_exit_name(exit), (unsigned long long)r.r13, (unsigned long long)r.r14);
	vt_result(exit == KVM_EXIT_HLT && (r.r14 & X86_EFLAGS_RF),
		  "control: the #UD pushed RFLAGS with RF set");
	vt_result(exit == KVM_EXIT_HLT && (r.r13 & X86_EFLAGS_RF),
		  "the #GP the hypervisor injected pushed RFLAGS with RF set, as a fault");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * A 32-bit guest whose TR is a busy 16-bit TSS turns long mode on (EFER.LME,
 * then CR0.PG): the processor refuses a VM entry into IA-32e mode with any
 * TR but a 64-bit busy TSS (SDM Vol. 3C, 27.3.1.2), so the TSS is retyped,
 * as KVM's enter_lmode() does. rvisor kept the 16-bit type, and the guest
 * made every later VM entry fail (KVM_EXIT_FAIL_ENTRY) until 56a72e4.
 */
static void test_tss16_long(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v;
	uint8_t *mem = long_mode_vm(&vm, &v, 0x500);
	struct kvm_sregs s;
	int exit;

	VT_LOAD(mem, CODE, g_paging_on);
	if (ioctl(v.fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.cr0 = X86_CR0_ET | X86_CR0_PE;
	s.efer = EFER_LME;
	s.cs.l = 0;
	s.cs.db = 1;
	s.tr = (struct kvm_segment){ .base = 0x30000, .limit = 0x67, .selector = 0x18, .type = SEG_TYPE_TSS16_BUSY,
				     .present = 1 };
	if (ioctl(v.fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS");
	enter(&v, CODE, 2, 0);
	exit = vt_run(&v);
	if (ioctl(v.fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	printf("# guest: 16-bit TSS into long mode: exit %s efer %#llx cr0 %#llx tr type %u\n",
	       vt_exit_name(exit), (unsigned long long)s.efer, (unsigned long long)s.cr0,
	       s.tr.type);
	if (exit == KVM_EXIT_FAIL_ENTRY)
		vt_diag("  hardware reason %#llx",
			(unsigned long long)v.run->fail_entry.hardware_entry_failure_reason);
	if (exit == KVM_EXIT_INTERNAL_ERROR)
		vt_diag("  suberror %u data %#llx %#llx", v.run->internal.suberror,
			(unsigned long long)v.run->internal.data[0],
			(unsigned long long)v.run->internal.data[1]);
	vt_result(exit == KVM_EXIT_HLT && (s.efer & EFER_LMA) && s.tr.type == SEG_TYPE_TSS_BUSY,
		  "long mode from a 16-bit TSS: the guest runs on, its TSS retyped 64-bit busy");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * A 32-bit vCPU with CR4.PAE, paging off, CR3 at a PDPT at 0x20000 whose
 * first entry is PDPTE, the page directory at 0x21000 mapping 0-4 MiB; no
 * IDT.
 */
static uint8_t *pae_mem; /* the last pae_vcpu()'s memory */

static struct vt_vcpu pae_vcpu(struct vt_vm *vm, uint64_t pdpte)
{
	uint8_t *mem = pae_mem = vt_mem(vm, 0, 0, 0x400000, 0);
	uint64_t *pdpt = (uint64_t *)(mem + 0x20000);
	uint64_t *pd = (uint64_t *)(mem + 0x21000);
	struct vt_vcpu v = vt_vcpu_create(vm, 0);
	struct kvm_sregs s;

	pdpt[0] = pdpte;
	pd[0] = PTE_PW | PTE_PSE;
	pd[1] = 0x200000 | PTE_PW | PTE_PSE;
	VT_LOAD(mem, CODE, g_paging_on);
	vt_set_supported_cpuid(vm, &v);
	vt_protected_mode(&v, CODE);
	if (ioctl(v.fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.cr4 = X86_CR4_PAE;
	s.cr3 = 0x20000;
	s.idt.limit = 0;
	if (ioctl(v.fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS");
	return v;
}

/*
 * A guest turns PAE paging on with a reserved bit (R/W, bit 1) in a present
 * PDPTE: the MOV to CR0 raises #GP and changes nothing (KVM's
 * load_pdptrs(); SDM Vol. 3A, 4.4.1). rvisor loaded the PDPTEs into the
 * VMCS unchecked, and the guest made its VM entry fail until 56a72e4. The
 * control: the same PDPTE without the reserved bit turns paging on.
 */
static void test_pae_reserved(void)
{
	static const struct {
		uint64_t pdpte;
		const char *what;
	} cases[] = {
		{ 0x21000 | PTE_PRESENT, "valid PDPTE" },
		{ 0x21000 | PTE_PW, "PDPTE with R/W (reserved)" },
	};

	for (unsigned int i = 0; i < 2; i++) {
		struct vt_vm vm = vt_vm_create(dev);
		struct vt_vcpu v = pae_vcpu(&vm, cases[i].pdpte);
		struct kvm_sregs s;
		struct kvm_regs r;
		int exit = vt_run(&v);

		if (ioctl(v.fd, KVM_GET_SREGS, &s))
			vt_die("KVM_GET_SREGS");
		r = vt_regs(&v);
		printf("# guest: PAE paging on, %s: exit %s rip %#llx cr0 %#llx\n", cases[i].what,
		       vt_exit_name(exit), (unsigned long long)r.rip, (unsigned long long)s.cr0);
		if (i == 0)
			vt_result(exit == KVM_EXIT_HLT && (s.cr0 >> 31) == 1,
				  "PAE paging on with a valid PDPTE: HLT, paging on");
		else
			vt_result(exit == KVM_EXIT_SHUTDOWN && (s.cr0 >> 31) == 0 &&
					  r.rip == CODE + 8,
				  "PAE paging on with a reserved PDPTE bit: #GP at the MOV (no IDT: shutdown), paging still off");
		vt_vcpu_destroy(&vm, &v);
		vt_vm_destroy(&vm);
	}
}

/*
 * The VMM sets PAE paging with KVM_SET_SREGS, CR3 at PDPTEs with a reserved
 * bit, or at memory no slot backs. KVM ignores load_pdptrs() failing there:
 * the call succeeds and the processor keeps its old PDPTEs (here none
 * present, so the first fetch faults: shutdown). rvisor refused the second
 * (EFAULT), and loaded the first into the VMCS, so the VM entry failed.
 */
static void test_sregs_pae(void)
{
	static const struct {
		uint64_t pdpte, cr3;
		const char *what;
	} cases[] = {
		{ 0x21000 | PTE_PRESENT, 0x20000, "valid PDPTEs" },
		{ 0x21000 | PTE_PW, 0x20000, "a reserved PDPTE bit" },
		{ 0x21000 | PTE_PRESENT, 0x7fff000, "CR3 in no slot" },
	};

	for (unsigned int i = 0; i < 3; i++) {
		struct vt_vm vm = vt_vm_create(dev);
		struct vt_vcpu v = pae_vcpu(&vm, cases[i].pdpte);
		struct kvm_sregs s;
		int set, exit;

		if (ioctl(v.fd, KVM_GET_SREGS, &s))
			vt_die("KVM_GET_SREGS");
		s.cr0 |= X86_CR0_PG;
		s.cr3 = cases[i].cr3;
		set = ioctl(v.fd, KVM_SET_SREGS, &s) ? -errno : 0;
		vt_set_entry(&v, CODE + 8 + 3);
		exit = vt_run(&v);
		printf("# guest: KVM_SET_SREGS PAE paging, %s: %s, exit %s\n", cases[i].what,
		       set ? strerror(-set) : "accepted", vt_exit_name(exit));
		if (exit == KVM_EXIT_FAIL_ENTRY)
			vt_diag("  hardware reason %#llx",
				(unsigned long long)v.run->fail_entry.hardware_entry_failure_reason);
		if (i == 0)
			vt_result(set == 0 && exit == KVM_EXIT_HLT,
				  "KVM_SET_SREGS PAE paging, valid PDPTEs: the guest runs");
		else
			vt_result(set == 0 && exit == KVM_EXIT_SHUTDOWN,
				  "KVM_SET_SREGS PAE paging, %s: accepted, old PDPTEs kept (the fetch faults), no failed VM entry",
				  cases[i].what);
		vt_vcpu_destroy(&vm, &v);
		vt_vm_destroy(&vm);
	}
}

struct toggler {
	pthread_t vcpu_thread;
	volatile int stop;
};

/* Signals the vCPU thread every half millisecond, until told to stop. */
static void *signal_thread(void *arg)
{
	struct toggler *t = arg;

	while (!t->stop) {
		pthread_kill(t->vcpu_thread, SIGUSR1);
		nanosleep(&(struct timespec){ 0, 500 * 1000 }, NULL);
	}
	return NULL;
}

/*
 * A VMM that changes the vCPU's state whenever a signal ends KVM_RUN, while
 * its guest turns PAE paging on and off: KVM completes a MOV to CR0 in the
 * exit handler, so what user space sees and sets afterwards is the state
 * after the instruction. rvisor returned EINTR with the MOV still pending
 * (its PDPTEs read outside the VMX section) and applied it at the next
 * KVM_RUN on top of what user space had set meanwhile: with EFER.LME set
 * by the VMM, paging came on without IA-32e mode and the VM entry failed.
 * Found by the adversarial review.
 */
static void test_pending_after_signal(void)
{
	struct sigaction sa = { .sa_handler = no_op };
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v = pae_vcpu(&vm, 0x21000 | PTE_PRESENT);
	struct toggler t = { .vcpu_thread = pthread_self() };
	struct kvm_regs r = vt_regs(&v);
	int eintr = 0, fail = 0, other = 0, lme = 0;
	pthread_t sig;

	uint64_t *pd = (uint64_t *)(pae_mem + 0x21000), *pt = (uint64_t *)(pae_mem + 0x22000);

	uint64_t *pml4 = (uint64_t *)(pae_mem + 0x23000);

	/*
	 * Tables that map the code both ways: under PAE paging CR3 (0x20000)
	 * -> PDPT -> PD (0x21000) -> PT (0x22000) -> 0x1000; under 4-level
	 * paging (EFER.LME, CR3 0x23000) PML4 -> the same pages as PDPT and
	 * PD, whose entry 0 is a 2 MiB page at 0. (One page cannot be both
	 * PML4 and PDPT: the walk sets a PML4E's accessed bit, which a PDPTE
	 * has reserved.)
	 */
	pml4[0] = 0x21000 | PTE_PW;
	pd[0] = 0x22000 | PTE_PW;
	pd[1] = 0;
	pt[0] = PTE_PW | PTE_PSE;
	pt[1] = 0x1000 | PTE_PW;
	VT_LOAD(pae_mem, CODE, g_pae_toggle);
	r.rsi = 0x80000011;
	r.rdi = 0x11;
	if (ioctl(v.fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	sigaction(SIGUSR1, &sa, NULL);
	if (pthread_create(&sig, NULL, signal_thread, &t))
		vt_die("pthread_create");
	while (eintr < 300 && !fail && !other) {
		struct kvm_sregs s;
		int exit = vt_run(&v);

		if (exit == -EINTR) {
			eintr++;
		} else if (exit == KVM_EXIT_FAIL_ENTRY) {
			fail++;
			vt_diag("  hardware reason %#llx",
				(unsigned long long)v.run->fail_entry.hardware_entry_failure_reason);
			break;
		} else {
			other++;
			vt_diag("  exit %s (%d) rip %#llx after %d EINTR", vt_exit_name(exit), exit,
				(unsigned long long)vt_regs(&v).rip, eintr);
			break;
		}
		/* Between two instructions, whatever the guest did: set
		 * EFER.LME (or clear it) with paging off, a valid state. */
		if (ioctl(v.fd, KVM_GET_SREGS, &s))
			vt_die("KVM_GET_SREGS");
		s.cr0 &= ~X86_CR0_PG;
		lme = !lme;
		s.efer = lme ? 0x100 : 0;
		s.cr3 = lme ? 0x23000 : 0x20000;
		if (ioctl(v.fd, KVM_SET_SREGS, &s))
			vt_die("KVM_SET_SREGS");
	}
	t.stop = 1;
	pthread_join(sig, NULL);
	signal(SIGUSR1, SIG_DFL);
	printf("# guest: state set after EINTR while paging toggles: %s\n",
	       fail ? "VM entry failed" : other ? "unexpected exits" : "no failed VM entry");
	vt_diag("%d EINTR, %d failed VM entries, %d other exits", eintr, fail, other);
	vt_result(eintr >= 300 && !fail && !other,
		  "EINTR leaves no MOV to CR0 half done for user space to change under it");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[2], "avx")) {
		/* Run only where the host has AVX (bochs-xsave.tests). */
		dev = argv[1];
		setvbuf(stdout, NULL, _IOLBF, 0);
		printf("KTAP version 1\n1..1\n");
		if (!host_has_avx()) {
			printf("ok 1 AVX leak # SKIP the host has no AVX state in XCR0\n");
			return 4;
		}
		test_avx_leak();
		return vt_failed ? 1 : 0;
	}
	dev = argc > 1 ? argv[1] : "/dev/rvisor";
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n1..52\n");
	printf("# device %s\n", dev);
	test_rip_wrap_32();
	test_syscall_reset_lstar();
	test_syscall_fresh_lstar();
	test_syscall_guest_sets_sce();
	test_fd_other_process();
	test_dr7();
	test_dr_general_detect();
	test_ac_cpl3();
	test_string_io_cpl3();
	test_ac_in_delivery();
	test_fault_rf();
	test_tss16_long();
	test_pae_reserved();
	test_sregs_pae();
	test_pending_after_signal();
	test_vectoring();
	test_vectoring_mmio();
	test_remap();
	test_killable_lock();
	test_exit_storm();
	/* Last: before their fixes these panic the host. */
	test_mmio_top();
	test_rip_wrap_64();
	printf("# %d tests, %d failed\n", vt_num, vt_failed);
	return vt_failed ? 1 : 0;
}
