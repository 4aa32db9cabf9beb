//! Readiness multiplexing: poll, ppoll, select, pselect6 (waiting: see [`crate::fs::epoll`]).
//!
//! The signal-mask arguments are validated and installed for the duration of the call; signals
//! are not delivered yet, so a wait is never interrupted by one.

use super::*;
use crate::fs::epoll::{ready_mask, wait_for_ready};
use crate::pod;
use core::sync::atomic::Ordering;

const NSEC_PER_SEC: u64 = 1_000_000_000;
const SIGSET_SIZE: u64 = 8;
/// SIGKILL and SIGSTOP cannot be blocked.
const UNBLOCKABLE: u64 = (1 << (g::SIGKILL - 1)) | (1 << (g::SIGSTOP - 1));

/// Reads a temporary signal mask argument (NULL: none; EINVAL for a size other than 8).
pub(super) fn read_sigmask(addr: u64, size: u64) -> Result<Option<u64>> {
    if addr == 0 {
        return Ok(None);
    }
    if size != SIGSET_SIZE {
        return err(Errno::EINVAL);
    }
    Ok(Some(user::read_val::<u64>(addr)? & !UNBLOCKABLE))
}

/// Runs `f` with the thread's signal mask replaced by `mask` (if given). The old mask comes
/// back when `f` returns, unless a signal interrupted it: as on Linux (and as for
/// `rt_sigsuspend`), the signal is then delivered under the temporary mask and the old one is
/// restored after (by the handler's frame, or before returning if no handler runs). Restoring
/// it at once would block again the signal that interrupted the call, and a restart would
/// then be interrupted by it forever (make's jobserver `pselect` loop).
pub(super) fn with_sigmask(
    ctx: &mut Ctx,
    mask: Option<u64>,
    f: impl FnOnce(&mut Ctx) -> Result<u64>,
) -> Result<u64> {
    let Some(mask) = mask else {
        return f(ctx);
    };
    let old = ctx.thread.sigmask.swap(mask, Ordering::AcqRel);
    let result = f(ctx);
    let interrupted = [Errno::EINTR, Errno::ERESTARTNOHAND, Errno::ERESTARTSYS];
    match &result {
        Err(e) if interrupted.contains(&e.errno) => *ctx.thread.saved_sigmask.lock() = Some(old),
        _ => ctx.thread.sigmask.store(old, Ordering::Release),
    }
    result
}

/// The absolute deadline for a relative timeout of `ns` (None: forever).
pub(super) fn deadline_after(ns: Option<u64>) -> Option<u64> {
    ns.map(|ns| kernel().monotonic_ns().saturating_add(ns))
}

/// Reads a `struct timespec` timeout (NULL: forever; EINVAL if invalid) in ns.
pub(super) fn read_timespec_timeout(addr: u64) -> Result<Option<u64>> {
    if addr == 0 {
        return Ok(None);
    }
    let ts: g::timespec = user::read_val(addr)?;
    if ts.tv_sec < 0 || !(0..NSEC_PER_SEC as i64).contains(&ts.tv_nsec) {
        return err(Errno::EINVAL);
    }
    Ok(Some(
        (ts.tv_sec as u64)
            .saturating_mul(NSEC_PER_SEC)
            .saturating_add(ts.tv_nsec as u64),
    ))
}

/// How the remaining time is written back (Linux updates the timeouts of select, pselect6
/// and ppoll, but not a zero one; a fault while doing so is ignored).
#[derive(Clone, Copy, PartialEq, Eq)]
enum TimeFormat {
    Timeval,
    Timespec,
}

