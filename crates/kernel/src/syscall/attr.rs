//! Changing and checking file attributes: `access` family, `chmod` and `chown` families,
//! timestamps (`utimensat`, `utime`, `utimes`, `futimesat`), sizes (`truncate`, `ftruncate`,
//! `fallocate`), syncing, and the process's `umask`.
//!
//! Path variants and their `f*` and `*at` siblings share one helper each; the legacy calls pass
//! `AT_FDCWD`. Descriptor variants refuse `O_PATH` descriptors with EBADF, as Linux does.

use super::fd::io_file;
use super::stat::loc_at;
use super::*;
use crate::fs::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, SetAttr, TimeChange};

/// `R_OK | W_OK | X_OK` (with `F_OK` = 0).
const ACCESS_MODE_MASK: u32 = g::R_OK | g::W_OK | g::X_OK;

fn access_at(ctx: &Ctx, dirfd: i32, path_addr: u64, mode: u32, flags: u32) -> Result<u64> {
    if mode & !ACCESS_MODE_MASK != 0 {
        return err(Errno::EINVAL);
    }
    if flags & !(g::AT_EACCESS | g::AT_SYMLINK_NOFOLLOW | g::AT_EMPTY_PATH) != 0 {
        return err(Errno::EINVAL);
    }
    // One user per instance: real and effective ids agree, so AT_EACCESS changes nothing.
    let loc = loc_at(ctx, dirfd, path_addr, flags)?;
    if mode != g::F_OK {
        loc.inode().access(mode)?;
    }
    Ok(0)
}

pub fn sys_access(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    access_at(ctx, g::AT_FDCWD, a[0], a[1] as u32, 0)
}

pub fn sys_faccessat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    access_at(ctx, fd_arg(a[0]), a[1], a[2] as u32, 0)
}

pub fn sys_faccessat2(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    access_at(ctx, fd_arg(a[0]), a[1], a[2] as u32, a[3] as u32)
}

fn chmod_loc(loc: &Loc, mode: u32) -> Result<u64> {
    // Linux refuses to change a symlink's mode (fchmodat2 with AT_SYMLINK_NOFOLLOW).
    if loc.inode().mode() & S_IFMT == S_IFLNK {
        return err(Errno::EOPNOTSUPP);
    }
    loc.inode().set_attr(&SetAttr {
        mode: Some(mode & 0o7777),
        ..SetAttr::default()
    })?;
    Ok(0)
}

fn chmod_at(ctx: &Ctx, dirfd: i32, path_addr: u64, mode: u32, flags: u32) -> Result<u64> {
    if flags & !(g::AT_SYMLINK_NOFOLLOW | g::AT_EMPTY_PATH) != 0 {
        return err(Errno::EINVAL);
    }
    chmod_loc(&loc_at(ctx, dirfd, path_addr, flags)?, mode)
}

pub fn sys_chmod(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    chmod_at(ctx, g::AT_FDCWD, a[0], a[1] as u32, 0)
}

pub fn sys_fchmod(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    chmod_loc(&io_file(ctx, fd_arg(a[0]))?.loc, a[1] as u32)
}

pub fn sys_fchmodat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    chmod_at(ctx, fd_arg(a[0]), a[1], a[2] as u32, 0)
}

pub fn sys_fchmodat2(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    chmod_at(ctx, fd_arg(a[0]), a[1], a[2] as u32, a[3] as u32)
}

/// The permission bits left after a `chown` of a non-directory: Linux clears set-user-ID always
/// (even for root and for uid = gid = -1) and set-group-ID when group-execute is set.
fn mode_after_chown(mode: u32) -> u32 {
    let mut perm = mode & 0o7777;
    if mode & S_IFMT != S_IFDIR {
        perm &= !g::S_ISUID;
        if perm & g::S_IXGRP != 0 {
            perm &= !g::S_ISGID;
        }
    }
    perm
}

fn chown_loc(loc: &Loc, uid: u32, gid: u32) -> Result<u64> {
    let unchanged = u32::MAX; // -1
    let mode = loc.inode().mode();
    let perm = mode_after_chown(mode);
    let attr = SetAttr {
        uid: (uid != unchanged).then_some(uid),
        gid: (gid != unchanged).then_some(gid),
        mode: (perm != mode & 0o7777).then_some(perm),
        ..SetAttr::default()
    };
    loc.inode().set_attr(&attr)?;
    Ok(0)
}

