//! ELF64 x86-64 executables: validation of headers and segments, and loading into memory.
//!
//! Every value read from the file is untrusted: sizes, offsets and addresses are checked before
//! use, and problems are reported as a sentence for `veil: cannot execute ...`.

use super::ExecFile;
use crate::mm::images::{Image, ImageKey, map_host};
use crate::mm::{MappedFile, Vm, Vma, VmaKind};
use crate::process::Process;
use crate::root::kernel;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use object::LittleEndian as LE;
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use veil_abi::{PAGE_SIZE, USER_SPACE_END, page_align_down, page_align_up};
use veil_platform::{Backing, Placement};

/// Most program headers a file may have (Linux caps the table at 64 KiB).
const MAX_PHNUM: usize = 65536 / 56;
/// Where position-independent executables are placed when the range is free (like Linux's
/// ELF_ET_DYN_BASE, but clear of the host's own PIE range).
const PIE_BASE_HINT: usize = 0x0000_1555_5555_4000;

/// One loadable segment.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    pub prot: u32,
}

/// A validated ELF executable or shared object.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub is_dyn: bool,
    pub entry: u64,
    pub phoff: u64,
    pub phnum: usize,
    /// `PT_PHDR`'s address, if present.
    pub phdr_vaddr: Option<u64>,
    pub segments: Vec<Segment>,
    pub interp: Option<Vec<u8>>,
}

/// Where a loaded object ended up.
pub struct Mapped {
    pub base: u64,
    pub entry: u64,
    pub phdr: u64,
}

fn prot_of(flags: elf::ProgramFlags) -> u32 {
    let mut prot = 0;
    if flags.contains(elf::PF_R) {
        prot |= veil_abi::general::PROT_READ;
    }
    if flags.contains(elf::PF_W) {
        prot |= veil_abi::general::PROT_WRITE;
    }
    if flags.contains(elf::PF_X) {
        prot |= veil_abi::general::PROT_EXEC;
    }
    prot
}

