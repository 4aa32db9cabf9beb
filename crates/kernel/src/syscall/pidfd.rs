//! pidfd_open, pidfd_send_signal.

use super::*;
use crate::fs::pidfd::{PidFd, PidFdFile};
use crate::signal::{self, SigInfo};

/// The pid a pidfd refers to (EBADF if `fd` is not a pidfd).
pub fn pid_of(ctx: &Ctx, fd: i32) -> Result<i32> {
    let file = ctx.file(fd)?;
    let pidfd = file
        .inode()
        .as_any()
        .downcast_ref::<PidFd>()
        .ok_or(Errno::EBADF)?;
    Ok(pidfd.pid)
}

pub fn sys_pidfd_open(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (pid, flags) = (a[0] as i32, a[1] as u32);
    if flags & !g::O_NONBLOCK != 0 || pid <= 0 {
        return err(Errno::EINVAL);
    }
    let target = kernel()
        .processes
        .lock()
        .get(&pid)
        .cloned()
        .ok_or(Errno::ESRCH)?;
    if target.pid != pid {
        return err(Errno::ESRCH);
    }
    let ops = Arc::new(PidFdFile(Arc::new(PidFd { pid })));
    let inode = ops.inode();
    // pidfds are always close-on-exec.
    ctx.install_anon(ops, inode, "pidfd", g::O_RDWR | flags, true)
}

pub fn sys_pidfd_send_signal(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (sig, info, flags) = (a[1], a[2], a[3]);
    let pid = pid_of(ctx, fd_arg(a[0]))?;
    if flags != 0 || sig > 64 {
        return err(Errno::EINVAL);
    }
    if info != 0 {
        return Err(Error::unsupported(
            Errno::EINVAL,
            "pidfd_send_signal with a siginfo",
        ));
    }
    let target = kernel()
        .processes
        .lock()
        .get(&pid)
        .cloned()
        .ok_or(Errno::ESRCH)?;
    if target.exit_status.lock().is_some() {
        return err(Errno::ESRCH);
    }
    signal::send_to_process(
        &target,
        SigInfo::from_process(sig as u32, signal::SI_USER, ctx.process.pid),
    );
    Ok(0)
}
