//! Descriptor operations: `dup`, `dup2`, `dup3`, `fcntl` and `ioctl` (the generic requests; the
//! rest go to the file's own `FileOps::ioctl`).
//!
//! Lock order: `Process::fds` is taken alone or before `Process::limits`; it is never held
//! across file I/O (the `Arc<OpenFile>` is cloned out first), and a description replaced by
//! `dup2` is dropped (possibly closing a host fd) after the table is unlocked.

use super::*;
use crate::fs::S_IFREG;
use crate::fs::fdtable::FdEntry;
use crate::fs::file::SETTABLE_STATUS_FLAGS;
use crate::fs::lock::Owner;
use veil_abi::ioctl;

/// The open file behind `fd` for calls that need a real open file: `O_PATH` descriptors are
/// EBADF (Linux's `fdget`, as opposed to `fdget_raw`).
pub(super) fn io_file(ctx: &Ctx, fd: i32) -> Result<Arc<OpenFile>> {
    let file = ctx.file(fd)?;
    if file.is_path_only() {
        return err(Errno::EBADF);
    }
    Ok(file)
}

/// The process's RLIMIT_NOFILE soft limit.
fn nofile(ctx: &Ctx) -> usize {
    ctx.process.limits.lock().nofile()
}

pub fn sys_dup(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let limit = nofile(ctx);
    let mut fds = ctx.process.fds.lock();
    let file = fds.get(fd_arg(a[0]))?.file.clone();
    Ok(fds.insert_from(0, file, false, limit)? as u64)
}

/// Makes `new` refer to `old`'s description, closing what `new` referred to.
fn dup_to(ctx: &Ctx, old: i32, new: i32, cloexec: bool) -> Result<u64> {
    let limit = nofile(ctx);
    let slot = usize::try_from(new)
        .ok()
        .filter(|&n| n < limit)
        .ok_or(Errno::EBADF)?;
    let replaced = {
        let mut fds = ctx.process.fds.lock();
        let file = fds.get(old)?.file.clone();
        fds.put(slot, FdEntry { file, cloexec })
    };
    // Closing the replaced description may do host I/O: only now that the table is unlocked.
    if let Some(entry) = &replaced {
        file_closed(ctx.process.pid, &entry.file);
    }
    drop(replaced);
    Ok(slot as u64)
}

pub fn sys_dup2(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (old, new) = (fd_arg(a[0]), fd_arg(a[1]));
    if old == new {
        ctx.file(old)?;
        return Ok(old as u64);
    }
    dup_to(ctx, old, new, false)
}

pub fn sys_dup3(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (old, new, flags) = (fd_arg(a[0]), fd_arg(a[1]), a[2] as u32);
    if flags & !g::O_CLOEXEC != 0 || old == new {
        return err(Errno::EINVAL);
    }
    dup_to(ctx, old, new, flags & g::O_CLOEXEC != 0)
}

/// `struct flock` as user space passes it to the record-lock commands.
struct Flock {
    kind: i16,
    whence: i16,
    start: i64,
    len: i64,
    pid: i32,
}

/// Size of `struct flock` on x86-64 (with padding after `l_whence` and `l_pid`).
const FLOCK_SIZE: usize = 32;

impl Flock {
    fn parse(b: &[u8]) -> Flock {
        let i16_at = |o: usize| i16::from_ne_bytes([b[o], b[o + 1]]);
        let i64_at = |o: usize| i64::from_ne_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        Flock {
            kind: i16_at(0),
            whence: i16_at(2),
            start: i64_at(8),
            len: i64_at(16),
            pid: i32::from_ne_bytes(b[24..28].try_into().expect("4 bytes")),
        }
    }

    fn read(addr: u64) -> Result<Flock> {
        Ok(Flock::parse(&user::read_bytes(addr, FLOCK_SIZE)?))
    }

    /// Validates the range and type as Linux's `flock64_to_posix_lock`, with `base` the offset
    /// `l_whence` refers to (or None for an invalid `l_whence`).
    fn check(&self, base: Option<i64>) -> Result<()> {
        let base = base.ok_or(Errno::EINVAL)?;
        let start = base.checked_add(self.start).ok_or(Errno::EOVERFLOW)?;
        if start < 0 {
            return err(Errno::EINVAL);
        }
        if self.len > 0 && start.checked_add(self.len - 1).is_none() {
            return err(Errno::EOVERFLOW);
        }
        if self.len < 0 && start + self.len < 0 {
            return err(Errno::EINVAL);
        }
        match self.kind as u32 {
            g::F_RDLCK | g::F_WRLCK | g::F_UNLCK => Ok(()),
            _ => err(Errno::EINVAL),
        }
    }
}

