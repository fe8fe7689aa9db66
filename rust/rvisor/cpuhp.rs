// SPDX-License-Identifier: GPL-2.0

//! Dynamic CPU hotplug states (`cpuhp_setup_state(CPUHP_AP_ONLINE_DYN)`).

use crate::glue;
use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;
use kernel::str::CStr;

/// A registered hotplug state. `startup` runs on every online CPU at
/// registration and on each CPU that comes online later; `teardown` runs on
/// each CPU that goes offline and, when this is dropped, on every online CPU.
/// Both run on the CPU concerned, in process context.
///
/// If `startup` fails on some CPU during registration, the kernel runs
/// `teardown` on the CPUs that succeeded and registration fails.
pub(crate) struct CpuHotplug {
    state: c_int,
}

impl CpuHotplug {
    /// Registers the state `name` with its two callbacks.
    pub(crate) fn setup(
        name: &'static CStr,
        startup: unsafe extern "C" fn(c_uint) -> c_int,
        teardown: unsafe extern "C" fn(c_uint) -> c_int,
    ) -> Result<Self> {
        // SAFETY: `name` is a static C string; the callbacks are valid for
        // the module's lifetime, which outlasts this registration.
        let state = unsafe { glue::rv_cpuhp_setup_dyn(name.as_char_ptr(), startup, teardown) };
        if state < 0 {
            return Err(Error::from_errno(state));
        }
        Ok(Self { state })
    }
}

impl Drop for CpuHotplug {
    fn drop(&mut self) {
        // SAFETY: `state` was returned by a successful setup and is removed once.
        unsafe { glue::rv_cpuhp_remove(self.state) };
    }
}
