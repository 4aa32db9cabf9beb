//! Host calls of the simulation platform: plain Linux syscalls on host file descriptors.
//!
//! Kernel buffers are passed to the host directly (on this platform the host can read all of the
//! instance's memory anyway); a KVM or TEE platform would copy them through a shared buffer.

use crate::trap::interruptible;
use std::ffi::CStr;
use veil_abi::general::{stat, statfs64, timespec};
use veil_platform::{Errno, HostCalls, HostFd};

/// The host-call implementation of the simulation platform.
pub struct SimHost;

/// The calling host thread's errno after a failed libc call.
pub(crate) fn last_errno() -> Errno {
    Errno(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO) as u16,
    )
}

/// Converts a libc-style return value (-1 + errno) into a Result.
fn check(ret: i64) -> Result<u64, Errno> {
    if ret < 0 {
        Err(last_errno())
    } else {
        Ok(ret as u64)
    }
}

fn unit(ret: libc::c_int) -> Result<(), Errno> {
    check(ret as i64).map(|_| ())
}

fn zeroed<T>() -> T {
    // SAFETY: only used for plain-old-data kernel structures (stat, statfs) valid when zeroed.
    unsafe { std::mem::zeroed() }
}

impl HostCalls for SimHost {
    fn openat(&self, dir: HostFd, path: &CStr, flags: u32, mode: u32) -> Result<HostFd, Errno> {
        // SAFETY: `path` is NUL-terminated; the host validates the rest.
        let fd =
            unsafe { libc::openat(dir.0, path.as_ptr(), flags as i32 | libc::O_CLOEXEC, mode) };
        check(fd as i64).map(|fd| HostFd(fd as i32))
    }

    fn close(&self, fd: HostFd) -> Result<(), Errno> {
        // SAFETY: closing a host fd the kernel owns.
        unit(unsafe { libc::close(fd.0) })
    }

    fn read(&self, fd: HostFd, buf: &mut [u8]) -> Result<usize, Errno> {
        // A terminal or pipe read may block: a signal must be able to cut it short.
        interruptible(|| {
            // SAFETY: `buf` is valid for writes of its length.
            check(unsafe { libc::read(fd.0, buf.as_mut_ptr().cast(), buf.len()) } as i64)
        })
        .map(|n| n as usize)
    }

    fn write(&self, fd: HostFd, buf: &[u8]) -> Result<usize, Errno> {
        // SAFETY: `buf` is valid for reads of its length.
        interruptible(|| check(unsafe { libc::write(fd.0, buf.as_ptr().cast(), buf.len()) } as i64))
            .map(|n| n as usize)
    }

    fn pread(&self, fd: HostFd, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        // SAFETY: `buf` is valid for writes of its length.
        let r = unsafe { libc::pread64(fd.0, buf.as_mut_ptr().cast(), buf.len(), offset as i64) };
        check(r as i64).map(|n| n as usize)
    }

    fn pwrite(&self, fd: HostFd, buf: &[u8], offset: u64) -> Result<usize, Errno> {
        // SAFETY: `buf` is valid for reads of its length.
        let r = unsafe { libc::pwrite64(fd.0, buf.as_ptr().cast(), buf.len(), offset as i64) };
        check(r as i64).map(|n| n as usize)
    }

    fn lseek(&self, fd: HostFd, offset: i64, whence: u32) -> Result<u64, Errno> {
        // SAFETY: no memory is passed.
        check(unsafe { libc::lseek64(fd.0, offset, whence as i32) })
    }

    fn fstat(&self, fd: HostFd) -> Result<stat, Errno> {
        let mut st: stat = zeroed();
        // SAFETY: `st` has the layout of the kernel's struct stat, which fstat fills.
        unit(unsafe { libc::syscall(libc::SYS_fstat, fd.0, &mut st) } as i32)?;
        Ok(st)
    }

    fn fstatat(&self, dir: HostFd, path: &CStr, flags: u32) -> Result<stat, Errno> {
        let mut st: stat = zeroed();
        // SAFETY: NUL-terminated path; `st` is a kernel struct stat.
        let r =
            unsafe { libc::syscall(libc::SYS_newfstatat, dir.0, path.as_ptr(), &mut st, flags) };
        unit(r as i32)?;
        Ok(st)
    }

