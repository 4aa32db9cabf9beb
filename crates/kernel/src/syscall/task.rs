//! STUB

use super::*;

pub fn sys_arch_prctl(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_prctl(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_set_tid_address(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_set_robust_list(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_get_robust_list(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_rseq(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_exit(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_exit_group(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_execve(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_execveat(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}
