//! The directory tree: listing (`getdents64`), creating and removing names (`mkdir`, `mknod`,
//! `symlink`, `link`, `unlink`, `rmdir`), `rename`, `readlink`, and the working directory
//! (`chdir`, `fchdir`, `getcwd`).
//!
//! The VFS checks Linux makes before a file system sees a request (the kind of the last
//! component, existence, trailing slashes, mount points, renaming a directory below itself) are
//! made here, once, so every file system type behaves the same.

use super::stat::loc_at;
use super::*;
use crate::fs::path::NAME_MAX;
use crate::fs::{DirEntry, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};

/// Offset of `d_name` in `struct linux_dirent64` (d_ino u64, d_off i64, d_reclen u16, d_type u8).
const DIRENT_NAME_OFFSET: usize = 19;

/// Size of the `linux_dirent64` record for a name of `name_len` bytes: header, name, NUL,
/// padded to 8 bytes.
fn dirent_reclen(name_len: usize) -> usize {
    (DIRENT_NAME_OFFSET + name_len + 1).next_multiple_of(8)
}

/// Encodes `entries[start..]` as `linux_dirent64` records, as many as fit in `limit` bytes.
/// Returns the records and the index of the first entry not written. `d_off` is the index of the
/// next entry, which is what the file position becomes (so `lseek` to a `d_off` resumes there).
fn encode_dirents(entries: &[DirEntry], start: usize, limit: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut next = start;
    while let Some(e) = entries.get(next) {
        let reclen = dirent_reclen(e.name.len());
        if out.len() + reclen > limit {
            break;
        }
        let rec_start = out.len();
        out.extend_from_slice(&e.ino.to_ne_bytes());
        out.extend_from_slice(&(next as i64 + 1).to_ne_bytes());
        out.extend_from_slice(&(reclen as u16).to_ne_bytes());
        out.push(e.kind);
        out.extend_from_slice(&e.name);
        out.resize(rec_start + reclen, 0);
        next += 1;
    }
    (out, next)
}

pub fn sys_getdents64(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (buf, count) = (a[1], a[2] as u32 as usize);
    let file = ctx.file(fd_arg(a[0]))?;
    if file.is_path_only() {
        return err(Errno::EBADF);
    }
    if !file.loc.is_dir() {
        return err(Errno::ENOTDIR);
    }
    // Lock order: pos, then dir_cache (fs/mod.rs).
    let mut pos = file.pos.lock();
    let mut cache = file.dir_cache.lock();
    // A fresh listing at position 0 makes rewinddir() see changes, as on Linux.
    if *pos == 0 || cache.is_none() {
        *cache = Some(file.inode().read_dir()?);
    }
    let entries = cache.as_deref().unwrap_or_default();
    let start = usize::try_from(*pos).unwrap_or(usize::MAX);
    let (records, next) = encode_dirents(entries, start, count);
    if records.is_empty() && next < entries.len() {
        // Not even one record fits.
        return err(Errno::EINVAL);
    }
    user::write_bytes(buf, &records)?;
    *pos = next as u64;
    Ok(records.len() as u64)
}

/// Kind of a path's last component (Linux's `LAST_NORM`, `LAST_DOT`, `LAST_DOTDOT`, `LAST_ROOT`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Normal,
    Dot,
    DotDot,
    Root,
}

/// A path split into its parent directory and last component, for calls that create, remove or
/// rename a name.
struct Named {
    dir: Loc,
    name: Vec<u8>,
    last: Last,
    trailing_slash: bool,
}

