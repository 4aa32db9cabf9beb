//! Identity and system information: process and thread ids, user and group ids, process groups
//! and sessions, `uname`, host and domain names, `sysinfo`, `getrandom`, `personality`.
//!
//! Every process of an instance runs as the instance's single user (root, see
//! [`identity`](crate::process::identity)). The `set*id` family accepts only that user's own
//! ids (or −1, "unchanged"): switching to another user would need per-process credentials and
//! permission checks Veil does not have, so it fails with EPERM and a log line.

use super::*;
use crate::process::identity::{GID, UID};
use core::sync::atomic::Ordering;
use veil_abi::{SysInfo, Utsname};

/// The kernel release `uname` reports. Programs parse it (glibc, version checks), so it keeps
/// Linux's `major.minor.patch` form.
const RELEASE: &[u8] = crate::OS_RELEASE.as_bytes();
const VERSION: &[u8] = crate::OS_VERSION.as_bytes();
/// Longest host or domain name (`__NEW_UTS_LEN`).
const UTS_LEN: usize = 64;
/// Longest supplementary group list (`NGROUPS_MAX`).
const NGROUPS_MAX: usize = 65536;
/// Largest count a single read or write transfers (`MAX_RW_COUNT`).
const MAX_RW_COUNT: usize = (i32::MAX as usize) & !(veil_abi::PAGE_SIZE - 1);
/// `getrandom` fills user memory in pieces of this size (bounded kernel buffer).
const RANDOM_CHUNK: usize = 64 * 1024;
/// `personality(0xffffffff)` queries without changing.
const PERSONALITY_QUERY: u32 = 0xffff_ffff;
/// `PER_LINUX`, the only personality Veil runs programs with.
const PER_LINUX: u32 = 0;
/// An id argument of −1: "leave unchanged".
const ID_UNCHANGED: u32 = u32::MAX;

/// The process `pid` names: 0 = the caller's; otherwise the process of thread `pid` (Linux
/// looks ids up as tasks, so a thread id finds its process). ESRCH when there is none.
pub(super) fn find_process(ctx: &Ctx, pid: i32) -> Result<Arc<Process>> {
    if pid == 0 {
        return Ok(ctx.process.clone());
    }
    let thread = kernel().threads.lock().get(&pid).cloned();
    thread
        .map(|t| t.process.clone())
        .ok_or_else(|| Errno::ESRCH.into())
}

pub fn sys_getpid(ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Ok(ctx.process.pid as u64)
}

pub fn sys_getppid(ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Ok(ctx.process.ppid() as u64)
}

pub fn sys_gettid(ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Ok(ctx.thread.tid as u64)
}

pub fn sys_getuid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Ok(UID.into())
}

pub fn sys_geteuid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Ok(UID.into())
}

pub fn sys_getgid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Ok(GID.into())
}

pub fn sys_getegid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Ok(GID.into())
}

/// The check shared by the `set*id` calls: every id must be the instance's own (`own`) or −1.
fn set_ids(ids: &[u64], own: u32) -> Result<u64> {
    if ids
        .iter()
        .all(|&id| id as u32 == ID_UNCHANGED || id as u32 == own)
    {
        Ok(0)
    } else {
        Err(Error::unsupported(
            Errno::EPERM,
            "changing to another user or group id",
        ))
    }
}

/// `setuid`/`setgid`: −1 is not an id there, and Linux rejects it with EINVAL.
fn set_single_id(id: u64, own: u32) -> Result<u64> {
    if id as u32 == ID_UNCHANGED {
        return err(Errno::EINVAL);
    }
    set_ids(&[id], own)
}

pub fn sys_setuid(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    set_single_id(a[0], UID)
}

pub fn sys_setgid(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    set_single_id(a[0], GID)
}

pub fn sys_setreuid(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    set_ids(&a[..2], UID)
}

pub fn sys_setregid(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    set_ids(&a[..2], GID)
}

pub fn sys_setresuid(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    set_ids(&a[..3], UID)
}

pub fn sys_setresgid(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    set_ids(&a[..3], GID)
}

/// `getresuid`/`getresgid`: the real, effective and saved ids, all the instance's own.
fn get_res_ids(ptrs: &[u64], id: u32) -> Result<u64> {
    for &ptr in ptrs {
        user::write_val(ptr, &id)?;
    }
    Ok(0)
}

pub fn sys_getresuid(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    get_res_ids(&a[..3], UID)
}

pub fn sys_getresgid(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    get_res_ids(&a[..3], GID)
}

/// `setfsuid`/`setfsgid` return the previous id and cannot fail; a change to another id is
/// not made (Linux reports that only through the next call's return value, as here).
pub fn sys_setfsuid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Ok(UID.into())
}

pub fn sys_setfsgid(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Ok(GID.into())
}

pub fn sys_getgroups(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let size = a[0] as i32;
    let groups = ctx.process.groups.lock().clone();
    if size < 0 {
        return err(Errno::EINVAL);
    }
    if size == 0 {
        return Ok(groups.len() as u64);
    }
    if (size as usize) < groups.len() {
        return err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_ne_bytes()).collect();
    user::write_bytes(a[1], &bytes)?;
    Ok(groups.len() as u64)
}

