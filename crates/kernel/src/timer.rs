//! Timers that raise signals: `alarm`, `setitimer(ITIMER_REAL)` and POSIX timers.
//!
//! Every armed timer has a deadline on the host monotonic clock. One kernel service thread for
//! the whole instance (started at boot; it also watches the address spaces, see
//! `Kernel::watch_spaces`) sleeps until the earliest deadline, then sends each
//! expired timer's signal to its process (or thread) in whatever address space it runs, and
//! re-arms interval timers, counting periods it missed as overruns.
//!
//! Lock order: `Timers::list` is taken before a thread's signal queue (firing sends signals
//! after releasing it).

use crate::error::{Result, err};
use crate::root::kernel;
use crate::signal::{self, SigInfo};
use crate::sync::{Event, Mutex};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use veil_abi::Errno;

/// `si_code` of a POSIX timer's signal.
const SI_TIMER: i32 = -2;
/// The per-process timer id `alarm`/`setitimer(ITIMER_REAL)` use (POSIX ids are ≥ 0).
pub const REAL_TIMER: i32 = -1;

/// Whom a timer notifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// Nobody (`SIGEV_NONE`): the timer is only read with `timer_gettime`.
    None,
    /// The process (`SIGEV_SIGNAL`), or one thread of it (`SIGEV_THREAD_ID`).
    Signal { signo: u32, thread: Option<i32> },
}

/// One timer.
#[derive(Debug, Clone, Copy)]
pub struct Timer {
    pub notify: Notify,
    /// `sigev_value` passed in `si_value`.
    pub value: u64,
    /// Next expiry (host monotonic ns); 0 = disarmed.
    pub deadline: u64,
    /// Period (ns); 0 = one-shot.
    pub interval: u64,
    /// Expirations missed before the last signal (`timer_getoverrun`).
    pub overrun: u32,
    /// The clock absolute times refer to.
    pub clock: u32,
}

/// All timers of the instance, keyed by (pid, timer id).
#[derive(Default)]
pub struct Timers {
    list: Mutex<BTreeMap<(i32, i32), Timer>>,
    changed: Event,
}

impl Timers {
    /// Creates a POSIX timer for `pid`; returns its id.
    pub fn create(&self, pid: i32, clock: u32, notify: Notify, value: Option<u64>) -> i32 {
        let mut list = self.list.lock();
        let id = (0..)
            .find(|id| !list.contains_key(&(pid, *id)))
            .expect("unbounded");
        let value = value.unwrap_or(id as u64);
        list.insert(
            (pid, id),
            Timer {
                notify,
                value,
                deadline: 0,
                interval: 0,
                overrun: 0,
                clock,
            },
        );
        id
    }

    /// Removes a timer (EINVAL if it does not exist).
    pub fn delete(&self, pid: i32, id: i32) -> Result<()> {
        self.list
            .lock()
            .remove(&(pid, id))
            .map(|_| ())
            .ok_or(Errno::EINVAL.into())
    }

    /// Removes every timer of a process (at exit and, for POSIX timers, at exec).
    pub fn delete_all(&self, pid: i32, keep_real: bool) {
        self.list
            .lock()
            .retain(|&(p, id), _| p != pid || keep_real && id == REAL_TIMER);
    }

    /// A timer's state.
    pub fn get(&self, pid: i32, id: i32) -> Result<Timer> {
        self.list
            .lock()
            .get(&(pid, id))
            .copied()
            .ok_or(Errno::EINVAL.into())
    }

    /// (Re)arms or disarms (`deadline` 0) a timer; returns its previous state. The real timer
    /// is created on demand.
    pub fn set(&self, pid: i32, id: i32, deadline: u64, interval: u64) -> Result<Timer> {
        let old = {
            let mut list = self.list.lock();
            if id == REAL_TIMER {
                let notify = Notify::Signal {
                    signo: veil_abi::general::SIGALRM,
                    thread: None,
                };
                let clock = veil_abi::general::CLOCK_REALTIME;
                list.entry((pid, id)).or_insert(Timer {
                    notify,
                    value: 0,
                    deadline: 0,
                    interval: 0,
                    overrun: 0,
                    clock,
                });
            }
            let timer = list.get_mut(&(pid, id)).ok_or(Errno::EINVAL)?;
            let old = *timer;
            timer.deadline = deadline;
            timer.interval = interval;
            timer.overrun = 0;
            old
        };
        self.changed.notify_all();
        Ok(old)
    }

