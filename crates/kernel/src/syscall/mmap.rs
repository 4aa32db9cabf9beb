//! Memory mappings: mmap, munmap, mprotect, mremap, madvise, msync, brk, mincore.
//!
//! The process's VMA set (`mm::Vm`) is the authority on which ranges belong to the program: a
//! fixed-address request may only replace the program's own mappings or free space, never LibOS
//! memory that happens to live in the same host address space.

use super::*;
use crate::fs::SharedBacking;
use crate::fs::{S_IFMT, S_IFREG};
use crate::mm::cache::FileId;
use crate::mm::shared::SharedObject;
use crate::mm::{MappedFile, SharedPages, Vma, VmaKind};
use veil_abi::{PAGE_SIZE, USER_SPACE_END, page_align_up};
use veil_platform::{Backing, Placement};

const PROT_MASK: u32 = g::PROT_READ | g::PROT_WRITE | g::PROT_EXEC | g::PROT_SEM;
const MAP_TYPE: u32 = 0x0f;
const MAP_SHARED_VALIDATE: u32 = 0x03;
/// Flags `mmap` understands (others are rejected for MAP_SHARED_VALIDATE, ignored otherwise).
const MAP_KNOWN: u32 = MAP_TYPE
    | g::MAP_FIXED
    | g::MAP_ANONYMOUS
    | g::MAP_GROWSDOWN
    | g::MAP_DENYWRITE
    | g::MAP_EXECUTABLE
    | g::MAP_LOCKED
    | g::MAP_NORESERVE
    | g::MAP_POPULATE
    | g::MAP_NONBLOCK
    | g::MAP_STACK
    | g::MAP_HUGETLB
    | g::MAP_FIXED_NOREPLACE
    | g::MAP_UNINITIALIZED;

fn is_aligned(addr: u64) -> bool {
    (addr as usize).is_multiple_of(PAGE_SIZE)
}

/// The page-rounded length of `[addr, addr + len)`, checked against the user address range.
fn checked_len(addr: u64, len: u64) -> Result<usize> {
    let len = usize::try_from(len).map_err(|_| Errno::ENOMEM)?;
    let rounded = len.checked_add(PAGE_SIZE - 1).ok_or(Errno::ENOMEM)? & !(PAGE_SIZE - 1);
    match (addr as usize).checked_add(rounded) {
        Some(end) if end <= USER_SPACE_END => Ok(rounded),
        _ => err(Errno::ENOMEM),
    }
}

/// Unmaps the program's own mappings in `[start, end)` (never anything else).
pub(super) fn unmap_user(process: &Process, start: usize, end: usize) {
    let vm_ref = process.vm();
    let mut vm = vm_ref.lock();
    let pieces: Vec<(usize, usize)> = vm
        .overlapping(start, end)
        .map(|v| (v.start.max(start), v.end.min(end)))
        .collect();
    for (s, e) in pieces {
        let _ = kernel().platform.unmap(s, e - s);
    }
    vm.remove(start, end);
}

/// The parts of `[start, end)` that no mapping of `vm` covers.
fn unmapped_parts(vm: &crate::mm::Vm, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut cursor = start;
    for vma in vm.overlapping(start, end) {
        if vma.start > cursor {
            parts.push((cursor, vma.start));
        }
        cursor = cursor.max(vma.end);
    }
    if cursor < end {
        parts.push((cursor, end));
    }
    parts
}

