//! Memory management: the per-process set of user mappings ([`Vm`]) and the memory syscalls
//! built on it (in `syscall/mmap.rs`).

pub mod cache;
pub mod grow;
pub mod images;
pub mod patch;
pub mod shared;
mod vm;
pub use vm::{MappedFile, SharedPages, Vm, Vma, VmaKind};

use crate::root::kernel;
use alloc::vec::Vec;

/// Unmaps the host memory of `ranges` ((start, end) pairs in address order) in as few calls
/// as they allow: adjacent ranges go together.
pub fn unmap_ranges(ranges: impl IntoIterator<Item = (usize, usize)>) {
    let unmap = |(start, end): (usize, usize)| {
        let _ = kernel().platform.unmap(start, end - start);
    };
    let mut pending: Option<(usize, usize)> = None;
    for (start, end) in ranges {
        match &mut pending {
            Some((_, pending_end)) if *pending_end == start => *pending_end = end,
            _ => pending.replace((start, end)).into_iter().for_each(unmap),
        }
    }
    pending.into_iter().for_each(unmap);
}

/// Ends the host mappings of a process's released records `old` (address order), keeping
/// its program `images` that are as loaded for the next exec (`images`). Takes the fork fence
/// (`Platform::hold_mappings`), so the caller must not hold it.
pub fn release(old: Vec<Vma>, images: Vec<images::Image>) {
    let mut pending = Some((old, images));
    kernel().platform.hold_mappings(&mut || {
        if let Some((old, images)) = pending.take() {
            kernel().kept_images.release(old, images);
        }
    });
}

/// The memory size the instance reports (`sysinfo`, `/proc/meminfo`). Veil sizes nothing by
/// hand, so this is a nominal total against which the processes' mappings are counted.
pub const INSTANCE_RAM_BYTES: u64 = 8 << 30;

/// Bytes mapped by all processes of the instance (at most [`INSTANCE_RAM_BYTES`]).
pub fn mapped_bytes() -> u64 {
    let total: u64 = crate::process::all_processes()
        .iter()
        .map(|p| process_mapped_bytes(&p.vm().lock()))
        .sum();
    total.min(INSTANCE_RAM_BYTES)
}

/// Bytes mapped by one process.
pub fn process_mapped_bytes(vm: &Vm) -> u64 {
    vm.iter().map(|v| (v.end - v.start) as u64).sum()
}
