//! Shared memory: pages that every address space of the instance can map. The platform gives
//! the instance one shared-memory object; the kernel carves it into windows of [`WINDOW`] bytes,
//! each owned by one [`SharedObject`]: the pages of a `MAP_SHARED` anonymous mapping, of a RAM
//! file or memfd once it is mapped shared ([`FileData`]), or of a System V segment. Mapping the
//! same object offset anywhere gives the same page, so stores are seen by every process at
//! once, and futex words in it are keyed by object offset.
//!
//! Lock order: `Windows::free` is a leaf.

use crate::error::{Result, err};
use crate::root::kernel;
use crate::sync::Mutex;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use veil_abi::Errno;

/// The largest shared object (a window of the platform's shared memory).
pub const WINDOW: u64 = 1 << 36;

/// Which windows of the shared memory are in use.
#[derive(Default)]
pub struct Windows {
    /// Released windows, reused before new ones.
    free: Mutex<Vec<u64>>,
    /// Windows below this offset have been handed out at some time.
    next: AtomicU64,
}

impl Windows {
    fn take(&self) -> Result<u64> {
        if let Some(base) = self.free.lock().pop() {
            return Ok(base);
        }
        let base = self.next.fetch_add(WINDOW, Ordering::Relaxed);
        if base + WINDOW > kernel().platform.shared_memory_size() {
            self.next.fetch_sub(WINDOW, Ordering::Relaxed);
            return err(Errno::ENOMEM);
        }
        Ok(base)
    }

    fn put(&self, base: u64) {
        self.free.lock().push(base);
    }
}

/// One window of shared memory; its pages are released when the last owner drops it.
pub struct SharedObject {
    base: u64,
    /// Patched syscall sites, for page-cache objects holding program text (`mm::patch`).
    pub patches: Mutex<super::patch::Patches>,
}

impl SharedObject {
    /// A new object whose pages all read as zeros.
    pub fn new() -> Result<Arc<SharedObject>> {
        Ok(Arc::new(SharedObject {
            base: kernel().shared_windows.take()?,
            patches: Mutex::new(Default::default()),
        }))
    }

    /// Offset of the object's first byte in the platform's shared memory.
    pub fn base(&self) -> u64 {
        self.base
    }

    fn check(offset: u64, len: usize) -> Result<()> {
        match offset.checked_add(len as u64) {
            Some(end) if end <= WINDOW => Ok(()),
            _ => err(Errno::EFBIG),
        }
    }

    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        Self::check(offset, buf.len())?;
        Ok(kernel().platform.shared_read(self.base + offset, buf)?)
    }

    pub fn write(&self, offset: u64, buf: &[u8]) -> Result<()> {
        Self::check(offset, buf.len())?;
        Ok(kernel().platform.shared_write(self.base + offset, buf)?)
    }

    /// Copies `len` bytes of host file `fd` from `file_offset` to `offset`, inside the host;
    /// returns how many (fewer at the file's end).
    pub fn fill_from_host(
        &self,
        offset: u64,
        fd: veil_platform::HostFd,
        file_offset: u64,
        len: usize,
    ) -> Result<usize> {
        Self::check(offset, len)?;
        Ok(kernel()
            .platform
            .shared_fill_from_host(self.base + offset, fd, file_offset, len)?)
    }

    /// Zeroes `[start, end)` (page-aligned parts go back to the host).
    pub fn zero(&self, start: u64, end: u64) -> Result<()> {
        let end = end.min(WINDOW);
        if start >= end {
            return Ok(());
        }
        let page = veil_abi::PAGE_SIZE as u64;
        let first_full = start.next_multiple_of(page).min(end);
        let last_full = (end / page * page).max(first_full);
        let zeros = [0u8; 4096];
        for (from, to) in [(start, first_full), (last_full, end)] {
            let mut at = from;
            while at < to {
                let n = ((to - at) as usize).min(zeros.len());
                self.write(at, &zeros[..n])?;
                at += n as u64;
            }
        }
        if last_full > first_full {
            kernel()
                .platform
                .shared_discard(self.base + first_full, last_full - first_full);
        }
        Ok(())
    }
}

impl core::fmt::Debug for SharedObject {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SharedObject({:#x})", self.base)
    }
}

impl PartialEq for SharedObject {
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base
    }
}

impl Eq for SharedObject {}

impl Drop for SharedObject {
    fn drop(&mut self) {
        let k = kernel();
        k.platform.shared_discard(self.base, WINDOW);
        k.shared_windows.put(self.base);
    }
}

/// The bytes of a RAM file (or memfd): in the kernel heap until the file is first mapped
/// shared, then in a [`SharedObject`], so that its mappings, reads and writes all see the same
/// pages.
#[derive(Debug)]
pub enum FileData {
    Heap(Vec<u8>),
    Shared { object: Arc<SharedObject>, len: u64 },
}

impl Default for FileData {
    fn default() -> Self {
        FileData::Heap(Vec::new())
    }
}

impl FileData {
    pub fn len(&self) -> u64 {
        match self {
            FileData::Heap(v) => v.len() as u64,
            FileData::Shared { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads at `offset`; returns how many bytes there were (0 at or past the end).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let len = self.len();
        if offset >= len {
            return Ok(0);
        }
        let n = buf.len().min((len - offset) as usize);
        match self {
            FileData::Heap(v) => {
                let start = offset as usize;
                buf[..n].copy_from_slice(&v[start..start + n]);
            }
            FileData::Shared { object, .. } => object.read(offset, &mut buf[..n])?,
        }
        Ok(n)
    }

    /// Writes `buf` at `offset`, growing the data as needed.
    pub fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<()> {
        let end = offset.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
        if end > self.len() {
            self.set_len(end)?;
        }
        match self {
            FileData::Heap(v) => v[offset as usize..end as usize].copy_from_slice(buf),
            FileData::Shared { object, .. } => object.write(offset, buf)?,
        }
        Ok(())
    }

    /// Grows (with zeros) or shrinks the data to `new_len` bytes.
    pub fn set_len(&mut self, new_len: u64) -> Result<()> {
        match self {
            FileData::Heap(v) => {
                let new_len = usize::try_from(new_len).map_err(|_| Errno::EFBIG)?;
                if new_len > v.len() {
                    v.try_reserve(new_len - v.len())
                        .map_err(|_| Errno::ENOSPC)?;
                }
                v.resize(new_len, 0);
            }
            FileData::Shared { object, len } => {
                if new_len > WINDOW {
                    return err(Errno::EFBIG);
                }
                if new_len < *len {
                    // Bytes past the end read as zeros if the file grows again.
                    object.zero(new_len, *len)?;
                }
                *len = new_len;
            }
        }
        Ok(())
    }

    /// Zeroes `[start, end)` within the data.
    pub fn zero_range(&mut self, start: u64, end: u64) -> Result<()> {
        let end = end.min(self.len());
        if start >= end {
            return Ok(());
        }
        match self {
            FileData::Heap(v) => v[start as usize..end as usize].fill(0),
            FileData::Shared { object, .. } => object.zero(start, end)?,
        }
        Ok(())
    }

    /// The shared object holding the data, moving the data into one first if needed.
    pub fn share(&mut self) -> Result<Arc<SharedObject>> {
        if let FileData::Shared { object, .. } = self {
            return Ok(object.clone());
        }
        let len = self.len();
        if len > WINDOW {
            return err(Errno::ENOMEM);
        }
        let object = SharedObject::new()?;
        if let FileData::Heap(v) = self {
            object.write(0, v)?;
        }
        *self = FileData::Shared {
            object: object.clone(),
            len,
        };
        Ok(object)
    }
}