/// Maps `backing` at `placement`, replacing only the program's own mappings.
pub(super) fn map_user(
    process: &Process,
    placement: Placement,
    len: usize,
    prot: u32,
    backing: Backing,
) -> Result<usize> {
    let platform = kernel().platform;
    match placement {
        Placement::Fixed(addr) => {
            // The parts of the range the program does not map must be free: they are reserved
            // first (which fails if anything, LibOS memory or another process of this address
            // space, is there). Then one host call replaces the whole range, so that no other
            // process of the address space can take a part of it in between.
            let end = addr + len;
            let gaps = unmapped_parts(&process.vm().lock(), addr, end);
            let mut reserved = Vec::new();
            for (s, e) in gaps {
                let free = crate::mm::images::map_host(
                    Placement::FixedNoReplace(s),
                    e - s,
                    g::PROT_NONE,
                    Backing::Private,
                );
                if let Err(e) = free {
                    for (s, e) in reserved {
                        let _ = platform.unmap(s, e - s);
                    }
                    return Err(if e == Errno::EEXIST {
                        Error::new(Errno::ENOMEM, "range reserved by the LibOS")
                    } else {
                        e.into()
                    });
                }
                reserved.push((s, e));
            }
            platform.map(Placement::Fixed(addr), len, prot, backing)?;
            process.vm().lock().remove(addr, end);
            Ok(addr)
        }
        other => Ok(crate::mm::images::map_host(other, len, prot, backing)?),
    }
}

/// Fresh shared memory for a `MAP_SHARED` anonymous mapping (shared with forked children).
fn new_shared_pages() -> Result<(Backing, Option<SharedPages>)> {
    let pages = SharedPages {
        object: SharedObject::new()?,
        offset: 0,
    };
    Ok((pages.backing(), Some(pages)))
}

