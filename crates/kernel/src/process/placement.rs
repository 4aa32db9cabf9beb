//! Where a woken parent runs. A process that ends wakes its parent waiting in wait4, which then
//! runs while the child goes away. Linux wakes such a parent synchronously, on the waker's CPU;
//! a host futex wake instead sends the parent's host thread back to the CPU it slept on, and if
//! that CPU is idle (as it is while the parent waits) waking it costs tens of microseconds in a
//! virtual machine. So the waker pins the waiting parent's host thread to its own CPU before the
//! wake, and the parent, once awake, takes back every CPU of the instance. (A vfork parent does
//! not wait on a host thread of its own: see `vfork`.)
//!
//! Each thread's `placement` word says whether it waits for a child, or whether a waker is
//! pinning it or has pinned it. A thread is only pinned while it waits, and it undoes the pin
//! itself before its wait returns, so no host thread stays pinned (host threads are reused for
//! other LibOS threads). No locks: one atomic word per thread.

use super::{Process, Thread, threads_of};
use crate::root::kernel;
use core::sync::atomic::{AtomicU32, Ordering};

/// Not waiting for a child.
const IDLE: u32 = 0;
/// Waiting for a child.
const WAITING: u32 = 1;
/// A waker is pinning the thread to its CPU.
const PINNING: u32 = 2;
/// A waker has pinned the thread to its CPU.
const PINNED: u32 = 3;

/// A thread's placement word (see the module docs).
#[derive(Default)]
pub struct Placement(AtomicU32);

/// Runs `wait` (a sleep until some child changes state) with the calling `thread` marked as
/// waiting for a child, so that a child that wakes it can pin it to its own CPU first.
pub fn waiting_for_child<T>(thread: &Thread, wait: impl FnOnce() -> T) -> T {
    let word = &thread.placement.0;
    let _ = word.compare_exchange(IDLE, WAITING, Ordering::AcqRel, Ordering::Acquire);
    let result = wait();
    settle(word);
    result
}

/// Ends a wait's placement: if a waker pinned this thread, it gets every CPU back (it already
/// runs on the waker's); if a waker is pinning it right now, that is waited for first.
fn settle(word: &AtomicU32) {
    loop {
        let state = word.load(Ordering::Acquire);
        if state == PINNING {
            core::hint::spin_loop();
            continue;
        }
        if word
            .compare_exchange(state, IDLE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            if state == PINNED {
                kernel().platform.unpin_current_thread();
            }
            return;
        }
    }
}

/// Called by a process about to wake its parent, before the wake: the parent's threads that
/// wait for a child are pinned to the caller's CPU.
pub fn pull_waiting_parent(process: &Process) {
    let k = kernel();
    let Some(parent) = k.processes.lock().get(&process.ppid()).cloned() else {
        return;
    };
    let cpu = k.platform.current_cpu();
    for thread in threads_of(&parent) {
        let word = &thread.placement.0;
        if word
            .compare_exchange(WAITING, PINNING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let pinned = k
                .platform
                .pin_thread(thread.host.load(Ordering::Acquire), cpu);
            word.store(if pinned { PINNED } else { WAITING }, Ordering::Release);
        }
    }
}