impl Named {
    /// The existing object under this name (not following a final symlink), if any.
    fn existing(&self) -> Result<Option<Loc>> {
        match kernel().mounts.child(&self.dir, &self.name) {
            Ok(loc) => Ok(Some(loc)),
            Err(e) if e.errno == Errno::ENOENT => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn named_at(ctx: &Ctx, dirfd: i32, path_addr: u64) -> Result<Named> {
    let path = ctx.path_arg(path_addr)?;
    if path.is_empty() {
        return err(Errno::ENOENT);
    }
    let base = ctx.base_dir(dirfd, &path)?;
    let p = kernel().mounts.resolve_parent(&base, &path)?;
    let last = if path.iter().all(|&b| b == b'/') {
        Last::Root
    } else {
        match p.name.as_slice() {
            b"." => Last::Dot,
            b".." => Last::DotDot,
            _ => Last::Normal,
        }
    };
    if last == Last::Normal && p.name.len() > NAME_MAX {
        return err(Errno::ENAMETOOLONG);
    }
    Ok(Named {
        dir: p.dir,
        name: p.name,
        last,
        trailing_slash: p.must_be_dir,
    })
}

/// Resolves the name a `mkdir`/`mknod`/`symlink`/`link` is to create: EEXIST if it exists (or is
/// ".", ".." or "/"), ENOENT for a trailing slash on anything but a directory.
fn create_at(ctx: &Ctx, dirfd: i32, path_addr: u64, is_dir: bool) -> Result<Named> {
    let n = named_at(ctx, dirfd, path_addr)?;
    if n.last != Last::Normal || n.existing()?.is_some() {
        return err(Errno::EEXIST);
    }
    if n.trailing_slash && !is_dir {
        return err(Errno::ENOENT);
    }
    Ok(n)
}

fn mkdir_at(ctx: &Ctx, dirfd: i32, path_addr: u64, mode: u32) -> Result<u64> {
    let n = create_at(ctx, dirfd, path_addr, true)?;
    n.dir.inode().mkdir(&n.name, mode & 0o1777 & !ctx.umask())?;
    Ok(0)
}

pub fn sys_mkdir(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    mkdir_at(ctx, g::AT_FDCWD, a[0], a[1] as u32)
}

pub fn sys_mkdirat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    mkdir_at(ctx, fd_arg(a[0]), a[1], a[2] as u32)
}

fn rmdir_at(ctx: &Ctx, dirfd: i32, path_addr: u64) -> Result<u64> {
    let n = named_at(ctx, dirfd, path_addr)?;
    match n.last {
        Last::Dot => return err(Errno::EINVAL),
        Last::DotDot => return err(Errno::ENOTEMPTY),
        Last::Root => return err(Errno::EBUSY),
        Last::Normal => {}
    }
    let victim = n.existing()?.ok_or(Errno::ENOENT)?;
    if !victim.is_dir() {
        return err(Errno::ENOTDIR);
    }
    if kernel().mounts.is_mount_point(&victim) {
        return err(Errno::EBUSY);
    }
    n.dir.inode().rmdir(&n.name)?;
    Ok(0)
}

pub fn sys_rmdir(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    rmdir_at(ctx, g::AT_FDCWD, a[0])
}

fn unlink_at(ctx: &Ctx, dirfd: i32, path_addr: u64) -> Result<u64> {
    let n = named_at(ctx, dirfd, path_addr)?;
    if n.last != Last::Normal {
        return err(Errno::EISDIR);
    }
    let victim = n.existing()?.ok_or(Errno::ENOENT)?;
    if victim.is_dir() {
        return err(Errno::EISDIR);
    }
    if n.trailing_slash {
        return err(Errno::ENOTDIR);
    }
    n.dir.inode().unlink(&n.name)?;
    Ok(0)
}

pub fn sys_unlink(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    unlink_at(ctx, g::AT_FDCWD, a[0])
}

pub fn sys_unlinkat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let flags = a[2] as u32;
    if flags & !g::AT_REMOVEDIR != 0 {
        return err(Errno::EINVAL);
    }
    if flags & g::AT_REMOVEDIR != 0 {
        rmdir_at(ctx, fd_arg(a[0]), a[1])
    } else {
        unlink_at(ctx, fd_arg(a[0]), a[1])
    }
}

/// Whether canonical path `path` lies strictly below directory `dir`.
fn is_below(path: &str, dir: &str) -> bool {
    let Some(rest) = path.strip_prefix(dir) else {
        return false;
    };
    !rest.is_empty() && (dir.ends_with('/') || rest.starts_with('/'))
}

fn rename_at(
    ctx: &Ctx,
    olddirfd: i32,
    old_addr: u64,
    newdirfd: i32,
    new_addr: u64,
    flags: u32,
) -> Result<u64> {
    let (noreplace, exchange) = (
        flags & g::RENAME_NOREPLACE != 0,
        flags & g::RENAME_EXCHANGE != 0,
    );
    if flags & !(g::RENAME_NOREPLACE | g::RENAME_EXCHANGE | g::RENAME_WHITEOUT) != 0 {
        return err(Errno::EINVAL);
    }
    if exchange && flags & (g::RENAME_NOREPLACE | g::RENAME_WHITEOUT) != 0 {
        return err(Errno::EINVAL);
    }
    if flags & g::RENAME_WHITEOUT != 0 {
        return Err(Error::unsupported(
            Errno::EINVAL,
            "RENAME_WHITEOUT (overlay whiteouts)",
        ));
    }
    let old = named_at(ctx, olddirfd, old_addr)?;
    let new = named_at(ctx, newdirfd, new_addr)?;
    if old.dir.inode().fs_id() != new.dir.inode().fs_id() {
        return err(Errno::EXDEV);
    }
    if old.last != Last::Normal {
        return err(Errno::EBUSY);
    }
    if new.last != Last::Normal {
        return err(if noreplace {
            Errno::EEXIST
        } else {
            Errno::EBUSY
        });
    }
    let source = old.existing()?.ok_or(Errno::ENOENT)?;
    let target = new.existing()?;
    if noreplace && target.is_some() {
        return err(Errno::EEXIST);
    }
    if exchange {
        let target = target.as_ref().ok_or(Errno::ENOENT)?;
        if !target.is_dir() && new.trailing_slash {
            return err(Errno::ENOTDIR);
        }
    }
    // Unless the source is a directory, trailing slashes give ENOTDIR.
    if !source.is_dir() && (old.trailing_slash || !exchange && new.trailing_slash) {
        return err(Errno::ENOTDIR);
    }
    // A directory cannot move below itself; its ancestor cannot be replaced (it is not empty).
    if new.dir.path == source.path || is_below(&new.dir.path, &source.path) {
        return err(Errno::EINVAL);
    }
    if let Some(target) = &target {
        if old.dir.path == target.path || is_below(&old.dir.path, &target.path) {
            return err(if exchange {
                Errno::EINVAL
            } else {
                Errno::ENOTEMPTY
            });
        }
        if target.path == source.path {
            return Ok(0);
        }
    }
    let mounts = &kernel().mounts;
    if mounts.is_mount_point(&source) || target.as_ref().is_some_and(|t| mounts.is_mount_point(t)) {
        return err(Errno::EBUSY);
    }
    old.dir
        .inode()
        .rename(&old.name, new.dir.inode(), &new.name, flags)?;
    Ok(0)
}

pub fn sys_rename(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    rename_at(ctx, g::AT_FDCWD, a[0], g::AT_FDCWD, a[1], 0)
}

pub fn sys_renameat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    rename_at(ctx, fd_arg(a[0]), a[1], fd_arg(a[2]), a[3], 0)
}

