//! eventfd, eventfd2 (the object: [`crate::fs::eventfd`]).

use super::*;
use crate::fs::eventfd::{EventFd, EventFdFile};

pub fn sys_eventfd(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    create(ctx, a[0] as u32, 0)
}

pub fn sys_eventfd2(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    create(ctx, a[0] as u32, a[1] as u32)
}

fn create(ctx: &Ctx, initial: u32, flags: u32) -> Result<u64> {
    if flags & !(g::EFD_CLOEXEC | g::EFD_NONBLOCK | g::EFD_SEMAPHORE) != 0 {
        return err(Errno::EINVAL);
    }
    let ops = Arc::new(EventFdFile(EventFd::new(
        initial as u64,
        flags & g::EFD_SEMAPHORE != 0,
    )));
    let inode = ops.inode();
    let status = g::O_RDWR | flags & g::EFD_NONBLOCK;
    ctx.install_anon(ops, inode, "eventfd", status, flags & g::EFD_CLOEXEC != 0)
}
