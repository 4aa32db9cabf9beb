//! Opening and closing files: open, openat, creat, close, close_range.

use super::*;
use crate::fs::fdtable::FdEntry;
use crate::fs::{NoOps, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG};

/// Flags `open` accepts; anything else is ignored by Linux, except O_TMPFILE which we reject.
const O_TMPFILE: u32 = g::__O_TMPFILE | g::O_DIRECTORY;

/// Opens `(dirfd, path)` with `flags` and `mode`, and installs the new file as the lowest free fd.
pub fn open_at(ctx: &Ctx, dirfd: i32, path_addr: u64, flags: u32, mode: u32) -> Result<u64> {
    let path = ctx.path_arg(path_addr)?;
    let file = if flags & O_TMPFILE == O_TMPFILE {
        open_tmpfile(ctx, dirfd, &path, flags, mode)?
    } else {
        open_path(ctx, dirfd, &path, flags, mode)?
    };
    ctx.install(file, flags & g::O_CLOEXEC != 0)
}

/// `O_TMPFILE`: an unnamed file in the directory `(dirfd, path)`.
fn open_tmpfile(
    ctx: &Ctx,
    dirfd: i32,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> Result<Arc<OpenFile>> {
    if flags & g::O_ACCMODE == g::O_RDONLY || flags & g::O_CREAT != 0 {
        return err(Errno::EINVAL);
    }
    let base = ctx.base_dir(dirfd, path)?;
    let dir = kernel().mounts.resolve(&base, path, true)?;
    if !dir.is_dir() {
        return err(Errno::ENOTDIR);
    }
    dir.inode().access(g::W_OK | g::X_OK)?;
    let inode = dir.inode().create_unnamed(mode & 0o7777 & !ctx.umask())?;
    let ops = inode.open(flags)?;
    let name = alloc::format!(
        "{}/#{} (deleted)",
        dir.path.trim_end_matches('/'),
        inode.stat()?.st_ino
    );
    Ok(OpenFile::new(
        ops,
        Loc::detached(name, inode),
        flags & !g::O_DIRECTORY | g::O_LARGEFILE,
    ))
}

/// Resolves, creates if asked, checks and opens a path; returns the open file description.
fn open_path(ctx: &Ctx, dirfd: i32, path: &[u8], flags: u32, mode: u32) -> Result<Arc<OpenFile>> {
    let base = ctx.base_dir(dirfd, path)?;
    let mounts = &kernel().mounts;
    let nofollow = flags & g::O_NOFOLLOW != 0;
    if flags & g::O_PATH != 0 {
        let loc = mounts.resolve(&base, path, !nofollow)?;
        if flags & g::O_DIRECTORY != 0 && !loc.is_dir() {
            return err(Errno::ENOTDIR);
        }
        return Ok(OpenFile::new(
            Arc::new(NoOps),
            loc,
            flags & (g::O_PATH | g::O_DIRECTORY | g::O_NOFOLLOW),
        ));
    }
    let mut created = false;
    let loc = if flags & g::O_CREAT != 0 {
        let excl = flags & g::O_EXCL != 0;
        let mut parent = mounts.resolve_parent(&base, path)?;
        let mut hops = 0;
        // Follow symlinks in the last component by hand: a dangling one creates its target.
        loop {
            if parent.must_be_dir || matches!(parent.name.as_slice(), b"." | b"..") {
                return err(Errno::EISDIR);
            }
            match mounts.child(&parent.dir, &parent.name) {
                Ok(_) if excl => return err(Errno::EEXIST),
                Ok(link) if link.inode().mode() & S_IFMT == S_IFLNK => {
                    hops += 1;
                    if nofollow || hops > 40 {
                        return err(Errno::ELOOP);
                    }
                    // A magic link (`/dev/stdout` -> `/proc/self/fd/1`) leads to the open file
                    // itself; its text need not name anything that exists.
                    if let Some(target) = link.inode().magic_target() {
                        break target?;
                    }
                    let target = link.inode().readlink()?;
                    parent = mounts.resolve_parent(&parent.dir, &target)?;
                }
                Ok(existing) => break existing,
                Err(e) if e.errno == Errno::ENOENT => {
                    let perm = mode & 0o7777 & !ctx.umask();
                    parent.dir.inode().create(&parent.name, perm)?;
                    created = true;
                    break mounts.child(&parent.dir, &parent.name)?;
                }
                Err(e) => return Err(e),
            }
        }
    } else {
        let loc = mounts.resolve(&base, path, !nofollow)?;
        if nofollow && loc.inode().mode() & S_IFMT == S_IFLNK {
            return err(Errno::ELOOP);
        }
        loc
    };
    let kind = loc.inode().mode() & S_IFMT;
    if flags & g::O_DIRECTORY != 0 && kind != S_IFDIR {
        return err(Errno::ENOTDIR);
    }
    let access = flags & g::O_ACCMODE;
    if kind == S_IFDIR
        && (access != g::O_RDONLY || flags & g::O_TRUNC != 0 && flags & g::O_CREAT != 0)
    {
        return err(Errno::EISDIR);
    }
    if !created {
        let want = match access {
            g::O_RDONLY => g::R_OK,
            g::O_WRONLY => g::W_OK,
            _ => g::R_OK | g::W_OK,
        };
        loc.inode().access(want)?;
    }
    if kind == S_IFIFO && loc.inode().is_fifo_node() {
        // FIFOs are kernel pipes, whatever file system holds their name.
        let st = loc.inode().stat()?;
        let end = crate::fs::pipe::Pipe::open_fifo((st.st_dev, st.st_ino), flags)?;
        return Ok(OpenFile::new(end, loc, flags | g::O_LARGEFILE));
    }
    // Linux truncates even for O_RDONLY when the caller may write the file.
    if flags & g::O_TRUNC != 0 && kind == S_IFREG && !created {
        if access == g::O_RDONLY {
            loc.inode().access(g::W_OK)?;
        }
        loc.inode().truncate(0)?;
    }
    let ops = loc.inode().open(flags)?;
    // 64-bit Linux always adds O_LARGEFILE (F_GETFL shows it).
    Ok(OpenFile::new(ops, loc, flags | g::O_LARGEFILE))
}

pub fn sys_open(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    open_at(ctx, g::AT_FDCWD, a[0], a[1] as u32, a[2] as u32)
}

pub fn sys_openat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    open_at(ctx, fd_arg(a[0]), a[1], a[2] as u32, a[3] as u32)
}