    /// Starts the service thread. Called once at boot, in the address space of the instance's
    /// first process, which lives as long as the instance (so the service never ends early).
    pub fn start_service(&self) -> Result<()> {
        kernel()
            .platform
            .spawn_kernel_thread(service, 0)
            .map_err(Into::into)
    }

    /// Fires the expired timers; returns the earliest remaining deadline.
    fn fire_expired(&self, now: u64) -> Option<u64> {
        let mut due: Vec<(i32, Notify, SigInfo)> = Vec::new();
        let mut next: Option<u64> = None;
        {
            let mut list = self.list.lock();
            for (&(pid, id), t) in list.iter_mut() {
                if t.deadline == 0 {
                    continue;
                }
                if t.deadline <= now {
                    let missed = (now - t.deadline).checked_div(t.interval).unwrap_or(0);
                    t.overrun = missed.min(i32::MAX as u64) as u32;
                    t.deadline = if t.interval > 0 {
                        t.deadline + (missed + 1) * t.interval
                    } else {
                        0
                    };
                    if let Notify::Signal { signo, .. } = t.notify {
                        let code = if id == REAL_TIMER {
                            signal::SI_KERNEL
                        } else {
                            SI_TIMER
                        };
                        let fields = [id as u32 as u64 | (t.overrun as u64) << 32, t.value];
                        due.push((
                            pid,
                            t.notify,
                            SigInfo {
                                signo,
                                code,
                                fields,
                            },
                        ));
                    }
                }
                if t.deadline != 0 {
                    next = Some(next.map_or(t.deadline, |n: u64| n.min(t.deadline)));
                }
            }
        }
        for (pid, notify, info) in due {
            let Notify::Signal { thread, .. } = notify else {
                continue;
            };
            let target = thread.and_then(|tid| kernel().threads.lock().get(&tid).cloned());
            match target {
                Some(t) => signal::send_to_thread(&t, info),
                None => {
                    // Not under the process table (a leaf).
                    let process = kernel().processes.lock().get(&pid).cloned();
                    if let Some(p) = process {
                        signal::send_to_process(&p, info);
                    }
                }
            }
        }
        next
    }
}

/// The timer service thread.
/// How often the service thread checks that the instance's address spaces are alive.
const WATCH_INTERVAL_NS: u64 = 500_000_000;

fn service(_: usize) {
    let timers = &kernel().timers;
    loop {
        let seen = timers.changed.current();
        let now = kernel().monotonic_ns();
        let next = timers.fire_expired(now);
        let timeout = next.map_or(WATCH_INTERVAL_NS, |n| {
            n.saturating_sub(kernel().monotonic_ns())
                .clamp(1, WATCH_INTERVAL_NS)
        });
        timers.changed.wait_service(seen, Some(timeout));
        kernel().watch_spaces();
    }
}

/// Converts a relative time in ns to a monotonic deadline (0 stays 0: disarm).
pub fn deadline_after(ns: u64) -> u64 {
    if ns == 0 {
        0
    } else {
        kernel().monotonic_ns().saturating_add(ns).max(1)
    }
}

/// Time left until `deadline` (0 when disarmed or past).
pub fn remaining(deadline: u64) -> u64 {
    if deadline == 0 {
        0
    } else {
        deadline.saturating_sub(kernel().monotonic_ns()).max(1)
    }
}

/// ns from a `(sec, usec-or-nsec)` pair, validating the sub-second part against `unit`.
pub fn to_ns(sec: i64, sub: i64, per_sec: i64) -> Result<u64> {
    if sec < 0 || !(0..per_sec).contains(&sub) {
        return err(Errno::EINVAL);
    }
    Ok((sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(sub as u64 * (1_000_000_000 / per_sec as u64)))
}
