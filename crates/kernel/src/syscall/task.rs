//! The calling task's own state: arch_prctl, prctl, set_tid_address, robust lists, rseq, exit,
//! exit_group, and execve/execveat.

use super::*;
use crate::loader;
use core::sync::atomic::Ordering;
use veil_abi::USER_SPACE_END;

const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;
const ARCH_GET_CPUID: u64 = 0x1011;
const ARCH_SET_CPUID: u64 = 0x1012;

pub fn sys_arch_prctl(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (code, addr) = (a[0], a[1]);
    match code {
        ARCH_SET_FS | ARCH_SET_GS => {
            if addr as usize >= USER_SPACE_END {
                return err(Errno::EPERM);
            }
            if code == ARCH_SET_FS {
                ctx.regs.fs_base = addr;
            } else {
                ctx.regs.gs_base = addr;
            }
            Ok(0)
        }
        ARCH_GET_FS => user::write_val(addr, &ctx.regs.fs_base).map(|_| 0),
        ARCH_GET_GS => user::write_val(addr, &ctx.regs.gs_base).map(|_| 0),
        ARCH_GET_CPUID => Ok(1),
        ARCH_SET_CPUID => Err(Error::unsupported(Errno::ENODEV, "CPUID faulting")),
        _ => err(Errno::EINVAL),
    }
}

const PR_SET_PDEATHSIG: u64 = 1;
const PR_GET_PDEATHSIG: u64 = 2;
const PR_GET_DUMPABLE: u64 = 3;
const PR_SET_DUMPABLE: u64 = 4;
const PR_GET_KEEPCAPS: u64 = 7;
const PR_SET_KEEPCAPS: u64 = 8;
const PR_SET_NAME: u64 = 15;
const PR_GET_NAME: u64 = 16;
const PR_GET_SECCOMP: u64 = 21;
const PR_CAPBSET_READ: u64 = 23;
const PR_GET_TIMERSLACK: u64 = 30;
const PR_SET_TIMERSLACK: u64 = 29;
const PR_SET_CHILD_SUBREAPER: u64 = 36;
const PR_GET_CHILD_SUBREAPER: u64 = 37;
const PR_SET_NO_NEW_PRIVS: u64 = 38;
const PR_GET_NO_NEW_PRIVS: u64 = 39;
const PR_SET_THP_DISABLE: u64 = 41;
const PR_GET_THP_DISABLE: u64 = 42;
const PR_CAP_AMBIENT: u64 = 47;
const PR_SET_VMA: u64 = 0x5356_4d41;
const CAP_LAST_CAP: u64 = 40;

pub fn sys_prctl(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let flag = |v: u64| {
        if v <= 1 {
            Ok(v == 1)
        } else {
            err(Errno::EINVAL)
        }
    };
    let mut state = ctx.process.prctl.lock();
    match a[0] {
        PR_SET_NAME => {
            drop(state);
            let mut name = user::read_bytes(a[1], 16).or_else(|_| user::read_cstr(a[1], 4096))?;
            name.truncate(
                name.iter()
                    .position(|&b| b == 0)
                    .unwrap_or(name.len())
                    .min(15),
            );
            ctx.process.exec.lock().comm = name;
            Ok(0)
        }
        PR_GET_NAME => {
            drop(state);
            let mut name = ctx.process.exec.lock().comm.clone();
            name.resize(16, 0);
            user::write_bytes(a[1], &name).map(|_| 0)
        }
        PR_GET_DUMPABLE => Ok(state.dumpable as u64),
        PR_SET_DUMPABLE => flag(a[1]).map(|v| state.dumpable = v).map(|_| 0),
        PR_SET_PDEATHSIG if a[1] <= 64 => {
            state.pdeathsig = a[1] as u32;
            Ok(0)
        }
        PR_SET_PDEATHSIG => err(Errno::EINVAL),
        PR_GET_PDEATHSIG => user::write_val(a[1], &(state.pdeathsig as i32)).map(|_| 0),
        PR_GET_KEEPCAPS => Ok(state.keepcaps as u64),
        PR_SET_KEEPCAPS => flag(a[1]).map(|v| state.keepcaps = v).map(|_| 0),
        PR_GET_THP_DISABLE => Ok(state.thp_disable as u64),
        PR_SET_THP_DISABLE => flag(a[1]).map(|v| state.thp_disable = v).map(|_| 0),
        PR_GET_CHILD_SUBREAPER => user::write_val(a[1], &(state.child_subreaper as i32)).map(|_| 0),
        PR_SET_CHILD_SUBREAPER => {
            state.child_subreaper = a[1] != 0;
            Ok(0)
        }
        PR_SET_NO_NEW_PRIVS if a[1] == 1 && a[2..5] == [0, 0, 0] => {
            state.no_new_privs = true;
            Ok(0)
        }
        PR_SET_NO_NEW_PRIVS => err(Errno::EINVAL),
        PR_GET_NO_NEW_PRIVS => Ok(state.no_new_privs as u64),
        PR_GET_SECCOMP => Ok(0),
        PR_CAPBSET_READ if a[1] <= CAP_LAST_CAP => Ok(1),
        PR_CAPBSET_READ => err(Errno::EINVAL),
        PR_GET_TIMERSLACK => Ok(state.timerslack_ns),
        PR_SET_TIMERSLACK => {
            state.timerslack_ns = if a[1] == 0 { 50_000 } else { a[1] };
            Ok(0)
        }
        PR_CAP_AMBIENT => Ok(0),
        PR_SET_VMA => Ok(0),
        _ => Err(Error::unsupported(Errno::EINVAL, "this prctl option")),
    }
}

