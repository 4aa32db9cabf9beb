//! The RAM file system (tmpfs): directories, regular files, symlinks and special files held in
//! the kernel heap. Used for `/tmp`, `/dev/shm` and `ram` mounts.
//!
//! Lock order: `RamFs::rename_lock` → a directory's `entries` lock → a child's `entries`, `meta`
//! or `data` lock (a directory's own `meta` may be taken under its `entries`). Rename holds the
//! rename lock, then locks the source directory, then the destination directory (never both when
//! they are the same directory). A removed directory has `nlink` 0 and accepts no new entries.

use super::{
    DirEntry, FileOps, FileSystem, Inode, InodeRef, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, SetAttr,
    TimeChange,
};
use crate::error::{Result, err};
use crate::mm::shared::FileData;
use crate::root::kernel;
use crate::sync::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use veil_abi::Errno;
use veil_abi::general::{self as g, stat, statfs64, timespec};

const TMPFS_MAGIC: i64 = 0x0102_1994;
/// Largest file a RAM file system accepts (EFBIG beyond).
const MAX_FILE_SIZE: u64 = 1 << 40;

/// A RAM file system instance.
pub struct RamFs {
    root: Arc<RamInode>,
    next_ino: AtomicU64,
    self_ref: Weak<RamFs>,
    /// Serialises renames (see `RamInode::rename`).
    rename_lock: Mutex<()>,
}

impl RamFs {
    pub fn new() -> Arc<RamFs> {
        Arc::new_cyclic(|me: &Weak<RamFs>| RamFs {
            root: RamInode::new(
                me.clone(),
                1,
                S_IFDIR | 0o1777,
                Content::Dir(Mutex::new(BTreeMap::new())),
            ),
            next_ino: AtomicU64::new(2),
            self_ref: me.clone(),
            rename_lock: Mutex::new(()),
        })
    }

    /// A memfd: an unnamed regular file of this file system that may be sealed if
    /// `allow_sealing`.
    pub fn memfd(&self, allow_sealing: bool) -> InodeRef {
        let inode = self.new_inode(S_IFREG | 0o777, Content::File(Mutex::default()));
        inode.meta.lock().nlink = 0;
        if allow_sealing {
            inode.seals.store(0, Ordering::Relaxed);
        }
        inode
    }

    fn new_inode(&self, mode: u32, content: Content) -> Arc<RamInode> {
        let ino = self.next_ino.fetch_add(1, Ordering::Relaxed);
        RamInode::new(self.self_ref.clone(), ino, mode, content)
    }
}

impl FileSystem for RamFs {
    fn root(&self) -> InodeRef {
        self.root.clone()
    }
    fn type_name(&self) -> &'static str {
        "tmpfs"
    }
}

enum Content {
    Dir(Mutex<BTreeMap<Vec<u8>, Arc<RamInode>>>),
    File(Mutex<FileData>),
    Symlink(Vec<u8>),
    Special,
}

struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    rdev: u64,
    atime: timespec,
    mtime: timespec,
    ctime: timespec,
}

/// A RAM file system inode.
pub struct RamInode {
    fs: Weak<RamFs>,
    /// This inode itself, for operations that need an owning reference (open files, hard
    /// links) without searching the tree.
    me: Weak<RamInode>,
    ino: u64,
    meta: Mutex<Meta>,
    content: Content,
    /// `F_SEAL_*` seals of a regular file (memfds); others keep F_SEAL_SEAL.
    seals: AtomicU32,
}

fn now() -> timespec {
    kernel()
        .platform
        .clock_gettime(g::CLOCK_REALTIME)
        .unwrap_or(timespec {
            tv_sec: 0,
            tv_nsec: 0,
        })
}

impl RamInode {
    fn new(fs: Weak<RamFs>, ino: u64, mode: u32, content: Content) -> Arc<RamInode> {
        let t = now();
        let nlink = if mode & S_IFMT == S_IFDIR { 2 } else { 1 };
        let meta = Meta {
            mode,
            uid: crate::process::identity::UID,
            gid: crate::process::identity::GID,
            nlink,
            rdev: 0,
            atime: t,
            mtime: t,
            ctime: t,
        };
        Arc::new_cyclic(|me| RamInode {
            fs,
            me: me.clone(),
            ino,
            meta: Mutex::new(meta),
            content,
            seals: AtomicU32::new(g::F_SEAL_SEAL),
        })
    }

