//! timerfd objects. Expirations are computed lazily from the clock whenever the timer is looked
//! at (read, poll, settime, gettime): nothing runs when a timer fires. A waiter (blocking read,
//! poll, epoll) bounds its sleep by the next expiration ([`FileOps::wait_sources`]).
//!
//! Lock order: `TimerFd::state` is a leaf.

use super::epoll::anon_stat;
use super::{FileOps, InodeRef, WaitSources};
use crate::error::{Result, err};
use crate::root::kernel;
use crate::sync::{Event, Mutex};
use alloc::sync::Arc;
use veil_abi::Errno;
use veil_abi::general::{self as g, stat};

const NSEC_PER_SEC: u64 = 1_000_000_000;

#[derive(Default)]
struct State {
    /// Next expiration in ns of the timer's clock; 0 = disarmed.
    next: u64,
    /// Period in ns (0 = one-shot).
    interval: u64,
    /// Expirations not yet read.
    ticks: u64,
    /// Every expiration so far plus every settime and read (the readiness generation).
    generation: u64,
}

impl State {
    /// Accounts for the expirations up to `now`.
    fn update(&mut self, now: u64) {
        if self.next == 0 || now < self.next {
            return;
        }
        let n = match (now - self.next).checked_div(self.interval) {
            Some(periods) => {
                let n = 1 + periods;
                self.next = self.next.saturating_add(n.saturating_mul(self.interval));
                n
            }
            None => {
                self.next = 0;
                1
            }
        };
        self.ticks = self.ticks.saturating_add(n);
        self.generation = self.generation.wrapping_add(n);
    }

    fn remaining(&self, now: u64) -> u64 {
        if self.next == 0 {
            0
        } else {
            self.next.saturating_sub(now)
        }
    }
}

pub struct TimerFd {
    /// The host clock id the timer measures.
    clock: u32,
    state: Mutex<State>,
    changed: Event,
}

/// A time in ns as a timespec.
pub fn ns_timespec(ns: u64) -> g::timespec {
    g::timespec {
        tv_sec: (ns / NSEC_PER_SEC) as i64,
        tv_nsec: (ns % NSEC_PER_SEC) as i64,
    }
}

impl TimerFd {
    pub fn new(clock: u32) -> Arc<TimerFd> {
        Arc::new(TimerFd {
            clock,
            state: Mutex::new(State::default()),
            changed: Event::new(),
        })
    }

    /// Now on the timer's clock, in ns.
    fn now(&self) -> u64 {
        let ts = kernel()
            .platform
            .clock_gettime(self.clock)
            .unwrap_or(g::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            });
        (ts.tv_sec.max(0) as u64)
            .saturating_mul(NSEC_PER_SEC)
            .saturating_add(ts.tv_nsec.clamp(0, NSEC_PER_SEC as i64 - 1) as u64)
    }

    /// Arms (`value` > 0) or disarms the timer; `value` is absolute on the timer's clock with
    /// `absolute`, else relative. Returns the previous (remaining, interval) in ns.
    pub fn settime(&self, value: u64, interval: u64, absolute: bool) -> (u64, u64) {
        let now = self.now();
        let mut s = self.state.lock();
        s.update(now);
        let old = (s.remaining(now), s.interval);
        s.ticks = 0;
        s.interval = interval;
        s.next = match value {
            0 => 0,
            v if absolute => v,
            v => now.saturating_add(v),
        };
        s.generation = s.generation.wrapping_add(1);
        drop(s);
        self.changed.notify_all();
        kernel().readiness.notify();
        old
    }

    /// (time to the next expiration, interval) in ns.
    pub fn gettime(&self) -> (u64, u64) {
        let now = self.now();
        let mut s = self.state.lock();
        s.update(now);
        (s.remaining(now), s.interval)
    }
}

/// The file operations of a timerfd (holding the timer, which is also its inode).
pub struct TimerFdFile(pub Arc<TimerFd>);

impl TimerFdFile {
    pub fn inode(&self) -> InodeRef {
        self.0.clone()
    }
}

super::epoll::anon_inode!(TimerFd);

impl FileOps for TimerFdFile {
    fn read(&self, _pos: &mut u64, buf: &mut [u8], flags: u32) -> Result<usize> {
        if buf.len() < 8 {
            return err(Errno::EINVAL);
        }
        let t = &self.0;
        loop {
            let seen = t.changed.current();
            let now = t.now();
            let mut s = t.state.lock();
            s.update(now);
            if s.ticks > 0 {
                let ticks = core::mem::take(&mut s.ticks);
                s.generation = s.generation.wrapping_add(1);
                drop(s);
                buf[..8].copy_from_slice(&ticks.to_ne_bytes());
                return Ok(8);
            }
            if flags & g::O_NONBLOCK != 0 {
                return err(Errno::EAGAIN);
            }
            let timeout = (s.next != 0).then(|| s.next - now);
            drop(s);
            t.changed.wait_timeout(seen, timeout)?;
        }
    }

    fn write(&self, _pos: &mut u64, _buf: &[u8], _flags: u32) -> Result<usize> {
        err(Errno::EINVAL)
    }

    fn is_stream(&self) -> bool {
        true
    }

    /// Linux's `noop_llseek`: the position stays 0.
    fn seek(&self, pos: &mut u64, _offset: i64, _whence: u32) -> Result<u64> {
        Ok(*pos)
    }

    fn stat(&self) -> Option<Result<stat>> {
        Some(Ok(anon_stat()))
    }

    fn poll(&self, events: i16) -> i16 {
        let now = self.0.now();
        let mut s = self.0.state.lock();
        s.update(now);
        if s.ticks > 0 {
            events & g::POLLIN as i16
        } else {
            0
        }
    }

    fn can_poll(&self) -> bool {
        true
    }

    fn generation(&self) -> Option<u64> {
        let now = self.0.now();
        let mut s = self.0.state.lock();
        s.update(now);
        Some(s.generation)
    }

    fn wait_sources(&self, _events: i16, sources: &mut WaitSources) {
        sources.kernel = true;
        let now = self.0.now();
        let s = self.0.state.lock();
        if s.next != 0 {
            let left = s.next.saturating_sub(now);
            sources.until(kernel().monotonic_ns().saturating_add(left));
        }
    }
}
