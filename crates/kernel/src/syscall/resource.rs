//! Resources and scheduling: resource limits (`prlimit64`, `getrlimit`, `setrlimit`), usage
//! (`getrusage`, `times`), CPU affinity, `getcpu`, nice values and scheduling policies.
//!
//! Veil does not schedule: the host does. These calls record what programs set (limits, nice
//! values, policies, affinity masks) so that reading them back gives what Linux would, with the
//! one user being root (raising hard limits and lowering nice values are allowed). Real-time
//! policies are refused: the host would not grant them to the LibOS.

use super::info::find_process;
use super::*;
use crate::process::cpu::{self, CpuTime};
use crate::process::identity::UID;
use crate::process::limits::RLIM_NLIMITS;
use core::sync::atomic::Ordering;
use veil_abi::Tms;

/// The largest open-file limit (`/proc/sys/fs/nr_open`'s default).
const NR_OPEN: u64 = 1 << 20;
/// Clock ticks per second of `times` (`USER_HZ`).
const USER_HZ: u64 = 100;
const NSEC_PER_SEC: u64 = 1_000_000_000;
/// Nice values range over −20..=19.
const MIN_NICE: i32 = -20;
const MAX_NICE: i32 = 19;
/// Priorities of the real-time policies range over 1..=99.
const MAX_RT_PRIO: u32 = 99;

/// Reads, and with `new` replaces, limit `resource` of `process`; returns the previous value.
/// Shared by `getrlimit`, `setrlimit` and `prlimit64`.
fn do_prlimit(process: &Process, resource: u32, new: Option<g::rlimit64>) -> Result<g::rlimit64> {
    let index = resource as usize;
    if index >= RLIM_NLIMITS {
        return err(Errno::EINVAL);
    }
    if let Some(new) = new {
        if new.rlim_cur > new.rlim_max {
            return err(Errno::EINVAL);
        }
        if resource == g::RLIMIT_NOFILE && new.rlim_max > NR_OPEN {
            return err(Errno::EPERM);
        }
    }
    let mut limits = process.limits.lock();
    let old = limits.0[index];
    if let Some(new) = new {
        limits.0[index] = new;
    }
    Ok(old)
}

pub fn sys_prlimit64(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (pid, resource, new_addr, old_addr) = (a[0] as i32, a[1] as u32, a[2], a[3]);
    if resource as usize >= RLIM_NLIMITS {
        return err(Errno::EINVAL);
    }
    let new = if new_addr != 0 {
        Some(user::read_val::<g::rlimit64>(new_addr)?)
    } else {
        None
    };
    let process = find_process(ctx, pid)?;
    let old = do_prlimit(&process, resource, new)?;
    if old_addr != 0 {
        user::write_val(old_addr, &old)?;
    }
    Ok(0)
}

pub fn sys_getrlimit(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let old = do_prlimit(&ctx.process, a[0] as u32, None)?;
    user::write_val(
        a[1],
        &g::rlimit {
            rlim_cur: old.rlim_cur,
            rlim_max: old.rlim_max,
        },
    )?;
    Ok(0)
}

pub fn sys_setrlimit(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    // Linux copies the new value in before it looks at the resource number.
    let new: g::rlimit = user::read_val(a[1])?;
    let new = g::rlimit64 {
        rlim_cur: new.rlim_cur,
        rlim_max: new.rlim_max,
    };
    do_prlimit(&ctx.process, a[0] as u32, Some(new))?;
    Ok(0)
}

/// Nanoseconds as a `struct timeval`.
fn ns_timeval(ns: u64) -> g::__kernel_old_timeval {
    g::__kernel_old_timeval {
        tv_sec: (ns / NSEC_PER_SEC) as i64,
        tv_usec: (ns % NSEC_PER_SEC / 1000) as i64,
    }
}

/// A `struct rusage` with the user and system time of `time`, everything else zero.
pub(super) fn cpu_rusage(time: CpuTime) -> g::rusage {
    let mut usage: g::rusage = crate::pod::zeroed();
    usage.ru_utime = ns_timeval(time.user_ns);
    usage.ru_stime = ns_timeval(time.system_ns);
    usage
}

