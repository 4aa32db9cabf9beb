//! Signal-raising timers: alarm, setitimer/getitimer (ITIMER_REAL), and POSIX timers
//! (timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete).

use super::*;
use crate::timer::{Notify, REAL_TIMER, deadline_after, remaining, to_ns};

const ITIMER_REAL: u64 = 0;
const SIGEV_SIGNAL: u32 = 0;
const SIGEV_NONE: u32 = 1;
const SIGEV_THREAD_ID: u32 = 4;
const TIMER_ABSTIME: u64 = 1;
const NS: u64 = 1_000_000_000;

pub fn sys_alarm(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let seconds = a[0] as u32 as u64;
    let old = kernel()
        .timers
        .set(ctx.process.pid, REAL_TIMER, deadline_after(seconds * NS), 0)?;
    // The seconds left on the previous alarm, rounded to nearest (at least 1 if armed).
    let left = remaining(old.deadline);
    Ok(if left == 0 {
        0
    } else {
        ((left + NS / 2) / NS).max(1)
    })
}

/// Reads a `struct itimerval` (interval, value) into ns.
fn read_itimerval(addr: u64) -> Result<(u64, u64)> {
    let raw: [u64; 4] = [
        user::read_val(addr)?,
        user::read_val(addr + 8)?,
        user::read_val(addr + 16)?,
        user::read_val(addr + 24)?,
    ];
    Ok((
        to_ns(raw[0] as i64, raw[1] as i64, 1_000_000)?,
        to_ns(raw[2] as i64, raw[3] as i64, 1_000_000)?,
    ))
}

fn write_pair(addr: u64, interval: u64, value: u64, per_sec: u64) -> Result<()> {
    let unit = NS / per_sec;
    let words = [
        interval / NS,
        interval % NS / unit,
        value / NS,
        value % NS / unit,
    ];
    user::write_bytes(
        addr,
        &words
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect::<Vec<u8>>(),
    )
}

fn check_which(which: u64) -> Result<()> {
    match which {
        ITIMER_REAL => Ok(()),
        1 | 2 => Err(Error::unsupported(
            Errno::EINVAL,
            "ITIMER_VIRTUAL and ITIMER_PROF (CPU-time timers)",
        )),
        _ => err(Errno::EINVAL),
    }
}

pub fn sys_setitimer(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    check_which(a[0])?;
    let (interval, value) = if a[1] == 0 {
        (0, 0)
    } else {
        read_itimerval(a[1])?
    };
    let old = kernel()
        .timers
        .set(ctx.process.pid, REAL_TIMER, deadline_after(value), interval)?;
    if a[2] != 0 {
        write_pair(a[2], old.interval, remaining(old.deadline), 1_000_000)?;
    }
    Ok(0)
}

pub fn sys_getitimer(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    check_which(a[0])?;
    let (interval, deadline) = kernel()
        .timers
        .get(ctx.process.pid, REAL_TIMER)
        .map_or((0, 0), |t| (t.interval, t.deadline));
    write_pair(a[1], interval, remaining(deadline), 1_000_000)?;
    Ok(0)
}

pub fn sys_timer_create(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let clock = a[0] as u32;
    match clock {
        g::CLOCK_REALTIME
        | g::CLOCK_MONOTONIC
        | g::CLOCK_BOOTTIME
        | g::CLOCK_REALTIME_ALARM
        | g::CLOCK_BOOTTIME_ALARM => {}
        g::CLOCK_PROCESS_CPUTIME_ID | g::CLOCK_THREAD_CPUTIME_ID => {
            return Err(Error::unsupported(Errno::EINVAL, "CPU-time POSIX timers"));
        }
        _ => return err(Errno::EINVAL),
    }
    let (notify, value) = if a[1] == 0 {
        (
            Notify::Signal {
                signo: g::SIGALRM,
                thread: None,
            },
            None,
        )
    } else {
        // struct sigevent: sigev_value (8), sigev_signo (4), sigev_notify (4), _tid (4).
        let raw = user::read_bytes(a[1], 20)?;
        let value = u64::from_ne_bytes(raw[0..8].try_into().expect("8 bytes"));
        let signo = u32::from_ne_bytes(raw[8..12].try_into().expect("4 bytes"));
        let how = u32::from_ne_bytes(raw[12..16].try_into().expect("4 bytes"));
        let tid = i32::from_ne_bytes(raw[16..20].try_into().expect("4 bytes"));
        let notify = match how {
            SIGEV_NONE => Notify::None,
            SIGEV_SIGNAL | SIGEV_THREAD_ID if signo == 0 || signo > 64 => {
                return err(Errno::EINVAL);
            }
            SIGEV_SIGNAL => Notify::Signal {
                signo,
                thread: None,
            },
            SIGEV_THREAD_ID => {
                let owned = ctx.process.threads.lock().contains(&tid);
                if !owned {
                    return err(Errno::EINVAL);
                }
                Notify::Signal {
                    signo,
                    thread: Some(tid),
                }
            }
            _ => return err(Errno::EINVAL),
        };
        (notify, Some(value))
    };
    // Check the result pointer before creating anything.
    user::write_val(a[2], &0i32)?;
    let id = kernel()
        .timers
        .create(ctx.process.pid, clock, notify, value);
    user::write_val(a[2], &id)?;
    Ok(0)
}

fn timer_id(raw: u64) -> Result<i32> {
    i32::try_from(raw as i64)
        .ok()
        .filter(|&id| id >= 0)
        .ok_or(Errno::EINVAL.into())
}

pub fn sys_timer_settime(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    // Linux ignores flags other than TIMER_ABSTIME.
    let id = timer_id(a[0])?;
    let spec: [i64; 4] = [
        user::read_val(a[2])?,
        user::read_val(a[2] + 8)?,
        user::read_val(a[2] + 16)?,
        user::read_val(a[2] + 24)?,
    ];
    let interval = to_ns(spec[0], spec[1], NS as i64)?;
    let value = to_ns(spec[2], spec[3], NS as i64)?;
    let timer = kernel().timers.get(ctx.process.pid, id)?;
    let relative = if value != 0 && a[1] & TIMER_ABSTIME != 0 {
        // An absolute expiry is on the timer's own clock.
        let clock = match timer.clock {
            g::CLOCK_REALTIME_ALARM => g::CLOCK_REALTIME,
            g::CLOCK_BOOTTIME_ALARM => g::CLOCK_BOOTTIME,
            c => c,
        };
        let now = kernel().platform.clock_gettime(clock)?;
        value
            .saturating_sub(now.tv_sec as u64 * NS + now.tv_nsec as u64)
            .max(1)
    } else {
        value
    };
    let old = kernel()
        .timers
        .set(ctx.process.pid, id, deadline_after(relative), interval)?;
    if a[3] != 0 {
        write_pair(a[3], old.interval, remaining(old.deadline), NS)?;
    }
    Ok(0)
}

pub fn sys_timer_gettime(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let t = kernel().timers.get(ctx.process.pid, timer_id(a[0])?)?;
    write_pair(a[1], t.interval, remaining(t.deadline), NS)?;
    Ok(0)
}

pub fn sys_timer_getoverrun(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    Ok(kernel()
        .timers
        .get(ctx.process.pid, timer_id(a[0])?)?
        .overrun as u64)
}

pub fn sys_timer_delete(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    kernel().timers.delete(ctx.process.pid, timer_id(a[0])?)?;
    Ok(0)
}
