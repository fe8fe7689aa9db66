// SPDX-License-Identifier: GPL-2.0
/*
 * Every exit type of a KVM-compatible hypervisor, in small real-mode,
 * protected-mode, paged and long-mode guests: port I/O both ways, HLT,
 * CPUID from the table KVM_SET_CPUID2 set, VMCALL, MMIO reads and writes
 * (with instruction decoding), writes to a read-only slot, triple fault,
 * VM-entry failure, signals, immediate_exit, MSRs, CR0 and XSETBV.
 *
 *   vm_exits [DEVICE]      DEVICE: /dev/rvisor (default) or /dev/kvm
 *
 * Lines "# guest: ..." carry what the guest observed, so that the output
 * on /dev/rvisor and /dev/kvm can be compared.
 */
#include <signal.h>
#include <sys/time.h>
#include "vmtest.h"

#define CODE 0x1000

/* OUT of a byte and a dword, then HLT. */
VT_GUEST(g_out);
asm(".pushsection .rodata\n.code16\n"
    "g_out_start:\n"
    "  mov $0x48, %al\n"
    "  out %al, $0x10\n"
    "  mov $0x1234abcd, %eax\n"
    "  out %eax, $0x12\n"
    "  hlt\n"
    "g_out_end:\n"
    ".code64\n.popsection\n");

/* IN byte and word, echoed with OUT. */
VT_GUEST(g_in);
asm(".pushsection .rodata\n.code16\n"
    "g_in_start:\n"
    "  in $0x20, %al\n"
    "  out %al, $0x21\n"
    "  in $0x22, %ax\n"
    "  out %ax, $0x23\n"
    "  hlt\n"
    "g_in_end:\n"
    ".code64\n.popsection\n");

/*
 * String I/O in real mode, as SeaBIOS and IDE drivers use it: REP INSB of
 * 5 bytes, REP OUTSW of them back, INSD with DF set, a REP INSB with CX 0
 * (no I/O), an addr32 REP INSB (EDI, ECX), an FS-override OUTSB, REP INSB
 * of 2 KiB from a page boundary (1024 per exit, KVM's read-ahead) and a
 * REP INSW across a page boundary; then HLT.
 */
VT_GUEST(g_strio);
asm(".pushsection .rodata\n.code16\n"
    "g_strio_start:\n"
    "  cld\n"
    "  mov $0x60, %dx\n"
    "  mov $0x3000, %di\n"
    "  mov $5, %cx\n"
    "  rep insb\n"
    "  mov $0x61, %dx\n"
    "  mov $0x3000, %si\n"
    "  mov $3, %cx\n"
    "  rep outsw\n"
    "  std\n"
    "  mov $0x62, %dx\n"
    "  mov $0x4000, %di\n"
    "  insl\n"
    "  cld\n"
    "  xor %cx, %cx\n"
    "  rep insb\n"
    "  mov $0x63, %dx\n"
    "  mov $0x5000, %edi\n"
    "  mov $2, %ecx\n"
    "  .byte 0x67\n"
    "  rep insb\n"
    "  mov $0x200, %ax\n"
    "  mov %ax, %fs\n"
    "  mov $0x10, %si\n"
    "  mov $0x64, %dx\n"
    "  .byte 0x64\n"
    "  outsb\n"
    "  mov $0x65, %dx\n"
    "  mov $0x6000, %di\n"
    "  mov $2048, %cx\n"
    "  rep insb\n"
    "  mov $0x66, %dx\n"
    "  mov $0x7ffe, %di\n"
    "  mov $8, %cx\n"
    "  rep insw\n"
    "  hlt\n"
    "g_strio_end:\n"
    ".code64\n.popsection\n");

/* CPUID leaf 0 and an absent leaf; VMCALL; results on port 0x30. */
VT_GUEST(g_cpuid);
asm(".pushsection .rodata\n.code16\n"
    "g_cpuid_start:\n"
    "  xor %eax, %eax\n"
    "  cpuid\n"
    "  out %eax, $0x30\n"
    "  mov %ebx, %eax\n"
    "  out %eax, $0x30\n"
    "  mov $0x4fffffff, %eax\n"
    "  cpuid\n"
    "  or %ebx, %eax\n"
    "  or %ecx, %eax\n"
    "  or %edx, %eax\n"
    "  out %eax, $0x30\n"
    "  mov $0x7777, %eax\n"
    "  vmcall\n"
    "  out %eax, $0x30\n"
    "  hlt\n"
    "g_cpuid_end:\n"
    ".code64\n.popsection\n");

/*
 * Real mode: CPUID.1:EDX (APIC bit 9), then APIC_BASE.EN cleared by WRMSR,
 * then CPUID.1:EDX again.
 */
VT_GUEST(g_cpuid_apic);
asm(".pushsection .rodata\n.code16\n"
    "g_cpuid_apic_start:\n"
    "  mov $1, %eax\n"
    "  cpuid\n"
    "  mov %edx, %eax\n"
    "  and $0x200, %eax\n"
    "  out %eax, $0x30\n"
    "  mov $0x1b, %ecx\n"
    "  rdmsr\n"
    "  and $~0x800, %eax\n"
    "  wrmsr\n"
    "  mov $1, %eax\n"
    "  cpuid\n"
    "  mov %edx, %eax\n"
    "  and $0x200, %eax\n"
    "  out %eax, $0x30\n"
    "  hlt\n"
    "g_cpuid_apic_end:\n"
    ".code64\n.popsection\n");

/*
 * Real mode: KVM_HC_SEND_IPI (10) with a shorthand in the ICR (RSI), then
 * with a plain fixed ICR, then KVM_HC_CLOCK_PAIRING (9) of clock type 1.
 */
VT_GUEST(g_hypercalls);
asm(".pushsection .rodata\n.code16\n"
    "g_hypercalls_start:\n"
    "  mov $1, %ebx\n"
    "  mov $0xc0020, %esi\n"
    "  mov $10, %eax\n"
    "  vmcall\n"
    "  out %eax, $0x30\n"
    "  mov $0x20, %esi\n"
    "  mov $10, %eax\n"
    "  vmcall\n"
    "  out %eax, $0x30\n"
    "  mov $1, %ecx\n"
    "  mov $9, %eax\n"
    "  vmcall\n"
    "  out %eax, $0x30\n"
    "  hlt\n"
    "g_hypercalls_end:\n"
    ".code64\n.popsection\n");

/*
 * Real mode, CR4.OSXSAVE set by the VMM: CPUID.(0DH, 0):EBX with XCR0 at
 * reset, then XSETBV of every supported bit (CPUID.(0DH, 0):EAX), then
 * EBX again.
 */
VT_GUEST(g_xsave_size);
asm(".pushsection .rodata\n.code16\n"
    "g_xsave_size_start:\n"
    "  mov $0xd, %eax\n"
    "  xor %ecx, %ecx\n"
    "  cpuid\n"
    "  mov %eax, %esi\n"
    "  mov %ebx, %eax\n"
    "  out %eax, $0x30\n"
    "  mov %esi, %eax\n"
    "  xor %edx, %edx\n"
    "  xor %ecx, %ecx\n"
    "  xsetbv\n"
    "  mov $0xd, %eax\n"
    "  xor %ecx, %ecx\n"
    "  cpuid\n"
    "  mov %ebx, %eax\n"
    "  out %eax, $0x30\n"
    "  hlt\n"
    "g_xsave_size_end:\n"
    ".code64\n.popsection\n");

/* 32-bit flat: MMIO store imm32, load dword, movzx byte, store reg. */
VT_GUEST(g_mmio);
asm(".pushsection .rodata\n.code32\n"
    "g_mmio_start:\n"
    "  movl $0xdeadbeef, 0x200000\n"
    "  mov 0x200004, %ebx\n"
    "  mov %ebx, %eax\n"
    "  out %eax, $0x40\n"
    "  movzbl 0x200008, %ecx\n"
    "  mov %ecx, %eax\n"
    "  out %eax, $0x40\n"
    "  mov $0x77, %dh\n"
    "  mov %dh, 0x20000c\n"
    "  hlt\n"
    "g_mmio_end:\n"
    ".code64\n.popsection\n");

/* 32-bit flat: write to the read-only slot, then read it back. */
VT_GUEST(g_ro);
asm(".pushsection .rodata\n.code32\n"
    "g_ro_start:\n"
    "  movb $0x99, 0x300000\n"
    "  mov 0x300000, %al\n"
    "  out %al, $0x50\n"
    "  hlt\n"
    "g_ro_end:\n"
    ".code64\n.popsection\n");

/* Real mode: INT3 with an empty IDT: #GP, #DF, triple fault. */
VT_GUEST(g_triple);
asm(".pushsection .rodata\n.code16\n"
    "g_triple_start:\n"
    "  int3\n"
    "  hlt\n"
    "g_triple_end:\n"
    ".code64\n.popsection\n");

/* A loop that never exits by itself, with interrupts on. */
VT_GUEST(g_spin);
asm(".pushsection .rodata\n.code16\n"
    "g_spin_start:\n"
    "  sti\n"
    "1: jmp 1b\n"
    "g_spin_end:\n"
    ".code64\n.popsection\n");

/* The same with interrupts off. */
VT_GUEST(g_spin_cli);
asm(".pushsection .rodata\n.code16\n"
    "g_spin_cli_start:\n"
    "  cli\n"
    "1: jmp 1b\n"
    "g_spin_cli_end:\n"
    ".code64\n.popsection\n");

/* MSRs: write STAR and KERNEL_GS_BASE, read them back. */
VT_GUEST(g_msr);
asm(".pushsection .rodata\n.code32\n"
    "g_msr_start:\n"
    "  mov $0xc0000081, %ecx\n"
    "  mov $0x11223344, %eax\n"
    "  mov $0x00230010, %edx\n"
    "  wrmsr\n"
    "  xor %eax, %eax\n"
    "  xor %edx, %edx\n"
    "  rdmsr\n"
    "  out %eax, $0x60\n"
    "  mov %edx, %eax\n"
    "  out %eax, $0x60\n"
    "  mov $0xc0000102, %ecx\n"
    "  mov $0xabcd0000, %eax\n"
    "  xor %edx, %edx\n"
    "  wrmsr\n"
    "  rdmsr\n"
    "  out %eax, $0x60\n"
    "  hlt\n"
    "g_msr_end:\n"
    ".code64\n.popsection\n");

/* CR0.NE (host-owned: the guest must still see its own value) and XCR0. */
VT_GUEST(g_cr);
asm(".pushsection .rodata\n.code32\n"
    "g_cr_start:\n"
    "  mov %cr0, %eax\n"
    "  and $0x20, %eax\n"
    "  out %eax, $0x70\n"
    "  mov %cr0, %eax\n"
    "  or $0x20, %eax\n"
    "  mov %eax, %cr0\n"
    "  mov %cr0, %eax\n"
    "  and $0x20, %eax\n"
    "  out %eax, $0x70\n"
    "  mov %cr4, %eax\n"
    "  or $0x40000, %eax\n"
    "  mov %eax, %cr4\n"
    "  xor %ecx, %ecx\n"
    "  mov $3, %eax\n"
    "  xor %edx, %edx\n"
    "  xsetbv\n"
    "  xor %ecx, %ecx\n"
    "  xgetbv\n"
    "  out %eax, $0x70\n"
    "  hlt\n"
    "g_cr_end:\n"
    ".code64\n.popsection\n");

/*
 * SSE state across exits: load XMM0 from 0x3000, exit to user space (which
 * clobbers its own XMM0), store XMM0 to 0x3010 and report it; then load
 * another value into XMM0 and exit again while the host checks that its
 * own XMM0 survived the KVM_RUN.
 */
VT_GUEST(g_sse);
asm(".pushsection .rodata\n.code32\n"
    "g_sse_start:\n"
    "  movdqu 0x3000, %xmm0\n"
    "  out %al, $0xa0\n"
    "  movdqu %xmm0, 0x3010\n"
    "  mov 0x3010, %eax\n"
    "  out %eax, $0xa1\n"
    "  mov 0x301c, %eax\n"
    "  out %eax, $0xa1\n"
    "  movdqu 0x3020, %xmm0\n"
    "  out %al, $0xa2\n"
    "  hlt\n"
    "g_sse_end:\n"
    ".code64\n.popsection\n");

