//! Veil's own code on huge pages.
//!
//! A host fork copies no page-table entries of a file mapping nobody wrote to, so every forked
//! address space faults veil's code back in, 64 KiB at a time: a dozen faults on the way from
//! `fork` to the child's first instruction, ~2.3 µs each on our VMs. So each 2 MiB-aligned
//! block of veil's read-only image (code and constants) is copied to an anonymous huge page,
//! which then replaces the file's pages there: a fork copies a huge page's single entry, and
//! the copy takes no fault on it.
//!
//! The copy costs ~0.5 ms of CPU per block (a huge page to clear, 2 MiB to read and write),
//! wasted on a program that never forks, and made at boot it slowed a short program's start
//! (its page faults waited for the copy's); made at the first fork it slowed a run of 10 forks
//! by about what it saves 16 of them. So the first address space starts a helper thread at
//! boot that waits for its 16th fork and then makes the copy while the program goes on;
//! the zygote makes it once it has made its first address space. Everything forked from them
//! afterwards inherits it; a fork meanwhile does without (the scratch copy is left out of
//! forks until it replaces the code, which happens under the fork fence), and so do its
//! forks. (A helper started at the first fork put its host stack in ranges the program could
//! expect free by then: a fork's child found memory below a `MAP_GROWSDOWN` mapping.)
//!
//! A block becomes readable and executable as a whole (a huge page has one protection), so
//! constants that share a block with code are executable too. Where the host gives no huge
//! page (transparent huge pages off, memory too fragmented, no `PAGEMAP_SCAN` to tell), the
//! code stays as it is. `VEIL_HUGE_TEXT=0` keeps it as it is regardless: profilers find code
//! only in file mappings.

use std::ffi::c_void;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU8, AtomicU32};

/// Size and alignment of a huge page (a page-middle-directory entry).
const HUGE_PAGE: usize = 2 << 20;
/// `PAGEMAP_SCAN` (Linux 6.7): `_IOWR('f', 16, struct pm_scan_arg)`.
const PAGEMAP_SCAN: libc::c_ulong = 0xc060_6610;

/// Whether the user left the copy on (`VEIL_HUGE_TEXT=0` turns it off).
fn wanted() -> bool {
    std::env::var_os("VEIL_HUGE_TEXT").is_none_or(|v| v != "0")
}

/// Whether the host may give huge pages (transparent huge pages not off).
fn host_has_huge_pages() -> bool {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|mode| !mode.contains("[never]"))
}

/// Where this address space's code is: [`SMALL_PAGES`], [`HELPER_WAITS`], [`COPYING`] or
/// [`DONE`].
static STATE: AtomicU8 = AtomicU8::new(SMALL_PAGES);
/// On small pages, and no thread here to copy it (a fork copies no threads).
const SMALL_PAGES: u8 = 0;
/// On small pages; the helper of this address space (the first one) waits to copy it.
const HELPER_WAITS: u8 = 1;
/// The helper of this address space is making the copy.
const COPYING: u8 = 2;
/// On huge pages, or staying on small ones (turned off, or the host gives none).
const DONE: u8 = 3;

/// The futex word the helper waits on: 1 once it should make the copy.
static ASKED: AtomicU32 = AtomicU32::new(0);

/// Starts the first address space's helper, a kernel thread that waits for its forks.
/// Called once the instance is booted: the thread's host stack then lies among the boot-time
/// mappings, not in ranges a program may expect free later (below a `MAP_GROWSDOWN` mapping,
/// say).
pub fn start_helper() {
    if !wanted() {
        STATE.store(DONE, Relaxed);
        return;
    }
    fn help(_: usize) {
        while ASKED.load(Acquire) == 0 {
            let _ = crate::futex::wait(&ASKED, 0, None);
        }
        move_to_huge_pages();
    }
    match crate::threads::spawn_kernel_thread(help, 0) {
        Ok(()) => STATE.store(HELPER_WAITS, Relaxed),
        Err(e) => log::debug!("veil's code stays on small pages: no thread to copy it ({e:?})"),
    }
}

