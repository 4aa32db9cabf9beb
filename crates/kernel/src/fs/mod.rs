//! The virtual file system: inode and open-file traits, the mount table and path walk, open file
//! descriptions and fd tables, and the file system types (host pass-through, RAM, dev, proc).
//!
//! Lock order (outer to inner): `Process::fds` → `OpenFile::pos` → `OpenFile::dir_cache` →
//! a file system's own locks (each documented in its module) → `Mounts`.

pub mod dev;
pub mod epoll;
pub mod eventfd;
pub mod fdtable;
pub mod file;
pub mod host;
pub mod lock;
pub mod path;
pub mod pidfd;
pub mod pipe;
pub mod proc;
pub mod ram;
pub mod signalfd;
pub mod stdio;
pub mod synth;
pub mod timerfd;

use crate::error::{Result, err};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use veil_abi::Errno;
use veil_abi::general::{self as g, stat, statfs64};

pub use file::OpenFile;
pub use path::{Loc, Mounts};

/// A reference to an inode of any file system.
pub type InodeRef = Arc<dyn Inode>;

/// File type bits of `st_mode`.
pub const S_IFMT: u32 = g::S_IFMT;
pub const S_IFDIR: u32 = g::S_IFDIR;
pub const S_IFREG: u32 = g::S_IFREG;
pub const S_IFLNK: u32 = g::S_IFLNK;
pub const S_IFCHR: u32 = g::S_IFCHR;
pub const S_IFIFO: u32 = g::S_IFIFO;

/// One directory entry as `getdents64` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: Vec<u8>,
    pub ino: u64,
    /// `DT_*` type.
    pub kind: u8,
}

/// `DT_*` value for a `st_mode`.
pub fn dirent_type(mode: u32) -> u8 {
    ((mode & S_IFMT) >> 12) as u8
}

/// A timestamp change requested by `utimensat`.
#[derive(Debug, Clone, Copy)]
pub enum TimeChange {
    Omit,
    Now,
    Set(g::timespec),
}

/// Attribute changes (`chmod`, `chown`, `utimensat`).
#[derive(Debug, Clone, Copy)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub atime: TimeChange,
    pub mtime: TimeChange,
}

impl Default for SetAttr {
    fn default() -> Self {
        SetAttr {
            mode: None,
            uid: None,
            gid: None,
            atime: TimeChange::Omit,
            mtime: TimeChange::Omit,
        }
    }
}

/// A mounted file system.
pub trait FileSystem: Send + Sync {
    /// Its root directory.
    fn root(&self) -> InodeRef;
    /// Type name shown in `/proc/mounts` ("tmpfs", "proc", ...).
    fn type_name(&self) -> &'static str;
}

