// SPDX-License-Identifier: GPL-2.0

//! VM and vCPU file descriptors (anonymous inodes, as KVM's).
//!
//! The file's `private_data` is an `Arc` turned into a raw pointer; the
//! file's release gives the reference back (see `rvisor_vm_release` and
//! `rvisor_vcpu_release`).

use crate::glue;
use crate::vcpu::Vcpu;
use crate::vm::Vm;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Installs a new VM file holding `vm`; returns the fd.
pub(crate) fn vm_fd(vm: Arc<Vm>) -> Result<isize> {
    let raw = Arc::into_raw(vm);
    // SAFETY: `raw` is a reference the file owns from now on; the release
    // hook gives it back.
    let fd = unsafe { glue::rv_vm_fd(raw as *mut _) };
    if fd < 0 {
        // SAFETY: no file was created, so the reference is still ours.
        drop(unsafe { Arc::from_raw(raw) });
        return Err(Error::from_errno(fd));
    }
    Ok(fd as isize)
}

/// Installs a new vCPU file holding `vcpu`; returns the fd.
pub(crate) fn vcpu_fd(vcpu: Arc<Vcpu>) -> Result<isize> {
    let raw = Arc::into_raw(vcpu);
    // SAFETY: as for `vm_fd`.
    let fd = unsafe { glue::rv_vcpu_fd(raw as *mut _) };
    if fd < 0 {
        // SAFETY: as for `vm_fd`.
        drop(unsafe { Arc::from_raw(raw) });
        return Err(Error::from_errno(fd));
    }
    Ok(fd as isize)
}
