//! STUB

use super::*;

pub fn sys_read(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_write(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_readv(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_writev(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_pread64(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_pwrite64(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_preadv(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_pwritev(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_preadv2(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_pwritev2(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_lseek(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_sendfile(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_copy_file_range(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}
