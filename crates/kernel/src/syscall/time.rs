//! STUB

use super::*;

pub fn sys_clock_gettime(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_clock_getres(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_gettimeofday(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_time(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_nanosleep(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_clock_nanosleep(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}
