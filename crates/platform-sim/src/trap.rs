//! The trap path: Syscall User Dispatch, the signal entry stub, and entering user code.
//!
//! Every LibOS thread owns a 1 MiB *alternate signal stack region*, aligned to its size: from
//! the bottom, the fast path's register save area (a page), a guard page, the alternate stack,
//! and the thread's [`ThreadBlock`] in the region's last 512 bytes. Because the host delivers
//! SIGSYS (trapped syscalls) and fault signals on that stack, the entry stub finds the block by
//! masking the stack pointer — no use of the application's `%fs` or `%gs`.
//!
//! On entry the stub saves the SUD selector and `%fs` base, sets the selector to ALLOW (LibOS
//! code may make host syscalls) and switches `%fs` to the LibOS thread's own TLS. On exit it
//! restores both (the application's `%fs` possibly changed by `arch_prctl`) and returns to a
//! restorer that lives inside the SUD-allowed region, so its `rt_sigreturn` is not trapped.
//! Entering user code the first time uses the same `rt_sigreturn`, with a constructed frame.

use crate::{futex, threads, uaccess};
use std::cell::UnsafeCell;
use std::sync::OnceLock;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicUsize};
use veil_platform::{FastExit, FaultKind, TrapHandler, UserRegs};

/// Size and alignment of a thread's region: from the bottom, the fast path's save area (a
/// page), a guard page, the alternate signal stack and the [`ThreadBlock`]. The block and the
/// frames of a trap's first calls then share the top page, the only one a host fork's two
/// sides both write (see [`ThreadBlock::copy_in_forks_from`]).
const REGION_SIZE: usize = 1 << 20;
/// Room for the [`ThreadBlock`] at the top of the region.
const BLOCK_RESERVE: usize = 512;
const _: () = assert!(std::mem::size_of::<ThreadBlock>() <= BLOCK_RESERVE);
const PAGE: usize = 4096;
/// The alternate stack's offset from the region's start: the save area and the guard.
const STACK_OFFSET: usize = 2 * PAGE;
/// Room below the forking frame for the host fork call's own frames, which the copy returns
/// through (glibc 2.36's `_Fork` pushes its return address only; a margin for others).
const FORK_CALL_ROOM: usize = 1024;

/// SUD selector values.
const SELECTOR_ALLOW: u8 = 0;
const SELECTOR_BLOCK: u8 = 1;

/// The pseudo syscall number a fast-path syscall leaves with when it must pass through the full
/// trap path (its real result and resume point are armed in the block).
const RESUME_NR: u32 = 0x7665_696c;

/// The extended-state components the fast path saves around LibOS code: SSE, AVX and the
/// AVX-512 ones (x87 state is left alone: LibOS code does not use it).
const FAST_XSTATE: u32 = 0xe6;
/// How far below the block the fast path saves them: at the region's start (a page, 64-byte
/// aligned; the standard layout of those components ends 2688 bytes in).
const XSAVE_BELOW_BLOCK: usize = REGION_SIZE - BLOCK_RESERVE;

/// Set once a thread of this address space runs user code with its own `%gs` base: the fast
/// path cannot find its block then, so every patched site takes the real `syscall`.
static FAST_PATH_OFF: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// `si_code` of a SIGSYS raised by Syscall User Dispatch.
const SYS_USER_DISPATCH: i32 = 2;

/// The host signal that interrupts a LibOS thread (SIGRTMAX; glibc keeps the low real-time
/// signals for itself).
pub const INTERRUPT_SIGNAL: i32 = 64;
/// The real-time host signal the supervisor uses to pass a signal on to the first
/// address-space process (its number rides in `si_value`).
pub const FORWARD_SIGNAL: i32 = 63;
/// Host signals passed on to the instance as the same signal (SIGTSTP from the terminal's
/// Ctrl-Z, and the SIGCONT of the shell's `fg`/`bg`, included: job control happens inside).
pub const FORWARDED_SIGNALS: [i32; 9] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGTERM,
    libc::SIGWINCH,
    libc::SIGTSTP,
    libc::SIGCONT,
];

/// Per-thread state of the trap path. Field offsets are used by the assembly stub below.
#[repr(C)]
pub struct ThreadBlock {
    /// SUD selector byte (offset 0).
    selector: u8,
    _pad: [u8; 7],
    /// The application's `%fs` base while LibOS code runs (offset 8).
    app_fs: u64,
    /// The LibOS thread's own `%fs` base (host TLS), offset 16.
    host_fs: u64,
    /// The application's stack pointer while a fast-path syscall runs (offset 24).
    fast_user_rsp: u64,
    /// Set (offset 32) when an asynchronous host signal interrupted LibOS code: a fast-path
    /// syscall then leaves through the full trap path, where the signal is acted on.
    interrupted: std::sync::atomic::AtomicU64,
    /// The final rax and rip of a fast-path syscall that leaves through the full trap path
    /// (offsets 40 and 48), valid while `resume_armed` (offset 56) is 1.
    resume_rax: u64,
    resume_rip: u64,
    resume_armed: u64,
    /// The `%gs` base the application set (0: none). While user code runs the register holds
    /// this block's address instead, which is how the fast path finds the block.
    app_gs: u64,
    /// The kernel's per-thread value.
    thread_data: usize,
    /// Start of the usable alternate stack (for rebuilding `uc_stack`).
    stack_base: usize,
    stack_size: usize,
    /// The host signal frame of the trap being handled (null outside the kernel's trap calls).
    current_uc: *mut libc::ucontext_t,
    /// Forwarded host signals that arrived while LibOS code ran (a bit per signal).
    deferred: std::sync::atomic::AtomicU64,
    /// Where the thread's host stack is free once its LibOS thread ended (below every frame
    /// still in use): the thread parks there (`threads`).
    park_stack_top: usize,
    /// A new LibOS thread handed to this host thread while it is parked.
    hand_over: HandOver,
    /// The next parked host thread's block while this one is parked (`threads`).
    pub(crate) next_parked: *mut ThreadBlock,
    /// What happens to the address space when the current trap returns. Kept here, not in a
    /// host thread-local: a thread-local that needs dropping makes the host's allocator
    /// register a destructor, and a fork must find that allocator unlocked (see `fork_here`).
    on_return: OnReturn,
    /// The region below this address comes out zeroed in host forks (0: no part of it; see
    /// [`ThreadBlock::copy_in_forks_from`]).
    wiped_in_forks_below: usize,
}

/// What the platform does to the address space when a trap returns (after every kernel frame
/// of it is gone).
#[derive(Default)]
pub enum OnReturn {
    #[default]
    Nothing,
    /// Copy it; the copy's only thread starts as kernel thread `child`, whose kernel objects
    /// are at `objects` (see `Platform::fork_on_return`).
    Fork { child: usize, objects: usize },
    /// Move this thread (kernel value `thread`) to a clean address space (`zygote`) with the
    /// host fds `carried`, or, if there is none, to a copy.
    Move { thread: usize, carried: Vec<i32> },
}