pub fn sys_creat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    open_at(
        ctx,
        g::AT_FDCWD,
        a[0],
        g::O_CREAT | g::O_WRONLY | g::O_TRUNC,
        a[1] as u32,
    )
}

pub fn sys_close(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let entry: FdEntry = ctx.process.fds.lock().remove(fd_arg(a[0]))?;
    super::fd::file_closed(ctx.process.pid, &entry.file);
    // The description (and a host fd behind it) goes away outside the fd-table lock.
    drop(entry);
    Ok(0)
}

pub fn sys_close_range(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    const CLOSE_RANGE_UNSHARE: u64 = 2;
    const CLOSE_RANGE_CLOEXEC: u64 = 4;
    let (first, last, flags) = (a[0] as u32, a[1] as u32, a[2]);
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return err(Errno::EINVAL);
    }
    let mut closed = Vec::new();
    {
        let mut fds = ctx.process.fds.lock();
        let targets: Vec<i32> = fds
            .iter()
            .map(|(fd, _)| fd)
            .filter(|&fd| (fd as u32) >= first && (fd as u32) <= last)
            .collect();
        for fd in targets {
            if flags & CLOSE_RANGE_CLOEXEC != 0 {
                fds.get_mut(fd)?.cloexec = true;
            } else {
                closed.push(fds.remove(fd)?);
            }
        }
    }
    for entry in &closed {
        super::fd::file_closed(ctx.process.pid, &entry.file);
    }
    drop(closed);
    Ok(0)
}