pub fn sys_mmap(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (addr, len, prot, flags, fd, offset) =
        (a[0], a[1], a[2] as u32, a[3] as u32, fd_arg(a[4]), a[5]);
    if len == 0
        || !is_aligned(offset)
        || prot & !(PROT_MASK | g::PROT_GROWSDOWN | g::PROT_GROWSUP) != 0
    {
        return err(Errno::EINVAL);
    }
    let shared = match flags & MAP_TYPE {
        g::MAP_PRIVATE => false,
        g::MAP_SHARED => true,
        MAP_SHARED_VALIDATE if flags & !MAP_KNOWN == 0 => true,
        MAP_SHARED_VALIDATE => return err(Errno::EOPNOTSUPP),
        _ => return err(Errno::EINVAL),
    };
    if flags & g::MAP_32BIT != 0 {
        return Err(Error::unsupported(Errno::EINVAL, "MAP_32BIT"));
    }
    let prot = prot & PROT_MASK;
    let len = checked_len(
        if flags & (g::MAP_FIXED | g::MAP_FIXED_NOREPLACE) != 0 {
            addr
        } else {
            0
        },
        len,
    )?;
    let placement = if flags & g::MAP_FIXED_NOREPLACE != 0 {
        if !is_aligned(addr) {
            return err(Errno::EINVAL);
        }
        Placement::FixedNoReplace(addr as usize)
    } else if flags & g::MAP_FIXED != 0 {
        if !is_aligned(addr) {
            return err(Errno::EINVAL);
        }
        Placement::Fixed(addr as usize)
    } else {
        Placement::Hint(addr as usize & !(PAGE_SIZE - 1))
    };
    // What to map, and the file whose contents to copy in (private file mappings) or whose
    // page-cache pages are mapped (they may have to be copied after all, see `mm::patch`).
    let mut copy_from = None;
    let mut cached_file = None;
    let (kind, (backing, pages)) = if flags & g::MAP_ANONYMOUS != 0 {
        // Anonymous memory accepts only the two plain sharing types.
        if flags & MAP_TYPE == MAP_SHARED_VALIDATE {
            return err(Errno::EINVAL);
        }
        let grows_down = flags & g::MAP_GROWSDOWN != 0;
        match (shared, grows_down) {
            // Linux cannot grow shared memory.
            (true, true) => return err(Errno::EINVAL),
            (true, false) => (VmaKind::Anonymous, new_shared_pages()?),
            (false, true) => (VmaKind::GrowsDown, (Backing::Private, None)),
            (false, false) => (VmaKind::Anonymous, (Backing::Private, None)),
        }
    } else {
        let file = ctx.file(fd)?;
        if file.is_path_only() {
            return err(Errno::EBADF);
        }
        if !file.can_read() {
            return err(Errno::EACCES);
        }
        // The mapped range must fit in the largest file offset (Linux's file_mmap_ok).
        if offset as u128 + len as u128 > i64::MAX as u128 {
            return err(Errno::EOVERFLOW);
        }
        let st = file.stat()?;
        if st.st_mode & S_IFMT != S_IFREG {
            // Mapping /dev/zero is the classic way to get anonymous memory.
            if file.loc.path != "/dev/zero" {
                return err(Errno::ENODEV);
            }
            let memory = if shared {
                new_shared_pages()?
            } else {
                (Backing::Private, None)
            };
            (VmaKind::Anonymous, memory)
        } else {
            if shared && file.can_write() {
                // Writable now or after mprotect: its contents may change behind any copy.
                kernel().page_cache.exclude(FileId::of(&st));
            }
            if shared && prot & g::PROT_WRITE != 0 {
                if !file.can_write() {
                    return err(Errno::EACCES);
                }
                let write_seals = g::F_SEAL_WRITE | g::F_SEAL_FUTURE_WRITE;
                if file.ops.seals().is_ok_and(|s| s & write_seals != 0) {
                    return err(Errno::EPERM);
                }
            }
            let kind = VmaKind::File {
                path: file.loc.path.clone(),
                offset,
                file: MappedFile {
                    ops: file.ops.clone(),
                    writable: file.can_write(),
                },
            };
            let shared_backing = if shared {
                file.ops.shared_backing().transpose()?
            } else {
                None
            };
            let memory = match shared_backing {
                Some(SharedBacking::Memory(object)) => {
                    if offset + len as u64 > crate::mm::shared::WINDOW {
                        return err(Errno::EFBIG);
                    }
                    let pages = SharedPages { object, offset };
                    (pages.backing(), Some(pages))
                }
                Some(SharedBacking::HostFile(host)) => (Backing::HostFile(host, offset), None),
                None => {
                    if shared && prot & g::PROT_WRITE != 0 {
                        return Err(Error::unsupported(
                            Errno::ENODEV,
                            "writable MAP_SHARED mappings of this kind of file",
                        ));
                    }
                    let cached = if prot & g::PROT_WRITE == 0 {
                        kernel().page_cache.pages(&*file.ops, &st, offset, len)?
                    } else {
                        None
                    };
                    let size = st.st_size.max(0) as u64;
                    match cached {
                        Some(pages) => {
                            cached_file = Some((file, size));
                            (pages.backing(), Some(pages))
                        }
                        None => {
                            copy_from = Some((file, size));
                            (Backing::Private, None)
                        }
                    }
                }
            };
            (kind, memory)
        }
    };
    // Copied file contents need the memory writable first; it gets its protection after.
    let initial_prot = if copy_from.is_some() {
        g::PROT_READ | g::PROT_WRITE
    } else {
        prot
    };
    let start = map_user(&ctx.process, placement, len, initial_prot, backing)?;
    let mut pages = pages;
    if let (Some(cached), Some(file)) = (&pages, cached_file)
        && !crate::mm::patch::attach(&mut ctx.process.vm().lock(), cached, start)
    {
        // Patched text this mapping cannot reach the stubs of: a copy of the file instead.
        let rw = g::PROT_READ | g::PROT_WRITE;
        if let Err(e) = kernel()
            .platform
            .map(Placement::Fixed(start), len, rw, Backing::Private)
        {
            let _ = kernel().platform.unmap(start, len);
            return Err(e.into());
        }
        pages = None;
        copy_from = Some(file);
    }
    if let Some((file, size)) = copy_from {
        if let Err(e) = copy_file_pages(&*file.ops, offset, size, start, len) {
            let _ = kernel().platform.unmap(start, len);
            return Err(e);
        }
        if prot != g::PROT_READ | g::PROT_WRITE {
            kernel().platform.protect(start, len, prot)?;
        }
    }
    ctx.process.vm().lock().insert(Vma {
        start,
        end: start + len,
        prot,
        shared,
        kind,
        pages,
    });
    Ok(start as u64)
}

