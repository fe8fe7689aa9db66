// SPDX-License-Identifier: GPL-2.0
/*
 * The host side of a VM entry: the host state VM exit leaves behind and
 * the VMCS host-state area must hold; the host's #MC and NMI handling
 * after an exit; the speculative-execution mitigations around entry; and
 * the static inline kernel helpers the run loop needs (interrupts,
 * preemption, FPU, XCR0, signals and task work, the vCPU mutex).
 * rust/rvisor/run.rs (each section) and vcpu_setup.rs (the VMCS
 * host-state fields that never change) decide when each is called. The
 * one choice made here, the L1D flush mode, follows the host's own
 * mitigation settings as KVM's vmx_setup_l1d_flush() does (below).
 */
#include <linux/gfp.h>
#include <linux/hw_breakpoint.h>
#include <linux/jump_label.h>
#include <linux/percpu.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/task_work.h>
#include <linux/smp.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/fred.h>
#include <asm/hardirq.h>
#include <asm/gsseg.h>
#include <asm/mce.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/sync_core.h>
#include <asm/trapnr.h>
#include <asm/apic.h>
#include <asm/tlbflush.h>

#include "glue.h"

/* What the task and this entry section may change: saved every section. */
void rv_host_state_save(struct rv_host_state *hs)
{
	hs->cr3 = __read_cr3();
	hs->cr4 = cr4_read_shadow();
	savesegment(ds, hs->ds_sel);
	savesegment(es, hs->es_sel);
	savesegment(fs, hs->fs_sel);
	savesegment(gs, hs->gs_sel);
	asm volatile("sldt %0" : "=g"(hs->ldt_sel));
	rdmsrl(MSR_FS_BASE, hs->fs_base);
	rdmsrl(MSR_KERNEL_GS_BASE, hs->kernel_gs_base);
	hs->debugctl = get_debugctlmsr();
}

/*
 * What depends on the CPU only (read when a vCPU runs on a CPU other than
 * last time), and what is the same everywhere (read once, for a new VMCS).
 */