fn chown_at(ctx: &Ctx, dirfd: i32, path_addr: u64, uid: u32, gid: u32, flags: u32) -> Result<u64> {
    if flags & !(g::AT_SYMLINK_NOFOLLOW | g::AT_EMPTY_PATH) != 0 {
        return err(Errno::EINVAL);
    }
    chown_loc(&loc_at(ctx, dirfd, path_addr, flags)?, uid, gid)
}

pub fn sys_chown(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    chown_at(ctx, g::AT_FDCWD, a[0], a[1] as u32, a[2] as u32, 0)
}

pub fn sys_fchown(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    chown_loc(&io_file(ctx, fd_arg(a[0]))?.loc, a[1] as u32, a[2] as u32)
}

pub fn sys_lchown(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    chown_at(
        ctx,
        g::AT_FDCWD,
        a[0],
        a[1] as u32,
        a[2] as u32,
        g::AT_SYMLINK_NOFOLLOW,
    )
}

pub fn sys_fchownat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    chown_at(
        ctx,
        fd_arg(a[0]),
        a[1],
        a[2] as u32,
        a[3] as u32,
        a[4] as u32,
    )
}

/// One `utimensat` timestamp: `UTIME_NOW`, `UTIME_OMIT`, or a time whose nanoseconds are valid.
fn time_change(ts: g::timespec) -> Result<TimeChange> {
    match ts.tv_nsec {
        n if n == i64::from(g::UTIME_NOW) => Ok(TimeChange::Now),
        n if n == i64::from(g::UTIME_OMIT) => Ok(TimeChange::Omit),
        0..=999_999_999 => Ok(TimeChange::Set(ts)),
        _ => err(Errno::EINVAL),
    }
}

/// The common part of the timestamp calls: `times` NULL means "now" for both. A NULL path with a
/// real dirfd changes the open file (`futimens`).
fn utimes_at(
    ctx: &Ctx,
    dirfd: i32,
    path_addr: u64,
    times: Option<[g::timespec; 2]>,
    flags: u32,
) -> Result<u64> {
    let loc = if path_addr == 0 && dirfd != g::AT_FDCWD {
        if flags != 0 {
            return err(Errno::EINVAL);
        }
        io_file(ctx, dirfd)?.loc.clone()
    } else {
        if flags & !(g::AT_SYMLINK_NOFOLLOW | g::AT_EMPTY_PATH) != 0 {
            return err(Errno::EINVAL);
        }
        loc_at(ctx, dirfd, path_addr, flags)?
    };
    // Linux validates the nanoseconds only once the file is found.
    let (atime, mtime) = match times {
        None => (TimeChange::Now, TimeChange::Now),
        Some([a, m]) => (time_change(a)?, time_change(m)?),
    };
    loc.inode().set_attr(&SetAttr {
        atime,
        mtime,
        ..SetAttr::default()
    })?;
    Ok(0)
}

/// Reads a user `struct timespec[2]`.
fn read_timespecs(addr: u64) -> Result<[g::timespec; 2]> {
    let raw = user::read_bytes(addr, 2 * core::mem::size_of::<g::timespec>())?;
    let (first, second) = raw.split_at(raw.len() / 2);
    Ok([
        crate::pod::from_bytes(first),
        crate::pod::from_bytes(second),
    ])
}

/// Reads a user `struct timeval[2]` as timespecs (EINVAL for microseconds outside 0..10^6,
/// checked before the path as Linux does).
fn read_timevals(addr: u64) -> Result<[g::timespec; 2]> {
    let mut out = read_timespecs(addr)?;
    for t in &mut out {
        if !(0..1_000_000).contains(&t.tv_nsec) {
            return err(Errno::EINVAL);
        }
        t.tv_nsec *= 1000;
    }
    Ok(out)
}

pub fn sys_utimensat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let times = if a[2] == 0 {
        None
    } else {
        Some(read_timespecs(a[2])?)
    };
    // Nothing to do: Linux does not even look the path up.
    let omit = i64::from(g::UTIME_OMIT);
    if times.is_some_and(|[at, mt]| at.tv_nsec == omit && mt.tv_nsec == omit) {
        return Ok(0);
    }
    utimes_at(ctx, fd_arg(a[0]), a[1], times, a[3] as u32)
}

