//! Sending signals: kill, tkill, tgkill.
//!
//! Signals to the caller's own process and its threads are queued on the target thread, which is
//! interrupted if it is blocked or running (see `signal::send_to_thread`). Other processes do
//! not exist yet.

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
        signal::send_to_process(
            &ctx.process,
            signal::SigInfo::from_process(sig, signal::SI_USER, own),
        );
        return Ok(0);
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
    let target = kernel()
        .threads
        .lock()
        .get(&tid)
        .cloned()
        .ok_or(Errno::ESRCH)?;
    let info = signal::SigInfo::from_process(sig, signal::SI_TKILL, ctx.process.pid);
    signal::send_to_thread(&target, info);
    Ok(0)
}

pub fn sys_tgkill(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (tgid, tid) = (a[0] as i32, a[1] as i32);
    if tgid <= 0 || tid <= 0 {
        return err(Errno::EINVAL);
    }
    let target = kernel()
        .threads
        .lock()
        .get(&tid)
        .cloned()
        .ok_or(Errno::ESRCH)?;
    if target.process.pid != tgid {
        return err(Errno::ESRCH);
    }
    sys_tkill(ctx, [a[1], a[2], 0, 0, 0, 0])
}
