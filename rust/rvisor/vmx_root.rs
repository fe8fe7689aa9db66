// SPDX-License-Identifier: GPL-2.0

//! VMX root operation on every online CPU.
//!
//! At load rvisor checks that the processor implements VMX and that the
//! firmware allows it, reads the capability MSRs, and executes VMXON on
//! each online CPU through a CPU hotplug state, so CPUs that come online
//! later enter VMX operation too and CPUs going offline leave it. Dropping
//! [`VmxOperation`] executes VMXOFF everywhere.

use crate::arch;
use crate::caps::{msr, FeatureControl, RawCaps, VmxCaps, MEMORY_TYPE_WB, PROC_ACTIVATE_SECONDARY};
use crate::cpuhp::CpuHotplug;
use crate::global::Global;
use crate::glue;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::c_str;
use kernel::ffi::{c_int, c_uint};
use kernel::page::{Page, PAGE_SIZE};
use kernel::prelude::*;

/// State reached from the hotplug and reboot callbacks.
static ROOT: Global<VmxRoot> = Global::new();

/// What the callbacks need: the capabilities every CPU must match, one
/// VMXON region per possible CPU and which CPUs are in VMX operation.
pub(crate) struct VmxRoot {
    caps: VmxCaps,
    /// VMXON regions, indexed by CPU id.
    vmxon_regions: KVec<Page>,
    /// Whether VMXON succeeded on a CPU, indexed by CPU id.
    in_vmx: KVec<AtomicBool>,
    /// Whether "VMX in use by another hypervisor" was already logged, so
    /// that a refused load logs it once rather than once per CPU.
    busy_logged: AtomicBool,
}

/// `EOPNOTSUPP`, which 6.12's `kernel::error::code` does not declare.
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32))
}

/// Reads this CPU's VMX capability MSRs, skipping those the processor
/// declares absent.
fn read_caps() -> Result<VmxCaps> {
    let basic = arch::rdmsr(msr::VMX_BASIC)?;
    let true_ctls = crate::caps::VmxBasic(basic).true_controls();
    let pick = |plain, with_true| if true_ctls { with_true } else { plain };
    let mut raw = RawCaps {
        basic,
        pinbased: arch::rdmsr(pick(msr::PINBASED_CTLS, msr::TRUE_PINBASED_CTLS))?,
        procbased: arch::rdmsr(pick(msr::PROCBASED_CTLS, msr::TRUE_PROCBASED_CTLS))?,
        exit: arch::rdmsr(pick(msr::EXIT_CTLS, msr::TRUE_EXIT_CTLS))?,
        entry: arch::rdmsr(pick(msr::ENTRY_CTLS, msr::TRUE_ENTRY_CTLS))?,
        misc: arch::rdmsr(msr::MISC)?,
        ..RawCaps::default()
    };
    if (raw.procbased >> 32) as u32 & PROC_ACTIVATE_SECONDARY != 0 {
        raw.procbased2 = arch::rdmsr(msr::PROCBASED_CTLS2)?;
        // EPT_VPID_CAP exists only if EPT or VPID can be enabled.
        let ept_or_vpid = crate::caps::secondary::ENABLE_EPT | crate::caps::secondary::ENABLE_VPID;
        if (raw.procbased2 >> 32) as u32 & ept_or_vpid != 0 {
            raw.ept_vpid = arch::rdmsr(msr::EPT_VPID_CAP)?;
        }
    }
    Ok(VmxCaps::new(raw))
}

