//! Creating pipes: pipe, pipe2.

use super::*;
use crate::fs::fdtable::FdEntry;
use crate::fs::pipe::Pipe;

pub fn sys_pipe(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    create(ctx, a[0], 0)
}

pub fn sys_pipe2(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    create(ctx, a[0], a[1] as u32)
}

fn create(ctx: &Ctx, fds_addr: u64, flags: u32) -> Result<u64> {
    if flags & !(g::O_CLOEXEC | g::O_NONBLOCK | g::O_DIRECT) != 0 {
        return err(Errno::EINVAL);
    }
    // Fail before creating anything if the result cannot be written.
    user::write_val(fds_addr, &[0i32; 2])?;
    let (pipe, read_end, write_end) = Pipe::new();
    let status = flags & (g::O_NONBLOCK | g::O_DIRECT);
    let loc = |inode| Loc::detached(pipe.name(), inode);
    let read = OpenFile::new(
        read_end.clone(),
        loc(read_end.inode()),
        g::O_RDONLY | status,
    );
    let write = OpenFile::new(
        write_end.clone(),
        loc(write_end.inode()),
        g::O_WRONLY | status,
    );
    let cloexec = flags & g::O_CLOEXEC != 0;
    let limit = ctx.process.limits.lock().nofile();
    let mut fds = ctx.process.fds.lock();
    let rfd = fds.insert_from(0, read, cloexec, limit)?;
    let wfd = match fds.insert_from(0, write, cloexec, limit) {
        Ok(fd) => fd,
        Err(e) => {
            let _: FdEntry = fds.remove(rfd)?;
            return Err(e);
        }
    };
    drop(fds);
    user::write_val(fds_addr, &[rfd, wfd])?;
    Ok(0)
}
