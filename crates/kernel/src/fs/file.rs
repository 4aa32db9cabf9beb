//! Open file descriptions: what an fd refers to. Shared by `dup`ed fds (and, later, by forked
//! processes): one position, one set of status flags.

use super::{DirEntry, FileOps, InodeRef, Loc};
use crate::error::Result;
use crate::sync::Mutex;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use veil_abi::general as g;

/// Status flags `fcntl(F_SETFL)` may change.
pub const SETTABLE_STATUS_FLAGS: u32 =
    g::O_APPEND | g::O_NONBLOCK | g::FASYNC | g::O_DIRECT | g::O_NOATIME;

/// An open file description.
pub struct OpenFile {
    pub ops: Arc<dyn FileOps>,
    /// Where the file was opened (path for /proc/pid/fd, base for `*at` calls and `fchdir`).
    pub loc: Loc,
    /// The file position, locked for the duration of a read or write.
    pub pos: Mutex<u64>,
    /// Access mode and status flags (`O_RDONLY`.., `O_APPEND`, `O_NONBLOCK`, `O_PATH`, ...).
    flags: AtomicU32,
    /// Directory listing snapshot for `getdents64`, taken at position 0.
    pub dir_cache: Mutex<Option<Vec<DirEntry>>>,
}

impl OpenFile {
    pub fn new(ops: Arc<dyn FileOps>, loc: Loc, flags: u32) -> Arc<OpenFile> {
        let kept = flags & !(g::O_CREAT | g::O_EXCL | g::O_NOCTTY | g::O_TRUNC | g::O_CLOEXEC);
        Arc::new(OpenFile {
            ops,
            loc,
            pos: Mutex::new(0),
            flags: AtomicU32::new(kept),
            dir_cache: Mutex::new(None),
        })
    }

    pub fn inode(&self) -> &InodeRef {
        self.loc.inode()
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Replaces the settable status flags (`fcntl(F_SETFL)`).
    pub fn set_status_flags(&self, new: u32) -> Result<()> {
        let new = new & SETTABLE_STATUS_FLAGS;
        self.ops.set_status_flags(new)?;
        let old = self.flags();
        self.flags
            .store(old & !SETTABLE_STATUS_FLAGS | new, Ordering::Relaxed);
        Ok(())
    }

    pub fn is_path_only(&self) -> bool {
        self.flags() & g::O_PATH != 0
    }

    pub fn can_read(&self) -> bool {
        !self.is_path_only() && self.flags() & g::O_ACCMODE != g::O_WRONLY
    }

    pub fn can_write(&self) -> bool {
        !self.is_path_only() && self.flags() & g::O_ACCMODE != g::O_RDONLY
    }

    pub fn is_nonblocking(&self) -> bool {
        self.flags() & g::O_NONBLOCK != 0
    }

    /// Attributes of the open file.
    pub fn stat(&self) -> Result<g::stat> {
        self.ops.stat().unwrap_or_else(|| self.inode().stat())
    }
}

impl OpenFile {
    /// This description's identity as a lock owner.
    pub fn lock_owner(&self) -> usize {
        self as *const OpenFile as usize
    }

    /// The file's identity for locks: (device, inode).
    pub fn lock_key(&self) -> Result<super::lock::FileKey> {
        let st = self.stat()?;
        Ok((st.st_dev, st.st_ino))
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        // flock and OFD locks live as long as the description.
        crate::root::kernel()
            .locks
            .release_description(self.lock_owner());
    }
}
