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

/// Whether `sig`'s default action is "core": the program crashed (Linux would dump core).
fn dumps_core(sig: u32) -> bool {
    matches!(
        sig,
        g::SIGQUIT
            | g::SIGILL
            | g::SIGTRAP
            | g::SIGABRT
            | g::SIGBUS
            | g::SIGFPE
            | g::SIGSEGV
            | g::SIGSYS
            | g::SIGXCPU
            | g::SIGXFSZ
    )
}

/// Ends the calling process because of signal `sig` (default action "terminate" or "core").
/// A crash is reported on the instance's log (with `detail`, Veil's reason if it raised the
/// signal itself); a process that was merely told to end (SIGTERM, SIGKILL, SIGPIPE, ...)
/// ends quietly, as on Linux.
pub fn terminate_by_signal(sig: u32, detail: &str) -> Ending {
    let process = current_process();
    if dumps_core(sig) || !detail.is_empty() {
        let exe = process.exec.lock().exe.clone();
        let line = format!(
            "veil: {exe} (pid {}) killed by {}{detail}\n",
            process.pid,
            name(sig)
        );
        kernel().platform.log_write(line.as_bytes());
    }
    crate::process::exit_process(crate::process::Exit::Signal(sig))
}

pub mod frame;
pub mod stop;

use crate::process::{Ending, Thread};
use core::sync::atomic::Ordering;

/// `sa_handler` values.
const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;
/// `si_code` values.
pub const SI_USER: i32 = 0;
pub const SI_TKILL: i32 = -6;
pub const SI_KERNEL: i32 = 0x80;

/// What a pending signal carries into the handler's `siginfo_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: u32,
    pub code: i32,
    /// The first union words: (si_pid | si_uid << 32) for kill-type signals, si_addr for faults.
    pub fields: [u64; 2],
}

impl SigInfo {
    /// A signal sent by a process (kill, tkill, tgkill).
    pub fn from_process(signo: u32, code: i32, pid: i32) -> SigInfo {
        let uid = crate::process::identity::UID as u64;
        SigInfo {
            signo,
            code,
            fields: [pid as u32 as u64 | uid << 32, 0],
        }
    }

    /// The 128-byte `siginfo_t`.
    pub fn to_bytes(&self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&(self.signo as i32).to_ne_bytes());
        b[8..12].copy_from_slice(&self.code.to_ne_bytes());
        b[16..24].copy_from_slice(&self.fields[0].to_ne_bytes());
        b[24..32].copy_from_slice(&self.fields[1].to_ne_bytes());
        b
    }
}

fn bit(sig: u32) -> u64 {
    1u64 << (sig - 1)
}

/// The handler of `sig` in `thread`'s process (SIG_DFL = 0, SIG_IGN = 1, or an address).
fn handler_of(thread: &Thread, sig: u32) -> usize {
    let action = thread.process.signals.lock()[sig as usize - 1];
    action.sa_handler_kernel.map_or(SIG_DFL, |f| f as usize)
}

/// Queues `info` for `thread` and makes sure it notices. Signals that would be ignored are
/// dropped at once (as Linux does); a standard signal already pending is not queued twice.
/// Delivery happens when the thread next returns to user code ([`deliver_pending`]).
pub fn send_to_thread(thread: &Thread, info: SigInfo) {
    let sig = info.signo;
    if sig == 0 {
        return;
    }
    stop::on_send(&thread.process, sig);
    let blocked = thread.sigmask.load(Ordering::Relaxed) & bit(sig) != 0;
    let handler = handler_of(thread, sig);
    let ignored = handler == SIG_IGN || handler == SIG_DFL && ignored_by_default(sig);
    if ignored && !blocked && sig != g::SIGKILL {
        return;
    }
    {
        let mut queue = thread.queued.lock();
        let standard = sig < 32;
        if standard && thread.pending.load(Ordering::Relaxed) & bit(sig) != 0 {
            return;
        }
        queue.push(info);
        thread.pending.fetch_or(bit(sig), Ordering::Relaxed);
    }
    // signalfd readers (and poll/epoll on them) wait for this.
    kernel().readiness.notify();
    let current = crate::process::current_thread_opt().map(|t| t.tid);
    if !blocked && current != Some(thread.tid) {
        thread.interrupt();
    }
}

