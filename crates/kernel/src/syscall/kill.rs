//! Sending signals: kill, tkill, tgkill.
//!
//! Signals to the calling thread's own process are queued and delivered when it returns to user
//! code (see `signal::send_to_current`); signals to other processes or threads fail with ENOSYS
//! and a log line until cross-thread delivery lands.

use super::*;
use crate::signal;
use core::sync::atomic::Ordering;

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
        return signal::send_to_current(signal::SigInfo::from_process(sig, signal::SI_USER, own));
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
    signal::send_to_current(signal::SigInfo::from_process(
        sig,
        signal::SI_TKILL,
        ctx.process.pid,
    ))
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
