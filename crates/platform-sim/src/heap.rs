//! The kernel heap: one `MAP_SHARED` mapping at the same address in every address-space process
//! of an instance, and the global allocator on top of it.
//!
//! Before [`use_kernel_heap`] is called, the process (the CLI / supervisor) allocates from the
//! host's malloc. An address-space process switches to the kernel heap right after it is forked,
//! so every kernel object — and the allocator's own metadata, which lives at the start of the
//! heap — is visible to all address spaces. Frees are routed by address, so memory allocated
//! before the switch is still released correctly.
//!
//! Lock order: the heap lock is a leaf; nothing is locked while it is held.

use crate::futex::SharedRawMutex;
use core::alloc::{GlobalAlloc, Layout};
use std::alloc::System;
use std::sync::atomic::{AtomicBool, Ordering};

/// Where the kernel heap lives: far from where Linux places programs, libraries and stacks.
pub const HEAP_BASE: usize = 0x2000_0000_0000;
/// Reserved size of the kernel heap (pages are committed on first touch).
pub const HEAP_SIZE: usize = 64 << 30;

type KernelTalc = talc::TalcLock<SharedRawMutex, talc::source::Manual>;

/// Whether this host process allocates from the kernel heap (process-local on purpose).
static USE_KERNEL_HEAP: AtomicBool = AtomicBool::new(false);

/// The binary's global allocator.
pub struct VeilAllocator;

fn in_heap(ptr: *mut u8) -> bool {
    let addr = ptr as usize;
    (HEAP_BASE..HEAP_BASE + HEAP_SIZE).contains(&addr)
}

fn talc() -> &'static KernelTalc {
    // SAFETY: `create_kernel_heap` wrote a `KernelTalc` at HEAP_BASE before any caller can reach
    // here (USE_KERNEL_HEAP is only set after it, and pointers in the heap only exist after it);
    // the mapping is never unmapped while the process runs.
    unsafe { &*(HEAP_BASE as *const KernelTalc) }
}

// SAFETY: allocations come either from the host allocator or from talc over the kernel heap;
// `dealloc`/`realloc` route each pointer back to the allocator that produced it by address.
unsafe impl GlobalAlloc for VeilAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if USE_KERNEL_HEAP.load(Ordering::Relaxed) {
            // SAFETY: forwarded contract of GlobalAlloc::alloc.
            unsafe { talc().alloc(layout) }
        } else {
            // SAFETY: forwarded contract of GlobalAlloc::alloc.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_heap(ptr) {
            // SAFETY: `ptr` lies in the kernel heap, so talc allocated it with `layout`.
            unsafe { talc().dealloc(ptr, layout) }
        } else {
            // SAFETY: `ptr` is outside the kernel heap, so the host allocator produced it.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let from_heap = in_heap(ptr);
        if from_heap == USE_KERNEL_HEAP.load(Ordering::Relaxed) {
            return if from_heap {
                // SAFETY: forwarded contract; `ptr` came from talc.
                unsafe { talc().realloc(ptr, layout, new_size) }
            } else {
                // SAFETY: forwarded contract; `ptr` came from the host allocator.
                unsafe { System.realloc(ptr, layout, new_size) }
            };
        }
        // The block moves between allocators: allocate, copy, free.
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: forwarded contract of GlobalAlloc.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller of the two sizes and do not overlap.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            // SAFETY: `ptr` was allocated with `layout` by the allocator `dealloc` routes it to.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

/// Maps the kernel heap and initialises the allocator inside it. Called once by the supervisor
/// before it forks the first address-space process.
pub fn create_kernel_heap() -> Result<(), String> {
    // SAFETY: mapping fresh memory at a fixed address that MAP_FIXED_NOREPLACE guarantees is free.
    let addr = unsafe {
        libc::mmap(
            HEAP_BASE as *mut libc::c_void,
            HEAP_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED
                | libc::MAP_ANONYMOUS
                | libc::MAP_NORESERVE
                | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    if addr as usize != HEAP_BASE {
        return Err(format!(
            "cannot map the kernel heap at {HEAP_BASE:#x}: {}",
            std::io::Error::last_os_error()
        ));
    }
    let header = std::mem::size_of::<KernelTalc>().next_multiple_of(64);
    // SAFETY: the heap is freshly mapped, writable and large enough for the allocator header.
    unsafe { (HEAP_BASE as *mut KernelTalc).write(KernelTalc::new(talc::source::Manual)) };
    // SAFETY: the region after the header is ours alone and stays mapped for the process's life.
    let claimed = unsafe {
        talc()
            .lock()
            .claim((HEAP_BASE + header) as *mut u8, HEAP_SIZE - header)
    };
    claimed
        .map(|_| ())
        .ok_or_else(|| "cannot initialise the kernel heap allocator".to_string())
}

/// Makes this host process allocate from the kernel heap from now on.
pub fn use_kernel_heap() {
    USE_KERNEL_HEAP.store(true, Ordering::SeqCst);
}

/// Makes this host process allocate from its own host heap again: for a process that forks
/// while it owns allocations (the zygote), since both sides of a fork would own (and free)
/// the same blocks of the shared heap.
pub fn use_host_heap() {
    USE_KERNEL_HEAP.store(false, Ordering::SeqCst);
}

/// In a fresh fork's copy: maps the kernel heap's pages around `addr` with one page fault. A
/// host fork copies no page of the heap (a shared mapping) into the child, which then faults
/// them in one by one as it writes to them, while a read fault maps the 64 KiB around the
/// address at once (the host's fault-around). The original made the copy's kernel objects just
/// before the fork, close together: reading one of them first spares faults on the others.
/// An address outside the heap (0: none known) does nothing.
pub fn map_around(addr: usize) {
    if in_heap(addr as *mut u8) {
        // SAFETY: a read of one byte of the kernel heap, which stays mapped while the process
        // runs.
        unsafe { std::ptr::read_volatile(addr as *const u8) };
    }
}
