// SPDX-License-Identifier: GPL-2.0

//! A vCPU's VMCS region and the guard under which it is current.
//!
//! rvisor keeps a VMCS active on a CPU only inside a non-preemptible
//! section ([`LoadedVmcs`]): VMPTRLD at its start, VMCLEAR at its end. So
//! a VMCS is never left active on a CPU the task has moved away from, on a
//! CPU going offline, or at unload, and no cross-CPU VMCLEAR is needed.
//! The cost is one VMPTRLD/VMCLEAR pair and the host-state writes per
//! section, which are few: the run loop handles in-kernel exits without
//! leaving the section.

use crate::arch;
use crate::glue;
use crate::vmx_insn;
use core::marker::PhantomData;
use kernel::page::Page;
use kernel::prelude::*;

/// The memory of one VMCS.
///
/// It is never active when dropped (guards borrow it mutably and VMCLEAR
/// it), so its page can simply be freed.
pub(crate) struct VmcsRegion {
    _page: Page,
    phys: u64,
}

impl VmcsRegion {
    /// Allocates a zeroed VMCS region stamped with `revision`.
    pub(crate) fn new(revision: u32) -> Result<Self> {
        let page = Page::alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO)?;
        let rev = revision.to_ne_bytes();
        // SAFETY: `rev` is 4 readable bytes and the page has room.
        unsafe { page.write_raw(rev.as_ptr(), 0, rev.len())? };
        // SAFETY: `page` is a valid page we own.
        let phys = unsafe { glue::rv_page_to_phys(page.as_ptr()) };
        Ok(Self { _page: page, phys })
    }

    /// Makes this VMCS current on this CPU for the life of the returned
    /// guard. `NoPreempt` proves the caller cannot migrate meanwhile.
    pub(crate) fn load<'a>(&'a mut self, _np: &'a NoPreempt) -> Result<LoadedVmcs<'a>> {
        if !crate::vmx_root::this_cpu_in_vmx() {
            return Err(EIO);
        }
        // SAFETY: the region is ours, stamped with the revision id, and not
        // active anywhere (every guard VMCLEARs it); preemption is off and
        // this CPU is in VMX operation.
        unsafe { vmx_insn::vmptrld(self.phys)? };
        // SAFETY: preemption is off (`_np`); IBPB if this CPU last ran
        // another VMCS.
        unsafe { glue::rv_vmcs_switch(self.phys) };
        Ok(LoadedVmcs {
            phys: self.phys,
            _region: PhantomData,
        })
    }
}

impl Drop for VmcsRegion {
    fn drop(&mut self) {
        // SAFETY: only compares and clears per-CPU records of this address,
        // so that a VMCS allocated there later still gets its IBPB.
        unsafe { glue::rv_vmcs_forget(self.phys) };
    }
}

/// Proof that preemption is disabled on this CPU, for the life of the
/// value.
pub(crate) struct NoPreempt {
    // Not Send: it must be dropped on the CPU it was created on.
    _not_send: PhantomData<*mut ()>,
}

impl NoPreempt {
    /// Disables preemption until the value is dropped.
    pub(crate) fn new() -> Self {
        // SAFETY: paired with the enable in `drop`.
        unsafe { glue::rv_preempt_disable() };
        Self {
            _not_send: PhantomData,
        }
    }

    /// The CPU this section runs on.
    pub(crate) fn cpu(&self) -> usize {
        arch::this_cpu()
    }
}

impl Drop for NoPreempt {
    fn drop(&mut self) {
        // SAFETY: paired with the disable in `new`.
        unsafe { glue::rv_preempt_enable() };
    }
}

/// A VMCS current on this CPU. Field accesses go to it; dropping the guard
/// executes VMCLEAR.
pub(crate) struct LoadedVmcs<'a> {
    phys: u64,
    _region: PhantomData<&'a mut VmcsRegion>,
}

impl LoadedVmcs<'_> {
    /// Reads a field.
    pub(crate) fn read(&self, field: u32) -> u64 {
        // SAFETY: this VMCS is current (guard invariant). A failed read
        // (unsupported field) yields 0, which the callers treat as unset.
        unsafe { vmx_insn::vmread(field) }.unwrap_or(0)
    }

    /// Reads a 32-bit field.
    pub(crate) fn read32(&self, field: u32) -> u32 {
        self.read(field) as u32
    }

    /// Writes a field; `EIO` if the processor refuses it (unsupported
    /// field or a read-only one).
    pub(crate) fn write(&mut self, field: u32, value: u64) -> Result {
        // SAFETY: this VMCS is current (guard invariant); the fields rvisor
        // writes are chosen by its own code, never by user space directly.
        unsafe { vmx_insn::vmwrite(field, value) }
    }
}

impl Drop for LoadedVmcs<'_> {
    fn drop(&mut self) {
        // SAFETY: the region outlives the guard and is current here.
        if unsafe { vmx_insn::vmclear(self.phys) }.is_err() {
            pr_err!("VMCLEAR failed\n");
        }
    }
}
