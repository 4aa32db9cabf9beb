//! The host pass-through file system: a host directory as seen by the instance. Untrusted (the
//! host sees and controls everything); used for `veil run --rootfs` and explicit host mounts.
//!
//! Inodes are relative paths under a host directory fd. Path walks and symlinks are resolved by
//! the VFS, component by component, so the host only ever sees canonical relative paths.

use super::{DirEntry, FileOps, FileSystem, Inode, InodeRef, SetAttr, TimeChange};
use crate::error::{Result, err};
use crate::mm::cache::FileId;
use crate::root::kernel;
use alloc::ffi::CString;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use veil_abi::Errno;
use veil_abi::general::{self as g, stat, statfs64};
use veil_platform::{HostCalls, HostFd};

fn host() -> &'static dyn HostCalls {
    kernel().platform.host()
}

/// A host directory mounted into the instance.
pub struct HostFs {
    dir: HostFd,
}

impl HostFs {
    /// Opens host directory `path` (host path, NUL-free) as a file system.
    pub fn open(path: &[u8]) -> Result<Arc<HostFs>> {
        let c = CString::new(path).map_err(|_| Errno::EINVAL)?;
        let dir = host().openat(HostFd::CWD, &c, g::O_PATH | g::O_DIRECTORY, 0)?;
        Ok(Arc::new(HostFs { dir }))
    }
}

impl FileSystem for HostFs {
    fn root(&self) -> InodeRef {
        Arc::new(HostInode {
            dir: self.dir,
            rel: CString::from(c"."),
            mode: g::S_IFDIR | 0o755,
        })
    }
    fn type_name(&self) -> &'static str {
        "hostfs"
    }
}

/// A file or directory under a host directory.
pub struct HostInode {
    dir: HostFd,
    rel: CString,
    /// Type and permissions at lookup time.
    mode: u32,
}

impl HostInode {
    fn child_path(&self, name: &[u8]) -> Result<CString> {
        if name.contains(&b'/') || name.contains(&0) {
            return err(Errno::EINVAL);
        }
        let mut p = if self.rel.as_bytes() == b"." {
            Vec::new()
        } else {
            self.rel.as_bytes().to_vec()
        };
        if !p.is_empty() {
            p.push(b'/');
        }
        p.extend_from_slice(name);
        Ok(CString::new(p).expect("checked for NUL"))
    }

    fn child(&self, name: &[u8]) -> Result<HostInode> {
        let rel = self.child_path(name)?;
        let st = host().fstatat(self.dir, &rel, g::AT_SYMLINK_NOFOLLOW)?;
        Ok(HostInode {
            dir: self.dir,
            rel,
            mode: st.st_mode,
        })
    }

    fn same_fs<'a>(&self, other: &'a InodeRef) -> Result<&'a HostInode> {
        other
            .as_any()
            .downcast_ref::<HostInode>()
            .filter(|o| o.dir == self.dir)
            .ok_or(Errno::EXDEV.into())
    }
}

