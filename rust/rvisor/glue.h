/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The boundary between rvisor's Rust code and its C glue, in both
 * directions. Types are spelled so that the Rust declarations in
 * rust/rvisor/glue.rs match them one for one.
 */
#ifndef RVISOR_GLUE_H
#define RVISOR_GLUE_H

#include <linux/types.h>

struct mutex;
struct page;

/* Implemented in C (glue.c), called by Rust. */
u32 rv_cpuid_ecx(u32 leaf);
int rv_rdmsr_safe(u32 msr, u64 *val);
int rv_wrmsr_safe(u32 msr, u64 val);
bool rv_cr4_vmxe(void);
void rv_cr4_set_vmxe(void);
void rv_cr4_clear_vmxe(void);
int rv_vmxon(u64 phys);
int rv_vmxoff(void);
u64 rv_page_to_phys(struct page *page);
unsigned int rv_nr_cpu_ids(void);
unsigned int rv_this_cpu(void);
int rv_cpuhp_setup_dyn(const char *name, int (*startup)(unsigned int cpu),
		       int (*teardown)(unsigned int cpu));
void rv_cpuhp_remove(int state);
void rv_reboot_register(void (*callback)(void));
void rv_reboot_unregister(void);
void rv_vmx_fault(void);
int rv_misc_register(void);
void rv_misc_deregister(void);

/* Host state around VM entries (host_glue.c). */
struct rv_host_state {
	u64 cr0, cr3, cr4;
	u64 fs_base, gs_base, kernel_gs_base;
	u64 tr_base, gdt_base, idt_base;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 efer, pat;
	u64 debugctl;
	u16 cs_sel, ss_sel, ds_sel, es_sel, fs_sel, gs_sel, tr_sel, ldt_sel;
};

void rv_host_state_save(struct rv_host_state *hs);
void rv_host_cpu_state_save(struct rv_host_state *hs);
void rv_host_state_restore(const struct rv_host_state *hs);
unsigned long rv_vmx_host_rip(void);
void rv_machine_check(void);
int rv_mitigations_init(void);
void rv_mitigations_exit(void);
const char *rv_l1d_flush_mode(void);
void rv_l1d_flush(bool host_ran);
void rv_vmcs_switch(u64 vmcs);
void rv_vmcs_forget(u64 vmcs);
void rv_guest_ran(void);
void rv_wrmsr(u32 msr, u64 val);
u64 rv_rdmsr(u32 msr);
void rv_kernel_fpu_begin(void);
void rv_kernel_fpu_end(void);
u64 rv_xgetbv0(void);
void rv_xsetbv0(u64 val);
bool rv_has_xsave(void);
void rv_cpuid_count(u32 leaf, u32 subleaf, u32 out[4]);
void rv_local_irq_disable(void);
void rv_local_irq_enable(void);
void rv_preempt_disable(void);
void rv_preempt_enable(void);
bool rv_signal_pending(void);
bool rv_task_work_pending(void);
void rv_vcpu_mutex_init(struct mutex *lock);
int rv_mutex_lock_killable(struct mutex *lock);
void rv_mutex_unlock(struct mutex *lock);
void rv_cond_resched(void);
bool rv_need_resched(void);

/* VM entry (vmenter.S). */
int rv_vmx_run(u64 *regs, bool resume);
void rv_vmx_do_nmi_irqoff(void);
void rv_handle_nmi_irqoff(void);
const char *rv_nmi_path(void);
bool rv_nmi_path_ok(void);

/* VM and vCPU files, guest pages, kicks (fd_glue.c). */
int rv_vm_fd(void *vm);
int rv_vcpu_fd(void *vcpu);
bool rv_user_range_ok(u64 addr, u64 size);
int rv_pin_user_page(u64 addr, bool writable, struct page **page);
void rv_unpin_user_page(struct page *page);
void rv_free_page(u64 phys);
void rv_set_page_dirty(u64 phys);
void *rv_mmu_notifier_alloc(void);
int rv_mmu_notifier_register(void *notifier, void *vm);
void rv_mmu_notifier_unregister(void *notifier);
void rv_mmu_notifier_free(void *notifier);
void *rv_page_address(struct page *page);
void *rv_phys_to_virt(u64 phys);
void rv_kick_cpu(int cpu);
unsigned long rv_copy_from_user(void *to, u64 from, unsigned long n);
unsigned long rv_copy_to_user(u64 to, const void *from, unsigned long n);
int rv_cmpxchg_user(u64 to, u64 old, u64 new, int width);
void rv_on_each_cpu_invept_all(void);
void *rv_mm_grab_current(void);
void rv_mm_drop(void *mm);
bool rv_mm_is_current(const void *mm);

/* Implemented in Rust, called by the C glue. */
long rvisor_dev_ioctl(unsigned int cmd, unsigned long arg);
ssize_t rvisor_attr_show(const char *name, char *buf);
long rvisor_vm_ioctl(void *vm, unsigned int cmd, unsigned long arg);
void rvisor_vm_release(void *vm);
long rvisor_vcpu_ioctl(void *vcpu, unsigned int cmd, unsigned long arg);
void rvisor_vcpu_release(void *vcpu);
struct page *rvisor_vcpu_page(void *vcpu, unsigned long pgoff);
void rvisor_invept_all_this_cpu(void);
void rvisor_mm_invalidate_start(void *vm, unsigned long start, unsigned long end,
				bool may_block);
void rvisor_mm_invalidate_end(void *vm);

#endif /* RVISOR_GLUE_H */
