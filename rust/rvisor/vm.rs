// SPDX-License-Identifier: GPL-2.0

//! A virtual machine: guest memory, its EPT, and the vCPUs created on it.
//!
//! A VM lives as long as its file or any of its vCPU files is open (each
//! holds an `Arc<Vm>`); every file holds a reference on the module, so
//! rvisor cannot be unloaded while a VM exists.

use crate::controls::Controls;
use crate::glue;
use crate::guest_memory::{Fault, GuestMemory, Lookup, PinnedPage, SpareTables};
use crate::guest_msrs::msr;
use crate::kvm_abi;
use crate::msr_bitmap;
use crate::uapi::{self, KvmUserspaceMemoryRegion};
use crate::user_copy;
use crate::vcpu::Vcpu;
use crate::vmx_insn;
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use kernel::ffi::{c_long, c_uint, c_ulong, c_void};
use kernel::new_spinlock;
use kernel::page::Page;
use kernel::prelude::*;
use kernel::sync::{Arc, SpinLock};

/// vCPUs per VM, and one more than the largest vCPU id
/// (`KVM_CAP_NR_VCPUS`, `KVM_CAP_MAX_VCPUS`, `KVM_CAP_MAX_VCPU_ID`).
pub(crate) const MAX_VCPUS: usize = 16;

/// MSRs the guest accesses without exiting: each is switched by VM entry
/// and exit through a VMCS guest field (FS/GS base, SYSENTER), or by
/// rvisor around guest execution (KERNEL_GS_BASE), so the guest only ever
/// touches its own value. Every other MSR access exits.
const PASS_THROUGH_MSRS: [u32; 6] = [
    msr::FS_BASE,
    msr::GS_BASE,
    msr::KERNEL_GS_BASE,
    msr::SYSENTER_CS,
    msr::SYSENTER_ESP,
    msr::SYSENTER_EIP,
];

/// Guest-physical span removed per lock hold (one level-3 EPT entry's).
const ZAP_CHUNK: u64 = 1 << 30;

/// Highest `KVM_SET_TSS_ADDR` address KVM accepts (3 pages below 4 GiB).
const TSS_ADDR_MAX: u64 = 0xffff_d000;

/// The address space of the process that created a VM. As on KVM, the VM
/// and its vCPUs serve only that process: guest memory is that process's
/// memory (slots name its addresses, EPT faults pin its pages), so an
/// inherited or passed fd used from another process gets `EIO` (KVM's
/// `kvm_vm_ioctl()` and `kvm_vcpu_ioctl()`).
///
/// # Invariants
///
/// `0` points to an `mm_struct` on which this value holds a reference
/// taken with `mmgrab()`; it is dropped with `mmdrop()` in [`Drop`]. The
/// pointer is only compared, never dereferenced, by Rust.
struct OwnerMm(core::ptr::NonNull<c_void>);

// SAFETY: the reference is not tied to a task: it may be compared and
// dropped from any thread.
unsafe impl Send for OwnerMm {}
// SAFETY: the only shared use is a pointer comparison.
unsafe impl Sync for OwnerMm {}

impl OwnerMm {
    /// The calling process's address space; `EINVAL` for a task without
    /// one (a kernel thread), which has no memory to give a guest.
    fn current() -> Result<Self> {
        // SAFETY: takes a reference on the current task's mm, if any.
        let mm = unsafe { glue::rv_mm_grab_current() };
        // INVARIANT: a non-null `mm` comes with the reference taken above.
        core::ptr::NonNull::new(mm).map(Self).ok_or(EINVAL)
    }

    /// Whether the calling task runs in this address space.
    fn is_current(&self) -> bool {
        // SAFETY: only compares the pointer with `current->mm`.
        unsafe { glue::rv_mm_is_current(self.0.as_ptr()) }
    }
}

impl Drop for OwnerMm {
    fn drop(&mut self) {
        // SAFETY: by the type invariant this value holds one reference,
        // given back exactly once, here.
        unsafe { glue::rv_mm_drop(self.0.as_ptr()) };
    }
}

