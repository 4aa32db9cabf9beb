//! Signal frames: what a handler finds on its stack, laid out exactly as Linux x86-64 does
//! (`struct rt_sigframe`: return address, `ucontext`, `siginfo`, then the `xsave` area), so that
//! glibc, musl, `siglongjmp` and debuggers understand it; and `rt_sigreturn`, which restores the
//! interrupted context from it.

use super::SigInfo;
use crate::error::{Result, err};
use crate::process::Thread;
use crate::root::kernel;
use crate::user;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use veil_abi::Errno;
use veil_abi::general as g;
use veil_platform::UserRegs;

/// `sizeof(struct ucontext)` on x86-64 (flags, link, stack, sigcontext, 8-byte sigmask).
const UCONTEXT_SIZE: usize = 304;
const SIGINFO_SIZE: usize = 128;
/// Return address + ucontext + siginfo.
const FRAME_SIZE: usize = 8 + UCONTEXT_SIZE + SIGINFO_SIZE;
/// Offsets inside the ucontext.
const UC_STACK: usize = 16;
const UC_MCONTEXT: usize = 40;
const UC_SIGMASK: usize = 296;
/// Offsets inside the sigcontext.
const SC_EFLAGS: usize = 17 * 8;
const SC_SEGMENTS: usize = 18 * 8;
const SC_OLDMASK: usize = 21 * 8;
const SC_CR2: usize = 22 * 8;
const SC_FPSTATE: usize = 23 * 8;
/// uc_flags: the FP area has an extended (xsave) state; the frame carries ss.
const UC_FP_XSTATE: u64 = 1;
const UC_SIGCONTEXT_SS: u64 = 2;
const UC_STRICT_RESTORE_SS: u64 = 4;
const RED_ZONE: u64 = 128;
/// rflags bits a program may change through a frame (CF PF AF ZF SF TF DF OF, AC, ID, ...).
const USER_FLAGS: u64 = 0x0025_4dd5;
const FLAG_TF: u64 = 1 << 8;
const FLAG_DF: u64 = 1 << 10;
const FLAG_RF: u64 = 1 << 16;
const SS_ONSTACK: i32 = 1;
const SS_DISABLE: i32 = 2;
const SS_AUTODISARM: i32 = 1 << 31;

/// The general registers in sigcontext order (r8 ... r15, rdi, rsi, rbp, rbx, rdx, rax, rcx,
/// rsp, rip).
fn gregs(r: &UserRegs) -> [u64; 17] {
    [
        r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx,
        r.rax, r.rcx, r.rsp, r.rip,
    ]
}

fn set_gregs(r: &mut UserRegs, v: &[u64; 17]) {
    [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15] =
        [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]];
    [
        r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip,
    ] = [v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16]];
}

fn put(buf: &mut [u8], off: usize, value: u64) {
    buf[off..off + 8].copy_from_slice(&value.to_ne_bytes());
}

fn get(buf: &[u8], off: usize) -> u64 {
    u64::from_ne_bytes(buf[off..off + 8].try_into().expect("8 bytes"))
}

/// Whether `sp` lies on the thread's alternate signal stack.
fn on_altstack(thread: &Thread, sp: u64) -> bool {
    let (base, flags, size) = *thread.altstack.lock();
    flags & SS_DISABLE == 0 && size != 0 && sp > base && sp - base <= size
}