/*
 * x87 and SSE state from KVM_SET_FPU, as the guest sees it: FCW on a fresh
 * vCPU; then, with both out of their init state, FCW, FSW, ST(0) (popped
 * as an integer), XMM1; then new state for KVM_GET_FPU.
 */
VT_GUEST(g_fpu);
asm(".pushsection .rodata\n.code32\n"
    "g_fpu_start:\n"
    "  fnstcw 0x3000\n"
    "  movzwl 0x3000, %eax\n"
    "  out %eax, $0xa5\n"
    "  fld1\n"
    "  pcmpeqd %xmm1, %xmm1\n"
    "  out %al, $0xa6\n"
    "  fnstcw 0x3000\n"
    "  movzwl 0x3000, %eax\n"
    "  out %eax, $0xa3\n"
    "  fnstsw %ax\n"
    "  movzwl %ax, %eax\n"
    "  out %eax, $0xa3\n"
    "  fistpl 0x3004\n"
    "  mov 0x3004, %eax\n"
    "  out %eax, $0xa3\n"
    "  movd %xmm1, %eax\n"
    "  out %eax, $0xa3\n"
    "  fldpi\n"
    "  movdqu 0x3020, %xmm2\n"
    "  out %al, $0xa4\n"
    "  hlt\n"
    "g_fpu_end:\n"
    ".code64\n.popsection\n");

/* Reads 0x200000 and 0x300000, reports both, halts; run twice. */
VT_GUEST(g_move);
asm(".pushsection .rodata\n.code32\n"
    "g_move_start:\n"
    "  mov 0x300000, %eax\n"
    "  out %eax, $0xb0\n"
    "  mov 0x200000, %eax\n"
    "  out %eax, $0xb0\n"
    "  hlt\n"
    "g_move_end:\n"
    ".code64\n.popsection\n");

/* 64-bit: a 64-bit value out in two halves. */
VT_GUEST(g_long);
asm(".pushsection .rodata\n.code64\n"
    "g_long_start:\n"
    "  mov $0x1122334455667788, %rax\n"
    "  out %eax, $0x80\n"
    "  shr $32, %rax\n"
    "  out %eax, $0x80\n"
    "  movq $0x5a5a, 0x400000\n"
    "  hlt\n"
    "g_long_end:\n"
    ".code64\n.popsection\n");

/*
 * Real mode, ECX = an MSR: RDMSR, report EDX:EAX on ports 0x80/0x81; then
 * for each value the VMM puts in EDI:ESI, WRMSR it and RDMSR again. #GP
 * (through the real-mode IVT) reports on port 0x8d and halts.
 */
VT_GUEST(g_msrt);
extern const uint8_t g_msrt_wr[], g_msrt_gp[];
asm(".pushsection .rodata\n.code16\n"
    "g_msrt_start:\n"
    "  rdmsr\n"
    "  out %eax, $0x80\n"
    "  mov %edx, %eax\n"
    "  out %eax, $0x81\n"
    "  hlt\n"
    "g_msrt_wr:\n"
    "  mov %esi, %eax\n"
    "  mov %edi, %edx\n"
    "  wrmsr\n"
    "  rdmsr\n"
    "  out %eax, $0x80\n"
    "  mov %edx, %eax\n"
    "  out %eax, $0x81\n"
    "  hlt\n"
    "g_msrt_gp:\n"
    "  out %al, $0x8d\n"
    "  hlt\n"
    "g_msrt_end:\n"
    ".code64\n.popsection\n");

/*
 * External interrupts from a user-space interrupt controller (the 8259A
 * of a VMM without an in-kernel irqchip): each OUT is a point where the
 * test looks at kvm_run's if_flag and ready_for_interrupt_injection and
 * injects, asks for the interrupt window or attacks. The IVT (page 0) and
 * the stack (page 7) are first touched by the first interrupt's delivery,
 * so that delivery exits (EPT violation) and must be delivered again.
 */
VT_GUEST(g_irq);
extern const uint8_t g_irq_cli[], g_irq_h22[], g_irq_d[], g_irq_win[], g_irq_hlt[], g_irq_after_hlt[], g_irq_k[], g_irq_h20[],
	g_irq_h21[];
asm(".pushsection .rodata\n.code16\n"
    "g_irq_start:\n"
    "  cli\n"
    "  out %al, $0x40\n"		/* A: IF clear */
    "  sti\n"
    "  out %al, $0x41\n"		/* B: in the STI shadow */
    "  nop\n"
    "  out %al, $0x42\n"		/* C: open: inject 0x20 */
    "g_irq_d:\n"
    "  out %al, $0x43\n"		/* D: back from the handler */
    "  cli\n"
    "  out %al, $0x44\n"		/* E: ask for the window */
    "  nop\n"
    "  nop\n"
    "  sti\n"
    "  nop\n"
    "g_irq_win:\n"			/* the window opens here */
    "  nop\n"
    "  out %al, $0x45\n"		/* F: ask for a window already open */
    "g_irq_hlt:\n"
    "  hlt\n"				/* G: inject into HLT */
    "g_irq_after_hlt:\n"
    "  out %al, $0x46\n"		/* H: bad vectors, bad CR8 */
    "  out %al, $0x47\n"		/* I: queue through KVM_SET_SREGS */
    "  out %al, $0x48\n"		/* J: inject and ask for the window */
    "g_irq_cli:\n"
    "  cli\n"
    "  out %al, $0x49\n"		/* K: inject against IF */
    "g_irq_k:\n"
    "  hlt\n"
    "g_irq_h20:\n"
    "  out %al, $0x50\n"
    "  iret\n"
    "g_irq_h21:\n"
    "  out %al, $0x51\n"
    "  iret\n"
    "g_irq_h22:\n"
    "  iret\n"
    "g_irq_end:\n"
    ".code64\n.popsection\n");

/*
 * NMIs from KVM_NMI: delivered whatever IF says, blocked while the
 * handler runs (virtual-NMI blocking until its IRET), at most one latched
 * behind the one being handled. The handler reports on two ports.
 */
VT_GUEST(g_nmi);
extern const uint8_t g_nmi_h[], g_nmi_h2[], g_nmi_ret[], g_nmi_iret[], g_nmi_e2[], g_nmi_ud[];
asm(".pushsection .rodata\n.code16\n"
    "g_nmi_start:\n"
    "  cli\n"
    "  out %al, $0x60\n"
    "  out %al, $0x61\n"
    "  out %al, $0x62\n"
    "g_nmi_ret:\n"
    "  out %al, $0x63\n"
    "  out %al, $0x64\n"
    "g_nmi_e2:\n"
    "  out %al, $0x65\n"
    "  hlt\n"
    "g_nmi_ud:\n"
    "  out %al, $0x7a\n"
    "  hlt\n"
    "g_nmi_h:\n"
    "  out %al, $0x70\n"
    "  out %al, $0x71\n"
    "  iret\n"
    "g_nmi_h2:\n"			/* IRET from a stack the guest never touched */
    "  out %al, $0x72\n"
    "  mov $0x9000, %sp\n"
    "g_nmi_iret:\n"
    "  iret\n"
    "g_nmi_end:\n"
    ".code64\n.popsection\n");

/*
 * Real mode, IF and TF set: the OUT exits, and completing it raises the
 * single-step #DB. The #DB handler clears TF in the frame it returns to.
 */
VT_GUEST(g_tf);
extern const uint8_t g_tf_db[], g_tf_h23[];
asm(".pushsection .rodata\n.code16\n"
    "g_tf_start:\n"
    "  sti\n"
    "  pushf\n"
    "  pop %ax\n"
    "  or $0x100, %ax\n"
    "  push %ax\n"
    "  popf\n"
    "  out %al, $0x4c\n"
    "  out %al, $0x4d\n"
    "  hlt\n"
    "g_tf_db:\n"
    "  push %bp\n"
    "  mov %sp, %bp\n"
    "  andw $~0x100, 6(%bp)\n"
    "  pop %bp\n"
    "  out %al, $0x58\n"
    "  iret\n"
    "g_tf_h23:\n"
    "  out %al, $0x53\n"
    "  iret\n"
    "g_tf_end:\n"
    ".code64\n.popsection\n");

static const char *dev;

static void expect_io(struct vt_vcpu *v, int dir, int port, int size, uint32_t data, const char *what)
{
	int ok = vt_expect_exit(v, KVM_EXIT_IO, what);

	if (ok && (v->run->io.direction != dir || v->run->io.port != port || v->run->io.size != size)) {
		vt_diag("%s: io dir %d port %#x size %d", what, v->run->io.direction, v->run->io.port,
			v->run->io.size);
		ok = 0;
	}
	if (ok && dir == KVM_EXIT_IO_OUT) {
		uint32_t got = vt_io_u32(v) & (size == 4 ? 0xffffffff : (1u << (8 * size)) - 1);

		printf("# guest: %s out %#x = %#x\n", what, port, got);
		if (got != data) {
			vt_diag("%s: data %#x, want %#x", what, got, data);
			ok = 0;
		}
	}
	vt_result(ok, "%s", what);
}

static void test_out_hlt(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	void *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct kvm_regs r;

	VT_LOAD(mem, CODE, g_out);
	vt_real_mode(&v, CODE);
	expect_io(&v, KVM_EXIT_IO_OUT, 0x10, 1, 0x48, "real mode: OUT byte -> KVM_EXIT_IO");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x12, 4, 0x1234abcd, "real mode: OUT dword -> KVM_EXIT_IO");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "HLT -> KVM_EXIT_HLT");
	r = vt_regs(&v);
	printf("# guest: rip after hlt %#llx\n", (unsigned long long)r.rip);
	vt_result(r.rip == (uint64_t)(CODE + (g_out_end - g_out_start)), "RIP is past HLT (%#llx)",
		  (unsigned long long)r.rip);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