/// Reads and validates the headers of `file`.
pub fn parse(file: &ExecFile) -> Result<Parsed, String> {
    let head = file
        .read(0, PAGE_SIZE)
        .map_err(|e| format!("read error ({})", e.errno))?;
    if head.len() < 4 || &head[..4] != b"\x7fELF" {
        return Err("Exec format error (not an ELF file or script)".into());
    }
    let header = elf::FileHeader64::<LE>::parse(&*head)
        .map_err(|_| String::from("truncated or malformed ELF header"))?;
    let e = LE;
    if !header.is_class_64() || !header.is_little_endian() {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    if header.e_machine(e) != elf::EM_X86_64 {
        return Err(format!(
            "wrong machine type {} (Veil runs x86-64 programs)",
            header.e_machine(e)
        ));
    }
    let is_dyn = match header.e_type(e) {
        elf::ET_EXEC => false,
        elf::ET_DYN => true,
        t => return Err(format!("ELF type {t} is not an executable")),
    };
    let phoff = header.e_phoff(e);
    let phnum = header.e_phnum(e) as usize;
    if header.e_phentsize(e) as usize != 56 || phnum == 0 || phnum > MAX_PHNUM {
        return Err("malformed program header table".into());
    }
    let table_len = phnum * 56;
    if phoff
        .checked_add(table_len as u64)
        .is_none_or(|end| end > file.size)
    {
        return Err("program header table lies outside the file".into());
    }
    let table = file
        .read(phoff, table_len)
        .map_err(|e| format!("read error ({})", e.errno))?;
    if table.len() != table_len {
        return Err("truncated program header table".into());
    }
    let phdrs: &[elf::ProgramHeader64<LE>] = object::pod::slice_from_all_bytes(&table)
        .map_err(|_| String::from("malformed program header table"))?;
    let mut segments = Vec::new();
    let mut interp = None;
    let mut phdr_vaddr = None;
    for ph in phdrs {
        match ph.p_type(e) {
            elf::PT_LOAD => {
                let seg = Segment {
                    vaddr: ph.p_vaddr(e),
                    memsz: ph.p_memsz(e),
                    offset: ph.p_offset(e),
                    filesz: ph.p_filesz(e),
                    prot: prot_of(ph.p_flags(e)),
                };
                check_segment(&seg, file.size)?;
                segments.push(seg);
            }
            elf::PT_INTERP => {
                let (off, len) = (ph.p_offset(e), ph.p_filesz(e));
                if !(2..=4096).contains(&len)
                    || off.checked_add(len).is_none_or(|end| end > file.size)
                {
                    return Err("malformed PT_INTERP".into());
                }
                let mut path = file
                    .read(off, len as usize)
                    .map_err(|e| format!("read error ({})", e.errno))?;
                if path.pop() != Some(0) || path.contains(&0) || path.is_empty() {
                    return Err("malformed PT_INTERP".into());
                }
                interp = Some(path);
            }
            elf::PT_PHDR => phdr_vaddr = Some(ph.p_vaddr(e)),
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err("no loadable segments".into());
    }
    segments.sort_by_key(|s| s.vaddr);
    for pair in segments.windows(2) {
        if pair[0].vaddr + pair[0].memsz > pair[1].vaddr {
            return Err("overlapping loadable segments".into());
        }
    }
    let span = span_of(&segments);
    if span.1 - span.0 > (1 << 40) {
        return Err("loadable segments span an absurd range".into());
    }
    Ok(Parsed {
        is_dyn,
        entry: header.e_entry(e),
        phoff,
        phnum,
        phdr_vaddr,
        segments,
        interp,
    })
}

fn check_segment(seg: &Segment, file_size: u64) -> Result<(), String> {
    if seg.filesz > seg.memsz {
        return Err("segment file size exceeds its memory size".into());
    }
    if seg
        .offset
        .checked_add(seg.filesz)
        .is_none_or(|end| end > file_size)
    {
        return Err("segment lies outside the file (truncated file?)".into());
    }
    if seg
        .vaddr
        .checked_add(seg.memsz)
        .is_none_or(|end| end as usize >= USER_SPACE_END)
    {
        return Err("segment address out of range".into());
    }
    if seg.vaddr % PAGE_SIZE as u64 != seg.offset % PAGE_SIZE as u64 {
        return Err(
            "segment address and file offset are not congruent modulo the page size".into(),
        );
    }
    Ok(())
}

/// Page-aligned `[low, high)` covering all segments.
fn span_of(segments: &[Segment]) -> (usize, usize) {
    let low = segments.iter().map(|s| s.vaddr).min().unwrap_or(0) as usize;
    let high = segments
        .iter()
        .map(|s| s.vaddr + s.memsz)
        .max()
        .unwrap_or(0) as usize;
    (page_align_down(low), page_align_up(high))
}

/// Copies `len` bytes of the file at `offset` to user address `addr` (already mapped writable).
fn copy_file_to_memory(
    file: &ExecFile,
    offset: u64,
    addr: usize,
    len: usize,
) -> Result<(), String> {
    const CHUNK: usize = 256 * 1024;
    if len == 0 {
        return Ok(());
    }
    kernel().platform.populate(
        page_align_down(addr),
        page_align_up(addr + len) - page_align_down(addr),
    );
    let mut done = 0;
    while done < len {
        let n = CHUNK.min(len - done);
        let data = file
            .read(offset + done as u64, n)
            .map_err(|e| format!("read error ({})", e.errno))?;
        if data.len() != n {
            return Err("file shrank while loading".into());
        }
        kernel()
            .platform
            .copy_to_user(addr + done, &data)
            .map_err(|_| String::from("cannot write segment"))?;
        done += n;
    }
    Ok(())
}

/// Maps a read-only segment starting at `start` from the page cache, if it can be: its pages
/// hold nothing but its own file bytes (it shares no page with the segment at `next_start`,
/// and has no zero-filled tail). Returns the mapping's record.
fn map_cached_segment(
    vm: &mut Vm,
    file: &ExecFile,
    seg: &Segment,
    start: usize,
    next_start: usize,
) -> Result<Option<Vma>, String> {
    use veil_abi::general::PROT_WRITE;
    let page_start = page_align_down(start);
    let page_end = page_align_up(start + seg.memsz as usize);
    let lead = (start - page_start) as u64;
    if seg.prot & PROT_WRITE != 0
        || seg.memsz != seg.filesz
        || seg.filesz == 0
        || page_end > next_start
        || seg.offset % PAGE_SIZE as u64 != lead
    {
        return Ok(None);
    }
    let offset = seg.offset - lead;
    let len = page_end - page_start;
    let pages = kernel()
        .page_cache
        .pages(&*file.ops, &file.stat, offset, len)
        .map_err(|e| format!("read error ({})", e.errno))?;
    let Some(pages) = pages else {
        return Ok(None);
    };
    if !crate::mm::patch::attach(vm, &pages, page_start) {
        return Ok(None);
    }
    kernel()
        .platform
        .map(Placement::Fixed(page_start), len, seg.prot, pages.backing())
        .map_err(|e| format!("cannot map segment ({e})"))?;
    Ok(Some(Vma {
        start: page_start,
        end: page_end,
        prot: seg.prot,
        shared: false,
        kind: VmaKind::File {
            path: file.loc.path.clone(),
            offset,
            file: MappedFile {
                ops: file.ops.clone(),
                writable: false,
            },
        },
        pages: Some(pages),
    }))
}

/// Whether the page-cache record `kept` of a kept image still shows the cache's pages of its
/// file (the file was not written or replaced since).
fn still_cached(file: &ExecFile, kept: &Vma) -> bool {
    let VmaKind::File { offset, .. } = &kept.kind else {
        return false;
    };
    let current = kernel()
        .page_cache
        .pages(&*file.ops, &file.stat, *offset, kept.end - kept.start);
    matches!(current, Ok(Some(pages)) if kept.pages.as_ref() == Some(&pages))
}

/// The image the loader just mapped at `[base, end)`, with the stub areas right below it
/// (`mm::patch`), for `mm::images`; none if a stub area of its objects lies elsewhere (the
/// image could not be taken over whole).
fn image_of(vm: &Vm, key: ImageKey, base: usize, end: usize) -> Option<Image> {
    let mut records: Vec<Vma> = vm.overlapping(base, end).cloned().collect();
    let segments = records.len();
    let objects: Vec<_> = records
        .iter()
        .filter_map(|v| v.pages.as_ref().map(|p| p.object.clone()))
        .collect();
    let stubs_of_image = |v: &Vma| {
        matches!(v.kind, VmaKind::SyscallStubs)
            && v.pages
                .as_ref()
                .is_some_and(|p| objects.contains(&p.object))
    };
    let mut start = base;
    while let Some(stubs) = vm
        .below(start)
        .filter(|v| v.end == start && stubs_of_image(v))
    {
        start = stubs.start;
        records.insert(0, stubs.clone());
    }
    let adjacent_stubs = records.len() - segments;
    (vm.iter().filter(|v| stubs_of_image(v)).count() == adjacent_stubs).then_some(Image {
        key,
        base,
        records,
    })
}

/// Maps `parsed` into `process`'s memory. `main` selects the brk setup of the main executable.
pub fn load(
    process: &Process,
    file: &ExecFile,
    parsed: &Parsed,
    main: bool,
) -> Result<Mapped, String> {
    use veil_abi::general::{PROT_NONE, PROT_READ, PROT_WRITE};
    let platform = kernel().platform;
    let (low, high) = span_of(&parsed.segments);
    let span = high - low;
    let key = ImageKey::file(&file.stat, main);
    let fixed = (!parsed.is_dyn).then_some(low);
    // The same file's image, kept mapped where an earlier program of this address space ended.
    let reused = kernel()
        .kept_images
        .take(&key, fixed, |record| still_cached(file, record));
    let placement = if let Some(low) = fixed {
        Placement::FixedNoReplace(low)
    } else if main {
        Placement::Hint(PIE_BASE_HINT)
    } else {
        Placement::Hint(0)
    };
    let addr = match &reused {
        Some(reused) => reused.image.base,
        None => {
            map_host(placement, span, PROT_READ | PROT_WRITE, Backing::Private).map_err(|e| {
                if e == veil_abi::Errno::EEXIST {
                    format!("its fixed address range {low:#x}-{high:#x} is already in use")
                } else {
                    format!("cannot map {span} bytes of memory ({e})")
                }
            })?
        }
    };
    let bias = addr - low;
    let path = file.loc.path.clone();
    let backing = MappedFile {
        ops: file.ops.clone(),
        writable: false,
    };
    let vm_ref = process.vm();
    let mut vm = vm_ref.lock();
    // Gaps between segments stay reserved but inaccessible.
    vm.insert(Vma {
        start: addr,
        end: addr + span,
        prot: PROT_NONE,
        shared: false,
        pages: None,
        kind: VmaKind::Anonymous,
    });
    if let Some(reused) = &reused {
        for stubs in reused.image.stub_areas() {
            vm.insert(stubs.clone());
        }
    }
    let mut covered_to = addr;
    let mut prev_prot = 0;
    for (i, seg) in parsed.segments.iter().enumerate() {
        let start = bias + seg.vaddr as usize;
        let page_start = page_align_down(start);
        let next_start = parsed.segments.get(i + 1).map_or(usize::MAX, |next| {
            page_align_down(bias + next.vaddr as usize)
        });
        let cached = if page_start < covered_to {
            None
        } else if let Some(reused) = &reused {
            // This exec's file and path (the same inode may have been run by another name).
            reused.image.cached_record(page_start).map(|kept| {
                let mut record = kept.clone();
                if let VmaKind::File { offset, .. } = kept.kind {
                    record.kind = VmaKind::File {
                        path: path.clone(),
                        offset,
                        file: backing.clone(),
                    };
                }
                record
            })
        } else {
            map_cached_segment(&mut vm, file, seg, start, next_start)?
        };
        if let Some(vma) = cached {
            covered_to = vma.end;
            prev_prot = seg.prot;
            vm.insert(vma);
            continue;
        }
        // Include the file bytes before the segment in its first page, as Linux maps whole pages,
        // unless that page already belongs to the previous segment.
        let lead = if page_start >= covered_to {
            start - page_start
        } else {
            0
        };
        copy_file_to_memory(
            file,
            seg.offset - lead as u64,
            start - lead,
            seg.filesz as usize + lead,
        )?;
        let page_end = page_align_up(start + seg.memsz as usize);
        let mut first = page_start;
        if page_start < covered_to {
            // A page shared with the previous segment gets both protections.
            let shared_end = covered_to.min(page_end);
            vm.insert(Vma {
                start: page_start,
                end: shared_end,
                prot: prev_prot | seg.prot,
                shared: false,
                pages: None,
                kind: VmaKind::File {
                    path: path.clone(),
                    offset: seg.offset & !(PAGE_SIZE as u64 - 1),
                    file: backing.clone(),
                },
            });
            first = shared_end;
        }
        if first < page_end {
            let file_page = (seg.offset as usize - (start - first).min(seg.offset as usize)) as u64;
            vm.insert(Vma {
                start: first,
                end: page_end,
                prot: seg.prot,
                shared: false,
                pages: None,
                kind: if seg.filesz == 0 {
                    VmaKind::Anonymous
                } else {
                    VmaKind::File {
                        path: path.clone(),
                        offset: file_page,
                        file: backing.clone(),
                    }
                },
            });
        }
        covered_to = covered_to.max(page_end);
        prev_prot = seg.prot;
    }
    // Apply the recorded protections to the real mappings.
    let ranges: Vec<(usize, usize, u32)> = vm
        .overlapping(addr, addr + span)
        .filter(|v| v.pages.is_none())
        .map(|v| (v.start, v.end, v.prot))
        .collect();
    for (s, e, prot) in ranges {
        let already = reused.as_ref().is_some_and(|r| r.protected(s, e, prot));
        if prot != PROT_READ | PROT_WRITE && !already {
            platform
                .protect(s, e - s, prot)
                .map_err(|e| format!("cannot protect segment ({e})"))?;
        }
    }
    if main {
        vm.brk_start = addr + span;
        vm.brk = vm.brk_start;
    }
    if let Some(image) = image_of(&vm, key, addr, addr + span) {
        vm.images.push(image);
    }
    let phdr = match parsed.phdr_vaddr {
        Some(v) => bias as u64 + v,
        None => parsed
            .segments
            .iter()
            .find(|s| s.offset <= parsed.phoff && parsed.phoff < s.offset + s.filesz)
            .map_or(0, |s| bias as u64 + s.vaddr + (parsed.phoff - s.offset)),
    };
    Ok(Mapped {
        base: bias as u64,
        entry: bias as u64 + parsed.entry,
        phdr,
    })
}