pub fn sys_set_tid_address(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    ctx.thread.clear_child_tid.store(a[0], Ordering::Relaxed);
    Ok(ctx.thread.tid as u64)
}

/// `sizeof(struct robust_list_head)`.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;

pub fn sys_set_robust_list(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    if a[1] != ROBUST_LIST_HEAD_SIZE {
        return err(Errno::EINVAL);
    }
    *ctx.thread.robust_list.lock() = (a[0], a[1]);
    Ok(0)
}

pub fn sys_get_robust_list(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let tid = a[0] as i32;
    let thread = if tid == 0 {
        ctx.thread.clone()
    } else {
        kernel()
            .threads
            .lock()
            .get(&tid)
            .cloned()
            .ok_or(Errno::ESRCH)?
    };
    let (head, len) = *thread.robust_list.lock();
    user::write_val(a[1], &head)?;
    user::write_val(a[2], &len)?;
    Ok(0)
}

/// Restartable sequences are not offered; glibc and others fall back when registration fails.
pub fn sys_rseq(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    err(Errno::ENOSYS)
}

pub fn sys_exit(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let how = crate::process::exit_thread(&ctx.thread, (a[0] & 0xff) as i32);
    ctx.end(how)
}

pub fn sys_exit_group(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let how = crate::process::exit_process(crate::process::Exit::Code((a[0] & 0xff) as i32));
    ctx.end(how)
}

/// Most argv/envp entries `execve` accepts.
const MAX_ARGS: usize = 0x7fff_ffff / 8;
/// Longest single argument (Linux's MAX_ARG_STRLEN).
const MAX_ARG_STRLEN: usize = 32 * 4096;

fn do_execve(
    ctx: &mut Ctx,
    dirfd: i32,
    path_addr: u64,
    argv: u64,
    envp: u64,
    flags: u32,
) -> Result<u64> {
    if flags & !(g::AT_EMPTY_PATH | g::AT_SYMLINK_NOFOLLOW) != 0 {
        return err(Errno::EINVAL);
    }
    let path = ctx.path_arg(path_addr)?;
    let argv = user::read_cstr_array(argv, MAX_ARG_STRLEN, MAX_ARGS)?;
    let envp = user::read_cstr_array(envp, MAX_ARG_STRLEN, MAX_ARGS)?;
    let (base, exec_path) = if path.is_empty() && flags & g::AT_EMPTY_PATH != 0 {
        let file = ctx.file(dirfd)?;
        (kernel().mounts.root(), file.loc.path.clone().into_bytes())
    } else {
        (ctx.base_dir(dirfd, &path)?, path)
    };
    let log_failure = |e: &loader::ExecError| {
        log::debug!(
            "execve {}: {}",
            String::from_utf8_lossy(&exec_path),
            e.reason
        );
    };
    let prepared = loader::prepare(&base, &exec_path, argv, envp).map_err(|e| {
        log_failure(&e);
        e.error
    })?;
    // A vfork child shares its parent's address space: with the per-process policy, or when
    // its program's fixed range is taken there, it runs in an address space of its own.
    if kernel().per_process_spaces && ctx.process.vm_is_shared() {
        return exec_in_new_space(ctx, prepared);
    }
    // Point of no return: the new program starts with this thread alone.
    if let Err(how) = crate::process::end_other_threads() {
        return ctx.end(how);
    }
    match loader::load(&ctx.process, &prepared) {
        Ok(loaded) => {
            *ctx.regs = loaded.regs;
            finish_exec(&ctx.thread);
            Ok(crate::process::vfork::after_exec(ctx))
        }
        Err(e) if e.no_room => exec_in_new_space(ctx, prepared),
        Err(e) => {
            log_failure(&e);
            if !e.fatal {
                return Err(e.error);
            }
            // The old program was torn down: there is nothing left to return to.
            let how = crate::signal::terminate_by_signal(
                g::SIGSEGV,
                ": exec failed after the point of no return",
            );
            ctx.end(how)
        }
    }
}

/// What is left of `execve` once the new program is in place.
fn finish_exec(thread: &Thread) {
    let process = &thread.process;
    let closed = process.fds.lock().close_on_exec();
    for entry in closed {
        super::fd::file_closed(process.pid, &entry.file);
    }
    // POSIX timers end at exec; a pending alarm carries over.
    kernel().timers.delete_all(process.pid, true);
    reset_signal_handlers(process);
    *thread.altstack.lock() = (0, g::SS_DISABLE as i32, 0);
    thread.clear_child_tid.store(0, Ordering::Relaxed);
    *thread.robust_list.lock() = (0, 0);
}

