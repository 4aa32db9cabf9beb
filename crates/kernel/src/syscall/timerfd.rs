//! timerfd_create, timerfd_settime, timerfd_gettime (the timer: [`crate::fs::timerfd`]).

use super::poll::read_timespec_timeout;
use super::*;
use crate::fs::timerfd::{TimerFd, TimerFdFile, ns_timespec};

pub fn sys_timerfd_create(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (clock, flags) = (a[0] as i32, a[1] as u32);
    if flags & !(g::TFD_CLOEXEC | g::TFD_NONBLOCK) != 0 || clock < 0 {
        return err(Errno::EINVAL);
    }
    // Alarm clocks behave like their base clocks (there is no suspend to wake from).
    let host_clock = match clock as u32 {
        g::CLOCK_REALTIME | g::CLOCK_REALTIME_ALARM => g::CLOCK_REALTIME,
        g::CLOCK_MONOTONIC => g::CLOCK_MONOTONIC,
        g::CLOCK_BOOTTIME | g::CLOCK_BOOTTIME_ALARM => g::CLOCK_BOOTTIME,
        _ => return err(Errno::EINVAL),
    };
    let ops = Arc::new(TimerFdFile(TimerFd::new(host_clock)));
    let inode = ops.inode();
    let status = g::O_RDWR | flags & g::TFD_NONBLOCK;
    ctx.install_anon(ops, inode, "timerfd", status, flags & g::TFD_CLOEXEC != 0)
}

/// The timer behind `fd` (EBADF if closed, EINVAL if not a timerfd).
fn timer(ctx: &Ctx, fd: i32) -> Result<Arc<OpenFile>> {
    let file = ctx.file(fd)?;
    if file.is_path_only() {
        return err(Errno::EBADF);
    }
    if file.inode().as_any().downcast_ref::<TimerFd>().is_none() {
        return err(Errno::EINVAL);
    }
    Ok(file)
}

fn write_itimerspec(addr: u64, (value, interval): (u64, u64)) -> Result<()> {
    user::write_val(addr, &[ns_timespec(interval), ns_timespec(value)])
}

pub fn sys_timerfd_settime(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (fd, flags, new_addr, old_addr) = (fd_arg(a[0]), a[1] as u32, a[2], a[3]);
    // struct itimerspec { it_interval; it_value; }
    user::read_val::<[g::timespec; 2]>(new_addr)?;
    if flags & !(g::TFD_TIMER_ABSTIME | g::TFD_TIMER_CANCEL_ON_SET) != 0 {
        return err(Errno::EINVAL);
    }
    let interval = read_timespec_timeout(new_addr)?.unwrap_or(0);
    let value = read_timespec_timeout(new_addr + 16)?.unwrap_or(0);
    let file = timer(ctx, fd)?;
    let t = file
        .inode()
        .as_any()
        .downcast_ref::<TimerFd>()
        .expect("checked");
    // TFD_TIMER_CANCEL_ON_SET is accepted: the instance's clock is never set, so it never cancels.
    let old = t.settime(value, interval, flags & g::TFD_TIMER_ABSTIME != 0);
    if old_addr != 0 {
        write_itimerspec(old_addr, old)?;
    }
    Ok(0)
}

pub fn sys_timerfd_gettime(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let file = timer(ctx, fd_arg(a[0]))?;
    let t = file
        .inode()
        .as_any()
        .downcast_ref::<TimerFd>()
        .expect("checked");
    write_itimerspec(a[1], t.gettime())?;
    Ok(0)
}
