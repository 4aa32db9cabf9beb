//! Extended attributes: no file system of Veil stores them yet. Every call checks its path or
//! fd like Linux (so ENOENT, EBADF and EFAULT come out right) and then reports EOPNOTSUPP, which
//! tools such as `ls -l` and `cp -a` treat as "this file system has no xattrs".

use super::*;

fn by_path(ctx: &Ctx, path: u64, follow: bool) -> Result<u64> {
    let flags = if follow { 0 } else { g::AT_SYMLINK_NOFOLLOW };
    ctx.resolve_at(g::AT_FDCWD, path, flags)?;
    err(Errno::EOPNOTSUPP)
}

fn by_fd(ctx: &Ctx, fd: u64) -> Result<u64> {
    ctx.file(fd_arg(fd))?;
    err(Errno::EOPNOTSUPP)
}

pub fn sys_setxattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_path(ctx, a[0], true)
}
pub fn sys_lsetxattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_path(ctx, a[0], false)
}
pub fn sys_fsetxattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_fd(ctx, a[0])
}
pub fn sys_getxattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_path(ctx, a[0], true)
}
pub fn sys_lgetxattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_path(ctx, a[0], false)
}
pub fn sys_fgetxattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_fd(ctx, a[0])
}
pub fn sys_listxattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_path(ctx, a[0], true)
}
pub fn sys_llistxattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_path(ctx, a[0], false)
}
pub fn sys_flistxattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_fd(ctx, a[0])
}
pub fn sys_removexattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_path(ctx, a[0], true)
}
pub fn sys_lremovexattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_path(ctx, a[0], false)
}
pub fn sys_fremovexattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    by_fd(ctx, a[0])
}
