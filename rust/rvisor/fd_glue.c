// SPDX-License-Identifier: GPL-2.0
/*
 * VM and vCPU file descriptors: anonymous-inode files whose operations
 * forward to Rust with the object in file->private_data, plus the few
 * memory-management helpers the VM needs (pinning guest pages, the vCPU
 * run-page mapping, kicking CPUs out of guest mode). bindgen in 6.12 does
 * not give Rust file_operations or vm_operations_struct in a usable form.
 */
#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <asm/io.h>

#include "glue.h"

static long rv_vm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return rvisor_vm_ioctl(file->private_data, cmd, arg);
}

static int rv_vm_release(struct inode *inode, struct file *file)
{
	rvisor_vm_release(file->private_data);
	return 0;
}

static const struct file_operations rv_vm_fops = {
	/* A VM (and through it each vCPU) keeps the module loaded. */
	.owner = THIS_MODULE,
	.unlocked_ioctl = rv_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = rv_vm_release,
	.llseek = noop_llseek,
};

static long rv_vcpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return rvisor_vcpu_ioctl(file->private_data, cmd, arg);
}

static int rv_vcpu_release(struct inode *inode, struct file *file)
{
	rvisor_vcpu_release(file->private_data);
	return 0;
}

static vm_fault_t rv_vcpu_fault(struct vm_fault *vmf)
{
	struct page *page = rvisor_vcpu_page(vmf->vma->vm_file->private_data, vmf->pgoff);

	if (!page)
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct rv_vcpu_vm_ops = {
	.fault = rv_vcpu_fault,
};

static int rv_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	vma->vm_ops = &rv_vcpu_vm_ops;
	return 0;
}

static const struct file_operations rv_vcpu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = rv_vcpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = rv_vcpu_mmap,
	.release = rv_vcpu_release,
	.llseek = noop_llseek,
};

int rv_vm_fd(void *vm)
{
	return anon_inode_getfd("rvisor-vm", &rv_vm_fops, vm, O_RDWR | O_CLOEXEC);
}

int rv_vcpu_fd(void *vcpu)
{
	return anon_inode_getfd("rvisor-vcpu", &rv_vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
}

bool rv_user_range_ok(u64 addr, u64 size)
{
	return access_ok((void __user *)(unsigned long)addr, size);
}

/*
 * Pins the user page at @addr for as long as the guest may map it
 * (FOLL_LONGTERM: it is not in a movable zone or CMA area afterwards).
 * Returns 0 and the page, or a negative errno (-EFAULT if unmapped).
 */
int rv_pin_user_page(u64 addr, bool writable, struct page **page)
{
	unsigned int flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
	int n = pin_user_pages_fast(addr, 1, flags, page);

	if (n == 1)
		return 0;
	return n < 0 ? n : -EFAULT;
}

void rv_unpin_user_page(struct page *page, bool dirty)
{
	unpin_user_pages_dirty_lock(&page, 1, dirty);
}

void *rv_page_address(struct page *page)
{
	return page_address(page);
}

static void rv_kick_nop(void *info)
{
}

/*
 * Interrupts @cpu and waits until it took the interrupt: a vCPU in guest
 * mode there has left it (external interrupts cause VM exits).
 */
void rv_kick_cpu(int cpu)
{
	smp_call_function_single(cpu, rv_kick_nop, NULL, 1);
}

unsigned long rv_copy_from_user(void *to, u64 from, unsigned long n)
{
	return copy_from_user(to, (const void __user *)(unsigned long)from, n);
}

unsigned long rv_copy_to_user(u64 to, const void *from, unsigned long n)
{
	return copy_to_user((void __user *)(unsigned long)to, from, n);
}

static void rv_invept_all_on_cpu(void *info)
{
	rvisor_invept_all_this_cpu();
}

void rv_on_each_cpu_invept_all(void)
{
	on_each_cpu(rv_invept_all_on_cpu, NULL, 1);
}

/*
 * The calling task's mm with a reference on the mm_struct (not on its
 * address space), as kvm_create_vm() takes with mmgrab(): the VM compares
 * it with the caller's on every ioctl. NULL for a task without one.
 */
void *rv_mm_grab_current(void)
{
	struct mm_struct *mm = current->mm;

	if (mm)
		mmgrab(mm);
	return mm;
}

void rv_mm_drop(void *mm)
{
	mmdrop(mm);
}

bool rv_mm_is_current(const void *mm)
{
	return current->mm == mm;
}

struct page *rv_phys_to_page(u64 phys)
{
	return pfn_to_page(PHYS_PFN(phys));
}

void *rv_phys_to_virt(u64 phys)
{
	return phys_to_virt(phys);
}
