//! CPU time accounting: the time each thread used, the time of a process (its live threads plus
//! the threads that ended), and the time of its reaped children (`getrusage`, `times`, the
//! CPU-time clocks, `wait4`'s usage).
//!
//! A LibOS thread's CPU time is the CPU time of the host thread running it. Host threads are
//! pooled and run one LibOS thread after another, so a thread starting on a host thread records
//! that host thread's CPU time as its baseline ([`start`]); its time is the host thread's time
//! since then, plus what it used on host threads it left (an exec that moved it to a new address
//! space).
//!
//! User and system time: the host splits a thread's time into user and system parts; Veil
//! divides the precise total in that ratio and never lets either part go backwards (as Linux's
//! `cputime_adjust` does). LibOS code serving the thread's syscalls runs in host user mode, so
//! it counts as user time; system time is the host's work for the thread (host syscalls, page
//! faults). Counting LibOS code as system time would need a clock read on every trap; the host's
//! own split costs nothing and is still the user/kernel boundary that the host sees.
//!
//! Reading another thread: the host lets an address space read the CPU clocks of its own host
//! threads only. A process's threads all live in one address space, so a process reading its
//! own time, or a thread its own, is exact. A thread of another address space is read as it was
//! last read where it runs (`ThreadCpu::reported`: at each read there, when it moves to another
//! address space, and when it ends): another address space sees a running process's time late,
//! and an ended process's time complete up to the threads that were still leaving when it was
//! reaped (each thread adds its final time to its process as it ends; the last one before the
//! process becomes a zombie).
//!
//! Lock order: a process's `cpu` before its threads' `cpu`; both are leaves otherwise.

use super::{Process, Thread, threads_of};
use crate::root::kernel;
use core::ops::AddAssign;
use veil_platform::HostCpuTime;

/// CPU time split into user and system time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTime {
    pub user_ns: u64,
    pub system_ns: u64,
}

impl CpuTime {
    pub fn total_ns(self) -> u64 {
        self.user_ns.saturating_add(self.system_ns)
    }
}

impl AddAssign for CpuTime {
    fn add_assign(&mut self, other: CpuTime) {
        self.user_ns = self.user_ns.saturating_add(other.user_ns);
        self.system_ns = self.system_ns.saturating_add(other.system_ns);
    }
}

/// A thread's accounting state (`Thread::cpu`).
#[derive(Default)]
pub struct ThreadCpu {
    /// The host thread running it (`Platform::current_host_thread`), 0 while it runs nowhere
    /// this state can follow (not started yet, or moving to another address space).
    host: u64,
    /// That host thread's CPU time when this thread started on it.
    base: HostCpuTime,
    /// What the thread used on host threads it ran on before.
    carried: HostCpuTime,
    /// Its time as last read; never goes back.
    reported: CpuTime,
    /// It has ended: its time is in its process's `ended`.
    ended: bool,
}

/// A process's accounting state (`Process::cpu`).
#[derive(Default)]
pub struct ProcessCpu {
    /// Time of its threads that ended.
    ended: CpuTime,
    /// Time of its reaped children, each with its own reaped children (`RUSAGE_CHILDREN`).
    children: CpuTime,
}

/// Divides `raw.total_ns` between user and system time in the ratio of the host's parts, with
/// neither part below what was reported before (`prev`): Linux's `cputime_adjust`.
fn split(raw: HostCpuTime, prev: CpuTime) -> CpuTime {
    let total = raw.total_ns.max(prev.total_ns());
    let parts = raw.user_ns as u128 + raw.system_ns as u128;
    // No host sample at all: user time.
    let system = (total as u128 * raw.system_ns as u128)
        .checked_div(parts)
        .map_or(0, |s| s as u64);
    // total >= prev.user + prev.system, so the range is never empty.
    let system = system.max(prev.system_ns).min(total - prev.user_ns);
    CpuTime {
        user_ns: total - system,
        system_ns: system,
    }
}

/// `a + b − c`, part by part, saturating.
fn add_since(a: HostCpuTime, now: HostCpuTime, base: HostCpuTime) -> HostCpuTime {
    let f = |a: u64, now: u64, base: u64| a.saturating_add(now.saturating_sub(base));
    HostCpuTime {
        total_ns: f(a.total_ns, now.total_ns, base.total_ns),
        user_ns: f(a.user_ns, now.user_ns, base.user_ns),
        system_ns: f(a.system_ns, now.system_ns, base.system_ns),
    }
}

