// SPDX-License-Identifier: GPL-2.0

//! The guest's x87/SSE/AVX state and XCR0.
//!
//! VM entry and exit do not switch FPU registers. The run loop brackets
//! each guest section with `kernel_fpu_begin()` (which saves the user
//! task's registers, to be restored on return to user space), loads the
//! guest's state with XRSTOR (FXRSTOR without XSAVE), and saves it back
//! before `kernel_fpu_end()`. The guest's XCR0 is switched with it.

use crate::fpu;
use crate::glue;
use crate::uapi::KvmFpu;
use core::arch::asm;
use kernel::page::Page;
use kernel::prelude::*;

/// XCR0 bits a guest may enable: x87, SSE, AVX (the state the area holds).
pub(crate) const XCR0_GUEST_MAX: u64 = 0x7;
/// XCR0.X87, always set.
pub(crate) const XCR0_X87: u64 = 1;
const XCR0_SSE: u64 = 2;
/// XCR0.AVX: the upper halves of YMM0-15.
pub(crate) const XCR0_AVX: u64 = 4;

/// Saved FPU state of one vCPU.
pub(crate) struct GuestFpu {
    /// XSAVE area (page-aligned, so 64-byte aligned; x87+SSE+AVX needs
    /// 832 bytes).
    area: Page,
    /// The guest's XCR0.
    xcr0: u64,
    /// The host's XCR0, read at each section start.
    host_xcr0: u64,
    /// CPUID.(0DH, 0):EBX for `xcr0`, computed when it changes rather than
    /// at every CPUID exit (each computation is a host CPUID per enabled
    /// component above SSE).
    xsave_size: u32,
    xsave: bool,
}

/// The size of the standard-format XSAVE area for `xcr0`: the legacy
/// area and header (576 bytes), and each enabled state component above
/// SSE at its offset in the host's layout (KVM's
/// `xstate_required_size(xcr0, false)`, CPUID.(0DH, i)).
fn xsave_size(xcr0: u64) -> u32 {
    let mut size = 576;
    for i in 2..63u32 {
        if xcr0 & (1 << i) != 0 {
            let mut r = [0u32; 4];
            // SAFETY: `r` has room for EAX, EBX, ECX, EDX.
            unsafe { glue::rv_cpuid_count(0xd, i, r.as_mut_ptr()) };
            size = size.max(r[1].saturating_add(r[0]));
        }
    }
    size
}