    fn entries(&self) -> Result<&Mutex<BTreeMap<Vec<u8>, Arc<RamInode>>>> {
        match &self.content {
            Content::Dir(e) => Ok(e),
            _ => err(Errno::ENOTDIR),
        }
    }

    fn fs(&self) -> Result<Arc<RamFs>> {
        self.fs.upgrade().ok_or(Errno::ESTALE.into())
    }

    fn touch_modified(&self) {
        let t = now();
        let mut m = self.meta.lock();
        m.mtime = t;
        m.ctime = t;
    }

    fn add_entry(
        &self,
        name: &[u8],
        make: impl FnOnce(&RamFs) -> Arc<RamInode>,
    ) -> Result<Arc<RamInode>> {
        check_name(name)?;
        let fs = self.fs()?;
        let mut entries = self.entries()?.lock();
        if entries.contains_key(name) {
            return err(Errno::EEXIST);
        }
        self.check_alive()?;
        let inode = make(&fs);
        if inode.is_dir() {
            self.meta.lock().nlink += 1;
        }
        entries.insert(name.to_vec(), inode.clone());
        drop(entries);
        self.touch_modified();
        Ok(inode)
    }

    fn is_dir(&self) -> bool {
        matches!(self.content, Content::Dir(_))
    }

    /// ENOENT for a removed directory (Linux's `IS_DEADDIR`): nothing can be created in it,
    /// even by a process whose working directory it still is. Call with `entries` locked.
    fn check_alive(&self) -> Result<()> {
        if self.is_dir() && self.meta.lock().nlink == 0 {
            return err(Errno::ENOENT);
        }
        Ok(())
    }

    fn downcast(other: &InodeRef) -> Result<&RamInode> {
        other
            .as_any()
            .downcast_ref::<RamInode>()
            .ok_or(Errno::EXDEV.into())
    }
}

fn check_name(name: &[u8]) -> Result<()> {
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
        return err(Errno::EINVAL);
    }
    Ok(())
}

