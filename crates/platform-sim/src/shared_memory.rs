//! The instance's shared memory: one host memfd, created by the supervisor before the first
//! address-space process and inherited by every one after it, so a page of it is the same page
//! in every address space. The kernel carves it into objects (RAM files mapped shared, shared
//! anonymous mappings, System V segments); this module only reads, writes, maps and discards.

use rustix::fd::{BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use rustix::pipe::{PipeFlags, SpliceFlags, splice};
use std::sync::atomic::{AtomicI32, Ordering};

/// Size of the memfd: sparse, pages are committed on first touch.
pub const SIZE: u64 = 1 << 52;

/// The memfd (-1 until created; the value is inherited by forked address spaces).
static FD: AtomicI32 = AtomicI32::new(-1);

/// The shared-memory fd of this instance.
pub fn fd() -> i32 {
    FD.load(Ordering::Relaxed)
}

/// Creates the shared-memory object. Called once by the supervisor.
pub fn create() -> Result<(), String> {
    // SAFETY: memfd_create reads a NUL-terminated name.
    let fd = unsafe { libc::memfd_create(c"veil-shared-memory".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(format!("memfd_create: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: resizing our own memfd.
    if unsafe { libc::ftruncate(fd, SIZE as i64) } != 0 {
        return Err(format!(
            "cannot size the shared memory: {}",
            std::io::Error::last_os_error()
        ));
    }
    FD.store(fd, Ordering::Relaxed);
    Ok(())
}

fn check(offset: u64, len: usize) -> Result<i64, veil_platform::Errno> {
    match offset.checked_add(len as u64) {
        Some(end) if end <= SIZE => Ok(offset as i64),
        _ => Err(veil_platform::Errno::EINVAL),
    }
}

/// Reads `buf.len()` bytes at `offset`.
pub fn read(offset: u64, buf: &mut [u8]) -> Result<(), veil_platform::Errno> {
    let mut done = 0;
    while done < buf.len() {
        let at = check(offset + done as u64, buf.len() - done)?;
        let rest = &mut buf[done..];
        // SAFETY: `rest` is a valid buffer of its length.
        let n = unsafe { libc::pread(fd(), rest.as_mut_ptr().cast(), rest.len(), at) };
        if n <= 0 {
            return Err(veil_platform::Errno::EIO);
        }
        done += n as usize;
    }
    Ok(())
}

/// Writes `buf` at `offset`.
pub fn write(offset: u64, buf: &[u8]) -> Result<(), veil_platform::Errno> {
    let mut done = 0;
    while done < buf.len() {
        let at = check(offset + done as u64, buf.len() - done)?;
        let rest = &buf[done..];
        // SAFETY: `rest` is a valid buffer of its length.
        let n = unsafe { libc::pwrite(fd(), rest.as_ptr().cast(), rest.len(), at) };
        if n <= 0 {
            return Err(veil_platform::Errno::ENOSPC);
        }
        done += n as usize;
    }
    Ok(())
}

thread_local! {
    /// The calling host thread's pipe for [`fill_from`] (read end, write end, the address space
    /// that made it), made on first use. Raw fds: a thread-local that needs dropping makes the
    /// host's allocator register a destructor, and a fork must find that allocator unlocked
    /// (see `trap::fork_here`).
    static FILL_PIPE: std::cell::Cell<Option<(RawFd, RawFd, i32)>> = const { std::cell::Cell::new(None) };
}

/// Closes the calling thread's fill pipe.
fn forget_fill_pipe() {
    if let Some((read_end, write_end, _)) = FILL_PIPE.take() {
        // SAFETY: the pipe's fds belong to FILL_PIPE alone, which no longer has them.
        drop(unsafe {
            (
                OwnedFd::from_raw_fd(read_end),
                OwnedFd::from_raw_fd(write_end),
            )
        });
    }
}

/// The calling thread's fill pipe, made on first use in this address space: a forked copy
/// replaces the one it inherited (the original's thread still uses it, and data spliced
/// through it by both would mix), when it first needs one (no cost to a fork).
fn fill_pipe() -> Result<(BorrowedFd<'static>, BorrowedFd<'static>), rustix::io::Errno> {
    let space = crate::trap::process_id();
    let (read_end, write_end) = match FILL_PIPE.get() {
        Some((read_end, write_end, made_in)) if made_in == space => (read_end, write_end),
        _ => {
            forget_fill_pipe();
            let (read_end, write_end) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC)?;
            let pipe = (read_end.into_raw_fd(), write_end.into_raw_fd());
            FILL_PIPE.set(Some((pipe.0, pipe.1, space)));
            pipe
        }
    };
    // SAFETY: the fds stay open until `forget_fill_pipe`, which the calling thread runs only
    // between fills.
    Ok(unsafe {
        (
            BorrowedFd::borrow_raw(read_end),
            BorrowedFd::borrow_raw(write_end),
        )
    })
}

/// Copies `len` bytes of host file `fd_in` from `file_offset` to `offset`, inside the host
/// (spliced through a pipe: the file's pages are copied once, straight into the memfd's).
/// Returns the bytes copied, fewer at the file's end.
pub fn fill_from(
    offset: u64,
    fd_in: i32,
    file_offset: u64,
    len: usize,
) -> Result<usize, veil_platform::Errno> {
    check(offset, len)?;
    let host_errno = |e: rustix::io::Errno| veil_platform::Errno(e.raw_os_error() as u16);
    {
        let (pipe_r, pipe_w) = fill_pipe().map_err(host_errno)?;
        // SAFETY: both fds stay open for the call: `fd_in` is the kernel's, the memfd the
        // instance's.
        let (file, memfd) =
            unsafe { (BorrowedFd::borrow_raw(fd_in), BorrowedFd::borrow_raw(fd())) };
        let mut done = 0;
        while done < len {
            let mut from = file_offset + done as u64;
            let got = splice(
                file,
                Some(&mut from),
                pipe_w,
                None,
                len - done,
                SpliceFlags::MOVE,
            )
            .map_err(host_errno)?;
            if got == 0 {
                break;
            }
            let mut moved = 0;
            while moved < got {
                let mut to = offset + (done + moved) as u64;
                match splice(
                    pipe_r,
                    None,
                    memfd,
                    Some(&mut to),
                    got - moved,
                    SpliceFlags::MOVE,
                ) {
                    Ok(n) if n > 0 => moved += n,
                    _ => {
                        // The pipe may hold the rest: it is not used again.
                        forget_fill_pipe();
                        return Err(veil_platform::Errno::EIO);
                    }
                }
            }
            done += got;
        }
        Ok(done)
    }
}

/// Frees the pages of `[offset, offset + len)`.
pub fn discard(offset: u64, len: u64) {
    if check(offset, len as usize).is_ok() {
        // SAFETY: punching a hole in our own memfd; mappings of it then read zeros.
        unsafe {
            libc::fallocate(
                fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                offset as i64,
                len as i64,
            )
        };
    }
}
