//! File attributes: `stat`, `fstat`, `lstat`, `newfstatat`, `statx`, `statfs`, `fstatfs`.
//!
//! Also owns the helpers other families use to find what an `*at` call names: a path relative
//! to a dirfd, or (with `AT_EMPTY_PATH` and an empty or NULL path) the dirfd itself.

use super::*;
use veil_abi::general::{stat, statfs64, statx, statx_timestamp};

/// `f_flags` bit every Linux `statfs` reports ("this field is valid").
const ST_VALID: g::__kernel_long_t = 0x20;

/// Reads the path argument of an `*at` call. With `AT_EMPTY_PATH` a NULL pointer means the empty
/// path (Linux 6.11+), so `fstatat(fd, NULL, buf, AT_EMPTY_PATH)` works as `fstat`.
pub(super) fn path_or_empty(ctx: &Ctx, addr: u64, flags: u32) -> Result<Vec<u8>> {
    if addr == 0 && flags & g::AT_EMPTY_PATH != 0 {
        return Ok(Vec::new());
    }
    ctx.path_arg(addr)
}

/// The open file an `*at` call names when its path is empty and `AT_EMPTY_PATH` is given with a
/// real descriptor (the call then acts on the open file, like its `f*` variant).
pub(super) fn empty_path_file(
    ctx: &Ctx,
    dirfd: i32,
    path: &[u8],
    flags: u32,
) -> Result<Option<Arc<OpenFile>>> {
    if path.is_empty() && flags & g::AT_EMPTY_PATH != 0 && dirfd != g::AT_FDCWD {
        return Ok(Some(ctx.file(dirfd)?));
    }
    Ok(None)
}

/// Resolves `(dirfd, path_addr)` honouring `AT_EMPTY_PATH` (NULL or empty path = `dirfd`) and
/// `AT_SYMLINK_NOFOLLOW`.
pub(super) fn loc_at(ctx: &Ctx, dirfd: i32, path_addr: u64, flags: u32) -> Result<Loc> {
    let path = path_or_empty(ctx, path_addr, flags)?;
    ctx.resolve_path_at(dirfd, &path, flags)
}

/// The attributes of what `(dirfd, path_addr, flags)` names. An open file is asked directly, so
/// `fstatat(fd, "", AT_EMPTY_PATH)` (glibc's `fstat`) matches `fstat` exactly.
fn stat_at(ctx: &Ctx, dirfd: i32, path_addr: u64, flags: u32) -> Result<stat> {
    let path = path_or_empty(ctx, path_addr, flags)?;
    if let Some(file) = empty_path_file(ctx, dirfd, &path, flags)? {
        return file.stat();
    }
    ctx.resolve_path_at(dirfd, &path, flags)?.inode().stat()
}

pub fn sys_stat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let st = stat_at(ctx, g::AT_FDCWD, a[0], 0)?;
    user::write_val(a[1], &st)?;
    Ok(0)
}

pub fn sys_fstat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let st = ctx.file(fd_arg(a[0]))?.stat()?;
    user::write_val(a[1], &st)?;
    Ok(0)
}

pub fn sys_lstat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let st = stat_at(ctx, g::AT_FDCWD, a[0], g::AT_SYMLINK_NOFOLLOW)?;
    user::write_val(a[1], &st)?;
    Ok(0)
}

pub fn sys_newfstatat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let flags = a[3] as u32;
    if flags & !(g::AT_SYMLINK_NOFOLLOW | g::AT_NO_AUTOMOUNT | g::AT_EMPTY_PATH) != 0 {
        return err(Errno::EINVAL);
    }
    let st = stat_at(ctx, fd_arg(a[0]), a[1], flags)?;
    user::write_val(a[2], &st)?;
    Ok(0)
}

pub fn sys_statx(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (dirfd, flags, mask) = (fd_arg(a[0]), a[2] as u32, a[3] as u32);
    let allowed =
        g::AT_SYMLINK_NOFOLLOW | g::AT_NO_AUTOMOUNT | g::AT_EMPTY_PATH | g::AT_STATX_SYNC_TYPE;
    if flags & !allowed != 0 || flags & g::AT_STATX_SYNC_TYPE == g::AT_STATX_SYNC_TYPE {
        return err(Errno::EINVAL);
    }
    if mask & g::STATX__RESERVED != 0 {
        return err(Errno::EINVAL);
    }
    let st = stat_at(ctx, dirfd, a[1], flags)?;
    user::write_val(a[4], &statx_from_stat(&st))?;
    Ok(0)
}