/// A file system object. Methods a type does not support keep their default error.
pub trait Inode: Send + Sync + Any {
    /// Current attributes.
    fn stat(&self) -> Result<stat>;
    /// File type and permission bits (may be cached from lookup; used by path walks).
    fn mode(&self) -> u32 {
        self.stat().map(|s| s.st_mode).unwrap_or(0)
    }
    /// Whether opening this inode opens a FIFO by its file identity (named pipes on file
    /// systems); inodes that open themselves (host streams, pipes) say no.
    fn is_fifo_node(&self) -> bool {
        self.mode() & S_IFMT == S_IFIFO
    }
    /// Finds `name` in this directory.
    fn lookup(&self, _name: &[u8]) -> Result<InodeRef> {
        err(Errno::ENOTDIR)
    }
    /// Creates a regular file `name` (fails with EEXIST if it exists).
    fn create(&self, _name: &[u8], _mode: u32) -> Result<InodeRef> {
        err(Errno::EROFS)
    }
    /// Creates an unnamed regular file in this directory's file system (`O_TMPFILE`): it has no
    /// link until `linkat` gives it one, and disappears when closed otherwise.
    fn create_unnamed(&self, _mode: u32) -> Result<InodeRef> {
        Err(crate::error::Error::unsupported(
            Errno::EOPNOTSUPP,
            "O_TMPFILE on this file system",
        ))
    }
    fn mkdir(&self, _name: &[u8], _mode: u32) -> Result<()> {
        err(Errno::EROFS)
    }
    /// Creates a special file (FIFO, device node).
    fn mknod(&self, _name: &[u8], _mode: u32, _dev: u64) -> Result<()> {
        err(Errno::EPERM)
    }
    fn symlink(&self, _name: &[u8], _target: &[u8]) -> Result<()> {
        err(Errno::EROFS)
    }
    /// Adds a hard link `name` to `target` (an inode of the same file system).
    fn link(&self, _name: &[u8], _target: &InodeRef) -> Result<()> {
        err(Errno::EPERM)
    }
    fn unlink(&self, _name: &[u8]) -> Result<()> {
        err(Errno::EROFS)
    }
    fn rmdir(&self, _name: &[u8]) -> Result<()> {
        err(Errno::EROFS)
    }
    /// Renames `old` in this directory to `new` in `new_dir` (same file system); `flags` are
    /// `RENAME_*`.
    fn rename(&self, _old: &[u8], _new_dir: &InodeRef, _new: &[u8], _flags: u32) -> Result<()> {
        err(Errno::EROFS)
    }
    fn readlink(&self) -> Result<Vec<u8>> {
        err(Errno::EINVAL)
    }
    /// For "magic" links such as `/proc/pid/fd/N`: the location the link leads to directly,
    /// without resolving its text (which may name a deleted file, a pipe, or a host stream).
    fn magic_target(&self) -> Option<Result<Loc>> {
        None
    }
    /// All entries of this directory, including "." and "..".
    fn read_dir(&self) -> Result<Vec<DirEntry>> {
        err(Errno::ENOTDIR)
    }
    /// Opens the inode; `flags` are the `open` flags.
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>>;
    fn set_attr(&self, _attr: &SetAttr) -> Result<()> {
        err(Errno::EPERM)
    }
    fn truncate(&self, _len: u64) -> Result<()> {
        err(Errno::EINVAL)
    }
    fn statfs(&self) -> Result<statfs64>;
    /// Checks `access(2)` permission bits (`R_OK` etc.) for the instance's user.
    fn access(&self, mode: u32) -> Result<()> {
        check_access(self.stat()?, mode)
    }
    /// Identity of the file system this inode belongs to (EXDEV checks).
    fn fs_id(&self) -> usize;
    fn as_any(&self) -> &dyn Any;
}

/// `access(2)` permission check from mode bits, for the instance's single user.
pub fn check_access(st: stat, mode: u32) -> Result<()> {
    let uid = crate::process::identity::UID;
    let perm = st.st_mode & 0o777;
    let bits = if uid == 0 {
        // Root may read and write anything; execute needs some x bit (or a directory).
        let x_ok = perm & 0o111 != 0 || st.st_mode & S_IFMT == S_IFDIR;
        return if mode & g::X_OK != 0 && !x_ok {
            err(Errno::EACCES)
        } else {
            Ok(())
        };
    } else if st.st_uid == uid {
        perm >> 6
    } else if st.st_gid == crate::process::identity::GID {
        perm >> 3
    } else {
        perm
    };
    if mode & 7 & !bits != 0 {
        err(Errno::EACCES)
    } else {
        Ok(())
    }
}

