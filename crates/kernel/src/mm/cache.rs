//! The page cache: the contents of files that programs map privately and read-only (program
//! text, shared libraries, read-only data), kept in the instance's shared memory so that every
//! process in every address space maps the same pages. Loading libc into a new program is then
//! one host mapping instead of a copy, and a host fork copies no page-table entries for it
//! (the host does not copy shared mappings at fork; they are faulted in again on use).
//!
//! Only files whose contents change only together with their size, mtime or ctime are cached
//! ([`crate::fs::FileOps::stable_contents`]); an entry whose file changed is replaced (mappings
//! of the old contents keep them, like a private mapping of a file that was replaced). Writes
//! through the instance drop the entry at once ([`PageCache::forget`]), whatever the timestamp
//! granularity, and a file mapped shared and writable is never cached.
//! Entries are filled by pages, when a range is first mapped. Entries no mapping uses any more
//! are kept for the next program up to [`BUDGET`] bytes, least recently used dropped first.
//! A mapping that becomes writable (`mprotect`) gets a private copy of its pages first.
//!
//! Lock order: `PageCache::files` before `CachedFile::filled`; `excluded` is a leaf. `filled` is
//! held while reading the file, no other while taking another lock.

use super::SharedPages;
use super::patch::STUB_AREA;
use super::shared::{SharedObject, WINDOW};
use crate::error::Result;
use crate::fs::FileOps;
use crate::sync::Mutex;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use veil_abi::PAGE_SIZE;
use veil_abi::general::stat;

/// Bytes of cached pages kept when no mapping uses them.
pub const BUDGET: u64 = 256 << 20;

/// Which file (device and inode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    pub fn of(st: &stat) -> FileId {
        FileId {
            dev: st.st_dev,
            ino: st.st_ino,
        }
    }
}

/// Which contents of the file: any change to them changes one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    size: i64,
    mtime: (u64, u64),
    ctime: (u64, u64),
}

impl Version {
    fn of(st: &stat) -> Version {
        Version {
            size: st.st_size,
            mtime: (st.st_mtime, st.st_mtime_nsec),
            ctime: (st.st_ctime, st.st_ctime_nsec),
        }
    }
}

/// The cached pages of one version of a file: its object holds the stub area of its patched
/// syscall sites (`mm::patch`), then the file's bytes.
struct CachedFile {
    object: Arc<SharedObject>,
    version: Version,
    /// One bit per page of the file: set once the page holds the file's bytes.
    filled: Mutex<Vec<u64>>,
    /// Pages filled (for the budget).
    filled_pages: AtomicU64,
    /// When the entry was last mapped (a counter, for least-recently-used eviction).
    last_use: AtomicU64,
}

impl CachedFile {
    /// Whether only the cache holds the pages (no mapping uses them).
    fn unused(&self) -> bool {
        Arc::strong_count(&self.object) == 1
    }

    /// Fills the pages of `[first, end)` (page numbers) not filled yet from `ops`.
    fn fill(&self, ops: &dyn FileOps, first: u64, end: u64) -> Result<()> {
        let mut filled = self.filled.lock();
        let words = end.div_ceil(64) as usize;
        if filled.len() < words {
            filled.resize(words, 0);
        }
        let is_filled =
            |bits: &[u64], page: u64| bits[(page / 64) as usize] & 1 << (page % 64) != 0;
        let mut page = first;
        while page < end {
            if is_filled(&filled, page) {
                page += 1;
                continue;
            }
            // A run of missing pages.
            let mut run_end = page + 1;
            while run_end < end && !is_filled(&filled, run_end) {
                run_end += 1;
            }
            let offset = page * PAGE_SIZE as u64;
            let file_end = self.version.size.max(0) as u64;
            let len = (run_end * PAGE_SIZE as u64)
                .min(file_end)
                .saturating_sub(offset) as usize;
            // A file that shrank behind our back reads as zeros past its new end (the pages
            // start as zeros). A host file's pages are copied inside the host.
            let spliced = ops.host_fd().is_some_and(|fd| {
                self.object
                    .fill_from_host(STUB_AREA + offset, fd, offset, len)
                    .is_ok()
            });
            if !spliced {
                self.fill_through_buffer(ops, offset, len)?;
            }
            for p in page..run_end {
                filled[(p / 64) as usize] |= 1 << (p % 64);
            }
            self.filled_pages
                .fetch_add(run_end - page, Ordering::Relaxed);
            page = run_end;
        }
        Ok(())
    }

