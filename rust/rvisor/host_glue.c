// SPDX-License-Identifier: GPL-2.0
/*
 * Host state around a VM entry: what VM exit leaves behind and what the
 * VMCS host-state area must hold. Static inline kernel helpers only, with
 * no policy; rust/rvisor/host_state.rs decides when each is called.
 */
#include <linux/hw_breakpoint.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/gsseg.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
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
