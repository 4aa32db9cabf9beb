//! Program images kept mapped for the next exec of the same file: when a process of a shared
//! address space ends or execs, the images the loader mapped for it (executable and
//! interpreter, with their syscall stub areas) stay where they are if the program left them as
//! loaded, and the next exec of the same file in that address space takes them over instead of
//! mapping them afresh. Their page-cache segments keep their page-table entries (the new
//! program takes no page faults on them); only the private parts (data, bss) are loaded again.
//! This saves each spawn of a program (a shell running commands, `posix_spawn` in a loop) the
//! host mappings of its image, their removal at its end (which also costs the other CPUs a
//! page-table flush), and its first faults.
//!
//! Addresses are no less random than before: the host gave the range back to the next mapping
//! anyway. A kept image's private pages are given back to the host at once (`MADV_DONTNEED`),
//! and the image is left out of host forks (`MADV_DONTFORK`): a copy of the address space never
//! has it. A fixed mapping that needs the range ends it ([`map_host`]); so do the end of its
//! address space and, beyond [`KEPT_PER_SPACE`] images, the keeping of a newer one.
//!
//! Lock order: `Kernel::kept_images` is a leaf.

use super::Vma;
use crate::root::kernel;
use crate::sync::Mutex;
use alloc::vec::Vec;
use veil_abi::Errno;
use veil_abi::general::{
    MADV_DOFORK, MADV_DONTFORK, MADV_DONTNEED, PROT_NONE, PROT_READ, PROT_WRITE, stat,
};
use veil_platform::{Backing, Placement};

/// Images kept per address space (the least recently kept one goes first).
const KEPT_PER_SPACE: usize = 12;

/// What an image holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKey {
    /// A file (one version of it), loaded as the main executable or as an interpreter.
    File {
        dev: u64,
        ino: u64,
        size: i64,
        mtime: (u64, u64),
        ctime: (u64, u64),
        main: bool,
    },
    /// A main thread's stack of `size` bytes, with its guard gap (`loader::stack`).
    Stack { size: usize },
}

impl ImageKey {
    pub fn file(st: &stat, main: bool) -> ImageKey {
        ImageKey::File {
            dev: st.st_dev,
            ino: st.st_ino,
            size: st.st_size,
            mtime: (st.st_mtime, st.st_mtime_nsec),
            ctime: (st.st_ctime, st.st_ctime_nsec),
            main,
        }
    }
}

/// A program image as the loader mapped it: its key, where it starts (the reservation of its
/// segments) and the records it made (address order, including its stub areas).
#[derive(Debug, Clone)]
pub struct Image {
    pub key: ImageKey,
    pub base: usize,
    pub records: Vec<Vma>,
}

impl Image {
    /// The page-cache record the image has at `start`, if any.
    pub fn cached_record(&self, start: usize) -> Option<&Vma> {
        self.records
            .iter()
            .find(|v| v.start == start && v.pages.is_some())
    }

    /// Its stub-area records (`mm::patch`).
    pub fn stub_areas(&self) -> impl Iterator<Item = &Vma> {
        self.records
            .iter()
            .filter(|v| matches!(v.kind, super::VmaKind::SyscallStubs))
    }

    fn range(&self) -> (usize, usize) {
        let start = self.records.first().map_or(self.base, |v| v.start);
        let end = self.records.last().map_or(self.base, |v| v.end);
        (start, end)
    }

    /// Whether `released` (records in address order) hold exactly the loader's mappings over
    /// the image: the program may have changed protections, nothing else.
    fn unchanged(&self, released: &[Vma]) -> bool {
        let (start, end) = self.range();
        let mut now = released
            .iter()
            .skip_while(|v| v.end <= start)
            .take_while(|v| v.start < end);
        for loaded in &self.records {
            let mut at = loaded.start;
            while at < loaded.end {
                let Some(record) = now.next() else {
                    return false;
                };
                if record.start != at || record.end > loaded.end {
                    return false;
                }
                let mut expected = loaded.slice(record.start, record.end);
                expected.prot = record.prot;
                if expected != *record {
                    return false;
                }
                at = record.end;
            }
        }
        now.next().is_none()
    }
}

/// An image kept in address space `space`, with its records as its last program left them.
struct Kept {
    space: u64,
    image: Image,
    released: Vec<Vma>,
}

/// Every address space's kept images (`Kernel::kept_images`).
#[derive(Default)]
pub struct KeptImages {
    kept: Mutex<Vec<Kept>>,
}

/// An image taken over for a new program: its page-cache parts are in place, its private parts
/// empty and writable where the loader writes.
pub struct Reused {
    pub image: Image,
    /// The host protection of each of its private records.
    host: Vec<(usize, usize, u32)>,
}

impl Reused {
    /// Whether `[start, end)` has protection `prot` on the host already.
    pub fn protected(&self, start: usize, end: usize, prot: u32) -> bool {
        self.host.contains(&(start, end, prot))
    }
}