static void test_in(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	void *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	int ok;

	VT_LOAD(mem, CODE, g_in);
	vt_real_mode(&v, CODE);
	ok = vt_expect_exit(&v, KVM_EXIT_IO, "in byte") && v.run->io.direction == KVM_EXIT_IO_IN &&
	     v.run->io.port == 0x20 && v.run->io.size == 1;
	vt_result(ok, "IN byte -> KVM_EXIT_IO (in, port 0x20)");
	*((uint8_t *)v.run + v.run->io.data_offset) = 0x5a;
	expect_io(&v, KVM_EXIT_IO_OUT, 0x21, 1, 0x5a, "IN data completed on the next KVM_RUN");
	ok = vt_expect_exit(&v, KVM_EXIT_IO, "in word") && v.run->io.size == 2;
	vt_result(ok, "IN word -> KVM_EXIT_IO (size 2)");
	memcpy((uint8_t *)v.run + v.run->io.data_offset, "\x34\x12", 2);
	expect_io(&v, KVM_EXIT_IO_OUT, 0x23, 2, 0x1234, "IN word data completed");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * Expects an I/O exit of COUNT elements of SIZE bytes at PORT in
 * direction DIR, printed as the guest made it; for IN, supplies DATA.
 */
static int expect_string_io(struct vt_vcpu *v, int dir, uint16_t port, int size,
			    unsigned int count, const void *data, const char *what)
{
	int ok = vt_expect_exit(v, KVM_EXIT_IO, what);
	uint8_t *io = (uint8_t *)v->run + v->run->io.data_offset;

	if (!ok)
		return 0;
	printf("# guest: %s: %s port %#x size %d count %u\n", what,
	       v->run->io.direction == KVM_EXIT_IO_IN ? "in" : "out", v->run->io.port,
	       v->run->io.size, v->run->io.count);
	ok = v->run->io.direction == dir && v->run->io.port == port && v->run->io.size == size &&
	     v->run->io.count == count;
	if (!ok)
		vt_diag("%s: want %s port %#x size %d count %u", what, dir ? "out" : "in", port,
			size, count);
	if (ok && dir == KVM_EXIT_IO_IN && data)
		memcpy(io, data, (size_t)size * count);
	return ok;
}

/*
 * INS and OUTS in real mode: KVM_EXIT_IO with the element counts KVM's
 * emulator uses (an INS reads ahead up to the end of DI's page and 1 KiB;
 * an OUTS is one element an exit), the data landing in or coming from
 * guest memory, and DI/SI/CX as the processor leaves them. rvisor
 * reported every INS/OUTS as KVM_INTERNAL_ERROR_EMULATION.
 */
static void test_string_io(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	static uint8_t page[1024];
	struct kvm_regs r;
	uint16_t out[3] = { 0 };
	uint32_t word;
	int ok, ok2, i;

	VT_LOAD(mem, CODE, g_strio);
	mem[0x2010] = 0x77;
	vt_real_mode(&v, CODE);
	ok = expect_string_io(&v, KVM_EXIT_IO_IN, 0x60, 1, 5, "ABCDE", "rep insb of 5");
	vt_result(ok, "REP INSB: one exit for all 5 bytes");
	/* A VMM putting its registers back before the next KVM_RUN (QEMU
	 * does, when they are dirty) must not lose the INS data. */
	r = vt_regs(&v);
	if (ioctl(v.fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	ok = 1;
	for (i = 0; i < 3 && ok; i++) {
		ok = expect_string_io(&v, KVM_EXIT_IO_OUT, 0x61, 2, 1, NULL, "rep outsw");
		memcpy(&out[i], (uint8_t *)v.run + v.run->io.data_offset, 2);
	}
	r = vt_regs(&v);
	printf("# guest: at the last OUTSW exit: rip %#llx rsi %#llx rcx %#llx\n",
	       (unsigned long long)r.rip, (unsigned long long)r.rsi, (unsigned long long)r.rcx);
	printf("# guest: rep outsw sent %#x %#x %#x\n", out[0], out[1], out[2]);
	vt_result(ok && out[0] == 0x4241 && out[1] == 0x4443 && out[2] == 0x0045,
		  "REP OUTSW: one exit a word, the bytes REP INSB wrote");
	word = 0x11223344;
	ok = expect_string_io(&v, KVM_EXIT_IO_IN, 0x62, 4, 1, &word, "insd, DF set");
	ok2 = expect_string_io(&v, KVM_EXIT_IO_IN, 0x63, 1, 2, "xy", "addr32 rep insb");
	vt_result(ok && ok2, "INSD with DF, then addr32 REP INSB (REP INSB with CX 0 did no I/O)");
	ok = expect_string_io(&v, KVM_EXIT_IO_OUT, 0x64, 1, 1, NULL, "fs outsb");
	printf("# guest: fs outsb sent %#x\n", vt_io_u32(&v) & 0xff);
	vt_result(ok && (vt_io_u32(&v) & 0xff) == 0x77, "OUTSB through an FS override reads FS:SI");
	for (i = 0; i < (int)sizeof(page); i++)
		page[i] = (uint8_t)(i * 7 + 1);
	/* Each exit's data reaches guest memory on the next KVM_RUN. */
	ok = expect_string_io(&v, KVM_EXIT_IO_IN, 0x65, 1, 1024, page, "rep insb 2 KiB (1)") &&
	     expect_string_io(&v, KVM_EXIT_IO_IN, 0x65, 1, 1024, page, "rep insb 2 KiB (2)");
	/* DI 0x7ffe: 2 bytes left in the page: KVM reads ahead 2 words. */
	ok2 = expect_string_io(&v, KVM_EXIT_IO_IN, 0x66, 2, 2, "abcd", "rep insw across a page (1)");
	vt_result(ok && ok2 && !memcmp(mem + 0x6000, page, 1024) && !memcmp(mem + 0x6400, page, 1024),
		  "REP INSB of 2 KiB: two exits of 1024, the data in guest memory");
	ok2 = ok2 && expect_string_io(&v, KVM_EXIT_IO_IN, 0x66, 2, 6, "efghijklmnop",
				      "rep insw across a page (2)");
	ok = vt_expect_exit(&v, KVM_EXIT_HLT, "string I/O hlt");
	r = vt_regs(&v);
	printf("# guest: string I/O done: rip %#llx rcx %#llx rsi %#llx rdi %#llx; "
	       "%.5s %02x%02x%02x%02x %.2s\n",
	       (unsigned long long)r.rip, (unsigned long long)r.rcx, (unsigned long long)r.rsi,
	       (unsigned long long)r.rdi, (char *)mem + 0x3000, mem[0x4000], mem[0x4001],
	       mem[0x4002], mem[0x4003], (char *)mem + 0x5000);
	vt_result(ok && r.rip == CODE + (uint64_t)(g_strio_end - g_strio_start) && r.rcx == 0 &&
		  r.rsi == 0x11 && r.rdi == 0x800e && !memcmp(mem + 0x3000, "ABCDE", 5) &&
		  !memcmp(mem + 0x4000, "\x44\x33\x22\x11", 4) && !memcmp(mem + 0x5000, "xy", 2),
		  "string I/O: registers and memory as the instructions leave them");
	vt_result(ok && ok2 && !memcmp(mem + 0x7ffe, "abcdefghijklmnop", 16),
		  "REP INSW across a page: counts 2 and 6, the data in order");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

static void test_cpuid_vmcall(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	void *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[2];
	} cpuid = { .c.nent = 2 };

	cpuid.e[0].function = 0;
	cpuid.e[0].eax = 1;
	cpuid.e[0].ebx = 0x73697672; /* "rvis" */
	cpuid.e[1].function = 1;
	cpuid.e[1].eax = 0x806f0;
	vt_result(ioctl(v.fd, KVM_SET_CPUID2, &cpuid) == 0, "KVM_SET_CPUID2 with 2 entries");
	VT_LOAD(mem, CODE, g_cpuid);
	vt_real_mode(&v, CODE);
	expect_io(&v, KVM_EXIT_IO_OUT, 0x30, 4, 1, "CPUID leaf 0 EAX from the table");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x30, 4, 0x73697672, "CPUID leaf 0 EBX from the table");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x30, 4, 0x806f0,
		  "CPUID beyond the table's maximum leaf reads the maximum basic leaf (Intel rule)");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x30, 4, (uint32_t)-1000,
		  "VMCALL with an unknown number returns -KVM_ENOSYS in the kernel");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	vt_vcpu_destroy(&vm, &v);

	/* KVM's answers for the PV IPI and clock pairing hypercalls without
	 * an in-kernel APIC (-KVM_EINVAL, -EOPNOTSUPP, -KVM_EOPNOTSUPP). */
	v = vt_vcpu_create(&vm, 1);
	VT_LOAD(mem, CODE, g_hypercalls);
	vt_real_mode(&v, CODE);
	expect_io(&v, KVM_EXIT_IO_OUT, 0x30, 4, (uint32_t)-22,
		  "KVM_HC_SEND_IPI with a shorthand: -KVM_EINVAL");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x30, 4, (uint32_t)-95,
		  "KVM_HC_SEND_IPI with no in-kernel APIC: -EOPNOTSUPP");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x30, 4, (uint32_t)-95,
		  "KVM_HC_CLOCK_PAIRING of another clock than the wall clock: -KVM_EOPNOTSUPP");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * CPUID.1:EDX.APIC follows APIC_BASE.EN, in the guest and in
 * KVM_GET_CPUID2, as KVM's kvm_update_cpuid_runtime() (without an
 * in-kernel APIC too): a guest that turns its APIC off reads no APIC.
 */
static void test_cpuid_apic(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	void *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[100];
	} cpuid = { .c.nent = 100 };
	uint32_t edx = ~0u;

	vt_set_supported_cpuid(&vm, &v);
	VT_LOAD(mem, CODE, g_cpuid_apic);
	vt_real_mode(&v, CODE);
	expect_io(&v, KVM_EXIT_IO_OUT, 0x30, 4, 0x200, "CPUID.1:EDX.APIC with the APIC enabled (reset)");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x30, 4, 0,
		  "CPUID.1:EDX.APIC clear once the guest clears APIC_BASE.EN");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	if (ioctl(v.fd, KVM_GET_CPUID2, &cpuid) == 0)
		for (unsigned int i = 0; i < cpuid.c.nent; i++)
			if (cpuid.e[i].function == 1)
				edx = cpuid.e[i].edx;
	printf("# guest: KVM_GET_CPUID2 leaf 1 EDX.APIC %u\n", !!(edx & CPUID_1_EDX_APIC));
	vt_result(edx != ~0u && !(edx & CPUID_1_EDX_APIC), "KVM_GET_CPUID2 shows leaf 1 without APIC too");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * What CPUID.(0DH, 0):EBX must say once XCR0 holds every bit of the
 * supported CPUID.(0DH, 0):EAX: the legacy area and header (576), or the
 * end of the furthest enabled component, from the same table's leaf 0DH
 * subleaves (KVM's xstate_required_size()). Computed here from the table,
 * not from what the hypervisor answers, so a stale answer cannot pass.
 */
static uint32_t expected_xsave_size(struct vt_vm *vm)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[100];
	} t = { .c.nent = 100 };
	uint32_t xcr0 = 0, size = 576;

	if (ioctl(vm->sys, KVM_GET_SUPPORTED_CPUID, &t))
		vt_die("KVM_GET_SUPPORTED_CPUID");
	for (unsigned int i = 0; i < t.c.nent; i++)
		if (t.e[i].function == 0xd && t.e[i].index == 0)
			xcr0 = t.e[i].eax;
	for (unsigned int i = 0; i < t.c.nent; i++)
		if (t.e[i].function == 0xd && t.e[i].index >= 2 && t.e[i].index < 32 &&
		    (xcr0 >> t.e[i].index & 1) && t.e[i].eax + t.e[i].ebx > size)
			size = t.e[i].eax + t.e[i].ebx;
	return size;
}

/*
 * CPUID.(0DH, 0):EBX is the XSAVE size for the XCR0 in use, not the
 * table's, as KVM's kvm_update_cpuid_runtime(): 576 at reset (x87 only),
 * then the size for every supported component once the guest enables
 * them.
 */