/// `getrusage`: CPU time (`process::cpu`), the mapped size as the maximum resident set of the
/// process, everything else zero. Children's usage is their CPU time only.
pub fn sys_getrusage(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let who = a[0] as i32;
    let (time, self_usage) = match who {
        w if w == g::RUSAGE_SELF as i32 => (cpu::process_time(&ctx.process), true),
        w if w == g::RUSAGE_THREAD as i32 => (cpu::thread_time(&ctx.thread), true),
        g::RUSAGE_CHILDREN => (cpu::children_time(&ctx.process), false),
        _ => return err(Errno::EINVAL),
    };
    let mut usage = cpu_rusage(time);
    if self_usage {
        usage.ru_maxrss = (crate::mm::process_mapped_bytes(&ctx.process.vm().lock()) / 1024) as i64;
    }
    user::write_val(a[1], &usage)?;
    Ok(0)
}

/// Nanoseconds in `times` clock ticks.
fn ns_ticks(ns: u64) -> u64 {
    ns / (NSEC_PER_SEC / USER_HZ)
}

/// `times`: returns the clock ticks since boot; fills in the CPU time of the process and of
/// its reaped children. A NULL buffer is allowed.
pub fn sys_times(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    if a[0] != 0 {
        let own = cpu::process_time(&ctx.process);
        let children = cpu::children_time(&ctx.process);
        let tms = Tms {
            tms_utime: ns_ticks(own.user_ns) as i64,
            tms_stime: ns_ticks(own.system_ns) as i64,
            tms_cutime: ns_ticks(children.user_ns) as i64,
            tms_cstime: ns_ticks(children.system_ns) as i64,
        };
        user::write_val(a[0], &tms)?;
    }
    Ok(ns_ticks(kernel().uptime_ns()))
}

/// Size in bytes of the kernel's CPU mask for `cpus` CPUs (whole 64-bit words).
fn mask_bytes(cpus: usize) -> usize {
    cpus.div_ceil(64) * 8
}

/// The mask with the first `cpus` CPUs set.
fn full_mask(cpus: usize) -> Vec<u64> {
    (0..cpus.div_ceil(64))
        .map(|w| {
            let bits = (cpus - w * 64).min(64);
            if bits == 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            }
        })
        .collect()
}

/// The mask in `bytes` (little-endian words as the ABI lays them out), restricted to `cpus`
/// CPUs; missing bytes count as clear.
fn mask_from_bytes(bytes: &[u8], cpus: usize) -> Vec<u64> {
    full_mask(cpus)
        .iter()
        .enumerate()
        .map(|(w, online)| {
            let mut word = [0u8; 8];
            for (i, b) in word.iter_mut().enumerate() {
                *b = bytes.get(w * 8 + i).copied().unwrap_or(0);
            }
            u64::from_le_bytes(word) & online
        })
        .collect()
}

/// The thread `pid` names for the affinity calls (0 = the caller). ESRCH when there is none.
fn find_thread(ctx: &Ctx, pid: i32) -> Result<Arc<Thread>> {
    if pid == 0 {
        return Ok(ctx.thread.clone());
    }
    kernel()
        .threads
        .lock()
        .get(&pid)
        .cloned()
        .ok_or_else(|| Errno::ESRCH.into())
}

pub fn sys_sched_getaffinity(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (pid, len, addr) = (a[0] as i32, a[1] as u32 as usize, a[2]);
    let cpus = online_cpus();
    if len * 8 < cpus || len % 8 != 0 {
        return err(Errno::EINVAL);
    }
    let thread = find_thread(ctx, pid)?;
    let mask = {
        let stored = thread.affinity.lock();
        if stored.is_empty() {
            full_mask(cpus)
        } else {
            stored.clone()
        }
    };
    let bytes: Vec<u8> = mask
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .take(mask_bytes(cpus))
        .collect();
    user::write_bytes(addr, &bytes)?;
    Ok(bytes.len() as u64)
}

/// `sched_setaffinity`: records the mask (restricted to the online CPUs) for the thread; the
/// host still places the thread where it likes. EINVAL when no online CPU remains.
pub fn sys_sched_setaffinity(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (pid, len, addr) = (a[0] as i32, a[1] as u32 as usize, a[2]);
    let cpus = online_cpus();
    // Linux copies at most its own mask size; a shorter mask leaves the remaining CPUs clear.
    let raw = user::read_bytes(addr, len.min(mask_bytes(cpus)))?;
    let thread = find_thread(ctx, pid)?;
    let mask = mask_from_bytes(&raw, cpus);
    if mask.iter().all(|&w| w == 0) {
        return err(Errno::EINVAL);
    }
    *thread.affinity.lock() = if mask == full_mask(cpus) {
        Vec::new()
    } else {
        mask
    };
    Ok(0)
}