pub fn sys_setgroups(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let size = a[0] as i32 as usize;
    if size > NGROUPS_MAX {
        return err(Errno::EINVAL);
    }
    let raw = user::read_bytes(a[1], size * 4)?;
    // Linux keeps repeated ids, so `getgroups` returns the list as set.
    let groups: Vec<u32> = raw
        .chunks_exact(4)
        .map(|c| u32::from_ne_bytes(c.try_into().expect("4 bytes")))
        .collect();
    if groups.iter().any(|&g| g != GID) {
        return Err(Error::unsupported(
            Errno::EPERM,
            "supplementary groups other than the instance's group",
        ));
    }
    *ctx.process.groups.lock() = groups;
    Ok(0)
}

pub fn sys_getpgid(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let p = find_process(ctx, a[0] as i32)?;
    Ok(p.pgid.load(Ordering::Relaxed) as u64)
}

pub fn sys_getpgrp(ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    Ok(ctx.process.pgid.load(Ordering::Relaxed) as u64)
}

pub fn sys_getsid(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let p = find_process(ctx, a[0] as i32)?;
    Ok(p.sid.load(Ordering::Relaxed) as u64)
}

/// `setpgid` with Linux's rules: the target is the caller or one of its children, in the
/// caller's session and not a session leader; the group joined must exist in that session.
pub fn sys_setpgid(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let me = &ctx.process;
    let pid = match a[0] as i32 {
        0 => me.pid,
        pid => pid,
    };
    let pgid = match a[1] as i32 {
        0 => pid,
        pgid => pgid,
    };
    if pgid < 0 {
        return err(Errno::EINVAL);
    }
    let (target, thread_leader) = {
        let thread = kernel()
            .threads
            .lock()
            .get(&pid)
            .cloned()
            .ok_or(Errno::ESRCH)?;
        let leader = thread.process.pid == pid;
        (thread.process.clone(), leader)
    };
    if !thread_leader {
        return err(Errno::EINVAL);
    }
    let my_sid = me.sid.load(Ordering::Relaxed);
    if target.pid != me.pid {
        if target.ppid() != me.pid {
            return err(Errno::ESRCH);
        }
        if target.sid.load(Ordering::Relaxed) != my_sid {
            return err(Errno::EPERM);
        }
        // Linux also refuses (EACCES) a child that has called execve; Veil does not track that.
    }
    if target.sid.load(Ordering::Relaxed) == target.pid {
        return err(Errno::EPERM);
    }
    if pgid != pid {
        let group_exists = kernel().processes.lock().values().any(|p| {
            p.pgid.load(Ordering::Relaxed) == pgid && p.sid.load(Ordering::Relaxed) == my_sid
        });
        if !group_exists {
            return err(Errno::EPERM);
        }
    }
    target.pgid.store(pgid, Ordering::Relaxed);
    Ok(0)
}

/// `setsid`: fails (EPERM) when a process group already carries the caller's pid, which
/// includes the caller being a group leader.
pub fn sys_setsid(ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    let pid = ctx.process.pid;
    let taken = kernel()
        .processes
        .lock()
        .values()
        .any(|p| p.pgid.load(Ordering::Relaxed) == pid);
    if taken {
        return err(Errno::EPERM);
    }
    ctx.process.sid.store(pid, Ordering::Relaxed);
    ctx.process.pgid.store(pid, Ordering::Relaxed);
    Ok(pid as u64)
}

/// Copies `src` into a NUL-padded `uname` field (at most 64 bytes, so a NUL always ends it).
fn uts_field(src: &[u8]) -> [u8; 65] {
    let mut field = [0u8; 65];
    let n = src.len().min(UTS_LEN);
    field[..n].copy_from_slice(&src[..n]);
    field
}

/// The `uname` record of the instance.
fn utsname() -> Utsname {
    let k = kernel();
    Utsname {
        sysname: uts_field(b"Linux"),
        nodename: uts_field(&k.hostname.lock()),
        release: uts_field(RELEASE),
        version: uts_field(VERSION),
        machine: uts_field(b"x86_64"),
        domainname: uts_field(&k.domainname.lock()),
    }
}

pub fn sys_uname(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    user::write_val(a[0], &utsname())?;
    Ok(0)
}

/// Reads a new host or domain name (`sethostname`, `setdomainname`): at most 64 bytes, stored
/// as given (Linux copies the bytes verbatim; a NUL inside ends the name when read).
fn read_uts_name(addr: u64, len: u64) -> Result<Vec<u8>> {
    let len = len as i32;
    if !(0..=UTS_LEN as i32).contains(&len) {
        return err(Errno::EINVAL);
    }
    user::read_bytes(addr, len as usize)
}

pub fn sys_sethostname(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    *kernel().hostname.lock() = read_uts_name(a[0], a[1])?;
    Ok(0)
}