pub fn sys_renameat2(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    rename_at(ctx, fd_arg(a[0]), a[1], fd_arg(a[2]), a[3], a[4] as u32)
}

fn symlink_at(ctx: &Ctx, target_addr: u64, dirfd: i32, path_addr: u64) -> Result<u64> {
    let target = ctx.path_arg(target_addr)?;
    if target.is_empty() {
        return err(Errno::ENOENT);
    }
    let n = create_at(ctx, dirfd, path_addr, false)?;
    n.dir.inode().symlink(&n.name, &target)?;
    Ok(0)
}

pub fn sys_symlink(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    symlink_at(ctx, a[0], g::AT_FDCWD, a[1])
}

pub fn sys_symlinkat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    symlink_at(ctx, a[0], fd_arg(a[1]), a[2])
}

fn link_at(
    ctx: &Ctx,
    olddirfd: i32,
    old_addr: u64,
    newdirfd: i32,
    new_addr: u64,
    flags: u32,
) -> Result<u64> {
    if flags & !(g::AT_SYMLINK_FOLLOW | g::AT_EMPTY_PATH) != 0 {
        return err(Errno::EINVAL);
    }
    // linkat does not follow a final symlink unless asked to.
    let follow = if flags & g::AT_SYMLINK_FOLLOW != 0 {
        0
    } else {
        g::AT_SYMLINK_NOFOLLOW
    };
    let source = loc_at(ctx, olddirfd, old_addr, flags & g::AT_EMPTY_PATH | follow)?;
    let n = create_at(ctx, newdirfd, new_addr, false)?;
    if source.inode().fs_id() != n.dir.inode().fs_id() {
        return err(Errno::EXDEV);
    }
    if source.is_dir() {
        return err(Errno::EPERM);
    }
    n.dir.inode().link(&n.name, source.inode())?;
    Ok(0)
}

