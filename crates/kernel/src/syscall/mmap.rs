//! STUB

use super::*;

pub fn sys_mmap(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_munmap(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_mprotect(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_mremap(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_madvise(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_msync(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_brk(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_mincore(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}
