//! Syscall site patching: the fast path of DESIGN §4.5. The first time a program's
//! `mov $nr, %eax; syscall` (7 bytes) in page-cache text traps, its `mov` is rewritten into a
//! 5-byte `jmp` to a stub of that site: `mov $nr, %eax; lea site_end(%rip), %rcx; jmp *entry`,
//! where `entry` is the platform's fast entry ([`veil_platform::TrapHandler::fast_syscall`]).
//! The `syscall` instruction stays: a jump straight to it, a thread that was between the two
//! instructions, and every syscall the fast path declines still take the full trap path.
//! Nothing is written to the program's stack (its red zone stays intact).
//!
//! Page-cache text is shared by every process of the instance, so a site is patched once for
//! all. The stubs of a file live in the first [`STUB_AREA`] bytes of its page-cache object (the
//! file's bytes follow), and every mapping of the object has that area mapped directly below
//! the file's offset 0 ([`attach`]): a site and its stub are then the same distance apart in
//! every mapping. An object with a mapping that cannot have its stub area ("stubless") is
//! never patched again, and once patched it is mapped that way no more (such a mapping gets a
//! copy of the file instead).
//!
//! Patching races with threads executing the site: its first byte becomes `int3` while the
//! jump's offset is written, and a thread that hits that `int3` is sent back to the site
//! ([`resolve_breakpoint`]) once the patch is complete.
//!
//! Lock order: `Process::vm` before `SharedObject::patches` (taken alone when patching).

use super::{SharedPages, Vm, Vma, VmaKind};
use crate::process::Process;
use crate::root::kernel;
use alloc::collections::BTreeSet;
use veil_abi::general::{PROT_EXEC, PROT_READ};
use veil_platform::Placement;

/// Bytes at the start of a page-cache object reserved for the stubs of its sites.
pub const STUB_AREA: u64 = 64 * 1024;
/// Bytes per stub; stub 0 holds the fast entry's address instead.
const STUB_SIZE: u64 = 32;
/// The sequence a patchable site ends with: `syscall`.
const SYSCALL: [u8; 2] = [0x0f, 0x05];
/// `mov $imm32, %eax`.
const MOV_EAX: u8 = 0xb8;
/// `jmp rel32`.
const JMP_REL32: u8 = 0xe9;
const INT3: u8 = 0xcc;

/// The patching state of one page-cache object.
#[derive(Debug, Default)]
pub struct Patches {
    /// Some mapping of the object has no stub area: it is patched no further.
    stubless: bool,
    /// Stubs handed out (stub 0, the entry address, counts once one is).
    stubs: u64,
    /// Object offsets of the patched sites (their first byte).
    sites: BTreeSet<u64>,
}

/// Gives a mapping of page-cache `pages` at `start` its object's stub area (mapping it below
/// the file's offset 0 if that range is free). Returns false if the mapping must not use the
/// page cache: it cannot have the stub area and the object is already patched.
pub fn attach(vm: &mut Vm, pages: &SharedPages, start: usize) -> bool {
    let has_area = match (start as u64).checked_sub(pages.offset) {
        Some(area) if pages.offset >= STUB_AREA => {
            let area = area as usize;
            let end = area + STUB_AREA as usize;
            let existing = vm
                .find(area)
                .map(|v| is_stub_area(v, pages) && v.end == end);
            match existing {
                Some(ours) => ours,
                None => map_stub_area(vm, pages, area),
            }
        }
        _ => false,
    };
    if has_area {
        return true;
    }
    let mut patches = pages.object.patches.lock();
    patches.stubless = true;
    patches.sites.is_empty()
}

fn is_stub_area(vma: &Vma, pages: &SharedPages) -> bool {
    matches!(vma.kind, VmaKind::SyscallStubs)
        && vma.pages.as_ref().is_some_and(|p| p.object == pages.object)
}

/// Maps the stub area of `pages`' object at `area` if nothing (of any process in this address
/// space) is there.
fn map_stub_area(vm: &mut Vm, pages: &SharedPages, area: usize) -> bool {
    let stubs = SharedPages {
        object: pages.object.clone(),
        offset: 0,
    };
    let prot = PROT_READ | PROT_EXEC;
    let mapped = super::images::map_host(
        Placement::FixedNoReplace(area),
        STUB_AREA as usize,
        prot,
        stubs.backing(),
    );
    if mapped.is_err() {
        return false;
    }
    vm.insert(Vma {
        start: area,
        end: area + STUB_AREA as usize,
        prot,
        shared: false,
        kind: VmaKind::SyscallStubs,
        pages: Some(stubs),
    });
    true
}

