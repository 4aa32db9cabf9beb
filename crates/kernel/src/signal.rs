//! Signals. This milestone records dispositions and masks (`rt_sigaction`, `rt_sigprocmask`) and
//! applies default actions to faults; delivery to user handlers comes with the processes and
//! signals work.

use crate::process::current_process;
use crate::root::kernel;
use alloc::format;
use alloc::string::String;
use veil_abi::general as g;
use veil_platform::{FaultKind, UserRegs};

/// The conventional name of a signal ("SIGSEGV").
pub fn name(sig: u32) -> String {
    let known = match sig {
        g::SIGHUP => "SIGHUP",
        g::SIGINT => "SIGINT",
        g::SIGQUIT => "SIGQUIT",
        g::SIGILL => "SIGILL",
        g::SIGTRAP => "SIGTRAP",
        g::SIGABRT => "SIGABRT",
        g::SIGBUS => "SIGBUS",
        g::SIGFPE => "SIGFPE",
        g::SIGKILL => "SIGKILL",
        g::SIGUSR1 => "SIGUSR1",
        g::SIGSEGV => "SIGSEGV",
        g::SIGUSR2 => "SIGUSR2",
        g::SIGPIPE => "SIGPIPE",
        g::SIGALRM => "SIGALRM",
        g::SIGTERM => "SIGTERM",
        g::SIGCHLD => "SIGCHLD",
        g::SIGCONT => "SIGCONT",
        g::SIGSTOP => "SIGSTOP",
        g::SIGTSTP => "SIGTSTP",
        g::SIGSYS => "SIGSYS",
        _ => return format!("signal {sig}"),
    };
    String::from(known)
}

/// Whether `sig`'s default action is to ignore it.
pub fn ignored_by_default(sig: u32) -> bool {
    matches!(sig, g::SIGCHLD | g::SIGURG | g::SIGWINCH | g::SIGCONT)
}

/// Ends the calling process because of signal `sig` (default action "terminate" or "core").
pub fn terminate_by_signal(sig: u32, detail: &str) -> ! {
    let process = current_process();
    let exe = process.exec.lock().exe.clone();
    let line = format!(
        "veil: {exe} (pid {}) killed by {}{detail}\n",
        process.pid,
        name(sig)
    );
    kernel().platform.log_write(line.as_bytes());
    crate::process::exit_process(128 + sig as i32)
}

/// A write hit a pipe or socket with no reader: SIGPIPE's default action ends the process unless
/// the program ignores or blocks it (then the write just fails with EPIPE).
pub fn raise_sigpipe() {
    let thread = crate::process::current_thread();
    let blocked =
        thread.sigmask.load(core::sync::atomic::Ordering::Relaxed) & (1 << (g::SIGPIPE - 1)) != 0;
    // SIG_DFL is a null handler.
    let is_default = thread.process.signals.lock()[g::SIGPIPE as usize - 1]
        .sa_handler_kernel
        .is_none();
    if !blocked && is_default {
        crate::process::exit_process(128 + g::SIGPIPE as i32);
    }
}

/// A hardware fault in user code. Without handler delivery, every fault takes its default action.
pub fn fault(regs: &mut UserRegs, fault: FaultKind) {
    let (addr, what) = match fault {
        FaultKind::Segv { addr, .. } => (addr, "invalid memory access"),
        FaultKind::Bus { addr, .. } => (addr, "bus error"),
        FaultKind::Fpe { addr, .. } => (addr, "arithmetic fault"),
        FaultKind::Ill { addr, .. } => (addr, "illegal instruction"),
        FaultKind::Trap { addr, .. } => (addr, "breakpoint"),
    };
    let detail = format!(
        ": {what} at address {addr:#x} (instruction {:#x})",
        regs.rip
    );
    terminate_by_signal(fault.signal(), &detail)
}