pub fn sys_utime(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let times = if a[1] == 0 {
        None
    } else {
        let b: [u64; 2] = user::read_val(a[1])?;
        let t = |sec: u64| g::timespec {
            tv_sec: sec as i64,
            tv_nsec: 0,
        };
        Some([t(b[0]), t(b[1])])
    };
    utimes_at(ctx, g::AT_FDCWD, a[0], times, 0)
}

pub fn sys_utimes(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let times = if a[1] == 0 {
        None
    } else {
        Some(read_timevals(a[1])?)
    };
    utimes_at(ctx, g::AT_FDCWD, a[0], times, 0)
}

pub fn sys_futimesat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let times = if a[2] == 0 {
        None
    } else {
        Some(read_timevals(a[2])?)
    };
    utimes_at(ctx, fd_arg(a[0]), a[1], times, 0)
}

pub fn sys_truncate(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let len = a[1] as i64;
    if len < 0 {
        return err(Errno::EINVAL);
    }
    let loc = ctx.resolve_at(g::AT_FDCWD, a[0], 0)?;
    match loc.inode().mode() & S_IFMT {
        S_IFREG => {}
        S_IFDIR => return err(Errno::EISDIR),
        _ => return err(Errno::EINVAL),
    }
    loc.inode().access(g::W_OK)?;
    loc.inode().truncate(len as u64)?;
    Ok(0)
}

pub fn sys_ftruncate(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let len = a[1] as i64;
    if len < 0 {
        return err(Errno::EINVAL);
    }
    let file = io_file(ctx, fd_arg(a[0]))?;
    // Linux says EINVAL (not EBADF) for a descriptor not open for writing.
    if file.inode().mode() & S_IFMT != S_IFREG || !file.can_write() {
        return err(Errno::EINVAL);
    }
    file.ops.truncate(len as u64)?;
    Ok(0)
}

/// Checks a `fallocate` mode as Linux's `vfs_fallocate` does: exactly one mode (allocate =
/// no bit) plus `FALLOC_FL_KEEP_SIZE` where it makes sense; anything else is EOPNOTSUPP.
fn check_fallocate_mode(mode: u32) -> Result<()> {
    let keep_size = mode & g::FALLOC_FL_KEEP_SIZE != 0;
    let ok = match mode & !g::FALLOC_FL_KEEP_SIZE {
        0 | g::FALLOC_FL_UNSHARE_RANGE | g::FALLOC_FL_ZERO_RANGE => true,
        g::FALLOC_FL_PUNCH_HOLE => keep_size,
        g::FALLOC_FL_COLLAPSE_RANGE | g::FALLOC_FL_INSERT_RANGE | g::FALLOC_FL_WRITE_ZEROES => {
            !keep_size
        }
        _ => false,
    };
    if ok { Ok(()) } else { err(Errno::EOPNOTSUPP) }
}

pub fn sys_fallocate(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (mode, offset, len) = (a[1] as u32, a[2] as i64, a[3] as i64);
    let file = io_file(ctx, fd_arg(a[0]))?;
    if offset < 0 || len <= 0 {
        return err(Errno::EINVAL);
    }
    check_fallocate_mode(mode)?;
    if !file.can_write() {
        return err(Errno::EBADF);
    }
    match file.inode().mode() & S_IFMT {
        S_IFREG | g::S_IFBLK => {}
        g::S_IFIFO => return err(Errno::ESPIPE),
        S_IFDIR => return err(Errno::EISDIR),
        _ => return err(Errno::ENODEV),
    }
    if offset.checked_add(len).is_none() {
        return err(Errno::EFBIG);
    }
    file.ops.allocate(mode, offset as u64, len as u64)?;
    Ok(0)
}

/// posix_fadvise: the advice is checked and accepted (Veil has no readahead to tune).
pub fn sys_fadvise64(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (len, advice) = (a[2] as i64, a[3] as u32);
    let file = io_file(ctx, fd_arg(a[0]))?;
    if file.inode().mode() & S_IFMT == g::S_IFIFO {
        return err(Errno::ESPIPE);
    }
    if len < 0 || advice > g::POSIX_FADV_NOREUSE {
        return err(Errno::EINVAL);
    }
    Ok(0)
}