/// Copies the file bytes backing `[start, start + len)` (from `offset`, up to the file's end).
fn copy_file_pages(
    ops: &dyn crate::fs::FileOps,
    offset: u64,
    size: u64,
    start: usize,
    len: usize,
) -> Result<()> {
    const CHUNK: usize = 1 << 20;
    let available = size.saturating_sub(offset).min(len as u64) as usize;
    let mut buf = alloc::vec![0u8; available.min(CHUNK)];
    kernel().platform.populate(start, available);
    let mut done = 0;
    while done < available {
        let want = (available - done).min(CHUNK);
        let n = crate::fs::read_exact_at(ops, offset + done as u64, &mut buf[..want])?;
        kernel().platform.copy_to_user(start + done, &buf[..n])?;
        if n < want {
            break;
        }
        done += n;
    }
    Ok(())
}

pub fn sys_munmap(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    if !is_aligned(a[0]) || a[1] == 0 {
        return err(Errno::EINVAL);
    }
    let len = checked_len(a[0], a[1]).map_err(|_| Errno::EINVAL)?;
    unmap_user(&ctx.process, a[0] as usize, a[0] as usize + len);
    Ok(0)
}

/// Checks that all of `[addr, addr + len)` is mapped by the program (ENOMEM otherwise).
fn require_mapped(process: &Process, addr: u64, len: u64) -> Result<(usize, usize)> {
    if !is_aligned(addr) {
        return err(Errno::EINVAL);
    }
    let len = checked_len(addr, len)?;
    let start = addr as usize;
    if !process.vm().lock().is_user_range(start, len) {
        return err(Errno::ENOMEM);
    }
    Ok((start, len))
}

pub fn sys_mprotect(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let prot = a[2] as u32;
    if prot & !(PROT_MASK | g::PROT_GROWSDOWN | g::PROT_GROWSUP) != 0 {
        return err(Errno::EINVAL);
    }
    let prot = prot & PROT_MASK;
    let (start, len) = require_mapped(&ctx.process, a[0], a[1])?;
    if len == 0 {
        return Ok(0);
    }
    if prot & g::PROT_WRITE != 0 {
        let vm_ref = ctx.process.vm();
        let vm = vm_ref.lock();
        let read_only_shared = vm
            .overlapping(start, start + len)
            .any(|v| v.shared && matches!(&v.kind, VmaKind::File { file, .. } if !file.writable));
        if read_only_shared {
            return err(Errno::EACCES);
        }
        drop(vm);
        privatize_cached_pages(&ctx.process, start, start + len)?;
    }
    kernel().platform.protect(start, len, prot)?;
    ctx.process.vm().lock().protect(start, start + len, prot);
    Ok(0)
}

/// Gives the private file mappings in `[start, end)` served from the page cache a copy of their
/// pages of their own (they are about to become writable).
fn privatize_cached_pages(process: &Process, start: usize, end: usize) -> Result<()> {
    const CHUNK: usize = 1 << 20;
    let platform = kernel().platform;
    let vm_ref = process.vm();
    let mut vm = vm_ref.lock();
    let pieces: Vec<Vma> = vm
        .overlapping(start, end)
        .filter(|v| !v.shared && v.pages.is_some())
        .map(|v| v.slice(v.start.max(start), v.end.min(end)))
        .collect();
    for mut piece in pieces {
        let pages = piece.pages.take().expect("filtered on pages");
        let len = piece.end - piece.start;
        let rw = g::PROT_READ | g::PROT_WRITE;
        platform.map(Placement::Fixed(piece.start), len, rw, Backing::Private)?;
        let mut buf = alloc::vec![0u8; len.min(CHUNK)];
        for done in (0..len).step_by(CHUNK) {
            let n = (len - done).min(CHUNK);
            pages
                .object
                .read(pages.offset + done as u64, &mut buf[..n])?;
            platform.copy_to_user(piece.start + done, &buf[..n])?;
        }
        platform.protect(piece.start, len, piece.prot)?;
        vm.insert(piece);
    }
    Ok(())
}

