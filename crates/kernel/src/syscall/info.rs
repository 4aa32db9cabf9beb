//! STUB

use super::*;

pub fn sys_getpid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_getppid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_gettid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_getuid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_geteuid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_getgid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_getegid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setuid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setgid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setreuid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setregid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setresuid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setresgid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_getresuid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_getresgid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setfsuid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setfsgid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_getgroups(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setgroups(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_getpgid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setpgid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_getpgrp(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_getsid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setsid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_uname(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_sethostname(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_setdomainname(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_sysinfo(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_getrandom(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}

pub fn sys_personality(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Err(Error::unsupported(Errno::ENOSYS, "not implemented yet"))
}