pub fn sys_statfs(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let loc = ctx.resolve_at(g::AT_FDCWD, a[0], 0)?;
    write_statfs(a[1], loc.inode().statfs()?)
}

pub fn sys_fstatfs(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    // O_PATH descriptors are accepted, as on Linux.
    let file = ctx.file(fd_arg(a[0]))?;
    write_statfs(a[1], file.inode().statfs()?)
}

fn write_statfs(addr: u64, mut s: statfs64) -> Result<u64> {
    s.f_flags |= ST_VALID;
    user::write_val(addr, &s)?;
    Ok(0)
}

/// `major()` of an encoded `st_dev`/`st_rdev` (glibc's `gnu_dev_major`).
pub(super) fn dev_major(dev: u64) -> u32 {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & 0xffff_f000)) as u32
}

/// `minor()` of an encoded `st_dev`/`st_rdev` (glibc's `gnu_dev_minor`).
pub(super) fn dev_minor(dev: u64) -> u32 {
    ((dev & 0xff) | ((dev >> 12) & 0xffff_ff00)) as u32
}

fn timestamp(sec: u64, nsec: u64) -> statx_timestamp {
    statx_timestamp {
        tv_sec: sec as i64,
        tv_nsec: nsec as u32,
        __reserved: 0,
    }
}

/// The `struct statx` Linux would report for `st` (basic stats only; no birth time, no mount id).
fn statx_from_stat(st: &stat) -> statx {
    let mut x: statx = crate::pod::zeroed();
    x.stx_mask = g::STATX_BASIC_STATS;
    x.stx_blksize = st.st_blksize as u32;
    x.stx_nlink = st.st_nlink as u32;
    x.stx_uid = st.st_uid;
    x.stx_gid = st.st_gid;
    x.stx_mode = st.st_mode as u16;
    x.stx_ino = st.st_ino;
    x.stx_size = st.st_size as u64;
    x.stx_blocks = st.st_blocks as u64;
    x.stx_atime = timestamp(st.st_atime, st.st_atime_nsec);
    x.stx_mtime = timestamp(st.st_mtime, st.st_mtime_nsec);
    x.stx_ctime = timestamp(st.st_ctime, st.st_ctime_nsec);
    x.stx_rdev_major = dev_major(st.st_rdev);
    x.stx_rdev_minor = dev_minor(st.st_rdev);
    x.stx_dev_major = dev_major(st.st_dev);
    x.stx_dev_minor = dev_minor(st.st_dev);
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_numbers_split_like_glibc() {
        // 259:2 (an NVMe partition) in the classic encoding.
        assert_eq!((dev_major(0x10302), dev_minor(0x10302)), (259, 2));
        // Large minors and majors use the high bits.
        let dev = (0x123u64 << 8) | 0x45 | (0xabcde00u64 << 12) | (0x7ff000u64 << 32);
        assert_eq!(dev_major(dev), 0x7ff123);
        assert_eq!(dev_minor(dev), 0xabcde45);
    }

    #[test]
    fn statx_mirrors_stat() {
        let mut st: stat = crate::pod::zeroed();
        st.st_mode = g::S_IFREG | 0o644;
        st.st_size = 1234;
        st.st_blocks = 8;
        st.st_blksize = 4096;
        st.st_nlink = 2;
        st.st_mtime = 1_700_000_000;
        st.st_mtime_nsec = 999;
        st.st_dev = 0x803;
        let x = statx_from_stat(&st);
        assert_eq!(x.stx_mask, g::STATX_BASIC_STATS);
        assert_eq!(x.stx_mode as u32, g::S_IFREG | 0o644);
        assert_eq!(
            (x.stx_size, x.stx_blocks, x.stx_blksize, x.stx_nlink),
            (1234, 8, 4096, 2)
        );
        assert_eq!(
            (x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec),
            (1_700_000_000, 999)
        );
        assert_eq!((x.stx_dev_major, x.stx_dev_minor), (8, 3));
    }
}