/// Sends a process-directed signal: to the calling thread if it is in `process` and does not
/// block it, else to the first thread that does not block it, else to the main thread.
pub fn send_to_process(process: &crate::process::Process, info: SigInfo) {
    if info.signo == 0 {
        return;
    }
    let unblocked = |t: &Thread| t.sigmask.load(Ordering::Relaxed) & bit(info.signo) == 0;
    if let Some(current) = crate::process::current_thread_opt()
        && current.process.pid == process.pid
        && unblocked(&current)
    {
        return send_to_thread(&current, info);
    }
    let target = crate::process::find_thread(process, unblocked)
        .or_else(|| crate::process::find_thread(process, |_| true));
    if let Some(target) = target {
        send_to_thread(&target, info);
    }
}

/// Queues `info` for the calling thread (see [`send_to_thread`]).
pub fn send_to_current(info: SigInfo) -> crate::error::Result<u64> {
    send_to_thread(&crate::process::current_thread(), info);
    Ok(0)
}

/// Turns host signals that reached this thread while it ran LibOS code into instance signals
/// for its process (SIGINT from a terminal, SIGTERM to `veil`, ...).
pub fn collect_host_signals() {
    let bits = kernel().platform.take_host_signals();
    if bits == 0 {
        return;
    }
    for sig in 1..=64u32 {
        if bits & bit(sig) != 0 {
            send_host_signal(sig);
        }
    }
}

/// A host signal for the instance (a terminal's Ctrl-C, `kill` of `veil`) goes to the
/// foreground process group: the first process's group, as a terminal would signal it.
pub fn send_host_signal(sig: u32) {
    let k = kernel();
    let group = k
        .processes
        .lock()
        .get(&1)
        .map(|init| init.pgid.load(Ordering::Relaxed));
    let targets = crate::process::all_processes().into_iter().filter(|p| {
        Some(p.pgid.load(Ordering::Relaxed)) == group && p.exit_status.lock().is_none()
    });
    for p in targets {
        send_to_process(&p, SigInfo::from_process(sig, SI_KERNEL, 0));
    }
}

/// Whether the calling thread has a signal to act on (its blocking call must end).
pub fn interrupted() -> bool {
    thread_interrupted(&crate::process::current_thread())
}

/// [`interrupted`] for `thread`, the calling thread.
pub fn thread_interrupted(thread: &Thread) -> bool {
    collect_host_signals();
    if thread.process.exiting.load(Ordering::SeqCst) || thread.doomed.load(Ordering::SeqCst) {
        return true;
    }
    thread.pending.load(Ordering::Relaxed) & !thread.sigmask.load(Ordering::Relaxed) != 0
}

/// How an interrupted syscall ends: restarted (transparently, or after the handler returns) or
/// failed with EINTR, depending on the signal about to be delivered.
pub fn restarts(errno: veil_abi::Errno) -> bool {
    let thread = crate::process::current_thread();
    let ready = thread.pending.load(Ordering::Relaxed) & !thread.sigmask.load(Ordering::Relaxed);
    if ready == 0 {
        return true;
    }
    let sig = ready.trailing_zeros() + 1;
    let handler = handler_of(&thread, sig);
    if handler == SIG_DFL || handler == SIG_IGN {
        return true;
    }
    let flags = thread.process.signals.lock()[sig as usize - 1].sa_flags as u32;
    errno == veil_abi::Errno::ERESTARTSYS && flags & g::SA_RESTART != 0
}

/// Takes the lowest pending signal in `mask` off the calling thread's queue (signalfd).
pub fn dequeue_from(thread: &Thread, mask: u64) -> Option<SigInfo> {
    let ready = thread.pending.load(Ordering::Relaxed) & mask;
    (ready != 0).then(|| dequeue(thread, ready.trailing_zeros() + 1))
}

