//! Waiting for children: wait4, waitid. Ended children stay zombies (with their wait status)
//! until reaped here; stops and continues (job control) are reported once with WUNTRACED /
//! WCONTINUED. A wait sleeps on `Kernel::children` until some child changes state. Reaping a
//! child adds its CPU time (with its own reaped children's) to the parent's children time;
//! every report comes with that usage (`wait4`'s and `waitid`'s rusage).

use super::*;
use crate::process::cpu::{self, CpuTime};
use crate::process::{JobEvent, Process};

const WNOHANG: u64 = 1;
const WUNTRACED: u64 = 2;
const WEXITED: u64 = 4;
const WCONTINUED: u64 = 8;
const WNOWAIT: u64 = 0x0100_0000;
const WNOTHREAD: u64 = 0x2000_0000;
const WALL: u64 = 0x4000_0000;
const WCLONE: u64 = 0x8000_0000;

const P_ALL: u64 = 0;
const P_PID: u64 = 1;
const P_PGID: u64 = 2;
const P_PIDFD: u64 = 3;

/// Which children a wait is for.
#[derive(Clone, Copy)]
enum Which {
    Any,
    Pid(i32),
    Group(i32),
}

fn matches(child: &Process, which: Which) -> bool {
    match which {
        Which::Any => true,
        Which::Pid(pid) => child.pid == pid,
        Which::Group(pgid) => child.pgid.load(core::sync::atomic::Ordering::Relaxed) == pgid,
    }
}

/// What a wait reports about a child.
#[derive(Clone, Copy)]
enum Report {
    /// Ended, with this wait status.
    Ended(i32),
    /// Stopped by this signal.
    Stopped(u32),
    Continued,
}

impl Report {
    /// The `wait4` status word.
    fn status(self) -> i32 {
        match self {
            Report::Ended(status) => status,
            Report::Stopped(sig) => (sig as i32) << 8 | 0x7f,
            Report::Continued => 0xffff,
        }
    }
}

/// Which changes a wait reports, besides ended children.
#[derive(Clone, Copy)]
struct Wanted {
    exited: bool,
    stopped: bool,
    continued: bool,
}

/// Waits for a child change in `wanted`; returns (pid, report, the child's usage), or None with
/// WNOHANG and none. `consume`: the change is taken (an ended child is reaped), unless WNOWAIT.
fn wait_child(
    ctx: &Ctx,
    which: Which,
    wanted: Wanted,
    nohang: bool,
    consume: bool,
) -> Result<Option<(i32, Report, CpuTime)>> {
    let k = kernel();
    // The threads of children reaped before: their host threads are done with them by now.
    k.graves.release_done();
    loop {
        let seen = k.children.current();
        let children: Vec<Arc<Process>> = k
            .processes
            .lock()
            .values()
            .filter(|p| p.ppid() == ctx.process.pid && matches(p, which))
            .cloned()
            .collect();
        if children.is_empty() {
            return err(Errno::ECHILD);
        }
        for child in &children {
            if wanted.exited
                && let Some(status) = *child.exit_status.lock()
            {
                let usage = if consume {
                    k.processes.lock().remove(&child.pid);
                    cpu::reaped(&ctx.process, child)
                } else {
                    cpu::time_with_children(child)
                };
                return Ok(Some((child.pid, Report::Ended(status), usage)));
            }
            let mut event = child.job_event.lock();
            let report = match *event {
                Some(JobEvent::Stopped(sig)) if wanted.stopped => Report::Stopped(sig),
                Some(JobEvent::Continued) if wanted.continued => Report::Continued,
                _ => continue,
            };
            if consume {
                *event = None;
            }
            drop(event);
            return Ok(Some((child.pid, report, cpu::time_with_children(child))));
        }
        if nohang {
            return Ok(None);
        }
        crate::process::placement::waiting_for_child(&ctx.thread, || k.children.wait(seen))?;
    }
}

pub fn sys_wait4(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (pid, status_addr, options, rusage) = (a[0] as i32, a[1], a[2], a[3]);
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 {
        return err(Errno::EINVAL);
    }
    let which = match pid {
        i32::MIN => return err(Errno::ESRCH),
        -1 => Which::Any,
        0 => Which::Group(ctx.process.pgid.load(core::sync::atomic::Ordering::Relaxed)),
        p if p < 0 => Which::Group(-p),
        p => Which::Pid(p),
    };
    let wanted = Wanted {
        exited: true,
        stopped: options & WUNTRACED != 0,
        continued: options & WCONTINUED != 0,
    };
    match wait_child(ctx, which, wanted, options & WNOHANG != 0, true)? {
        None => Ok(0),
        Some((pid, report, usage)) => {
            if status_addr != 0 {
                user::write_val(status_addr, &report.status())?;
            }
            if rusage != 0 {
                user::write_val(rusage, &super::resource::cpu_rusage(usage))?;
            }
            Ok(pid as u64)
        }
    }
}

pub fn sys_waitid(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (idtype, id, infop, options, rusage) = (a[0], a[1] as i32, a[2], a[3], a[4]);
    let known = WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE;
    if options & !known != 0 || options & (WEXITED | WUNTRACED | WCONTINUED) == 0 {
        return err(Errno::EINVAL);
    }
    let which = match idtype {
        P_ALL => Which::Any,
        P_PID | P_PGID if id <= 0 => return err(Errno::EINVAL),
        P_PID => Which::Pid(id),
        P_PGID => Which::Group(id),
        P_PIDFD => Which::Pid(super::pidfd::pid_of(ctx, id)?),
        _ => return err(Errno::EINVAL),
    };
    let wanted = Wanted {
        exited: options & WEXITED != 0,
        stopped: options & WUNTRACED != 0,
        continued: options & WCONTINUED != 0,
    };
    let found = wait_child(
        ctx,
        which,
        wanted,
        options & WNOHANG != 0,
        options & WNOWAIT == 0,
    )?;
    // Like wait4, the usage is written only when a child was found.
    if let Some((_, _, usage)) = found
        && rusage != 0
    {
        user::write_val(rusage, &super::resource::cpu_rusage(usage))?;
    }
    if infop == 0 {
        return Ok(0);
    }
    let mut info = [0u8; 128];
    if let Some((pid, report, _)) = found {
        // CLD_EXITED (1) with the exit code, CLD_KILLED (2) with the signal, CLD_STOPPED (5)
        // with the stop signal, CLD_CONTINUED (6) with SIGCONT.
        let (code, value): (i32, i32) = match report {
            Report::Ended(status) if status & 0x7f == 0 => (1, (status >> 8) & 0xff),
            Report::Ended(status) => (2, status & 0x7f),
            Report::Stopped(sig) => (5, sig as i32),
            Report::Continued => (6, g::SIGCONT as i32),
        };
        info[0..4].copy_from_slice(&(g::SIGCHLD as i32).to_ne_bytes());
        info[8..12].copy_from_slice(&code.to_ne_bytes());
        info[16..20].copy_from_slice(&pid.to_ne_bytes());
        info[20..24].copy_from_slice(&crate::process::identity::UID.to_ne_bytes());
        info[24..28].copy_from_slice(&value.to_ne_bytes());
    }
    // With WNOHANG and nothing ended, Linux zeroes the siginfo.
    user::write_bytes(infop, &info)?;
    Ok(0)
}