/// The hand-over of a new LibOS thread to a parked host thread.
#[repr(C)]
struct HandOver {
    /// 1 once `regs` and `thread_data` are set.
    ready: AtomicU32,
    regs: UnsafeCell<UserRegs>,
    thread_data: AtomicUsize,
    /// The tid of the block's host thread (parked or not).
    tid: AtomicI32,
    /// Set when the hand-over pinned the parked thread to the caller's CPU (it unpins itself).
    pinned: AtomicBool,
}

static TRAP_HANDLER: OnceLock<&'static dyn TrapHandler> = OnceLock::new();

/// Host pid of the supervisor (`veil run`), the only process whose forwarded signals count.
static SUPERVISOR: AtomicI32 = AtomicI32::new(0);

/// Records the supervisor's pid (the parent of the first address-space process).
pub fn set_supervisor(pid: i32) {
    SUPERVISOR.store(pid, Relaxed);
}

/// Sends `sig` to the supervisor (`veil run`): SIGSTOP and SIGCONT, to follow the instance's
/// job control.
pub fn signal_supervisor(sig: i32) {
    let pid = SUPERVISOR.load(Relaxed);
    if pid > 0 {
        // SAFETY: kill only sends a signal.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Registers the kernel's trap handler. Called once per address space before user code runs.
pub fn set_trap_handler(handler: &'static dyn TrapHandler) {
    let _ = TRAP_HANDLER.set(handler);
}

/// The kernel's trap handler, once registered.
pub fn trap_handler() -> Option<&'static dyn TrapHandler> {
    TRAP_HANDLER.get().copied()
}

std::arch::global_asm!(
    ".text",
    ".globl veil_signal_entry",
    ".p2align 4",
    "veil_signal_entry:",
    // rax = ThreadBlock of this thread, from the stack pointer (we run on its alternate stack).
    "mov rax, rsp",
    "and rax, -{region}",
    "add rax, {region} - {reserve}",
    "movzx ecx, byte ptr [rax]",
    "push rcx",                                 // saved selector
    "mov byte ptr [rax], {allow}",
    "rdfsbase r8",
    "push r8",                                  // saved %fs base
    "cmp ecx, {block}",
    "jne 2f",
    "mov [rax + 8], r8",                        // trapped in app code: record its %fs
    "2:",
    "mov r9, [rax + 16]",
    "wrfsbase r9",
    "mov r8, rcx",                              // 5th argument: the saved selector
    "mov rcx, rax",                             // 4th argument: the ThreadBlock
    "sub rsp, 8",                               // 16-byte alignment for the call
    "call {handler}",
    "add rsp, 8",
    "pop rcx",                                  // saved %fs base
    "pop rdx",                                  // saved selector
    "mov rax, rsp",
    "and rax, -{region}",
    "add rax, {region} - {reserve}",
    "cmp edx, {block}",
    "jne 3f",
    "mov rcx, [rax + 8]",                       // back to app code: its (maybe new) %fs
    "3:",
    "wrfsbase rcx",
    "mov byte ptr [rax], dl",
    "ret",                                      // to veil_restorer
    "",
    // The SUD-allowed region: just the restorer.
    ".globl veil_restorer",
    ".globl veil_restorer_end",
    ".p2align 4",
    "veil_restorer:",
    "mov eax, 15",                              // rt_sigreturn
    "syscall",
    "ud2",
    "veil_restorer_end:",
    "",
    // veil_switch_stack(top: rdi, f: rsi, arg: rdx) -> !: calls f(arg) with rsp = top.
    ".globl veil_switch_stack",
    ".p2align 4",
    "veil_switch_stack:",
    "mov rsp, rdi",
    "and rsp, -16",
    "mov rdi, rdx",
    "call rsi",
    "ud2",
    "",
    // veil_enter_user(frame: rdi, app_fs: rsi, selector: rdx) -> !
    ".globl veil_enter_user",
    ".p2align 4",
    "veil_enter_user:",
    "wrfsbase rsi",
    "mov byte ptr [rdx], {block}",
    "mov rsp, rdi",
    "jmp veil_restorer",
    "",
    // veil_fast_entry: patched syscall sites jump here (through their stub) with rax = the
    // syscall number and rcx = the address after the site's `syscall` instruction. rcx and r11
    // are free (`syscall` clobbers them) and nothing is written below the app's stack pointer
    // (its red zone). The block is reached through %gs, which holds its address in user code.
    ".globl veil_fast_entry",
    ".p2align 4",
    "veil_fast_entry:",
    "cmp byte ptr [rip + {disabled}], 0",
    "je 1f",
    "lea r11, [rcx - 2]",                       // fast path off: the real `syscall`
    "jmp r11",
    "1:",
    "rdgsbase r11",
    "mov qword ptr [r11 + 32], 0",
    "mov byte ptr [r11], {allow}",
    // Until here every register but rcx, r11 and rip is the app's: an interrupt taken before
    // the selector switch resumes at the site's real `syscall` (`fast_resume_point`).
    ".globl veil_fast_entered",
    "veil_fast_entered:",
    "mov [r11 + 24], rsp",
    "mov rsp, r11",                             // the top of the alternate stack
    "push rcx",                                 // FastFrame, last field first
    "push r15",
    "push r14",
    "push r13",
    "push r12",
    "push r10",
    "push r9",
    "push r8",
    "push rbp",
    "push rdi",
    "push rsi",
    "push rdx",
    "push rbx",
    "push rax",                                 // 14 pushes: rsp stays 16-byte aligned
    // The app's SSE/AVX(-512) registers survive a syscall; LibOS code may use them.
    "mov eax, {xstate}",
    "xor edx, edx",
    "xsaveopt64 [r11 - {xsave_below_block}]",
    "rdfsbase rdx",
    "mov [r11 + 8], rdx",
    "mov rdx, [r11 + 16]",
    "wrfsbase rdx",
    "mov rdi, r11",
    "mov rsi, rsp",
    "call {fast_handler}",
    "mov r11, rax",                             // 0: return to the site, 1: go to frame.rcx
    "rdgsbase rcx",
    "mov eax, {xstate}",
    "xor edx, edx",
    "xrstor64 [rcx - {xsave_below_block}]",
    "mov rdx, qword ptr gs:[8]",
    "wrfsbase rdx",
    "pop rax",
    "pop rbx",
    "pop rdx",
    "pop rsi",
    "pop rdi",
    "pop rbp",
    "pop r8",
    "pop r9",
    "pop r10",
    "pop r12",
    "pop r13",
    "pop r14",
    "pop r15",
    "pop rcx",
    "mov rsp, qword ptr gs:[24]",
    // From the selector switch on, every register but rip is the app's: an interrupt taken
    // here resumes at rcx, or at the armed resume point (see `fast_resume_point`).
    ".globl veil_fast_window",
    "veil_fast_window:",
    "mov byte ptr gs:[0], {block}",
    "test r11, r11",
    "jnz 7f",
    "cmp qword ptr gs:[32], 0",
    "jne 9f",
    "jmp rcx",
    "9:",                                       // interrupted meanwhile: resume via a trap
    "mov qword ptr gs:[40], rax",
    "mov qword ptr gs:[48], rcx",
    "mov qword ptr gs:[56], 1",
    "mov eax, {resume}",
    "sub rcx, 2",
    "7:",
    "jmp rcx",
    ".globl veil_fast_window_end",
    "veil_fast_window_end:",
    region = const REGION_SIZE,
    reserve = const BLOCK_RESERVE,
    allow = const SELECTOR_ALLOW,
    block = const SELECTOR_BLOCK,
    resume = const RESUME_NR,
    xstate = const FAST_XSTATE,
    xsave_below_block = const XSAVE_BELOW_BLOCK,
    handler = sym veil_signal_handler,
    fast_handler = sym veil_fast_handler,
    disabled = sym FAST_PATH_OFF,
);

unsafe extern "C" {
    /// glibc's fork without fork handlers (since glibc 2.34).
    fn _Fork() -> libc::pid_t;
    fn veil_signal_entry();
    fn veil_restorer();
    fn veil_restorer_end();
    fn veil_fast_entry();
    fn veil_fast_entered();
    fn veil_fast_window();
    fn veil_fast_window_end();
    fn veil_enter_user(frame: *const libc::ucontext_t, app_fs: u64, selector: *mut u8) -> !;
    /// Calls `f(arg)` with the stack pointer at `top` (16-byte aligned down); never returns.
    pub fn veil_switch_stack(
        top: usize,
        f: extern "C" fn(*mut libc::c_void) -> !,
        arg: *mut libc::c_void,
    ) -> !;
}

/// Reads the full register state of a signal frame.
fn regs_from_context(uc: &libc::ucontext_t, fs_base: u64, gs_base: u64) -> UserRegs {
    let g = &uc.uc_mcontext.gregs;
    let r = |i: libc::c_int| g[i as usize] as u64;
    UserRegs {
        rax: r(libc::REG_RAX),
        rbx: r(libc::REG_RBX),
        rcx: r(libc::REG_RCX),
        rdx: r(libc::REG_RDX),
        rsi: r(libc::REG_RSI),
        rdi: r(libc::REG_RDI),
        rbp: r(libc::REG_RBP),
        rsp: r(libc::REG_RSP),
        r8: r(libc::REG_R8),
        r9: r(libc::REG_R9),
        r10: r(libc::REG_R10),
        r11: r(libc::REG_R11),
        r12: r(libc::REG_R12),
        r13: r(libc::REG_R13),
        r14: r(libc::REG_R14),
        r15: r(libc::REG_R15),
        rip: r(libc::REG_RIP),
        rflags: r(libc::REG_EFL),
        fs_base,
        gs_base,
    }
}

/// Writes `regs` back into a signal frame (the state the thread resumes with).
fn regs_to_context(regs: &UserRegs, uc: &mut libc::ucontext_t) {
    let g = &mut uc.uc_mcontext.gregs;
    let mut w = |i: libc::c_int, v: u64| g[i as usize] = v as i64;
    w(libc::REG_RAX, regs.rax);
    w(libc::REG_RBX, regs.rbx);
    w(libc::REG_RCX, regs.rcx);
    w(libc::REG_RDX, regs.rdx);
    w(libc::REG_RSI, regs.rsi);
    w(libc::REG_RDI, regs.rdi);
    w(libc::REG_RBP, regs.rbp);
    w(libc::REG_RSP, regs.rsp);
    w(libc::REG_R8, regs.r8);
    w(libc::REG_R9, regs.r9);
    w(libc::REG_R10, regs.r10);
    w(libc::REG_R11, regs.r11);
    w(libc::REG_R12, regs.r12);
    w(libc::REG_R13, regs.r13);
    w(libc::REG_R14, regs.r14);
    w(libc::REG_R15, regs.r15);
    w(libc::REG_RIP, regs.rip);
    // Only the flags user code may change (CF PF AF ZF SF TF DF OF, AC, ID).
    const USER_FLAGS: u64 = 0x0025_4dd5;
    w(libc::REG_EFL, regs.rflags & USER_FLAGS | 0x202);
}

fn write_gs_base(value: u64) {
    // SAFETY: FSGSBASE is enabled; LibOS code does not use %gs, so changing it is invisible to us.
    unsafe {
        std::arch::asm!("wrgsbase {}", in(reg) value, options(nomem, nostack, preserves_flags))
    };
}

/// Writes a message to the host's stderr and ends the address space (LibOS internal error).
fn fatal(message: &str) -> ! {
    // SAFETY: plain write of a valid buffer, then _exit; no Rust state is needed afterwards.
    unsafe {
        libc::write(2, message.as_ptr().cast(), message.len());
        libc::_exit(125)
    }
}

/// [`fatal`] with a formatted message, built without the heap (whose lock the failing code may
/// hold); a message too long for the buffer is cut.
fn fatal_fmt(args: std::fmt::Arguments) -> ! {
    struct Buffer {
        bytes: [u8; 512],
        len: usize,
    }
    impl std::fmt::Write for Buffer {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let n = s.len().min(self.bytes.len() - self.len);
            self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            Ok(())
        }
    }
    let mut buffer = Buffer {
        bytes: [0; 512],
        len: 0,
    };
    let _ = std::fmt::Write::write_fmt(&mut buffer, args);
    fatal(std::str::from_utf8(&buffer.bytes[..buffer.len]).unwrap_or("veil: internal error\n"))
}