/// The VM's MMU notifier on its owner's address space (KVM's
/// `kvm->mmu_notifier`): each change of the VMM's mappings reaches
/// [`Vm::mm_invalidate_start`] before the pages behind them can go.
///
/// # Invariants
///
/// `0` points to a notifier from `rv_mmu_notifier_alloc()`, freed (and
/// unregistered first, if it was registered) only in [`Drop`].
struct MmNotifier(core::ptr::NonNull<c_void>);

// SAFETY: the notifier is not tied to a task; registration and
// unregistration are serialised by the VM's life cycle.
unsafe impl Send for MmNotifier {}
// SAFETY: no method takes `&self` but to read the pointer.
unsafe impl Sync for MmNotifier {}

impl MmNotifier {
    fn alloc() -> Result<Self> {
        // SAFETY: allocates a zeroed, unregistered notifier.
        let n = unsafe { glue::rv_mmu_notifier_alloc() };
        // INVARIANT: a non-null pointer from the allocator above.
        core::ptr::NonNull::new(n).map(Self).ok_or(ENOMEM)
    }

    /// Subscribes `vm` to the calling task's address space.
    ///
    /// # Safety
    ///
    /// `vm` must stay valid until [`MmNotifier::unregister`] has returned
    /// (its callbacks use it).
    unsafe fn register(&self, vm: *const Vm) -> Result {
        // SAFETY: the notifier is ours (type invariant); the caller keeps
        // `vm` valid for as long as callbacks may run.
        let ret = unsafe { glue::rv_mmu_notifier_register(self.0.as_ptr(), vm as *mut c_void) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(())
    }

    /// Ends the subscription; no callback runs once this returns.
    fn unregister(&self) {
        // SAFETY: the notifier is ours; unregistering twice is a no-op.
        unsafe { glue::rv_mmu_notifier_unregister(self.0.as_ptr()) };
    }
}

impl Drop for MmNotifier {
    fn drop(&mut self) {
        // SAFETY: by the type invariant, freed once, here.
        unsafe { glue::rv_mmu_notifier_free(self.0.as_ptr()) };
    }
}

/// State that ioctls, EPT violations and the MMU notifier change, under
/// [`Vm::inner`]: a spinlock, since the notifier may be called from
/// reclaim and must not sleep (see [`crate::guest_memory`]).
struct VmInner {
    memory: GuestMemory,
    /// vCPU ids ever created (ids are not reused, as in KVM).
    vcpu_ids: u32,
}

/// One virtual machine.
#[pin_data(PinnedDrop)]
pub(crate) struct Vm {
    #[pin]
    inner: SpinLock<VmInner>,
    /// The EPT pointer; the root table never changes.
    eptp: u64,
    /// Incremented whenever mappings are removed; a vCPU entering the
    /// guest with an older value flushes its CPU's EPT translations.
    ept_generation: AtomicU64,
    /// Per vCPU id: the CPU it runs the guest on, or -1.
    running_on: [AtomicI32; MAX_VCPUS],
    /// MSR bitmap: every RDMSR/WRMSR exits but those of
    /// [`PASS_THROUGH_MSRS`].
    msr_bitmap: Page,
    msr_bitmap_phys: u64,
    /// VM-execution controls chosen for this host.
    controls: Controls,
    /// Subscribed to `owner`'s address space from [`Vm::new`] until drop.
    notifier: MmNotifier,
    /// The process this VM serves.
    owner: OwnerMm,
}

impl Vm {
    /// Creates a VM; `EOPNOTSUPP` if this processor lacks what rvisor needs
    /// (EPT, unrestricted guest).
    pub(crate) fn new() -> Result<Arc<Self>> {
        let caps = crate::vmx_root::caps().ok_or(ENODEV)?;
        let controls = Controls::new(&caps)?;
        let owner = OwnerMm::current()?;
        let memory = GuestMemory::new()?;
        let eptp = memory.eptp();
        let msr_bitmap = Page::alloc_page(GFP_KERNEL_ACCOUNT)?;
        let mut bits = KBox::new(msr_bitmap::all_exiting(), GFP_KERNEL_ACCOUNT)?;
        for msr in PASS_THROUGH_MSRS {
            msr_bitmap::pass_through(&mut bits, msr);
        }
        // SAFETY: `bits` is one page of readable bytes.
        unsafe { msr_bitmap.write_raw(bits.as_ptr(), 0, msr_bitmap::SIZE)? };
        // SAFETY: `msr_bitmap` is a valid page.
        let msr_bitmap_phys = unsafe { glue::rv_page_to_phys(msr_bitmap.as_ptr()) };
        let notifier = MmNotifier::alloc()?;
        let vm = Arc::pin_init(
            pin_init!(Self {
                inner <- new_spinlock!(VmInner {
                    memory,
                    vcpu_ids: 0,
                }, "rvisor_vm"),
                eptp,
                ept_generation: AtomicU64::new(0),
                running_on: [const { AtomicI32::new(-1) }; MAX_VCPUS],
                msr_bitmap,
                msr_bitmap_phys,
                controls,
                notifier,
                owner,
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        // SAFETY: the VM's drop unregisters the notifier before anything
        // it uses is torn down, and the `Arc` does not move the VM.
        unsafe { vm.notifier.register(&*vm)? };
        Ok(vm)
    }

    /// The EPT pointer.
    pub(crate) fn eptp(&self) -> u64 {
        self.eptp
    }

    /// Physical address of the MSR bitmap.
    pub(crate) fn msr_bitmap_phys(&self) -> u64 {
        self.msr_bitmap_phys
    }

    /// Whether the calling task belongs to the process this VM serves; any
    /// other gets `EIO` from every VM and vCPU ioctl, as on KVM.
    pub(crate) fn serves_caller(&self) -> bool {
        self.owner.is_current()
    }

    /// The controls every vCPU of this VM uses.
    pub(crate) fn controls(&self) -> &Controls {
        &self.controls
    }

    /// The current EPT generation (see [`Vm::ept_generation`]).
    pub(crate) fn ept_generation(&self) -> u64 {
        self.ept_generation.load(Ordering::SeqCst)
    }

    /// Records that vCPU `id` is (`Some(cpu)`) or is not in guest mode.
    pub(crate) fn set_running(&self, id: u32, cpu: Option<usize>) {
        let v = cpu.map_or(-1, |c| c as i32);
        self.running_on[id as usize].store(v, Ordering::SeqCst);
    }

    /// Makes every vCPU drop translations of removed mappings before it
    /// runs guest code again: bump the generation, then interrupt every
    /// CPU running a vCPU of this VM and wait until it took the interrupt
    /// (which forced a VM exit). A vCPU re-entering afterwards sees the new
    /// generation and executes INVEPT first.
    fn flush_remote_tlbs(&self) {
        self.ept_generation.fetch_add(1, Ordering::SeqCst);
        for running in &self.running_on {
            let cpu = running.load(Ordering::SeqCst);
            if cpu >= 0 {
                // SAFETY: `cpu` is a CPU id a vCPU recorded while running.
                unsafe { glue::rv_kick_cpu(cpu) };
            }
        }
    }

    /// `KVM_SET_USER_MEMORY_REGION`.
    fn set_memory_region(&self, arg: u64) -> Result<isize> {
        let region: KvmUserspaceMemoryRegion = user_copy::read(arg)?;
        let removed = self.inner.lock().memory.set_region(&region)?;
        if let Some(range) = removed {
            self.zap(&[range], true);
        }
        Ok(0)
    }

    /// Removes every leaf in `ranges`, in chunks of [`ZAP_CHUNK`]: for
    /// each, under the lock, revoke the leaves, flush every CPU's
    /// translations (before the pages can go: a VMM's page may be freed
    /// once the notifier returns), release them. Between chunks the lock
    /// is dropped and, if `may_block`, the CPU yielded, so that a huge
    /// range neither holds the lock nor keeps the CPU for long (as KVM's
    /// zapping yields); no page can be mapped in the ranges meanwhile (the
    /// caller made sure: slot gone, or an invalidation in progress).
    fn zap(&self, ranges: &[(u64, u64)], may_block: bool) {
        for &(lo, hi) in ranges {
            let mut at = lo;
            while at < hi {
                let next = core::cmp::min(hi, (at | (ZAP_CHUNK - 1)).saturating_add(1));
                {
                    let mut inner = self.inner.lock();
                    if inner.memory.revoke_range(at, next) {
                        self.flush_remote_tlbs();
                        inner.memory.release_revoked(at, next);
                    }
                }
                at = next;
                if may_block && at < hi {
                    // SAFETY: may sleep: no lock held, and the caller allows it.
                    unsafe { glue::rv_cond_resched() };
                }
            }
        }
    }

    /// Handles an EPT violation of a vCPU at `gpa`: looks the page up,
    /// then pins it and allocates missing tables without the lock (either
    /// may sleep, and faulting the page in may run the MMU notifier), then
    /// maps it unless an invalidation came in between.
    pub(crate) fn ept_fault(&self, gpa: u64, write: bool) -> Result<Fault> {
        let missing = match self.inner.lock().memory.lookup(gpa, write) {
            Lookup::Mmio => return Ok(Fault::Mmio),
            Lookup::Mapped => return Ok(Fault::Mapped),
            Lookup::Missing(m) => m,
        };
        let mut spare = SpareTables::alloc(missing.tables)?;
        let page = PinnedPage::pin(missing.hva, missing.writable)?;
        self.inner
            .lock()
            .memory
            .install(&missing, &page, &mut spare);
        // Unpinned here, after the lock: from now on the notifier keeps the
        // leaf right (see `guest_memory`).
        drop(page);
        Ok(Fault::Mapped)
    }

    /// Reads guest-physical memory through the slots (not the EPT), for
    /// instruction fetches and page walks: from the VMM's memory, without
    /// the lock (copying may fault). `EFAULT` if some byte is not in a slot
    /// or its user memory is unreadable.
    pub(crate) fn read_guest(&self, gpa: u64, buf: &mut [u8]) -> Result {
        let len = buf.len();
        self.copy_guest(gpa, len, false, |hva, at, n| {
            // SAFETY: `buf[at..at + n]` is writable kernel memory.
            unsafe { glue::rv_copy_from_user(buf[at..].as_mut_ptr().cast(), hva, n as _) }
        })
    }

    /// The `width`-byte (4 or 8) little-endian value at `gpa`, for page
    /// walks; `None` if no slot backs it.
    pub(crate) fn read_entry(&self, gpa: u64, width: u32) -> Option<u64> {
        let mut b = [0u8; 8];
        self.read_guest(gpa, &mut b[..core::cmp::min(width as usize, 8)])
            .ok()?;
        Some(u64::from_le_bytes(b))
    }

    /// Writes `buf` into guest memory at `gpa` through the VMM's mapping
    /// (so the guest sees it as the VMM does, as KVM's
    /// `kvm_vcpu_write_guest()`): `EFAULT` where no writable slot backs it;
    /// bytes before that point are written. May sleep.
    pub(crate) fn write_guest(&self, gpa: u64, buf: &[u8]) -> Result {
        self.copy_guest(gpa, buf.len(), true, |hva, at, n| {
            // SAFETY: `buf[at..at + n]` is readable kernel memory.
            unsafe { glue::rv_copy_to_user(hva, buf[at..].as_ptr().cast(), n as _) }
        })
    }

    /// Replaces the `width`-byte (4 or 8) guest value at `gpa` with `new`
    /// if it still holds `old`, atomically, through the VMM's mapping:
    /// `Ok(false)` if it held something else, `EFAULT` where no writable
    /// slot backs it. May sleep.
    pub(crate) fn cmpxchg_guest(&self, gpa: u64, old: u64, new: u64, width: u32) -> Result<bool> {
        let (hva, n) = self
            .inner
            .lock()
            .memory
            .backing(gpa, width as usize, true)?;
        if n != width as usize {
            return Err(EFAULT);
        }
        // SAFETY: a user address of the VMM's; the C side checks it with
        // access_ok() and handles faults.
        match unsafe { glue::rv_cmpxchg_user(hva, old, new, width as _) } {
            0 => Ok(true),
            1 => Ok(false),
            _ => Err(EFAULT),
        }
    }

    /// Calls `copy(hva, offset, n)` for each run of the `len` bytes at
    /// `gpa` that one slot backs; `copy` returns the bytes it could not
    /// copy, as `copy_{from,to}_user()`.
    fn copy_guest(
        &self,
        gpa: u64,
        len: usize,
        write: bool,
        mut copy: impl FnMut(u64, usize, usize) -> kernel::ffi::c_ulong,
    ) -> Result {
        let mut done = 0;
        while done < len {
            let at = gpa.wrapping_add(done as u64);
            // The lock is dropped before copying, which may fault.
            let (hva, n) = self.inner.lock().memory.backing(at, len - done, write)?;
            if copy(hva, done, n) != 0 {
                return Err(EFAULT);
            }
            done += n;
        }
        Ok(())
    }

    /// The MMU notifier's `invalidate_range_start` for the VMM's addresses
    /// `[start, end)`: the guest pages they back are unmapped, every CPU's
    /// translations of them flushed and the entries zeroed before this
    /// returns (so before the VMM's pages can be freed or replaced), and
    /// none is mapped again until [`Vm::mm_invalidate_end`]. Sleeps only
    /// if `may_block` (the notifier's `mmu_notifier_range_blockable()`).
    fn mm_invalidate_start(&self, start: u64, end: u64, may_block: bool) {
        let ranges = self.inner.lock().memory.invalidate_start(start, end);
        self.zap(ranges.as_slice(), may_block);
    }

    /// The MMU notifier's `invalidate_range_end`.
    fn mm_invalidate_end(&self) {
        self.inner.lock().memory.invalidate_end();
    }

    /// The four PDPTEs of the PAE page-directory-pointer table CR3 `cr3`
    /// points at, as the processor loads them when PAE paging starts, if
    /// they can be loaded: `None` if no slot backs them or a present one
    /// has a reserved bit for `maxphyaddr` (KVM's load_pdptrs()).
    pub(crate) fn load_pdptes(&self, cr3: u64, maxphyaddr: u8) -> Option<[u64; 4]> {
        let mut raw = [0u8; 32];
        // All of CR3, as KVM's load_pdptrs(): bits 63:32 too.
        self.read_guest(cr3 & !0x1f, &mut raw).ok()?;
        let mut p = [0u64; 4];
        for (entry, bytes) in p.iter_mut().zip(raw.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(bytes);
            *entry = u64::from_le_bytes(b);
        }
        crate::cr::valid_pdptes(&p, maxphyaddr).then_some(p)
    }

    /// `KVM_CREATE_VCPU`: `EINVAL` for an id out of range, `EEXIST` for a
    /// used one.
    fn create_vcpu(self: &Arc<Self>, id: u64) -> Result<isize> {
        if id >= MAX_VCPUS as u64 {
            return Err(EINVAL);
        }
        let bit = 1u32 << id;
        {
            let mut inner = self.inner.lock();
            if inner.vcpu_ids & bit != 0 {
                return Err(EEXIST);
            }
            inner.vcpu_ids |= bit;
        }
        let result = Vcpu::new(self.clone(), id as u32).and_then(crate::fd::vcpu_fd);
        if result.is_err() {
            self.inner.lock().vcpu_ids &= !bit;
        }
        result
    }

    fn ioctl(self: &Arc<Self>, cmd: u32, arg: u64) -> Result<isize> {
        match cmd {
            uapi::KVM_CREATE_VCPU => self.create_vcpu(arg),
            uapi::KVM_SET_USER_MEMORY_REGION => self.set_memory_region(arg),
            uapi::KVM_CHECK_EXTENSION => Ok(kvm_abi::check_extension(arg)),
            uapi::KVM_SET_TSS_ADDR => {
                // Unrestricted guest needs no real-mode TSS: the address is
                // only checked, as KVM does.
                if arg > TSS_ADDR_MAX {
                    return Err(EINVAL);
                }
                Ok(0)
            }
            uapi::KVM_SET_IDENTITY_MAP_ADDR => {
                // Only needed for shadow paging, which rvisor never uses;
                // accepted under KVM's rules.
                let _addr: u64 = user_copy::read(arg)?;
                if self.inner.lock().vcpu_ids != 0 {
                    return Err(EEXIST);
                }
                Ok(0)
            }
            uapi::KVM_SET_GSI_ROUTING => {
                // The header is read first (EFAULT), then refused: there
                // is no in-kernel irqchip to route to (KVM's
                // kvm_arch_can_set_irq_routing()).
                let _header: [u32; 2] = user_copy::read(arg)?;
                Err(EINVAL)
            }
            _ => Err(ENOTTY),
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Vm {
    fn drop(self: Pin<&mut Self>) {
        // First, so that no notifier callback can run on a VM being torn
        // down (unregistration waits for those running).
        self.notifier.unregister();
        // No vCPU is left (each holds a reference). Drop every CPU's cached
        // translations of this EPT before the tables and pinned pages are
        // freed, so that a later VM reusing the root page starts clean.
        // SAFETY: runs INVEPT on every online CPU, all in VMX operation.
        unsafe { glue::rv_on_each_cpu_invept_all() };
    }
}

/// Called on every CPU by [`glue::rv_on_each_cpu_invept_all`].
#[no_mangle]
extern "C" fn rvisor_invept_all_this_cpu() {
    if crate::vmx_root::this_cpu_in_vmx() {
        let _ = vmx_insn::invept_all();
    }
}

/// # Safety
///
/// `vm` is the VM a registered [`MmNotifier`] was given: valid until the
/// notifier is unregistered, which waits for this call to return.
#[no_mangle]
unsafe extern "C" fn rvisor_mm_invalidate_start(
    vm: *mut c_void,
    start: c_ulong,
    end: c_ulong,
    may_block: bool,
) {
    // SAFETY: valid as the caller guarantees; only shared access.
    let vm = unsafe { &*(vm as *const Vm) };
    vm.mm_invalidate_start(start as u64, end as u64, may_block);
}

/// # Safety
///
/// As for [`rvisor_mm_invalidate_start`].
#[no_mangle]
unsafe extern "C" fn rvisor_mm_invalidate_end(vm: *mut c_void) {
    // SAFETY: valid as the caller guarantees; only shared access.
    let vm = unsafe { &*(vm as *const Vm) };
    vm.mm_invalidate_end();
}

/// # Safety
///
/// `vm` is the `private_data` of a VM file: a pointer from
/// `Arc::into_raw`, valid until `rvisor_vm_release`.
#[no_mangle]
unsafe extern "C" fn rvisor_vm_ioctl(vm: *mut c_void, cmd: c_uint, arg: c_ulong) -> c_long {
    // SAFETY: the file holds the reference until release, which cannot run
    // during an ioctl on it.
    let vm = unsafe { kernel::sync::ArcBorrow::from_raw(vm as *const Vm) };
    let vm: Arc<Vm> = vm.into();
    if !vm.serves_caller() {
        return EIO.to_errno() as c_long;
    }
    match vm.ioctl(cmd, arg as u64) {
        Ok(v) => v as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}

/// # Safety
///
/// As for [`rvisor_vm_ioctl`]; called once, when the file is released.
#[no_mangle]
unsafe extern "C" fn rvisor_vm_release(vm: *mut c_void) {
    // SAFETY: the reference the file held, given back once.
    drop(unsafe { Arc::from_raw(vm as *const Vm) });
}
