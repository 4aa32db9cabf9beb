//! Futex wait queues.
//!
//! Each waiter sleeps on its own word in the kernel heap (through the platform's shared futex),
//! so a wake-up reaches it in whichever host thread or address space it waits. The queue is
//! keyed by (process, user address), or for shared words by where they are in the memory or
//! host file the processes map ([`FutexKey`]); the user word itself is only read and compared,
//! under the table lock, which is what makes "check the value, then sleep" atomic against
//! wakers.
//!
//! Lock order: `FutexTable::waiters` is a leaf (user memory is read while holding it, which
//! takes the process's `vm` lock briefly: `vm` is never held while taking this lock).

use crate::error::{Result, err};
use crate::mm::VmaKind;
use crate::mm::cache::FileId;
use crate::root::kernel;
use crate::sync::{Mutex, SIGNAL_CHECK_SLICE_NS};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use veil_abi::Errno;
use veil_platform::WaitResult;

/// Identifies a futex: the process whose memory holds it and the address, or, for a word that
/// processes share (not `FUTEX_PRIVATE_FLAG`), where it is in what they map in common, so that
/// processes that map it at different addresses, in any address space, meet on the same futex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FutexKey {
    /// At `addr` in the memory of process `pid` alone.
    Process { pid: i32, addr: u64 },
    /// At `offset` in the instance's shared memory.
    SharedMemory { offset: u64 },
    /// At `offset` in a host file mapped `MAP_SHARED` (the host maps its pages directly).
    HostFile { file: FileId, offset: u64 },
}

impl FutexKey {
    /// The key of the futex word at `addr` of `process`; `private` futexes (FUTEX_PRIVATE_FLAG)
    /// are only ever shared between the threads of one process.
    pub fn new(process: &crate::process::Process, addr: u64, private: bool) -> FutexKey {
        if !private {
            let vm = process.vm();
            let vm = vm.lock();
            if let Some(vma) = vm.find(addr as usize).filter(|v| v.shared) {
                let into = addr - vma.start as u64;
                if let Some(pages) = &vma.pages {
                    return FutexKey::SharedMemory {
                        offset: pages.object.base() + pages.offset + into,
                    };
                }
                // (A host that cannot say which file its own fd is leaves the word to this
                // process alone.)
                if let VmaKind::File { offset, file, .. } = &vma.kind
                    && let Some(Ok(id)) = file.ops.host_identity()
                {
                    return FutexKey::HostFile {
                        file: id,
                        offset: offset + into,
                    };
                }
            }
        }
        FutexKey::Process {
            pid: process.pid,
            addr,
        }
    }
}

struct Waiter {
    key: Mutex<FutexKey>,
    bitset: u32,
    /// 0 while waiting, 1 once woken.
    woken: AtomicU32,
}

/// All waiters of the instance.
#[derive(Default)]
pub struct FutexTable {
    waiters: Mutex<Vec<Arc<Waiter>>>,
}

/// How long a wait may last.
#[derive(Debug, Clone, Copy)]
pub enum Deadline {
    Forever,
    /// Nanoseconds of host monotonic time (absolute).
    At(u64),
}

impl FutexTable {
    /// Sleeps on `key` if the user word (at `addr` of the caller) still holds `expected`.
    /// EAGAIN if it does not, ETIMEDOUT when the deadline passes.
    pub fn wait(
        &self,
        key: FutexKey,
        addr: u64,
        expected: u32,
        bitset: u32,
        deadline: Deadline,
    ) -> Result<()> {
        let waiter = Arc::new(Waiter {
            key: Mutex::new(key),
            bitset,
            woken: AtomicU32::new(0),
        });
        {
            let mut waiters = self.waiters.lock();
            let current: u32 = crate::user::read_val(addr)?;
            if current != expected {
                return err(Errno::EAGAIN);
            }
            waiters.push(waiter.clone());
        }
        let platform = kernel().platform;
        loop {
            if waiter.woken.load(Ordering::Acquire) == 1 {
                return Ok(());
            }
            if crate::signal::interrupted() {
                let mut waiters = self.waiters.lock();
                if waiter.woken.load(Ordering::Acquire) == 1 {
                    return Ok(());
                }
                waiters.retain(|w| !Arc::ptr_eq(w, &waiter));
                return err(Errno::ERESTARTSYS);
            }
            let timeout = match deadline {
                Deadline::Forever => None,
                Deadline::At(at) => Some(at.saturating_sub(kernel().monotonic_ns())),
            };
            // Bounded slices: a signal's wake-up racing with the sleep is noticed soon.
            let slice = timeout.map_or(SIGNAL_CHECK_SLICE_NS, |t| t.min(SIGNAL_CHECK_SLICE_NS));
            let expired = timeout == Some(0)
                || platform.futex_wait(&waiter.woken, 0, Some(slice)) == WaitResult::TimedOut
                    && timeout.is_some_and(|t| t <= slice);
            if expired {
                let mut waiters = self.waiters.lock();
                // A wake that raced with the timeout wins.
                if waiter.woken.load(Ordering::Acquire) == 1 {
                    return Ok(());
                }
                waiters.retain(|w| !Arc::ptr_eq(w, &waiter));
                return err(Errno::ETIMEDOUT);
            }
        }
    }