/// Forks of the first address space before the helper makes the copy: it costs about as much
/// as it saves this many forks (its page faults and the huge pages' clearing slow the forks
/// made meanwhile), so a short script does not pay for it.
const FORKS_BEFORE_COPY: u32 = 16;
/// Forks of this address space while its helper waits.
static FORKS: AtomicU32 = AtomicU32::new(0);

/// After a fork (in the parent): the [`FORKS_BEFORE_COPY`]th one has the helper make the copy,
/// while the program goes on.
pub fn after_fork() {
    if STATE.load(Relaxed) == HELPER_WAITS
        && FORKS.fetch_add(1, Relaxed) + 1 >= FORKS_BEFORE_COPY
        && STATE
            .compare_exchange(HELPER_WAITS, COPYING, Relaxed, Relaxed)
            .is_ok()
    {
        ASKED.store(1, Release);
        crate::futex::wake(&ASKED, 1);
    }
}

/// In a forked address space: it has no helper, and a copy the parent was making is not
/// made here. (Loads first: a write would copy the page.)
pub fn after_fork_child() {
    if matches!(STATE.load(Relaxed), HELPER_WAITS | COPYING) {
        STATE.store(SMALL_PAGES, Relaxed);
    }
}

/// After a fork of the zygote (in the zygote): the first one makes the copy there and then
/// (it has nothing else to do, and no threads).
pub fn after_zygote_fork() {
    if STATE.swap(DONE, Relaxed) == SMALL_PAGES && wanted() {
        move_to_huge_pages();
    }
}

/// Replaces each 2 MiB-aligned block of veil's read-only image with a huge-page copy.
fn move_to_huge_pages() {
    let mut copies = Vec::new();
    if crate::trap::outside_forks(host_has_huge_pages) {
        for (start, end) in read_only_spans() {
            let mut block = start.next_multiple_of(HUGE_PAGE);
            while block + HUGE_PAGE <= end {
                match Scratch::copy_of(block) {
                    Ok(copy) => copies.push((copy, block)),
                    Err(e) => log::debug!("veil's code at {block:#x} stays on small pages: {e}"),
                }
                block += HUGE_PAGE;
            }
        }
    }
    // A fork sees veil's code in place and STATE saying so, or neither.
    crate::trap::outside_forks(|| {
        for (copy, block) in &copies {
            if let Err(e) = copy.replace(*block) {
                log::debug!("veil's code at {block:#x} stays on small pages: {e}");
            }
        }
        STATE.store(DONE, Relaxed);
    });
}

/// Veil's address ranges mapped read-only or read-execute (adjacent segments merged), from its
/// program headers.
fn read_only_spans() -> Vec<(usize, usize)> {
    const PAGE: usize = 4096;
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (addr, len) in read_only_segments() {
        let start = addr & !(PAGE - 1);
        let end = (addr + len).next_multiple_of(PAGE);
        match spans.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ => spans.push((start, end)),
        }
    }
    spans
}

/// The address and size of each of veil's `PT_LOAD` segments that is not writable.
fn read_only_segments() -> Vec<(usize, usize)> {
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: usize,
        out: *mut c_void,
    ) -> libc::c_int {
        // SAFETY: dl_iterate_phdr passes a valid record whose header array has `dlpi_phnum`
        // entries, and `out` is the vector passed below.
        unsafe {
            let info = &*info;
            let out = &mut *out.cast::<Vec<(usize, usize)>>();
            let headers = std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize);
            for h in headers {
                if h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_W == 0 {
                    out.push((
                        info.dlpi_addr as usize + h.p_vaddr as usize,
                        h.p_memsz as usize,
                    ));
                }
            }
        }
        1 // the first object is veil itself (statically linked): stop there
    }
    let mut segments = Vec::new();
    // SAFETY: the callback only reads the records it is given and writes to `segments`.
    unsafe { libc::dl_iterate_phdr(Some(each), (&raw mut segments).cast()) };
    segments
}

/// A huge page in a mapping of its own; unmapped when dropped unless it replaced veil's code.
struct Scratch {
    copy: usize,
    moved: std::cell::Cell<bool>,
}

