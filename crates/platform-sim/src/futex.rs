//! Host futex operations on *shared* futex words (no `FUTEX_PRIVATE_FLAG`), so that waiters in
//! different address-space processes of an instance find each other, and the raw mutex built on
//! them that guards the kernel heap allocator.

use std::sync::atomic::{AtomicU32, Ordering};

/// Sleeps while `*word == expected`. Returns the host errno on failure (EAGAIN, ETIMEDOUT, EINTR).
pub fn wait(word: &AtomicU32, expected: u32, timeout: Option<&libc::timespec>) -> Result<(), i32> {
    let ts = timeout.map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: FUTEX_WAIT only reads the word and the optional timespec, both valid here.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            ts,
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(())
    }
}

/// Wakes up to `count` waiters; returns how many were woken.
pub fn wake(word: &AtomicU32, count: u32) -> u32 {
    let count = count.min(i32::MAX as u32);
    // SAFETY: FUTEX_WAKE does not access memory beyond the word's address.
    let r = unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, count) };
    r.max(0) as u32
}

/// A mutex on a shared futex word: 0 unlocked, 1 locked, 2 locked with waiters.
pub struct SharedRawMutex(AtomicU32);

// SAFETY: `lock` only returns once this thread moved the word from 0 to 1 or 2, and every other
// thread must do the same, so at most one holder exists; `unlock` releases it.
unsafe impl lock_api::RawMutex for SharedRawMutex {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = SharedRawMutex(AtomicU32::new(0));
    type GuardMarker = lock_api::GuardSend;

    fn lock(&self) {
        if self
            .0
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        while self.0.swap(2, Ordering::Acquire) != 0 {
            let _ = wait(&self.0, 2, None);
        }
    }

    fn try_lock(&self) -> bool {
        self.0
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    unsafe fn unlock(&self) {
        if self.0.swap(0, Ordering::Release) == 2 {
            wake(&self.0, 1);
        }
    }
}