void rv_host_cpu_state_save(struct rv_host_state *hs)
{
	struct desc_ptr idt;
	int cpu = raw_smp_processor_id();

	rdmsrl(MSR_GS_BASE, hs->gs_base);
	rdmsrl(MSR_IA32_SYSENTER_CS, hs->sysenter_cs);
	rdmsrl(MSR_IA32_SYSENTER_ESP, hs->sysenter_esp);
	rdmsrl(MSR_IA32_SYSENTER_EIP, hs->sysenter_eip);
	hs->gdt_base = (unsigned long)get_cpu_gdt_ro(cpu);
	hs->tr_base = (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss;
	hs->cr0 = read_cr0();
	rdmsrl(MSR_EFER, hs->efer);
	rdmsrl(MSR_IA32_CR_PAT, hs->pat);
	store_idt(&idt);
	hs->idt_base = idt.address;
	hs->cs_sel = __KERNEL_CS;
	hs->ss_sel = __KERNEL_DS;
	hs->tr_sel = GDT_ENTRY_TSS * 8;
}

void rv_host_state_restore(const struct rv_host_state *hs)
{
	/* VM exit zeroes LDTR and the data selectors, and GS with them. */
	if (hs->ldt_sel || (hs->gs_sel & 7)) {
		asm volatile("lldt %0" : : "rm"(hs->ldt_sel));
		load_gs_index(hs->gs_sel);
	}
	if (hs->fs_sel & 7)
		loadsegment(fs, hs->fs_sel);
	if (hs->ds_sel | hs->es_sel) {
		loadsegment(ds, hs->ds_sel);
		loadsegment(es, hs->es_sel);
	}
	/* VM exit set the TR limit to 0x67 and the GDTR limit to 0xffff. */
	invalidate_tss_limit();
	wrmsrl(MSR_KERNEL_GS_BASE, hs->kernel_gs_base);
	load_fixmap_gdt(raw_smp_processor_id());
	/*
	 * VM exit cleared DEBUGCTL and set DR7 to 0x400 (the save/load debug
	 * controls): the host's come back, as in vmx_vcpu_run() and
	 * vcpu_enter_guest().
	 */
	if (hs->debugctl)
		update_debugctlmsr(hs->debugctl);
#ifdef CONFIG_HAVE_HW_BREAKPOINT
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
#endif
}

/*
 * A machine check that interrupted the guest (or VM entry): the host's
 * handler, with the registers of a user-mode interrupt, as KVM's
 * kvm_machine_check() calls it (any recovery is for the task).
 */
void rv_machine_check(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = {
		.cs = 3,
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}

/*
 * The two entries of the host's NMI handler that vmlinux has for KVM: the
 * VMX one (asm_exc_nmi_kvm_vmx) is exported only when kvm_intel is a
 * module (arch/x86/kernel/nmi.c), FRED's (asm_fred_entry_from_kvm) only
 * when kvm_intel is configured at all (arch/x86/entry/entry_64_fred.S).
 * rvisor is built against the kernel it loads into, so that kernel's
 * configuration says which of them it can call: a branch on one that is
 * not there is compiled out, and nothing is left for the loader to find.
 */
#define RV_KVM_VMX_NMI_ENTRY IS_MODULE(CONFIG_KVM_INTEL)
#define RV_KVM_FRED_ENTRY IS_ENABLED(CONFIG_KVM_INTEL)

/*
 * An NMI caused the VM exit (NMI exiting): the host's NMI handler must run
 * before interrupts are enabled, as in vmx_vcpu_enter_exit(). With FRED,
 * through its KVM entry; else through KVM's VMX NMI entry when exported
 * (kvm_intel a module). Otherwise the NMI is sent again to this CPU, to be
 * taken here through the IDT: NMIs stay blocked after an NMI exit until
 * the next IRET, hence the IRET to self, and the wait until the handler
 * ran (else it could arrive in the guest, and exit again). The IPI names
 * this CPU as destination: NMI delivery is invalid with the self shorthand
 * (SDM Vol. 3A 11.6.1) and through the x2APIC SELF IPI register, which is
 * what __apic_send_IPI_self() would use.
 */
void rv_handle_nmi_irqoff(void)
{
	unsigned int seen;
	int i;

	if (cpu_feature_enabled(X86_FEATURE_FRED)) {
		/* Without the entry, rv_nmi_path_ok() refused the load. */
		if (RV_KVM_FRED_ENTRY)
			fred_entry_from_kvm(EVENT_TYPE_NMI, NMI_VECTOR);
		return;
	}
	if (RV_KVM_VMX_NMI_ENTRY) {
		rv_vmx_do_nmi_irqoff();
		return;
	}
	seen = this_cpu_read(irq_stat.__nmi_count);
	__apic_send_IPI_mask(cpumask_of(smp_processor_id()), NMI_VECTOR);
	iret_to_self();
	for (i = 0; i < 100000 && this_cpu_read(irq_stat.__nmi_count) == seen; i++)
		cpu_relax();
}

/* Whether the host's NMIs can be handled (rvisor refuses to load if not). */
bool rv_nmi_path_ok(void)
{
	return !cpu_feature_enabled(X86_FEATURE_FRED) || RV_KVM_FRED_ENTRY;
}

/* Which of the three, for the module's load message. */
const char *rv_nmi_path(void)
{
	if (cpu_feature_enabled(X86_FEATURE_FRED))
		return "FRED";
	return RV_KVM_VMX_NMI_ENTRY ? "KVM's VMX NMI entry" : "self-NMI after IRET";
}

void rv_wrmsr(u32 msr, u64 val)
{
	wrmsrl(msr, val);
}

u64 rv_rdmsr(u32 msr)
{
	u64 val;

	rdmsrl(msr, val);
	return val;
}

void rv_kernel_fpu_begin(void)
{
	kernel_fpu_begin();
}

void rv_kernel_fpu_end(void)
{
	kernel_fpu_end();
}

u64 rv_xgetbv0(void)
{
	return xgetbv(XCR_XFEATURE_ENABLED_MASK);
}

void rv_xsetbv0(u64 val)
{
	xsetbv(XCR_XFEATURE_ENABLED_MASK, val);
}

bool rv_has_xsave(void)
{
	return boot_cpu_has(X86_FEATURE_XSAVE) && boot_cpu_has(X86_FEATURE_OSXSAVE);
}

void rv_cpuid_count(u32 leaf, u32 subleaf, u32 out[4])
{
	cpuid_count(leaf, subleaf, &out[0], &out[1], &out[2], &out[3]);
}

void rv_local_irq_disable(void)
{
	local_irq_disable();
}

void rv_local_irq_enable(void)
{
	local_irq_enable();
}

void rv_preempt_disable(void)
{
	preempt_disable();
}

void rv_preempt_enable(void)
{
	preempt_enable();
}

bool rv_signal_pending(void)
{
	return signal_pending(current);
}

/*
 * Task work queued for the return to user space (TWA_RESUME), such as
 * kill_me_maybe() after a machine check. Not TIF_NOTIFY_RESUME as such:
 * rseq sets it at every preemption of a thread with rseq registered
 * (glibc's), which must not end KVM_RUN.
 */
bool rv_task_work_pending(void)
{
	return task_work_pending(current);
}

/* The vCPU lock (vcpu_lock.rs): one lockdep class for every vCPU. */
void rv_vcpu_mutex_init(struct mutex *lock)
{
	mutex_init(lock);
}

int rv_mutex_lock_killable(struct mutex *lock)
{
	return mutex_lock_killable(lock);
}

void rv_mutex_unlock(struct mutex *lock)
{
	mutex_unlock(lock);
}

void rv_cond_resched(void)
{
	cond_resched();
}

bool rv_need_resched(void)
{
	return need_resched();
}

/* The VM-exit landing point in vmenter.S, for the VMCS HOST_RIP field. */
extern char rv_vmx_vmexit[];

unsigned long rv_vmx_host_rip(void)
{
	return (unsigned long)rv_vmx_vmexit;
}

/*
 * Speculative-execution mitigations around VM entry, as KVM 6.12 applies
 * them (Documentation/design.rst lists each with KVM's reference). VERW,
 * the RSB fill and branch-history clearing are in vmenter.S; here are the
 * L1D flush, IBPB on VMCS switch and the IBPB on exit to user space.
 */

/* 64 KiB: twice the L1D, as KVM's L1D_CACHE_ORDER. */
#define RV_L1D_CACHE_ORDER 4

static DEFINE_STATIC_KEY_FALSE(rv_l1d_should_flush);
static struct page *rv_l1d_flush_pages;
static const char *rv_l1d_mode = "not required";
/* l1tf=full: flush before every entry, not only after the host ran. */
static bool rv_l1d_always;

/*
 * L1TF: on an affected CPU the guest can read what the host left in the
 * L1D through a not-present guest PTE, so it is flushed before VM entry,
 * as vmx_setup_l1d_flush() decides with vmentry_l1d_flush=auto: not
 * needed if the CPU is not affected or says VM entry flushes it already
 * (ARCH_CAP_SKIP_VMENTRY_L1DFLUSH), never with l1tf=off, before every
 * entry with l1tf=full, otherwise (l1tf=flush, the default) when the host
 * ran other code since the last one; with the software sequence where
 * there is no L1D_FLUSH MSR.
 */
int rv_mitigations_init(void)
{
	u64 cap = 0;
	int i;

	if (!boot_cpu_has_bug(X86_BUG_L1TF))
		return 0;
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl(MSR_IA32_ARCH_CAPABILITIES, cap);
	if (cap & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH)
		return 0;
#if IS_ENABLED(CONFIG_KVM_INTEL)
	/* Exported for KVM only: without it, the default (l1tf=flush). */
	switch (l1tf_mitigation) {
	case L1TF_MITIGATION_OFF:
		rv_l1d_mode = "never";
		return 0;
	case L1TF_MITIGATION_FULL:
	case L1TF_MITIGATION_FULL_FORCE:
		rv_l1d_always = true;
		break;
	default:
		break;
	}
#endif
	if (!boot_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		rv_l1d_flush_pages = alloc_pages(GFP_KERNEL, RV_L1D_CACHE_ORDER);
		if (!rv_l1d_flush_pages)
			return -ENOMEM;
		/* A different pattern per page, against KSM when nested. */
		for (i = 0; i < 1 << RV_L1D_CACHE_ORDER; i++)
			memset(page_address(rv_l1d_flush_pages + i), i + 1, PAGE_SIZE);
	}
	rv_l1d_mode = rv_l1d_always ? "always" : "cond";
	static_branch_enable(&rv_l1d_should_flush);
	return 0;
}

void rv_mitigations_exit(void)
{
	static_branch_disable(&rv_l1d_should_flush);
	if (rv_l1d_flush_pages)
		__free_pages(rv_l1d_flush_pages, RV_L1D_CACHE_ORDER);
	rv_l1d_flush_pages = NULL;
}

/* What KVM's vmentry_l1d_flush parameter would say on this host. */
const char *rv_l1d_flush_mode(void)
{
	return rv_l1d_mode;
}

/*
 * Just before VM entry, interrupts off. @host_ran: the host ran other code
 * since this vCPU's last entry (user space, interrupts, scheduling, exit
 * handling with interrupts on), which KVM's vcpu->arch.l1tf_flush_l1d
 * records; interrupts and NMIs in between set the per-CPU flag that
 * vmx_l1d_flush() also reads.
 */
void rv_l1d_flush(bool host_ran)
{
	int size = PAGE_SIZE << RV_L1D_CACHE_ORDER;
	void *pages;
	bool flush = host_ran || rv_l1d_always;

	if (!static_branch_unlikely(&rv_l1d_should_flush))
		return;
#if IS_ENABLED(CONFIG_KVM_INTEL)
	flush |= kvm_get_cpu_l1tf_flush_l1d();
	kvm_clear_cpu_l1tf_flush_l1d();
#else
	flush = true;
#endif
	if (!flush)
		return;
	if (static_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return;
	}
	pages = page_address(rv_l1d_flush_pages);
	/* KVM's sequence: the pages into the TLB, CPUID, then every line. */
	asm volatile("xorl %%eax, %%eax\n"
		     "1: movzbl (%[pages], %%rax), %%ecx\n\t"
		     "addl $4096, %%eax\n\t"
		     "cmpl %%eax, %[size]\n\t"
		     "jne 1b\n\t"
		     "xorl %%eax, %%eax\n\t"
		     "cpuid\n\t"
		     "xorl %%eax, %%eax\n"
		     "2: movzbl (%[pages], %%rax), %%ecx\n\t"
		     "addl $64, %%eax\n\t"
		     "cmpl %%eax, %[size]\n\t"
		     "jne 2b\n\t"
		     "lfence\n"
		     : : [pages] "r"(pages), [size] "r"(size)
		     : "eax", "ebx", "ecx", "edx", "memory");
}

/* The VMCS this CPU last ran a guest on (its physical address). */
static DEFINE_PER_CPU(u64, rv_last_vmcs);

/*
 * Spectre v2 between guests: a CPU that switches to another vCPU's VMCS
 * executes IBPB first, as vmx_vcpu_load_vmcs() does, so that one guest
 * cannot train the indirect branches another one runs. Preemption off.
 */
void rv_vmcs_switch(u64 vmcs)
{
	if (this_cpu_read(rv_last_vmcs) == vmcs)
		return;
	this_cpu_write(rv_last_vmcs, vmcs);
	indirect_branch_prediction_barrier();
}

/* A VMCS is freed: no CPU may take a new one at its address for the same. */
void rv_vmcs_forget(u64 vmcs)
{
	int cpu;

	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&rv_last_vmcs, cpu), vmcs, 0);
}

/*
 * VMSCAPE: after a guest ran on this CPU, the next return to user space
 * (the VMM) executes IBPB, as vcpu_enter_guest() asks with
 * x86_ibpb_exit_to_user. Preemption off, so it is the CPU that ran it.
 */
void rv_guest_ran(void)
{
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
}
