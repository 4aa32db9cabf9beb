//! Growing `MAP_GROWSDOWN` mappings: a fault at an address below such a mapping (and above the
//! next lower one) extends it down to that address's page, as Linux's `expand_downwards` does.

use super::VmaKind;
use crate::process::Process;
use veil_abi::PAGE_SIZE;
use veil_abi::general::RLIMIT_STACK;
use veil_platform::{Backing, Placement};

/// Linux's default `stack_guard_gap`: 256 pages kept free between a growing mapping and an
/// accessible mapping below it.
const STACK_GUARD_GAP: usize = 256 * PAGE_SIZE;

/// Extends the `MAP_GROWSDOWN` mapping just above `addr` down to `addr`'s page. Returns whether
/// it did, in which case the faulting access can run again.
pub fn grow_down(process: &Process, addr: usize) -> bool {
    let vm_ref = process.vm();
    let mut vm = vm_ref.lock();
    // The first mapping ending above `addr`: it must start above it and be growable.
    let Some(vma) = vm.overlapping(addr, usize::MAX).next() else {
        return false;
    };
    if vma.start <= addr || vma.kind != VmaKind::GrowsDown {
        return false;
    }
    let new_start = addr & !(PAGE_SIZE - 1);
    let limit = process.limits.lock().0[RLIMIT_STACK as usize].rlim_cur;
    if (vma.end - new_start) as u64 > limit {
        return false;
    }
    // Only an accessible mapping that does not grow itself keeps the guard gap away.
    if let Some(prev) = vm.below(new_start) {
        let gap = if prev.prot != 0 && prev.kind != VmaKind::GrowsDown {
            STACK_GUARD_GAP
        } else {
            0
        };
        if prev.end.saturating_add(gap) > new_start {
            return false;
        }
    }
    let mut grown = vma.clone();
    // FixedNoReplace: LibOS memory the VMA set does not record may lie below.
    if super::images::map_host(
        Placement::FixedNoReplace(new_start),
        grown.start - new_start,
        grown.prot,
        Backing::Private,
    )
    .is_err()
    {
        return false;
    }
    grown.start = new_start;
    vm.insert(grown);
    true
}
