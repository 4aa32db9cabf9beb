//! Clocks and sleeps: `clock_gettime`, `clock_getres`, `gettimeofday`, `time`, `nanosleep`,
//! `clock_nanosleep`.
//!
//! Wall-clock and monotonic clocks are the host's (untrusted, as on any confidential platform;
//! programs usually read them through the host vDSO without trapping at all). CPU-time clocks
//! read the kernel's CPU time accounting (`process::cpu`): the precise clocks give user plus
//! system time, the tick clocks `CPUCLOCK_PROF` the same and `CPUCLOCK_VIRT` user time only.
//!
//! Clock ids follow Linux: the fixed `CLOCK_*` ids, and negative ids that encode a process or
//! thread CPU clock (`clock_getcpuclockid`, `pthread_getcpuclockid`) or a clock device fd.

use super::*;
use crate::process::cpu;

const NSEC_PER_SEC: u64 = 1_000_000_000;
/// Resolution of the tick-based CPU clocks (`CPUCLOCK_PROF`/`CPUCLOCK_VIRT`) at Linux's usual
/// `HZ` of 250.
const TICK_NS: i64 = 4_000_000;

/// The low bits of a negative clock id: which CPU clock it is, or `CLOCKFD`.
const CPUCLOCK_WHICH_MASK: i32 = 3;
const CPUCLOCK_PERTHREAD: i32 = 4;
/// The CPU clocks besides `CPUCLOCK_PROF` (0, user plus system time): user time (both
/// tick-based on Linux), and the precise total.
const CPUCLOCK_VIRT: i32 = 1;
const CPUCLOCK_SCHED: i32 = 2;
/// `CPUCLOCK_MAX`, which the fd-clock encoding reuses as `CLOCKFD`.
const CLOCKFD: i32 = 3;

/// What a clock id names, before looking up any process or thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClockKind {
    /// A clock the platform reads, by host clock id.
    Host(u32),
    /// CPU time of process `pid` (0 = the caller's); `which` = `CPUCLOCK_*`.
    ProcessCpu { pid: i32, which: i32 },
    /// CPU time of thread `tid` (0 = the caller).
    ThreadCpu { tid: i32, which: i32 },
}

/// Decodes a clock id; None for ids Linux rejects with EINVAL (and for clock devices, which
/// Veil has none of, so every fd is "not a clock" as on Linux without PTP devices).
fn decode_clock(id: i32) -> Option<ClockKind> {
    if id < 0 {
        let which = id & CPUCLOCK_WHICH_MASK;
        if which == CLOCKFD {
            return None;
        }
        // CPUCLOCK_PID: the id stores the bitwise complement of the pid above three flag bits.
        let pid = !(id >> 3);
        return Some(if id & CPUCLOCK_PERTHREAD != 0 {
            ClockKind::ThreadCpu { tid: pid, which }
        } else {
            ClockKind::ProcessCpu { pid, which }
        });
    }
    let id = id as u32;
    Some(match id {
        g::CLOCK_REALTIME
        | g::CLOCK_MONOTONIC
        | g::CLOCK_MONOTONIC_RAW
        | g::CLOCK_REALTIME_COARSE
        | g::CLOCK_MONOTONIC_COARSE
        | g::CLOCK_BOOTTIME
        | g::CLOCK_TAI => ClockKind::Host(id),
        // Alarm clocks read like their base clocks; waking a suspended machine is moot here.
        g::CLOCK_REALTIME_ALARM => ClockKind::Host(g::CLOCK_REALTIME),
        g::CLOCK_BOOTTIME_ALARM => ClockKind::Host(g::CLOCK_BOOTTIME),
        g::CLOCK_PROCESS_CPUTIME_ID => ClockKind::ProcessCpu {
            pid: 0,
            which: CPUCLOCK_SCHED,
        },
        g::CLOCK_THREAD_CPUTIME_ID => ClockKind::ThreadCpu {
            tid: 0,
            which: CPUCLOCK_SCHED,
        },
        _ => return None,
    })
}

/// Whether `clock_nanosleep` can sleep on a host clock (Linux: EOPNOTSUPP for the raw and
/// coarse clocks, which have no timers).
fn host_clock_sleeps(id: u32) -> bool {
    matches!(
        id,
        g::CLOCK_REALTIME | g::CLOCK_MONOTONIC | g::CLOCK_BOOTTIME | g::CLOCK_TAI
    )
}

