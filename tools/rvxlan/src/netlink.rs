// SPDX-License-Identifier: GPL-2.0

//! A minimal rtnetlink client: build one request, send it, read the
//! replies (with the kernel's extended-ack message on errors).

use std::io;

/// `struct nlmsghdr` length.
const NLMSG_HDRLEN: usize = 16;
const NETLINK_EXT_ACK: libc::c_int = 11;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLM_F_ACK_TLVS: u16 = 0x200;

/// Rounds up to netlink's 4-byte alignment.
pub(crate) fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// A request being built: header, fixed part, attributes.
pub(crate) struct Message {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

impl Message {
    /// A request of type `ty` with `flags` (NLM_F_REQUEST is added) and
    /// the fixed part `fixed` (e.g. `struct ifinfomsg`).
    pub(crate) fn new(ty: u16, flags: u16, fixed: &[u8]) -> Self {
        let mut buf = vec![0; NLMSG_HDRLEN];
        buf[4..6].copy_from_slice(&ty.to_ne_bytes());
        buf[6..8].copy_from_slice(&(flags | libc::NLM_F_REQUEST as u16).to_ne_bytes());
        buf.extend_from_slice(fixed);
        buf.resize(align(buf.len()), 0);
        Self {
            buf,
            nests: Vec::new(),
        }
    }

    /// Appends an attribute.
    pub(crate) fn attr(&mut self, ty: u16, data: &[u8]) -> &mut Self {
        let len = 4 + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align(self.buf.len()), 0);
        self
    }

    /// Opens a nested attribute; close it with [`Message::end`].
    pub(crate) fn begin(&mut self, ty: u16) -> &mut Self {
        self.nests.push(self.buf.len());
        self.attr(ty | libc::NLA_F_NESTED as u16, &[])
    }

    /// Closes the innermost nested attribute.
    pub(crate) fn end(&mut self) -> &mut Self {
        let start = self.nests.pop().expect("end without begin");
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    /// The bytes so far (tests).
    #[cfg(test)]
    pub(crate) fn bytes_for_test(&mut self) -> &[u8] {
        self.finish(0)
    }

    fn finish(&mut self, seq: u32) -> &[u8] {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        &self.buf
    }
}

/// One reply message: type and payload (after the header).
pub(crate) struct Reply {
    /// `nlmsg_type`.
    pub ty: u16,
    /// Everything after `struct nlmsghdr`.
    pub payload: Vec<u8>,
}

/// An `NETLINK_ROUTE` socket.
pub(crate) struct Socket {
    fd: libc::c_int,
    seq: u32,
}

/// Attributes in `data`, as (type without flags, payload).
pub(crate) fn attrs(mut data: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if data.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([data[0], data[1]]) as usize;
        let ty = u16::from_ne_bytes([data[2], data[3]]) & 0x3fff;
        if len < 4 || len > data.len() {
            return None;
        }
        let payload = &data[4..len];
        data = &data[align(len).min(data.len())..];
        Some((ty, payload))
    })
}

impl Socket {
    /// Opens the socket, asking for extended acks.
    pub(crate) fn open() -> io::Result<Self> {
        // SAFETY: socket(2) takes no pointers; the descriptor it returns
        // is checked below and owned by the `Socket` from then on.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let one: libc::c_int = 1;
        // SAFETY: valid option pointer and length. Failure only loses the
        // kernel's messages.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_NETLINK,
                NETLINK_EXT_ACK,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        Ok(Self { fd, seq: 1 })
    }

    /// Sends `msg` and collects the replies until the ack (or the end of
    /// a dump). A kernel error becomes an `io::Error` carrying the
    /// kernel's message when there is one.
    pub(crate) fn request(&mut self, msg: &mut Message) -> io::Result<Vec<Reply>> {
        self.seq += 1;
        let seq = self.seq;
        let buf = msg.finish(seq);
        // SAFETY: `buf` is valid for its length; the kernel is the peer.
        let n = unsafe {
            let mut addr: libc::sockaddr_nl = std::mem::zeroed();
            addr.nl_family = libc::AF_NETLINK as u16;
            libc::sendto(
                self.fd,
                buf.as_ptr().cast(),
                buf.len(),
                0,
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut replies = Vec::new();
        let mut rbuf = vec![0u8; 1 << 16];
        loop {
            // SAFETY: `rbuf` is valid for its length.
            let n = unsafe { libc::recv(self.fd, rbuf.as_mut_ptr().cast(), rbuf.len(), 0) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let mut data = &rbuf[..n as usize];
            while data.len() >= NLMSG_HDRLEN {
                let len = u32::from_ne_bytes(data[0..4].try_into().unwrap()) as usize;
                let ty = u16::from_ne_bytes([data[4], data[5]]);
                let flags = u16::from_ne_bytes([data[6], data[7]]);
                let rseq = u32::from_ne_bytes(data[8..12].try_into().unwrap());
                if len < NLMSG_HDRLEN || len > data.len() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "truncated netlink reply",
                    ));
                }
                let payload = &data[NLMSG_HDRLEN..len];
                data = &data[align(len).min(data.len())..];
                if rseq != seq {
                    continue;
                }
                match ty as libc::c_int {
                    libc::NLMSG_DONE => return Ok(replies),
                    libc::NLMSG_ERROR => {
                        let errno = -i32::from_ne_bytes(payload[0..4].try_into().unwrap());
                        if errno == 0 {
                            return Ok(replies);
                        }
                        return Err(kernel_error(errno, flags, payload));
                    }
                    _ => replies.push(Reply {
                        ty,
                        payload: payload.to_vec(),
                    }),
                }
            }
        }
    }
}

/// The error of an `NLMSG_ERROR`, with the extended ack's message.
fn kernel_error(errno: i32, flags: u16, payload: &[u8]) -> io::Error {
    let os = io::Error::from_raw_os_error(errno);
    if flags & NLM_F_ACK_TLVS != 0 && payload.len() >= 4 + NLMSG_HDRLEN {
        // After the error code: the request's header (capped acks send
        // only the header), then the TLVs.
        let orig_len = u32::from_ne_bytes(payload[4..8].try_into().unwrap()) as usize;
        let capped = flags & 0x100 != 0; // NLM_F_CAPPED
        let skip = 4 + if capped {
            NLMSG_HDRLEN
        } else {
            align(orig_len)
        };
        if let Some(tlvs) = payload.get(skip..) {
            for (ty, v) in attrs(tlvs) {
                if ty == NLMSGERR_ATTR_MSG {
                    let text = String::from_utf8_lossy(v.split(|b| *b == 0).next().unwrap_or(&[]))
                        .into_owned();
                    return io::Error::new(os.kind(), format!("{text} ({os})"));
                }
            }
        }
    }
    os
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: `self.fd` is the descriptor `open` created, owned by this
        // `Socket` alone and closed only here.
        unsafe { libc::close(self.fd) };
    }
}