/// The offset `l_whence` makes a lock's `l_start` relative to.
fn lock_base(file: &OpenFile, whence: i16) -> Option<i64> {
    match whence as u32 {
        g::SEEK_SET => Some(0),
        // Streams have no position (Linux's f_pos stays 0 for them).
        g::SEEK_CUR if file.ops.is_stream() => Some(0),
        g::SEEK_CUR => Some(*file.pos.lock() as i64),
        g::SEEK_END => Some(file.ops.size().unwrap_or(0) as i64),
        _ => None,
    }
}

impl Flock {
    /// The byte range `[start, end)` the lock covers (`end` u64::MAX: to end of file).
    fn range(&self, base: i64) -> (u64, u64) {
        let start = base + self.start;
        match self.len {
            0 => (start as u64, u64::MAX),
            len if len > 0 => (start as u64, (start + len) as u64),
            len => ((start + len) as u64, start as u64),
        }
    }
}

/// The lock owner a command acts for: the description (OFD locks) or the process.
fn owner(ctx: &Ctx, file: &OpenFile, ofd: bool) -> Owner {
    if ofd {
        Owner::Description(file.lock_owner())
    } else {
        Owner::Process(ctx.process.pid)
    }
}

/// F_GETLK / F_OFD_GETLK: reports the first conflicting lock, or F_UNLCK.
fn get_lock(ctx: &Ctx, file: &OpenFile, ofd: bool, addr: u64) -> Result<u64> {
    let fl = Flock::read(addr)?;
    if !matches!(fl.kind as u32, g::F_RDLCK | g::F_WRLCK) {
        return err(Errno::EINVAL);
    }
    let base = lock_base(file, fl.whence);
    fl.check(base)?;
    if ofd && fl.pid != 0 {
        return err(Errno::EINVAL);
    }
    let (start, end) = fl.range(base.unwrap_or(0));
    let write = fl.kind as u32 == g::F_WRLCK;
    let Some(held) =
        kernel()
            .locks
            .conflict(file.lock_key()?, owner(ctx, file, ofd), write, start, end)
    else {
        // Linux leaves the other fields untouched when the lock could be placed.
        user::write_bytes(addr, &(g::F_UNLCK as i16).to_ne_bytes())?;
        return Ok(0);
    };
    let mut out = [0u8; FLOCK_SIZE];
    let kind = if held.write { g::F_WRLCK } else { g::F_RDLCK } as i16;
    out[0..2].copy_from_slice(&kind.to_ne_bytes());
    out[2..4].copy_from_slice(&(g::SEEK_SET as i16).to_ne_bytes());
    out[8..16].copy_from_slice(&(held.start as i64).to_ne_bytes());
    let len = if held.end == u64::MAX {
        0
    } else {
        (held.end - held.start) as i64
    };
    out[16..24].copy_from_slice(&len.to_ne_bytes());
    let pid = match held.owner {
        Owner::Process(pid) => pid,
        Owner::Description(_) => -1,
    };
    out[24..28].copy_from_slice(&pid.to_ne_bytes());
    user::write_bytes(addr, &out)?;
    Ok(0)
}

/// F_SETLK / F_SETLKW / F_OFD_SETLK / F_OFD_SETLKW.
fn set_lock(ctx: &Ctx, file: &OpenFile, ofd: bool, wait: bool, addr: u64) -> Result<u64> {
    let fl = Flock::read(addr)?;
    let base = lock_base(file, fl.whence);
    fl.check(base)?;
    let write = match fl.kind as u32 {
        g::F_RDLCK if !file.can_read() => return err(Errno::EBADF),
        g::F_WRLCK if !file.can_write() => return err(Errno::EBADF),
        g::F_RDLCK => Some(false),
        g::F_WRLCK => Some(true),
        _ => None,
    };
    if ofd && fl.pid != 0 {
        return err(Errno::EINVAL);
    }
    let (start, end) = fl.range(base.unwrap_or(0));
    kernel().locks.set_range(
        file.lock_key()?,
        owner(ctx, file, ofd),
        write,
        start,
        end,
        wait,
    )?;
    Ok(0)
}