/// A clock resolved against the kernel's processes and threads; CPU clocks with their
/// `CPUCLOCK_*`.
enum Source {
    Host(u32),
    /// CPU time of a process.
    Process(Arc<Process>, i32),
    /// CPU time of the calling thread.
    OwnThread(i32),
    /// CPU time of another thread of the caller's process.
    OtherThread(Arc<Thread>, i32),
}

/// Finds what a CPU clock measures, with Linux's rules: a thread clock only for threads of
/// the caller's process, a process clock only for a process id (or, when reading the time, the
/// calling thread's id). EINVAL otherwise.
fn resolve(ctx: &Ctx, kind: ClockKind, gettime: bool) -> Result<Source> {
    let k = kernel();
    Ok(match kind {
        ClockKind::Host(id) => Source::Host(id),
        ClockKind::ProcessCpu { pid: 0, which } => Source::Process(ctx.process.clone(), which),
        ClockKind::ProcessCpu { pid, which } if gettime && pid == ctx.thread.tid => {
            Source::Process(ctx.process.clone(), which)
        }
        ClockKind::ProcessCpu { pid, which } => Source::Process(
            k.processes.lock().get(&pid).cloned().ok_or(Errno::EINVAL)?,
            which,
        ),
        ClockKind::ThreadCpu { tid, which } if tid == 0 || tid == ctx.thread.tid => {
            Source::OwnThread(which)
        }
        ClockKind::ThreadCpu { tid, which } => {
            let thread = k.threads.lock().get(&tid).cloned().ok_or(Errno::EINVAL)?;
            if thread.process.pid != ctx.process.pid {
                return err(Errno::EINVAL);
            }
            Source::OtherThread(thread, which)
        }
    })
}

/// Reads a host clock, keeping its nanoseconds in range (the host is untrusted).
fn host_clock(id: u32) -> Result<g::timespec> {
    let mut ts = kernel().platform.clock_gettime(id)?;
    ts.tv_nsec = ts.tv_nsec.clamp(0, NSEC_PER_SEC as i64 - 1);
    Ok(ts)
}

/// What CPU clock `which` shows of `time`: user time for `CPUCLOCK_VIRT`, else the total.
fn cpu_clock_ns(time: cpu::CpuTime, which: i32) -> u64 {
    if which == CPUCLOCK_VIRT {
        time.user_ns
    } else {
        time.total_ns()
    }
}

/// Reads a resolved clock.
fn read_clock(ctx: &Ctx, source: &Source) -> Result<g::timespec> {
    Ok(match source {
        Source::Host(id) => host_clock(*id)?,
        Source::Process(p, which) => ns_timespec(cpu_clock_ns(cpu::process_time(p), *which)),
        Source::OwnThread(which) => {
            ns_timespec(cpu_clock_ns(cpu::thread_time(&ctx.thread), *which))
        }
        Source::OtherThread(t, which) => ns_timespec(cpu_clock_ns(cpu::thread_time(t), *which)),
    })
}

/// Nanoseconds as a timespec.
fn ns_timespec(ns: u64) -> g::timespec {
    g::timespec {
        tv_sec: (ns / NSEC_PER_SEC) as i64,
        tv_nsec: (ns % NSEC_PER_SEC) as i64,
    }
}

/// A (valid, non-negative) timespec in nanoseconds, saturating.
fn timespec_ns(ts: &g::timespec) -> u64 {
    (ts.tv_sec.max(0) as u64)
        .saturating_mul(NSEC_PER_SEC)
        .saturating_add(ts.tv_nsec.max(0) as u64)
}

/// Validates a timespec a program passes (Linux `timespec64_valid`): EINVAL for a negative
/// `tv_sec` or a `tv_nsec` outside `0..1e9`. Returns it in nanoseconds, saturating.
fn valid_timespec_ns(ts: &g::timespec) -> Result<u64> {
    if ts.tv_sec < 0 || !(0..NSEC_PER_SEC as i64).contains(&ts.tv_nsec) {
        return err(Errno::EINVAL);
    }
    Ok(timespec_ns(ts))
}

pub fn sys_clock_gettime(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let kind = decode_clock(a[0] as i32).ok_or(Errno::EINVAL)?;
    let source = resolve(ctx, kind, true)?;
    let ts = read_clock(ctx, &source)?;
    user::write_val(a[1], &ts)?;
    Ok(0)
}