/// The round-robin time slice Linux reports for a normal task (CFS's default minimum slice
/// granularity is not exposed; 100 ms is what `SCHED_RR` uses by default).
const RR_INTERVAL_NS: i64 = 100_000_000;

pub fn sys_sched_rr_get_interval(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let pid = a[0] as i32;
    if pid < 0 {
        return err(Errno::EINVAL);
    }
    find_thread(ctx, pid)?;
    let ts = g::timespec {
        tv_sec: 0,
        tv_nsec: RR_INTERVAL_NS,
    };
    user::write_val(a[1], &ts)?;
    Ok(0)
}

pub fn sys_sched_yield(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    kernel().platform.yield_now();
    Ok(0)
}

/// `getcpu`: Veil does not know which host CPU runs the thread; it reports CPU 0, node 0.
pub fn sys_getcpu(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    for addr in [a[0], a[1]] {
        if addr != 0 {
            user::write_val(addr, &0u32)?;
        }
    }
    Ok(0)
}

/// The processes a `getpriority`/`setpriority` (`which`, `who`) pair names; ESRCH when none.
fn priority_targets(ctx: &Ctx, which: u32, who: i32) -> Result<Vec<Arc<Process>>> {
    let all = || {
        kernel()
            .processes
            .lock()
            .values()
            .cloned()
            .collect::<Vec<_>>()
    };
    let targets = match which {
        g::PRIO_PROCESS => alloc::vec![find_process(ctx, who)?],
        g::PRIO_PGRP => {
            let pgid = if who == 0 {
                ctx.process.pgid.load(Ordering::Relaxed)
            } else {
                who
            };
            all()
                .into_iter()
                .filter(|p| p.pgid.load(Ordering::Relaxed) == pgid)
                .collect()
        }
        g::PRIO_USER => {
            // Every process runs as the instance's one user.
            if who == 0 || who as u32 == UID {
                all()
            } else {
                Vec::new()
            }
        }
        _ => return err(Errno::EINVAL),
    };
    if targets.is_empty() {
        return err(Errno::ESRCH);
    }
    Ok(targets)
}

/// `getpriority` returns `20 − nice` of the highest-priority target (1..=40), as the raw
/// syscall does; the C library converts it back to a nice value.
pub fn sys_getpriority(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let targets = priority_targets(ctx, a[0] as u32, a[1] as i32)?;
    let nice = targets
        .iter()
        .map(|p| p.nice.load(Ordering::Relaxed))
        .min()
        .unwrap_or(0);
    Ok((20 - nice) as u64)
}

/// `setpriority`: out-of-range nice values are clamped, as Linux does.
pub fn sys_setpriority(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let targets = priority_targets(ctx, a[0] as u32, a[1] as i32)?;
    let nice = (a[2] as i32).clamp(MIN_NICE, MAX_NICE);
    for p in targets {
        p.nice.store(nice, Ordering::Relaxed);
    }
    Ok(0)
}

/// Checks a policy and its static priority as Linux does: 0 for the normal policies, 1..=99
/// for the real-time ones; `SCHED_DEADLINE` needs `sched_setattr`'s parameters.
fn check_sched_param(policy: u32, priority: u32) -> Result<()> {
    let ok = match policy {
        g::SCHED_NORMAL | g::SCHED_BATCH | g::SCHED_IDLE => priority == 0,
        g::SCHED_FIFO | g::SCHED_RR => (1..=MAX_RT_PRIO).contains(&priority),
        _ => false,
    };
    if ok { Ok(()) } else { err(Errno::EINVAL) }
}