    /// Wakes up to `count` waiters on `key` whose bitset intersects `bitset`; returns how many.
    pub fn wake(&self, key: FutexKey, count: u32, bitset: u32) -> u32 {
        let mut waiters = self.waiters.lock();
        wake_locked(&mut waiters, key, count, bitset)
    }

    /// Wakes up to `wake` waiters on `from`, then moves up to `requeue` more to `to`. With
    /// `expected`, first checks that the user word of `from` (at `from_addr` of the caller)
    /// holds it (EAGAIN otherwise). Returns woken + requeued.
    pub fn requeue(
        &self,
        from: FutexKey,
        from_addr: u64,
        to: FutexKey,
        wake: u32,
        requeue: u32,
        expected: Option<u32>,
    ) -> Result<u32> {
        let mut waiters = self.waiters.lock();
        if let Some(expected) = expected {
            let current: u32 = crate::user::read_val(from_addr)?;
            if current != expected {
                return err(Errno::EAGAIN);
            }
        }
        let woken = wake_locked(&mut waiters, from, wake, u32::MAX);
        let mut moved = 0;
        for w in waiters.iter() {
            if moved == requeue {
                break;
            }
            let mut k = w.key.lock();
            if *k == from {
                *k = to;
                moved += 1;
            }
        }
        Ok(woken + moved)
    }

    /// `FUTEX_WAKE_OP`: atomically applies `op` to the user word of `key2` (at `addr2` of the
    /// caller), wakes up to `count` on `key1`, and, if the old value of `key2` passes the
    /// comparison, up to `count2` on `key2`.
    pub fn wake_op(
        &self,
        key1: FutexKey,
        key2: FutexKey,
        addr2: u64,
        count: u32,
        count2: u32,
        op: u32,
    ) -> Result<u32> {
        let (oparg, cmparg) = (((op << 8) as i32) >> 20, ((op << 20) as i32) >> 20);
        let (mut opcode, cmp) = ((op >> 28) & 0xf, (op >> 24) & 0xf);
        let oparg = if opcode & 8 != 0 {
            opcode &= 7;
            if !(0..32).contains(&oparg) {
                return err(Errno::EINVAL);
            }
            1i32 << oparg
        } else {
            oparg
        };
        let mut waiters = self.waiters.lock();
        let old = update_user_word(addr2, |v| {
            let v = v as i32;
            Ok(match opcode {
                0 => oparg,
                1 => v.wrapping_add(oparg),
                2 => v | oparg,
                3 => v & !oparg,
                4 => v ^ oparg,
                _ => return err(Errno::ENOSYS),
            } as u32)
        })? as i32;
        let passes = match cmp {
            0 => old == cmparg,
            1 => old != cmparg,
            2 => old < cmparg,
            3 => old <= cmparg,
            4 => old > cmparg,
            5 => old >= cmparg,
            _ => return err(Errno::ENOSYS),
        };
        let mut woken = wake_locked(&mut waiters, key1, count, u32::MAX);
        if passes {
            woken += wake_locked(&mut waiters, key2, count2, u32::MAX);
        }
        Ok(woken)
    }
}

fn wake_locked(waiters: &mut Vec<Arc<Waiter>>, key: FutexKey, count: u32, bitset: u32) -> u32 {
    let platform = kernel().platform;
    let mut woken = 0;
    waiters.retain(|w| {
        if woken < count && *w.key.lock() == key && w.bitset & bitset != 0 {
            w.woken.store(1, Ordering::Release);
            platform.futex_wake(&w.woken, 1);
            woken += 1;
            false
        } else {
            true
        }
    });
    woken
}

/// Atomically replaces the user word at `addr` with `f(old)`; returns the old value.
fn update_user_word(addr: u64, f: impl Fn(u32) -> Result<u32>) -> Result<u32> {
    let platform = kernel().platform;
    let mut old: u32 = crate::user::read_val(addr)?;
    loop {
        let seen = platform.cmpxchg_user_u32(addr as usize, old, f(old)?)?;
        if seen == old {
            return Ok(old);
        }
        old = seen;
    }
}
