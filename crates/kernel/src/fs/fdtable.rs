//! A process's file descriptor table.

use super::OpenFile;
use crate::error::{Result, err};
use alloc::sync::Arc;
use alloc::vec::Vec;
use veil_abi::Errno;

/// One fd slot.
#[derive(Clone)]
pub struct FdEntry {
    pub file: Arc<OpenFile>,
    pub cloexec: bool,
}

/// Descriptor number → open file description, plus close-on-exec flags.
#[derive(Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<FdEntry>>,
}

impl FdTable {
    /// The entry for `fd`, or EBADF.
    pub fn get(&self, fd: i32) -> Result<&FdEntry> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .ok_or(Errno::EBADF.into())
    }

    pub fn get_mut(&mut self, fd: i32) -> Result<&mut FdEntry> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(|s| s.as_mut())
            .ok_or(Errno::EBADF.into())
    }

    /// Installs `file` at the lowest free fd ≥ `min`, below `limit` (RLIMIT_NOFILE).
    pub fn insert_from(
        &mut self,
        min: usize,
        file: Arc<OpenFile>,
        cloexec: bool,
        limit: usize,
    ) -> Result<i32> {
        let free = (min..)
            .find(|&i| self.slots.get(i).is_none_or(|s| s.is_none()))
            .expect("unbounded");
        if free >= limit {
            return if min >= limit {
                err(Errno::EINVAL)
            } else {
                err(Errno::EMFILE)
            };
        }
        self.put(free, FdEntry { file, cloexec });
        Ok(free as i32)
    }

    /// Puts `entry` at exactly `fd`, returning what was there.
    pub fn put(&mut self, fd: usize, entry: FdEntry) -> Option<FdEntry> {
        if self.slots.len() <= fd {
            self.slots.resize(fd + 1, None);
        }
        self.slots[fd].replace(entry)
    }

    /// Removes `fd`, returning its entry (EBADF if it was not open).
    pub fn remove(&mut self, fd: i32) -> Result<FdEntry> {
        let slot = usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .ok_or(Errno::EBADF)?;
        slot.take().ok_or(Errno::EBADF.into())
    }

    /// Open fds in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = (i32, &FdEntry)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|e| (i as i32, e)))
    }

    /// Closes every close-on-exec fd (at execve); returns their entries, for the close hooks
    /// (run without the table's lock).
    pub fn close_on_exec(&mut self) -> Vec<FdEntry> {
        self.slots
            .iter_mut()
            .filter(|slot| slot.as_ref().is_some_and(|e| e.cloexec))
            .filter_map(Option::take)
            .collect()
    }

    /// The host fds of the files that stay open across an exec (host fds belong to one
    /// address space: a program exec'd elsewhere needs these there).
    pub fn host_fds_kept_on_exec(&self) -> Vec<veil_platform::HostFd> {
        self.iter()
            .filter(|(_, e)| !e.cloexec)
            .filter_map(|(_, e)| e.file.ops.host_fd())
            .collect()
    }

    /// Number of slots in use.
    pub fn count(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }
}