impl Scratch {
    /// A huge page holding a copy of the 2 MiB at `block` (mapped, read-only).
    fn copy_of(block: usize) -> std::io::Result<Scratch> {
        // Left out of forks until it is veil's code (a fork's copy would keep it for good).
        let scratch = crate::trap::outside_forks(|| -> std::io::Result<Scratch> {
            let scratch = Scratch {
                copy: crate::host::map_aligned(HUGE_PAGE)?,
                moved: std::cell::Cell::new(false),
            };
            // SAFETY: advice on the fresh mapping, which nothing else uses.
            check(unsafe {
                libc::madvise(scratch.copy as *mut c_void, HUGE_PAGE, libc::MADV_DONTFORK)
            })?;
            Ok(scratch)
        })?;
        let copy = scratch.copy as *mut c_void;
        // SAFETY: `copy` is the fresh mapping, which nothing else uses; `block` is readable
        // for HUGE_PAGE bytes (a read-only span of veil's image).
        unsafe {
            check(libc::madvise(copy, HUGE_PAGE, libc::MADV_HUGEPAGE))?;
            std::ptr::copy_nonoverlapping(block as *const u8, copy.cast::<u8>(), HUGE_PAGE);
            check(libc::mprotect(
                copy,
                HUGE_PAGE,
                libc::PROT_READ | libc::PROT_EXEC,
            ))?;
        }
        // Its file is open only meanwhile, so that no fork keeps it.
        if !crate::trap::outside_forks(|| is_huge_page(scratch.copy))? {
            return Err(std::io::Error::other("the host gave no huge page"));
        }
        Ok(scratch)
    }

    /// Moves the copy over `block` (outside forks).
    fn replace(&self, block: usize) -> std::io::Result<()> {
        // SAFETY: the copy has the bytes of `block` and replaces it in one step: code running
        // there on other threads meanwhile waits in a page fault.
        unsafe {
            let moved = libc::mremap(
                self.copy as *mut c_void,
                HUGE_PAGE,
                HUGE_PAGE,
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                block as *mut c_void,
            );
            if moved == libc::MAP_FAILED {
                return Err(std::io::Error::last_os_error());
            }
            self.moved.set(true);
            // Cannot fail on a private anonymous mapping.
            libc::madvise(block as *mut c_void, HUGE_PAGE, libc::MADV_DOFORK);
        }
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.moved.get() {
            // SAFETY: the copy's own mapping, still where it was made.
            unsafe { libc::munmap(self.copy as *mut c_void, HUGE_PAGE) };
        }
    }
}

/// Whether the 2 MiB at `addr` are one huge page (asked with `PAGEMAP_SCAN`).
fn is_huge_page(addr: usize) -> std::io::Result<bool> {
    use linux_raw_sys::general::{PAGE_IS_HUGE, page_region, pm_scan_arg};
    let pagemap = std::fs::File::open("/proc/self/pagemap")?;
    let mut region = page_region {
        start: 0,
        end: 0,
        categories: 0,
    };
    let mut arg = pm_scan_arg {
        size: size_of::<pm_scan_arg>() as u64,
        flags: 0,
        start: addr as u64,
        end: (addr + HUGE_PAGE) as u64,
        walk_end: 0,
        vec: (&raw mut region) as u64,
        vec_len: 1,
        max_pages: 0,
        category_inverted: 0,
        category_mask: PAGE_IS_HUGE as u64,
        category_anyof_mask: 0,
        return_mask: PAGE_IS_HUGE as u64,
    };
    use std::os::fd::AsRawFd;
    // SAFETY: PAGEMAP_SCAN reads `arg` and writes at most `vec_len` regions to `region`.
    let found = unsafe { libc::ioctl(pagemap.as_raw_fd(), PAGEMAP_SCAN, &mut arg) };
    if found < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(found == 1 && region.start == addr as u64 && region.end == (addr + HUGE_PAGE) as u64)
}

/// A libc call's status as a result.
fn check(status: libc::c_int) -> std::io::Result<()> {
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