/// The page-cache text mapping around the 7 bytes before `site_end`, if any: its object
/// pages and the object offset of `site_end`.
fn site_pages(vm: &Vm, site_end: u64) -> Option<(SharedPages, u64)> {
    let first = site_end.checked_sub(8)? as usize;
    let vma = vm.find(first)?;
    let pages = vma.pages.as_ref()?;
    let text = vma.prot & PROT_EXEC != 0 && !vma.shared;
    if !text || !matches!(vma.kind, VmaKind::File { .. }) || (vma.end as u64) < site_end {
        return None;
    }
    let end = pages.offset + (site_end - vma.start as u64);
    (pages.offset >= STUB_AREA).then(|| (pages.clone(), end))
}

/// Patches the site of syscall `nr` whose `syscall` instruction ends at `site_end`, if it is
/// `mov $nr, %eax; syscall` in page-cache text.
pub fn consider(process: &Process, site_end: u64, nr: u64) {
    let Some(entry) = kernel().platform.fast_syscall_entry() else {
        return;
    };
    let found = site_pages(&process.vm().lock(), site_end);
    let Some((pages, end)) = found else {
        return;
    };
    // Read where the program runs it (the object's bytes, without a host call), with the byte
    // before the `mov`: a REX prefix would make it part of another instruction. A site that is
    // patched already, or being patched, no longer matches.
    let mut code = [0u8; 8];
    if kernel()
        .platform
        .copy_from_user(&mut code, (site_end - 8) as usize)
        .is_err()
    {
        return;
    }
    let rex = (0x40..=0x4f).contains(&code[0]);
    if rex || code[1] != MOV_EAX || code[2..6] != (nr as u32).to_le_bytes() || code[6..] != SYSCALL
    {
        return;
    }
    let object = &pages.object;
    let mut patches = object.patches.lock();
    let site = end - 7;
    if patches.stubless || patches.sites.contains(&site) || patches.stubs * STUB_SIZE >= STUB_AREA {
        return;
    }
    if patches.stubs == 0 {
        if object.write(0, &(entry as u64).to_le_bytes()).is_err() {
            return;
        }
        patches.stubs = 1;
    }
    let stub = patches.stubs * STUB_SIZE;
    if object
        .write(stub, &stub_code(stub, nr as u32, end))
        .is_err()
    {
        return;
    }
    // The jump's offset is written behind an int3, the jump's opcode last.
    let jump = (stub as i64 - (site + 5) as i64) as i32;
    if object.write(site, &[INT3]).is_err() {
        return;
    }
    let written = object.write(site + 1, &jump.to_le_bytes()).is_ok()
        && object.write(site, &[JMP_REL32]).is_ok();
    if written {
        patches.stubs += 1;
        patches.sites.insert(site);
    } else {
        // Back to the original instruction, its immediate first (still behind the int3).
        if object.write(site + 1, &code[2..6]).is_ok() {
            let _ = object.write(site, &[MOV_EAX]);
        }
    }
}

/// The stub at object offset `stub` for syscall `nr` of the site ending at object offset `end`.
fn stub_code(stub: u64, nr: u32, end: u64) -> [u8; STUB_SIZE as usize] {
    let mut code = [INT3; STUB_SIZE as usize];
    // mov $nr, %eax
    code[0] = MOV_EAX;
    code[1..5].copy_from_slice(&nr.to_le_bytes());
    // lea end(%rip), %rcx  (rip = stub + 12 after it)
    code[5..8].copy_from_slice(&[0x48, 0x8d, 0x0d]);
    let to_end = (end as i64 - (stub + 12) as i64) as i32;
    code[8..12].copy_from_slice(&to_end.to_le_bytes());
    // jmp *entry(%rip)  (rip = stub + 18 after it; the entry address is at offset 0)
    code[12..14].copy_from_slice(&[0xff, 0x25]);
    let to_entry = -((stub + 18) as i64) as i32;
    code[14..18].copy_from_slice(&to_entry.to_le_bytes());
    code
}

/// A breakpoint trap at `addr` that was a site being patched (the thread must go back and run
/// the finished patch) rather than the program's own `int3`.
pub fn resolve_breakpoint(process: &Process, addr: u64) -> bool {
    let found = site_pages(&process.vm().lock(), addr + 7);
    let Some((pages, end)) = found else {
        return false;
    };
    // Waits for a patch in progress.
    pages.object.patches.lock().sites.contains(&(end - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stub_reaches_site_and_entry() {
        let (stub, end) = (3 * STUB_SIZE, STUB_AREA + 0x1234);
        let code = stub_code(stub, 13, end);
        assert_eq!(&code[..5], &[0xb8, 13, 0, 0, 0]);
        let to_end = i32::from_le_bytes(code[8..12].try_into().unwrap()) as i64;
        assert_eq!(stub as i64 + 12 + to_end, end as i64);
        let to_entry = i32::from_le_bytes(code[14..18].try_into().unwrap()) as i64;
        assert_eq!(stub as i64 + 18 + to_entry, 0);
    }
}