/// Reads `buf.len()` bytes of a positional file at `offset`, fewer only at its end; returns how
/// many were read.
pub fn read_exact_at(ops: &dyn FileOps, offset: u64, buf: &mut [u8]) -> Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let n = ops.read_at(offset + done as u64, &mut buf[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}

/// The pages behind shared mappings of a file (see [`FileOps::shared_backing`]).
pub enum SharedBacking {
    /// The instance's shared memory (RAM files, memfds).
    Memory(Arc<crate::mm::shared::SharedObject>),
    /// The host file itself (host pass-through files).
    HostFile(veil_platform::HostFd),
}

/// Operations of an open file description. Positional files implement `read_at`/`write_at` and
/// `size`; streams override `read`/`write` and report `is_stream`.
pub trait FileOps: Send + Sync {
    /// Reads at the description's position `pos`, advancing it. `flags` are the description's
    /// status flags (`O_NONBLOCK`: fail with EAGAIN instead of waiting).
    fn read(&self, pos: &mut u64, buf: &mut [u8], _flags: u32) -> Result<usize> {
        let n = self.read_at(*pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }
    /// Writes at `pos` (at the end of the file with `O_APPEND` in `flags`), advancing it.
    fn write(&self, pos: &mut u64, buf: &[u8], flags: u32) -> Result<usize> {
        if flags & g::O_APPEND != 0 {
            *pos = self.size()?;
        }
        let n = self.write_at(*pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }
    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> Result<usize> {
        err(Errno::EINVAL)
    }
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> Result<usize> {
        err(Errno::EINVAL)
    }
    /// Current size (for `SEEK_END` and `O_APPEND`).
    fn size(&self) -> Result<u64> {
        err(Errno::ESPIPE)
    }
    /// What a `MAP_SHARED` mapping of the file maps, so that every mapping and every read and
    /// write see the same pages; None if the file has no such pages (its contents are then
    /// copied into the mapping, which is only allowed read-only).
    fn shared_backing(&self) -> Option<Result<SharedBacking>> {
        None
    }
    /// Whether the file's contents change only together with its size, mtime or ctime, so
    /// that the page cache may keep them (`mm::cache`).
    fn stable_contents(&self) -> bool {
        false
    }
    /// The file's seals (`F_GET_SEALS`); EINVAL for files that cannot be sealed.
    fn seals(&self) -> Result<u32> {
        err(Errno::EINVAL)
    }
    /// Adds seals (`F_ADD_SEALS`).
    fn add_seals(&self, _seals: u32) -> Result<()> {
        err(Errno::EINVAL)
    }
    /// Streams (terminals, pipes, character devices) have no position: lseek fails with ESPIPE.
    fn is_stream(&self) -> bool {
        false
    }
    /// Moves the position (`lseek`). The default covers positional files.
    fn seek(&self, pos: &mut u64, offset: i64, whence: u32) -> Result<u64> {
        if self.is_stream() {
            return err(Errno::ESPIPE);
        }
        let base = match whence {
            g::SEEK_SET => 0,
            g::SEEK_CUR => *pos as i64,
            g::SEEK_END => self.size()? as i64,
            g::SEEK_DATA | g::SEEK_HOLE => {
                let size = self.size()? as i64;
                if offset < 0 || offset >= size {
                    return err(Errno::ENXIO);
                }
                // Files here have no holes: data everywhere, one hole at the end.
                let new = if whence == g::SEEK_DATA { offset } else { size };
                *pos = new as u64;
                return Ok(*pos);
            }
            _ => return err(Errno::EINVAL),
        };
        let new = base.checked_add(offset).ok_or(Errno::EOVERFLOW)?;
        if new < 0 {
            return err(Errno::EINVAL);
        }
        *pos = new as u64;
        Ok(*pos)
    }
    /// A device- or file-specific ioctl. `arg` is the raw user argument.
    fn ioctl(&self, _request: u32, _arg: u64) -> Result<u64> {
        err(Errno::ENOTTY)
    }
    fn sync(&self, _data_only: bool) -> Result<()> {
        Ok(())
    }
    fn truncate(&self, _len: u64) -> Result<()> {
        err(Errno::EINVAL)
    }
    fn allocate(&self, _mode: u32, _offset: u64, _len: u64) -> Result<()> {
        err(Errno::EOPNOTSUPP)
    }
    /// Attributes of the open file; `None` means "ask the inode".
    fn stat(&self) -> Option<Result<stat>> {
        None
    }
    /// Called when `fcntl(F_SETFL)` changes the status flags (host-backed files mirror them).
    fn set_status_flags(&self, _flags: u32) -> Result<()> {
        Ok(())
    }
    /// Readiness for `poll`: returns the subset of `events` (POLLIN, POLLOUT) that is ready.
    fn poll(&self, events: i16) -> i16 {
        events & (g::POLLIN | g::POLLOUT) as i16
    }
    /// Pipes: the capacity in bytes (`F_GETPIPE_SZ`), after setting it to at least `new` bytes
    /// (`F_SETPIPE_SZ`). Other files: EBADF.
    fn pipe_capacity(&self, _new: Option<u64>) -> Result<u64> {
        err(Errno::EBADF)
    }
    /// Whether `epoll_ctl` accepts the file (Linux: its file type has a poll method; regular
    /// files, directories and most devices do not, and fail with EPERM).
    fn can_poll(&self) -> bool {
        false
    }
    /// A counter that changes whenever the file's readiness may have changed (what
    /// edge-triggered epoll reports). `None`: not tracked (host fds); edge-triggered epoll then
    /// reports changes of the ready mask instead.
    fn generation(&self) -> Option<u64> {
        None
    }
    /// Which host file this is (device and inode), for files of the host; None for others.
    fn host_identity(&self) -> Option<Result<crate::mm::cache::FileId>> {
        None
    }
    /// The host fd this file reads and writes through, if any (it must be open in whichever
    /// address space the file is used).
    fn host_fd(&self) -> Option<veil_platform::HostFd> {
        None
    }
    /// What a waiter for `events` must watch besides [`crate::Kernel::readiness`] (which every
    /// kernel object notifies): host fds, and the time the readiness changes by itself.
    fn wait_sources(&self, _events: i16, sources: &mut WaitSources) {
        sources.kernel = true;
    }
    /// Process `pid` closed a descriptor of this description (any one of them: Linux's
    /// `flush`, run for every close, and for each of an ending process's descriptors).
    fn closed_by(&self, _pid: i32) {}
}

/// What a wait for readiness (poll, select, epoll_wait) must watch.
#[derive(Default)]
pub struct WaitSources {
    /// Host fds and the events wanted on them (host streams do not notify kernel events).
    pub host: Vec<(veil_platform::HostFd, i16)>,
    /// The earliest host-monotonic time (ns) at which some readiness changes with no
    /// notification (timerfd expirations).
    pub deadline: Option<u64>,
    /// Whether kernel objects (which notify [`crate::Kernel::readiness`]) are watched too.
    pub kernel: bool,
}

impl WaitSources {
    /// Lowers the deadline to `at` if earlier.
    pub fn until(&mut self, at: u64) {
        self.deadline = Some(self.deadline.map_or(at, |d| d.min(at)));
    }
}

/// An open inode that supports nothing (O_PATH descriptors, directories opened for reading).
pub struct NoOps;

impl FileOps for NoOps {
    fn read(&self, _pos: &mut u64, _buf: &mut [u8], _flags: u32) -> Result<usize> {
        err(Errno::EISDIR)
    }
    fn write(&self, _pos: &mut u64, _buf: &[u8], _flags: u32) -> Result<usize> {
        err(Errno::EISDIR)
    }
    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> Result<usize> {
        err(Errno::EISDIR)
    }
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> Result<usize> {
        err(Errno::EISDIR)
    }
    fn size(&self) -> Result<u64> {
        Ok(0)
    }
}

/// A `stat` for synthetic inodes (dev, proc) with the given mode, inode number and size.
pub fn synthetic_stat(mode: u32, ino: u64, size: u64, dev: u64) -> stat {
    let mut st: stat = crate::pod::zeroed();
    st.st_mode = mode;
    st.st_ino = ino;
    st.st_size = size as i64;
    st.st_nlink = if mode & S_IFMT == S_IFDIR { 2 } else { 1 };
    st.st_dev = dev;
    st.st_blksize = 4096;
    st.st_uid = crate::process::identity::UID;
    st.st_gid = crate::process::identity::GID;
    let boot = crate::root::kernel().boot_time;
    st.st_atime = boot.tv_sec as _;
    st.st_mtime = boot.tv_sec as _;
    st.st_ctime = boot.tv_sec as _;
    st
}

/// A `statfs` for synthetic file systems.
pub fn synthetic_statfs(magic: i64) -> statfs64 {
    let mut s: statfs64 = crate::pod::zeroed();
    s.f_type = magic as _;
    s.f_bsize = 4096;
    s.f_namelen = 255;
    s.f_frsize = 4096;
    s
}