/// The Rust half of the signal entry: decides what the trap is and hands it to the kernel.
extern "C" fn veil_signal_handler(
    sig: i32,
    info: *mut libc::siginfo_t,
    uc: *mut libc::ucontext_t,
    block: *mut ThreadBlock,
    saved_selector: u64,
) {
    // The frame and the block are reached through raw pointers only, in short accesses: the
    // kernel call below reaches them again (FP state through `current_block`).
    // SAFETY (for every dereference below): the host passes a valid siginfo and ucontext to an
    // SA_SIGINFO handler, and `block` was computed from our own alternate stack, where a
    // ThreadBlock always lives; no reference to either outlives its statement.
    // SAFETY: see above; the siginfo is only read.
    let info = unsafe { &*info };
    let from_user = saved_selector == SELECTOR_BLOCK as u64;
    // The host signal this trap passes on to the instance, if any: one that `veil` received
    // (from a process or its terminal), which the supervisor forwards to the first address
    // space as FORWARD_SIGNAL carrying its number (queued, so two never merge).
    let forwarded = if sig == FORWARD_SIGNAL {
        // SAFETY: si_pid and si_value are valid for a signal sent with sigqueue.
        let (sender, value) = unsafe { (info.si_pid(), info.si_value().sival_ptr as usize) };
        let value = i32::try_from(value).unwrap_or(0);
        if sender != SUPERVISOR.load(Relaxed) || !FORWARDED_SIGNALS.contains(&value) {
            return;
        }
        Some(value)
    } else {
        None
    };
    if (forwarded.is_some() || sig == INTERRUPT_SIGNAL) && !from_user {
        // LibOS code was interrupted (typically a blocking host call, which now fails with
        // EINTR): note a host signal for the kernel to pick up, and let that code go on.
        if let Some(host_signal) = forwarded {
            // SAFETY: see above.
            unsafe {
                (*block)
                    .deferred
                    .fetch_or(1 << (host_signal - 1), std::sync::atomic::Ordering::SeqCst)
            };
        }
        // SAFETY: see above.
        unsafe {
            (*block)
                .interrupted
                .store(1, std::sync::atomic::Ordering::SeqCst)
        };
        return;
    }
    // SAFETY: see above.
    let rip = unsafe { (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] } as usize;
    if !from_user {
        // A fault inside LibOS code: only the fault-safe user-copy routines may fault.
        if let Some(fixup) = uaccess::fixup_for(rip) {
            // SAFETY: see above.
            unsafe { (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] = fixup as i64 };
            return;
        }
        // SAFETY: si_addr is valid for the fault signals this handler is installed for.
        let addr = unsafe { info.si_addr() } as usize;
        fatal_fmt(format_args!(
            "veil: internal error: signal {sig} in LibOS code at {rip:#x} (address {addr:#x})\n"
        ));
    }
    let Some(handler) = TRAP_HANDLER.get() else {
        fatal("veil: internal error: trap before the kernel was registered\n");
    };
    // SAFETY: see above.
    let (thread_data, app_fs, gs_base) =
        unsafe { ((*block).thread_data, (*block).app_fs, (*block).app_gs) };
    // SAFETY: see above.
    let mut regs = regs_from_context(unsafe { &*uc }, app_fs, gs_base);
    // SAFETY: see above.
    unsafe { (*block).current_uc = uc };
    // SAFETY: see above.
    let resuming = unsafe { fast_resume_point(&mut *block, &mut regs, sig) };
    if resuming {
        handler.interrupt(thread_data, &mut regs, forwarded.map(|s| s as u32));
    } else if sig == libc::SIGSYS {
        if info.si_code != SYS_USER_DISPATCH {
            fatal("veil: internal error: SIGSYS not raised by Syscall User Dispatch\n");
        }
        handler.syscall(thread_data, &mut regs);
    } else if forwarded.is_some() || sig == INTERRUPT_SIGNAL {
        handler.interrupt(thread_data, &mut regs, forwarded.map(|s| s as u32));
    } else {
        // SAFETY: si_addr is valid for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGTRAP.
        let addr = unsafe { info.si_addr() } as u64;
        let code = info.si_code;
        let fault = match sig {
            libc::SIGSEGV => FaultKind::Segv { addr, code },
            libc::SIGBUS => FaultKind::Bus { addr, code },
            libc::SIGFPE => FaultKind::Fpe { addr, code },
            libc::SIGILL => FaultKind::Ill { addr, code },
            _ => FaultKind::Trap { addr, code },
        };
        handler.fault(thread_data, &mut regs, fault);
    }
    // SAFETY: `block` is this thread's own ThreadBlock (see above).
    match std::mem::take(unsafe { &mut (*block).on_return }) {
        OnReturn::Nothing => {}
        OnReturn::Fork { child, objects } => {
            if let Some(result) = fork_here(*handler, block, child, objects, &mut regs) {
                handler.forked(thread_data, &mut regs, result);
            }
        }
        OnReturn::Move { thread, carried } => {
            let asked = crate::zygote::move_to_clean_space(thread, &carried);
            // Freed before a fork: the copy shares the heap, so only one side may free it.
            drop(carried);
            let result = match asked {
                Some(result) => Some(result),
                // No zygote to ask: a copy of this address space.
                None => fork_here(*handler, block, thread, 0, &mut regs),
            };
            if let Some(result) = result {
                handler.moved(thread, &mut regs, result);
            }
        }
    }
    // SAFETY: see above.
    unsafe { (*block).put_user_state(uc, &regs) };
}

