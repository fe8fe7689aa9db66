// SPDX-License-Identifier: GPL-2.0

//! The part of the KVM ioctl ABI (`<linux/kvm.h>`) that `/dev/rvisor`
//! answers. Numbers are KVM's, so KVM clients work unchanged.

use kernel::ioctl::_IO;

/// The KVM ioctl type byte.
const KVMIO: u32 = 0xae;

/// The API version every KVM since 2.6.22 reports; clients refuse others.
pub(crate) const KVM_API_VERSION: isize = 12;

/// `KVM_GET_API_VERSION`: returns [`KVM_API_VERSION`]; the argument must be 0.
pub(crate) const KVM_GET_API_VERSION: u32 = _IO(KVMIO, 0x00);

/// `KVM_CHECK_EXTENSION`: argument a `KVM_CAP_*` number, returns 0 when
/// the capability is absent, else a positive value.
pub(crate) const KVM_CHECK_EXTENSION: u32 = _IO(KVMIO, 0x03);

/// The answer to `KVM_CHECK_EXTENSION(cap)`. rvisor reports only what it
/// implements, and it implements no optional capability yet.
pub(crate) fn check_extension(_cap: usize) -> isize {
    0
}