impl Inode for HostInode {
    fn stat(&self) -> Result<stat> {
        Ok(host().fstatat(self.dir, &self.rel, g::AT_SYMLINK_NOFOLLOW)?)
    }
    fn mode(&self) -> u32 {
        self.mode
    }
    fn lookup(&self, name: &[u8]) -> Result<InodeRef> {
        Ok(Arc::new(self.child(name)?))
    }
    fn create(&self, name: &[u8], mode: u32) -> Result<InodeRef> {
        let rel = self.child_path(name)?;
        let fd = host().openat(self.dir, &rel, g::O_CREAT | g::O_EXCL | g::O_WRONLY, mode)?;
        let _ = host().close(fd);
        Ok(Arc::new(HostInode {
            dir: self.dir,
            rel,
            mode: g::S_IFREG | mode,
        }))
    }
    fn mkdir(&self, name: &[u8], mode: u32) -> Result<()> {
        Ok(host().mkdirat(self.dir, &self.child_path(name)?, mode)?)
    }
    fn mknod(&self, name: &[u8], mode: u32, dev: u64) -> Result<()> {
        Ok(host().mknodat(self.dir, &self.child_path(name)?, mode, dev)?)
    }
    fn symlink(&self, name: &[u8], target: &[u8]) -> Result<()> {
        let target = CString::new(target).map_err(|_| Errno::EINVAL)?;
        Ok(host().symlinkat(&target, self.dir, &self.child_path(name)?)?)
    }
    fn link(&self, name: &[u8], target: &InodeRef) -> Result<()> {
        let target = self.same_fs(target)?;
        Ok(host().linkat(self.dir, &target.rel, self.dir, &self.child_path(name)?, 0)?)
    }
    fn unlink(&self, name: &[u8]) -> Result<()> {
        Ok(host().unlinkat(self.dir, &self.child_path(name)?, 0)?)
    }
    fn rmdir(&self, name: &[u8]) -> Result<()> {
        Ok(host().unlinkat(self.dir, &self.child_path(name)?, g::AT_REMOVEDIR)?)
    }
    fn rename(&self, old: &[u8], new_dir: &InodeRef, new: &[u8], flags: u32) -> Result<()> {
        let new_dir = self.same_fs(new_dir)?;
        let (from, to) = (self.child_path(old)?, new_dir.child_path(new)?);
        Ok(host().renameat2(self.dir, &from, self.dir, &to, flags)?)
    }
    fn readlink(&self) -> Result<Vec<u8>> {
        let mut buf = alloc::vec![0u8; super::path::PATH_MAX];
        let n = host().readlinkat(self.dir, &self.rel, &mut buf)?;
        buf.truncate(n.min(super::path::PATH_MAX));
        Ok(buf)
    }
    fn read_dir(&self) -> Result<Vec<DirEntry>> {
        let fd = host().openat(self.dir, &self.rel, g::O_RDONLY | g::O_DIRECTORY, 0)?;
        let result = read_host_dir(fd);
        let _ = host().close(fd);
        result
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>> {
        if self.mode & super::S_IFMT == super::S_IFDIR {
            if flags & g::O_ACCMODE != g::O_RDONLY {
                return err(Errno::EISDIR);
            }
            return Ok(Arc::new(super::NoOps));
        }
        let pass = g::O_ACCMODE | g::O_NONBLOCK | g::O_DSYNC | g::O_SYNC | g::O_NOATIME;
        let fd = host().openat(self.dir, &self.rel, flags & pass | g::O_NOFOLLOW, 0)?;
        // A file open for writing knows which file it is, to keep the page cache current.
        let written = if flags & g::O_ACCMODE != g::O_RDONLY {
            match host().fstat(fd) {
                Ok(st) => Some(FileId::of(&st)),
                Err(e) => {
                    let _ = host().close(fd);
                    return Err(e.into());
                }
            }
        } else {
            None
        };
        Ok(Arc::new(HostFile { fd, written }))
    }
    fn set_attr(&self, attr: &SetAttr) -> Result<()> {
        let nofollow = g::AT_SYMLINK_NOFOLLOW;
        if let Some(mode) = attr.mode {
            host().fchmodat(self.dir, &self.rel, mode & 0o7777)?;
        }
        if attr.uid.is_some() || attr.gid.is_some() {
            let (u, gid) = (attr.uid.unwrap_or(u32::MAX), attr.gid.unwrap_or(u32::MAX));
            host().fchownat(self.dir, &self.rel, u, gid, nofollow)?;
        }
        if !matches!(
            (attr.atime, attr.mtime),
            (TimeChange::Omit, TimeChange::Omit)
        ) {
            let times = [host_time(attr.atime), host_time(attr.mtime)];
            host().utimensat(self.dir, Some(&self.rel), Some(&times), nofollow)?;
        }
        Ok(())
    }
    fn truncate(&self, len: u64) -> Result<()> {
        self.open(g::O_WRONLY)?.truncate(len)
    }
    fn statfs(&self) -> Result<statfs64> {
        let fd = host().openat(self.dir, &self.rel, g::O_PATH, 0)?;
        let r = host().fstatfs(fd);
        let _ = host().close(fd);
        Ok(r?)
    }
    fn access(&self, mode: u32) -> Result<()> {
        Ok(host().faccessat(self.dir, &self.rel, mode, g::AT_SYMLINK_NOFOLLOW)?)
    }
    fn fs_id(&self) -> usize {
        self.dir.0 as usize
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn host_time(change: TimeChange) -> g::timespec {
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    match change {
        TimeChange::Omit => g::timespec {
            tv_sec: 0,
            tv_nsec: UTIME_OMIT,
        },
        TimeChange::Now => g::timespec {
            tv_sec: 0,
            tv_nsec: UTIME_NOW,
        },
        TimeChange::Set(t) => t,
    }
}

/// Reads all entries of an open host directory, validating the host's records.
fn read_host_dir(fd: HostFd) -> Result<Vec<DirEntry>> {
    let mut entries = Vec::new();
    let mut buf = alloc::vec![0u8; 32 * 1024];
    loop {
        let n = host().getdents64(fd, &mut buf)?.min(buf.len());
        if n == 0 {
            return Ok(entries);
        }
        let mut off = 0;
        // linux_dirent64: d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name[]
        while off + 19 <= n {
            let rec = &buf[off..n];
            let reclen = u16::from_ne_bytes([rec[16], rec[17]]) as usize;
            if reclen < 20 || reclen > rec.len() {
                return err(Errno::EIO);
            }
            let ino = u64::from_ne_bytes(rec[0..8].try_into().expect("8 bytes"));
            let name_field = &rec[19..reclen];
            let len = name_field
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(name_field.len());
            entries.push(DirEntry {
                name: name_field[..len].to_vec(),
                ino,
                kind: rec[18],
            });
            off += reclen;
        }
    }
}

/// An open host file (regular file, or a device/FIFO the host directory contains).
pub struct HostFile {
    fd: HostFd,
    /// The file, if it is open for writing.
    written: Option<FileId>,
}

impl HostFile {
    /// The file's contents change: the page cache drops its copy.
    fn changed(&self) {
        if let Some(id) = self.written {
            kernel().page_cache.forget(id);
        }
    }
}

impl Drop for HostFile {
    fn drop(&mut self) {
        let _ = host().close(self.fd);
    }
}

impl FileOps for HostFile {
    fn stable_contents(&self) -> bool {
        true
    }
    fn host_fd(&self) -> Option<HostFd> {
        Some(self.fd)
    }
    fn host_identity(&self) -> Option<Result<FileId>> {
        Some(match self.written {
            Some(id) => Ok(id),
            None => host()
                .fstat(self.fd)
                .map(|st| FileId::of(&st))
                .map_err(Into::into),
        })
    }
    fn shared_backing(&self) -> Option<Result<super::SharedBacking>> {
        Some(Ok(super::SharedBacking::HostFile(self.fd)))
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let n = host().pread(self.fd, buf, offset)?;
        Ok(n.min(buf.len()))
    }
    fn write_at(&self, offset: u64, buf: &[u8]) -> Result<usize> {
        self.changed();
        let n = host().pwrite(self.fd, buf, offset)?;
        Ok(n.min(buf.len()))
    }
    fn size(&self) -> Result<u64> {
        Ok(host().fstat(self.fd)?.st_size as u64)
    }
    fn sync(&self, data_only: bool) -> Result<()> {
        Ok(host().fsync(self.fd, data_only)?)
    }
    fn truncate(&self, len: u64) -> Result<()> {
        self.changed();
        Ok(host().ftruncate(self.fd, len)?)
    }
    fn allocate(&self, mode: u32, offset: u64, len: u64) -> Result<()> {
        self.changed();
        Ok(host().fallocate(self.fd, mode, offset, len)?)
    }
    fn stat(&self) -> Option<Result<stat>> {
        Some(host().fstat(self.fd).map_err(Into::into))
    }
}
