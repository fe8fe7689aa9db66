// SPDX-License-Identifier: GPL-2.0

//! Formatting into the page that sysfs hands to a `show` callback.

use core::fmt;
use kernel::page::PAGE_SIZE;

/// A [`fmt::Write`] over the `PAGE_SIZE` buffer of a sysfs `show`
/// callback. Output that does not fit is an error, never a silent cut.
pub(crate) struct SysfsBuf<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl SysfsBuf<'_> {
    /// Wraps the buffer sysfs passed to `show`.
    ///
    /// # Safety
    ///
    /// `buf` must be valid for writes of `PAGE_SIZE` bytes and not be
    /// accessed otherwise for the lifetime of the result.
    pub(crate) unsafe fn from_raw(buf: *mut u8) -> Self {
        // SAFETY: guaranteed by the caller.
        let buf = unsafe { core::slice::from_raw_parts_mut(buf, PAGE_SIZE) };
        Self { buf, len: 0 }
    }

    /// Bytes written so far: the return value of `show`.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl fmt::Write for SysfsBuf<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
