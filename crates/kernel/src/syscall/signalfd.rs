//! Creating signalfds: signalfd, signalfd4.

use super::*;
use crate::fs::signalfd::{SignalFd, SignalFdFile};

const SFD_CLOEXEC: u32 = g::O_CLOEXEC;
const SFD_NONBLOCK: u32 = g::O_NONBLOCK;

pub fn sys_signalfd(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    create(ctx, fd_arg(a[0]), a[1], a[2], 0)
}

pub fn sys_signalfd4(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    create(ctx, fd_arg(a[0]), a[1], a[2], a[3] as u32)
}

fn create(ctx: &Ctx, fd: i32, mask_addr: u64, size: u64, flags: u32) -> Result<u64> {
    if size != 8 || flags & !(SFD_CLOEXEC | SFD_NONBLOCK) != 0 {
        return err(Errno::EINVAL);
    }
    let unblockable = (1u64 << (g::SIGKILL - 1)) | (1u64 << (g::SIGSTOP - 1));
    let mask: u64 = user::read_val::<u64>(mask_addr)? & !unblockable;
    if fd != -1 {
        // Change the mask of an existing signalfd.
        let file = ctx.file(fd)?;
        let sfd = file
            .inode()
            .as_any()
            .downcast_ref::<SignalFd>()
            .ok_or(Errno::EINVAL)?;
        *sfd.mask.lock() = mask;
        return Ok(fd as u64);
    }
    let ops = Arc::new(SignalFdFile(SignalFd::new(mask)));
    let inode = ops.inode();
    let status = g::O_RDWR | flags & SFD_NONBLOCK;
    ctx.install_anon(ops, inode, "signalfd", status, flags & SFD_CLOEXEC != 0)
}
