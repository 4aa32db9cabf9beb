//! File locks: `flock` locks (whole file, owned by an open file description), POSIX record
//! locks (byte ranges, owned by a process) and OFD record locks (byte ranges, owned by an open
//! file description). Locks of one owner never conflict with each other; a read lock conflicts
//! only with another owner's write lock. Files are identified by (device, inode).
//!
//! Lock order: `LockTable::files` is a leaf lock.

use crate::error::{Result, err};
use crate::sync::{Event, Mutex};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use veil_abi::Errno;

/// Identifies a file: (st_dev, st_ino).
pub type FileKey = (u64, u64);

/// Who holds a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// An open file description (flock and OFD locks), by address.
    Description(usize),
    /// A process (POSIX record locks), by pid.
    Process(i32),
}

/// A byte-range lock; `end` is exclusive (`u64::MAX`: to the end of the file, and beyond).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeLock {
    pub owner: Owner,
    pub write: bool,
    pub start: u64,
    pub end: u64,
}

impl RangeLock {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start < end && start < self.end
    }
}

#[derive(Default)]
struct FileLocks {
    /// flock locks: (description, exclusive).
    whole: Vec<(usize, bool)>,
    ranges: Vec<RangeLock>,
}

/// Every lock of the instance.
#[derive(Default)]
pub struct LockTable {
    files: Mutex<BTreeMap<FileKey, FileLocks>>,
    changed: Event,
}

impl LockTable {
    /// `flock`: `exclusive` None unlocks. Waits for conflicting holders unless `nonblock`.
    pub fn flock(
        &self,
        key: FileKey,
        owner: usize,
        exclusive: Option<bool>,
        nonblock: bool,
    ) -> Result<()> {
        loop {
            let seen = self.changed.current();
            {
                let mut files = self.files.lock();
                let locks = files.entry(key).or_default();
                // A conversion drops the old lock first, as on Linux.
                let had = locks.whole.iter().any(|&(o, _)| o == owner);
                locks.whole.retain(|&(o, _)| o != owner);
                let Some(exclusive) = exclusive else {
                    drop(files);
                    self.changed.notify_all();
                    return Ok(());
                };
                let conflict = locks.whole.iter().any(|&(_, ex)| ex || exclusive);
                if !conflict {
                    locks.whole.push((owner, exclusive));
                    drop(files);
                    self.changed.notify_all();
                    return Ok(());
                }
                if had {
                    self.changed.notify_all();
                }
            }
            if nonblock {
                return err(Errno::EAGAIN);
            }
            self.changed.wait(seen)?;
        }
    }

    /// The first lock of another owner that conflicts with `[start, end)` for a `write` (or
    /// read) lock by `owner`.
    pub fn conflict(
        &self,
        key: FileKey,
        owner: Owner,
        write: bool,
        start: u64,
        end: u64,
    ) -> Option<RangeLock> {
        let files = self.files.lock();
        let locks = files.get(&key)?;
        locks
            .ranges
            .iter()
            .copied()
            .find(|l| l.owner != owner && (l.write || write) && l.overlaps(start, end))
    }

    /// Sets (`write` Some) or removes (`write` None) `owner`'s lock on `[start, end)`, waiting
    /// for conflicting holders if `wait`.
    pub fn set_range(
        &self,
        key: FileKey,
        owner: Owner,
        write: Option<bool>,
        start: u64,
        end: u64,
        wait: bool,
    ) -> Result<()> {
        loop {
            let seen = self.changed.current();
            if let Some(write) = write
                && self.conflict(key, owner, write, start, end).is_some()
            {
                if !wait {
                    return err(Errno::EAGAIN);
                }
                self.changed.wait(seen)?;
                continue;
            }
            let mut files = self.files.lock();
            let locks = files.entry(key).or_default();
            // Cut the owner's existing locks out of the range, keeping the parts outside it.
            let mut kept = Vec::with_capacity(locks.ranges.len() + 2);
            for l in locks.ranges.drain(..) {
                if l.owner != owner || !l.overlaps(start, end) {
                    kept.push(l);
                    continue;
                }
                if l.start < start {
                    kept.push(RangeLock { end: start, ..l });
                }
                if l.end > end {
                    kept.push(RangeLock { start: end, ..l });
                }
            }
            if let Some(write) = write {
                kept.push(RangeLock {
                    owner,
                    write,
                    start,
                    end,
                });
            }
            locks.ranges = kept;
            drop(files);
            self.changed.notify_all();
            return Ok(());
        }
    }

    /// Drops every lock an open file description holds (it is being destroyed).
    pub fn release_description(&self, description: usize) {
        let mut files = self.files.lock();
        let mut changed = false;
        for locks in files.values_mut() {
            let before = locks.whole.len() + locks.ranges.len();
            locks.whole.retain(|&(o, _)| o != description);
            locks
                .ranges
                .retain(|l| l.owner != Owner::Description(description));
            changed |= before != locks.whole.len() + locks.ranges.len();
        }
        files.retain(|_, l| !l.whole.is_empty() || !l.ranges.is_empty());
        drop(files);
        if changed {
            self.changed.notify_all();
        }
    }

    /// Drops every POSIX lock of a process (it ended).
    pub fn release_process(&self, pid: i32) {
        let mut files = self.files.lock();
        for locks in files.values_mut() {
            locks.ranges.retain(|l| l.owner != Owner::Process(pid));
        }
        drop(files);
        self.changed.notify_all();
    }

    /// Drops a process's POSIX locks on a file (any of its fds for the file was closed).
    pub fn release_process_file(&self, pid: i32, key: FileKey) {
        let mut files = self.files.lock();
        let Some(locks) = files.get_mut(&key) else {
            return;
        };
        let before = locks.ranges.len();
        locks.ranges.retain(|l| l.owner != Owner::Process(pid));
        let changed = before != locks.ranges.len();
        drop(files);
        if changed {
            self.changed.notify_all();
        }
    }
}