fn write_remaining(addr: u64, timeout: Option<u64>, deadline: Option<u64>, format: TimeFormat) {
    let (Some(timeout), Some(deadline)) = (timeout, deadline) else {
        return;
    };
    if addr == 0 || timeout == 0 {
        return;
    }
    let left = deadline.saturating_sub(kernel().monotonic_ns());
    let (sec, nsec) = ((left / NSEC_PER_SEC) as i64, (left % NSEC_PER_SEC) as i64);
    let _ = match format {
        TimeFormat::Timespec => user::write_val(
            addr,
            &g::timespec {
                tv_sec: sec,
                tv_nsec: nsec,
            },
        ),
        TimeFormat::Timeval => user::write_val(
            addr,
            &g::timeval {
                tv_sec: sec,
                tv_usec: nsec / 1000,
            },
        ),
    };
}

/// The open file behind `fd` for readiness checks (O_PATH descriptors count as closed).
fn poll_file(ctx: &Ctx, fd: i32) -> Option<Arc<OpenFile>> {
    ctx.file(fd).ok().filter(|f| !f.is_path_only())
}

// --- poll, ppoll ---

pub fn sys_poll(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let timeout = a[2] as i32;
    let ns = (timeout >= 0).then(|| timeout as u64 * 1_000_000);
    do_poll(ctx, a[0], a[1] as u32, deadline_after(ns))
}

pub fn sys_ppoll(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (fds, nfds, ts_addr) = (a[0], a[1] as u32, a[2]);
    let timeout = read_timespec_timeout(ts_addr)?;
    let mask = read_sigmask(a[3], a[4])?;
    let deadline = deadline_after(timeout);
    let result = with_sigmask(ctx, mask, |ctx| do_poll(ctx, fds, nfds, deadline));
    write_remaining(ts_addr, timeout, deadline, TimeFormat::Timespec);
    result
}

fn do_poll(ctx: &Ctx, addr: u64, nfds: u32, deadline: Option<u64>) -> Result<u64> {
    if nfds as usize > ctx.process.limits.lock().nofile() {
        return err(Errno::EINVAL);
    }
    const SIZE: usize = core::mem::size_of::<g::pollfd>();
    let raw = user::read_bytes(addr, nfds as usize * SIZE)?;
    let mut fds: Vec<g::pollfd> = raw.chunks_exact(SIZE).map(pod::from_bytes).collect();
    let found = wait_for_ready(deadline, |sources| {
        let mut count = 0;
        for p in fds.iter_mut() {
            p.revents = 0;
            if p.fd < 0 {
                continue;
            }
            p.revents = match poll_file(ctx, p.fd) {
                None => g::POLLNVAL as i16,
                Some(file) => {
                    file.ops.wait_sources(p.events, sources);
                    ready_mask(&file, p.events as u16) as i16
                }
            };
            count += (p.revents != 0) as u64;
        }
        Ok((count > 0).then_some(count))
    })?;
    let mut out = Vec::with_capacity(raw.len());
    for p in &fds {
        out.extend_from_slice(pod::as_bytes(p));
    }
    user::write_bytes(addr, &out)?;
    Ok(found.unwrap_or(0))
}

// --- select, pselect6 ---

/// Linux's POLLIN_SET, POLLOUT_SET, POLLEX_SET: what makes a descriptor readable, writable or
/// exceptional for select.
const SELECT_IN: u16 = (g::POLLRDNORM | g::POLLRDBAND | g::POLLIN | g::POLLHUP | g::POLLERR) as u16;
const SELECT_OUT: u16 = (g::POLLWRBAND | g::POLLWRNORM | g::POLLOUT | g::POLLERR) as u16;
const SELECT_EX: u16 = g::POLLPRI as u16;

pub fn sys_select(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let tv_addr = a[4];
    let timeout = if tv_addr == 0 {
        None
    } else {
        let tv: g::timeval = user::read_val(tv_addr)?;
        if tv.tv_sec < 0 || tv.tv_usec < 0 {
            return err(Errno::EINVAL);
        }
        // Linux normalises a tv_usec of a second or more instead of refusing it.
        let sec = (tv.tv_sec as u64).saturating_add(tv.tv_usec as u64 / 1_000_000);
        Some(
            sec.saturating_mul(NSEC_PER_SEC)
                .saturating_add(tv.tv_usec as u64 % 1_000_000 * 1000),
        )
    };
    let deadline = deadline_after(timeout);
    let result = do_select(ctx, a[0] as i32, [a[1], a[2], a[3]], deadline);
    write_remaining(tv_addr, timeout, deadline, TimeFormat::Timeval);
    result
}

