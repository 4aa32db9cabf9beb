//! The VMA set of one process: which user address ranges it owns, with what protection and
//! what backs them. The platform holds the actual mappings; this is the kernel's record, used
//! to validate user pointers, to implement `munmap`/`mprotect`/`brk`, and for `/proc/pid/maps`.
//!
//! Lock order: `Process::vm` is taken after `Process::fds` and never while holding a file lock.

use crate::fs::FileOps;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

/// The open file behind a file mapping (kept so its contents can be re-read, e.g. after
/// `MADV_DONTNEED` on a private mapping).
#[derive(Clone)]
pub struct MappedFile {
    pub ops: Arc<dyn FileOps>,
    /// The file was open for writing (a shared mapping may then be made writable).
    pub writable: bool,
}

impl fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MappedFile(writable: {})", self.writable)
    }
}

impl PartialEq for MappedFile {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.ops, &other.ops) && self.writable == other.writable
    }
}

impl Eq for MappedFile {}

/// What backs a mapping (for `/proc/pid/maps`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmaKind {
    Anonymous,
    /// A file's contents (a copy, or page-cache pages): path inside the instance, file offset,
    /// and the file.
    File {
        path: String,
        offset: u64,
        file: MappedFile,
    },
    Heap,
    Stack,
    /// Private anonymous memory mapped with `MAP_GROWSDOWN`: a fault below it extends it
    /// downwards (`mm::grow`).
    GrowsDown,
    /// The stubs of a page-cache object's patched syscall sites (`mm::patch`).
    SyscallStubs,
    /// An attached System V shared memory segment.
    SysvShm {
        key: i32,
        id: i32,
    },
}

/// The shared memory behind a mapping: `object` from `offset` on (at the mapping's start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedPages {
    pub object: Arc<super::shared::SharedObject>,
    pub offset: u64,
}

impl SharedPages {
    /// What the platform maps to show these pages.
    pub fn backing(&self) -> veil_platform::Backing {
        veil_platform::Backing::Shared(self.object.base() + self.offset)
    }
}

/// One user mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vma {
    pub start: usize,
    pub end: usize,
    pub prot: u32,
    pub shared: bool,
    pub kind: VmaKind,
    /// Set for mappings of the instance's shared memory: MAP_SHARED anonymous memory, RAM
    /// files, memfds, System V segments, and (with `shared` false) read-only private file
    /// mappings served from the page cache (`mm::cache`).
    pub pages: Option<SharedPages>,
}

impl Vma {
    /// The same mapping restricted to `[start, end)` (file offsets adjusted).
    pub fn slice(&self, start: usize, end: usize) -> Vma {
        let mut v = self.clone();
        if let VmaKind::File { offset, .. } = &mut v.kind {
            *offset += (start - self.start) as u64;
        }
        if let Some(pages) = &mut v.pages {
            pages.offset += (start - self.start) as u64;
        }
        v.start = start;
        v.end = end;
        v
    }
}

/// The user mappings of a process, plus its program break.
#[derive(Debug, Default, Clone)]
pub struct Vm {
    vmas: BTreeMap<usize, Vma>,
    /// Start of the heap (`brk` area), just above the executable.
    pub brk_start: usize,
    /// Current program break.
    pub brk: usize,
    /// The program images the loader mapped (`mm::images`).
    pub images: Vec<super::images::Image>,
}

impl Vm {
    /// Removes every record overlapping `[start, end)`, keeping the parts outside it.
    pub fn remove(&mut self, start: usize, end: usize) {
        let overlapping: Vec<usize> = self
            .vmas
            .range(..end)
            .filter(|(_, v)| v.end > start)
            .map(|(&s, _)| s)
            .collect();
        for key in overlapping {
            let vma = self.vmas.remove(&key).expect("key from range");
            if vma.start < start {
                self.vmas.insert(vma.start, vma.slice(vma.start, start));
            }
            if vma.end > end {
                self.vmas.insert(end, vma.slice(end, vma.end));
            }
        }
    }

    /// Records a new mapping, replacing whatever was recorded in its range.
    pub fn insert(&mut self, vma: Vma) {
        self.remove(vma.start, vma.end);
        self.vmas.insert(vma.start, vma);
    }