/// Records the application's `%gs` base and loads the register user code runs with: the
/// block's own address, unless the application set a base of its own (which turns the fast
/// path off for this address space).
fn set_app_gs(block: &mut ThreadBlock, app_gs: u64) {
    block.app_gs = app_gs;
    if app_gs == 0 {
        write_gs_base(block as *mut ThreadBlock as u64);
    } else {
        FAST_PATH_OFF.store(1, Relaxed);
        write_gs_base(app_gs);
    }
}

/// A trap that stands for the start or end of a fast-path syscall rather than for what the
/// thread is doing: an interrupt taken in the entry before the selector switch (the thread
/// then resumes at the site's real `syscall`), the pseudo syscall the fast path leaves with,
/// or an interrupt taken in the exit window (after the selector switch, before the jump back
/// to user code). Puts the resume point (and for the end, the syscall's final result) into
/// `regs`; true if so (the trap is then an interrupt: pending signals get acted on).
fn fast_resume_point(block: &mut ThreadBlock, regs: &mut UserRegs, sig: i32) -> bool {
    let address = |f: unsafe extern "C" fn()| f as *const () as u64;
    let entry = address(veil_fast_entry)..address(veil_fast_entered);
    if entry.contains(&regs.rip) {
        regs.rip = regs.rcx - 2;
        return true;
    }
    let window = address(veil_fast_window)..address(veil_fast_window_end);
    let pseudo = sig == libc::SIGSYS && regs.rax == RESUME_NR as u64;
    let resume = pseudo && block.resume_armed != 0;
    if !resume && !window.contains(&regs.rip) {
        return false;
    }
    if block.resume_armed != 0 {
        block.resume_armed = 0;
        regs.rax = block.resume_rax;
        regs.rip = block.resume_rip;
    } else {
        regs.rip = regs.rcx;
    }
    true
}

/// The registers a fast-path syscall saved, in the order of the entry's pushes.
#[repr(C)]
struct FastFrame {
    rax: u64,
    rbx: u64,
    rdx: u64,
    rsi: u64,
    rdi: u64,
    rbp: u64,
    r8: u64,
    r9: u64,
    r10: u64,
    r12: u64,
    r13: u64,
    r14: u64,
    r15: u64,
    /// The address after the site's `syscall` instruction; on a return value of 1 from
    /// [`veil_fast_handler`], where the thread goes instead.
    rcx: u64,
}

