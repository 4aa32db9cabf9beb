//! Threads that ended, kept until their host threads are done with them.
//!
//! A host thread that ends a LibOS thread counts itself out of its process
//! (`Process::host_threads`; the process's last one also takes the process out of its address
//! space) as the last thing it does in the shared kernel heap: from then on its address space
//! may end at any moment, and a host thread killed while it held the heap allocator's lock
//! would deadlock the whole instance. So it can drop its last reference to its `Thread` (which
//! may free it, and its process) neither after counting itself out, nor before (it counts
//! itself out through that `Thread`). It hands the reference to the kernel's graveyard instead
//! ([`Graves::bury`]), and a healthy thread releases it later ([`Graves::release_done`]): once
//! the ending host thread has marked the thread done, or its address space is gone (it was
//! killed in between).
//!
//! Lock order: `Graves::list` is a leaf.

#![allow(unsafe_code)]

use super::Thread;
use crate::root::kernel;
use crate::sync::Mutex;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

/// The ended threads not released yet (`Kernel::graves`).
#[derive(Default)]
pub struct Graves {
    list: Mutex<Vec<Grave>>,
}

/// One ended thread: the reference its host thread gave up (`Arc::into_raw`), and the address
/// space that host thread ran in.
struct Grave {
    thread: usize,
    space: u64,
}

impl Graves {
    /// Ends the calling host thread's use of `thread`, its last reference to it: keeps the
    /// reference, runs `last` (which counts the host thread out), then marks the thread done.
    /// The caller touches the kernel heap no more after this.
    pub fn bury(&self, thread: Arc<Thread>, last: impl FnOnce(&Thread)) {
        let space = kernel().platform.address_space_id();
        let raw = Arc::into_raw(thread);
        self.list.lock().push(Grave {
            thread: raw as usize,
            space,
        });
        // SAFETY: the grave just pushed holds the reference `raw` came from, and nobody
        // releases it before `host_done` is set (or this host thread's address space is gone,
        // and this code with it).
        let thread = unsafe { &*raw };
        last(thread);
        thread.host_done.store(true, Ordering::Release);
    }

    /// Releases the ended threads whose host threads are done with them (and, with the last
    /// reference, their processes).
    pub fn release_done(&self) {
        loop {
            let released = {
                let mut list = self.list.lock();
                let Some(i) = list.iter().position(Grave::done) else {
                    return;
                };
                list.swap_remove(i)
            };
            // SAFETY: the pointer came from `Arc::into_raw` in `bury`, whose reference the
            // grave held until now; the ending host thread no longer uses it.
            drop(unsafe { Arc::from_raw(released.thread as *const Thread) });
        }
    }
}

impl Grave {
    /// Whether the ending host thread is done with the thread.
    fn done(&self) -> bool {
        // SAFETY: the grave holds a reference to the thread.
        let thread = unsafe { &*(self.thread as *const Thread) };
        if thread.host_done.load(Ordering::Acquire) {
            return true;
        }
        let platform = kernel().platform;
        self.space != platform.address_space_id() && !platform.address_space_alive(self.space)
    }
}
