//! Readiness waiting (shared by poll, select and epoll) and epoll instances.
//!
//! # Waiting on many sources
//!
//! Every kernel object whose readiness can change (pipe ends, eventfds, timerfds, epoll sets)
//! notifies one kernel-wide [`Readiness`] word after each change. A waiter snapshots the word,
//! checks all its files, and sleeps on the word if nothing is ready, so no change between the
//! check and the sleep is lost. Two kinds of sources notify nothing: timerfds expire with the
//! clock (a waiter bounds its sleep by their next expiration) and host fds (stdio): a waiter
//! with host fds polls them on the host, for its whole timeout when only host fds are watched,
//! else in slices of [`HOST_SLICE_MS`] between which it re-checks the kernel objects.
//!
//! # Edge-triggered epoll
//!
//! Each pollable kernel object keeps a generation counter ([`FileOps::generation`]) bumped by
//! every change that may affect its readiness (for a pipe: per end; a write bumps the read end,
//! a read bumps the write end, as Linux wakes the matching wait queue). An edge-triggered item
//! remembers the generation it last looked at and is reported only when the generation moved
//! and the file is ready — as on Linux, where each wake-up queues the item once. Host fds have
//! no generation: for them an edge is a change of the ready mask.
//!
//! Lock order: `Epoll::items` → the locks of the files watched (including, for nested sets, the
//! inner set's `items`; cycles are refused with ELOOP).

use super::{FileOps, InodeRef, OpenFile, WaitSources};
use crate::error::{Result, err};
use crate::root::kernel;
use crate::sync::{Mutex, SIGNAL_CHECK_SLICE_NS};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use veil_abi::Errno;
use veil_abi::general::{self as g, stat, statfs64};
use veil_platform::WaitResult;

/// Longest host poll while kernel objects are watched too (their notifications are seen at the
/// end of a slice).
pub const HOST_SLICE_MS: u64 = 5;

/// The kernel-wide readiness notification word (see the module documentation). Notifying costs
/// a host futex wake only while someone waits.
pub struct Readiness {
    seq: AtomicU32,
    waiters: AtomicU32,
}

impl Default for Readiness {
    fn default() -> Self {
        Self::new()
    }
}