/// The Rust half of the fast path: hands the syscall to the kernel. Returns 0 to resume at the
/// site with `frame.rax` as the result, 1 to continue at `frame.rcx` instead (the site's real
/// `syscall` instruction, with `frame.rax` the number it traps with).
extern "C" fn veil_fast_handler(block: *mut ThreadBlock, frame: *mut FastFrame) -> u64 {
    let Some(handler) = TRAP_HANDLER.get() else {
        fatal("veil: internal error: fast syscall before the kernel was registered\n");
    };
    // For every dereference below: `block` is this thread's block (from %gs, checked by the
    // entry's FAST_PATH_OFF test) and `frame` the entry's frame on the alternate stack; no
    // reference is used across the kernel call, which reaches the block again.
    // SAFETY: see above.
    let f = unsafe { &*frame };
    // SAFETY: see above.
    let (thread_data, rsp, fs_base, gs_base) = unsafe {
        let b = &*block;
        (b.thread_data, b.fast_user_rsp, b.app_fs, b.app_gs)
    };
    let mut regs = UserRegs {
        rax: f.rax,
        rbx: f.rbx,
        rcx: f.rcx,
        rdx: f.rdx,
        rsi: f.rsi,
        rdi: f.rdi,
        rbp: f.rbp,
        rsp,
        r8: f.r8,
        r9: f.r9,
        r10: f.r10,
        r11: 0x202,
        r12: f.r12,
        r13: f.r13,
        r14: f.r14,
        r15: f.r15,
        rip: f.rcx,
        rflags: 0x202,
        fs_base,
        gs_base,
    };
    let exit = handler.fast_syscall(thread_data, &mut regs);
    // SAFETY: see above.
    let f = unsafe { &mut *frame };
    match exit {
        FastExit::Done => {
            f.rax = regs.rax;
            0
        }
        FastExit::Trap => {
            f.rcx -= 2;
            1
        }
        FastExit::Deliver => {
            // SAFETY: see above.
            unsafe {
                (*block).resume_rax = regs.rax;
                (*block).resume_rip = regs.rip;
                (*block).resume_armed = 1;
            }
            f.rax = RESUME_NR as u64;
            f.rcx -= 2;
            1
        }
    }
}

/// Where patched syscall sites enter the fast path.
pub fn fast_entry_address() -> usize {
    veil_fast_entry as *const () as usize
}

/// Held exclusively across a host fork of the address space, and shared by the host operations
/// a fork must not copy half done:
/// - LibOS code mapping user memory and recording it (`Platform::hold_mappings`): a copy then
///   never holds a mapping that no process's record has (another thread's mmap or exec half
///   done), which nothing would release and which would block fixed-address mappings there;
/// - creating a host thread (`threads`): glibc's `pthread_create` allocates from glibc's malloc,
///   whose locks the fork leaves as they are (it is glibc's `_Fork`, not `fork`);
/// - the helper moving veil's code to huge pages (`huge_text`): its scratch mappings are out of
///   forks once made, its files closed before a fork, and the code in place with its state.
static FORK_FENCE: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// The start of the one thread region that is in host forks of this address space (0: none):
/// the last forking thread's. Only one region is ever in forks (the others would pile up in
/// every later copy), and leaving the last forker's in spares a thread that forks again two
/// `madvise` calls per fork, and its copy one. Regions are never unmapped, so the range stays
/// the region. Changed under [`FORK_FENCE`]'s write lock, which regions are made under too.
static IN_FORKS: AtomicUsize = AtomicUsize::new(0);

/// Makes `region` the thread region in host forks (see [`IN_FORKS`]). The caller holds
/// [`FORK_FENCE`] for writing.
fn switch_forks_to(region: usize) -> std::io::Result<()> {
    let previous = IN_FORKS.load(Relaxed);
    if previous == region {
        return Ok(());
    }
    if let Err(e) = advise(region, REGION_SIZE, libc::MADV_DOFORK) {
        // Parts may be in already (the region is several host mappings): out again.
        let _ = advise(region, REGION_SIZE, libc::MADV_DONTFORK);
        return Err(e);
    }
    if previous != 0 {
        // A failure only costs copies of that region in later forks.
        let _ = advise(previous, REGION_SIZE, libc::MADV_DONTFORK);
    }
    IN_FORKS.store(region, Relaxed);
    Ok(())
}

/// Puts the calling thread's region into host forks of this address space (see
/// [`IN_FORKS`]), for a fork made outside a trap (the zygote's).
pub fn put_region_in_forks(block: &ThreadBlock) -> std::io::Result<()> {
    let _fenced = FORK_FENCE.write().unwrap_or_else(|e| e.into_inner());
    switch_forks_to(block.region())
}

/// Runs `f` with no host fork of this address space under way (see [`FORK_FENCE`]).
pub fn outside_forks<T>(f: impl FnOnce() -> T) -> T {
    let _fenced = FORK_FENCE.read().unwrap_or_else(|e| e.into_inner());
    f()
}

/// Copies the address space at the end of a trap (no kernel frame is on the stack any more).
/// Both sides then resume user code through the same host signal frame, so the child keeps the
/// thread's FP state; its general registers are the ones the kernel gives it (it starts as
/// kernel thread `child`). Returns, in the original only, the copy's id or why there is none.
fn fork_here(
    handler: &'static dyn TrapHandler,
    block: *mut ThreadBlock,
    child: usize,
    objects: usize,
    regs: &mut UserRegs,
) -> Option<Result<u64, veil_platform::Errno>> {
    let stack_pointer: usize;
    // SAFETY: reads the stack pointer.
    unsafe {
        std::arch::asm!("mov {}, rsp", out(reg) stack_pointer, options(nomem, nostack, preserves_flags))
    };
    let fenced = FORK_FENCE.write().unwrap_or_else(|e| e.into_inner());
    let prepared = {
        // SAFETY: `block` is this thread's own ThreadBlock (see veil_signal_handler); the
        // borrow ends with this block.
        let this = unsafe { &mut *block };
        this.copy_in_forks_from(stack_pointer)
            .and_then(|()| switch_forks_to(this.region()))
    };
    if let Err(e) = prepared {
        // Without its region (or with frames it returns through zeroed) the copy could not run.
        let errno = e.raw_os_error().unwrap_or(libc::ENOMEM);
        return Some(Err(veil_platform::Errno(errno as u16)));
    }
    // glibc's `_Fork`, not `fork`: `fork` would write to every other host thread's descriptor
    // and glibc's lock words in both processes (pages each side then copies). `_Fork` leaves
    // glibc's malloc, stdio and thread-list locks as they are, and the copy's only thread uses
    // none of them: glibc's malloc serves only `pthread_create`, which FORK_FENCE keeps out of
    // a fork; host threads end with a raw exit; LibOS code makes no host set*id call (the glibc
    // calls that walk the thread list). Kernel locks live in the shared heap: their holders
    // release them for both address spaces.
    // SAFETY: async-signal-safe fork of this process, with the invariants above.
    let forked = unsafe { _Fork() };
    drop(fenced);
    match forked {
        0 => {
            crate::heap::map_around(objects);
            threads::forget_parked();
            // SAFETY: `block` is this thread's own ThreadBlock (see veil_signal_handler).
            unsafe { (*block).thread_data = child };
            if let Err(e) = after_fork_child() {
                fatal_fmt(format_args!(
                    "veil: cannot set up a forked address space: {e}\n"
                ));
            }
            handler.thread_start(child, regs);
            None
        }
        pid if pid > 0 => {
            crate::huge_text::after_fork();
            Some(Ok(pid as u64))
        }
        _ => Some(Err(crate::host::last_errno())),
    }
}