static void test_cpuid_xsave_size(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	void *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	uint32_t xsave = vt_set_supported_cpuid(&vm, &v) & (1u << 26);
	struct kvm_sregs s;
	uint32_t first, expected;

	VT_LOAD(mem, CODE, g_xsave_size);
	vt_real_mode(&v, CODE);
	if (ioctl(v.fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.cr4 |= X86_CR4_OSXSAVE;
	if (!xsave) {
		/* Nothing to size (the Skylake-X model: Linux runs without
		 * XSAVE there): what can be checked is that CR4.OSXSAVE is
		 * refused, and that the refusal changes nothing. */
		int r = ioctl(v.fd, KVM_SET_SREGS, &s) ? errno : 0;

		vt_result(r == EINVAL, "without XSAVE in CPUID, KVM_SET_SREGS refuses CR4.OSXSAVE (%s)",
			  r ? strerror(r) : "accepted");
		if (ioctl(v.fd, KVM_GET_SREGS, &s))
			vt_die("KVM_GET_SREGS");
		vt_result(!(s.cr4 & (1u << 18)), "... and CR4 is left as it was");
		printf("# guest: no xsave: KVM_SET_SREGS with CR4.OSXSAVE errno %d\n", r);
		goto out;
	}
	if (ioctl(v.fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x30, 4, 576,
		  "CPUID.(0DH, 0):EBX at reset is the size for XCR0 = x87 (576)");
	first = vt_expect_exit(&v, KVM_EXIT_IO, "xsave size after xsetbv") ? vt_io_u32(&v) : 0;
	printf("# guest: CPUID.(0DH, 0):EBX after XSETBV of every supported bit: %u\n", first);
	expected = expected_xsave_size(&vm);
	vt_result(first == expected,
		  "CPUID.(0DH, 0):EBX after XSETBV is the size for the new XCR0 (%u, the table says %u)",
		  first, expected);
out:
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

static void test_mmio(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	void *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	uint32_t val;
	int ok;

	VT_LOAD(mem, CODE, g_mmio);
	vt_protected_mode(&v, CODE);
	ok = vt_expect_exit(&v, KVM_EXIT_MMIO, "mmio store") && v.run->mmio.is_write &&
	     v.run->mmio.phys_addr == 0x200000 && v.run->mmio.len == 4;
	memcpy(&val, v.run->mmio.data, 4);
	printf("# guest: mmio write %#llx len %u = %#x\n", (unsigned long long)v.run->mmio.phys_addr,
	       v.run->mmio.len, val);
	vt_result(ok && val == 0xdeadbeef, "MMIO store of an immediate -> KVM_EXIT_MMIO write");
	ok = vt_expect_exit(&v, KVM_EXIT_MMIO, "mmio load") && !v.run->mmio.is_write &&
	     v.run->mmio.phys_addr == 0x200004 && v.run->mmio.len == 4;
	vt_result(ok, "MMIO load -> KVM_EXIT_MMIO read of 4 bytes at 0x200004");
	val = 0xcafef00d;
	memcpy(v.run->mmio.data, &val, 4);
	expect_io(&v, KVM_EXIT_IO_OUT, 0x40, 4, 0xcafef00d, "MMIO read data lands in the register");
	ok = vt_expect_exit(&v, KVM_EXIT_MMIO, "movzx") && !v.run->mmio.is_write &&
	     v.run->mmio.len == 1 && v.run->mmio.phys_addr == 0x200008;
	vt_result(ok, "MOVZX from MMIO -> 1-byte read");
	v.run->mmio.data[0] = 0xfe;
	expect_io(&v, KVM_EXIT_IO_OUT, 0x40, 4, 0xfe, "MOVZX zero-extends the byte");
	ok = vt_expect_exit(&v, KVM_EXIT_MMIO, "store dh") && v.run->mmio.is_write &&
	     v.run->mmio.len == 1 && v.run->mmio.data[0] == 0x77;
	vt_result(ok, "MMIO store of DH (a high-byte register)");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

static void test_readonly(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	void *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	uint8_t *ro = vt_mem(&vm, 1, 0x300000, 0x1000, KVM_MEM_READONLY);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	int ok;

	ro[0] = 0x11;
	VT_LOAD(mem, CODE, g_ro);
	vt_protected_mode(&v, CODE);
	ok = vt_expect_exit(&v, KVM_EXIT_MMIO, "ro write") && v.run->mmio.is_write &&
	     v.run->mmio.phys_addr == 0x300000 && v.run->mmio.data[0] == 0x99;
	vt_result(ok, "write to a read-only slot -> KVM_EXIT_MMIO write");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x50, 1, 0x11, "the read-only slot reads its own data");
	vt_result(ro[0] == 0x11, "the write did not land in the slot's memory");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

static void test_shutdown_and_fail_entry(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	void *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct kvm_sregs s;

	VT_LOAD(mem, CODE, g_triple);
	vt_real_mode(&v, CODE);
	ioctl(v.fd, KVM_GET_SREGS, &s);
	s.idt.limit = 0;
	ioctl(v.fd, KVM_SET_SREGS, &s);
	vt_result(vt_expect_exit(&v, KVM_EXIT_SHUTDOWN, "triple fault"), "triple fault -> KVM_EXIT_SHUTDOWN");
	vt_vcpu_destroy(&vm, &v);

	v = vt_vcpu_create(&vm, 1);
	vt_real_mode(&v, CODE);
	ioctl(v.fd, KVM_GET_SREGS, &s);
	s.tr.present = 0; /* an unusable TR fails the guest-state checks */
	ioctl(v.fd, KVM_SET_SREGS, &s);
	vt_result(vt_expect_exit(&v, KVM_EXIT_FAIL_ENTRY, "bad guest state"),
		  "invalid guest state -> KVM_EXIT_FAIL_ENTRY");
	printf("# guest: fail entry reason %#llx\n",
	       (unsigned long long)v.run->fail_entry.hardware_entry_failure_reason);
	vt_result(v.run->fail_entry.hardware_entry_failure_reason == 0x80000021,
		  "hardware reason 0x80000021 (invalid guest state)");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_signal_and_immediate_exit(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	void *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	int r;

	VT_LOAD(mem, CODE, g_spin);
	vt_real_mode(&v, CODE);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	r = vt_run(&v);
	vt_result(r == -EINTR && v.run->exit_reason == KVM_EXIT_INTR,
		  "a signal interrupts a spinning guest: -EINTR, KVM_EXIT_INTR (got %d)", r);
	v.run->immediate_exit = 1;
	r = vt_run(&v);
	vt_result(r == -EINTR && v.run->exit_reason == KVM_EXIT_INTR,
		  "immediate_exit: KVM_RUN returns -EINTR at once (got %d)", r);
	v.run->immediate_exit = 0;
	vt_vcpu_destroy(&vm, &v);

	/*
	 * With RFLAGS.IF clear, a host interrupt must still end the guest's
	 * turn. Not asked of /dev/kvm: under Bochs, whose external-interrupt
	 * exits wait for the guest's IF, KVM never regains the CPU.
	 */
	if (strstr(dev, "kvm")) {
		printf("ok %d a signal interrupts a guest spinning with interrupts off # SKIP not run on KVM\n",
		       ++vt_num);
	} else {
		v = vt_vcpu_create(&vm, 1);
		VT_LOAD(mem, CODE + 0x100, g_spin_cli);
		vt_real_mode(&v, CODE + 0x100);
		setitimer(ITIMER_REAL, &it, NULL);
		r = vt_run(&v);
		vt_result(r == -EINTR && v.run->exit_reason == KVM_EXIT_INTR,
			  "a signal interrupts a guest spinning with interrupts off (got %d)", r);
		vt_vcpu_destroy(&vm, &v);
	}
	vt_vm_destroy(&vm);
}

static void test_msr_cr(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	void *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct kvm_sregs s;
	uint32_t xsave;
	struct {
		struct kvm_msrs m;
		struct kvm_msr_entry e[1];
	} msrs = { .m.nmsrs = 1, .e[0].index = 0xc0000081 };

	VT_LOAD(mem, CODE, g_msr);
	vt_protected_mode(&v, CODE);
	expect_io(&v, KVM_EXIT_IO_OUT, 0x60, 4, 0x11223344, "WRMSR/RDMSR STAR (low half)");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x60, 4, 0x00230010, "WRMSR/RDMSR STAR (high half)");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x60, 4, 0xabcd0000, "WRMSR/RDMSR KERNEL_GS_BASE");
	vt_result(ioctl(v.fd, KVM_GET_MSRS, &msrs) == 1 && msrs.e[0].data == 0x0023001011223344ull,
		  "KVM_GET_MSRS sees the guest's STAR");
	vt_vcpu_destroy(&vm, &v);

	v = vt_vcpu_create(&vm, 1);
	xsave = vt_set_supported_cpuid(&vm, &v) & (1u << 26);
	VT_LOAD(mem, CODE, g_cr);
	vt_protected_mode(&v, CODE);
	ioctl(v.fd, KVM_GET_SREGS, &s);
	s.cr0 &= ~X86_CR0_NE;
	ioctl(v.fd, KVM_SET_SREGS, &s);
	expect_io(&v, KVM_EXIT_IO_OUT, 0x70, 4, 0, "the guest reads CR0.NE as it set it (0)");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x70, 4, 0x20, "MOV to CR0 setting NE is seen by the guest");
	if (xsave) {
		expect_io(&v, KVM_EXIT_IO_OUT, 0x70, 4, 3, "XSETBV x87|SSE, read back with XGETBV");
	} else {
		/* No XSAVE offered: CR4.OSXSAVE is reserved, #GP, no IDT: shutdown. */
		vt_diag("the host offers no XSAVE: setting CR4.OSXSAVE must fault");
		vt_result(vt_expect_exit(&v, KVM_EXIT_SHUTDOWN, "osxsave"),
			  "CR4.OSXSAVE without XSAVE in CPUID faults (#GP, then triple fault)");
		printf("# guest: no xsave\n");
	}
	ioctl(v.fd, KVM_GET_SREGS, &s);
	printf("# guest: cr0 %#llx cr4 %#llx\n", (unsigned long long)s.cr0, (unsigned long long)s.cr4);
	vt_result((s.cr0 & (X86_CR0_NE | X86_CR0_PE)) == (X86_CR0_NE | X86_CR0_PE) &&
		  (s.cr4 & X86_CR4_VMXE) == 0,
		  "KVM_GET_SREGS: CR0 as the guest set it, CR4 without VMXE");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/* KVM_RUN with the caller's XMM0 live across the system call. */
static int run_keeping_xmm0(struct vt_vcpu *v, const uint32_t in[4], uint32_t out[4])
{
	long ret = 16; /* __NR_ioctl */

	asm volatile("movdqu (%[in]), %%xmm0\n\t"
		     "syscall\n\t"
		     "movdqu %%xmm0, (%[out])"
		     : "+a"(ret)
		     : "D"((long)v->fd), "S"((long)KVM_RUN), "d"(0L),
		       [in] "r"(in), [out] "r"(out)
		     : "rcx", "r11", "xmm0", "memory");
	return ret < 0 ? (int)ret : (int)v->run->exit_reason;
}

static void test_fpu(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	uint32_t host_in[4] = { 0x11111111, 0x22222222, 0x33333333, 0x44444444 }, host_out[4];
	uint32_t guest[8] = { 0xa1a1a1a1, 0xb2b2b2b2, 0xc3c3c3c3, 0xd4d4d4d4,
			      0xdeadbeef, 0xdeadbeef, 0xdeadbeef, 0xdeadbeef };
	struct kvm_sregs s;
	int r;

	vt_set_supported_cpuid(&vm, &v);
	VT_LOAD(mem, CODE, g_sse);
	memcpy(mem + 0x3000, guest, 16);
	memcpy(mem + 0x3020, guest + 4, 16);
	vt_protected_mode(&v, CODE);
	ioctl(v.fd, KVM_GET_SREGS, &s);
	s.cr0 = (s.cr0 & ~X86_CR0_EM) | X86_CR0_MP;
	s.cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	vt_result(ioctl(v.fd, KVM_SET_SREGS, &s) == 0, "SSE enabled through KVM_SET_SREGS");
	r = vt_expect_exit(&v, KVM_EXIT_IO, "sse load") && v.run->io.port == 0xa0;
	vt_result(r, "guest loaded XMM0 and exited to user space");
	/* Clobber this thread's XMM0 before the next run. */
	asm volatile("pcmpeqd %%xmm0, %%xmm0" ::: "xmm0");
	expect_io(&v, KVM_EXIT_IO_OUT, 0xa1, 4, 0xa1a1a1a1, "guest XMM0 survives an exit to user space (dword 0)");
	expect_io(&v, KVM_EXIT_IO_OUT, 0xa1, 4, 0xd4d4d4d4, "guest XMM0 survives an exit to user space (dword 3)");
	r = run_keeping_xmm0(&v, host_in, host_out);
	vt_result(r == KVM_EXIT_IO && v.run->io.port == 0xa2, "guest loaded another XMM0 and exited");
	vt_result(!memcmp(host_in, host_out, 16),
		  "the host's XMM0 is intact after a KVM_RUN in which the guest changed its own");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

static void fpu_print(const char *what, const struct kvm_fpu *f)
{
	int fpr = 0, xmm = 0;

	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 16; j++)
			fpr += f->fpr[i][j] != 0;
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			xmm += f->xmm[i][j] != 0;
	printf("# guest: %s: fcw %#x fsw %#x ftwx %#x fop %#x ip %#llx dp %#llx mxcsr %#x pad %#x/%#x, %d ST and %d XMM bytes set\n",
	       what, f->fcw, f->fsw, f->ftwx, f->last_opcode, (unsigned long long)f->last_ip,
	       (unsigned long long)f->last_dp, f->mxcsr, f->pad1, f->pad2, fpr, xmm);
}

/*
 * KVM_GET/SET_FPU, as KVM's kvm_arch_vcpu_ioctl_get_fpu()/set_fpu(): the
 * reset state; what SET writes is what the guest finds and what GET reads
 * back; MXCSR and the padding are neither taken nor reported (KVM leaves
 * them 0), so a hostile VMM's all-ones MXCSR cannot make the restore fault.
 */
static void test_fpu_regs(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	static const uint8_t three[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0x00, 0x40 };
	static const uint8_t pi[10] = { 0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40 };
	uint32_t xmm2[4] = { 0x24681357, 0x9abcdef0, 0x0fedcba9, 0x87654321 };
	struct kvm_fpu f, set, got;
	struct kvm_sregs s;
	uint32_t host_mxcsr, mxcsr_after;
	int rc, same;

	vt_set_supported_cpuid(&vm, &v);
	VT_LOAD(mem, CODE, g_fpu);
	memcpy(mem + 0x3020, xmm2, 16);
	vt_protected_mode(&v, CODE);
	ioctl(v.fd, KVM_GET_SREGS, &s);
	s.cr0 = (s.cr0 & ~X86_CR0_EM) | X86_CR0_MP;
	s.cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	ioctl(v.fd, KVM_SET_SREGS, &s);

	memset(&f, 0xa5, sizeof(f));
	rc = ioctl(v.fd, KVM_GET_FPU, &f);
	fpu_print("fresh vCPU", &f);
	vt_result(rc == 0 && f.fcw == 0x37f && f.fsw == 0 && f.ftwx == 0 && f.mxcsr == 0,
		  "KVM_GET_FPU of a fresh vCPU: FCW 0x37f, the rest 0 (MXCSR not reported)");
	rc = ioctl(v.fd, KVM_GET_FPU, (void *)8);
	vt_result(rc == -1 && errno == EFAULT, "KVM_GET_FPU to a bad address: EFAULT");
	rc = ioctl(v.fd, KVM_SET_FPU, (void *)8);
	vt_result(rc == -1 && errno == EFAULT, "KVM_SET_FPU from a bad address: EFAULT");

	memset(&set, 0, sizeof(set));
	set.fcw = 0x027f;	/* 53-bit precision, all exceptions masked */
	set.fsw = 0x3800;	/* TOP = 7 */
	set.ftwx = 0x80;	/* physical register 7, ST(0), valid */
	memcpy(set.fpr[0], three, sizeof(three));
	set.last_opcode = 0x7ff;
	set.last_ip = 0x1234;
	set.last_dp = 0x5678;
	for (int i = 0; i < 16; i++)
		memset(set.xmm[i], 0x10 + i, 16);
	memcpy(set.xmm[1], (uint32_t[]){ 0x13579bdf }, 4);
	set.mxcsr = 0xffffffff;	/* reserved bits: would #GP if loaded */
	set.pad1 = 0xff;
	set.pad2 = 0xffffffff;
	rc = ioctl(v.fd, KVM_SET_FPU, &set);
	vt_result(rc == 0, "KVM_SET_FPU with MXCSR and the padding all ones (%d)", rc);
	memset(&got, 0xa5, sizeof(got));
	ioctl(v.fd, KVM_GET_FPU, &got);
	fpu_print("after KVM_SET_FPU", &got);
	set.mxcsr = set.pad1 = set.pad2 = 0;
	same = !memcmp(&got, &set, sizeof(got));
	vt_result(same, "KVM_GET_FPU reads back what KVM_SET_FPU wrote, MXCSR and padding 0");

	asm volatile("stmxcsr %0" : "=m"(host_mxcsr));
	rc = vt_expect_exit(&v, KVM_EXIT_IO, "fresh FCW") && v.run->io.port == 0xa5;
	asm volatile("stmxcsr %0" : "=m"(mxcsr_after));
	vt_result(host_mxcsr == mxcsr_after, "the host's MXCSR is intact (%#x)", mxcsr_after);
	/*
	 * Not a "# guest:" line: KVM on an XSAVE host loses a KVM_SET_FPU
	 * while x87 and SSE are in their init state in its buffer (XSTATE_BV
	 * clear, so XRSTOR loads the init state); rvisor does not
	 * (Documentation/uapi.rst).
	 */
	vt_diag("fresh vCPU: the guest's FCW after KVM_SET_FPU %#x", rc ? vt_io_u32(&v) & 0xffff : 0);
	vt_result(rc && ((vt_io_u32(&v) & 0xffff) == 0x027f || !strcmp(dev, "/dev/kvm")),
		  "a fresh vCPU's guest gets KVM_SET_FPU's FCW (KVM on an XSAVE host may not)");
	rc = vt_expect_exit(&v, KVM_EXIT_IO, "x87 and SSE used") && v.run->io.port == 0xa6;
	memcpy(&f, &set, sizeof(f));
	rc = rc && ioctl(v.fd, KVM_SET_FPU, &f) == 0;
	vt_result(rc, "the guest used x87 and SSE; KVM_SET_FPU again");
	expect_io(&v, KVM_EXIT_IO_OUT, 0xa3, 4, 0x027f, "guest FCW is KVM_SET_FPU's");
	expect_io(&v, KVM_EXIT_IO_OUT, 0xa3, 4, 0x3800, "guest FSW is KVM_SET_FPU's (TOP 7)");
	expect_io(&v, KVM_EXIT_IO_OUT, 0xa3, 4, 3, "guest ST(0) is KVM_SET_FPU's 3.0");
	expect_io(&v, KVM_EXIT_IO_OUT, 0xa3, 4, 0x13579bdf, "guest XMM1 is KVM_SET_FPU's");
	rc = vt_expect_exit(&v, KVM_EXIT_IO, "fldpi") && v.run->io.port == 0xa4;
	memset(&got, 0xa5, sizeof(got));
	rc = rc && ioctl(v.fd, KVM_GET_FPU, &got) == 0;
	fpu_print("after the guest's FLDPI", &got);
	printf("# guest: ST(0) %02x%02x %02x%02x%02x%02x%02x%02x%02x%02x\n", got.fpr[0][9],
	       got.fpr[0][8], got.fpr[0][7], got.fpr[0][6], got.fpr[0][5], got.fpr[0][4],
	       got.fpr[0][3], got.fpr[0][2], got.fpr[0][1], got.fpr[0][0]);
	vt_result(rc && !memcmp(got.fpr[0], pi, sizeof(pi)) && got.ftwx == 0x80 &&
		  (got.fsw & 0x3800) == 0x3800 && !memcmp(got.xmm[2], xmm2, 16) &&
		  !memcmp(got.xmm[1], set.xmm[1], 16),
		  "KVM_GET_FPU shows the guest's own x87 and SSE state (ST(0) = pi, XMM2)");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");

	/* All ones everywhere: loadable (FCW/FSW/tags have no reserved bits
	 * FXRSTOR checks), and the guest runs on. */
	memset(&set, 0xff, sizeof(set));
	rc = ioctl(v.fd, KVM_SET_FPU, &set);
	vt_result(rc == 0, "KVM_SET_FPU of all-ones bytes (%d)", rc);
	{
		struct kvm_regs r;

		ioctl(v.fd, KVM_GET_REGS, &r);
		r.rip = CODE + (g_fpu_end - g_fpu_start) - 1; /* the HLT */
		ioctl(v.fd, KVM_SET_REGS, &r);
	}
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt after all-ones"),
		  "a guest with all-ones x87/SSE state runs to HLT");
	ioctl(v.fd, KVM_GET_FPU, &got);
	fpu_print("after all ones", &got);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * What QEMU checks of a KVM it runs on with a user-space irqchip: the
 * IRQ_ROUTING and JOIN_MEMORY_REGIONS_WORKS capabilities, and that
 * KVM_SET_GSI_ROUTING on a VM without in-kernel irqchip is refused
 * (EINVAL; EFAULT first for a bad pointer), as kvm_arch_can_set_irq_routing().
 */
static void test_no_irqchip(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct { uint32_t nr, flags; } routing = { 0, 0 };
	int routes = ioctl(vm.vm, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	int join = ioctl(vm.vm, KVM_CHECK_EXTENSION, KVM_CAP_JOIN_MEMORY_REGIONS_WORKS);
	int rc = ioctl(vm.vm, KVM_SET_GSI_ROUTING, &routing), err = errno;
	int rc2 = ioctl(vm.vm, KVM_SET_GSI_ROUTING, (void *)8), err2 = errno;

	printf("# guest: KVM_CAP_IRQ_ROUTING %d, KVM_CAP_JOIN_MEMORY_REGIONS_WORKS %d\n", routes, join);
	printf("# guest: KVM_SET_GSI_ROUTING without irqchip: %d errno %d, bad pointer: %d errno %d\n",
	       rc, err, rc2, err2);
	vt_result(routes == 4096 && join == 1,
		  "KVM_CAP_IRQ_ROUTING is KVM_MAX_IRQ_ROUTES, JOIN_MEMORY_REGIONS_WORKS 1");
	vt_result(rc == -1 && err == EINVAL, "KVM_SET_GSI_ROUTING without an in-kernel irqchip: EINVAL");
	vt_result(rc2 == -1 && err2 == EFAULT, "KVM_SET_GSI_ROUTING from a bad address: EFAULT");
	vt_vm_destroy(&vm);
}

/*
 * KVM_X86_SETUP_MCE as QEMU issues it (MCG_CTL_P | MCG_SER_P, 10 banks),
 * then the machine-check MSRs it saves and restores: MCG_CAP as set,
 * MCG_CTL and each bank's MCi_CTL all ones, no bank 10; bad MCG_CAPs are
 * refused with EINVAL.
 */
static void test_mce(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	uint64_t sup = 0, cap = (1ull << 8) | (1ull << 24) | 10;
	static const uint64_t bad[] = { 1ull << 8, 33, (1ull << 9) | 4, (1ull << 40) | 4 };
	struct {
		struct kvm_msrs m;
		struct kvm_msr_entry e[5];
	} msrs = { .m.nmsrs = 5,
		   .e = { { .index = 0x179 }, { .index = 0x17b }, { .index = 0x400 },
			  { .index = 0x400 + 4 * 9 }, { .index = 0x400 + 4 * 10 } } };
	int rc, refused = 0;

	rc = ioctl(vm.sys, KVM_X86_GET_MCE_CAP_SUPPORTED, &sup);
	vt_diag("KVM_X86_GET_MCE_CAP_SUPPORTED %d: %#llx", rc, (unsigned long long)sup);
	vt_result(rc == 0 && (sup & 0x1000100) == 0x1000100,
		  "KVM_X86_GET_MCE_CAP_SUPPORTED offers MCG_CTL_P and MCG_SER_P");
	rc = ioctl(v.fd, KVM_X86_SETUP_MCE, &cap);
	vt_result(rc == 0, "KVM_X86_SETUP_MCE with QEMU's MCG_CAP (%d)", rc);
	rc = ioctl(v.fd, KVM_GET_MSRS, &msrs);
	printf("# guest: after KVM_X86_SETUP_MCE: %d MSRs read, MCG_CAP %#llx MCG_CTL %#llx MC0_CTL %#llx MC9_CTL %#llx\n",
	       rc, (unsigned long long)msrs.e[0].data, (unsigned long long)msrs.e[1].data,
	       (unsigned long long)msrs.e[2].data, (unsigned long long)msrs.e[3].data);
	vt_result(rc == 4 && msrs.e[0].data == cap && msrs.e[1].data == ~0ull && msrs.e[2].data == ~0ull &&
		  msrs.e[3].data == ~0ull,
		  "MCG_CAP as set, MCG_CTL and MCi_CTL all ones, no bank 10");
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused += ioctl(v.fd, KVM_X86_SETUP_MCE, &bad[i]) == -1 && errno == EINVAL;
	msrs.m.nmsrs = 1;
	ioctl(v.fd, KVM_GET_MSRS, &msrs);
	printf("# guest: KVM_X86_SETUP_MCE refused %d of 4 bad MCG_CAPs, MCG_CAP still %#llx\n", refused,
	       (unsigned long long)msrs.e[0].data);
	vt_result(refused == 4 && msrs.e[0].data == cap,
		  "KVM_X86_SETUP_MCE without banks, with 33, with reserved bits: EINVAL, nothing changed");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * A slot moved to another guest-physical address: the guest finds its data
 * at the new address, and the old one is MMIO.
 */
static void test_move_slot(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	uint32_t *data = vt_mem(&vm, 1, 0x200000, 0x1000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	struct kvm_userspace_memory_region moved = {
		.slot = 1, .guest_phys_addr = 0x300000, .memory_size = 0x1000,
		.userspace_addr = (uint64_t)(uintptr_t)data,
	};
	uint32_t val = 0x600d600d;
	int ok;

	data[0] = 0x12345678;
	VT_LOAD(mem, CODE, g_move);
	vt_protected_mode(&v, CODE);
	/* Before the move 0x300000 is MMIO, 0x200000 is the slot. */
	ok = vt_expect_exit(&v, KVM_EXIT_MMIO, "before move") && v.run->mmio.phys_addr == 0x300000;
	vt_result(ok, "before the move, 0x300000 is MMIO");
	memcpy(v.run->mmio.data, &val, 4);
	expect_io(&v, KVM_EXIT_IO_OUT, 0xb0, 4, 0x600d600d, "the MMIO read returned user space's answer");
	expect_io(&v, KVM_EXIT_IO_OUT, 0xb0, 4, 0x12345678, "slot 1 at 0x200000 holds its data");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	vt_result(ioctl(vm.vm, KVM_SET_USER_MEMORY_REGION, &moved) == 0, "slot 1 moved to 0x300000");
	vt_set_entry(&v, CODE);
	expect_io(&v, KVM_EXIT_IO_OUT, 0xb0, 4, 0x12345678, "after the move the data is at 0x300000");
	ok = vt_expect_exit(&v, KVM_EXIT_MMIO, "after move") && v.run->mmio.phys_addr == 0x200000;
	vt_result(ok, "and 0x200000 is MMIO");
	memcpy(v.run->mmio.data, &val, 4);
	expect_io(&v, KVM_EXIT_IO_OUT, 0xb0, 4, 0x600d600d, "answered by user space");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

static void test_long_mode(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x200000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	uint64_t *pml4 = (uint64_t *)(mem + 0x10000);
	uint64_t *pdpt = (uint64_t *)(mem + 0x11000);
	uint64_t *pd = (uint64_t *)(mem + 0x12000);
	struct kvm_sregs s;
	struct kvm_regs r;
	int ok;

	/* Identity map 0-4 MiB with 2 MiB pages. */
	pml4[0] = 0x11000 | PTE_PW;
	pdpt[0] = 0x12000 | PTE_PW;
	pd[0] = 0x0 | PTE_PW | PTE_PSE;
	pd[1] = 0x200000 | PTE_PW | PTE_PSE;
	pd[2] = 0x400000 | PTE_PW | PTE_PSE; /* 4-6 MiB: no slot, so MMIO */
	VT_LOAD(mem, CODE, g_long);
	vt_set_supported_cpuid(&vm, &v); /* long mode needs CPUID.LM */
	ioctl(v.fd, KVM_GET_SREGS, &s);
	s.cs = (struct kvm_segment){ .selector = 8, .type = SEG_TYPE_CODE_XRA, .present = 1, .s = 1, .l = 1, .g = 1,
				     .limit = 0xffffffff };
	s.ds = s.es = s.fs = s.gs = s.ss = (struct kvm_segment){ .selector = 16, .type = SEG_TYPE_DATA_RWA,
		.present = 1, .s = 1, .db = 1, .g = 1, .limit = 0xffffffff };
	s.cr3 = 0x10000;
	s.cr4 = X86_CR4_PAE;
	s.cr0 = X86_CR0_PG | X86_CR0_ET | X86_CR0_PE;
	s.efer = EFER_LME | EFER_LMA;
	vt_result(ioctl(v.fd, KVM_SET_SREGS, &s) == 0, "KVM_SET_SREGS into long mode");
	memset(&r, 0, sizeof(r));
	r.rip = CODE;
	r.rflags = X86_EFLAGS_FIXED;
	ioctl(v.fd, KVM_SET_REGS, &r);
	expect_io(&v, KVM_EXIT_IO_OUT, 0x80, 4, 0x55667788, "long mode: 64-bit register, low half");
	expect_io(&v, KVM_EXIT_IO_OUT, 0x80, 4, 0x11223344, "long mode: high half");
	ok = vt_expect_exit(&v, KVM_EXIT_MMIO, "mmio 64") && v.run->mmio.len == 8 &&
	     v.run->mmio.phys_addr == 0x400000 && v.run->mmio.is_write;
	vt_result(ok, "long mode: 8-byte MMIO store through 4-level paging");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/* An MSR the table probes, and values a guest writes to it in turn. */
struct msr_probe {
	uint32_t index;
	uint64_t writes[7];
};

/*
 * What a guest reads from and writes to MSRs: those Linux touches while it
 * boots, those KVM emulates, and neighbours that must #GP. Each is probed
 * on a fresh vCPU with the same CPUID table on both devices; kvm_compare.sh
 * requires the same "# guest: msr" lines as kvm_intel's.
 */
static const struct msr_probe msr_probes[] = {
	{ 0x11, { 0 } }, { 0x12, { 0 } },			/* old kvmclock */
	{ 0x17, { 0, 1 } },					/* PLATFORM_ID */
	{ 0x1b, { 0xfee00900, 0xfee00d00, 0xfee00801, 0x10fee00900ull, 0xfec00900,
		  0xfee00000, 0xfee00900 } },			/* APIC_BASE */
	{ 0x2a, { 0 } },					/* EBL_CR_POWERON */
	{ 0x34, { 0 } },					/* SMI_COUNT */
	{ 0x3a, { 0, 4, 1, 0 } },				/* FEATURE_CONTROL */
	{ 0x3b, { 0 } },					/* TSC_ADJUST */
	{ 0x48, { 0 } }, { 0x49, { 1 } },			/* SPEC_CTRL, PRED_CMD */
	{ 0x79, { 0 } },					/* UCODE_WRITE */
	{ 0x8b, { 0, 0x100000000ull } },			/* UCODE_REV */
	{ 0x9e, { 0 } },					/* SMBASE */
	{ 0xc1, { 0, 5 } }, { 0x186, { 0, 0x430076 } },	/* P6 PERFCTR0, EVNTSEL0 */
	{ 0xce, { 0 } },					/* PLATFORM_INFO */
	{ 0xe7, { 0 } }, { 0xe8, { 0 } },			/* MPERF, APERF */
	{ 0xfe, { 0x508 } },					/* MTRRCAP */
	{ 0x10a, { 0 } }, { 0x10b, { 1 } },			/* ARCH_CAPABILITIES, FLUSH_CMD */
	{ 0x140, { 0, 2, 1, 0 } },				/* MISC_FEATURES_ENABLES */
	{ 0x179, { 0 } }, { 0x17a, { 0, 1, 4 } },		/* MCG_CAP, MCG_STATUS */
	{ 0x17b, { 0, ~0ull, 1 } },				/* MCG_CTL */
	{ 0x1a0, { 1, 0x1801, 0x1881, 0x1800, 0x41801, 0x401801, 0 } }, /* MISC_ENABLE */
	{ 0x1d9, { 0, 1, 2, 0x40, 0x4000 } },			/* DEBUGCTL */
	{ 0x1fc, { 0, 0x40000 } },				/* POWER_CTL */
	{ 0x200, { 6, 0x1000006, 7, 0x806, 0x1000000006ull } }, /* MTRR PHYSBASE0 */
	{ 0x201, { 0x800, 0xfff000800ull, 0x801, 0x1000000800ull } }, /* MTRR PHYSMASK0 */
	{ 0x20f, { 0xff000800 } },				/* MTRR PHYSMASK7 */
	{ 0x210, { 0 } },					/* past the 8 pairs */
	{ 0x250, { 0x0606060606060606ull, 0x0202020202020202ull, 0x0706050401000000ull } },
	{ 0x258, { 0x0505050505050505ull } }, { 0x268, { 0x0404040404040404ull } },
	{ 0x26f, { 0x0000000000000006ull } },			/* MTRR FIX4K_F8000 */
	{ 0x277, { 0x0007040600070406ull, 0x0007040600070403ull, 0x0606060606060606ull } },
	{ 0x2ff, { 0xc06, 0x806, 0x6, 0x7, 0x1000, 0x402, 0x0 } }, /* MTRRdefType */
	{ 0x345, { 0 } }, { 0x38f, { 0 } },			/* PERF_CAPABILITIES, GLOBAL_CTRL */
	{ 0x400, { 0, ~0ull, 1 } }, { 0x401, { 0, 1, 0x8000000000000000ull } },	/* MC0 */
	{ 0x402, { 0, 0x1234 } }, { 0x403, { 0, 5 } },
	{ 0x47c, { 0, ~0ull } }, { 0x47f, { 0 } },		/* MC31 */
	{ 0x480, { 0 } },					/* VMX_BASIC */
	{ 0x606, { 0 } }, { 0x611, { 0 } },			/* RAPL */
	{ 0x6e0, { 0, 0x1234 } },				/* TSC_DEADLINE */
	{ 0xda0, { 0 } },					/* XSS */
	{ 0xc0000103, { 0 } },					/* TSC_AUX */
	{ 0xc0010015, { 0, 0x40, 0x1000000 } },		/* HWCR */
	{ 0x4b564d00, { 0 } }, { 0x4b564d01, { 0 } },		/* kvmclock */
	{ 0x4b564d02, { 0 } }, { 0x4b564d03, { 0 } }, { 0x4b564d04, { 0 } },
	{ 0x4b564d05, { 0, 1 } }, { 0x4b564d06, { 0 } },
	{ 0x12345678, { 0 } },
};

/* Runs g_msrt to its next report: "VALUE" or "#GP". */
static void msr_report(struct vt_vcpu *v, char *buf, size_t len)
{
	uint32_t lo;
	int exit = vt_run(v);

	if (exit == KVM_EXIT_IO && v->run->io.port == 0x8d) {
		snprintf(buf, len, "#GP");
		return;
	}
	if (exit != KVM_EXIT_IO || v->run->io.port != 0x80) {
		snprintf(buf, len, "exit %s", vt_exit_name(exit));
		return;
	}
	memcpy(&lo, (uint8_t *)v->run + v->run->io.data_offset, 4);
	exit = vt_run(v);
	if (exit != KVM_EXIT_IO || v->run->io.port != 0x81) {
		snprintf(buf, len, "exit %s", vt_exit_name(exit));
		return;
	}
	uint32_t hi;

	memcpy(&hi, (uint8_t *)v->run + v->run->io.data_offset, 4);
	snprintf(buf, len, "%#llx", (unsigned long long)hi << 32 | lo);
}

/* KVM_GET_VCPU_EVENTS, printed for the comparison with KVM. */
static struct kvm_vcpu_events events_get(struct vt_vcpu *v, const char *what)
{
	struct kvm_vcpu_events e;

	memset(&e, 0xa5, sizeof(e));
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &e))
		vt_die("KVM_GET_VCPU_EVENTS");
	printf("# guest: events %s: exception %u/%u/%u/%#x interrupt %u/%u/%u nmi %u/%u/%u flags %#x smi %u/%u/%u/%u\n",
	       what, e.exception.injected, e.exception.nr, e.exception.has_error_code,
	       e.exception.error_code, e.interrupt.injected, e.interrupt.nr, e.interrupt.shadow,
	       e.nmi.injected, e.nmi.pending, e.nmi.masked, e.flags, e.smi.smm, e.smi.pending,
	       e.smi.smm_inside_nmi, e.smi.latched_init);
	return e;
}

/* Runs to an OUT to PORT; prints what kvm_run says of the guest's interrupts. */
static int irq_expect_out(struct vt_vcpu *v, int port, int if_flag, int ready, const char *what)
{
	int ok = vt_expect_exit(v, KVM_EXIT_IO, what) && v->run->io.port == port;

	if (ok)
		printf("# guest: %s: out %#x if_flag %d ready %d\n", what, port, v->run->if_flag,
		       v->run->ready_for_interrupt_injection);
	else if (v->run->exit_reason == KVM_EXIT_IO)
		vt_diag("%s: out %#x, want %#x", what, v->run->io.port, port);
	ok = ok && v->run->if_flag == if_flag && v->run->ready_for_interrupt_injection == ready;
	vt_result(ok, "%s: OUT %#x, if_flag %d, ready_for_interrupt_injection %d (got %d, %d)", what,
		  port, if_flag, ready, v->run->if_flag, v->run->ready_for_interrupt_injection);
	return ok;
}

static int irq_inject(struct vt_vcpu *v, uint32_t irq)
{
	struct kvm_interrupt i = { .irq = irq };

	return ioctl(v->fd, KVM_INTERRUPT, &i) ? -errno : 0;
}

/* The lowest vector set in interrupt_bitmap, or -1. */
static int irq_sregs_vector(struct vt_vcpu *v)
{
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	for (int i = 0; i < 256; i++)
		if (s.interrupt_bitmap[i / 64] & (1ull << (i % 64)))
			return i;
	return -1;
}

static void test_interrupts(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	uint16_t *ivt = (uint16_t *)mem;
	const uint16_t h20 = CODE + (g_irq_h20 - g_irq_start);
	const uint16_t h21 = CODE + (g_irq_h21 - g_irq_start);
	struct kvm_sregs s;
	struct kvm_regs r;
	int rc, ok;

	VT_LOAD(mem, CODE, g_irq);
	ivt[0x20 * 2] = h20;
	ivt[0x20 * 2 + 1] = 0;
	ivt[0x21 * 2] = h21;
	ivt[0x21 * 2 + 1] = 0;
	ivt[0x22 * 2] = CODE + (g_irq_h22 - g_irq_start);
	ivt[0x22 * 2 + 1] = 0;
	vt_real_mode(&v, CODE);

	/* Without an in-kernel APIC a vCPU is always RUNNABLE, as on KVM. */
	{
		static const uint32_t bad[] = { KVM_MP_STATE_UNINITIALIZED, KVM_MP_STATE_INIT_RECEIVED,
						KVM_MP_STATE_HALTED, KVM_MP_STATE_SIPI_RECEIVED,
						KVM_MP_STATE_AP_RESET_HOLD, 0xffffffff };
		struct kvm_mp_state mp = { .mp_state = 0xdead };
		int refused = 0;

		rc = ioctl(v.fd, KVM_GET_MP_STATE, &mp);
		printf("# guest: KVM_GET_MP_STATE %d state %u\n", rc, mp.mp_state);
		vt_result(rc == 0 && mp.mp_state == KVM_MP_STATE_RUNNABLE, "KVM_GET_MP_STATE: RUNNABLE");
		mp.mp_state = KVM_MP_STATE_RUNNABLE;
		rc = ioctl(v.fd, KVM_SET_MP_STATE, &mp);
		vt_result(rc == 0, "KVM_SET_MP_STATE RUNNABLE (%d)", rc);
		for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			mp.mp_state = bad[i];
			if (ioctl(v.fd, KVM_SET_MP_STATE, &mp) == -1 && errno == EINVAL)
				refused++;
			else
				vt_diag("KVM_SET_MP_STATE %u not refused", bad[i]);
		}
		printf("# guest: KVM_SET_MP_STATE refused %d of %d\n", refused,
		       (int)(sizeof(bad) / sizeof(bad[0])));
		vt_result(refused == (int)(sizeof(bad) / sizeof(bad[0])),
			  "KVM_SET_MP_STATE of an APIC state or none: EINVAL");
	}
	irq_expect_out(&v, 0x40, 0, 0, "irq A: IF clear");
	irq_expect_out(&v, 0x41, 1, 0, "irq B: STI shadow");
	irq_expect_out(&v, 0x42, 1, 1, "irq C: interrupts open");
	rc = irq_inject(&v, 0x20);
	vt_result(rc == 0, "KVM_INTERRUPT 0x20 (%d)", rc);
	vt_result(irq_sregs_vector(&v) == 0x20, "KVM_GET_SREGS shows the queued vector in interrupt_bitmap");
	{
		struct kvm_vcpu_events e = events_get(&v, "vector 0x20 queued");

		vt_result(e.interrupt.injected == 1 && e.interrupt.nr == 0x20,
			  "KVM_GET_VCPU_EVENTS shows the queued vector");
	}
	/* Its delivery meets the unmapped IVT and stack pages: delivered again. */
	irq_expect_out(&v, 0x50, 0, 0, "irq C: vector 0x20's handler runs, IF clear");
	r = vt_regs(&v);
	printf("# guest: handler stack: ip %#x cs %#x flags %#x\n", *(uint16_t *)(mem + r.rsp),
	       *(uint16_t *)(mem + r.rsp + 2), *(uint16_t *)(mem + r.rsp + 4));
	vt_result(*(uint16_t *)(mem + r.rsp) == CODE + (g_irq_d - g_irq_start),
		  "the interrupt returns to the instruction after the OUT (ip %#x)",
		  *(uint16_t *)(mem + r.rsp));
	vt_result(irq_sregs_vector(&v) == -1, "delivered: interrupt_bitmap empty");
	irq_expect_out(&v, 0x43, 1, 1, "irq D: after IRET");

	irq_expect_out(&v, 0x44, 0, 0, "irq E: IF clear");
	v.run->request_interrupt_window = 1;
	ok = vt_expect_exit(&v, KVM_EXIT_IRQ_WINDOW_OPEN, "window");
	r = vt_regs(&v);
	printf("# guest: window open at rip %#llx if_flag %d ready %d\n", (unsigned long long)r.rip,
	       v.run->if_flag, v.run->ready_for_interrupt_injection);
	vt_result(ok && r.rip == (uint64_t)(CODE + (g_irq_win - g_irq_start)) &&
		  v.run->ready_for_interrupt_injection == 1 && v.run->if_flag == 1,
		  "request_interrupt_window: KVM_EXIT_IRQ_WINDOW_OPEN after STI and its shadow (rip %#llx)",
		  (unsigned long long)r.rip);
	v.run->request_interrupt_window = 0;
	rc = irq_inject(&v, 0x21);
	vt_result(rc == 0, "KVM_INTERRUPT 0x21 at the window (%d)", rc);
	irq_expect_out(&v, 0x51, 0, 0, "irq E: vector 0x21's handler runs");
	irq_expect_out(&v, 0x45, 1, 1, "irq F: open");
	v.run->request_interrupt_window = 1;
	ok = vt_expect_exit(&v, KVM_EXIT_IRQ_WINDOW_OPEN, "window already open");
	r = vt_regs(&v);
	printf("# guest: open window at rip %#llx\n", (unsigned long long)r.rip);
	vt_result(ok && r.rip == (uint64_t)(CODE + (g_irq_hlt - g_irq_start)),
		  "a window already open: KVM_EXIT_IRQ_WINDOW_OPEN before the next instruction (rip %#llx)",
		  (unsigned long long)r.rip);
	v.run->request_interrupt_window = 0;

	ok = vt_expect_exit(&v, KVM_EXIT_HLT, "hlt");
	r = vt_regs(&v);
	printf("# guest: hlt exit rip %#llx if_flag %d ready %d\n", (unsigned long long)r.rip,
	       v.run->if_flag, v.run->ready_for_interrupt_injection);
	vt_result(ok && r.rip == (uint64_t)(CODE + (g_irq_after_hlt - g_irq_start)) &&
		  v.run->ready_for_interrupt_injection == 1,
		  "HLT with interrupts open: KVM_EXIT_HLT past the HLT, ready for injection");
	irq_inject(&v, 0x20);
	irq_expect_out(&v, 0x50, 0, 0, "irq G: vector 0x20 wakes the HLT");
	r = vt_regs(&v);
	printf("# guest: handler returns to %#x\n", *(uint16_t *)(mem + r.rsp));
	vt_result(*(uint16_t *)(mem + r.rsp) == CODE + (g_irq_after_hlt - g_irq_start),
		  "the interrupt returns past the HLT");
	irq_expect_out(&v, 0x46, 1, 1, "irq H: open");

	/* A hostile VMM: vectors that are none, a TPR that is not one. */
	rc = irq_inject(&v, 256);
	vt_result(rc == -EINVAL, "KVM_INTERRUPT 256: EINVAL (%d)", rc);
	rc = irq_inject(&v, 0xffffffff);
	vt_result(rc == -EINVAL, "KVM_INTERRUPT 0xffffffff: EINVAL (%d)", rc);
	vt_result(irq_sregs_vector(&v) == -1, "nothing queued by them");
	v.run->cr8 = 16;
	rc = vt_run(&v);
	printf("# guest: KVM_RUN with kvm_run.cr8 16: %d, cr8 now %llu\n", rc,
	       (unsigned long long)v.run->cr8);
	vt_result(rc == -EINVAL && v.run->cr8 == 0, "kvm_run.cr8 16: KVM_RUN fails with EINVAL (%d), kvm_run.cr8 back to %llu",
		  rc, (unsigned long long)v.run->cr8);
	v.run->cr8 = 7;
	irq_expect_out(&v, 0x47, 1, 1, "irq I: nothing ran twice, nothing delivered");
	if (ioctl(v.fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	printf("# guest: cr8 %llu, kvm_run.cr8 %llu\n", (unsigned long long)s.cr8,
	       (unsigned long long)v.run->cr8);
	vt_result(s.cr8 == 7 && v.run->cr8 == 7, "kvm_run.cr8 7 is the TPR KVM_GET_SREGS reports");
	v.run->cr8 = 0;

	memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
	s.interrupt_bitmap[0x21 / 64] |= 1ull << (0x21 % 64);
	if (ioctl(v.fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS");
	vt_result(irq_sregs_vector(&v) == 0x21, "KVM_SET_SREGS interrupt_bitmap queues vector 0x21");
	irq_expect_out(&v, 0x51, 0, 0, "irq I: vector 0x21 from KVM_SET_SREGS delivered");
	irq_expect_out(&v, 0x48, 1, 1, "irq J: open");
	/* A vector and the window in one run, as QEMU asks when more wait. */
	v.run->request_interrupt_window = 1;
	irq_inject(&v, 0x22);
	ok = vt_expect_exit(&v, KVM_EXIT_IRQ_WINDOW_OPEN, "window with a vector");
	r = vt_regs(&v);
	printf("# guest: inject and ask for the window: exit %d rip %#llx\n", v.run->exit_reason,
	       (unsigned long long)r.rip);
	vt_result(ok && r.rip == (uint64_t)(CODE + (g_irq_cli - g_irq_start)),
		  "a vector and request_interrupt_window together: the window opens at the handler's IRET (rip %#llx)",
		  (unsigned long long)r.rip);
	v.run->request_interrupt_window = 0;

	irq_expect_out(&v, 0x49, 0, 0, "irq K: IF clear");
	/* Against the protocol: the entry's checks refuse it, nothing is lost. */
	irq_inject(&v, 0x20);
	rc = vt_run(&v);
	printf("# guest: inject with IF clear: exit %d reason %#llx, queued %d\n", rc,
	       (unsigned long long)v.run->fail_entry.hardware_entry_failure_reason,
	       irq_sregs_vector(&v));
	vt_result(rc == KVM_EXIT_FAIL_ENTRY &&
		  v.run->fail_entry.hardware_entry_failure_reason == 0x80000021,
		  "KVM_INTERRUPT against IF: KVM_EXIT_FAIL_ENTRY, invalid guest state (%d)", rc);
	vt_result(irq_sregs_vector(&v) == 0x20, "the vector stays queued after the failed entry");
	r = vt_regs(&v);
	r.rflags |= X86_EFLAGS_IF;
	if (ioctl(v.fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
	irq_expect_out(&v, 0x50, 0, 0, "irq K: with IF set by KVM_SET_REGS, vector 0x20 delivered");
	r = vt_regs(&v);
	vt_result(*(uint16_t *)(mem + r.rsp) == CODE + (g_irq_k - g_irq_start),
		  "it returns to the HLT after the OUT");
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/* Runs to the OUT to MAIN_PORT, counting NMI handler entries (OUT 0x70). */
static int nmi_count_until(struct vt_vcpu *v, int main_port)
{
	int n = 0;

	for (int i = 0; i < 20; i++) {
		if (!vt_expect_exit(v, KVM_EXIT_IO, "nmi run"))
			return -1;
		if (v->run->io.port == main_port)
			return n;
		if (v->run->io.port == 0x70)
			n++;
	}
	return -1;
}

static void test_nmi(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	uint16_t *ivt = (uint16_t *)mem;
	struct kvm_regs r;
	int n, rc, ok;

	VT_LOAD(mem, CODE, g_nmi);
	ivt[2 * 2] = CODE + (g_nmi_h - g_nmi_start);
	ivt[2 * 2 + 1] = 0;
	ivt[6 * 2] = CODE + (g_nmi_ud - g_nmi_start);
	ivt[6 * 2 + 1] = 0;
	vt_real_mode(&v, CODE);
	{
		struct kvm_vcpu_events e = events_get(&v, "at reset"), bad;
		const struct kvm_vcpu_events zero = { .flags = e.flags };
		int refused = 0, tries = 0;

		vt_result(!memcmp(&e, &zero, sizeof(e)) && e.flags == (KVM_VCPUEVENT_VALID_NMI_PENDING |
				KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM),
			  "KVM_GET_VCPU_EVENTS at reset: nothing pending, KVM's flags (%#x)", e.flags);
		/* Bad input: an unknown flag, capabilities never enabled, vectors that are no exception. */
		for (int i = 0; i < 5; i++) {
			bad = zero;
			bad.flags = 0;
			switch (i) {
			case 0: bad.flags = 0x40; break;
			case 1: bad.flags = KVM_VCPUEVENT_VALID_PAYLOAD; break;
			case 2: bad.flags = KVM_VCPUEVENT_VALID_TRIPLE_FAULT; break;
			case 3: bad.exception.injected = 1; bad.exception.nr = 2; break;
			case 4: bad.exception.injected = 1; bad.exception.nr = 32; break;
			}
			tries++;
			if (ioctl(v.fd, KVM_SET_VCPU_EVENTS, &bad) == -1 && errno == EINVAL)
				refused++;
			else
				vt_diag("KVM_SET_VCPU_EVENTS case %d not refused", i);
		}
		e = events_get(&v, "after refused sets");
		printf("# guest: KVM_SET_VCPU_EVENTS refused %d of %d\n", refused, tries);
		vt_result(refused == tries && !memcmp(&e, &zero, sizeof(e)),
			  "KVM_SET_VCPU_EVENTS with bad flags or vectors: EINVAL, nothing changed");
	}
	vt_result(vt_expect_exit(&v, KVM_EXIT_IO, "nmi A") && v.run->io.port == 0x60,
		  "nmi A: OUT 0x60 with IF clear");
	rc = ioctl(v.fd, KVM_NMI);
	vt_result(rc == 0, "KVM_NMI (%d)", rc);
	/* The IVT and the stack are first touched by the NMI's delivery. */
	vt_result(vt_expect_exit(&v, KVM_EXIT_IO, "nmi handler") && v.run->io.port == 0x70,
		  "the NMI is delivered with IF clear: handler runs (OUT %#x)", v.run->io.port);
	/* Two more while the handler runs: one waits for its IRET, one is lost. */
	ioctl(v.fd, KVM_NMI);
	ioctl(v.fd, KVM_NMI);
	vt_result(vt_expect_exit(&v, KVM_EXIT_IO, "nmi handler") && v.run->io.port == 0x71,
		  "no NMI nests in the handler (OUT %#x)", v.run->io.port);
	n = nmi_count_until(&v, 0x61);
	printf("# guest: NMIs sent during the handler: 2, handled after its IRET: %d\n", n);
	vt_result(n == 1, "after the handler's IRET one latched NMI is delivered (%d)", n);
	/* A VMM floods NMIs: at most two are pending, as on KVM. */
	for (int i = 0; i < 3; i++)
		ioctl(v.fd, KVM_NMI);
	n = nmi_count_until(&v, 0x62);
	printf("# guest: 3 NMIs sent at once: handled %d\n", n);
	vt_result(n == 2, "three KVM_NMI at once: two delivered, one after the other (%d)", n);
	/*
	 * The handler's IRET pops a frame the VMM wrote on a page the guest
	 * never touched: the IRET exits (EPT violation) after it unblocked
	 * NMIs. The blocking must be set again before it runs again, or the
	 * pending NMI nests at the IRET.
	 */
	ivt[2 * 2] = CODE + (g_nmi_h2 - g_nmi_start);
	*(uint16_t *)(mem + 0x9000) = CODE + (g_nmi_ret - g_nmi_start);
	*(uint16_t *)(mem + 0x9002) = 0;
	*(uint16_t *)(mem + 0x9004) = 2;
	ioctl(v.fd, KVM_NMI);
	vt_result(vt_expect_exit(&v, KVM_EXIT_IO, "nmi h2") && v.run->io.port == 0x72,
		  "NMI handler 2 runs (OUT %#x)", v.run->io.port);
	ioctl(v.fd, KVM_NMI);
	ok = vt_expect_exit(&v, KVM_EXIT_IO, "nmi h2 again") && v.run->io.port == 0x72;
	r = vt_regs(&v);
	printf("# guest: NMI pending across an IRET that exits: next NMI returns to %#x (main %#x, the IRET %#x)\n",
	       *(uint16_t *)(mem + r.rsp), (unsigned)(CODE + (g_nmi_ret - g_nmi_start)),
	       (unsigned)(CODE + (g_nmi_iret - g_nmi_start)));
	vt_result(ok && *(uint16_t *)(mem + r.rsp) == CODE + (g_nmi_ret - g_nmi_start),
		  "the pending NMI comes after the IRET completed, not nested at it (returns to %#x)",
		  *(uint16_t *)(mem + r.rsp));
	vt_result(vt_expect_exit(&v, KVM_EXIT_IO, "nmi ret") && v.run->io.port == 0x63,
		  "and returns to the main code (OUT %#x)", v.run->io.port);
	{
		struct kvm_vcpu_events e = events_get(&v, "after the IRET");

		vt_result(e.nmi.pending == 0 && e.nmi.masked == 0 && e.nmi.injected == 0,
			  "KVM_GET_VCPU_EVENTS: no NMI pending or masked after the handler");
		/* One NMI pending, NMIs masked: it waits; unmasked: delivered. */
		e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
		e.nmi.pending = 1;
		e.nmi.masked = 1;
		rc = ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e);
		e = events_get(&v, "NMI pending and masked");
		vt_result(rc == 0 && e.nmi.pending == 1 && e.nmi.masked == 1,
			  "KVM_SET_VCPU_EVENTS: one NMI pending, NMIs masked (%d)", rc);
		ok = vt_expect_exit(&v, KVM_EXIT_IO, "masked") && v.run->io.port == 0x64;
		vt_result(ok, "a masked NMI waits: the guest runs on to OUT 0x64");
		*(uint16_t *)(mem + 0x9000) = CODE + (g_nmi_e2 - g_nmi_start);
		e.flags = 0;
		e.nmi.masked = 0;
		rc = ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e);
		ok = vt_expect_exit(&v, KVM_EXIT_IO, "unmasked") && v.run->io.port == 0x72;
		vt_result(rc == 0 && ok, "unmasked by KVM_SET_VCPU_EVENTS, the pending NMI is delivered");
		vt_result(vt_expect_exit(&v, KVM_EXIT_IO, "after") && v.run->io.port == 0x65,
			  "its handler returns");
		e = events_get(&v, "before an injected #UD");
		memset(&e.exception, 0, sizeof(e.exception));
		e.exception.injected = 1;
		e.exception.nr = 6;
		e.flags = 0;
		rc = ioctl(v.fd, KVM_SET_VCPU_EVENTS, &e);
		e = events_get(&v, "#UD injected");
		ok = vt_expect_exit(&v, KVM_EXIT_IO, "#UD") && v.run->io.port == 0x7a;
		vt_result(rc == 0 && e.exception.injected == 1 && e.exception.nr == 6 && ok,
			  "an exception injected by KVM_SET_VCPU_EVENTS is delivered (#UD handler)");
	}
	vt_result(vt_expect_exit(&v, KVM_EXIT_HLT, "hlt"), "then HLT");
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

/*
 * The vector is for the next entry only. A VMM injects at an OUT the guest
 * single-steps (ready_for_interrupt_injection is 1 there): completing the
 * OUT raises #DB, which takes the entry, and the vector is forgotten, as on
 * KVM (vmx_complete_interrupts()); kept, it would be armed later while the
 * #DB handler runs with IF clear, and that entry would fail.
 */
static void test_irq_behind_db(void)
{
	struct vt_vm vm = vt_vm_create(dev);
	uint8_t *mem = vt_mem(&vm, 0, 0, 0x100000, 0);
	struct vt_vcpu v = vt_vcpu_create(&vm, 0);
	uint16_t *ivt = (uint16_t *)mem;
	int ports[4], n = 0, rc, r;

	VT_LOAD(mem, CODE, g_tf);
	ivt[1 * 2] = CODE + (g_tf_db - g_tf_start);
	ivt[0x23 * 2] = CODE + (g_tf_h23 - g_tf_start);
	vt_real_mode(&v, CODE);
	irq_expect_out(&v, 0x4c, 1, 1, "irq behind #DB: single-stepped OUT");
	rc = irq_inject(&v, 0x23);
	vt_result(rc == 0, "KVM_INTERRUPT 0x23 (%d)", rc);
	while (n < 4) {
		r = vt_run(&v);
		if (r != KVM_EXIT_IO)
			break;
		ports[n++] = v.run->io.port;
		if (v.run->io.port == 0x4d)
			break;
	}
	printf("# guest: after the single-stepped OUT: exit %d, %d OUTs: %#x %#x %#x\n", r, n,
	       n > 0 ? ports[0] : 0, n > 1 ? ports[1] : 0, n > 2 ? ports[2] : 0);
	vt_result(n >= 1 && ports[0] == 0x58, "the single-step #DB is delivered first");
	vt_result(r == KVM_EXIT_IO && n == 2 && ports[1] == 0x4d,
		  "no failed entry, the displaced vector is not delivered later (exit %d, %d OUTs)", r, n);
	vt_vcpu_destroy(&vm, &v);
	vt_vm_destroy(&vm);
}

static void test_msr_table(void)
{
	int read_ok = 0;

	for (size_t i = 0; i < sizeof(msr_probes) / sizeof(msr_probes[0]); i++) {
		const struct msr_probe *p = &msr_probes[i];
		struct vt_vm vm = vt_vm_create(dev);
		uint8_t *mem = vt_mem(&vm, 0, 0, 0x10000, 0);
		struct vt_vcpu v = vt_vcpu_create(&vm, 0);
		uint16_t *ivt = (uint16_t *)mem;
		char line[1024], one[64];
		int n;

		VT_LOAD(mem, CODE, g_msrt);
		ivt[13 * 2] = CODE + (uint16_t)(g_msrt_gp - g_msrt_start);
		ivt[13 * 2 + 1] = 0;
		vt_set_fixed_cpuid(&v);
		vt_real_mode(&v, CODE);
		struct kvm_regs r = vt_regs(&v);

		r.rcx = p->index;
		if (ioctl(v.fd, KVM_SET_REGS, &r))
			vt_die("KVM_SET_REGS");
		msr_report(&v, one, sizeof(one));
		read_ok += one[0] != '#';
		n = snprintf(line, sizeof(line), "# guest: msr %#x: %s", p->index, one);
		for (int w = 0; w < 7 && (w == 0 || p->writes[w]); w++) {
			r = vt_regs(&v);
			r.rip = CODE + (uint64_t)(g_msrt_wr - g_msrt_start);
			r.rcx = p->index;
			r.rsi = (uint32_t)p->writes[w];
			r.rdi = p->writes[w] >> 32;
			if (ioctl(v.fd, KVM_SET_REGS, &r))
				vt_die("KVM_SET_REGS");
			msr_report(&v, one, sizeof(one));
			n += snprintf(line + n, sizeof(line) - n, ", %#llx: %s",
				      (unsigned long long)p->writes[w], one);
		}
		printf("%s\n", line);
		vt_vcpu_destroy(&vm, &v);
		vt_vm_destroy(&vm);
	}
	/* Positive control: a guest whose RDMSR never ran would #GP everywhere. */
	vt_result(read_ok >= 10, "the MSR table probe read %d MSRs", read_ok);
}

int main(int argc, char **argv)
{
	dev = argc > 1 ? argv[1] : "/dev/rvisor";
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n1..163\n");
	printf("# device %s\n", dev);
	test_out_hlt();
	test_in();
	test_string_io();
	test_cpuid_vmcall();
	test_cpuid_apic();
	test_cpuid_xsave_size();
	test_mmio();
	test_readonly();
	test_shutdown_and_fail_entry();
	test_signal_and_immediate_exit();
	test_msr_cr();
	test_fpu();
	test_fpu_regs();
	test_no_irqchip();
	test_mce();
	test_move_slot();
	test_long_mode();
	test_msr_table();
	test_interrupts();
	test_irq_behind_db();
	test_nmi();
	printf("# %d tests, %d failed\n", vt_num, vt_failed);
	return vt_failed ? 1 : 0;
}