pub fn sys_link(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    link_at(ctx, g::AT_FDCWD, a[0], g::AT_FDCWD, a[1], 0)
}

pub fn sys_linkat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    link_at(ctx, fd_arg(a[0]), a[1], fd_arg(a[2]), a[3], a[4] as u32)
}

fn readlink_at(ctx: &Ctx, dirfd: i32, path_addr: u64, buf: u64, bufsiz: u64) -> Result<u64> {
    let size = bufsiz as u32 as i32;
    if size <= 0 {
        return err(Errno::EINVAL);
    }
    // An empty path names dirfd itself (e.g. an O_PATH|O_NOFOLLOW descriptor of a symlink).
    let path = ctx.path_arg(path_addr)?;
    let loc = ctx.resolve_path_at(dirfd, &path, g::AT_SYMLINK_NOFOLLOW | g::AT_EMPTY_PATH)?;
    if loc.inode().mode() & S_IFMT != S_IFLNK {
        // Linux: ENOENT when an empty path named something that is not a symlink.
        return err(if path.is_empty() {
            Errno::ENOENT
        } else {
            Errno::EINVAL
        });
    }
    let target = loc.inode().readlink()?;
    let n = target.len().min(size as usize);
    user::write_bytes(buf, &target[..n])?;
    Ok(n as u64)
}

pub fn sys_readlink(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    readlink_at(ctx, g::AT_FDCWD, a[0], a[1], a[2])
}

pub fn sys_readlinkat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    readlink_at(ctx, fd_arg(a[0]), a[1], a[2], a[3])
}

fn mknod_at(ctx: &Ctx, dirfd: i32, path_addr: u64, mode: u32, dev: u32) -> Result<u64> {
    let kind = match mode & S_IFMT {
        0 => S_IFREG,
        k @ (S_IFREG | g::S_IFCHR | g::S_IFBLK | g::S_IFIFO | g::S_IFSOCK) => k,
        S_IFDIR => return err(Errno::EPERM),
        _ => return err(Errno::EINVAL),
    };
    let n = create_at(ctx, dirfd, path_addr, false)?;
    let mode = kind | mode & 0o7777 & !ctx.umask();
    n.dir.inode().mknod(&n.name, mode, u64::from(dev))?;
    Ok(0)
}

pub fn sys_mknod(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    mknod_at(ctx, g::AT_FDCWD, a[0], a[1] as u32, a[2] as u32)
}

pub fn sys_mknodat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    mknod_at(ctx, fd_arg(a[0]), a[1], a[2] as u32, a[3] as u32)
}

/// Makes `loc` the working directory (ENOTDIR, or EACCES without search permission).
fn change_dir(ctx: &Ctx, loc: Loc) -> Result<u64> {
    if !loc.is_dir() {
        return err(Errno::ENOTDIR);
    }
    loc.inode().access(g::X_OK)?;
    ctx.process.fs.lock().cwd = loc;
    Ok(0)
}

