//! epoll: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2 (the
//! interest lists and edge-triggered reporting: [`crate::fs::epoll`]).

use super::poll::{deadline_after, read_sigmask, read_timespec_timeout, with_sigmask};
use super::*;
use crate::fs::epoll::{Epoll, EpollFile, wait_for_ready};

/// `struct epoll_event` is packed on x86-64: u32 events, u64 data.
const EVENT_SIZE: usize = 12;
/// Linux's EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event).
const MAX_EVENTS: i32 = i32::MAX / EVENT_SIZE as i32;

pub fn sys_epoll_create(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    if (a[0] as i32) <= 0 {
        return err(Errno::EINVAL);
    }
    create(ctx, 0)
}

pub fn sys_epoll_create1(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let flags = a[0] as u32;
    if flags & !g::EPOLL_CLOEXEC != 0 {
        return err(Errno::EINVAL);
    }
    create(ctx, flags)
}

fn create(ctx: &Ctx, flags: u32) -> Result<u64> {
    let ops = Arc::new(EpollFile(Epoll::new()));
    let inode = ops.inode();
    ctx.install_anon(
        ops,
        inode,
        "eventpoll",
        g::O_RDWR,
        flags & g::EPOLL_CLOEXEC != 0,
    )
}

/// The open file behind `fd` as epoll uses it (O_PATH descriptors are EBADF).
fn target(ctx: &Ctx, fd: i32) -> Result<Arc<OpenFile>> {
    let file = ctx.file(fd)?;
    if file.is_path_only() {
        return err(Errno::EBADF);
    }
    Ok(file)
}

pub fn sys_epoll_ctl(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (epfd, op, fd, event_addr) = (fd_arg(a[0]), a[1] as u32, fd_arg(a[2]), a[3]);
    let (events, data) = if op != g::EPOLL_CTL_DEL {
        let raw = user::read_bytes(event_addr, EVENT_SIZE)?;
        (
            u32::from_ne_bytes(raw[..4].try_into().expect("4 bytes")),
            u64::from_ne_bytes(raw[4..].try_into().expect("8 bytes")),
        )
    } else {
        (0, 0)
    };
    let ep_file = target(ctx, epfd)?;
    let file = target(ctx, fd)?;
    if !file.ops.can_poll() {
        return err(Errno::EPERM);
    }
    let Some(ep) = Epoll::of(&ep_file) else {
        return err(Errno::EINVAL);
    };
    if Arc::ptr_eq(&ep_file, &file) {
        return err(Errno::EINVAL);
    }
    ep.ctl(op, fd, &file, events, data)?;
    Ok(0)
}

pub fn sys_epoll_wait(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let timeout = a[3] as i32;
    let ns = (timeout >= 0).then(|| timeout as u64 * 1_000_000);
    wait(ctx, fd_arg(a[0]), a[1], a[2] as i32, deadline_after(ns))
}

pub fn sys_epoll_pwait(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let mask = read_sigmask(a[4], a[5])?;
    let timeout = a[3] as i32;
    let ns = (timeout >= 0).then(|| timeout as u64 * 1_000_000);
    let deadline = deadline_after(ns);
    with_sigmask(ctx, mask, |ctx| {
        wait(ctx, fd_arg(a[0]), a[1], a[2] as i32, deadline)
    })
}

pub fn sys_epoll_pwait2(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let deadline = deadline_after(read_timespec_timeout(a[3])?);
    let mask = read_sigmask(a[4], a[5])?;
    with_sigmask(ctx, mask, |ctx| {
        wait(ctx, fd_arg(a[0]), a[1], a[2] as i32, deadline)
    })
}

fn wait(ctx: &Ctx, epfd: i32, events: u64, max: i32, deadline: Option<u64>) -> Result<u64> {
    if max <= 0 || max > MAX_EVENTS {
        return err(Errno::EINVAL);
    }
    // Linux's access_ok: the buffer must lie in user space (faults are found when writing).
    let len = max as u64 * EVENT_SIZE as u64;
    if events
        .checked_add(len)
        .is_none_or(|end| end > veil_abi::USER_SPACE_END as u64)
    {
        return err(Errno::EFAULT);
    }
    let ep_file = target(ctx, epfd)?;
    let Some(ep) = Epoll::of(&ep_file) else {
        return err(Errno::EINVAL);
    };
    let found = wait_for_ready(deadline, |sources| {
        let ready = ep.collect(max as usize, sources);
        Ok((!ready.is_empty()).then_some(ready))
    })?
    .unwrap_or_default();
    let mut out = Vec::with_capacity(found.len() * EVENT_SIZE);
    for (ev, data) in &found {
        out.extend_from_slice(&ev.to_ne_bytes());
        out.extend_from_slice(&data.to_ne_bytes());
    }
    user::write_bytes(events, &out)?;
    Ok(found.len() as u64)
}