/// `flock`: whole-file locks owned by the open file description.
pub fn sys_flock(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    const LOCK_SH: u64 = 1;
    const LOCK_EX: u64 = 2;
    const LOCK_NB: u64 = 4;
    const LOCK_UN: u64 = 8;
    let file = ctx.file(fd_arg(a[0]))?;
    if file.is_path_only() {
        return err(Errno::EBADF);
    }
    let exclusive = match a[1] & !LOCK_NB {
        LOCK_SH => Some(false),
        LOCK_EX => Some(true),
        LOCK_UN => None,
        _ => return err(Errno::EINVAL),
    };
    kernel().locks.flock(
        file.lock_key()?,
        file.lock_owner(),
        exclusive,
        a[1] & LOCK_NB != 0,
    )?;
    Ok(0)
}

/// What closing any fd of a file (by `close`, `dup2` over it, or close-on-exec) does besides:
/// process `pid`'s POSIX record locks on the file go, and the file hears of it
/// (`FileOps::closed_by`).
pub fn file_closed(pid: i32, file: &OpenFile) {
    if let Ok(key) = file.lock_key() {
        kernel().locks.release_process_file(pid, key);
    }
    file.ops.closed_by(pid);
}

pub fn sys_fcntl(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (fd, cmd, arg) = (fd_arg(a[0]), a[1] as u32, a[2]);
    let file = ctx.file(fd)?;
    let path_ok = matches!(
        cmd,
        g::F_DUPFD | g::F_DUPFD_CLOEXEC | g::F_GETFD | g::F_SETFD | g::F_GETFL
    );
    if file.is_path_only() && !path_ok {
        return err(Errno::EBADF);
    }
    match cmd {
        g::F_DUPFD | g::F_DUPFD_CLOEXEC => {
            // Linux takes the minimum as an int, then compares it unsigned with the limit.
            let min = arg as u32 as usize;
            let limit = nofile(ctx);
            if min >= limit {
                return err(Errno::EINVAL);
            }
            let cloexec = cmd == g::F_DUPFD_CLOEXEC;
            let fd = ctx
                .process
                .fds
                .lock()
                .insert_from(min, file, cloexec, limit)?;
            Ok(fd as u64)
        }
        g::F_GETFD => Ok(if ctx.process.fds.lock().get(fd)?.cloexec {
            u64::from(g::FD_CLOEXEC)
        } else {
            0
        }),
        g::F_SETFD => {
            ctx.process.fds.lock().get_mut(fd)?.cloexec = arg as u32 & g::FD_CLOEXEC != 0;
            Ok(0)
        }
        g::F_GETFL => Ok(u64::from(file.flags())),
        g::F_SETFL => {
            file.set_status_flags(arg as u32)?;
            Ok(0)
        }
        g::F_GETLK => get_lock(ctx, &file, false, arg),
        g::F_OFD_GETLK => get_lock(ctx, &file, true, arg),
        g::F_SETLK | g::F_SETLKW => set_lock(ctx, &file, false, cmd == g::F_SETLKW, arg),
        g::F_OFD_SETLK | g::F_OFD_SETLKW => set_lock(ctx, &file, true, cmd == g::F_OFD_SETLKW, arg),
        g::F_GETPIPE_SZ => file.ops.pipe_capacity(None),
        g::F_SETPIPE_SZ => file.ops.pipe_capacity(Some(arg as u32 as u64)),
        g::F_GET_SEALS => Ok(u64::from(file.ops.seals()?)),
        g::F_ADD_SEALS => {
            file.ops.seals()?;
            if !file.can_write() {
                return err(Errno::EPERM);
            }
            let seals = arg as u32;
            if seals & g::F_SEAL_WRITE != 0 && mapped_shared_writable(&file) {
                return err(Errno::EBUSY);
            }
            file.ops.add_seals(seals)?;
            Ok(0)
        }
        _ => Err(Error::unsupported(Errno::EINVAL, "fcntl command")),
    }
}

/// Whether some process maps `file`'s pages shared and possibly writable: writable now, or
/// through a descriptor open for writing, which `mprotect` may make writable (F_SEAL_WRITE is
/// then EBUSY, as on Linux).
fn mapped_shared_writable(file: &crate::fs::OpenFile) -> bool {
    use crate::mm::VmaKind;
    let Some(Ok(crate::fs::SharedBacking::Memory(object))) = file.ops.shared_backing() else {
        return false;
    };
    crate::process::all_processes().iter().any(|p| {
        p.vm().lock().iter().any(|v| {
            let may_write = v.prot & g::PROT_WRITE != 0
                || matches!(&v.kind, VmaKind::File { file, .. } if file.writable);
            v.shared
                && may_write
                && v.pages
                    .as_ref()
                    .is_some_and(|pages| Arc::ptr_eq(&pages.object, &object))
        })
    })
}