impl GuestFpu {
    /// The reset state: x87 enabled, every register in its init state.
    pub(crate) fn new(xsave: bool) -> Result<Self> {
        let area = Page::alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO)?;
        // FCW and MXCSR as after RESET, for the FXRSTOR path (XRSTOR uses
        // the init state while XSTATE_BV is 0).
        let legacy = fpu::reset_legacy();
        // SAFETY: the legacy region fits in the page, which nothing else
        // uses yet.
        unsafe { area.write_raw(legacy.as_ptr(), 0, legacy.len())? };
        Ok(Self {
            area,
            xcr0: XCR0_X87,
            host_xcr0: 0,
            xsave_size: xsave_size(XCR0_X87),
            xsave,
        })
    }

    /// XSETBV by the guest, inside a section (between [`GuestFpu::load`]
    /// and [`GuestFpu::save`]): whether `value` is a valid XCR0 for it (x87
    /// set, AVX only with SSE, nothing the host lacks or rvisor does not
    /// save). A valid value is loaded at once, as the instruction would.
    pub(crate) fn set_xcr0(&mut self, value: u64) -> bool {
        let valid = self.xsave
            && value & XCR0_X87 != 0
            && (value & XCR0_AVX == 0 || value & XCR0_SSE != 0)
            && value & !(self.host_xcr0 & XCR0_GUEST_MAX) == 0;
        if valid {
            self.xcr0 = value;
            self.xsave_size = xsave_size(value);
            // SAFETY: a subset of the host's XCR0; `save` restores the
            // host's value at the end of the section.
            unsafe { glue::rv_xsetbv0(value) };
        }
        valid
    }

    /// CPUID.(0DH, 0):EBX as the guest's XCR0 makes it: the size of the
    /// XSAVE area for the components it enabled.
    pub(crate) fn xsave_size(&self) -> u32 {
        self.xsave_size
    }

    /// The XCR0 bits a guest may enable on this host.
    pub(crate) fn supported_xcr0() -> u64 {
        // SAFETY: reads a boot CPU feature flag, then XCR0 if enabled.
        unsafe {
            if glue::rv_has_xsave() {
                glue::rv_xgetbv0() & XCR0_GUEST_MAX
            } else {
                0
            }
        }
    }

    /// The legacy region and XSTATE_BV of the save area.
    fn legacy(&self) -> Result<([u8; fpu::LEGACY_SIZE], u64)> {
        let mut legacy = [0u8; fpu::LEGACY_SIZE];
        let mut bv = [0u8; 8];
        // SAFETY: both reads are inside the page; the caller holds the
        // vCPU's state lock, so no section is saving into it meanwhile.
        unsafe {
            self.area.read_raw(legacy.as_mut_ptr(), 0, legacy.len())?;
            self.area
                .read_raw(bv.as_mut_ptr(), fpu::XSTATE_BV_OFFSET, bv.len())?;
        }
        Ok((legacy, u64::from_ne_bytes(bv)))
    }

    /// `KVM_GET_FPU` ([`fpu::get`]).
    pub(crate) fn regs(&self) -> Result<KvmFpu> {
        let (legacy, bv) = self.legacy()?;
        Ok(fpu::get(&legacy, self.xsave.then_some(bv)))
    }

    /// `KVM_SET_FPU` ([`fpu::set`]); with XSAVE, x87 and SSE are marked in
    /// XSTATE_BV so that the next XRSTOR loads them rather than their
    /// init state. Any `f` is safe to load: MXCSR is not taken from it.
    pub(crate) fn set_regs(&mut self, f: &KvmFpu) -> Result {
        let (mut legacy, bv) = self.legacy()?;
        fpu::set(&mut legacy, f);
        let bv = (bv | fpu::XSTATE_FP_SSE).to_ne_bytes();
        // SAFETY: both writes are inside the page; `&mut self` under the
        // vCPU's state lock, so no section is loading from it meanwhile.
        unsafe {
            self.area.write_raw(legacy.as_ptr(), 0, legacy.len())?;
            if self.xsave {
                self.area
                    .write_raw(bv.as_ptr(), fpu::XSTATE_BV_OFFSET, bv.len())?;
            }
        }
        Ok(())
    }

    fn area_ptr(&self) -> *mut u8 {
        // SAFETY: `area` is a valid page.
        unsafe { glue::rv_page_address(self.area.as_ptr()).cast() }
    }

    /// Loads the guest's state into the registers.
    ///
    /// # Safety
    ///
    /// Must be called inside `kernel_fpu_begin()`, with interrupts off,
    /// and be followed by [`GuestFpu::save`] before `kernel_fpu_end()`.
    pub(crate) unsafe fn load(&mut self) {
        let area = self.area_ptr();
        if self.xsave {
            // SAFETY: reads XCR0.
            self.host_xcr0 = unsafe { glue::rv_xgetbv0() };
            let mask = self.components();
            // XRSTOR under the host's XCR0, a superset of the guest's: it
            // restores only components enabled in XCR0 at the time.
            // SAFETY: `area` is a 64-byte aligned XSAVE area holding state
            // saved by `save` (or zeroed: every component in init state).
            unsafe {
                asm!("xrstor64 [{0}]", in(reg) area, in("eax") mask as u32,
                     in("edx") (mask >> 32) as u32, options(nostack));
            }
            if self.xcr0 != self.host_xcr0 {
                // SAFETY: `xcr0` passed `set_xcr0`, a subset of the host's.
                unsafe { glue::rv_xsetbv0(self.xcr0) };
            }
        } else {
            // SAFETY: `area` is a 16-byte aligned 512-byte FXSAVE image.
            unsafe { asm!("fxrstor64 [{0}]", in(reg) area, options(nostack)) };
        }
    }

    /// The state components to save and restore: x87 and SSE always (a
    /// guest uses SSE with CR4.OSFXSR whatever its XCR0 says), and AVX
    /// whenever the host has it, whatever the guest's XCR0: a guest that
    /// enables AVX with XSETBV inside a section uses the registers as they
    /// are, so their upper halves must already be the guest's (its own,
    /// or the init state), never the host task's (KVM swaps the whole
    /// FPU state, `fpu_swap_kvm_fpstate()`).
    fn components(&self) -> u64 {
        XCR0_X87 | XCR0_SSE | (self.host_xcr0 & XCR0_AVX)
    }

    /// Saves the guest's state and restores the host's XCR0.
    ///
    /// # Safety
    ///
    /// Must follow [`GuestFpu::load`] in the same section.
    pub(crate) unsafe fn save(&mut self) {
        let area = self.area_ptr();
        if self.xsave {
            // XSAVE saves only components enabled in XCR0: go back to the
            // host's first (SSE is in it even when not in the guest's).
            if self.xcr0 != self.host_xcr0 {
                // SAFETY: restores the value read in `load`.
                unsafe { glue::rv_xsetbv0(self.host_xcr0) };
            }
            let mask = self.components();
            // SAFETY: as for `load`; XSAVE writes at most the page.
            unsafe {
                asm!("xsave64 [{0}]", in(reg) area, in("eax") mask as u32,
                     in("edx") (mask >> 32) as u32, options(nostack));
            }
        } else {
            // SAFETY: `area` is a 16-byte aligned 512-byte buffer.
            unsafe { asm!("fxsave64 [{0}]", in(reg) area, options(nostack)) };
        }
    }
}