impl Readiness {
    pub const fn new() -> Readiness {
        Readiness {
            seq: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// The notification count, to pass to [`wait_for_ready`]'s sleep.
    pub fn current(&self) -> u32 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Records a change and wakes the waiters.
    pub fn notify(&self) {
        self.seq.fetch_add(1, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) != 0 {
            kernel().platform.futex_wake(&self.seq, u32::MAX);
        }
    }

    /// Sleeps until a notification after `seen`, at most `timeout_ns` if given.
    pub fn wait(&self, seen: u32, timeout_ns: Option<u64>) {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        if self.seq.load(Ordering::SeqCst) == seen {
            // Bounded, so that a signal's wake-up racing with this sleep is noticed soon.
            let slice = timeout_ns.map_or(SIGNAL_CHECK_SLICE_NS, |t| t.min(SIGNAL_CHECK_SLICE_NS));
            let _: WaitResult = kernel().platform.futex_wait(&self.seq, seen, Some(slice));
        }
        self.waiters.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `scan` until it finds something ready (returns `Some`), sleeping between scans until
/// some watched source may have changed. `scan` fills the [`WaitSources`] of the files it
/// checked. `deadline` is in host monotonic ns (None: forever); at the deadline the result is
/// `None`. A deadline already past means exactly one scan.
pub fn wait_for_ready<T>(
    deadline: Option<u64>,
    mut scan: impl FnMut(&mut WaitSources) -> Result<Option<T>>,
) -> Result<Option<T>> {
    let k = kernel();
    loop {
        // poll, select and epoll_wait are restarted only if no handler runs.
        if crate::signal::interrupted() {
            return Err(veil_abi::Errno::ERESTARTNOHAND.into());
        }
        let seen = k.readiness.current();
        let mut sources = WaitSources::default();
        if let Some(found) = scan(&mut sources)? {
            return Ok(Some(found));
        }
        let now = k.monotonic_ns();
        if deadline.is_some_and(|d| now >= d) {
            return Ok(None);
        }
        let until = match (deadline, sources.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let timeout = until.map(|u| u.saturating_sub(now));
        if sources.host.is_empty() {
            k.readiness.wait(seen, timeout);
            continue;
        }
        // Host fds: poll them on the host, in slices if kernel objects need re-checking.
        let mut ms = timeout.map_or(-1i64, |ns| ns.div_ceil(1_000_000) as i64);
        if sources.kernel || sources.deadline.is_some() {
            ms = if ms < 0 {
                HOST_SLICE_MS as i64
            } else {
                ms.min(HOST_SLICE_MS as i64)
            };
        }
        let mut fds: Vec<_> = sources.host.iter().map(|&(fd, ev)| (fd, ev, 0)).collect();
        // Errors (EINTR) just end this slice; the scan reports the fds' state.
        let _ = k
            .platform
            .host()
            .poll(&mut fds, ms.min(i32::MAX as i64) as i32);
    }
}

/// Every poll bit a file may report.
const ALL_EVENTS: u16 = u16::MAX;

/// The ready subset of `events` on `file`, plus POLLERR and POLLHUP which are always reported
/// (Linux adds the `*NORM` bits to IN and OUT).
pub fn ready_mask(file: &OpenFile, events: u16) -> u16 {
    let mut ready = file.ops.poll(ALL_EVENTS as i16) as u16;
    if ready & g::POLLIN as u16 != 0 {
        ready |= g::POLLRDNORM as u16;
    }
    if ready & g::POLLOUT as u16 != 0 {
        ready |= g::POLLWRNORM as u16;
    }
    ready & (events | (g::POLLERR | g::POLLHUP) as u16)
}

/// Anonymous-inode file systems ("anon_inode:[...]" files: eventfd, timerfd, epoll).
const ANON_INODE_FS_MAGIC: i64 = 0x0904_1934;
/// Linux gives every anonymous file the same inode.
const ANON_INODE_INO: u64 = 1;

/// `fstat` of an anonymous-inode file (Linux: mode 0600 with no file type bits).
pub fn anon_stat() -> stat {
    let mut st = super::synthetic_stat(0o600, ANON_INODE_INO, 0, 0xd);
    st.st_blksize = 4096;
    st
}

pub fn anon_statfs() -> statfs64 {
    super::synthetic_statfs(ANON_INODE_FS_MAGIC)
}

/// Implements [`crate::fs::Inode`] for an anonymous-inode object (eventfd, timerfd, epoll,
/// signalfd, pidfd): `fstat` shows the shared anonymous inode, and it cannot be opened by path.
macro_rules! anon_inode {
    ($t:ty) => {
        impl $crate::fs::Inode for $t {
            fn stat(&self) -> $crate::error::Result<veil_abi::general::stat> {
                Ok($crate::fs::epoll::anon_stat())
            }
            fn open(
                &self,
                _flags: u32,
            ) -> $crate::error::Result<alloc::sync::Arc<dyn $crate::fs::FileOps>> {
                $crate::error::err(veil_abi::Errno::ENXIO)
            }
            fn statfs(&self) -> $crate::error::Result<veil_abi::general::statfs64> {
                Ok($crate::fs::epoll::anon_statfs())
            }
            fn fs_id(&self) -> usize {
                $crate::fs::epoll::anon_fs_id()
            }
            fn as_any(&self) -> &dyn core::any::Any {
                self
            }
        }
    };
}
pub(crate) use anon_inode;

/// `fs_id` of anonymous-inode files.
pub fn anon_fs_id() -> usize {
    ANON_INODE_FS_MAGIC as usize
}

/// Bits of `epoll_event.events` that are input flags rather than events.
const EPOLL_INPUT_FLAGS: u32 = g::EPOLLET | g::EPOLLONESHOT | g::EPOLLEXCLUSIVE | g::EPOLLWAKEUP;
/// What `EPOLLEXCLUSIVE` may be combined with.
const EXCLUSIVE_OK: u32 = g::EPOLLIN
    | g::EPOLLOUT
    | g::EPOLLERR
    | g::EPOLLHUP
    | g::EPOLLWAKEUP
    | g::EPOLLET
    | g::EPOLLEXCLUSIVE;
/// Linux's limit of nested epoll sets.
const MAX_NESTS: usize = 4;

/// One registration: (fd number, open file description) with its event mask and user data.
struct Item {
    fd: i32,
    /// The registration lives as long as the description (not the fd number).
    file: Weak<OpenFile>,
    events: u32,
    data: u64,
    /// Edge-triggered: the generation last examined (None: check at the next scan).
    last_gen: Option<u64>,
    /// Edge-triggered on a file without generations: the ready mask last seen.
    last_mask: u16,
    /// EPOLLONESHOT items are disarmed after reporting, until EPOLL_CTL_MOD.
    armed: bool,
}

impl Item {
    fn new(fd: i32, file: &Arc<OpenFile>, events: u32, data: u64) -> Item {
        Item {
            fd,
            file: Arc::downgrade(file),
            events: events | g::EPOLLERR | g::EPOLLHUP,
            data,
            last_gen: None,
            last_mask: 0,
            armed: true,
        }
    }

    fn is(&self, fd: i32, file: &Arc<OpenFile>) -> bool {
        self.fd == fd && Weak::as_ptr(&self.file) == Arc::as_ptr(file)
    }

    /// The events to report now, if any; `consume` records the report (edge, oneshot).
    fn check(&mut self, file: &OpenFile, consume: bool) -> Option<u32> {
        if !self.armed {
            return None;
        }
        let edge = self.events & g::EPOLLET != 0;
        let generation = file.ops.generation();
        if edge && generation.is_some() && generation == self.last_gen {
            return None;
        }
        let ready = ready_mask(file, (self.events & !EPOLL_INPUT_FLAGS) as u16);
        if edge {
            let repeated = generation.is_none() && ready == self.last_mask;
            if consume {
                self.last_gen = generation;
                self.last_mask = ready;
            }
            if repeated {
                return None;
            }
        }
        if ready == 0 {
            return None;
        }
        if consume && self.events & g::EPOLLONESHOT != 0 {
            self.armed = false;
        }
        Some(ready as u32)
    }
}

/// An epoll instance: an interest list. It is its own inode (an anonymous file).
pub struct Epoll {
    items: Mutex<Vec<Item>>,
    /// Bumped by every interest-list change (part of the set's own generation).
    changes: AtomicU64,
}

impl Epoll {
    pub fn new() -> Arc<Epoll> {
        Arc::new(Epoll {
            items: Mutex::new(Vec::new()),
            changes: AtomicU64::new(0),
        })
    }

    /// The epoll set behind an open file, if it is one.
    pub fn of(file: &OpenFile) -> Option<&Epoll> {
        file.inode().as_any().downcast_ref::<Epoll>()
    }

    fn changed(&self) {
        self.changes.fetch_add(1, Ordering::Release);
        kernel().readiness.notify();
    }

    /// Whether this set is `target` or reaches it through nested sets, or nests deeper than
    /// Linux allows.
    fn reaches(&self, target: *const Epoll, depth: usize) -> bool {
        if core::ptr::eq(self, target) || depth > MAX_NESTS {
            return true;
        }
        let inner: Vec<Arc<OpenFile>> = self
            .items
            .lock()
            .iter()
            .filter_map(|i| i.file.upgrade())
            .collect();
        inner
            .iter()
            .filter_map(|f| Epoll::of(f))
            .any(|e| e.reaches(target, depth + 1))
    }

    /// `epoll_ctl`: `events`/`data` are ignored for `EPOLL_CTL_DEL`. `file` is what `fd` refers
    /// to; the caller has checked that it can be polled and is not this set.
    pub fn ctl(
        &self,
        op: u32,
        fd: i32,
        file: &Arc<OpenFile>,
        events: u32,
        data: u64,
    ) -> Result<()> {
        let has_event = op != g::EPOLL_CTL_DEL;
        if has_event && events & g::EPOLLEXCLUSIVE != 0 {
            if op == g::EPOLL_CTL_MOD {
                return err(Errno::EINVAL);
            }
            if op == g::EPOLL_CTL_ADD && (Epoll::of(file).is_some() || events & !EXCLUSIVE_OK != 0)
            {
                return err(Errno::EINVAL);
            }
        }
        if op == g::EPOLL_CTL_ADD
            && let Some(inner) = Epoll::of(file)
            && inner.reaches(self, 1)
        {
            return err(Errno::ELOOP);
        }
        let mut items = self.items.lock();
        items.retain(|i| i.file.strong_count() > 0);
        let found = items.iter().position(|i| i.is(fd, file));
        match (op, found) {
            (g::EPOLL_CTL_ADD, None) => items.push(Item::new(fd, file, events, data)),
            (g::EPOLL_CTL_ADD, Some(_)) => return err(Errno::EEXIST),
            (g::EPOLL_CTL_DEL, Some(i)) => {
                items.remove(i);
            }
            (g::EPOLL_CTL_MOD, Some(i)) => {
                if items[i].events & g::EPOLLEXCLUSIVE != 0 {
                    return err(Errno::EINVAL);
                }
                items[i] = Item::new(fd, file, events, data);
            }
            (g::EPOLL_CTL_DEL | g::EPOLL_CTL_MOD, None) => return err(Errno::ENOENT),
            _ => return err(Errno::EINVAL),
        }
        drop(items);
        self.changed();
        Ok(())
    }

    /// Collects up to `max` ready events as (events, data), recording edge and oneshot reports,
    /// and the sources a waiter must watch. Reported level-triggered items move to the end of
    /// the list, so a small `max` does not starve the others (Linux rotates its ready list).
    pub fn collect(&self, max: usize, sources: &mut WaitSources) -> Vec<(u32, u64)> {
        let mut items = self.items.lock();
        items.retain(|i| i.file.strong_count() > 0);
        let mut out = Vec::new();
        let mut rotated = Vec::new();
        let mut i = 0;
        while i < items.len() {
            let Some(file) = items[i].file.upgrade() else {
                items.remove(i);
                continue;
            };
            if out.len() < max
                && let Some(ev) = items[i].check(&file, true)
            {
                out.push((ev, items[i].data));
                if items[i].events & (g::EPOLLET | g::EPOLLONESHOT) == 0 {
                    rotated.push(items.remove(i));
                    continue;
                }
            }
            if items[i].armed {
                file.ops
                    .wait_sources((items[i].events & 0xffff) as i16, sources);
            }
            i += 1;
        }
        items.extend(rotated);
        out
    }
}

anon_inode!(Epoll);

/// The file operations of an epoll fd (reads and writes fail as on Linux).
pub struct EpollFile(pub Arc<Epoll>);

impl EpollFile {
    pub fn inode(&self) -> InodeRef {
        self.0.clone()
    }
}

impl FileOps for EpollFile {
    fn read(&self, _pos: &mut u64, _buf: &mut [u8], _flags: u32) -> Result<usize> {
        err(Errno::EINVAL)
    }
    fn write(&self, _pos: &mut u64, _buf: &[u8], _flags: u32) -> Result<usize> {
        err(Errno::EINVAL)
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn stat(&self) -> Option<Result<stat>> {
        Some(Ok(anon_stat()))
    }
    /// Readable when some event is ready (without consuming edge or oneshot reports).
    fn poll(&self, events: i16) -> i16 {
        let mut items = self.0.items.lock();
        let ready = items.iter_mut().any(|item| {
            item.file
                .upgrade()
                .is_some_and(|f| item.check(&f, false).is_some())
        });
        if ready { events & g::POLLIN as i16 } else { 0 }
    }
    fn can_poll(&self) -> bool {
        true
    }
    /// Changes with the set and with the generation of every watched file (None if a
    /// watched file has none).
    fn generation(&self) -> Option<u64> {
        let items = self.0.items.lock();
        let mut sum = self.0.changes.load(Ordering::Acquire).wrapping_mul(1 << 40);
        for item in items.iter() {
            if let Some(f) = item.file.upgrade() {
                sum = sum.wrapping_add(f.ops.generation()?);
            }
        }
        Some(sum)
    }
    fn wait_sources(&self, _events: i16, sources: &mut WaitSources) {
        sources.kernel = true;
        let items = self.0.items.lock();
        for item in items.iter().filter(|i| i.armed) {
            if let Some(f) = item.file.upgrade() {
                f.ops.wait_sources((item.events & 0xffff) as i16, sources);
            }
        }
    }
}
