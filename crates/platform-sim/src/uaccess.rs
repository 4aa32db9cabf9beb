//! Fault-safe access to user memory.
//!
//! The copy routines are tiny assembly functions. If one of their string instructions faults
//! (unmapped or protected user page), the signal handler finds the faulting instruction in
//! [`fixup_for`] and resumes at a fixup that returns "fault" instead of crashing the LibOS.

use veil_platform::Fault;

std::arch::global_asm!(
    ".text",
    // veil_copy_bytes(dst: rdi, src: rsi, len: rdx) -> rax (0 = ok, 1 = fault)
    ".globl veil_copy_bytes",
    ".p2align 4",
    "veil_copy_bytes:",
    "mov rcx, rdx",
    ".globl veil_uaccess_copy_insn",
    "veil_uaccess_copy_insn:",
    "rep movsb",
    "xor eax, eax",
    "ret",
    // veil_zero_bytes(dst: rdi, len: rsi) -> rax (0 = ok, 1 = fault)
    ".globl veil_zero_bytes",
    ".p2align 4",
    "veil_zero_bytes:",
    "mov rcx, rsi",
    "xor eax, eax",
    ".globl veil_uaccess_zero_insn",
    "veil_uaccess_zero_insn:",
    "rep stosb",
    "ret",
    ".globl veil_uaccess_fixup",
    "veil_uaccess_fixup:",
    "mov eax, 1",
    "ret",
    // veil_cmpxchg_u32(addr: rdi, expected: esi, new: edx) -> rax = old value, or 1 << 32 on fault
    ".globl veil_cmpxchg_u32",
    ".p2align 4",
    "veil_cmpxchg_u32:",
    "mov eax, esi",
    ".globl veil_uaccess_cmpxchg_insn",
    "veil_uaccess_cmpxchg_insn:",
    "lock cmpxchg dword ptr [rdi], edx",
    "ret",
    ".globl veil_uaccess_cmpxchg_fixup",
    "veil_uaccess_cmpxchg_fixup:",
    "mov rax, 0x100000000",
    "ret",
);

unsafe extern "C" {
    fn veil_copy_bytes(dst: *mut u8, src: *const u8, len: usize) -> u64;
    fn veil_zero_bytes(dst: *mut u8, len: usize) -> u64;
    fn veil_uaccess_copy_insn();
    fn veil_uaccess_zero_insn();
    fn veil_uaccess_fixup();
    fn veil_cmpxchg_u32(addr: *mut u32, expected: u32, new: u32) -> u64;
    fn veil_uaccess_cmpxchg_insn();
    fn veil_uaccess_cmpxchg_fixup();
}

/// Where to resume if a fault hit instruction `rip`, when it is one of the user-access routines.
pub fn fixup_for(rip: usize) -> Option<usize> {
    let copies = [
        veil_uaccess_copy_insn as *const () as usize,
        veil_uaccess_zero_insn as *const () as usize,
    ];
    if copies.contains(&rip) {
        return Some(veil_uaccess_fixup as *const () as usize);
    }
    (rip == veil_uaccess_cmpxchg_insn as *const () as usize)
        .then_some(veil_uaccess_cmpxchg_fixup as *const () as usize)
}

/// Atomically replaces the 32-bit user word at `addr` with `new` if it holds `expected`;
/// returns the value it held.
pub fn cmpxchg_u32(addr: usize, expected: u32, new: u32) -> Result<u32, Fault> {
    if !addr.is_multiple_of(4) {
        return Err(Fault);
    }
    // SAFETY: faults are recovered by the fixup; the kernel checked that `addr` is user memory.
    let r = unsafe { veil_cmpxchg_u32(addr as *mut u32, expected, new) };
    if r >> 32 == 0 {
        Ok(r as u32)
    } else {
        Err(Fault)
    }
}

/// Copies `len` bytes from `src` to `dst`, either of which may be a user address.
///
/// # Safety
/// The non-user side must be valid for `len` bytes; the user side may be anything (a fault is
/// reported, not taken).
pub unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) -> Result<(), Fault> {
    // SAFETY: per the contract above; faults on the user side are recovered by the fixup.
    let r = unsafe { veil_copy_bytes(dst, src, len) };
    if r == 0 { Ok(()) } else { Err(Fault) }
}

/// Zeroes `len` bytes at user address `dst`.
pub fn zero(dst: usize, len: usize) -> Result<(), Fault> {
    // SAFETY: faults are recovered by the fixup; the kernel checked that `dst` is user memory.
    let r = unsafe { veil_zero_bytes(dst as *mut u8, len) };
    if r == 0 { Ok(()) } else { Err(Fault) }
}
