/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VM entry and exit for rvisor, after KVM's arch/x86/kvm/vmx/vmenter.S.
 *
 * rv_vmx_run() loads the guest's general-purpose registers (RSP, RIP and
 * RFLAGS live in the VMCS) and executes VMLAUNCH or VMRESUME; the VM exit
 * lands at rv_vmx_vmexit (the VMCS HOST_RIP) with RSP as it was at entry
 * (HOST_RSP, written here), saves the guest registers and returns.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/msr-index.h>
#include <asm/percpu.h>
#include <asm/nospec-branch.h>
#include <asm/segment.h>
#include <asm/unwind_hints.h>

#define VMCS_HOST_RSP	0x6c14

/*
 * Offsets in the u64 regs[16] array @regs points to (Guest::regs in
 * vcpu.rs), indexed by the processor's register number; RSP (4) is unused.
 */
#define G_RAX	0*8
#define G_RCX	1*8
#define G_RDX	2*8
#define G_RBX	3*8
#define G_RBP	5*8
#define G_RSI	6*8
#define G_RDI	7*8
#define G_R8	8*8
#define G_R9	9*8
#define G_R10	10*8
#define G_R11	11*8
#define G_R12	12*8
#define G_R13	13*8
#define G_R14	14*8
#define G_R15	15*8

.section .text, "ax"

/**
 * rv_vmx_run - enter the guest of the current VMCS until the next VM exit
 * @regs:	the guest's 16 general-purpose registers (u64 *), loaded before
 *		and saved after
 * @resume:	nonzero for VMRESUME (the VMCS was launched), else VMLAUNCH
 *
 * Must be called with interrupts disabled and the VMCS current.
 * Returns 0 after a VM exit, 1 if the instruction failed (VMfail: the
 * VM-instruction error field says why), 2 if it faulted (VMX is off).
 */
SYM_FUNC_START(rv_vmx_run)
	push %rbp
	mov  %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx

	/* @regs, at the top of the stack for the exit path. */
	push %rdi

	mov $VMCS_HOST_RSP, %eax
.Lhost_rsp:
	vmwrite %rsp, %rax
	jna .Lvmfail
	/* VMX turned off under us (reboot): see rv_vmx_fault(). */
	_ASM_EXTABLE(.Lhost_rsp, .Lfixup)

	/* CF = @resume; nothing below changes the flags. */
	bt $0, %esi

	mov %rdi, %rax
	mov G_RCX(%rax), %rcx
	mov G_RDX(%rax), %rdx
	mov G_RBX(%rax), %rbx
	mov G_RBP(%rax), %rbp
	mov G_RSI(%rax), %rsi
	mov G_RDI(%rax), %rdi
	mov G_R8(%rax),  %r8
	mov G_R9(%rax),  %r9
	mov G_R10(%rax), %r10
	mov G_R11(%rax), %r11
	mov G_R12(%rax), %r12
	mov G_R13(%rax), %r13
	mov G_R14(%rax), %r14
	mov G_R15(%rax), %r15
	mov G_RAX(%rax), %rax

	/*
	 * MDS and MMIO stale data: VERW clears the CPU buffers last thing
	 * before entry, as KVM's __vmx_vcpu_run() does (X86_FEATURE_CLEAR_CPU_BUF,
	 * patched in by the host's mitigation choice). Clobbers ZF only: CF
	 * still holds @resume.
	 */
	CLEAR_CPU_BUFFERS

	jnc .Lvmlaunch

	/* A successful entry continues at rv_vmx_vmexit, not below. */
	UNWIND_HINT_SAVE

.Lvmresume:
	vmresume
	jmp .Lvmfail

.Lvmlaunch:
	vmlaunch
	jmp .Lvmfail

	_ASM_EXTABLE(.Lvmresume, .Lfixup)
	_ASM_EXTABLE(.Lvmlaunch, .Lfixup)

SYM_INNER_LABEL_ALIGN(rv_vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR

	push %rax
	mov 8(%rsp), %rax
	pop G_RAX(%rax)
	mov %rcx, G_RCX(%rax)
	mov %rdx, G_RDX(%rax)
	mov %rbx, G_RBX(%rax)
	mov %rbp, G_RBP(%rax)
	mov %rsi, G_RSI(%rax)
	mov %rdi, G_RDI(%rax)
	mov %r8,  G_R8(%rax)
	mov %r9,  G_R9(%rax)
	mov %r10, G_R10(%rax)
	mov %r11, G_R11(%rax)
	mov %r12, G_R12(%rax)
	mov %r13, G_R13(%rax)
	mov %r14, G_R14(%rax)
	mov %r15, G_R15(%rax)

	xor %ebx, %ebx

.Lclear_regs:
	pop %rax

	/* No guest value survives in a register the host reads next. */
	xor %eax, %eax
	xor %ecx, %ecx
	xor %edx, %edx
	xor %ebp, %ebp
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d,  %r8d
	xor %r9d,  %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d

	/*
	 * Before the first unbalanced RET after the exit: overwrite the
	 * guest's return stack buffer entries (retpoline/IBRS hosts; a single
	 * entry with eIBRS, PBRSB), then clear the branch history (BHI), as
	 * __vmx_vcpu_run() does.
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE

	/*
	 * SPEC_CTRL, as vmx_spec_ctrl_restore_host(): the guest cannot write
	 * it (its WRMSR exits and gets #GP) and VM exit does not change it, so
	 * the host's value is still in place; but legacy IBRS (KERNEL_IBRS)
	 * only protects when written after each entry to a more privileged
	 * mode, which a VM exit is: write it again. Then LFENCE, so that no
	 * RET runs speculatively ahead of that.
	 */
	ALTERNATIVE "jmp .Lspec_ctrl_done", "", X86_FEATURE_KERNEL_IBRS
	mov $MSR_IA32_SPEC_CTRL, %ecx
	movl PER_CPU_VAR(x86_spec_ctrl_current), %eax
	movl PER_CPU_VAR(x86_spec_ctrl_current + 4), %edx
	wrmsr
.Lspec_ctrl_done:
	ALTERNATIVE "", "lfence", X86_FEATURE_MSR_SPEC_CTRL

	CLEAR_BRANCH_HISTORY_VMEXIT

	mov %rbx, %rax
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET

.Lfixup:
	mov $2, %ebx
	jmp .Lclear_regs

.Lvmfail:
	mov $1, %ebx
	jmp .Lclear_regs

SYM_FUNC_END(rv_vmx_run)

/*
 * KVM's VMX NMI entry is exported only when kvm_intel is a module
 * (arch/x86/kernel/nmi.c): on a kernel with KVM built in or absent this
 * function is left out, and rv_handle_nmi_irqoff() does without it.
 */
#if IS_MODULE(CONFIG_KVM_INTEL)
/**
 * rv_vmx_do_nmi_irqoff - run the host NMI handler for an NMI that caused
 * a VM exit, on an interrupt frame as if the NMI had arrived here (its
 * IRET unblocks NMIs). Interrupts must be disabled.
 */
SYM_FUNC_START(rv_vmx_do_nmi_irqoff)
	push %rbp
	mov %rsp, %rbp
	and  $-16, %rsp
	push $__KERNEL_DS
	push %rbp
	pushf
	push $__KERNEL_CS
	call asm_exc_nmi_kvm_vmx
	mov %rbp, %rsp
	pop %rbp
	RET
SYM_FUNC_END(rv_vmx_do_nmi_irqoff)
#endif