/// Checks that this machine can run rvisor and returns its capabilities.
/// Fails with a log line saying why: `ENODEV` without VMX, `EOPNOTSUPP` if
/// the firmware locked VMX off, `EIO` for VMCS requirements rvisor does
/// not meet.
pub(crate) fn probe() -> Result<VmxCaps> {
    if !arch::cpu_has_vmx() {
        pr_err!("VMX is not available: CPUID.1:ECX.VMX is 0 (not an Intel CPU with VT-x, or hidden by the hypervisor below)\n");
        return Err(ENODEV);
    }
    let feature_control = arch::rdmsr(msr::FEATURE_CONTROL)?;
    if FeatureControl::decode(feature_control) == FeatureControl::LockedOff {
        pr_err!(
            "VMX is disabled by the firmware: IA32_FEATURE_CONTROL = {:#x} is locked with VMXON outside SMX off\n",
            feature_control
        );
        return Err(eopnotsupp());
    }
    let caps = read_caps()?;
    let basic = caps.basic();
    if basic.region_size() as usize > PAGE_SIZE || basic.region_size() == 0 {
        pr_err!("unsupported VMCS region size {}\n", basic.region_size());
        return Err(EIO);
    }
    if basic.memory_type() != MEMORY_TYPE_WB {
        pr_err!(
            "unsupported VMCS memory type {} (need write-back)\n",
            basic.memory_type()
        );
        return Err(EIO);
    }
    if basic.phys_addr_32bit() {
        pr_err!("VMX regions limited to 32-bit physical addresses: not supported\n");
        return Err(EIO);
    }
    pr_info!(
        "VMX: VMCS revision {:#x}, {} bytes, EPT {}, VPID {}, unrestricted guest {}\n",
        basic.revision_id(),
        basic.region_size(),
        yes_no(caps.ept()),
        yes_no(caps.vpid()),
        yes_no(caps.unrestricted_guest())
    );
    Ok(caps)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl VmxRoot {
    fn new(caps: VmxCaps) -> Result<Self> {
        let cpus = arch::nr_cpu_ids();
        let mut vmxon_regions = KVec::with_capacity(cpus, GFP_KERNEL)?;
        let mut in_vmx = KVec::with_capacity(cpus, GFP_KERNEL)?;
        let revision = caps.basic().revision_id().to_ne_bytes();
        for _ in 0..cpus {
            let page = Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?;
            // SAFETY: `revision` is 4 readable bytes and the page has room.
            unsafe { page.write_raw(revision.as_ptr(), 0, revision.len())? };
            vmxon_regions.push(page, GFP_KERNEL)?;
            in_vmx.push(AtomicBool::new(false), GFP_KERNEL)?;
        }
        Ok(Self {
            caps,
            vmxon_regions,
            in_vmx,
            busy_logged: AtomicBool::new(false),
        })
    }

    /// The capabilities found at load.
    pub(crate) fn caps(&self) -> &VmxCaps {
        &self.caps
    }

    /// Number of CPU ids, for iterating [`VmxRoot::cpu_in_vmx`].
    pub(crate) fn nr_cpus(&self) -> usize {
        self.in_vmx.len()
    }

    /// Whether `cpu` is in VMX operation under rvisor.
    pub(crate) fn cpu_in_vmx(&self, cpu: usize) -> bool {
        self.in_vmx
            .get(cpu)
            .is_some_and(|b| b.load(Ordering::Acquire))
    }

    /// Enters VMX operation on `cpu`, which must be the current CPU.
    fn enable_this_cpu(&self, cpu: usize) -> Result {
        if cpu != arch::this_cpu() || cpu >= self.nr_cpus() {
            return Err(EINVAL);
        }
        if !arch::cpu_has_vmx() {
            pr_err!("CPU{}: no VMX (CPUID.1:ECX.VMX is 0)\n", cpu);
            return Err(ENODEV);
        }
        if !read_caps()?.compatible_with(&self.caps) {
            pr_err!("CPU{}: VMX capabilities differ from the boot CPU's\n", cpu);
            return Err(EIO);
        }
        if arch::cr4_vmxe() {
            if !self.busy_logged.swap(true, Ordering::Relaxed) {
                pr_err!(
                    "CPU{}: VMX is held by another hypervisor (CR4.VMXE is set); kvm_intel holds it while loaded (unless kvm.enable_virt_at_load=0): unload it first\n",
                    cpu
                );
            }
            return Err(EBUSY);
        }
        let feature_control = arch::rdmsr(msr::FEATURE_CONTROL)?;
        match FeatureControl::decode(feature_control) {
            FeatureControl::Enabled => {}
            FeatureControl::Unlocked => {
                arch::wrmsr(
                    msr::FEATURE_CONTROL,
                    FeatureControl::enable_and_lock(feature_control),
                )?;
                pr_info!(
                    "CPU{}: enabled and locked VMX in IA32_FEATURE_CONTROL\n",
                    cpu
                );
            }
            FeatureControl::LockedOff => {
                pr_err!(
                    "CPU{}: VMX is locked off in IA32_FEATURE_CONTROL ({:#x})\n",
                    cpu,
                    feature_control
                );
                return Err(eopnotsupp());
            }
        }
        // SAFETY: the page is owned by `self` and lives until after VMXOFF
        // on this CPU (the hotplug state is removed before `self` is freed).
        let phys = unsafe { glue::rv_page_to_phys(self.vmxon_regions[cpu].as_ptr()) };
        arch::set_cr4_vmxe();
        // SAFETY: `phys` is this CPU's page-aligned VMXON region holding the
        // revision id, kept until VMXOFF; hotplug callbacks run pinned to
        // the CPU; CR4.VMXE was just set.
        if let Err(e) = unsafe { arch::vmxon(phys) } {
            arch::clear_cr4_vmxe();
            pr_err!("CPU{}: VMXON failed ({:?})\n", cpu, e);
            return Err(e);
        }
        self.in_vmx[cpu].store(true, Ordering::Release);
        pr_info!("CPU{}: VMXON done, in VMX root operation\n", cpu);
        Ok(())
    }

    /// Leaves VMX operation on the current CPU if rvisor entered it.
    fn disable_this_cpu(&self, cpu: usize) {
        if !self.cpu_in_vmx(cpu) {
            return;
        }
        if let Err(e) = arch::vmxoff() {
            pr_err!("CPU{}: VMXOFF failed ({:?})\n", cpu, e);
        }
        arch::clear_cr4_vmxe();
        self.in_vmx[cpu].store(false, Ordering::Release);
        pr_info!("CPU{}: VMXOFF done\n", cpu);
    }
}

/// Hotplug `startup` callback: VMXON on `cpu`, the CPU it runs on.
extern "C" fn vmx_cpu_online(cpu: c_uint) -> c_int {
    // SAFETY: the hotplug state is removed before `ROOT` is taken.
    let Some(root) = (unsafe { ROOT.get() }) else {
        return EINVAL.to_errno();
    };
    match root.enable_this_cpu(cpu as usize) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Hotplug `teardown` callback: VMXOFF on `cpu`, the CPU it runs on.
extern "C" fn vmx_cpu_offline(cpu: c_uint) -> c_int {
    // SAFETY: the hotplug state is removed before `ROOT` is taken.
    if let Some(root) = unsafe { ROOT.get() } {
        root.disable_this_cpu(cpu as usize);
    }
    0
}

/// Called at reboot and kexec with interrupts off, on every CPU: leave
/// VMX so that INIT works for the next kernel. Logs nothing (the console
/// may be going away).
extern "C" fn vmx_reboot_disable() {
    // SAFETY: the notifier is unregistered before `ROOT` is taken.
    if let Some(root) = unsafe { ROOT.get() } {
        let cpu = arch::this_cpu();
        if root.cpu_in_vmx(cpu) {
            let _ = arch::vmxoff();
            arch::clear_cr4_vmxe();
            root.in_vmx[cpu].store(false, Ordering::Release);
        }
    }
}

/// VMX operation on all online CPUs, for as long as this value lives.
pub(crate) struct VmxOperation {
    hotplug: Option<CpuHotplug>,
    reboot_hook: bool,
}

impl VmxOperation {
    /// Executes VMXON on every online CPU (and on CPUs that come online
    /// later). On failure no CPU is left in VMX operation.
    pub(crate) fn start(caps: VmxCaps) -> Result<Self> {
        ROOT.publish(KBox::new(VmxRoot::new(caps)?, GFP_KERNEL)?)?;
        // From here on, dropping `op` undoes whatever was done.
        let mut op = Self {
            hotplug: None,
            reboot_hook: false,
        };
        op.hotplug = Some(CpuHotplug::setup(
            c_str!("rvisor/vmx:online"),
            vmx_cpu_online,
            vmx_cpu_offline,
        )?);
        // SAFETY: the callback is valid until unregistered in `drop`.
        unsafe { glue::rv_reboot_register(vmx_reboot_disable) };
        op.reboot_hook = true;
        Ok(op)
    }
}

/// The VMX state while a [`VmxOperation`] lives.
///
/// # Safety
///
/// The caller must be a callback that cannot run once the
/// [`VmxOperation`] is dropped (e.g. a sysfs attribute of a device that is
/// deregistered first).
pub(crate) unsafe fn published() -> Option<&'static VmxRoot> {
    // SAFETY: guaranteed by the caller.
    unsafe { ROOT.get() }
}

impl Drop for VmxOperation {
    fn drop(&mut self) {
        // VMXOFF on every online CPU.
        drop(self.hotplug.take());
        if self.reboot_hook {
            // SAFETY: registered in `start`; the notifier chain's lock
            // makes sure no call is running afterwards.
            unsafe { glue::rv_reboot_unregister() };
        }
        drop(ROOT.take());
    }
}

/// Whether the CPU this runs on is in VMX operation under rvisor; the
/// caller must not migrate while it relies on the answer.
pub(crate) fn this_cpu_in_vmx() -> bool {
    // SAFETY: VM code runs only while the module (and so the VMX
    // operation) is alive: every VM file holds a module reference.
    match unsafe { ROOT.get() } {
        Some(root) => root.cpu_in_vmx(arch::this_cpu()),
        None => false,
    }
}

/// The VMX capabilities found at load.
pub(crate) fn caps() -> Option<VmxCaps> {
    // SAFETY: as for `this_cpu_in_vmx`.
    unsafe { ROOT.get() }.map(|root| *root.caps())
}