    fn fstatfs(&self, fd: HostFd) -> Result<statfs64, Errno> {
        let mut st: statfs64 = zeroed();
        // SAFETY: `st` is the kernel's struct statfs (same layout as statfs64 on x86-64).
        unit(unsafe { libc::syscall(libc::SYS_fstatfs, fd.0, &mut st) } as i32)?;
        Ok(st)
    }

    fn getdents64(&self, fd: HostFd, buf: &mut [u8]) -> Result<usize, Errno> {
        // SAFETY: `buf` is valid for writes of its length.
        let r = unsafe { libc::syscall(libc::SYS_getdents64, fd.0, buf.as_mut_ptr(), buf.len()) };
        check(r).map(|n| n as usize)
    }

    fn readlinkat(&self, dir: HostFd, path: &CStr, buf: &mut [u8]) -> Result<usize, Errno> {
        // SAFETY: NUL-terminated path; `buf` valid for writes.
        let r =
            unsafe { libc::readlinkat(dir.0, path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        check(r as i64).map(|n| n as usize)
    }

    fn faccessat(&self, dir: HostFd, path: &CStr, mode: u32, flags: u32) -> Result<(), Errno> {
        // SAFETY: NUL-terminated path.
        let r = unsafe { libc::syscall(libc::SYS_faccessat2, dir.0, path.as_ptr(), mode, flags) };
        unit(r as i32)
    }

    fn mkdirat(&self, dir: HostFd, path: &CStr, mode: u32) -> Result<(), Errno> {
        // SAFETY: NUL-terminated path.
        unit(unsafe { libc::mkdirat(dir.0, path.as_ptr(), mode) })
    }

    fn mknodat(&self, dir: HostFd, path: &CStr, mode: u32, dev: u64) -> Result<(), Errno> {
        // SAFETY: NUL-terminated path.
        unit(unsafe { libc::mknodat(dir.0, path.as_ptr(), mode, dev) })
    }

    fn unlinkat(&self, dir: HostFd, path: &CStr, flags: u32) -> Result<(), Errno> {
        // SAFETY: NUL-terminated path.
        unit(unsafe { libc::unlinkat(dir.0, path.as_ptr(), flags as i32) })
    }

    fn renameat2(
        &self,
        od: HostFd,
        old: &CStr,
        nd: HostFd,
        new: &CStr,
        flags: u32,
    ) -> Result<(), Errno> {
        // SAFETY: NUL-terminated paths.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                od.0,
                old.as_ptr(),
                nd.0,
                new.as_ptr(),
                flags,
            )
        };
        unit(r as i32)
    }

    fn symlinkat(&self, target: &CStr, dir: HostFd, path: &CStr) -> Result<(), Errno> {
        // SAFETY: NUL-terminated paths.
        unit(unsafe { libc::symlinkat(target.as_ptr(), dir.0, path.as_ptr()) })
    }

    fn linkat(
        &self,
        od: HostFd,
        old: &CStr,
        nd: HostFd,
        new: &CStr,
        flags: u32,
    ) -> Result<(), Errno> {
        // SAFETY: NUL-terminated paths.
        unit(unsafe { libc::linkat(od.0, old.as_ptr(), nd.0, new.as_ptr(), flags as i32) })
    }

    fn ftruncate(&self, fd: HostFd, len: u64) -> Result<(), Errno> {
        // SAFETY: no memory is passed.
        unit(unsafe { libc::ftruncate64(fd.0, len as i64) })
    }

    fn fallocate(&self, fd: HostFd, mode: u32, offset: u64, len: u64) -> Result<(), Errno> {
        // SAFETY: no memory is passed.
        unit(unsafe { libc::fallocate64(fd.0, mode as i32, offset as i64, len as i64) })
    }

