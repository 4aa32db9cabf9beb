//! Data transfer on open files: read, write and their vector and positional forms, lseek,
//! sendfile and copy_file_range.
//!
//! Transfers go through a bounded kernel buffer, chunk by chunk; a stream (terminal, pipe) gets
//! one transfer per call, as Linux returns short reads from streams.

use super::*;

/// Largest single transfer (Linux's MAX_RW_COUNT).
const MAX_RW: usize = 0x7fff_f000;
/// Kernel buffer size per chunk.
const CHUNK: usize = 256 * 1024;

/// Where a transfer happens: at the description's position, or at an explicit offset.
#[derive(Clone, Copy)]
enum At {
    Position,
    Offset(u64),
}

fn readable(ctx: &Ctx, fd: i32) -> Result<Arc<OpenFile>> {
    let file = ctx.file(fd)?;
    if !file.can_read() {
        return err(Errno::EBADF);
    }
    Ok(file)
}

fn writable(ctx: &Ctx, fd: i32) -> Result<Arc<OpenFile>> {
    let file = ctx.file(fd)?;
    if !file.can_write() {
        return err(Errno::EBADF);
    }
    Ok(file)
}

/// Checks that `[addr, addr + len)` is user memory before any data moves (so a bad buffer never
/// consumes stream data).
fn check_buffer(addr: u64, len: usize) -> Result<()> {
    if len > 0
        && !crate::process::current_process()
            .vm()
            .lock()
            .is_user_range(addr as usize, len)
    {
        return err(Errno::EFAULT);
    }
    Ok(())
}

/// One read from `file` into `buf`.
fn read_once(file: &OpenFile, at: At, buf: &mut [u8]) -> Result<usize> {
    match at {
        // Streams have no position: don't hold the position lock while they wait for data.
        At::Position if file.ops.is_stream() => file.ops.read(&mut 0, buf, file.flags()),
        At::Position => file.ops.read(&mut file.pos.lock(), buf, file.flags()),
        At::Offset(_) if file.ops.is_stream() => err(Errno::ESPIPE),
        At::Offset(off) => file.ops.read_at(off, buf),
    }
}

/// One write of `data` to `file`.
fn write_once(file: &OpenFile, at: At, data: &[u8]) -> Result<usize> {
    let flags = file.flags();
    match at {
        At::Position if file.ops.is_stream() => file.ops.write(&mut 0, data, flags),
        At::Position => file.ops.write(&mut file.pos.lock(), data, flags),
        At::Offset(_) if file.ops.is_stream() => err(Errno::ESPIPE),
        At::Offset(_) if flags & g::O_APPEND != 0 => {
            // Linux appends even for pwrite on an O_APPEND file.
            let mut end = 0;
            file.ops.write(&mut end, data, flags)
        }
        At::Offset(off) => file.ops.write_at(off, data),
    }
}

/// Reads up to `len` bytes and hands each chunk to `sink`; returns the total.
fn read_chunks(
    file: &OpenFile,
    at: At,
    len: usize,
    mut sink: impl FnMut(usize, &[u8]) -> Result<()>,
) -> Result<usize> {
    let len = len.min(MAX_RW);
    let stream = file.ops.is_stream();
    let mut buf = alloc::vec![0u8; len.min(CHUNK)];
    let mut done = 0;
    while done < len {
        let want = (len - done).min(buf.len());
        let at_now = match at {
            At::Offset(off) => At::Offset(off + done as u64),
            At::Position => At::Position,
        };
        let n = match read_once(file, at_now, &mut buf[..want]) {
            Ok(n) => n.min(want),
            Err(e) if done > 0 && e.errno != Errno::EFAULT => break,
            Err(e) => return Err(e),
        };
        sink(done, &buf[..n])?;
        done += n;
        if n < want || stream {
            break;
        }
    }
    Ok(done)
}