pub fn sys_mremap(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (old, old_len, new_len, flags, new_addr) = (a[0], a[1], a[2], a[3] as u32, a[4]);
    let known = g::MREMAP_MAYMOVE | g::MREMAP_FIXED | g::MREMAP_DONTUNMAP;
    if flags & !known != 0 || !is_aligned(old) || new_len == 0 {
        return err(Errno::EINVAL);
    }
    if flags & g::MREMAP_FIXED != 0 && flags & g::MREMAP_MAYMOVE == 0 {
        return err(Errno::EINVAL);
    }
    if flags & g::MREMAP_DONTUNMAP != 0 || old_len == 0 {
        return Err(Error::unsupported(
            Errno::EINVAL,
            "mremap with MREMAP_DONTUNMAP or old_size 0",
        ));
    }
    let (start, old_len) = require_mapped(&ctx.process, old, old_len).map_err(|_| Errno::EFAULT)?;
    let new_len = checked_len(0, new_len)?;
    let vma = ctx
        .process
        .vm()
        .lock()
        .find(start)
        .cloned()
        .ok_or(Errno::EFAULT)?;
    if vma.end < start + old_len {
        // Linux requires the old range to lie within one mapping.
        return err(Errno::EFAULT);
    }
    let mut target = 0;
    if flags & g::MREMAP_FIXED != 0 {
        if !is_aligned(new_addr) {
            return err(Errno::EINVAL);
        }
        target = new_addr as usize;
        checked_len(new_addr, new_len as u64)?;
        let overlaps = target < start + old_len && start < target + new_len;
        if overlaps {
            return err(Errno::EINVAL);
        }
        // Free the target the same careful way MAP_FIXED does.
        let probe = map_user(
            &ctx.process,
            Placement::Fixed(target),
            new_len,
            g::PROT_NONE,
            Backing::Private,
        )?;
        debug_assert_eq!(probe, target);
    }
    if new_len > old_len {
        // Growing in place needs the range after the mapping, which no process records: a
        // kept program image may lie there (`mm::images`).
        kernel().kept_images.evict(start + old_len, start + new_len);
    }
    let moved = kernel()
        .platform
        .remap(start, old_len, new_len, flags, target)?;
    let vm_ref = ctx.process.vm();
    let mut vm = vm_ref.lock();
    vm.remove(start, start + old_len);
    let mut moved_vma = vma.slice(start, start + old_len);
    moved_vma.start = moved;
    moved_vma.end = moved + new_len;
    vm.insert(moved_vma);
    Ok(moved as u64)
}

pub fn sys_madvise(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let advice = a[2] as u32;
    let passed = [
        g::MADV_DONTNEED,
        g::MADV_FREE,
        g::MADV_WILLNEED,
        g::MADV_NORMAL,
        g::MADV_RANDOM,
        g::MADV_SEQUENTIAL,
    ];
    let accepted = [
        g::MADV_DONTFORK,
        g::MADV_DOFORK,
        g::MADV_HUGEPAGE,
        g::MADV_NOHUGEPAGE,
        g::MADV_DONTDUMP,
        g::MADV_DODUMP,
        g::MADV_MERGEABLE,
        g::MADV_UNMERGEABLE,
        g::MADV_COLD,
        g::MADV_PAGEOUT,
        g::MADV_WIPEONFORK,
        g::MADV_KEEPONFORK,
        g::MADV_COLLAPSE,
    ];
    if !passed.contains(&advice) && !accepted.contains(&advice) {
        return err(Errno::EINVAL);
    }
    let (start, len) = require_mapped(&ctx.process, a[0], a[1])?;
    if len > 0 && passed.contains(&advice) {
        kernel().platform.advise(start, len, advice)?;
        if advice == g::MADV_DONTNEED {
            refill_private_file_pages(&ctx.process, start, start + len)?;
        }
    }
    Ok(0)
}

