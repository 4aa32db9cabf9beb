//! eventfd objects: a 64-bit counter. A read returns the counter and zeroes it (or, in
//! semaphore mode, returns 1 and decrements it), waiting while it is zero; a write adds to it,
//! waiting while the sum would exceed `u64::MAX - 1` (eventfd(2)).
//!
//! Lock order: `EventFd::count` is a leaf.

use super::epoll::anon_stat;
use super::{FileOps, InodeRef};
use crate::error::{Result, err};
use crate::root::kernel;
use crate::sync::{Event, Mutex};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use veil_abi::Errno;
use veil_abi::general::{self as g, stat};

/// The largest value the counter can hold.
const MAX: u64 = u64::MAX - 1;

pub struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
    changed: Event,
    generation: AtomicU64,
}

impl EventFd {
    pub fn new(initial: u64, semaphore: bool) -> Arc<EventFd> {
        Arc::new(EventFd {
            count: Mutex::new(initial),
            semaphore,
            changed: Event::new(),
            generation: AtomicU64::new(0),
        })
    }

    fn notify(&self) {
        self.generation.fetch_add(1, Ordering::Release);
        self.changed.notify_all();
        kernel().readiness.notify();
    }
}

/// The file operations of an eventfd (holding the object, which is also its inode).
pub struct EventFdFile(pub Arc<EventFd>);

impl EventFdFile {
    pub fn inode(&self) -> InodeRef {
        self.0.clone()
    }
}

super::epoll::anon_inode!(EventFd);

impl FileOps for EventFdFile {
    fn read(&self, _pos: &mut u64, buf: &mut [u8], flags: u32) -> Result<usize> {
        if buf.len() < 8 {
            return err(Errno::EINVAL);
        }
        let e = &self.0;
        loop {
            let seen = e.changed.current();
            let mut count = e.count.lock();
            if *count > 0 {
                let value = if e.semaphore { 1 } else { *count };
                *count -= value;
                drop(count);
                e.notify();
                buf[..8].copy_from_slice(&value.to_ne_bytes());
                return Ok(8);
            }
            drop(count);
            if flags & g::O_NONBLOCK != 0 {
                return err(Errno::EAGAIN);
            }
            e.changed.wait(seen)?;
        }
    }

    fn write(&self, _pos: &mut u64, buf: &[u8], flags: u32) -> Result<usize> {
        // Linux takes exactly one 8-byte value (a larger write fails too).
        if buf.len() != 8 {
            return err(Errno::EINVAL);
        }
        let value = u64::from_ne_bytes(buf[..8].try_into().expect("8 bytes"));
        if value == u64::MAX {
            return err(Errno::EINVAL);
        }
        let e = &self.0;
        loop {
            let seen = e.changed.current();
            let mut count = e.count.lock();
            if MAX - *count >= value {
                *count += value;
                drop(count);
                e.notify();
                return Ok(8);
            }
            drop(count);
            if flags & g::O_NONBLOCK != 0 {
                return err(Errno::EAGAIN);
            }
            e.changed.wait(seen)?;
        }
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
        let count = *self.0.count.lock();
        let mut ready = 0;
        if count > 0 {
            ready |= g::POLLIN;
        }
        if count < MAX {
            ready |= g::POLLOUT;
        }
        if count == u64::MAX {
            ready |= g::POLLERR;
        }
        ready as i16 & (events | g::POLLERR as i16)
    }

    fn can_poll(&self) -> bool {
        true
    }

    fn generation(&self) -> Option<u64> {
        Some(self.0.generation.load(Ordering::Acquire))
    }
}