/// readahead: accepted for regular files open for reading.
pub fn sys_readahead(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let file = io_file(ctx, fd_arg(a[0]))?;
    if !file.can_read() {
        return err(Errno::EBADF);
    }
    if file.inode().mode() & S_IFMT != S_IFREG {
        return err(Errno::EINVAL);
    }
    Ok(0)
}

fn sync_fd(ctx: &Ctx, fd: i32, data_only: bool) -> Result<u64> {
    let file = io_file(ctx, fd)?;
    // Devices, pipes and sockets have no fsync operation on Linux.
    if matches!(
        file.inode().mode() & S_IFMT,
        g::S_IFCHR | g::S_IFIFO | g::S_IFSOCK
    ) {
        return err(Errno::EINVAL);
    }
    file.ops.sync(data_only)?;
    Ok(0)
}

pub fn sys_fsync(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    sync_fd(ctx, fd_arg(a[0]), false)
}

pub fn sys_fdatasync(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    sync_fd(ctx, fd_arg(a[0]), true)
}

/// RAM file systems have nothing to write back; host files are written through at each call.
pub fn sys_sync(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Ok(0)
}

pub fn sys_syncfs(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    io_file(ctx, fd_arg(a[0]))?;
    Ok(0)
}

pub fn sys_umask(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let mut fs = ctx.process.fs.lock();
    let old = fs.umask;
    fs.umask = a[0] as u32 & 0o777;
    Ok(u64::from(old))
}

/// `sync_file_range`: validated, then a data sync of the whole file (a superset of the request).
pub fn sys_sync_file_range(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    const KNOWN: u64 = 0x7; // WAIT_BEFORE | WRITE | WAIT_AFTER
    let (offset, nbytes, flags) = (a[1] as i64, a[2] as i64, a[3]);
    if flags & !KNOWN != 0 || offset < 0 || nbytes < 0 || offset.checked_add(nbytes).is_none() {
        return err(Errno::EINVAL);
    }
    sync_fd(ctx, fd_arg(a[0]), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chown_clears_setuid_and_group_exec_setgid() {
        assert_eq!(mode_after_chown(S_IFREG | 0o4755), 0o755);
        assert_eq!(mode_after_chown(S_IFREG | 0o2755), 0o755);
        // Without group-execute, set-group-ID means mandatory locking and stays.
        assert_eq!(mode_after_chown(S_IFREG | 0o2745), 0o2745);
        assert_eq!(mode_after_chown(S_IFDIR | 0o6755), 0o6755);
    }

    #[test]
    fn fallocate_modes_are_exclusive() {
        let keep = g::FALLOC_FL_KEEP_SIZE;
        assert!(check_fallocate_mode(0).is_ok());
        assert!(check_fallocate_mode(keep).is_ok());
        assert!(check_fallocate_mode(g::FALLOC_FL_PUNCH_HOLE | keep).is_ok());
        assert!(check_fallocate_mode(g::FALLOC_FL_PUNCH_HOLE).is_err());
        assert!(check_fallocate_mode(g::FALLOC_FL_ZERO_RANGE | keep).is_ok());
        assert!(check_fallocate_mode(g::FALLOC_FL_COLLAPSE_RANGE | keep).is_err());
        assert!(
            check_fallocate_mode(g::FALLOC_FL_PUNCH_HOLE | g::FALLOC_FL_ZERO_RANGE | keep).is_err()
        );
        assert!(check_fallocate_mode(g::FALLOC_FL_NO_HIDE_STALE).is_err());
    }

    #[test]
    fn time_changes_validate_nanoseconds() {
        let ts = |nsec: i64| g::timespec {
            tv_sec: 5,
            tv_nsec: nsec,
        };
        assert!(matches!(
            time_change(ts(g::UTIME_NOW as i64)),
            Ok(TimeChange::Now)
        ));
        assert!(matches!(
            time_change(ts(g::UTIME_OMIT as i64)),
            Ok(TimeChange::Omit)
        ));
        assert!(matches!(
            time_change(ts(999_999_999)),
            Ok(TimeChange::Set(_))
        ));
        assert!(time_change(ts(1_000_000_000)).is_err());
        assert!(time_change(ts(-1)).is_err());
    }
}