pub fn sys_clock_getres(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let kind = decode_clock(a[0] as i32).ok_or(Errno::EINVAL)?;
    let source = resolve(ctx, kind, false)?;
    let res = match (source, kind) {
        (Source::Host(id), _) => kernel().platform.clock_getres(id)?,
        (_, ClockKind::ProcessCpu { which, .. } | ClockKind::ThreadCpu { which, .. })
            if which != CPUCLOCK_SCHED =>
        {
            g::timespec {
                tv_sec: 0,
                tv_nsec: TICK_NS,
            }
        }
        _ => g::timespec {
            tv_sec: 0,
            tv_nsec: 1,
        },
    };
    // A NULL buffer is allowed: the call then only validates the clock.
    if a[1] != 0 {
        user::write_val(a[1], &res)?;
    }
    Ok(0)
}

pub fn sys_gettimeofday(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (tv, tz) = (a[0], a[1]);
    if tv != 0 {
        let now = host_clock(g::CLOCK_REALTIME)?;
        let val = g::timeval {
            tv_sec: now.tv_sec,
            tv_usec: now.tv_nsec / 1000,
        };
        user::write_val(tv, &val)?;
    }
    if tz != 0 {
        // The kernel's time zone is UTC with no DST correction, as on a system nobody set it on.
        user::write_val(
            tz,
            &g::timezone {
                tz_minuteswest: 0,
                tz_dsttime: 0,
            },
        )?;
    }
    Ok(0)
}

pub fn sys_time(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let secs = host_clock(g::CLOCK_REALTIME)?.tv_sec;
    if a[0] != 0 {
        user::write_val(a[0], &secs)?;
    }
    Ok(secs as u64)
}

/// How a sleep ended early.
enum Interrupted {
    /// By a host signal, with this much of the requested time left (nanoseconds).
    Remaining(u64),
    /// The platform failed otherwise.
    Error(Error),
}

/// Sleeps for `ns` nanoseconds of monotonic time.
fn sleep_ns(ns: u64) -> core::result::Result<(), Interrupted> {
    if ns == 0 {
        return Ok(());
    }
    let k = kernel();
    let end = k.monotonic_ns().saturating_add(ns);
    // Slices, so that a signal racing with the start of a sleep is noticed soon; a host
    // interruption with nothing to deliver just continues the sleep.
    loop {
        if crate::signal::interrupted() {
            return Err(Interrupted::Remaining(end.saturating_sub(k.monotonic_ns())));
        }
        let left = end.saturating_sub(k.monotonic_ns());
        if left == 0 {
            return Ok(());
        }
        match k
            .platform
            .sleep(left.min(crate::sync::SIGNAL_CHECK_SLICE_NS))
        {
            Ok(()) | Err(Errno::EINTR) => {}
            Err(e) => return Err(Interrupted::Error(e.into())),
        }
    }
}

/// Sleeps for `ns`; on interruption stores the time left at `rem` (if not NULL) and fails with
/// EINTR. Signal delivery (and thus restarting a sleep no handler interrupted) is not done yet:
/// a host interruption always ends the sleep.
fn sleep_relative(ns: u64, rem: u64) -> Result<u64> {
    match sleep_ns(ns) {
        Ok(()) => Ok(0),
        Err(Interrupted::Remaining(left)) => {
            if rem != 0 {
                user::write_val(rem, &ns_timespec(left))?;
            }
            err(Errno::EINTR)
        }
        Err(Interrupted::Error(e)) => Err(e),
    }
}

pub fn sys_nanosleep(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let req: g::timespec = user::read_val(a[0])?;
    let ns = valid_timespec_ns(&req)?;
    sleep_relative(ns, a[1])
}

