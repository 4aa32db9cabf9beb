//! Sending signals: kill, tkill, tgkill.
//!
//! Until signal delivery exists, a signal sent to the calling process takes its default action
//! (terminate, or ignore) unless it is blocked or ignored; a signal for which the program installed
//! a handler fails with ENOSYS and a log line, so the gap is visible rather than silent.

use super::*;
use crate::signal;
use core::sync::atomic::Ordering;

const SIG_IGN: usize = 1;

/// Applies signal `sig` to the calling thread's own process.
fn signal_self(ctx: &Ctx, sig: u32) -> Result<u64> {
    if sig == 0 {
        return Ok(0);
    }
    let bit = 1u64 << (sig - 1);
    let handler = ctx.process.signals.lock()[sig as usize - 1]
        .sa_handler_kernel
        .map(|f| f as usize);
    let unstoppable = sig == g::SIGKILL || sig == g::SIGSTOP;
    let blocked = ctx.thread.sigmask.load(Ordering::Relaxed) & bit != 0;
    match handler {
        // abort() unblocks SIGABRT itself before raising it a second time, so "blocked" here
        // means the signal stays pending: nothing happens yet.
        _ if blocked && !unstoppable => Ok(0),
        Some(SIG_IGN) if !unstoppable => Ok(0),
        None | Some(SIG_IGN) => {
            if signal::ignored_by_default(sig) {
                return Ok(0);
            }
            if sig == g::SIGSTOP || sig == g::SIGTSTP || sig == g::SIGTTIN || sig == g::SIGTTOU {
                return Err(Error::unsupported(Errno::ENOSYS, "stopping a process"));
            }
            signal::terminate_by_signal(sig, "")
        }
        Some(_) => Err(Error::unsupported(
            Errno::ENOSYS,
            "delivering a signal to a handler",
        )),
    }
}

fn check_signal(sig: u64) -> Result<u32> {
    if sig > 64 {
        return err(Errno::EINVAL);
    }
    Ok(sig as u32)
}

pub fn sys_kill(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (pid, sig) = (a[0] as i32, check_signal(a[1])?);
    let own = ctx.process.pid;
    // With one process per instance, the own pid, 0 (own group), -1 (all) and -pgid all mean us.
    let pgid = ctx.process.pgid.load(Ordering::Relaxed);
    if pid == own || pid == 0 || pid == -1 || pid == -pgid {
        return signal_self(ctx, sig);
    }
    if kernel().processes.lock().contains_key(&pid.abs()) {
        return Err(Error::unsupported(
            Errno::ENOSYS,
            "signals to other processes",
        ));
    }
    err(Errno::ESRCH)
}

pub fn sys_tkill(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (tid, sig) = (a[0] as i32, check_signal(a[1])?);
    if tid <= 0 {
        return err(Errno::EINVAL);
    }
    if tid != ctx.thread.tid {
        return if kernel().threads.lock().contains_key(&tid) {
            Err(Error::unsupported(
                Errno::ENOSYS,
                "signals to other threads",
            ))
        } else {
            err(Errno::ESRCH)
        };
    }
    signal_self(ctx, sig)
}

pub fn sys_tgkill(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (tgid, tid) = (a[0] as i32, a[1] as i32);
    if tgid <= 0 || tid <= 0 {
        return err(Errno::EINVAL);
    }
    if tgid != ctx.process.pid && tid == ctx.thread.tid {
        return err(Errno::ESRCH);
    }
    sys_tkill(ctx, [a[1], a[2], 0, 0, 0, 0])
}
