//! Kernel locks that work across host threads *and* address-space processes: a futex-word mutex
//! whose waiters sleep through the platform's shared futex operations.
//!
//! Locks are never held while a thread blocks for user-visible events (I/O readiness, child
//! exit); only for short critical sections. Each module documents its lock order.

use crate::root::kernel;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering};

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
const CONTENDED: u32 = 2;

/// A mutual-exclusion lock on a 32-bit futex word in the kernel heap.
pub struct Mutex<T: ?Sized> {
    word: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the futex word gives exclusive access to `value`, so sharing the mutex between threads
// is sound whenever sending the value is.
#[allow(unsafe_code)]
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: as above; the mutex owns its value.
#[allow(unsafe_code)]
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            word: AtomicU32::new(UNLOCKED),
            value: UnsafeCell::new(value),
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks, sleeping on the futex word while another thread holds the lock.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        if self
            .word
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.word.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
                kernel().platform.futex_wait(&self.word, CONTENDED, None);
            }
        }
        MutexGuard { mutex: self }
    }
}

/// Proof of holding a [`Mutex`]; unlocks on drop.
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves exclusive access.
        #[allow(unsafe_code)]
        unsafe {
            &*self.mutex.value.get()
        }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves exclusive access.
        #[allow(unsafe_code)]
        unsafe {
            &mut *self.mutex.value.get()
        }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if self.mutex.word.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            kernel().platform.futex_wake(&self.mutex.word, 1);
        }
    }
}

/// Longest uninterrupted sleep of any kernel wait: a signal's wake-up may slip in between a
/// waiter's "anything to deliver?" check and its sleep, and this bounds that rare delay.
pub const SIGNAL_CHECK_SLICE_NS: u64 = 200_000_000;

/// A wake-up point for threads waiting on a condition protected by some [`Mutex`]: waiters
/// snapshot [`Event::current`] *before* checking their condition, then [`Event::wait`] with that
/// snapshot; [`Event::notify_all`] bumps the counter, so a notification between the check and
/// the wait is never lost. Works across address spaces (shared futex word).
#[derive(Default)]
pub struct Event {
    seq: AtomicU32,
    /// Threads about to sleep or sleeping on `seq`: a notification with none makes no host call.
    sleepers: AtomicU32,
}

impl Event {
    pub const fn new() -> Event {
        Event {
            seq: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
        }
    }

    /// Sleeps on the counter while it is `seen`, for at most `timeout_ns`. Counted as a sleeper
    /// before the check (both sides order their two accesses with SeqCst): a notifier either
    /// sees the sleeper or the sleeper sees the new count.
    fn sleep(&self, seen: u32, timeout_ns: Option<u64>) {
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        if self.seq.load(Ordering::SeqCst) == seen {
            kernel().platform.futex_wait(&self.seq, seen, timeout_ns);
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// The notification count, to pass to [`Event::wait`].
    pub fn current(&self) -> u32 {
        self.seq.load(Ordering::Acquire)
    }

    /// Sleeps until a notification after `seen` (returns at once if one already happened), or
    /// until a signal is pending for the calling thread: then ERESTARTSYS.
    pub fn wait(&self, seen: u32) -> crate::error::Result<()> {
        self.wait_timeout(seen, None)
    }

    /// As [`Event::wait`], also returning (Ok) after `timeout_ns`.
    pub fn wait_timeout(&self, seen: u32, timeout_ns: Option<u64>) -> crate::error::Result<()> {
        if crate::signal::interrupted() {
            return Err(veil_abi::Errno::ERESTARTSYS.into());
        }
        // A signal's wake-up may slip in between the check above and the sleep: sleeping in
        // bounded slices bounds that rare delay.
        let slice = timeout_ns.map_or(SIGNAL_CHECK_SLICE_NS, |t| t.min(SIGNAL_CHECK_SLICE_NS));
        self.sleep(seen, Some(slice));
        if crate::signal::interrupted() {
            return Err(veil_abi::Errno::ERESTARTSYS.into());
        }
        Ok(())
    }

    /// For kernel service threads (which receive no signals): sleeps until a notification after
    /// `seen` or `timeout_ns`.
    pub fn wait_service(&self, seen: u32, timeout_ns: Option<u64>) {
        self.sleep(seen, timeout_ns);
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.seq.fetch_add(1, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) != 0 {
            kernel().platform.futex_wake(&self.seq, u32::MAX);
        }
    }
}