impl Inode for RamInode {
    fn stat(&self) -> Result<stat> {
        let m = self.meta.lock();
        let size = match &self.content {
            Content::File(d) => d.lock().len(),
            Content::Symlink(t) => t.len() as u64,
            Content::Dir(_) => 4096,
            Content::Special => 0,
        };
        let mut st: stat = crate::pod::zeroed();
        st.st_dev = 0x1000 + Arc::as_ptr(&self.fs()?) as u64 % 0x1000;
        st.st_ino = self.ino;
        st.st_mode = m.mode;
        st.st_nlink = m.nlink as u64;
        st.st_uid = m.uid;
        st.st_gid = m.gid;
        st.st_rdev = m.rdev;
        st.st_size = size as i64;
        st.st_blksize = 4096;
        st.st_blocks = size.div_ceil(512) as i64;
        st.st_atime = m.atime.tv_sec as _;
        st.st_atime_nsec = m.atime.tv_nsec as _;
        st.st_mtime = m.mtime.tv_sec as _;
        st.st_mtime_nsec = m.mtime.tv_nsec as _;
        st.st_ctime = m.ctime.tv_sec as _;
        st.st_ctime_nsec = m.ctime.tv_nsec as _;
        Ok(st)
    }
    fn mode(&self) -> u32 {
        self.meta.lock().mode
    }
    fn lookup(&self, name: &[u8]) -> Result<InodeRef> {
        let entries = self.entries()?.lock();
        match entries.get(name) {
            Some(i) => Ok(i.clone()),
            None => err(Errno::ENOENT),
        }
    }
    fn create(&self, name: &[u8], mode: u32) -> Result<InodeRef> {
        Ok(self.add_entry(name, |fs| {
            fs.new_inode(
                S_IFREG | mode & 0o7777,
                Content::File(Mutex::new(FileData::default())),
            )
        })?)
    }
    fn create_unnamed(&self, mode: u32) -> Result<InodeRef> {
        self.entries()?;
        self.check_alive()?;
        let inode = self.fs()?.new_inode(
            S_IFREG | mode & 0o7777,
            Content::File(Mutex::new(FileData::default())),
        );
        inode.meta.lock().nlink = 0;
        Ok(inode)
    }
    fn mkdir(&self, name: &[u8], mode: u32) -> Result<()> {
        self.add_entry(name, |fs| {
            fs.new_inode(
                S_IFDIR | mode & 0o7777,
                Content::Dir(Mutex::new(BTreeMap::new())),
            )
        })?;
        Ok(())
    }
    fn mknod(&self, name: &[u8], mode: u32, dev: u64) -> Result<()> {
        let kind = mode & S_IFMT;
        if kind == S_IFREG || kind == 0 {
            return self.create(name, mode).map(|_| ());
        }
        let inode = self.add_entry(name, |fs| fs.new_inode(mode, Content::Special))?;
        inode.meta.lock().rdev = dev;
        Ok(())
    }
    fn symlink(&self, name: &[u8], target: &[u8]) -> Result<()> {
        self.add_entry(name, |fs| {
            fs.new_inode(S_IFLNK | 0o777, Content::Symlink(target.to_vec()))
        })?;
        Ok(())
    }
    fn link(&self, name: &[u8], target: &InodeRef) -> Result<()> {
        let t = Self::downcast(target)?;
        if !Weak::ptr_eq(&t.fs, &self.fs) {
            return err(Errno::EXDEV);
        }
        if t.is_dir() {
            return err(Errno::EPERM);
        }
        check_name(name)?;
        let mut entries = self.entries()?.lock();
        if entries.contains_key(name) {
            return err(Errno::EEXIST);
        }
        self.check_alive()?;
        let arc = t.me.upgrade().ok_or(Errno::ENOENT)?;
        arc.meta.lock().nlink += 1;
        entries.insert(name.to_vec(), arc);
        Ok(())
    }
    fn unlink(&self, name: &[u8]) -> Result<()> {
        let mut entries = self.entries()?.lock();
        let child = entries.get(name).ok_or(Errno::ENOENT)?;
        if child.is_dir() {
            return err(Errno::EISDIR);
        }
        let child = entries.remove(name).expect("present");
        child.meta.lock().nlink -= 1;
        drop(entries);
        self.touch_modified();
        Ok(())
    }
    fn rmdir(&self, name: &[u8]) -> Result<()> {
        let mut entries = self.entries()?.lock();
        let child = entries.get(name).ok_or(Errno::ENOENT)?;
        if !child.is_dir() {
            return err(Errno::ENOTDIR);
        }
        let child_entries = child.entries()?.lock();
        if !child_entries.is_empty() {
            return err(Errno::ENOTEMPTY);
        }
        child.meta.lock().nlink = 0;
        drop(child_entries);
        entries.remove(name);
        drop(entries);
        self.meta.lock().nlink -= 1;
        self.touch_modified();
        Ok(())
    }
    fn rename(&self, old: &[u8], new_dir: &InodeRef, new: &[u8], flags: u32) -> Result<()> {
        let dest = Self::downcast(new_dir)?;
        if !Weak::ptr_eq(&dest.fs, &self.fs) {
            return err(Errno::EXDEV);
        }
        check_name(new)?;
        let fs = self.fs()?;
        // One rename at a time per file system (Linux's s_vfs_rename_mutex): renames between
        // the same two directories in opposite directions cannot deadlock, and the tree keeps
        // the shape the VFS checked (no directory moved below itself).
        let _serial = fs.rename_lock.lock();
        let same_dir = core::ptr::eq(dest, self);
        let mut src_entries = self.entries()?.lock();
        let moving = src_entries.get(old).cloned().ok_or(Errno::ENOENT)?;
        let mut dst_guard = if same_dir {
            None
        } else {
            Some(dest.entries()?.lock())
        };
        let dst_entries = match dst_guard.as_mut() {
            Some(g) => &mut **g,
            None => &mut *src_entries,
        };
        dest.check_alive()?;
        let existing = dst_entries.get(new).cloned();
        if flags & g::RENAME_NOREPLACE != 0 && existing.is_some() {
            return err(Errno::EEXIST);
        }
        if flags & g::RENAME_EXCHANGE != 0 {
            let other = existing.ok_or(Errno::ENOENT)?;
            dst_entries.insert(new.to_vec(), moving.clone());
            drop(dst_guard);
            src_entries.insert(old.to_vec(), other.clone());
            drop(src_entries);
            if !same_dir && moving.is_dir() != other.is_dir() {
                // A directory changed parents: its ".." link moves with it.
                let (from, to) = if moving.is_dir() {
                    (self, dest)
                } else {
                    (dest, self)
                };
                from.meta.lock().nlink -= 1;
                to.meta.lock().nlink += 1;
            }
            self.touch_modified();
            dest.touch_modified();
            return Ok(());
        }
        if let Some(existing) = &existing {
            if Arc::ptr_eq(existing, &moving) {
                return Ok(());
            }
            match (moving.is_dir(), existing.is_dir()) {
                (true, false) => return err(Errno::ENOTDIR),
                (false, true) => return err(Errno::EISDIR),
                (true, true) => {
                    let victim_entries = existing.entries()?.lock();
                    if !victim_entries.is_empty() {
                        return err(Errno::ENOTEMPTY);
                    }
                    // The replaced directory dies; its parent loses its ".." link.
                    existing.meta.lock().nlink = 0;
                    drop(victim_entries);
                    dest.meta.lock().nlink -= 1;
                }
                (false, false) => existing.meta.lock().nlink -= 1,
            }
        }
        dst_entries.insert(new.to_vec(), moving.clone());
        drop(dst_guard);
        src_entries.remove(old);
        drop(src_entries);
        if moving.is_dir() && !same_dir {
            self.meta.lock().nlink -= 1;
            dest.meta.lock().nlink += 1;
        }
        self.touch_modified();
        dest.touch_modified();
        Ok(())
    }
    fn readlink(&self) -> Result<Vec<u8>> {
        match &self.content {
            Content::Symlink(t) => Ok(t.clone()),
            _ => err(Errno::EINVAL),
        }
    }
    fn read_dir(&self) -> Result<Vec<DirEntry>> {
        let entries = self.entries()?.lock();
        let mut out = alloc::vec![
            DirEntry {
                name: b".".to_vec(),
                ino: self.ino,
                kind: g::DT_DIR as u8
            },
            DirEntry {
                name: b"..".to_vec(),
                ino: self.ino,
                kind: g::DT_DIR as u8
            },
        ];
        for (name, inode) in entries.iter() {
            out.push(DirEntry {
                name: name.clone(),
                ino: inode.ino,
                kind: super::dirent_type(inode.mode()),
            });
        }
        Ok(out)
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>> {
        match &self.content {
            Content::Dir(_) if flags & g::O_ACCMODE != g::O_RDONLY => err(Errno::EISDIR),
            Content::File(_) => {
                let me = self.me.upgrade().ok_or(Errno::ESTALE)?;
                Ok(Arc::new(RamFile { inode: me }))
            }
            Content::Special => err(Errno::ENXIO),
            _ => Ok(Arc::new(super::NoOps)),
        }
    }
    fn set_attr(&self, attr: &SetAttr) -> Result<()> {
        let t = now();
        let mut m = self.meta.lock();
        if let Some(mode) = attr.mode {
            m.mode = m.mode & S_IFMT | mode & 0o7777;
        }
        if let Some(uid) = attr.uid {
            m.uid = uid;
        }
        if let Some(gid) = attr.gid {
            m.gid = gid;
        }
        match attr.atime {
            TimeChange::Now => m.atime = t,
            TimeChange::Set(v) => m.atime = v,
            TimeChange::Omit => {}
        }
        match attr.mtime {
            TimeChange::Now => m.mtime = t,
            TimeChange::Set(v) => m.mtime = v,
            TimeChange::Omit => {}
        }
        m.ctime = t;
        Ok(())
    }
    fn truncate(&self, len: u64) -> Result<()> {
        match &self.content {
            Content::File(d) => {
                if len > MAX_FILE_SIZE {
                    return err(Errno::EFBIG);
                }
                let mut data = d.lock();
                let seals = self.seals.load(Ordering::Acquire);
                let sealed = if len < data.len() {
                    g::F_SEAL_SHRINK
                } else {
                    g::F_SEAL_GROW
                };
                if len != data.len() && seals & sealed != 0 {
                    return err(Errno::EPERM);
                }
                data.set_len(len)?;
                drop(data);
                self.touch_modified();
                Ok(())
            }
            Content::Dir(_) => err(Errno::EISDIR),
            _ => err(Errno::EINVAL),
        }
    }
    fn statfs(&self) -> Result<statfs64> {
        let mut s = super::synthetic_statfs(TMPFS_MAGIC);
        s.f_blocks = 1 << 20;
        s.f_bfree = 1 << 20;
        s.f_bavail = 1 << 20;
        s.f_files = 1 << 20;
        s.f_ffree = 1 << 20;
        Ok(s)
    }
    fn fs_id(&self) -> usize {
        self.fs.as_ptr() as usize
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An open RAM file.
struct RamFile {
    inode: Arc<RamInode>,
}

impl RamFile {
    fn data(&self) -> &Mutex<FileData> {
        match &self.inode.content {
            Content::File(d) => d,
            _ => unreachable!("RamFile is only created for regular files"),
        }
    }
}

impl FileOps for RamFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.data().lock().read_at(offset, buf)
    }
    fn write_at(&self, offset: u64, buf: &[u8]) -> Result<usize> {
        let end = offset.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
        if end > MAX_FILE_SIZE {
            return err(Errno::EFBIG);
        }
        let mut data = self.data().lock();
        let seals = self.inode.seals.load(Ordering::Acquire);
        if seals & (g::F_SEAL_WRITE | g::F_SEAL_FUTURE_WRITE) != 0
            || seals & g::F_SEAL_GROW != 0 && end > data.len()
        {
            return err(Errno::EPERM);
        }
        data.write_at(offset, buf)?;
        drop(data);
        self.inode.touch_modified();
        Ok(buf.len())
    }
    fn seals(&self) -> Result<u32> {
        Ok(self.inode.seals.load(Ordering::Acquire))
    }
    fn add_seals(&self, seals: u32) -> Result<()> {
        let known = g::F_SEAL_SEAL
            | g::F_SEAL_SHRINK
            | g::F_SEAL_GROW
            | g::F_SEAL_WRITE
            | g::F_SEAL_FUTURE_WRITE;
        if seals & !known != 0 {
            return err(Errno::EINVAL);
        }
        // Under the data lock: no write can be halfway through while F_SEAL_WRITE lands.
        let _data = self.data().lock();
        let current = self.inode.seals.load(Ordering::Acquire);
        if current & g::F_SEAL_SEAL != 0 {
            return err(Errno::EPERM);
        }
        self.inode.seals.store(current | seals, Ordering::Release);
        Ok(())
    }
    fn shared_backing(&self) -> Option<Result<super::SharedBacking>> {
        Some(self.data().lock().share().map(super::SharedBacking::Memory))
    }
    fn size(&self) -> Result<u64> {
        Ok(self.data().lock().len())
    }
    fn truncate(&self, len: u64) -> Result<()> {
        self.inode.truncate(len)
    }
    fn allocate(&self, mode: u32, offset: u64, len: u64) -> Result<()> {
        let keep_size = mode & g::FALLOC_FL_KEEP_SIZE != 0;
        let zero = match mode & !g::FALLOC_FL_KEEP_SIZE {
            0 => false,
            // Memory has no holes: punching one (within the file) or zeroing a range both
            // write zeros. (Linux's tmpfs lacks ZERO_RANGE; disk file systems have it.)
            g::FALLOC_FL_PUNCH_HOLE | g::FALLOC_FL_ZERO_RANGE => true,
            _ => {
                return Err(crate::error::Error::unsupported(
                    Errno::EOPNOTSUPP,
                    "fallocate collapse/insert/unshare/write-zeroes on tmpfs",
                ));
            }
        };
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        if end > MAX_FILE_SIZE {
            return err(Errno::EFBIG);
        }
        let mut data = self.data().lock();
        if !keep_size && data.len() < end {
            if self.inode.seals.load(Ordering::Acquire) & g::F_SEAL_GROW != 0 {
                return err(Errno::EPERM);
            }
            data.set_len(end)?;
        }
        if zero {
            data.zero_range(offset, end)?;
        }
        drop(data);
        if zero || !keep_size {
            self.inode.touch_modified();
        }
        Ok(())
    }
}
