//! pidfds: file descriptors that refer to a process (`pidfd_open`), readable by poll once the
//! process has ended, usable with `pidfd_send_signal` and `waitid(P_PIDFD)`.

use super::{FileOps, InodeRef};
use crate::error::{Result, err};
use crate::root::kernel;
use alloc::sync::Arc;
use veil_abi::Errno;
use veil_abi::general::{self as g};

/// A reference to a process by pid.
pub struct PidFd {
    pub pid: i32,
}

impl PidFd {
    /// Whether the process has ended (or is gone).
    fn ended(&self) -> bool {
        let process = kernel().processes.lock().get(&self.pid).cloned();
        process.is_none_or(|p| p.exit_status.lock().is_some())
    }
}

super::epoll::anon_inode!(PidFd);

/// The file operations of a pidfd.
pub struct PidFdFile(pub Arc<PidFd>);

impl PidFdFile {
    pub fn inode(&self) -> InodeRef {
        self.0.clone()
    }
}

impl FileOps for PidFdFile {
    fn read(&self, _pos: &mut u64, _buf: &mut [u8], _flags: u32) -> Result<usize> {
        err(Errno::EINVAL)
    }
    fn write(&self, _pos: &mut u64, _buf: &[u8], _flags: u32) -> Result<usize> {
        err(Errno::EINVAL)
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn poll(&self, events: i16) -> i16 {
        if self.0.ended() {
            events & g::POLLIN as i16
        } else {
            0
        }
    }
    fn can_poll(&self) -> bool {
        true
    }
}