/// Writes `len` bytes produced chunk by chunk by `source`; returns the total written.
fn write_chunks(
    file: &OpenFile,
    at: At,
    len: usize,
    mut source: impl FnMut(usize, &mut [u8]) -> Result<()>,
) -> Result<usize> {
    let len = len.min(MAX_RW);
    let mut buf = alloc::vec![0u8; len.min(CHUNK)];
    let mut done = 0;
    while done < len {
        let want = (len - done).min(buf.len());
        source(done, &mut buf[..want])?;
        let at_now = match at {
            At::Offset(off) => At::Offset(off + done as u64),
            At::Position => At::Position,
        };
        let n = match write_once(file, at_now, &buf[..want]) {
            Ok(n) => n.min(want),
            Err(_) if done > 0 => break,
            Err(e) if e.errno == Errno::EPIPE => {
                crate::signal::raise_sigpipe();
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        done += n;
        if n == 0 {
            break;
        }
    }
    Ok(done)
}

fn do_read(ctx: &Ctx, fd: i32, addr: u64, len: u64, at: At) -> Result<u64> {
    let file = readable(ctx, fd)?;
    let len = usize::try_from(len).unwrap_or(usize::MAX).min(MAX_RW);
    check_buffer(addr, len)?;
    let n = read_chunks(&file, at, len, |off, chunk| {
        user::write_bytes(addr + off as u64, chunk)
    })?;
    Ok(n as u64)
}

fn do_write(ctx: &Ctx, fd: i32, addr: u64, len: u64, at: At) -> Result<u64> {
    let file = writable(ctx, fd)?;
    let len = usize::try_from(len).unwrap_or(usize::MAX).min(MAX_RW);
    check_buffer(addr, len)?;
    let n = write_chunks(&file, at, len, |off, chunk| {
        user::read_into(addr + off as u64, chunk)
    })?;
    Ok(n as u64)
}

fn offset_arg(raw: u64) -> Result<At> {
    if (raw as i64) < 0 {
        return err(Errno::EINVAL);
    }
    Ok(At::Offset(raw))
}

pub fn sys_read(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_read(ctx, fd_arg(a[0]), a[1], a[2], At::Position)
}

pub fn sys_write(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_write(ctx, fd_arg(a[0]), a[1], a[2], At::Position)
}

pub fn sys_pread64(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_read(ctx, fd_arg(a[0]), a[1], a[2], offset_arg(a[3])?)
}

pub fn sys_pwrite64(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_write(ctx, fd_arg(a[0]), a[1], a[2], offset_arg(a[3])?)
}

/// Scatter read into iovecs: reads the total once, then distributes it.
fn do_readv(ctx: &Ctx, fd: i32, iov: u64, count: u64, at: At) -> Result<u64> {
    let file = readable(ctx, fd)?;
    let vecs = user::read_iovecs(iov, count)?;
    for &(base, len) in &vecs {
        check_buffer(base, len)?;
    }
    let total: usize = vecs.iter().map(|v| v.1).sum();
    let n = read_chunks(&file, at, total, |off, chunk| scatter(&vecs, off, chunk))?;
    Ok(n as u64)
}

/// Copies `chunk`, which starts at byte `off` of the logical buffer, into the iovecs.
fn scatter(vecs: &[(u64, usize)], mut off: usize, mut chunk: &[u8]) -> Result<()> {
    for &(base, len) in vecs {
        if chunk.is_empty() {
            break;
        }
        if off >= len {
            off -= len;
            continue;
        }
        let n = (len - off).min(chunk.len());
        user::write_bytes(base + off as u64, &chunk[..n])?;
        chunk = &chunk[n..];
        off = 0;
    }
    Ok(())
}

/// Fills `chunk` with the bytes at logical offset `off` of the iovecs.
fn gather(vecs: &[(u64, usize)], mut off: usize, mut chunk: &mut [u8]) -> Result<()> {
    for &(base, len) in vecs {
        if chunk.is_empty() {
            break;
        }
        if off >= len {
            off -= len;
            continue;
        }
        let n = (len - off).min(chunk.len());
        let (head, rest) = chunk.split_at_mut(n);
        user::read_into(base + off as u64, head)?;
        chunk = rest;
        off = 0;
    }
    Ok(())
}

fn do_writev(ctx: &Ctx, fd: i32, iov: u64, count: u64, at: At) -> Result<u64> {
    let file = writable(ctx, fd)?;
    let vecs = user::read_iovecs(iov, count)?;
    for &(base, len) in &vecs {
        check_buffer(base, len)?;
    }
    let total: usize = vecs.iter().map(|v| v.1).sum();
    let n = write_chunks(&file, at, total, |off, chunk| gather(&vecs, off, chunk))?;
    Ok(n as u64)
}

pub fn sys_readv(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_readv(ctx, fd_arg(a[0]), a[1], a[2], At::Position)
}

pub fn sys_writev(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_writev(ctx, fd_arg(a[0]), a[1], a[2], At::Position)
}

pub fn sys_preadv(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_readv(ctx, fd_arg(a[0]), a[1], a[2], offset_arg(a[3])?)
}

pub fn sys_pwritev(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_writev(ctx, fd_arg(a[0]), a[1], a[2], offset_arg(a[3])?)
}

/// `preadv2`/`pwritev2` offset: -1 means "the current position".
fn v2_at(raw: u64, flags: u64) -> Result<At> {
    const RWF_SUPPORTED: u64 = 0x1f; // HIPRI DSYNC SYNC NOWAIT APPEND
    if flags & !RWF_SUPPORTED != 0 {
        return Err(Error::unsupported(
            Errno::EOPNOTSUPP,
            "preadv2/pwritev2 flags",
        ));
    }
    if raw as i64 == -1 {
        Ok(At::Position)
    } else {
        offset_arg(raw)
    }
}

pub fn sys_preadv2(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_readv(ctx, fd_arg(a[0]), a[1], a[2], v2_at(a[3], a[5])?)
}

pub fn sys_pwritev2(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_writev(ctx, fd_arg(a[0]), a[1], a[2], v2_at(a[3], a[5])?)
}

pub fn sys_lseek(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let file = ctx.file(fd_arg(a[0]))?;
    if file.is_path_only() {
        return err(Errno::EBADF);
    }
    let whence = a[2] as u32;
    let mut pos = file.pos.lock();
    let new = file.ops.seek(&mut pos, a[1] as i64, whence)?;
    if new == 0 {
        // Rewinding a directory re-reads it (getdents64 snapshot).
        *file.dir_cache.lock() = None;
    }
    Ok(new)
}

/// Moves `len` bytes from `input` to `output` (sendfile, copy_file_range).
fn splice_files(
    input: &OpenFile,
    in_at: At,
    output: &OpenFile,
    out_at: At,
    len: usize,
) -> Result<usize> {
    let len = len.min(MAX_RW);
    let mut done = 0;
    let mut buf = alloc::vec![0u8; len.min(CHUNK)];
    while done < len {
        let want = (len - done).min(buf.len());
        let shift = |at: At| match at {
            At::Offset(o) => At::Offset(o + done as u64),
            At::Position => At::Position,
        };
        let n = read_once(input, shift(in_at), &mut buf[..want])?.min(want);
        if n == 0 {
            break;
        }
        let mut written = 0;
        while written < n {
            let w = write_once(
                output,
                match shift(out_at) {
                    At::Offset(o) => At::Offset(o + written as u64),
                    At::Position => At::Position,
                },
                &buf[written..n],
            )?;
            if w == 0 {
                return Ok(done + written);
            }
            written += w;
        }
        done += n;
        if n < want {
            break;
        }
    }
    Ok(done)
}

/// Reads an optional `loff_t *` argument.
fn optional_offset(addr: u64) -> Result<Option<u64>> {
    if addr == 0 {
        return Ok(None);
    }
    let off: i64 = user::read_val(addr)?;
    if off < 0 {
        return err(Errno::EINVAL);
    }
    Ok(Some(off as u64))
}

pub fn sys_sendfile(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let output = writable(ctx, fd_arg(a[0]))?;
    let input = readable(ctx, fd_arg(a[1]))?;
    if output.flags() & g::O_APPEND != 0 {
        return err(Errno::EINVAL);
    }
    let offset = optional_offset(a[2])?;
    let in_at = offset.map_or(At::Position, At::Offset);
    let n = splice_files(&input, in_at, &output, At::Position, a[3] as usize)?;
    if let Some(off) = offset {
        user::write_val(a[2], &(off + n as u64))?;
    }
    Ok(n as u64)
}

pub fn sys_copy_file_range(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    if a[5] != 0 {
        return err(Errno::EINVAL);
    }
    let input = readable(ctx, fd_arg(a[0]))?;
    let output = writable(ctx, fd_arg(a[2]))?;
    if output.flags() & g::O_APPEND != 0 {
        return err(Errno::EBADF);
    }
    let is_dir = |f: &OpenFile| f.loc.is_dir();
    if is_dir(&input) || is_dir(&output) {
        return err(Errno::EISDIR);
    }
    let is_regular = |f: &OpenFile| {
        f.stat()
            .map(|s| s.st_mode & crate::fs::S_IFMT == crate::fs::S_IFREG)
    };
    if !is_regular(&input)? || !is_regular(&output)? {
        return err(Errno::EINVAL);
    }
    let in_off = optional_offset(a[1])?;
    let out_off = optional_offset(a[3])?;
    // Overlapping ranges within one file are rejected.
    let (si, so) = (input.stat()?, output.stat()?);
    if si.st_dev == so.st_dev && si.st_ino == so.st_ino {
        let start_in = in_off.unwrap_or(*input.pos.lock());
        let start_out = out_off.unwrap_or(*output.pos.lock());
        let len = a[4];
        if start_in < start_out.saturating_add(len) && start_out < start_in.saturating_add(len) {
            return err(Errno::EINVAL);
        }
    }
    let n = splice_files(
        &input,
        in_off.map_or(At::Position, At::Offset),
        &output,
        out_off.map_or(At::Position, At::Offset),
        a[4] as usize,
    )?;
    if let Some(off) = in_off {
        user::write_val(a[1], &(off + n as u64))?;
    }
    if let Some(off) = out_off {
        user::write_val(a[3], &(off + n as u64))?;
    }
    Ok(n as u64)
}