/// Takes the first queued instance of `sig` off the thread's queue.
fn dequeue(thread: &Thread, sig: u32) -> SigInfo {
    let mut queue = thread.queued.lock();
    let info = match queue.iter().position(|i| i.signo == sig) {
        Some(i) => queue.remove(i),
        None => SigInfo::from_process(sig, SI_USER, 0),
    };
    if !queue.iter().any(|i| i.signo == sig) {
        thread.pending.fetch_and(!bit(sig), Ordering::Relaxed);
    }
    info
}

/// Acts on the calling thread's unblocked pending signals before it returns to user code:
/// ignored ones are dropped, default actions run, and the first signal with a handler gets a
/// frame (`regs` then resume in the handler). `Err`: a default action ended the process.
pub fn deliver_pending(regs: &mut UserRegs, thread: &Thread) -> Result<(), Ending> {
    loop {
        stop::wait_while_stopped(thread);
        // Read before the signal is taken: a SIGCONT sent after that voids a stop signal.
        let continues = thread.process.continues.load(Ordering::SeqCst);
        let ready =
            thread.pending.load(Ordering::Relaxed) & !thread.sigmask.load(Ordering::Relaxed);
        if ready == 0 {
            // No handler ran: a temporary sigsuspend mask ends here.
            if let Some(mask) = thread.saved_sigmask.lock().take() {
                thread.sigmask.store(mask, Ordering::Relaxed);
            }
            return Ok(());
        }
        let sig = ready.trailing_zeros() + 1;
        let info = dequeue(thread, sig);
        match handler_of(thread, sig) {
            SIG_IGN => continue,
            SIG_DFL if ignored_by_default(sig) => continue,
            SIG_DFL if stop::is_stop_signal(sig) => stop::stop(thread, sig, continues),
            SIG_DFL => return Err(terminate_by_signal(sig, "")),
            _ => {
                if frame::setup(regs, thread, &info).is_err() {
                    return Err(terminate_by_signal(
                        g::SIGSEGV,
                        ": cannot write a signal frame",
                    ));
                }
                return Ok(());
            }
        }
    }
}

/// A write hit a pipe or socket with no reader: SIGPIPE (which, by default, ends the process).
pub fn raise_sigpipe() {
    let pid = current_process().pid;
    let _ = send_to_current(SigInfo::from_process(g::SIGPIPE, SI_USER, pid));
}

/// A hardware fault in user code: delivered to the program's handler when it has one that is
/// neither blocked nor ignored; otherwise (as Linux forces it) the default action (`Err`: the
/// process ended). `thread` is the calling thread.
pub fn fault(regs: &mut UserRegs, thread: &Thread, fault: FaultKind) -> Result<(), Ending> {
    let (addr, code, what) = match fault {
        FaultKind::Segv { addr, code } => (addr, code, "invalid memory access"),
        FaultKind::Bus { addr, code } => (addr, code, "bus error"),
        FaultKind::Fpe { addr, code } => (addr, code, "arithmetic fault"),
        FaultKind::Ill { addr, code } => (addr, code, "illegal instruction"),
        FaultKind::Trap { addr, code } => (addr, code, "breakpoint"),
    };
    let sig = fault.signal();
    if matches!(fault, FaultKind::Trap { .. })
        && crate::mm::patch::resolve_breakpoint(&thread.process, regs.rip.wrapping_sub(1))
    {
        // The int3 of a syscall site being patched: run the site again, now patched.
        regs.rip -= 1;
        return Ok(());
    }
    if let FaultKind::Segv { addr, .. } = fault
        && crate::mm::grow::grow_down(&thread.process, addr as usize)
    {
        // A MAP_GROWSDOWN mapping now covers the access: run it again.
        return Ok(());
    }
    let handler = handler_of(thread, sig);
    let blocked = thread.sigmask.load(Ordering::Relaxed) & bit(sig) != 0;
    if handler != SIG_DFL && handler != SIG_IGN && !blocked {
        let info = SigInfo {
            signo: sig,
            code,
            fields: [addr, 0],
        };
        if frame::setup(regs, thread, &info).is_ok() {
            return Ok(());
        }
    }
    let detail = format!(
        ": {what} at address {addr:#x} (instruction {:#x})",
        regs.rip
    );
    Err(terminate_by_signal(sig, &detail))
}