    /// Changes the protection recorded for `[start, end)`.
    pub fn protect(&mut self, start: usize, end: usize, prot: u32) {
        let parts: Vec<Vma> = self.overlapping(start, end).cloned().collect();
        for part in parts {
            let s = part.start.max(start);
            let e = part.end.min(end);
            let mut changed = part.slice(s, e);
            changed.prot = prot;
            self.insert(changed);
        }
    }

    /// The records overlapping `[start, end)`, in address order.
    pub fn overlapping(&self, start: usize, end: usize) -> impl Iterator<Item = &Vma> {
        let first = self
            .vmas
            .range(..=start)
            .next_back()
            .map(|(&s, _)| s)
            .unwrap_or(start);
        self.vmas
            .range(first..end)
            .map(|(_, v)| v)
            .filter(move |v| v.end > start)
    }

    /// Whether every byte of `[addr, addr + len)` belongs to a recorded user mapping.
    pub fn is_user_range(&self, addr: usize, len: usize) -> bool {
        let Some(end) = addr.checked_add(len) else {
            return false;
        };
        if len == 0 {
            return true;
        }
        let mut cursor = addr;
        for vma in self.overlapping(addr, end) {
            if vma.start > cursor {
                return false;
            }
            cursor = vma.end;
            if cursor >= end {
                return true;
            }
        }
        false
    }

    /// Whether any byte of `[start, end)` is mapped.
    pub fn any_mapped(&self, start: usize, end: usize) -> bool {
        self.overlapping(start, end).next().is_some()
    }

    /// The mapping containing `addr`.
    pub fn find(&self, addr: usize) -> Option<&Vma> {
        self.overlapping(addr, addr + 1).next()
    }

    /// The mapping with the highest start below `addr`.
    pub fn below(&self, addr: usize) -> Option<&Vma> {
        self.vmas.range(..addr).next_back().map(|(_, v)| v)
    }

    /// All mappings in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.values()
    }

    /// Forgets every mapping (exec replaces the address space): the records (address order)
    /// and the images among them.
    pub fn clear(&mut self) -> (Vec<Vma>, Vec<super::images::Image>) {
        let all = core::mem::take(&mut self.vmas);
        self.brk_start = 0;
        self.brk = 0;
        (
            all.into_values().collect(),
            core::mem::take(&mut self.images),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anon(start: usize, end: usize) -> Vma {
        Vma {
            start,
            end,
            prot: 3,
            shared: false,
            pages: None,
            kind: VmaKind::Anonymous,
        }
    }

    #[test]
    fn insert_splits_and_replaces() {
        let mut vm = Vm::default();
        vm.insert(anon(0x1000, 0x5000));
        vm.insert(anon(0x2000, 0x3000));
        let ranges: Vec<_> = vm.iter().map(|v| (v.start, v.end)).collect();
        assert_eq!(
            ranges,
            [(0x1000, 0x2000), (0x2000, 0x3000), (0x3000, 0x5000)]
        );
        vm.remove(0x1800, 0x4000);
        let ranges: Vec<_> = vm.iter().map(|v| (v.start, v.end)).collect();
        assert_eq!(ranges, [(0x1000, 0x1800), (0x4000, 0x5000)]);
    }

    #[test]
    fn user_range_checks_gaps() {
        let mut vm = Vm::default();
        vm.insert(anon(0x1000, 0x2000));
        vm.insert(anon(0x2000, 0x3000));
        vm.insert(anon(0x4000, 0x5000));
        assert!(vm.is_user_range(0x1800, 0x1000));
        assert!(!vm.is_user_range(0x2800, 0x1000));
        assert!(!vm.is_user_range(0x0, 0x10));
        assert!(!vm.is_user_range(usize::MAX - 4, 10));
    }

    #[test]
    fn protect_splits() {
        let file = MappedFile {
            ops: Arc::new(crate::fs::NoOps),
            writable: false,
        };
        let at = |offset| VmaKind::File {
            path: "/x".into(),
            offset,
            file: file.clone(),
        };
        let mut vm = Vm::default();
        vm.insert(Vma {
            kind: at(0),
            ..anon(0x1000, 0x4000)
        });
        vm.protect(0x2000, 0x3000, 1);
        let v: Vec<_> = vm
            .iter()
            .map(|v| (v.start, v.prot, v.kind.clone()))
            .collect();
        assert_eq!(v[1].1, 1);
        assert_eq!(v[1].2, at(0x1000));
        assert_eq!(v[2].2, at(0x2000));
    }
}