/// Sets or clears one settable status flag (FIONBIO, FIOASYNC).
fn set_status_flag(file: &OpenFile, flag: u32, on: bool) -> Result<u64> {
    let flags = file.flags() & SETTABLE_STATUS_FLAGS;
    file.set_status_flags(if on { flags | flag } else { flags & !flag })?;
    Ok(0)
}

pub fn sys_ioctl(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (fd, request, arg) = (fd_arg(a[0]), a[1] as u32, a[2]);
    let file = io_file(ctx, fd)?;
    match request {
        ioctl::FIOCLEX | ioctl::FIONCLEX => {
            ctx.process.fds.lock().get_mut(fd)?.cloexec = request == ioctl::FIOCLEX;
            Ok(0)
        }
        ioctl::FIONBIO => {
            let on: i32 = user::read_val(arg)?;
            set_status_flag(&file, g::O_NONBLOCK, on != 0)
        }
        ioctl::FIOASYNC => {
            let on = user::read_val::<i32>(arg)? != 0;
            if on == (file.flags() & g::FASYNC != 0) {
                return Ok(0);
            }
            // Linux needs the file type's fasync support, which regular files lack.
            if !file.ops.is_stream() {
                return err(Errno::ENOTTY);
            }
            set_status_flag(&file, g::FASYNC, on)
        }
        ioctl::FIONREAD if file.inode().mode() & g::S_IFMT == S_IFREG => {
            let size = file.ops.size()?;
            // Through `seek`, so files whose offset lives on the host (stdio) report it right.
            let pos = {
                let mut pos = file.pos.lock();
                file.ops.seek(&mut pos, 0, g::SEEK_CUR)?
            };
            // Linux stores the difference in an int, negative past the end.
            user::write_val(arg, &((size as i64 - pos as i64) as i32))?;
            Ok(0)
        }
        ioctl::FIGETBSZ => {
            user::write_val(arg, &(file.stat()?.st_blksize as i32))?;
            Ok(0)
        }
        _ => file.ops.ioctl(request, arg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flock(kind: u32, start: i64, len: i64) -> Flock {
        Flock {
            kind: kind as i16,
            whence: g::SEEK_SET as i16,
            start,
            len,
            pid: 0,
        }
    }

    #[test]
    fn parses_the_x86_64_layout() {
        let mut b = [0u8; FLOCK_SIZE];
        b[0..2].copy_from_slice(&1i16.to_ne_bytes());
        b[2..4].copy_from_slice(&2i16.to_ne_bytes());
        b[8..16].copy_from_slice(&100i64.to_ne_bytes());
        b[16..24].copy_from_slice(&(-5i64).to_ne_bytes());
        b[24..28].copy_from_slice(&42i32.to_ne_bytes());
        let f = Flock::parse(&b);
        assert_eq!(
            (f.kind, f.whence, f.start, f.len, f.pid),
            (1, 2, 100, -5, 42)
        );
    }

    #[test]
    fn lock_ranges_are_checked_like_linux() {
        assert!(flock(g::F_WRLCK, 0, 0).check(Some(0)).is_ok());
        assert!(flock(g::F_UNLCK, 10, -10).check(Some(0)).is_ok());
        assert_eq!(
            flock(g::F_RDLCK, 10, -11).check(Some(0)).unwrap_err().errno,
            Errno::EINVAL
        );
        assert_eq!(
            flock(g::F_RDLCK, -1, 0).check(Some(0)).unwrap_err().errno,
            Errno::EINVAL
        );
        assert_eq!(
            flock(g::F_RDLCK, i64::MAX, 2)
                .check(Some(0))
                .unwrap_err()
                .errno,
            Errno::EOVERFLOW
        );
        assert_eq!(
            flock(g::F_RDLCK, i64::MAX, 0)
                .check(Some(1))
                .unwrap_err()
                .errno,
            Errno::EOVERFLOW
        );
        assert_eq!(
            flock(7, 0, 0).check(Some(0)).unwrap_err().errno,
            Errno::EINVAL
        );
        assert_eq!(
            flock(g::F_RDLCK, 0, 0).check(None).unwrap_err().errno,
            Errno::EINVAL
        );
    }
}
