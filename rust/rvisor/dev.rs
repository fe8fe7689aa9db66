// SPDX-License-Identifier: GPL-2.0

//! `/dev/rvisor`: the KVM system-fd ioctls and the VMX capability report in
//! `/sys/class/misc/rvisor/vmx/`.

use crate::cpulist::write_cpulist;
use crate::glue;
use crate::sysfs_buf::SysfsBuf;
use crate::vcpu::write_cpuid2;
use crate::vm::Vm;
use crate::vmx_root::{VmxOperation, VmxRoot};
use crate::{cpuid, fd, guest_msrs, kvm_abi, uapi, user_copy};
use core::fmt::Write;
use kernel::ffi::{c_char, c_long, c_uint, c_ulong};
use kernel::prelude::*;
use kernel::str::CStr;

/// The misc device registration. The device's sysfs attributes read the
/// VMX state, so the registration must not outlive the [`VmxOperation`]
/// it was created with: [`Registration::new`] borrows it for that reason,
/// and the module drops the registration first.
pub(crate) struct Registration(());

impl Registration {
    /// Creates `/dev/rvisor`.
    pub(crate) fn new(_vmx: &VmxOperation) -> Result<Self> {
        // SAFETY: registers the static misc device defined in glue.c once;
        // `drop` deregisters it.
        kernel::error::to_result(unsafe { glue::rv_misc_register() })?;
        Ok(Self(()))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: registered in `new`. Deregistration removes the sysfs
        // attributes and waits for running `show` calls.
        unsafe { glue::rv_misc_deregister() };
    }
}

/// Dispatches one ioctl on a `/dev/rvisor` file.
fn ioctl(cmd: u32, arg: u64) -> Result<isize> {
    match cmd {
        uapi::KVM_GET_API_VERSION if arg != 0 => Err(EINVAL),
        uapi::KVM_GET_API_VERSION => Ok(kvm_abi::KVM_API_VERSION),
        uapi::KVM_CHECK_EXTENSION => Ok(kvm_abi::check_extension(arg)),
        uapi::KVM_GET_VCPU_MMAP_SIZE if arg != 0 => Err(EINVAL),
        uapi::KVM_GET_VCPU_MMAP_SIZE => {
            Ok((uapi::VCPU_MMAP_PAGES * kernel::page::PAGE_SIZE) as isize)
        }
        // Machine type 0 (KVM_X86_DEFAULT_VM) is the only one.
        uapi::KVM_CREATE_VM if arg != 0 => Err(EINVAL),
        uapi::KVM_CREATE_VM => fd::vm_fd(Vm::new()?),
        uapi::KVM_GET_SUPPORTED_CPUID => write_cpuid2(arg, &cpuid::supported()?),
        uapi::KVM_GET_MSR_INDEX_LIST => msr_index_list(arg),
        uapi::KVM_X86_GET_MCE_CAP_SUPPORTED => {
            user_copy::write(arg, &crate::msrs::MCE_CAP_SUPPORTED)?;
            Ok(0)
        }
        _ => Err(ENOTTY),
    }
}

/// `KVM_GET_MSR_INDEX_LIST`: `E2BIG` (with `nmsrs` set) if the caller's
/// array is too small.
fn msr_index_list(arg: u64) -> Result<isize> {
    let mut hdr: uapi::KvmMsrList = user_copy::read(arg)?;
    let room = hdr.nmsrs as usize;
    let list = Iterator::chain(guest_msrs::SUPPORTED.iter(), crate::msrs::LISTED.iter());
    let n = guest_msrs::SUPPORTED.len() + crate::msrs::LISTED.len();
    hdr.nmsrs = n as u32;
    user_copy::write(arg, &hdr)?;
    if room < n {
        return Err(E2BIG);
    }
    let base = user_copy::element::<uapi::KvmMsrList>(arg, 1)?;
    for (i, index) in list.enumerate() {
        user_copy::write(user_copy::element::<u32>(base, i)?, index)?;
    }
    Ok(0)
}

#[no_mangle]
extern "C" fn rvisor_dev_ioctl(cmd: c_uint, arg: c_ulong) -> c_long {
    match ioctl(cmd, arg as u64) {
        Ok(val) => val as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}

/// Formats the attribute `name` of `/sys/class/misc/rvisor/vmx/`.
fn show(root: &VmxRoot, name: &[u8], out: &mut SysfsBuf<'_>) -> Result {
    let caps = root.caps();
    let flag = |b: bool| u8::from(b);
    let written = match name {
        b"revision_id" => writeln!(out, "{:#x}", caps.basic().revision_id()),
        b"vmcs_size" => writeln!(out, "{}", caps.basic().region_size()),
        b"ept" => writeln!(out, "{}", flag(caps.ept())),
        b"vpid" => writeln!(out, "{}", flag(caps.vpid())),
        b"unrestricted_guest" => writeln!(out, "{}", flag(caps.unrestricted_guest())),
        b"l1d_flush" => {
            // SAFETY: returns a static NUL-terminated string.
            let mode = unsafe { CStr::from_char_ptr(glue::rv_l1d_flush_mode()) };
            writeln!(out, "{}", mode.to_str().unwrap_or("?"))
        }
        b"cpus" => write_cpulist(out, root.nr_cpus(), |cpu| root.cpu_in_vmx(cpu))
            .and_then(|()| out.write_str("\n")),
        _ => return Err(ENOENT),
    };
    // A value that does not fit a page is a bug; report it, do not truncate.
    written.map_err(|_| EINVAL)
}

/// # Safety
///
/// Called by the sysfs `show` thunk in glue.c: `name` is the attribute's
/// name and `buf` its `PAGE_SIZE` buffer.
#[no_mangle]
unsafe extern "C" fn rvisor_attr_show(name: *const c_char, buf: *mut u8) -> isize {
    // SAFETY: the attributes only exist while the misc device is
    // registered, which is within the life of the VMX operation.
    let Some(root) = (unsafe { crate::vmx_root::published() }) else {
        return ENODEV.to_errno() as isize;
    };
    // SAFETY: `name` is the NUL-terminated static name of the attribute.
    let name = unsafe { CStr::from_char_ptr(name) };
    // SAFETY: sysfs passes a PAGE_SIZE buffer owned by this call.
    let mut out = unsafe { SysfsBuf::from_raw(buf) };
    match show(root, name.as_bytes(), &mut out) {
        Ok(()) => out.len() as isize,
        Err(e) => e.to_errno() as isize,
    }
}
