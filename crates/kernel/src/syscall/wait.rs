//! Waiting for children: wait4, waitid. Processes cannot have children until process creation
//! lands (the processes issue), so after validating its arguments every wait reports ECHILD —
//! exactly what Linux says to a process without children.

use super::*;

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

/// Whether the caller has any child matching the request (none can exist yet).
fn has_children(ctx: &Ctx) -> bool {
    let pid = ctx.process.pid;
    kernel().processes.lock().values().any(|p| p.ppid() == pid)
}

pub fn sys_wait4(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let options = a[2];
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 {
        return err(Errno::EINVAL);
    }
    if a[0] as i32 == i32::MIN {
        return err(Errno::ESRCH);
    }
    if !has_children(ctx) {
        return err(Errno::ECHILD);
    }
    Err(Error::unsupported(
        Errno::ECHILD,
        "waiting for child processes",
    ))
}

pub fn sys_waitid(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (idtype, id, options) = (a[0], a[1] as i32, a[3]);
    let known = WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE;
    if options & !known != 0 || options & (WEXITED | WUNTRACED | WCONTINUED) == 0 {
        return err(Errno::EINVAL);
    }
    match idtype {
        P_ALL => {}
        P_PID | P_PGID if id < 0 => return err(Errno::EINVAL),
        P_PID | P_PGID => {}
        P_PIDFD => {
            ctx.file(id)?;
        }
        _ => return err(Errno::EINVAL),
    }
    if !has_children(ctx) {
        return err(Errno::ECHILD);
    }
    Err(Error::unsupported(
        Errno::ECHILD,
        "waiting for child processes",
    ))
}
