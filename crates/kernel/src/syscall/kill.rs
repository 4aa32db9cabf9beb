//! Sending signals: kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo.
//!
//! A signal is queued on a thread of the target process (see `signal::send_to_process`), which is
//! interrupted if it is blocked or running; ended (zombie) processes receive nothing.

use super::*;
use crate::process::Process;
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
    let own_group = ctx.process.pgid.load(Ordering::Relaxed);
    // A process's `exit_status` is not locked under `Kernel::processes` (an exiting process
    // takes them the other way round).
    let live = |p: &&Arc<Process>| p.exit_status.lock().is_none();
    let targets: Vec<Arc<Process>> = {
        let processes = crate::process::all_processes();
        let all = processes.iter().filter(live);
        match pid {
            i32::MIN => return err(Errno::ESRCH),
            -1 => all.filter(|p| p.pid != 1).cloned().collect(),
            0 => all
                .filter(|p| p.pgid.load(Ordering::Relaxed) == own_group)
                .cloned()
                .collect(),
            p if p < 0 => all
                .filter(|q| q.pgid.load(Ordering::Relaxed) == -p)
                .cloned()
                .collect(),
            p => all.filter(|q| q.pid == p).cloned().collect(),
        }
    };
    if targets.is_empty() {
        return err(Errno::ESRCH);
    }
    for target in targets {
        signal::send_to_process(
            &target,
            signal::SigInfo::from_process(sig, signal::SI_USER, ctx.process.pid),
        );
    }
    Ok(0)
}

/// The thread `tid`, of process `tgid` if given (EINVAL for ids ≤ 0, ESRCH if there is none).
fn target_thread(tgid: Option<i32>, tid: i32) -> Result<Arc<crate::process::Thread>> {
    if tid <= 0 || tgid.is_some_and(|g| g <= 0) {
        return err(Errno::EINVAL);
    }
    kernel()
        .threads
        .lock()
        .get(&tid)
        .filter(|t| tgid.is_none_or(|g| t.process.pid == g))
        .cloned()
        .ok_or(Errno::ESRCH.into())
}

pub fn sys_tkill(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (tid, sig) = (a[0] as i32, check_signal(a[1])?);
    let target = target_thread(None, tid)?;
    let info = signal::SigInfo::from_process(sig, signal::SI_TKILL, ctx.process.pid);
    signal::send_to_thread(&target, info);
    Ok(0)
}

pub fn sys_tgkill(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    target_thread(Some(a[0] as i32), a[1] as i32)?;
    sys_tkill(ctx, [a[1], a[2], 0, 0, 0, 0])
}

/// The `siginfo` a `rt_*sigqueueinfo` caller supplies for `sig`. Like Linux, a process may only
/// forge codes below zero (SI_QUEUE and the like) for others: EPERM otherwise.
fn queued_info(ctx: &Ctx, target_pid: i32, sig: u32, addr: u64) -> Result<signal::SigInfo> {
    let raw = user::read_bytes(addr, 128)?;
    let word = |at: usize| u64::from_ne_bytes(raw[at..at + 8].try_into().expect("8 bytes"));
    let code = i32::from_ne_bytes(raw[8..12].try_into().expect("4 bytes"));
    if (code >= 0 || code == signal::SI_TKILL) && target_pid != ctx.process.pid {
        return err(Errno::EPERM);
    }
    Ok(signal::SigInfo {
        signo: sig,
        code,
        // si_pid and si_uid, then si_value, as the caller wrote them.
        fields: [word(16), word(24)],
    })
}

pub fn sys_rt_sigqueueinfo(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (pid, sig) = (a[0] as i32, check_signal(a[1])?);
    let target = kernel().processes.lock().get(&pid).cloned();
    let target = target
        .filter(|p| p.exit_status.lock().is_none())
        .ok_or(Errno::ESRCH)?;
    let info = queued_info(ctx, pid, sig, a[2])?;
    signal::send_to_process(&target, info);
    Ok(0)
}

pub fn sys_rt_tgsigqueueinfo(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (tgid, tid, sig) = (a[0] as i32, a[1] as i32, check_signal(a[2])?);
    let target = target_thread(Some(tgid), tid)?;
    let info = queued_info(ctx, tgid, sig, a[3])?;
    signal::send_to_thread(&target, info);
    Ok(0)
}