pub fn sys_chdir(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let loc = ctx.resolve_at(g::AT_FDCWD, a[0], 0)?;
    change_dir(ctx, loc)
}

pub fn sys_fchdir(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    // O_PATH descriptors of directories are accepted, as on Linux.
    let loc = ctx.file(fd_arg(a[0]))?.loc.clone();
    change_dir(ctx, loc)
}

/// Whether `loc` is still reachable through its path: not removed (or replaced) since it was
/// resolved.
fn still_linked(loc: &Loc) -> Result<bool> {
    let name = match loc.path.rsplit_once('/') {
        Some((_, name)) if !name.is_empty() => name,
        _ => return Ok(true), // the root
    };
    // A name that was not UTF-8 is not faithfully in `path`: give it the benefit of the doubt.
    if name.contains(char::REPLACEMENT_CHARACTER) {
        return Ok(true);
    }
    match kernel().mounts.child(&loc.parent(), name.as_bytes()) {
        Ok(found) => Ok(found.inode().stat()?.st_ino == loc.inode().stat()?.st_ino),
        Err(e) if e.errno == Errno::ENOENT => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn sys_getcwd(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let cwd = ctx.process.cwd();
    if !still_linked(&cwd)? {
        return err(Errno::ENOENT);
    }
    let mut path = cwd.path.into_bytes();
    path.push(0);
    if (path.len() as u64) > a[1] {
        return err(Errno::ERANGE);
    }
    user::write_bytes(a[0], &path)?;
    Ok(path.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &[u8], ino: u64) -> DirEntry {
        DirEntry {
            name: name.to_vec(),
            ino,
            kind: g::DT_REG as u8,
        }
    }

    #[test]
    fn record_lengths_are_aligned() {
        assert_eq!(dirent_reclen(1), 24);
        assert_eq!(dirent_reclen(4), 24);
        assert_eq!(dirent_reclen(5), 32);
        assert_eq!(dirent_reclen(255), 280);
    }

    #[test]
    fn records_have_linux_layout() {
        let entries = [entry(b".", 7), entry(b"hello", 9)];
        let (buf, next) = encode_dirents(&entries, 0, 4096);
        assert_eq!(next, 2);
        assert_eq!(buf.len(), 24 + 32);
        assert_eq!(u64::from_ne_bytes(buf[0..8].try_into().unwrap()), 7);
        assert_eq!(i64::from_ne_bytes(buf[8..16].try_into().unwrap()), 1);
        assert_eq!(u16::from_ne_bytes(buf[16..18].try_into().unwrap()), 24);
        assert_eq!(buf[18], g::DT_REG as u8);
        assert_eq!(&buf[19..21], b".\0");
        let second = &buf[24..];
        assert_eq!(u64::from_ne_bytes(second[0..8].try_into().unwrap()), 9);
        assert_eq!(i64::from_ne_bytes(second[8..16].try_into().unwrap()), 2);
        assert_eq!(&second[19..25], b"hello\0");
        assert!(second[25..].iter().all(|&b| b == 0));
    }

    #[test]
    fn stops_at_the_buffer_limit_and_resumes() {
        let entries = [entry(b"a", 1), entry(b"b", 2), entry(b"c", 3)];
        let (buf, next) = encode_dirents(&entries, 0, 50);
        assert_eq!((buf.len(), next), (48, 2));
        let (buf, next) = encode_dirents(&entries, next, 50);
        assert_eq!((buf.len(), next), (24, 3));
        let (buf, next) = encode_dirents(&entries, next, 50);
        assert_eq!((buf.len(), next), (0, 3));
        // Too small for one record: nothing written, position unchanged.
        assert_eq!(encode_dirents(&entries, 0, 23), (Vec::new(), 0));
    }

    #[test]
    fn below_checks_whole_components() {
        assert!(is_below("/a/b", "/a"));
        assert!(is_below("/a/b/c", "/a"));
        assert!(!is_below("/a", "/a"));
        assert!(!is_below("/ab", "/a"));
        assert!(is_below("/a", "/"));
    }
}