pub fn sys_clock_nanosleep(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (flags, req_addr, rem) = (a[1] as u32, a[2], a[3]);
    let kind = decode_clock(a[0] as i32).ok_or(Errno::EINVAL)?;
    // Linux has no timers on the raw and coarse clocks nor on CLOCK_THREAD_CPUTIME_ID (the
    // negative per-thread ids fail later, with EINVAL).
    let sleeps = match kind {
        ClockKind::Host(id) => host_clock_sleeps(id),
        _ => a[0] as i32 != g::CLOCK_THREAD_CPUTIME_ID as i32,
    };
    if !sleeps {
        return err(Errno::EOPNOTSUPP);
    }
    let req: g::timespec = user::read_val(req_addr)?;
    let ns = valid_timespec_ns(&req)?;
    let source = resolve(ctx, kind, false)?;
    if let Source::OwnThread(_) = source {
        // The caller's own CPU clock does not advance while it sleeps.
        return err(Errno::EINVAL);
    }
    if flags & g::TIMER_ABSTIME != 0 {
        let now = timespec_ns(&read_clock(ctx, &source)?);
        // An absolute sleep has nothing to report as remaining: the program re-issues it.
        return match sleep_ns(ns.saturating_sub(now)) {
            Ok(()) => Ok(0),
            Err(Interrupted::Remaining(_)) => err(Errno::EINTR),
            Err(Interrupted::Error(e)) => Err(e),
        };
    }
    sleep_relative(ns, rem)
}

/// Setting clocks: only `CLOCK_REALTIME` is settable on Linux, and an instance may not move the
/// host's clock, so that fails with EPERM (and a log line); every other clock is EINVAL.
pub fn sys_clock_settime(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let ts: g::timespec = user::read_val(a[1])?;
    valid_timespec_ns(&ts)?;
    match decode_clock(a[0] as i32) {
        Some(ClockKind::Host(g::CLOCK_REALTIME)) => {
            Err(Error::unsupported(Errno::EPERM, "setting the system clock"))
        }
        _ => err(Errno::EINVAL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `MAKE_PROCESS_CPUCLOCK` / `MAKE_THREAD_CPUCLOCK` as glibc computes them.
    fn cpuclock(pid: i32, which: i32, thread: bool) -> i32 {
        (!pid << 3) | which | if thread { CPUCLOCK_PERTHREAD } else { 0 }
    }

    #[test]
    fn decodes_fixed_clocks() {
        assert_eq!(decode_clock(0), Some(ClockKind::Host(g::CLOCK_REALTIME)));
        assert_eq!(decode_clock(11), Some(ClockKind::Host(g::CLOCK_TAI)));
        assert_eq!(decode_clock(8), Some(ClockKind::Host(g::CLOCK_REALTIME)));
        assert_eq!(
            decode_clock(2),
            Some(ClockKind::ProcessCpu {
                pid: 0,
                which: CPUCLOCK_SCHED
            })
        );
        assert_eq!(
            decode_clock(3),
            Some(ClockKind::ThreadCpu {
                tid: 0,
                which: CPUCLOCK_SCHED
            })
        );
        assert_eq!(decode_clock(10), None);
        assert_eq!(decode_clock(12), None);
        assert_eq!(decode_clock(i32::MAX), None);
    }

    #[test]
    fn decodes_cpu_clock_ids() {
        assert_eq!(
            decode_clock(cpuclock(42, 2, false)),
            Some(ClockKind::ProcessCpu {
                pid: 42,
                which: CPUCLOCK_SCHED
            })
        );
        assert_eq!(
            decode_clock(cpuclock(7, 2, true)),
            Some(ClockKind::ThreadCpu {
                tid: 7,
                which: CPUCLOCK_SCHED
            })
        );
        assert_eq!(
            decode_clock(cpuclock(7, 0, false)),
            Some(ClockKind::ProcessCpu { pid: 7, which: 0 })
        );
        // CLOCKFD (a clock device fd) and the invalid per-thread variant of it.
        assert_eq!(decode_clock(cpuclock(3, 3, false)), None);
        assert_eq!(decode_clock(cpuclock(3, 3, true)), None);
        assert_eq!(decode_clock(-1), None);
    }

    #[test]
    fn validates_timespecs() {
        let ts = |s, n| g::timespec {
            tv_sec: s,
            tv_nsec: n,
        };
        assert_eq!(valid_timespec_ns(&ts(1, 5)), Ok(1_000_000_005));
        assert_eq!(valid_timespec_ns(&ts(0, 999_999_999)), Ok(999_999_999));
        assert_eq!(valid_timespec_ns(&ts(i64::MAX, 0)), Ok(u64::MAX));
        assert!(valid_timespec_ns(&ts(-1, 0)).is_err());
        assert!(valid_timespec_ns(&ts(0, -1)).is_err());
        assert!(valid_timespec_ns(&ts(0, 1_000_000_000)).is_err());
    }

    #[test]
    fn converts_nanoseconds() {
        let t = ns_timespec(3_000_000_007);
        assert_eq!((t.tv_sec, t.tv_nsec), (3, 7));
    }
}