/// Moves the calling vfork child to an address space of its own (made by the platform when
/// the trap returns), where it loads `prepared`; its host thread here ends, or goes back to its
/// vfork parent (see [`move_done`]). The host fds its files use go with it.
fn exec_in_new_space(ctx: &mut Ctx, prepared: loader::Prepared) -> Result<u64> {
    // The program starts with this thread alone; the others leave here, in their address space.
    if let Err(how) = crate::process::end_other_threads() {
        return ctx.end(how);
    }
    let mut carried = ctx.process.fds.lock().host_fds_kept_on_exec();
    carried.extend(prepared.host_fds());
    carried.sort_unstable();
    carried.dedup();
    kernel()
        .platform
        .move_on_return(ctx.thread.tid as usize, &carried);
    *ctx.thread.exec_elsewhere.lock() = Some(prepared);
    crate::process::cpu::detach(&ctx.thread);
    let moving = Moving {
        thread: ctx.thread.clone(),
        lender: crate::process::vfork::take_lender(&ctx.thread),
        from: kernel().platform.address_space_id(),
    };
    kernel().moving.lock().insert(ctx.thread.tid, moving);
    Ok(0)
}

/// A thread moving to an address space of its own (`Kernel::moving`).
pub struct Moving {
    pub thread: Arc<Thread>,
    /// The vfork parent whose host thread it runs on here, which gets it back after the move.
    pub lender: Option<Arc<Thread>>,
    /// The address space it leaves (whose host thread reports the move: `TrapHandler::moved`).
    pub from: u64,
}

/// The platform moved `moving.thread` as [`exec_in_new_space`] asked, or failed to: then it
/// stays, and its execve fails. Its host thread here goes back to the vfork parent that lent
/// it (`Err`: which ended as it resumed), or ends.
pub fn move_done(
    moving: Moving,
    regs: &mut UserRegs,
    result: core::result::Result<u64, Errno>,
) -> core::result::Result<(), crate::process::Ended> {
    use crate::process::vfork;
    let Moving { thread, lender, .. } = moving;
    match (result, lender) {
        (Ok(_), Some(lender)) => {
            vfork::give_back_after_move(&thread, &lender, regs).map_err(|how| {
                crate::process::Ended {
                    thread: lender,
                    how,
                }
            })
        }
        (Ok(_), None) => {
            // Nothing of this trap is dropped once the host thread ends.
            drop(thread);
            kernel().platform.exit_thread()
        }
        (Err(e), lender) => {
            thread.exec_elsewhere.lock().take();
            // It stays on this host thread: its CPU time is counted here again (unless the
            // host thread is lent: then it counts as the lender's).
            if lender.is_none() {
                thread.bind_host_thread();
            }
            vfork::restore_lender(&thread, lender);
            regs.rax = e.as_syscall_return();
            Ok(())
        }
    }
}

/// The first steps of a thread moved by [`exec_in_new_space`], in its new address space
/// (`Err`: the program could not be loaded, and the process ended).
pub fn start_exec_elsewhere(
    thread: &Thread,
    prepared: loader::Prepared,
    regs: &mut UserRegs,
) -> core::result::Result<(), crate::process::Ending> {
    let k = kernel();
    let process = &thread.process;
    let old_space = process.space.load(Ordering::SeqCst);
    k.leave_space(process);
    k.join_space(process);
    if k.ending.load(Ordering::SeqCst) {
        k.platform.exit_address_space(0);
    }
    // A copy of the address space it left holds the memory of the processes still there.
    if !k.platform.address_space_is_clean() {
        super::clone::release_others(old_space, None, process.pid);
    }
    process.set_vm(Arc::new(crate::sync::Mutex::new(crate::mm::Vm::default())));
    match loader::load(process, &prepared) {
        Ok(loaded) => {
            *regs = loaded.regs;
            finish_exec(thread);
            Ok(())
        }
        Err(e) => {
            log::warn!("exec in a new address space: {}", e.reason);
            Err(crate::signal::terminate_by_signal(
                g::SIGSEGV,
                ": exec failed in a new address space",
            ))
        }
    }
}

/// Caught signals revert to their default action at exec; ignored ones stay ignored.
fn reset_signal_handlers(process: &Process) {
    let mut actions = process.signals.lock();
    for action in actions.iter_mut() {
        let ignored = action.sa_handler_kernel.map(|f| f as usize) == Some(1);
        if !ignored {
            *action = crate::pod::zeroed();
        }
    }
}

pub fn sys_execve(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_execve(ctx, g::AT_FDCWD, a[0], a[1], a[2], 0)
}

pub fn sys_execveat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    do_execve(ctx, fd_arg(a[0]), a[1], a[2], a[3], a[4] as u32)
}