pub fn sys_setdomainname(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    *kernel().domainname.lock() = read_uts_name(a[0], a[1])?;
    Ok(0)
}

pub fn sys_sysinfo(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let k = kernel();
    let up = k.uptime_ns();
    let used = crate::mm::mapped_bytes();
    let total = crate::mm::INSTANCE_RAM_BYTES;
    let threads = k.threads.lock().len();
    let info = SysInfo {
        // Linux rounds the uptime up to whole seconds.
        uptime: up.div_ceil(1_000_000_000) as i64,
        totalram: total,
        freeram: total - used,
        // Linux counts tasks (threads) here despite the field's name.
        procs: threads.min(u16::MAX as usize) as u16,
        mem_unit: 1,
        ..SysInfo::default()
    };
    user::write_val(a[0], &info)?;
    Ok(0)
}

/// Validates `getrandom` flags: only the three known ones, and not RANDOM with INSECURE.
fn check_getrandom_flags(flags: u32) -> Result<()> {
    let known = g::GRND_NONBLOCK | g::GRND_RANDOM | g::GRND_INSECURE;
    if flags & !known != 0
        || flags & (g::GRND_RANDOM | g::GRND_INSECURE) == g::GRND_RANDOM | g::GRND_INSECURE
    {
        return err(Errno::EINVAL);
    }
    Ok(())
}

/// `getrandom`: the platform's entropy source is always ready, so no flag ever blocks or
/// changes the bytes. A fault part-way returns the bytes already written, as Linux does.
pub fn sys_getrandom(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (addr, flags) = (a[0], a[2] as u32);
    check_getrandom_flags(flags)?;
    let len = usize::try_from(a[1])
        .unwrap_or(usize::MAX)
        .min(MAX_RW_COUNT);
    let platform = kernel().platform;
    let mut buf = alloc::vec![0u8; len.min(RANDOM_CHUNK)];
    let mut done = 0;
    while done < len {
        let chunk = &mut buf[..(len - done).min(RANDOM_CHUNK)];
        platform.random(chunk);
        let at = addr.wrapping_add(done as u64);
        match user::write_bytes(at, chunk) {
            Ok(()) => done += chunk.len(),
            Err(e) => {
                // Find how much of this chunk is writable, page by page.
                let written = write_prefix(at, chunk);
                if done + written == 0 {
                    return Err(e);
                }
                return Ok((done + written) as u64);
            }
        }
    }
    Ok(done as u64)
}

/// Writes as many leading bytes of `data` to `addr` as fit before the first unwritable page.
fn write_prefix(addr: u64, data: &[u8]) -> usize {
    let mut done = 0;
    while done < data.len() {
        let at = addr.wrapping_add(done as u64);
        let room = veil_abi::PAGE_SIZE - (at as usize % veil_abi::PAGE_SIZE);
        let piece = &data[done..(done + room).min(data.len())];
        if user::write_bytes(at, piece).is_err() {
            break;
        }
        done += piece.len();
    }
    done
}

/// `personality`: programs run as `PER_LINUX`; querying or re-setting it succeeds, other
/// personalities (32-bit emulation, `ADDR_NO_RANDOMIZE`, ...) are not implemented.
pub fn sys_personality(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    match a[0] as u32 {
        PERSONALITY_QUERY | PER_LINUX => Ok(PER_LINUX.into()),
        _ => Err(Error::unsupported(
            Errno::EINVAL,
            "personalities other than PER_LINUX",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_ids_accepts_own_and_unchanged() {
        assert!(set_ids(&[0, 0, 0], 0).is_ok());
        assert!(set_ids(&[u32::MAX as u64, 0], 0).is_ok());
        // The ABI passes 32-bit ids; the upper half of the register is ignored.
        assert!(set_ids(&[u64::MAX], 0).is_ok());
        assert_eq!(set_ids(&[0, 1000], 0).unwrap_err().errno, Errno::EPERM);
        assert_eq!(
            set_single_id(u32::MAX as u64, 0).unwrap_err().errno,
            Errno::EINVAL
        );
        assert_eq!(set_single_id(1, 0).unwrap_err().errno, Errno::EPERM);
        assert!(set_single_id(0, 0).is_ok());
    }

    #[test]
    fn uts_fields_are_nul_terminated() {
        let f = uts_field(&[b'a'; 80]);
        assert_eq!(&f[..64], &[b'a'; 64][..]);
        assert_eq!(f[64], 0);
        assert_eq!(&uts_field(b"Linux")[..6], b"Linux\0");
    }

    #[test]
    fn getrandom_flags() {
        assert!(check_getrandom_flags(0).is_ok());
        assert!(check_getrandom_flags(g::GRND_NONBLOCK | g::GRND_RANDOM).is_ok());
        assert!(check_getrandom_flags(g::GRND_INSECURE | g::GRND_NONBLOCK).is_ok());
        assert!(check_getrandom_flags(g::GRND_INSECURE | g::GRND_RANDOM).is_err());
        assert!(check_getrandom_flags(8).is_err());
    }
}
