//! The instance's standard input, output and error: host file descriptors inherited from
//! `veil run`'s caller (a terminal, a pipe or a file). Reads and writes go straight to the host
//! fd, so its offset is shared with the caller as on Linux.

use super::{FileOps, Inode, InodeRef};
use crate::error::{Result, err};
use crate::root::kernel;
use crate::user;
use alloc::ffi::CString;
use alloc::sync::Arc;
use core::any::Any;
use veil_abi::Errno;
use veil_abi::general::{self as g, stat, statfs64};
use veil_abi::ioctl;
use veil_platform::{HostCalls, HostFd};

fn host() -> &'static dyn HostCalls {
    kernel().platform.host()
}

/// A host fd used as a stream (or, when it is a regular file, with the host's own offset).
pub struct HostStream {
    pub fd: HostFd,
    /// The fd was opened for this file alone (`/dev/tty`) and closes with it; the standard
    /// streams' fds stay open for the instance's life.
    owned: bool,
}

impl Drop for HostStream {
    fn drop(&mut self) {
        if self.owned {
            let _ = host().close(self.fd);
        }
    }
}

impl HostStream {
    fn is_regular(&self) -> bool {
        host()
            .fstat(self.fd)
            .is_ok_and(|st| st.st_mode & super::S_IFMT == super::S_IFREG)
    }
}

