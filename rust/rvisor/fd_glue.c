// SPDX-License-Identifier: GPL-2.0
/*
 * VM and vCPU file descriptors: anonymous-inode files whose operations
 * forward to Rust with the object in file->private_data, plus the few
 * memory-management helpers the VM needs (pinning guest pages, the MMU
 * notifier, the vCPU run-page mapping, kicking CPUs out of guest mode). bindgen in 6.12 does
 * not give Rust file_operations or vm_operations_struct in a usable form.
 */
#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
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
 * Pins the user page at @addr while an EPT violation maps it (the pin is
 * dropped once the leaf is in place: the VM's MMU notifier keeps the leaf
 * right from then on). Returns 0 and the page, or a negative errno
 * (-EFAULT if unmapped).
 */
int rv_pin_user_page(u64 addr, bool writable, struct page **page)
{
	int n = pin_user_pages_fast(addr, 1, writable ? FOLL_WRITE : 0, page);

	if (n == 1)
		return 0;
	return n < 0 ? n : -EFAULT;
}

void rv_unpin_user_page(struct page *page)
{
	unpin_user_page(page);
}

/*
 * Without sleeping, so under the VM's spinlock and in the MMU notifier:
 * the dirty flag alone, as kvm_set_page_dirty() sets it (and like it, not
 * on reserved pages).
 */
void rv_set_page_dirty(u64 phys)
{
	struct page *page = pfn_to_page(PHYS_PFN(phys));

	if (!PageReserved(page))
		SetPageDirty(page);
}

/* Frees an EPT table page (one Page::alloc_page() allocated). */
void rv_free_page(u64 phys)
{
	__free_page(pfn_to_page(PHYS_PFN(phys)));
}

/*
 * The VM's subscription to changes of its owner's address space, as
 * kvm_init_mmu_notifier() makes one: every callback runs the VM's Rust
 * handler, which never fails and sleeps only where the range allows it,
 * so it serves the non-blockable calls (the OOM reaper) too.
 */
struct rv_mmu_notifier {
	struct mmu_notifier mn;
	struct mm_struct *mm;
	void *vm;
	bool registered;
};

static struct rv_mmu_notifier *to_rv_mn(struct mmu_notifier *mn)
{
	return container_of(mn, struct rv_mmu_notifier, mn);
}

static int rv_mn_invalidate_range_start(struct mmu_notifier *mn,
					const struct mmu_notifier_range *range)
{
	rvisor_mm_invalidate_start(to_rv_mn(mn)->vm, range->start, range->end,
				   mmu_notifier_range_blockable(range));
	return 0;
}

static void rv_mn_invalidate_range_end(struct mmu_notifier *mn,
				       const struct mmu_notifier_range *range)
{
	rvisor_mm_invalidate_end(to_rv_mn(mn)->vm);
}

/* The address space is going away (exit_mmap()): unmap the whole guest. */
static void rv_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	rvisor_mm_invalidate_start(to_rv_mn(mn)->vm, 0, ULONG_MAX, true);
	rvisor_mm_invalidate_end(to_rv_mn(mn)->vm);
}

static const struct mmu_notifier_ops rv_mmu_notifier_ops = {
	.invalidate_range_start = rv_mn_invalidate_range_start,
	.invalidate_range_end = rv_mn_invalidate_range_end,
	.release = rv_mn_release,
};

void *rv_mmu_notifier_alloc(void)
{
	return kzalloc(sizeof(struct rv_mmu_notifier), GFP_KERNEL_ACCOUNT);
}

/* Subscribes @vm to the calling task's address space. */
int rv_mmu_notifier_register(void *notifier, void *vm)
{
	struct rv_mmu_notifier *n = notifier;
	int ret;

	n->mn.ops = &rv_mmu_notifier_ops;
	n->vm = vm;
	n->mm = current->mm;
	ret = mmu_notifier_register(&n->mn, n->mm);
	n->registered = !ret;
	return ret;
}

/*
 * Ends the subscription, if any: when this returns no callback runs any
 * more (mmu_notifier_unregister() waits for them).
 */
void rv_mmu_notifier_unregister(void *notifier)
{
	struct rv_mmu_notifier *n = notifier;

	if (n->registered)
		mmu_notifier_unregister(&n->mn, n->mm);
	n->registered = false;
}

void rv_mmu_notifier_free(void *notifier)
{
	rv_mmu_notifier_unregister(notifier);
	kfree(notifier);
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

/*
 * Atomically replaces the 4- or 8-byte value at user address @to with
 * @new if it still holds @old: 0 if replaced, 1 if it held something
 * else, -EFAULT if it cannot be accessed. A guest page-table entry's
 * accessed/dirty update, as KVM's update_accessed_dirty_bits() does it
 * with __try_cmpxchg_user(), so that a racing change of the entry by
 * another vCPU is never overwritten.
 */
/* __try_cmpxchg_user() opens and closes the user access window itself. */
static int rv_cmpxchg_user_u64(u64 __user *p, u64 old, u64 new)
{
	if (!access_ok(p, sizeof(*p)))
		return -EFAULT;
	return __try_cmpxchg_user(p, &old, new, efault);
}

static int rv_cmpxchg_user_u32(u32 __user *p, u32 old, u32 new)
{
	if (!access_ok(p, sizeof(*p)))
		return -EFAULT;
	return __try_cmpxchg_user(p, &old, new, efault);
}

int rv_cmpxchg_user(u64 to, u64 old, u64 new, int width)
{
	if (width == 8 && IS_ALIGNED(to, 8))
		return rv_cmpxchg_user_u64((u64 __user *)(unsigned long)to, old, new);
	if (width == 4 && IS_ALIGNED(to, 4))
		return rv_cmpxchg_user_u32((u32 __user *)(unsigned long)to, old, new);
	return -EFAULT;
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

void *rv_phys_to_virt(u64 phys)
{
	return phys_to_virt(phys);
}