pub fn sys_pselect6(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let ts_addr = a[4];
    let timeout = read_timespec_timeout(ts_addr)?;
    let deadline = deadline_after(timeout);
    // The sixth argument points to { const sigset_t *ss; size_t ss_len; }.
    let mask = if a[5] == 0 {
        None
    } else {
        let [set, size]: [u64; 2] = user::read_val(a[5])?;
        read_sigmask(set, size)?
    };
    let sets = [a[1], a[2], a[3]];
    let result = with_sigmask(ctx, mask, |ctx| do_select(ctx, a[0] as i32, sets, deadline));
    write_remaining(ts_addr, timeout, deadline, TimeFormat::Timespec);
    result
}

fn do_select(ctx: &Ctx, nfds: i32, addrs: [u64; 3], deadline: Option<u64>) -> Result<u64> {
    if nfds < 0 {
        return err(Errno::EINVAL);
    }
    // Linux clamps nfds to the size of the fd table, which grows in steps from 64.
    let highest = ctx
        .process
        .fds
        .lock()
        .iter()
        .last()
        .map_or(0, |(fd, _)| fd as usize + 1);
    let table_size = if highest <= 64 {
        64
    } else {
        (highest.div_ceil(128)).next_power_of_two() * 128
    };
    let n = (nfds as usize).min(table_size);
    let words = n.div_ceil(64);
    let mut sets = [Vec::new(), Vec::new(), Vec::new()];
    for (set, &addr) in sets.iter_mut().zip(&addrs) {
        if addr != 0 {
            let raw = user::read_bytes(addr, words * 8)?;
            *set = raw
                .chunks_exact(8)
                .map(|w| u64::from_ne_bytes(w.try_into().expect("8 bytes")))
                .collect();
        } else {
            *set = alloc::vec![0; words];
        }
    }
    let bit = |set: &[u64], fd: usize| set[fd / 64] >> (fd % 64) & 1 != 0;
    // Every descriptor named must be open (EBADF before any wait).
    let mut files = Vec::new();
    for fd in 0..n {
        let wanted = [SELECT_IN, SELECT_OUT, SELECT_EX]
            .iter()
            .zip(&sets)
            .filter(|(_, s)| bit(s, fd))
            .fold(0u16, |acc, (m, _)| acc | m);
        if wanted != 0 {
            files.push((fd, wanted, poll_file(ctx, fd as i32).ok_or(Errno::EBADF)?));
        }
    }
    let mut out = [
        alloc::vec![0u64; words],
        alloc::vec![0u64; words],
        alloc::vec![0u64; words],
    ];
    let found = wait_for_ready(deadline, |sources| {
        let mut count = 0;
        for o in out.iter_mut() {
            o.fill(0);
        }
        for (fd, wanted, file) in &files {
            file.ops.wait_sources(*wanted as i16, sources);
            let ready = ready_mask(file, *wanted);
            for (i, mask) in [SELECT_IN, SELECT_OUT, SELECT_EX].iter().enumerate() {
                if bit(&sets[i], *fd) && ready & mask != 0 {
                    out[i][fd / 64] |= 1 << (fd % 64);
                    count += 1;
                }
            }
        }
        Ok((count > 0).then_some(count))
    })?;
    for (o, &addr) in out.iter().zip(&addrs) {
        if addr != 0 {
            let bytes: Vec<u8> = o.iter().flat_map(|w| w.to_ne_bytes()).collect();
            user::write_bytes(addr, &bytes)?;
        }
    }
    Ok(found.unwrap_or(0))
}