    /// Copies `len` bytes of the file from `offset` into the object, read by the kernel.
    fn fill_through_buffer(&self, ops: &dyn FileOps, offset: u64, len: usize) -> Result<()> {
        // Small enough to stay in the CPU cache (a large one costs more in fresh pages than
        // the fewer host calls save).
        const BUFFER: usize = 64 * 1024;
        let mut buffer = alloc::vec![0u8; BUFFER.min(len)];
        for at in (offset..offset + len as u64).step_by(BUFFER) {
            let want = ((offset + len as u64 - at) as usize).min(BUFFER);
            let buf = &mut buffer[..want];
            let got = crate::fs::read_exact_at(ops, at, buf)?;
            self.object.write(STUB_AREA + at, &buf[..got])?;
            if got < want {
                break;
            }
        }
        Ok(())
    }
}

/// The cached files of the instance.
#[derive(Default)]
pub struct PageCache {
    files: Mutex<BTreeMap<FileId, Arc<CachedFile>>>,
    /// Files mapped shared through a writable descriptor: their contents may change without
    /// the instance seeing it, so they are never cached.
    excluded: Mutex<BTreeSet<FileId>>,
    clock: AtomicU64,
}

impl PageCache {
    /// Shared pages holding `[offset, offset + len)` of the file open as `ops` (whose status
    /// is `st`), filled from it. None if the file cannot be cached: its contents are then
    /// copied into the mapping.
    pub fn pages(
        &self,
        ops: &dyn FileOps,
        st: &stat,
        offset: u64,
        len: usize,
    ) -> Result<Option<SharedPages>> {
        let Some(end) = offset.checked_add(len as u64) else {
            return Ok(None);
        };
        let id = FileId::of(st);
        if !ops.stable_contents() || end > WINDOW - STUB_AREA || self.excluded.lock().contains(&id)
        {
            return Ok(None);
        }
        let version = Version::of(st);
        let entry = {
            let mut files = self.files.lock();
            let entry = match files.get(&id) {
                Some(entry) if entry.version == version => entry.clone(),
                _ => {
                    let entry = Arc::new(CachedFile {
                        object: SharedObject::new()?,
                        version,
                        filled: Mutex::new(Vec::new()),
                        filled_pages: AtomicU64::new(0),
                        last_use: AtomicU64::new(0),
                    });
                    Self::trim(&mut files);
                    files.insert(id, entry.clone());
                    entry
                }
            };
            let now = self.clock.fetch_add(1, Ordering::Relaxed);
            entry.last_use.store(now, Ordering::Relaxed);
            entry
        };
        let page = PAGE_SIZE as u64;
        entry.fill(ops, offset / page, end.div_ceil(page))?;
        Ok(Some(SharedPages {
            object: entry.object.clone(),
            offset: STUB_AREA + offset,
        }))
    }

    /// Forgets the cached contents of file `id` (written by the instance): later mappings
    /// read it again.
    pub fn forget(&self, id: FileId) {
        self.files.lock().remove(&id);
    }

    /// Never caches file `id` again (it is mapped shared through a writable descriptor).
    pub fn exclude(&self, id: FileId) {
        self.excluded.lock().insert(id);
        self.forget(id);
    }

    /// Drops unused entries, least recently used first, until the unused ones fit the budget.
    fn trim(files: &mut BTreeMap<FileId, Arc<CachedFile>>) {
        let mut unused: Vec<(u64, FileId, u64)> = files
            .iter()
            .filter(|(_, f)| f.unused())
            .map(|(id, f)| {
                let bytes = f.filled_pages.load(Ordering::Relaxed) * PAGE_SIZE as u64;
                (f.last_use.load(Ordering::Relaxed), *id, bytes)
            })
            .collect();
        let mut total: u64 = unused.iter().map(|u| u.2).sum();
        unused.sort_unstable();
        for (_, id, bytes) in unused {
            if total <= BUDGET {
                break;
            }
            files.remove(&id);
            total -= bytes;
        }
    }
}