fn raw_sigaction(sig: i32, mask: u64) -> std::io::Result<()> {
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: u64,
        restorer: usize,
        mask: u64,
    }
    const SA_RESTORER: u64 = 0x0400_0000;
    let action = KernelSigaction {
        handler: veil_signal_entry as *const () as usize,
        flags: (libc::SA_SIGINFO | libc::SA_ONSTACK) as u64 | SA_RESTORER,
        restorer: veil_restorer as *const () as usize,
        mask,
    };
    // SAFETY: rt_sigaction reads a correctly laid out kernel sigaction; old action not requested.
    let r = unsafe { libc::syscall(libc::SYS_rt_sigaction, sig, &action, 0usize, 8usize) };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The host signals that arrive asynchronously: the interrupt signal and forwarded signals.
fn async_signal_numbers() -> impl Iterator<Item = i32> {
    [INTERRUPT_SIGNAL, FORWARD_SIGNAL].into_iter()
}

/// [`async_signal_numbers`] as a host signal set.
fn async_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill a local set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in async_signal_numbers() {
            libc::sigaddset(&mut set, sig);
        }
        set
    }
}

/// Runs a blocking host call with the asynchronous host signals unblocked, so that an interrupt
/// (or a signal from outside) cuts it short with EINTR. Everywhere else LibOS code runs with
/// them blocked: one that arrives then waits until the thread is back in user code, where it is
/// taken as a trap (never in the instructions between the selector switch and `rt_sigreturn`,
/// where it could be mistaken for one that interrupted user code).
pub fn interruptible<T>(call: impl FnOnce() -> T) -> T {
    // Kernel service threads have no trap block to take a signal with: they never unblock.
    if current_block().is_none() {
        return call();
    }
    let set = async_signals();
    // SAFETY: changes the calling thread's mask and puts it back; `old` is written first.
    unsafe {
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, &mut old);
        let result = call();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        result
    }
}

/// Blocks the asynchronous host signals on the calling thread (LibOS threads outside
/// [`interruptible`] calls, and kernel service threads for good).
pub fn block_async_signals() {
    // SAFETY: adds to the calling thread's mask.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &async_signals(), std::ptr::null_mut()) };
}

/// Installs the host signal handlers of an address-space process. Every handler blocks all
/// other signals except the synchronous fault signals (a fault in a user copy must be
/// catchable); see [`interruptible`] for where the asynchronous ones get through.
pub fn install_signal_handlers() -> std::io::Result<()> {
    let faults = [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGILL,
        libc::SIGTRAP,
    ];
    let bit = |s: i32| 1u64 << (s - 1);
    let fault_bits = faults.iter().fold(0u64, |m, &s| m | bit(s));
    raw_sigaction(libc::SIGSYS, !fault_bits)?;
    for sig in faults {
        raw_sigaction(sig, !fault_bits | bit(sig))?;
    }
    for sig in async_signal_numbers() {
        raw_sigaction(sig, !fault_bits)?;
    }
    // Host writes to a closed pipe must fail with EPIPE, not kill the address space. The
    // signals `veil` forwards are ignored here: a terminal sends them to the whole process
    // group, and the supervisor passes on its own copy (so forked address spaces, which
    // inherit this, need no set-up of their own).
    for sig in FORWARDED_SIGNALS.into_iter().chain([libc::SIGPIPE]) {
        // SAFETY: setting a standard disposition.
        unsafe { libc::signal(sig, libc::SIG_IGN) };
    }
    Ok(())
}

/// Sets up the trap path for the calling host thread: alternate stack region with its
/// [`ThreadBlock`], and Syscall User Dispatch armed (selector ALLOW until user code runs).
/// The region is left out of host forks until the thread forks (see [`IN_FORKS`]).
pub fn init_thread(thread_data: usize) -> std::io::Result<&'static mut ThreadBlock> {
    // Our callers' frames lie above this one: below it the host stack is free once the LibOS
    // thread ended (with room for a red zone).
    let marker = 0u8;
    let park_stack_top = (std::ptr::addr_of!(marker) as usize & !15) - 256;
    // Out of forks as soon as it exists: a fork meanwhile would copy it for good.
    let base = outside_forks(|| -> std::io::Result<usize> {
        let base = crate::host::map_aligned(REGION_SIZE)?;
        if let Err(e) = advise(base, REGION_SIZE, libc::MADV_DONTFORK) {
            // SAFETY: the fresh mapping, which nothing else uses.
            unsafe { libc::munmap(base as *mut libc::c_void, REGION_SIZE) };
            return Err(e);
        }
        Ok(base)
    })?;
    // SAFETY: the page below the stack, in the fresh mapping, becomes a guard.
    unsafe { libc::mprotect((base + PAGE) as *mut libc::c_void, PAGE, libc::PROT_NONE) };
    let stack_base = base + STACK_OFFSET;
    let stack_size = REGION_SIZE - STACK_OFFSET - BLOCK_RESERVE;
    let block_ptr = (base + REGION_SIZE - BLOCK_RESERVE) as *mut ThreadBlock;
    let host_fs: u64;
    // SAFETY: FSGSBASE is enabled; reading this thread's %fs base.
    unsafe { std::arch::asm!("rdfsbase {}", out(reg) host_fs, options(nomem, nostack)) };
    // SAFETY: the block page is inside our fresh, writable mapping and lives as long as the thread.
    let block = unsafe {
        block_ptr.write(ThreadBlock {
            selector: SELECTOR_ALLOW,
            _pad: [0; 7],
            app_fs: 0,
            host_fs,
            fast_user_rsp: 0,
            interrupted: std::sync::atomic::AtomicU64::new(0),
            resume_rax: 0,
            resume_rip: 0,
            resume_armed: 0,
            app_gs: 0,
            thread_data,
            stack_base,
            stack_size,
            current_uc: std::ptr::null_mut(),
            deferred: std::sync::atomic::AtomicU64::new(0),
            park_stack_top,
            next_parked: std::ptr::null_mut(),
            on_return: OnReturn::Nothing,
            wiped_in_forks_below: 0,
            hand_over: HandOver {
                ready: AtomicU32::new(0),
                regs: UnsafeCell::new(UserRegs::default()),
                thread_data: AtomicUsize::new(0),
                // The block is made on its own host thread.
                tid: AtomicI32::new(libc::gettid()),
                pinned: AtomicBool::new(false),
            },
        });
        &mut *block_ptr
    };
    let ss = libc::stack_t {
        ss_sp: stack_base as *mut libc::c_void,
        ss_flags: 0,
        ss_size: stack_size,
    };
    // SAFETY: the stack memory is valid for this thread's lifetime.
    if unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    arm_dispatch(block)?;
    CURRENT_BLOCK.with(|c| c.set(block_ptr));
    // LibOS code runs with the asynchronous signals blocked (entering user code unblocks them).
    block_async_signals();
    Ok(block)
}