/// Builds the frame for `info` and redirects `regs` into the handler.
pub fn setup(regs: &mut UserRegs, thread: &Thread, info: &SigInfo) -> Result<()> {
    let sig = info.signo;
    let action = thread.process.signals.lock()[sig as usize - 1];
    let handler = action.sa_handler_kernel.map_or(0, |f| f as usize) as u64;
    let flags = action.sa_flags as u32;
    // x86-64 handlers return through the restorer the C library registers.
    let Some(restorer) = action
        .sa_restorer
        .map(|f| f as usize as u64)
        .filter(|_| flags & g::SA_RESTORER != 0)
    else {
        return err(Errno::EFAULT);
    };
    let (alt_base, alt_flags, alt_size) = *thread.altstack.lock();
    let already_on_alt = on_altstack(thread, regs.rsp);
    let use_alt = flags & g::SA_ONSTACK != 0
        && alt_flags & SS_DISABLE == 0
        && alt_size != 0
        && !already_on_alt;
    let mut sp = if use_alt {
        alt_base + alt_size
    } else {
        regs.rsp.wrapping_sub(RED_ZONE)
    };

    let fp = kernel().platform.fp_state();
    sp = sp.checked_sub(fp.len() as u64).ok_or(Errno::EFAULT)? & !63;
    let fp_addr = if fp.is_empty() { 0 } else { sp };
    sp = (sp.checked_sub(FRAME_SIZE as u64).ok_or(Errno::EFAULT)? & !15) - 8;
    let (frame, uc, info_addr) = (sp, sp + 8, sp + 8 + UCONTEXT_SIZE as u64);

    let mask = thread.sigmask.load(Ordering::Relaxed);
    // After sigsuspend, the handler's return restores the mask from before the call.
    let restore_mask = thread.saved_sigmask.lock().take().unwrap_or(mask);
    let mut bytes = [0u8; FRAME_SIZE];
    put(&mut bytes, 0, restorer);
    let u = &mut bytes[8..8 + UCONTEXT_SIZE];
    let xstate = if fp.len() > 512 { UC_FP_XSTATE } else { 0 };
    put(u, 0, xstate | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
    let stack_flags = if alt_flags & SS_DISABLE != 0 || alt_size == 0 {
        SS_DISABLE
    } else if already_on_alt {
        SS_ONSTACK
    } else {
        alt_flags & SS_AUTODISARM
    };
    put(u, UC_STACK, alt_base);
    u[UC_STACK + 8..UC_STACK + 12].copy_from_slice(&stack_flags.to_ne_bytes());
    put(u, UC_STACK + 16, alt_size);
    let sc = &mut u[UC_MCONTEXT..UC_MCONTEXT + 256];
    for (i, v) in gregs(regs).iter().enumerate() {
        put(sc, i * 8, *v);
    }
    put(sc, SC_EFLAGS, regs.rflags);
    // cs = 0x33, gs = fs = 0, ss = 0x2b.
    put(sc, SC_SEGMENTS, 0x33 | 0x2b << 48);
    put(sc, SC_OLDMASK, restore_mask);
    if sig == g::SIGSEGV || sig == g::SIGBUS {
        put(sc, SC_CR2, info.fields[0]);
    }
    put(sc, SC_FPSTATE, fp_addr);
    put(u, UC_SIGMASK, restore_mask);
    bytes[8 + UCONTEXT_SIZE..].copy_from_slice(&info.to_bytes());

    if fp_addr != 0 {
        user::write_bytes(fp_addr, &fp)?;
    }
    user::write_bytes(frame, &bytes)?;

    regs.rsp = frame;
    regs.rip = handler;
    regs.rdi = sig as u64;
    regs.rsi = info_addr;
    regs.rdx = uc;
    regs.rax = 0;
    regs.rflags &= !(FLAG_DF | FLAG_TF | FLAG_RF);
    let mut new_mask = mask | action.sa_mask.sig[0];
    if flags & g::SA_NODEFER == 0 {
        new_mask |= 1 << (sig - 1);
    }
    thread
        .sigmask
        .store(new_mask & !unblockable(), Ordering::Relaxed);
    if use_alt && alt_flags & SS_AUTODISARM != 0 {
        *thread.altstack.lock() = (0, SS_DISABLE, 0);
    }
    if flags & g::SA_RESETHAND != 0 {
        thread.process.signals.lock()[sig as usize - 1] = crate::pod::zeroed();
    }
    Ok(())
}

fn unblockable() -> u64 {
    (1 << (g::SIGKILL - 1)) | (1 << (g::SIGSTOP - 1))
}

/// `rt_sigreturn`: restores the registers, signal mask, alternate stack and FP state saved in
/// the frame whose ucontext `regs.rsp` points at (the handler's `ret` popped the return
/// address). A malformed frame kills the process with SIGSEGV, as on Linux.
pub fn restore(regs: &mut UserRegs, thread: &Thread) -> Result<()> {
    let uc = regs.rsp;
    let bytes = user::read_bytes(uc, UCONTEXT_SIZE)?;
    let sc = &bytes[UC_MCONTEXT..UC_MCONTEXT + 256];
    let mut saved = [0u64; 17];
    for (i, v) in saved.iter_mut().enumerate() {
        *v = get(sc, i * 8);
    }
    if saved[16] as usize >= veil_abi::USER_SPACE_END {
        return err(Errno::EFAULT);
    }
    let fp_addr = get(sc, SC_FPSTATE);
    if fp_addr != 0 {
        let len = kernel().platform.fp_state().len();
        let fp: Vec<u8> = user::read_bytes(fp_addr, len)?;
        kernel().platform.set_fp_state(&fp)?;
    }
    set_gregs(regs, &saved);
    regs.rflags = regs.rflags & !USER_FLAGS | get(sc, SC_EFLAGS) & USER_FLAGS;
    thread
        .sigmask
        .store(get(&bytes, UC_SIGMASK) & !unblockable(), Ordering::Relaxed);
    // The alternate stack comes back as saved, unless the program changed it to something
    // invalid (ignored, as Linux's restore_altstack then fails only for in-use stacks).
    let alt_flags = i32::from_ne_bytes(
        bytes[UC_STACK + 8..UC_STACK + 12]
            .try_into()
            .expect("4 bytes"),
    );
    let (alt_base, alt_size) = (get(&bytes, UC_STACK), get(&bytes, UC_STACK + 16));
    if alt_flags & SS_DISABLE != 0 {
        *thread.altstack.lock() = (0, SS_DISABLE, 0);
    } else if alt_size >= 2048 {
        *thread.altstack.lock() = (alt_base, alt_flags & SS_AUTODISARM, alt_size);
    }
    Ok(())
}