/// Brings `cpu.reported` up to date if its host thread can be read from here.
fn refresh(cpu: &mut ThreadCpu) -> CpuTime {
    if cpu.host != 0
        && !cpu.ended
        && let Ok(now) = kernel().platform.thread_cpu_time(cpu.host)
    {
        cpu.reported = split(add_since(cpu.carried, now, cpu.base), cpu.reported);
    }
    cpu.reported
}

/// `thread` starts (or goes on) on the calling host thread `host`, whose CPU time is `now`: its
/// time from now on is that host thread's, on top of what it has used so far.
pub fn start(thread: &Thread, host: u64, now: HostCpuTime) {
    let mut cpu = thread.cpu.lock();
    let so_far = cpu.reported;
    cpu.carried = HostCpuTime {
        total_ns: so_far.total_ns(),
        user_ns: so_far.user_ns,
        system_ns: so_far.system_ns,
    };
    cpu.base = now;
    cpu.host = host;
}

/// The calling `thread` is about to move to another address space: its time so far is
/// recorded, for the host thread there to start from (and not followed on this host thread,
/// which goes back to the pool). If the move fails, [`start`] follows it here again.
pub fn detach(thread: &Thread) {
    let mut cpu = thread.cpu.lock();
    refresh(&mut cpu);
    cpu.host = 0;
}

/// The CPU time `thread` has used.
pub fn thread_time(thread: &Thread) -> CpuTime {
    refresh(&mut thread.cpu.lock())
}

/// The CPU time of `process`: its ended threads and its live ones.
pub fn process_time(process: &Process) -> CpuTime {
    let threads = threads_of(process);
    let cpu = process.cpu.lock();
    let mut time = cpu.ended;
    for thread in threads {
        let mut state = thread.cpu.lock();
        if !state.ended {
            time += refresh(&mut state);
        }
    }
    time
}

/// The CPU time of `process`'s reaped children (`RUSAGE_CHILDREN`).
pub fn children_time(process: &Process) -> CpuTime {
    process.cpu.lock().children
}

/// The CPU time of `process` and its reaped children (`RUSAGE_BOTH`: what a wait reports).
pub fn time_with_children(process: &Process) -> CpuTime {
    let mut time = process_time(process);
    time += children_time(process);
    time
}

/// The calling `thread` ends: its final time joins its process's. Done once, however many
/// exit paths it takes.
pub fn thread_ended(thread: &Thread) {
    let mut process = thread.process.cpu.lock();
    let mut cpu = thread.cpu.lock();
    if cpu.ended {
        return;
    }
    process.ended += refresh(&mut cpu);
    cpu.ended = true;
}

/// `parent` reaps the ended `child`: the child's time and that of its own reaped children join
/// the parent's children time. Returns what was added (the reaping wait's usage).
pub fn reaped(parent: &Process, child: &Process) -> CpuTime {
    let time = time_with_children(child);
    parent.cpu.lock().children += time;
    time
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(total_ns: u64, user_ns: u64, system_ns: u64) -> HostCpuTime {
        HostCpuTime {
            total_ns,
            user_ns,
            system_ns,
        }
    }

    fn time(user_ns: u64, system_ns: u64) -> CpuTime {
        CpuTime { user_ns, system_ns }
    }

    #[test]
    fn splits_in_the_host_ratio() {
        assert_eq!(split(raw(100, 3, 1), CpuTime::default()), time(75, 25));
        // No host sample yet: all user time; only system samples: all system time.
        assert_eq!(split(raw(100, 0, 0), CpuTime::default()), time(100, 0));
        assert_eq!(split(raw(100, 0, 8), CpuTime::default()), time(0, 100));
    }

    #[test]
    fn never_goes_back() {
        // The ratio moved towards user time: system time stays, user time takes the rest.
        assert_eq!(split(raw(120, 1, 0), time(50, 50)), time(70, 50));
        // ... towards system time: user time stays.
        assert_eq!(split(raw(120, 0, 1), time(90, 10)), time(90, 30));
        // A total below the reported one (untrusted host) changes nothing.
        assert_eq!(split(raw(10, 1, 1), time(60, 40)), time(60, 40));
    }

    #[test]
    fn adds_time_since_the_baseline() {
        let carried = raw(10, 5, 5);
        assert_eq!(
            add_since(carried, raw(110, 40, 20), raw(50, 20, 10)),
            raw(70, 25, 15)
        );
        // A host clock below the baseline counts as no time.
        assert_eq!(add_since(carried, raw(0, 0, 0), raw(50, 20, 10)), carried);
    }
}
