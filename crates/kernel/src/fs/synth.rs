//! Synthetic inodes for file systems whose contents the kernel generates (`/dev`, `/proc`):
//! directories listing generated children, read-only files rendered when opened, symbolic links
//! computed when read, and device nodes with their own file operations.

use super::{
    DirEntry, FileOps, Inode, InodeRef, Loc, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
    dirent_type,
};
use crate::error::{Result, err};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use veil_abi::Errno;
use veil_abi::general::{self as g, stat, statfs64};

/// Lists a directory's children: `(name, inode)` pairs (without "." and "..").
pub type ListFn = Box<dyn Fn() -> Result<Vec<(Vec<u8>, InodeRef)>> + Send + Sync>;
/// Renders a file's or link's contents.
pub type RenderFn = Box<dyn Fn() -> Result<Vec<u8>> + Send + Sync>;
/// Opens a device with the open's flags.
pub type OpenFn = Box<dyn Fn(u32) -> Result<Arc<dyn FileOps>> + Send + Sync>;
/// Takes what a program writes to a writable generated file (one call per `write`).
pub type WriteFn = Arc<dyn Fn(&[u8]) -> Result<()> + Send + Sync>;

/// Finds the target of a magic link.
pub type TargetFn = Box<dyn Fn() -> Result<Loc> + Send + Sync>;

pub enum SynthKind {
    Dir(ListFn),
    File(RenderFn),
    /// A generated file that also accepts writes (`/proc/pid/comm`).
    RwFile(RenderFn, WriteFn),
    Link(RenderFn),
    /// A link that leads straight to a location (`/proc/pid/fd/N`, `/proc/pid/exe`).
    MagicLink(TargetFn),
    /// A character device and its number (`st_rdev`, encoded as by `makedev`).
    Device(OpenFn, u64),
}

/// A generated inode.
pub struct SynthInode {
    ino: u64,
    mode: u32,
    fs_id: usize,
    magic: i64,
    kind: SynthKind,
}

impl SynthInode {
    pub fn build(fs_id: usize, magic: i64, ino: u64, perm: u32, kind: SynthKind) -> InodeRef {
        let ty = match &kind {
            SynthKind::Dir(_) => S_IFDIR,
            SynthKind::File(_) | SynthKind::RwFile(..) => S_IFREG,
            SynthKind::Link(_) | SynthKind::MagicLink(_) => S_IFLNK,
            SynthKind::Device(..) => S_IFCHR,
        };
        Arc::new(SynthInode {
            ino,
            mode: ty | perm,
            fs_id,
            magic,
            kind,
        })
    }
}

impl Inode for SynthInode {
    fn stat(&self) -> Result<stat> {
        let size = match &self.kind {
            SynthKind::Link(f) => f().map(|t| t.len() as u64).unwrap_or(0),
            SynthKind::MagicLink(f) => f().map(|t| link_text(&t).len() as u64).unwrap_or(0),
            _ => 0,
        };
        let mut st = super::synthetic_stat(self.mode, self.ino, size, self.magic as u64 & 0xffff);
        if let SynthKind::Device(_, rdev) = &self.kind {
            st.st_rdev = *rdev;
        }
        Ok(st)
    }
    fn mode(&self) -> u32 {
        self.mode
    }
    fn lookup(&self, name: &[u8]) -> Result<InodeRef> {
        let SynthKind::Dir(list) = &self.kind else {
            return err(Errno::ENOTDIR);
        };
        list()?
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, i)| i)
            .ok_or(Errno::ENOENT.into())
    }
    fn read_dir(&self) -> Result<Vec<DirEntry>> {
        let SynthKind::Dir(list) = &self.kind else {
            return err(Errno::ENOTDIR);
        };
        let dot = |name: &[u8]| DirEntry {
            name: name.to_vec(),
            ino: self.ino,
            kind: g::DT_DIR as u8,
        };
        let mut out = alloc::vec![dot(b"."), dot(b"..")];
        for (name, inode) in list()? {
            let st = inode.stat()?;
            out.push(DirEntry {
                name,
                ino: st.st_ino,
                kind: dirent_type(inode.mode()),
            });
        }
        Ok(out)
    }
    fn readlink(&self) -> Result<Vec<u8>> {
        match &self.kind {
            SynthKind::Link(f) => f(),
            SynthKind::MagicLink(f) => Ok(link_text(&f()?)),
            _ => err(Errno::EINVAL),
        }
    }
    fn magic_target(&self) -> Option<Result<Loc>> {
        match &self.kind {
            SynthKind::MagicLink(f) => Some(f()),
            _ => None,
        }
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>> {
        match &self.kind {
            SynthKind::Dir(_) | SynthKind::Link(_) | SynthKind::MagicLink(_) => {
                if flags & g::O_ACCMODE != g::O_RDONLY && self.mode & S_IFMT == S_IFDIR {
                    return err(Errno::EISDIR);
                }
                Ok(Arc::new(super::NoOps))
            }
            SynthKind::File(render) => {
                if flags & g::O_ACCMODE != g::O_RDONLY {
                    return err(Errno::EACCES);
                }
                Ok(Arc::new(Snapshot {
                    data: render()?,
                    write: None,
                }))
            }
            SynthKind::RwFile(render, write) => {
                let data = if flags & g::O_ACCMODE == g::O_WRONLY {
                    Vec::new()
                } else {
                    render()?
                };
                Ok(Arc::new(Snapshot {
                    data,
                    write: Some(write.clone()),
                }))
            }
            SynthKind::Device(open, _) => open(flags),
        }
    }
    fn statfs(&self) -> Result<statfs64> {
        Ok(super::synthetic_statfs(self.magic))
    }
    fn fs_id(&self) -> usize {
        self.fs_id
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// What a magic link reads as: the path, marked " (deleted)" once the file has no name left.
fn link_text(loc: &Loc) -> Vec<u8> {
    let mut text = loc.path.clone().into_bytes();
    let unlinked = loc.inode().stat().is_ok_and(|st| st.st_nlink == 0);
    if unlinked && text.first() == Some(&b'/') && !text.ends_with(b" (deleted)") {
        text.extend_from_slice(b" (deleted)");
    }
    text
}

/// File contents rendered at open time (so one open sees one consistent snapshot).
struct Snapshot {
    data: Vec<u8>,
    write: Option<WriteFn>,
}

impl FileOps for Snapshot {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        if start >= self.data.len() {
            return Ok(0);
        }
        let n = buf.len().min(self.data.len() - start);
        buf[..n].copy_from_slice(&self.data[start..start + n]);
        Ok(n)
    }
    fn write_at(&self, _offset: u64, buf: &[u8]) -> Result<usize> {
        match &self.write {
            Some(write) => write(buf).map(|()| buf.len()),
            None => err(Errno::EBADF),
        }
    }
    fn size(&self) -> Result<u64> {
        Ok(self.data.len() as u64)
    }
}