/// After `MADV_DONTNEED`, private file mappings read as the file again (anonymous ones read as
/// zeros, which the platform already gave them).
fn refill_private_file_pages(process: &Process, start: usize, end: usize) -> Result<()> {
    let pieces: Vec<(usize, usize, u32, u64, MappedFile)> = process
        .vm()
        .lock()
        .overlapping(start, end)
        // Page-cache pages are not dropped by MADV_DONTNEED (they are shared).
        .filter(|v| !v.shared && v.pages.is_none())
        .filter_map(|v| match &v.kind {
            VmaKind::File { offset, file, .. } => {
                let (s, e) = (v.start.max(start), v.end.min(end));
                Some((s, e, v.prot, offset + (s - v.start) as u64, file.clone()))
            }
            _ => None,
        })
        .collect();
    let platform = kernel().platform;
    for (s, e, prot, offset, file) in pieces {
        let size = file.ops.size()?;
        platform.protect(s, e - s, g::PROT_READ | g::PROT_WRITE)?;
        let copied = copy_file_pages(&*file.ops, offset, size, s, e - s);
        platform.protect(s, e - s, prot)?;
        copied?;
    }
    Ok(())
}

pub fn sys_msync(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let flags = a[2] as u32;
    if flags & !(g::MS_ASYNC | g::MS_SYNC | g::MS_INVALIDATE) != 0
        || flags & g::MS_ASYNC != 0 && flags & g::MS_SYNC != 0
    {
        return err(Errno::EINVAL);
    }
    let (start, len) = require_mapped(&ctx.process, a[0], a[1])?;
    // Shared memory needs no writing back; host file mappings are flushed by the host.
    kernel().platform.sync_mapping(start, len, flags)?;
    Ok(0)
}

pub fn sys_brk(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let requested = a[0] as usize;
    let vm_ref = ctx.process.vm();
    let mut vm = vm_ref.lock();
    let current = vm.brk;
    if requested < vm.brk_start || requested as u64 >= USER_SPACE_END as u64 {
        return Ok(current as u64);
    }
    let (old_top, new_top) = (page_align_up(current), page_align_up(requested));
    let platform = kernel().platform;
    if new_top > old_top {
        let len = new_top - old_top;
        if vm.any_mapped(old_top, new_top) {
            return Ok(current as u64);
        }
        if crate::mm::images::map_host(
            Placement::FixedNoReplace(old_top),
            len,
            g::PROT_READ | g::PROT_WRITE,
            Backing::Private,
        )
        .is_err()
        {
            return Ok(current as u64);
        }
        vm.insert(Vma {
            start: old_top,
            end: new_top,
            prot: g::PROT_READ | g::PROT_WRITE,
            shared: false,
            kind: VmaKind::Heap,
            pages: None,
        });
    } else if new_top < old_top {
        let _ = platform.unmap(new_top, old_top - new_top);
        vm.remove(new_top, old_top);
    }
    vm.brk = requested;
    Ok(requested as u64)
}

pub fn sys_mincore(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    if !is_aligned(a[0]) {
        return err(Errno::EINVAL);
    }
    let (start, len) = require_mapped(&ctx.process, a[0], a[1])?;
    let mut residency = alloc::vec![0u8; len / PAGE_SIZE];
    kernel().platform.residency(start, &mut residency)?;
    user::write_bytes(a[2], &residency)?;
    Ok(0)
}
