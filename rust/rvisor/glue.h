/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The boundary between rvisor's Rust code and its C glue, in both
 * directions. Types are spelled so that the Rust declarations in
 * rust/rvisor/glue.rs match them one for one.
 */
#ifndef RVISOR_GLUE_H
#define RVISOR_GLUE_H

#include <linux/types.h>

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
void rv_emergency_register(void (*callback)(void));
void rv_emergency_unregister(void (*callback)(void));
int rv_misc_register(void);
void rv_misc_deregister(void);

/* Implemented in Rust, called by the C glue. */
long rvisor_dev_ioctl(unsigned int cmd, unsigned long arg);
ssize_t rvisor_attr_show(const char *name, char *buf);

#endif /* RVISOR_GLUE_H */
