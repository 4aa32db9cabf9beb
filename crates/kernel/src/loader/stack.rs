//! The initial user stack: strings, then (16-byte aligned) argc, argv, envp and the auxiliary
//! vector, exactly as the Linux x86-64 ABI lays them out.

use crate::mm::images::{Image, ImageKey};
use crate::mm::{Vma, VmaKind};
use crate::process::{Process, identity};
use crate::root::kernel;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use veil_abi::auxvec as at;
use veil_abi::general::{PROT_NONE, PROT_READ, PROT_WRITE, RLIMIT_STACK};
use veil_abi::{PAGE_SIZE, page_align_up};
use veil_platform::{Backing, Placement};

/// What the stack describes.
pub struct StackInput<'a> {
    pub argv: &'a [Vec<u8>],
    pub envp: &'a [Vec<u8>],
    pub execfn: &'a [u8],
    pub phdr: u64,
    pub phnum: u64,
    pub entry: u64,
    pub interp_base: u64,
}

const MIN_STACK: usize = 128 * 1024;
/// Inaccessible gap below the main thread's stack.
const STACK_GUARD: usize = 1 << 20;
const MAX_STACK: usize = 1 << 30;
/// Linux's limit on argv + envp strings (a quarter of an 8 MiB stack... here a fixed 2 MiB).
const MAX_ARG_BYTES: usize = 2 << 20;

/// Maps the main thread's stack and writes the initial layout. Returns the initial `%rsp` and the
/// auxiliary vector written.
pub fn build(process: &Process, input: &StackInput) -> Result<(u64, Vec<(u64, u64)>), String> {
    let platform = kernel().platform;
    let limit = process.limits.lock().0[RLIMIT_STACK as usize].rlim_cur;
    let size = page_align_up((limit.min(MAX_STACK as u64) as usize).max(MIN_STACK));
    let strings: usize = input
        .argv
        .iter()
        .chain(input.envp)
        .map(|s| s.len() + 1)
        .sum();
    if strings > MAX_ARG_BYTES {
        return Err("argument list too long".into());
    }
    // A guard gap below the stack (Linux keeps 256 pages free there) turns an overflow into a
    // fault instead of a write into whatever mapping happens to lie below. An earlier program's
    // stack of the same size, kept in this address space, is taken over (`mm::images`).
    let key = ImageKey::Stack { size };
    let failed = |e| format!("cannot map the stack ({e})");
    let reserved = match kernel().kept_images.take(&key, None, |_| true) {
        Some(kept) => {
            let (guard, stack) = (kept.image.base, kept.image.base + STACK_GUARD);
            for (start, len, prot) in [
                (guard, STACK_GUARD, PROT_NONE),
                (stack, size, PROT_READ | PROT_WRITE),
            ] {
                if !kept.protected(start, start + len, prot) {
                    platform.protect(start, len, prot).map_err(failed)?;
                }
            }
            guard
        }
        None => {
            let reserved = platform
                .map(
                    Placement::Hint(0),
                    STACK_GUARD + size,
                    PROT_NONE,
                    Backing::Private,
                )
                .map_err(failed)?;
            platform
                .protect(reserved + STACK_GUARD, size, PROT_READ | PROT_WRITE)
                .map_err(failed)?;
            reserved
        }
    };
    let base = reserved + STACK_GUARD;
    let records = [
        Vma {
            start: reserved,
            end: base,
            prot: PROT_NONE,
            shared: false,
            pages: None,
            kind: VmaKind::Anonymous,
        },
        Vma {
            start: base,
            end: base + size,
            prot: PROT_READ | PROT_WRITE,
            shared: false,
            pages: None,
            kind: VmaKind::Stack,
        },
    ];
    let vm_ref = process.vm();
    let mut vm = vm_ref.lock();
    for record in &records {
        vm.insert(record.clone());
    }
    vm.images.push(Image {
        key,
        base: reserved,
        records: records.to_vec(),
    });
    drop(vm);
    let top = base + size;

    // Build the image of the top of the stack in a kernel buffer, then copy it out in one go.
    let mut strings_area: Vec<u8> = Vec::new();
    let push_str = |area: &mut Vec<u8>, s: &[u8]| -> usize {
        let off = area.len();
        area.extend_from_slice(s);
        area.push(0);
        off
    };
    let argv_offs: Vec<usize> = input
        .argv
        .iter()
        .map(|a| push_str(&mut strings_area, a))
        .collect();
    let envp_offs: Vec<usize> = input
        .envp
        .iter()
        .map(|e| push_str(&mut strings_area, e))
        .collect();
    let execfn_off = push_str(&mut strings_area, input.execfn);
    let platform_off = push_str(&mut strings_area, b"x86_64");
    let random_off = strings_area.len();
    let mut random = [0u8; 16];
    platform.random(&mut random);
    strings_area.extend_from_slice(&random);

    let strings_start = (top - strings_area.len() - 8) & !15;
    let addr_of = |off: usize| (strings_start + off) as u64;

    let hwcap = platform.host_aux(at::AT_HWCAP as u64);
    let hwcap2 = platform.host_aux(at::AT_HWCAP2 as u64);
    let minsig = platform.host_aux(at::AT_MINSIGSTKSZ as u64);
    let mut auxv: Vec<(u64, u64)> = Vec::new();
    if let Some(vdso) = platform.vdso_base() {
        auxv.push((at::AT_SYSINFO_EHDR as u64, vdso as u64));
    }
    if minsig != 0 {
        auxv.push((at::AT_MINSIGSTKSZ as u64, minsig));
    }
    auxv.extend([
        (at::AT_HWCAP as u64, hwcap),
        (at::AT_PAGESZ as u64, PAGE_SIZE as u64),
        (at::AT_CLKTCK as u64, 100),
        (at::AT_PHDR as u64, input.phdr),
        (at::AT_PHENT as u64, 56),
        (at::AT_PHNUM as u64, input.phnum),
        (at::AT_BASE as u64, input.interp_base),
        (at::AT_FLAGS as u64, 0),
        (at::AT_ENTRY as u64, input.entry),
        (at::AT_UID as u64, identity::UID as u64),
        (at::AT_EUID as u64, identity::UID as u64),
        (at::AT_GID as u64, identity::GID as u64),
        (at::AT_EGID as u64, identity::GID as u64),
        (at::AT_SECURE as u64, 0),
        (at::AT_RANDOM as u64, addr_of(random_off)),
        (at::AT_HWCAP2 as u64, hwcap2),
        (at::AT_EXECFN as u64, addr_of(execfn_off)),
        (at::AT_PLATFORM as u64, addr_of(platform_off)),
    ]);

    let mut words: Vec<u64> = Vec::new();
    words.push(input.argv.len() as u64);
    words.extend(argv_offs.iter().map(|&o| addr_of(o)));
    words.push(0);
    words.extend(envp_offs.iter().map(|&o| addr_of(o)));
    words.push(0);
    for &(k, v) in &auxv {
        words.extend([k, v]);
    }
    words.extend([at::AT_NULL as u64, 0]);
    let rsp = (strings_start - words.len() * 8) & !15;
    if rsp < base + PAGE_SIZE {
        return Err("argument list too long for the stack".into());
    }
    let word_bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let copy = |addr: usize, bytes: &[u8]| {
        platform
            .copy_to_user(addr, bytes)
            .map_err(|_| String::from("cannot write the initial stack"))
    };
    copy(strings_start, &strings_area)?;
    copy(rsp, &word_bytes)?;
    Ok((rsp as u64, auxv))
}