    fn fsync(&self, fd: HostFd, data_only: bool) -> Result<(), Errno> {
        // SAFETY: no memory is passed.
        unit(unsafe {
            if data_only {
                libc::fdatasync(fd.0)
            } else {
                libc::fsync(fd.0)
            }
        })
    }

    fn fchmodat(&self, dir: HostFd, path: &CStr, mode: u32) -> Result<(), Errno> {
        // SAFETY: NUL-terminated path.
        unit(unsafe { libc::fchmodat(dir.0, path.as_ptr(), mode, 0) })
    }

    fn fchmod(&self, fd: HostFd, mode: u32) -> Result<(), Errno> {
        // SAFETY: no memory is passed.
        unit(unsafe { libc::fchmod(fd.0, mode) })
    }

    fn fchownat(
        &self,
        dir: HostFd,
        path: &CStr,
        uid: u32,
        gid: u32,
        flags: u32,
    ) -> Result<(), Errno> {
        // SAFETY: NUL-terminated path.
        unit(unsafe { libc::fchownat(dir.0, path.as_ptr(), uid, gid, flags as i32) })
    }

    fn fchown(&self, fd: HostFd, uid: u32, gid: u32) -> Result<(), Errno> {
        // SAFETY: no memory is passed.
        unit(unsafe { libc::fchown(fd.0, uid, gid) })
    }

    fn utimensat(
        &self,
        dir: HostFd,
        path: Option<&CStr>,
        times: Option<&[timespec; 2]>,
        flags: u32,
    ) -> Result<(), Errno> {
        let p = path.map_or(std::ptr::null(), |p| p.as_ptr());
        let t = times.map_or(std::ptr::null(), |t| t.as_ptr());
        // SAFETY: optional NUL-terminated path and optional pair of kernel timespecs.
        unit(unsafe { libc::syscall(libc::SYS_utimensat, dir.0, p, t, flags) } as i32)
    }

    fn ioctl_buf(&self, fd: HostFd, request: u32, arg: &mut [u8]) -> Result<i64, Errno> {
        // SAFETY: the kernel sized `arg` for `request`, so the host reads/writes within it.
        check(unsafe { libc::ioctl(fd.0, request as _, arg.as_mut_ptr()) } as i64).map(|n| n as i64)
    }

    fn get_status_flags(&self, fd: HostFd) -> Result<u32, Errno> {
        // SAFETY: no memory is passed.
        check(unsafe { libc::fcntl(fd.0, libc::F_GETFL) } as i64).map(|f| f as u32)
    }

    fn set_status_flags(&self, fd: HostFd, flags: u32) -> Result<(), Errno> {
        // SAFETY: no memory is passed.
        unit(unsafe { libc::fcntl(fd.0, libc::F_SETFL, flags as i32) })
    }

    fn poll(&self, fds: &mut [(HostFd, i16, i16)], timeout_ms: i32) -> Result<usize, Errno> {
        let mut pfds: Vec<libc::pollfd> = fds
            .iter()
            .map(|&(fd, events, _)| libc::pollfd {
                fd: fd.0,
                events,
                revents: 0,
            })
            .collect();
        let n = interruptible(|| {
            // SAFETY: `pfds` is a valid array of pollfd.
            check(unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as u64, timeout_ms) } as i64)
        })?;
        for (slot, p) in fds.iter_mut().zip(&pfds) {
            slot.2 = p.revents;
        }
        Ok(n as usize)
    }
}

/// A new private anonymous read-write mapping of `size` bytes (a power of two), aligned to
/// `size`: twice as much is mapped, then the excess on either side unmapped again.
pub(crate) fn map_aligned(size: usize) -> std::io::Result<usize> {
    // SAFETY: a fresh anonymous mapping where the host likes.
    let raw = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            2 * size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if raw == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    let raw = raw as usize;
    let base = raw.next_multiple_of(size);
    let excess = [(raw, base), (base + size, raw + 2 * size)];
    for (start, end) in excess.into_iter().filter(|(start, end)| start < end) {
        // SAFETY: parts of the mapping just made, outside the range returned.
        unsafe { libc::munmap(start as *mut libc::c_void, end - start) };
    }
    Ok(base)
}
