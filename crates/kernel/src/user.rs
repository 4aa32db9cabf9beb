//! Access to the current process's user memory.
//!
//! User memory is never dereferenced as a Rust reference. Every access first checks that the
//! range belongs to the process's recorded mappings (so a program cannot make the kernel read or
//! write LibOS memory), then copies through the platform's fault-safe routines (so an unmapped
//! or protected page yields EFAULT, never a LibOS crash).

use crate::error::{Result, err};
use crate::pod::{self, Pod};
use crate::process::current_process;
use crate::root::kernel;
use alloc::vec::Vec;
use veil_abi::{Errno, PAGE_SIZE};

fn check(addr: u64, len: usize) -> Result<usize> {
    let addr = usize::try_from(addr).map_err(|_| Errno::EFAULT)?;
    if len == 0 {
        return Ok(addr);
    }
    if !current_process().vm().lock().is_user_range(addr, len) {
        return err(Errno::EFAULT);
    }
    Ok(addr)
}

/// Fills `buf` from user address `addr`.
pub fn read_into(addr: u64, buf: &mut [u8]) -> Result<()> {
    let addr = check(addr, buf.len())?;
    Ok(kernel().platform.copy_from_user(buf, addr)?)
}

/// Reads `len` bytes from user address `addr`.
pub fn read_bytes(addr: u64, len: usize) -> Result<Vec<u8>> {
    let mut buf = alloc::vec![0u8; len];
    read_into(addr, &mut buf)?;
    Ok(buf)
}

/// Writes `data` to user address `addr`.
pub fn write_bytes(addr: u64, data: &[u8]) -> Result<()> {
    let addr = check(addr, data.len())?;
    Ok(kernel().platform.copy_to_user(addr, data)?)
}

/// Zeroes `len` bytes at user address `addr`.
pub fn zero(addr: u64, len: usize) -> Result<()> {
    let addr = check(addr, len)?;
    Ok(kernel().platform.zero_user(addr, len)?)
}

/// Reads a plain-old-data value.
pub fn read_val<T: Pod>(addr: u64) -> Result<T> {
    let mut buf = alloc::vec![0u8; core::mem::size_of::<T>()];
    read_into(addr, &mut buf)?;
    Ok(pod::from_bytes(&buf))
}

/// Writes a plain-old-data value.
pub fn write_val<T: Pod>(addr: u64, value: &T) -> Result<()> {
    write_bytes(addr, pod::as_bytes(value))
}

/// Reads a NUL-terminated string of at most `max` bytes (without the NUL); ENAMETOOLONG beyond.
pub fn read_cstr(addr: u64, max: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut cursor = addr;
    loop {
        let room = PAGE_SIZE - (cursor as usize % PAGE_SIZE);
        let mut chunk = alloc::vec![0u8; room];
        read_into(cursor, &mut chunk)?;
        if let Some(nul) = chunk.iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..nul]);
            return if out.len() > max {
                err(Errno::ENAMETOOLONG)
            } else {
                Ok(out)
            };
        }
        out.extend_from_slice(&chunk);
        if out.len() > max {
            return err(Errno::ENAMETOOLONG);
        }
        cursor = cursor.checked_add(room as u64).ok_or(Errno::EFAULT)?;
    }
}

/// Reads a NULL-terminated array of string pointers (argv, envp), each string at most `max`
/// bytes, at most `max_count` entries (E2BIG beyond).
pub fn read_cstr_array(addr: u64, max: usize, max_count: usize) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    for i in 0..=max_count {
        let ptr: u64 = read_val(addr + 8 * i as u64)?;
        if ptr == 0 {
            return Ok(out);
        }
        out.push(read_cstr(ptr, max).map_err(|e| {
            if e.errno == Errno::ENAMETOOLONG {
                Errno::E2BIG.into()
            } else {
                e
            }
        })?);
    }
    err(Errno::E2BIG)
}

/// Reads an array of `count` `struct iovec` and returns (base, len) pairs. EINVAL for too many
/// vectors or a total length that overflows `ssize_t`.
pub fn read_iovecs(addr: u64, count: u64) -> Result<Vec<(u64, usize)>> {
    const IOV_MAX: u64 = 1024;
    if count > IOV_MAX {
        return err(Errno::EINVAL);
    }
    let raw = read_bytes(addr, count as usize * 16)?;
    let mut total: usize = 0;
    let mut out = Vec::with_capacity(count as usize);
    for rec in raw.chunks_exact(16) {
        let base = u64::from_ne_bytes(rec[..8].try_into().expect("8 bytes"));
        let len = u64::from_ne_bytes(rec[8..].try_into().expect("8 bytes"));
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= isize::MAX as usize)
            .ok_or(Errno::EINVAL)?;
        total = total
            .checked_add(len)
            .filter(|&t| t <= isize::MAX as usize)
            .ok_or(Errno::EINVAL)?;
        out.push((base, len));
    }
    Ok(out)
}
