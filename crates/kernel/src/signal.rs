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

const SIG_IGN: usize = 1;

/// Sends `sig` to the calling thread. Until handler delivery exists: a blocked signal stays
/// pending (and acts when unblocked), an ignored one is dropped, a default action runs (terminate,
/// or ignore), and a signal with a handler fails with ENOSYS and a log line.
pub fn send_to_current(sig: u32) -> crate::error::Result<u64> {
    use crate::error::Error;
    use core::sync::atomic::Ordering;
    use veil_abi::Errno;
    if sig == 0 {
        return Ok(0);
    }
    let thread = crate::process::current_thread();
    let bit = 1u64 << (sig - 1);
    let handler = thread.process.signals.lock()[sig as usize - 1]
        .sa_handler_kernel
        .map(|f| f as usize);
    let unstoppable = sig == g::SIGKILL || sig == g::SIGSTOP;
    if !unstoppable && thread.sigmask.load(Ordering::Relaxed) & bit != 0 {
        thread.pending.fetch_or(bit, Ordering::Relaxed);
        return Ok(0);
    }
    match handler {
        Some(SIG_IGN) if !unstoppable => Ok(0),
        None | Some(SIG_IGN) => {
            if ignored_by_default(sig) {
                return Ok(0);
            }
            if matches!(sig, g::SIGSTOP | g::SIGTSTP | g::SIGTTIN | g::SIGTTOU) {
                return Err(Error::unsupported(Errno::ENOSYS, "stopping a process"));
            }
            terminate_by_signal(sig, "")
        }
        Some(_) => Err(Error::unsupported(
            Errno::ENOSYS,
            "delivering a signal to a handler",
        )),
    }
}

/// After the calling thread's mask changed: pending signals that are now unblocked act.
pub fn deliver_unblocked() {
    use core::sync::atomic::Ordering;
    let thread = crate::process::current_thread();
    let ready = thread.pending.load(Ordering::Relaxed) & !thread.sigmask.load(Ordering::Relaxed);
    for sig in 1..=64u32 {
        if ready & (1 << (sig - 1)) != 0 {
            thread
                .pending
                .fetch_and(!(1 << (sig - 1)), Ordering::Relaxed);
            let _ = send_to_current(sig);
        }
    }
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
