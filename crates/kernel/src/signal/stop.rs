//! Job control: stopping a process (the default action of SIGSTOP, SIGTSTP, SIGTTIN and
//! SIGTTOU) and continuing it (SIGCONT, or SIGKILL to end it). A stopped process's threads sleep
//! in the kernel before returning to user code; its parent learns of each change through
//! SIGCHLD (unless SA_NOCLDSTOP) and `wait` with WUNTRACED / WCONTINUED.
//!
//! Lock order: `Process::job_event` (held while the parent is told) before the process and
//! thread tables, the parent's signal actions, thread list and threads' queues. A process's
//! `exit_status` comes before its parent's `job_event` (an exit signal may be SIGCONT).

use super::{SigInfo, Thread, bit};
use crate::process::{JobEvent, Process, threads_of};
use crate::root::kernel;
use core::sync::atomic::Ordering;
use veil_abi::general as g;

/// `si_code` values of SIGCHLD for stops and continues.
const CLD_STOPPED: i32 = 5;
const CLD_CONTINUED: i32 = 6;

/// The signals whose default action stops the process.
pub fn is_stop_signal(sig: u32) -> bool {
    matches!(sig, g::SIGSTOP | g::SIGTSTP | g::SIGTTIN | g::SIGTTOU)
}

/// What sending `sig` does at once, whether or not it is blocked: SIGCONT and SIGKILL wake a
/// stopped process (SIGCONT also drops pending stop signals), a stop signal drops a pending
/// SIGCONT.
pub fn on_send(process: &Process, sig: u32) {
    if is_stop_signal(sig) {
        discard(process, bit(g::SIGCONT));
    } else if sig == g::SIGCONT {
        discard(
            process,
            bit(g::SIGSTOP) | bit(g::SIGTSTP) | bit(g::SIGTTIN) | bit(g::SIGTTOU),
        );
        // After the discard: a stop signal a thread took before it is then void (`stop`).
        process.continues.fetch_add(1, Ordering::SeqCst);
        set_stopped(process, false, g::SIGCONT, None);
    } else if sig == g::SIGKILL {
        process.stopped.store(false, Ordering::SeqCst);
        kernel().children.notify_all();
    }
}

/// Drops the pending signals in `mask` from every thread of `process`.
fn discard(process: &Process, mask: u64) {
    for thread in threads_of(process) {
        let mut queue = thread.queued.lock();
        queue.retain(|i| bit(i.signo) & mask == 0);
        thread.pending.fetch_and(!mask, Ordering::Relaxed);
    }
}

/// Stops (`stopped`, by signal `sig`) or continues `process`, if that changes anything and, with
/// `continues`, no SIGCONT was sent since that count was read (true then): records the change
/// for the parent's `wait` and tells the parent with SIGCHLD (and, for the instance's first
/// process, `veil run` itself). All under the event's lock: a `wait` sees the change only once
/// its SIGCHLD is queued (else the parent could take the next change's SIGCHLD while this one
/// was pending, and the two would merge), and a stop and a SIGCONT that race are recorded in
/// the order they took effect.
fn set_stopped(process: &Process, stopped: bool, sig: u32, continues: Option<u64>) -> bool {
    let k = kernel();
    let mut job_event = process.job_event.lock();
    if continues.is_some_and(|seen| process.continues.load(Ordering::SeqCst) != seen)
        || process.stopped.swap(stopped, Ordering::SeqCst) == stopped
    {
        return false;
    }
    let (event, code) = if stopped {
        (JobEvent::Stopped(sig), CLD_STOPPED)
    } else {
        (JobEvent::Continued, CLD_CONTINUED)
    };
    *job_event = Some(event);
    let parent = k.processes.lock().get(&process.ppid()).cloned();
    if let Some(parent) = parent {
        let action = parent.signals.lock()[g::SIGCHLD as usize - 1];
        if action.sa_flags & u64::from(g::SA_NOCLDSTOP) == 0 {
            let uid = crate::process::identity::UID as u64;
            super::send_to_process(
                &parent,
                SigInfo {
                    signo: g::SIGCHLD,
                    code,
                    fields: [process.pid as u32 as u64 | uid << 32, u64::from(sig)],
                },
            );
        }
    }
    if process.pid == 1 {
        k.platform.first_process_stopped(stopped);
    }
    drop(job_event);
    k.children.notify_all();
    true
}

/// The calling thread took stop signal `sig` with its default action, having read `continues`
/// (the process's SIGCONT count) before it took it: the whole process stops (its other threads
/// stop at their next return to user code) until continued, unless a SIGCONT came meanwhile
/// (as on Linux, it voids a stop signal taken but not yet acted on). When that is the
/// instance's first process (Ctrl-Z on the terminal of `veil run python3 ...`), `veil run`
/// stops too, as the job of the shell that started it.
pub fn stop(thread: &Thread, sig: u32, continues: u64) {
    let process = &thread.process;
    if set_stopped(process, true, sig, Some(continues)) {
        for other in threads_of(process) {
            if other.tid != thread.tid {
                other.interrupt();
            }
        }
    }
    wait_while_stopped(thread);
}

/// Sleeps while the calling thread's process is stopped (a SIGKILL or the process ending wakes
/// it too).
pub fn wait_while_stopped(thread: &Thread) {
    let k = kernel();
    let process = &thread.process;
    loop {
        let seen = k.children.current();
        // A SIGCONT from the host (the shell's `fg`) may have reached this very thread.
        super::collect_host_signals();
        let killed = thread.pending.load(Ordering::Relaxed) & bit(g::SIGKILL) != 0;
        if !process.stopped.load(Ordering::SeqCst)
            || killed
            || process.exiting.load(Ordering::SeqCst)
        {
            return;
        }
        k.children
            .wait_service(seen, Some(crate::sync::SIGNAL_CHECK_SLICE_NS));
    }
}