impl Inode for HostStream {
    fn stat(&self) -> Result<stat> {
        Ok(host().fstat(self.fd)?)
    }
    /// A regular file reopened (`/dev/stdin` or `/proc/self/fd/0` of a redirected file) gets an
    /// open file description of its own, with its own offset, as on Linux; streams (pipes,
    /// terminals) are shared.
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>> {
        let reopen = || {
            let path = CString::new(alloc::format!("/proc/self/fd/{}", self.fd.0))
                .expect("no NUL in a number");
            let pass = g::O_ACCMODE | g::O_APPEND | g::O_NONBLOCK | g::O_DSYNC | g::O_SYNC;
            host().openat(HostFd::CWD, &path, flags & pass, 0).ok()
        };
        // (A host without /proc: the stream itself, sharing its offset.)
        Ok(Arc::new(match self.is_regular().then(reopen).flatten() {
            Some(fd) => HostStream { fd, owned: true },
            None => HostStream {
                fd: self.fd,
                owned: false,
            },
        }))
    }
    fn is_fifo_node(&self) -> bool {
        false
    }
    /// Reopening a regular file through `/proc/self/fd/N` with `O_TRUNC` truncates it.
    fn truncate(&self, len: u64) -> Result<()> {
        Ok(host().ftruncate(self.fd, len)?)
    }
    fn statfs(&self) -> Result<statfs64> {
        Ok(host().fstatfs(self.fd)?)
    }
    fn fs_id(&self) -> usize {
        usize::MAX
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Size of the buffer each terminal ioctl exchanges, or None if it is not passed through.
fn tty_ioctl_size(request: u32) -> Option<usize> {
    Some(match request {
        ioctl::TCGETS | ioctl::TCSETS | ioctl::TCSETSW | ioctl::TCSETSF => {
            core::mem::size_of::<g::termios>()
        }
        ioctl::TIOCGWINSZ | ioctl::TIOCSWINSZ => core::mem::size_of::<g::winsize>(),
        ioctl::FIONREAD | ioctl::TIOCGPGRP | ioctl::TIOCSPGRP | ioctl::TIOCOUTQ => 4,
        _ => return None,
    })
}

impl FileOps for HostStream {
    fn host_fd(&self) -> Option<HostFd> {
        Some(self.fd)
    }
    fn read(&self, _pos: &mut u64, buf: &mut [u8], _flags: u32) -> Result<usize> {
        retry_interrupted(|| host().read(self.fd, buf)).map(|n| n.min(buf.len()))
    }
    fn write(&self, _pos: &mut u64, buf: &[u8], _flags: u32) -> Result<usize> {
        retry_interrupted(|| host().write(self.fd, buf)).map(|n| n.min(buf.len()))
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        Ok(host().pread(self.fd, buf, offset)?.min(buf.len()))
    }
    fn write_at(&self, offset: u64, buf: &[u8]) -> Result<usize> {
        Ok(host().pwrite(self.fd, buf, offset)?.min(buf.len()))
    }
    fn size(&self) -> Result<u64> {
        Ok(host().fstat(self.fd)?.st_size as u64)
    }
    fn is_stream(&self) -> bool {
        !self.is_regular()
    }
    fn seek(&self, _pos: &mut u64, offset: i64, whence: u32) -> Result<u64> {
        Ok(host().lseek(self.fd, offset, whence)?)
    }
    fn ioctl(&self, request: u32, arg: u64) -> Result<u64> {
        if request == ioctl::FIONBIO {
            let on: i32 = user::read_val(arg)?;
            let flags = host().get_status_flags(self.fd)?;
            let flags = if on != 0 {
                flags | g::O_NONBLOCK
            } else {
                flags & !g::O_NONBLOCK
            };
            host().set_status_flags(self.fd, flags)?;
            return Ok(0);
        }
        let Some(size) = tty_ioctl_size(request) else {
            return err(Errno::ENOTTY);
        };
        let mut buf = alloc::vec![0u8; size];
        user::read_into(arg, &mut buf)?;
        let r = host().ioctl_buf(self.fd, request, &mut buf)?;
        user::write_bytes(arg, &buf)?;
        Ok(r as u64)
    }
    fn sync(&self, data_only: bool) -> Result<()> {
        match host().fsync(self.fd, data_only) {
            Err(Errno::EINVAL) | Err(Errno::EROFS) => err(Errno::EINVAL),
            other => Ok(other?),
        }
    }
    fn stat(&self) -> Option<Result<stat>> {
        Some(host().fstat(self.fd).map_err(Into::into))
    }
    fn set_status_flags(&self, flags: u32) -> Result<()> {
        let current = host().get_status_flags(self.fd)?;
        let mirrored = g::O_NONBLOCK | g::O_APPEND;
        Ok(host().set_status_flags(self.fd, current & !mirrored | flags & mirrored)?)
    }
    fn poll(&self, events: i16) -> i16 {
        let mut fds = [(self.fd, events, 0i16)];
        match host().poll(&mut fds, 0) {
            Ok(_) => fds[0].2,
            Err(_) => g::POLLERR as i16,
        }
    }
    fn can_poll(&self) -> bool {
        // Whether the host file type has a poll method (epoll_ctl fails with EPERM otherwise):
        // pipes, sockets and terminals do; regular files and devices such as /dev/null do not.
        let Ok(st) = host().fstat(self.fd) else {
            return false;
        };
        match st.st_mode & super::S_IFMT {
            super::S_IFIFO | g::S_IFSOCK => true,
            super::S_IFCHR => {
                let mut termios = [0u8; core::mem::size_of::<g::termios>()];
                host()
                    .ioctl_buf(self.fd, ioctl::TCGETS, &mut termios)
                    .is_ok()
            }
            _ => false,
        }
    }
    fn wait_sources(&self, events: i16, sources: &mut super::WaitSources) {
        // The host does not notify kernel events: waiters poll the host fd.
        sources.host.push((self.fd, events));
    }
}

/// Runs a blocking host call again when the host interrupted it with nothing for this thread to
/// act on; when a signal is to be delivered, the syscall is restarted or fails with EINTR.
fn retry_interrupted(
    mut call: impl FnMut() -> core::result::Result<usize, Errno>,
) -> Result<usize> {
    loop {
        match call() {
            Err(Errno::EINTR) if crate::signal::interrupted() => return err(Errno::ERESTARTSYS),
            Err(Errno::EINTR) => continue,
            other => return Ok(other?),
        }
    }
}

/// The inode for host stdio fd `fd`, and the file the first process gets: the host's own open
/// file description (its offset is shared with whoever else has it, as fds a process inherits
/// are; opening the inode again, through `/dev/stdin` say, may make another).
pub fn stdio(fd: HostFd) -> (InodeRef, Arc<dyn FileOps>) {
    let stream = Arc::new(HostStream { fd, owned: false });
    (stream.clone(), stream)
}

/// Opens the host's controlling terminal of the instance (ENXIO when there is none).
pub fn open_host_tty(flags: u32) -> Result<Arc<dyn FileOps>> {
    let host_flags = flags & (g::O_ACCMODE | g::O_NONBLOCK) | g::O_NOCTTY | g::O_CLOEXEC;
    let fd = host().openat(HostFd::CWD, c"/dev/tty", host_flags, 0)?;
    Ok(Arc::new(HostStream { fd, owned: true }))
}