impl KeptImages {
    /// Takes the image of `key` kept in the calling address space, if any (at `fixed` when the
    /// program must be there) and if each of its page-cache records is `current` (the file's
    /// pages have not changed since).
    pub fn take(
        &self,
        key: &ImageKey,
        fixed: Option<usize>,
        current: impl Fn(&Vma) -> bool,
    ) -> Option<Reused> {
        let space = kernel().platform.address_space_id();
        let kept = {
            let mut all = self.kept.lock();
            let at = all.iter().rposition(|k| {
                k.space == space && k.image.key == *key && fixed.is_none_or(|a| a == k.image.base)
            })?;
            all.remove(at)
        };
        let cached = kept.image.records.iter().filter(|v| v.pages.is_some());
        let fresh = cached
            .filter(|v| !matches!(v.kind, super::VmaKind::SyscallStubs))
            .all(current);
        let (start, end) = kept.image.range();
        let platform = kernel().platform;
        if !fresh || platform.advise(start, end - start, MADV_DOFORK).is_err() {
            unmap_ranges_of(&kept.image);
            return None;
        }
        // Every record gets the protection the loader expects: a page-cache record (or stub
        // area) its own, a private one read-write to be loaded, but a gap of the reservation
        // stays inaccessible. (No thread of the last program ran after it was kept: see
        // `process::exit_process` and `loader::load`.)
        let mut host = Vec::new();
        for record in &kept.released {
            let (s, e) = (record.start, record.end);
            let loaded = kept
                .image
                .records
                .iter()
                .find(|v| v.start <= s && e <= v.end)
                .map_or(PROT_NONE, |v| v.prot);
            let target =
                if record.pages.is_some() || loaded == PROT_NONE && record.prot == PROT_NONE {
                    loaded
                } else {
                    PROT_READ | PROT_WRITE
                };
            if record.prot != target && platform.protect(s, e - s, target).is_err() {
                unmap_ranges_of(&kept.image);
                return None;
            }
            host.push((s, e, target));
        }
        Some(Reused {
            image: kept.image,
            host,
        })
    }

    /// Ends what a process's mappings `released` (address order; its `images` among them) held
    /// in the calling address space: keeps its images that are as loaded, unmaps the rest. The
    /// caller holds the fork fence (`Platform::hold_mappings`): a copy of the address space
    /// made meanwhile would hold ranges nobody records.
    pub fn release(&self, released: Vec<Vma>, images: Vec<Image>) {
        let mut kept_ranges: Vec<(usize, usize)> = Vec::new();
        for image in images {
            if !image.unchanged(&released) || !give_back_private_pages(&image, &released) {
                continue;
            }
            let (start, end) = image.range();
            if kernel()
                .platform
                .advise(start, end - start, MADV_DONTFORK)
                .is_err()
            {
                continue;
            }
            kept_ranges.push((start, end));
            let image_released = released
                .iter()
                .filter(|v| v.start >= start && v.end <= end)
                .cloned()
                .collect();
            self.keep(Kept {
                space: kernel().platform.address_space_id(),
                image,
                released: image_released,
            });
        }
        let outside = |v: &&Vma| !kept_ranges.iter().any(|&(s, e)| v.start >= s && v.end <= e);
        super::unmap_ranges(released.iter().filter(outside).map(|v| (v.start, v.end)));
    }

    fn keep(&self, kept: Kept) {
        let space = kept.space;
        let evicted = {
            let mut all = self.kept.lock();
            all.push(kept);
            let count = all.iter().filter(|k| k.space == space).count();
            if count > KEPT_PER_SPACE {
                let oldest = all.iter().position(|k| k.space == space).expect("counted");
                Some(all.remove(oldest))
            } else {
                None
            }
        };
        if let Some(old) = evicted {
            unmap_ranges_of(&old.image);
        }
    }

    /// Ends the calling address space's kept images overlapping `[start, end)`; true if there
    /// were any.
    pub fn evict(&self, start: usize, end: usize) -> bool {
        let space = kernel().platform.address_space_id();
        let evicted = self.remove_where(|k| {
            let (s, e) = k.image.range();
            k.space == space && s < end && start < e
        });
        for old in &evicted {
            unmap_ranges_of(&old.image);
        }
        !evicted.is_empty()
    }

    /// Forgets the images of address space `space`, which ended (with its mappings).
    pub fn forget_space(&self, space: u64) {
        // Dropped after the lock (their records hold page-cache objects).
        drop(self.remove_where(|k| k.space == space));
    }

    fn remove_where(&self, which: impl Fn(&Kept) -> bool) -> Vec<Kept> {
        let mut all = self.kept.lock();
        let (removed, stay) = core::mem::take(&mut *all).into_iter().partition(which);
        *all = stay;
        removed
    }
}

fn unmap_ranges_of(image: &Image) {
    let (start, end) = image.range();
    let _ = kernel().platform.unmap(start, end - start);
}

/// Gives the host back the pages of the image's private (loaded, not page-cache) parts, gaps
/// included (a program may have written there and made them inaccessible again): they read as
/// zeros, and the next program loads its own bytes.
fn give_back_private_pages(image: &Image, released: &[Vma]) -> bool {
    let (start, end) = image.range();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for v in released
        .iter()
        .filter(|v| v.start >= start && v.end <= end && v.pages.is_none())
    {
        match runs.last_mut() {
            Some((_, run_end)) if *run_end == v.start => *run_end = v.end,
            _ => runs.push((v.start, v.end)),
        }
    }
    runs.iter()
        .all(|&(s, e)| kernel().platform.advise(s, e - s, MADV_DONTNEED).is_ok())
}

/// Maps `backing` as the platform does; a fixed placement that finds a kept image in its way
/// ends the image and tries again (the range belongs to no process).
pub fn map_host(
    placement: Placement,
    len: usize,
    prot: u32,
    backing: Backing,
) -> Result<usize, Errno> {
    let platform = kernel().platform;
    match platform.map(placement, len, prot, backing) {
        Err(Errno::EEXIST)
            if let Placement::FixedNoReplace(addr) = placement
                && kernel().kept_images.evict(addr, addr + len) =>
        {
            platform.map(placement, len, prot, backing)
        }
        other => other,
    }
}