/// `sched_setscheduler` (`policy` given) and `sched_setparam` (the current policy kept).
fn set_scheduler(ctx: &Ctx, pid: i32, policy: Option<u32>, param: u64) -> Result<u64> {
    if param == 0 || pid < 0 {
        return err(Errno::EINVAL);
    }
    // struct sched_param { int sched_priority; }; Linux compares it as unsigned.
    let priority: u32 = user::read_val(param)?;
    let process = find_process(ctx, pid)?;
    let policy = policy.unwrap_or_else(|| process.sched_policy.load(Ordering::Relaxed));
    let base = policy & !g::SCHED_RESET_ON_FORK;
    check_sched_param(base, priority)?;
    if matches!(base, g::SCHED_FIFO | g::SCHED_RR) {
        return Err(Error::unsupported(
            Errno::EPERM,
            "real-time scheduling policies",
        ));
    }
    process.sched_policy.store(policy, Ordering::Relaxed);
    Ok(0)
}

pub fn sys_sched_getscheduler(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let pid = a[0] as i32;
    if pid < 0 {
        return err(Errno::EINVAL);
    }
    Ok(find_process(ctx, pid)?
        .sched_policy
        .load(Ordering::Relaxed)
        .into())
}

pub fn sys_sched_setscheduler(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let policy = a[1] as i32;
    if policy < 0 {
        return err(Errno::EINVAL);
    }
    set_scheduler(ctx, a[0] as i32, Some(policy as u32), a[2])
}

pub fn sys_sched_getparam(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (pid, param) = (a[0] as i32, a[1]);
    if param == 0 || pid < 0 {
        return err(Errno::EINVAL);
    }
    find_process(ctx, pid)?;
    // Only the normal policies can be set, and their static priority is 0.
    user::write_val(param, &0i32)?;
    Ok(0)
}

pub fn sys_sched_setparam(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    set_scheduler(ctx, a[0] as i32, None, a[1])
}

/// The priority range of `policy`: (min, max).
fn priority_range(policy: u64) -> Result<(u64, u64)> {
    match u32::try_from(policy as i32) {
        Ok(g::SCHED_FIFO | g::SCHED_RR) => Ok((1, MAX_RT_PRIO as u64)),
        Ok(g::SCHED_NORMAL | g::SCHED_BATCH | g::SCHED_IDLE | g::SCHED_DEADLINE) => Ok((0, 0)),
        _ => err(Errno::EINVAL),
    }
}

pub fn sys_sched_get_priority_max(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    Ok(priority_range(a[0])?.1)
}

pub fn sys_sched_get_priority_min(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    Ok(priority_range(a[0])?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinity_masks() {
        assert_eq!(mask_bytes(1), 8);
        assert_eq!(mask_bytes(64), 8);
        assert_eq!(mask_bytes(65), 16);
        assert_eq!(full_mask(2), [0b11]);
        assert_eq!(full_mask(64), [u64::MAX]);
        assert_eq!(full_mask(66), [u64::MAX, 0b11]);
        // Offline CPUs are dropped; short input leaves the rest clear.
        assert_eq!(mask_from_bytes(&[0xff; 8], 2), [0b11]);
        assert_eq!(mask_from_bytes(&[0b10], 2), [0b10]);
        assert_eq!(mask_from_bytes(&[0b100], 2), [0]);
        assert_eq!(mask_from_bytes(&[1, 0, 0, 0, 0, 0, 0, 0, 1], 70), [1, 1]);
    }

    #[test]
    fn sched_params() {
        assert!(check_sched_param(g::SCHED_NORMAL, 0).is_ok());
        assert!(check_sched_param(g::SCHED_IDLE, 1).is_err());
        assert!(check_sched_param(g::SCHED_FIFO, 0).is_err());
        assert!(check_sched_param(g::SCHED_RR, 99).is_ok());
        assert!(check_sched_param(g::SCHED_RR, 100).is_err());
        assert!(check_sched_param(g::SCHED_DEADLINE, 0).is_err());
        assert!(check_sched_param(4, 0).is_err());
        assert_eq!(priority_range(g::SCHED_FIFO as u64), Ok((1, 99)));
        assert_eq!(priority_range(g::SCHED_BATCH as u64), Ok((0, 0)));
        assert!(priority_range(u64::MAX).is_err());
        assert!(priority_range(4).is_err());
    }

    #[test]
    fn ticks_and_timevals() {
        assert_eq!(ns_ticks(1_000_000_000), 100);
        assert_eq!(ns_ticks(19_999_999), 1);
        let tv = ns_timeval(2_500_000_000);
        assert_eq!((tv.tv_sec, tv.tv_usec), (2, 500_000));
    }
}
