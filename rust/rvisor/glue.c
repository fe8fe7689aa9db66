// SPDX-License-Identifier: GPL-2.0
/*
 * C glue of rvisor.ko: only what Rust cannot reach through 6.12's
 * kernel::bindings.
 *
 *  - static inline functions and macros (CR4 shadow, MSR accessors,
 *    cpuhp_setup_state(), page_to_phys());
 *  - VMXON/VMXOFF, which need an exception-table fixup so that a fault
 *    becomes an error code instead of an oops (asm goto with _ASM_EXTABLE;
 *    the VMCS instructions in vmx_insn.rs write their __ex_table entries
 *    by hand, since Rust has no _ASM_EXTABLE);
 *  - the reboot notifier and the fault report of those fixups
 *    (rv_vmx_fault());
 *  - the misc device and its sysfs attributes, whose C types bindgen does
 *    not generate in 6.12.
 *
 * No policy lives here: every decision is taken by the Rust caller.
 */
#include <linux/cpuhotplug.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/smp.h>
#include <linux/sysfs.h>
#include <asm/asm.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <linux/reboot.h>
#include <asm/tlbflush.h>

#include "glue.h"

u32 rv_cpuid_ecx(u32 leaf)
{
	return cpuid_ecx(leaf);
}

int rv_rdmsr_safe(u32 msr, u64 *val)
{
	return rdmsrl_safe(msr, val);
}

int rv_wrmsr_safe(u32 msr, u64 val)
{
	return wrmsrl_safe(msr, val);
}

bool rv_cr4_vmxe(void)
{
	return cr4_read_shadow() & X86_CR4_VMXE;
}

void rv_cr4_set_vmxe(void)
{
	cr4_set_bits(X86_CR4_VMXE);
}

void rv_cr4_clear_vmxe(void)
{
	cr4_clear_bits(X86_CR4_VMXE);
}

/*
 * VMXON: 0 on success, -EIO if the processor reports VMfail (CF or ZF set,
 * e.g. a bad revision id), -EFAULT if it faults (#UD/#GP: VMX off in CR4 or
 * IA32_FEATURE_CONTROL).
 */
int rv_vmxon(u64 phys)
{
	asm goto("1: vmxon %[pa]\n\t"
		 "jna %l[fail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : [pa] "m"(phys) : "cc", "memory" : fail, fault);
	return 0;
fail:
	return -EIO;
fault:
	return -EFAULT;
}

/* VMXOFF: 0 on success, -EFAULT if it faulted (not in VMX operation). */
int rv_vmxoff(void)
{
	asm goto("1: vmxoff\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : : "cc", "memory" : fault);
	return 0;
fault:
	return -EFAULT;
}

u64 rv_page_to_phys(struct page *page)
{
	return page_to_phys(page);
}

unsigned int rv_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

unsigned int rv_this_cpu(void)
{
	return raw_smp_processor_id();
}

/* Returns the dynamic state number (> 0) or a negative errno. */
int rv_cpuhp_setup_dyn(const char *name, int (*startup)(unsigned int cpu),
		       int (*teardown)(unsigned int cpu))
{
	return cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, name, startup, teardown);
}

void rv_cpuhp_remove(int state)
{
	cpuhp_remove_state(state);
}

/*
 * Reboot and kexec must find VMX off on every CPU, or INIT is blocked and
 * the next kernel cannot start the other CPUs. rvisor leaves through a
 * reboot notifier. It does not take the x86 emergency-virtualization hook
 * (cpu_emergency_register_virt_callback): that hook has a single slot, and
 * kvm_intel WARNs when it finds the slot taken as it enables virtualization
 * (at load by default: kvm_arch_enable_virtualization()), which would make
 * "kvm_intel refuses while rvisor holds VMX" noisy. The cost: a crash
 * kernel started by panic finds VMX still on (kdump usually runs on one
 * CPU, so it is rarely affected).
 */
static void (*rv_reboot_callback)(void);

/*
 * Set before the notifier turns VMX off: from then on a VMX instruction of
 * an ioctl still running may fault, and its fixup is expected (KVM's
 * kvm_rebooting). Never cleared: the machine is going down.
 */
static bool rv_rebooting;

void rv_vmx_fault(void)
{
	/*
	 * Outside reboot nothing but rvisor turns VMX off on a CPU where it
	 * holds it, so a fault is a bug: kvm_spurious_fault() BUG()s; the
	 * fixup has already made the instruction fail, so warn and let the
	 * ioctl return EIO.
	 */
	if (WARN_ONCE(!READ_ONCE(rv_rebooting),
		      "rvisor: a VMX instruction faulted outside reboot\n"))
		return;
	/* Expected, and worth one line: the power-off test looks for it. */
	pr_info_once("rvisor: VMX is off for reboot; VMX work still in flight fails with EIO\n");
}

static void rv_reboot_on_cpu(void *info)
{
	rv_reboot_callback();
}

static int rv_reboot_notify(struct notifier_block *nb, unsigned long code, void *unused)
{
	WRITE_ONCE(rv_rebooting, true);
	on_each_cpu(rv_reboot_on_cpu, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block rv_reboot_nb = {
	.notifier_call = rv_reboot_notify,
};

void rv_reboot_register(void (*callback)(void))
{
	rv_reboot_callback = callback;
	register_reboot_notifier(&rv_reboot_nb);
}

void rv_reboot_unregister(void)
{
	unregister_reboot_notifier(&rv_reboot_nb);
}

static long rv_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return rvisor_dev_ioctl(cmd, arg);
}

static const struct file_operations rv_fops = {
	/* An open /dev/rvisor pins the module. */
	.owner = THIS_MODULE,
	.unlocked_ioctl = rv_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/* Every attribute is formatted by Rust, which looks it up by name. */
static ssize_t rv_attr_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return rvisor_attr_show(attr->attr.name, buf);
}

#define RV_ATTR(_name) \
	struct device_attribute dev_attr_##_name = __ATTR(_name, 0444, rv_attr_show, NULL)
static RV_ATTR(revision_id);
static RV_ATTR(vmcs_size);
static RV_ATTR(ept);
static RV_ATTR(vpid);
static RV_ATTR(unrestricted_guest);
static RV_ATTR(cpus);
static RV_ATTR(l1d_flush);

static struct attribute *rv_vmx_attrs[] = {
	&dev_attr_revision_id.attr,
	&dev_attr_vmcs_size.attr,
	&dev_attr_ept.attr,
	&dev_attr_vpid.attr,
	&dev_attr_unrestricted_guest.attr,
	&dev_attr_cpus.attr,
	&dev_attr_l1d_flush.attr,
	NULL,
};

static const struct attribute_group rv_vmx_group = {
	.name = "vmx",
	.attrs = rv_vmx_attrs,
};

static const struct attribute_group *rv_groups[] = {
	&rv_vmx_group,
	NULL,
};

static struct miscdevice rv_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "rvisor",
	.fops = &rv_fops,
	.groups = rv_groups,
};

int rv_misc_register(void)
{
	return misc_register(&rv_misc);
}

void rv_misc_deregister(void)
{
	misc_deregister(&rv_misc);
}