/// Fork advice (`MADV_*FORK`) on `len` bytes of a thread's region at `start`.
fn advise(start: usize, len: usize, advice: i32) -> std::io::Result<()> {
    // SAFETY: fork advice changes no contents; `len` 0 is a no-op.
    if len > 0 && unsafe { libc::madvise(start as *mut libc::c_void, len, advice) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Arms Syscall User Dispatch for the calling thread with `block`'s selector byte.
fn arm_dispatch(block: &mut ThreadBlock) -> std::io::Result<()> {
    let start = veil_restorer as *const () as usize;
    let len = veil_restorer_end as *const () as usize - start;
    // SAFETY: arming SUD with a selector byte that lives as long as the thread.
    let r = unsafe {
        libc::prctl(
            veil_abi::prctl::PR_SET_SYSCALL_USER_DISPATCH as i32,
            veil_abi::prctl::PR_SYS_DISPATCH_ON as usize,
            start,
            len,
            &mut block.selector as *mut u8,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Sets up the trap path of the only thread of a freshly forked address space: Syscall User
/// Dispatch does not survive a host fork. (Forwarded signals only ever reach the first
/// address space, from the supervisor.)
pub fn after_fork_child() -> std::io::Result<()> {
    crate::zygote::forget_clean();
    crate::huge_text::after_fork_child();
    let Some(block) = current_block() else {
        return Err(std::io::Error::other("fork outside a LibOS thread"));
    };
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    block.hand_over.tid.store(tid, Relaxed);
    // The copy's only thread leads its host process.
    PROCESS_ID.store(tid, Relaxed);
    arm_dispatch(block)
}

/// `fx_sw_bytes.magic1`: the frame's FP area is an `xsave` image with an extended size.
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// Offset of the software-reserved bytes in the legacy `fxsave` area.
const FX_SW_OFFSET: usize = 464;
const FXSAVE_SIZE: usize = 512;

impl ThreadBlock {
    /// The FP area of the trap frame being handled, as a byte slice.
    fn fp_area(&mut self) -> Option<&mut [u8]> {
        if self.current_uc.is_null() {
            return None;
        }
        // SAFETY: current_uc points at the live host signal frame of this thread's trap (set
        // for the duration of the kernel call); fpregs points into that frame.
        let fp = unsafe { (*self.current_uc).uc_mcontext.fpregs } as *mut u8;
        if fp.is_null() {
            return None;
        }
        // SAFETY: the host wrote at least the 512-byte fxsave image there.
        let header = unsafe { std::slice::from_raw_parts(fp.add(FX_SW_OFFSET), 8) };
        let magic = u32::from_ne_bytes(header[0..4].try_into().expect("4 bytes"));
        let extended = u32::from_ne_bytes(header[4..8].try_into().expect("4 bytes")) as usize;
        let len = if magic == FP_XSTATE_MAGIC1 {
            extended.clamp(FXSAVE_SIZE, 1 << 16)
        } else {
            FXSAVE_SIZE
        };
        // SAFETY: the host's frame holds `extended_size` bytes of FP state when magic1 is set.
        Some(unsafe { std::slice::from_raw_parts_mut(fp, len) })
    }

    /// A copy of the trapped context's FP state.
    pub fn fp_state(&mut self) -> Vec<u8> {
        self.fp_area().map(|a| a.to_vec()).unwrap_or_default()
    }

    /// Replaces the trapped context's FP state with a well-formed image of the same layout.
    pub fn set_fp_state(&mut self, data: &[u8]) -> Result<(), veil_platform::Errno> {
        let area = self.fp_area().ok_or(veil_platform::Errno::EFAULT)?;
        // The software-reserved header (layout and size) must be the host's own.
        let header = FX_SW_OFFSET..FX_SW_OFFSET + 16;
        if data.len() != area.len() || data[header.clone()] != area[header] {
            return Err(veil_platform::Errno::EFAULT);
        }
        // MXCSR reserved bits set would make the host's restore fault (Linux checks them too).
        let mxcsr = u32::from_ne_bytes(data[24..28].try_into().expect("4 bytes"));
        if mxcsr & 0xffff_0000 != 0 {
            return Err(veil_platform::Errno::EFAULT);
        }
        area.copy_from_slice(data);
        Ok(())
    }

    /// Gives the pages of the alternate stack back to the host (a parked thread's: it runs on
    /// its host stack, and the next trap touches them afresh), all but the top one, which
    /// holds this block.
    pub fn release_alternate_stack_pages(&self) {
        let below_block = (self.stack_base + self.stack_size) & !(PAGE - 1);
        // SAFETY: discarding the contents of this thread's own alternate stack, unused while it
        // is parked; the mapping stays.
        unsafe {
            libc::madvise(
                self.stack_base as *mut libc::c_void,
                below_block - self.stack_base,
                libc::MADV_DONTNEED,
            )
        };
    }

    /// Where the thread's host stack is free once its LibOS thread ended.
    pub fn park_stack_top(&self) -> usize {
        self.park_stack_top
    }

    /// Says what happens to the address space at the end of this thread's current trap.
    pub fn on_return(&mut self, what: OnReturn) {
        self.on_return = what;
    }

    /// Forgets the state of the trap the LibOS thread ended in (its frame is abandoned), so
    /// that the next LibOS thread on this host thread starts as on a new one.
    pub fn forget_trap(&mut self) {
        self.current_uc = std::ptr::null_mut();
        self.on_return = OnReturn::Nothing;
        self.deferred.store(0, Relaxed);
        self.resume_armed = 0;
    }

    /// Start of the region `init_thread` mapped for this thread.
    fn region(&self) -> usize {
        self.stack_base - STACK_OFFSET
    }

    /// Prepares the thread's region for a host fork made with the stack pointer at
    /// `stack_pointer` (`fork_here` puts the region into it): the copy's thread returns through
    /// the frames at and above it, so those pages are copied; the ones below (and the fast
    /// path's save area, unused in a trap) come out zeroed (`MADV_WIPEONFORK`), for it only
    /// writes new frames there. Neither side then takes copy-on-write faults there (the fork
    /// leaves those pages of the original writable): only on the top page, which holds the
    /// block and the trap's first frames.
    pub(crate) fn copy_in_forks_from(&mut self, stack_pointer: usize) -> std::io::Result<()> {
        let region = self.region();
        let wiped_below = ((stack_pointer - FORK_CALL_ROOM) & !(PAGE - 1)).max(self.stack_base);
        if wiped_below != self.wiped_in_forks_below {
            // Unknown until both calls succeed (one may fail splitting a mapping: ENOMEM).
            self.wiped_in_forks_below = 0;
            let top = region + REGION_SIZE;
            advise(region, wiped_below - region, libc::MADV_WIPEONFORK)?;
            advise(wiped_below, top - wiped_below, libc::MADV_KEEPONFORK)?;
            self.wiped_in_forks_below = wiped_below;
        }
        Ok(())
    }

    /// Hands a new LibOS thread to this block's parked host thread and wakes it; with
    /// `beside_caller`, on the caller's CPU (see `Platform::spawn_thread`).
    ///
    /// # Safety
    /// The block's thread is parked (waiting in [`ThreadBlock::wait_for_hand_over`]) and
    /// nobody else hands it a thread.
    pub unsafe fn hand_over(&self, regs: UserRegs, thread_data: usize, beside_caller: bool) {
        // SAFETY: the parked thread reads `regs` only after seeing `ready` set below.
        unsafe { *self.hand_over.regs.get() = regs };
        self.hand_over.thread_data.store(thread_data, Relaxed);
        if beside_caller {
            let pinned = crate::threads::pin(
                self.hand_over.tid.load(Relaxed),
                crate::threads::current_cpu(),
            );
            self.hand_over.pinned.store(pinned, Relaxed);
        }
        self.hand_over
            .ready
            .store(1, std::sync::atomic::Ordering::Release);
        futex::wake(&self.hand_over.ready, 1);
    }

    /// Waits (parked) until a new LibOS thread is handed over: its registers and kernel value.
    pub fn wait_for_hand_over(&self) -> (UserRegs, usize) {
        while self
            .hand_over
            .ready
            .swap(0, std::sync::atomic::Ordering::Acquire)
            == 0
        {
            let _ = futex::wait(&self.hand_over.ready, 0, None);
        }
        // SAFETY: `ready` was set after `regs` was written, and nobody writes it again until
        // this thread parks anew.
        let regs = unsafe { *self.hand_over.regs.get() };
        if self.hand_over.pinned.swap(false, Relaxed) {
            crate::threads::unpin();
        }
        (regs, self.hand_over.thread_data.load(Relaxed))
    }

    /// Starts user code with `regs` on this thread (which must be the block's own thread).
    pub fn enter_user(&mut self, regs: &UserRegs) -> ! {
        // SAFETY: ucontext_t is plain data; all-zero is a valid (empty) value.
        let mut uc: libc::ucontext_t = unsafe { std::mem::zeroed() };
        regs_to_context(regs, &mut uc);
        uc.uc_mcontext.gregs[libc::REG_EFL as usize] = (regs.rflags & 0x0025_4dd5 | 0x202) as i64;
        // cs = user code segment, ss = user data segment; fs/gs selectors 0.
        uc.uc_mcontext.gregs[libc::REG_CSGSFS as usize] = (0x33u64 | (0x2bu64 << 48)) as i64;
        uc.uc_stack = libc::stack_t {
            ss_sp: self.stack_base as *mut libc::c_void,
            ss_flags: 0,
            ss_size: self.stack_size,
        };
        set_app_gs(self, regs.gs_base);
        self.app_fs = regs.fs_base;
        // The frame is read by `rt_sigreturn` before anything else uses this host stack again.
        let frame = &uc as *const libc::ucontext_t;
        // SAFETY: `frame` is a complete ucontext for rt_sigreturn, the selector belongs to this
        // thread, and control never returns here.
        unsafe { veil_enter_user(frame, regs.fs_base, &mut self.selector) }
    }

    /// Ends the current trap at once: user code resumes with `regs` through the trap's own
    /// signal frame (whose FP state stays), and the trap's frames on the alternate stack are
    /// abandoned.
    pub fn leave_trap(&mut self, regs: &UserRegs) -> ! {
        let uc = self.current_uc;
        if uc.is_null() {
            fatal("veil: internal error: leaving a trap that has no signal frame\n");
        }
        self.on_return = OnReturn::Nothing;
        // SAFETY: `uc` is the current trap's signal frame on this thread's alternate stack,
        // above every frame of the trap's handler (which are abandoned here).
        unsafe { self.put_user_state(uc, regs) };
        // SAFETY: `uc` is a complete frame made by the host for this trap; rt_sigreturn reads
        // it before anything else uses the alternate stack, and control never returns here.
        unsafe { veil_enter_user(uc, regs.fs_base, &mut self.selector) }
    }

    /// Ends the current trap's use of its signal frame `uc`: user code resumes from it with
    /// `regs`, and this block records the application's `%fs` and `%gs` bases.
    ///
    /// # Safety
    /// `uc` is the current trap's host signal frame.
    unsafe fn put_user_state(&mut self, uc: *mut libc::ucontext_t, regs: &UserRegs) {
        self.current_uc = std::ptr::null_mut();
        // SAFETY: the caller's promise; no other reference to the frame is live.
        unsafe { regs_to_context(regs, &mut *uc) };
        self.app_fs = regs.fs_base;
        if regs.gs_base != self.app_gs {
            set_app_gs(self, regs.gs_base);
        }
    }

    /// Takes the forwarded host signals noted while LibOS code ran.
    pub fn take_deferred(&self) -> u64 {
        self.deferred.swap(0, std::sync::atomic::Ordering::SeqCst)
    }

    /// The kernel's per-thread value.
    pub fn thread_data(&self) -> usize {
        self.thread_data
    }

    /// Sets the kernel's per-thread value.
    pub fn set_thread_data(&mut self, data: usize) {
        self.thread_data = data;
    }
}

/// The calling host thread as (process id << 32 | thread id): what [`interrupt`] takes.
pub fn current_host_thread() -> u64 {
    let tid = match current_block() {
        Some(block) => block.hand_over.tid.load(Relaxed),
        // SAFETY: gettid has no preconditions.
        None => unsafe { libc::gettid() },
    };
    (process_id() as u32 as u64) << 32 | tid as u32 as u64
}

/// This address-space process's host pid (0 until first asked; set anew in a forked child).
static PROCESS_ID: AtomicI32 = AtomicI32::new(0);

/// The host pid of this address-space process.
pub fn process_id() -> i32 {
    match PROCESS_ID.load(Relaxed) {
        0 => {
            // SAFETY: getpid has no preconditions.
            let pid = unsafe { libc::getpid() };
            PROCESS_ID.store(pid, Relaxed);
            pid
        }
        pid => pid,
    }
}

/// Sends the interrupt signal to a host thread of any address-space process of the instance.
pub fn interrupt(host_thread: u64) {
    let (pid, tid) = ((host_thread >> 32) as i32, host_thread as u32 as i32);
    if pid > 0 && tid > 0 {
        // SAFETY: tgkill only sends a signal; it fails if `tid` is no longer a thread of `pid`.
        unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, INTERRUPT_SIGNAL) };
    }
}

thread_local! {
    /// This host thread's [`ThreadBlock`] (LibOS code runs with the host's own `%fs`, so host
    /// thread-locals are usable on the trap path).
    static CURRENT_BLOCK: std::cell::Cell<*mut ThreadBlock> = const { std::cell::Cell::new(std::ptr::null_mut()) };
}

/// The [`ThreadBlock`] of the calling thread, once [`init_thread`] ran on it.
pub fn current_block() -> Option<&'static mut ThreadBlock> {
    let ptr = CURRENT_BLOCK.with(|c| c.get());
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the pointer was set by init_thread on this thread and the block lives as long as
    // the thread; LibOS code on one thread never holds two references to it at once.
    Some(unsafe { &mut *ptr })
}
