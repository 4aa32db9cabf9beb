//! Creating threads: clone and clone3 with the flag sets glibc and musl use for pthreads.
//!
//! A new thread shares everything with its process (memory, files, fs state, signal handlers);
//! the platform starts a host thread that enters user code with the parent's registers, a new
//! stack and TLS, and rax = 0. Creating processes (no CLONE_VM, or CLONE_VFORK) comes with the
//! processes work and fails with ENOSYS and a log line for now.

use super::*;
use crate::process::Thread;
use core::sync::atomic::Ordering;

const CLONE_VM: u64 = 0x100;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_PARENT: u64 = 0x8000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SYSVSEM: u64 = 0x40000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x100000;
const CLONE_CHILD_CLEARTID: u64 = 0x200000;
const CLONE_DETACHED: u64 = 0x400000;
const CLONE_CHILD_SETTID: u64 = 0x1000000;
const CSIGNAL: u64 = 0xff;

/// The flags a thread needs; anything else outside `THREAD_OPTIONAL` is a process-creation form.
const THREAD_REQUIRED: u64 = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
const THREAD_OPTIONAL: u64 = CLONE_SYSVSEM
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_CHILD_SETTID
    | CLONE_DETACHED
    | CLONE_PARENT;

/// What a clone request asks for, from either syscall.
struct CloneArgs {
    flags: u64,
    /// New stack pointer (0 = keep the parent's).
    stack_top: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
    exit_signal: u64,
}

fn validate(args: &CloneArgs) -> Result<()> {
    let f = args.flags;
    // Linux's consistency rules (copy_process).
    if f & CLONE_THREAD != 0 && f & CLONE_SIGHAND == 0
        || f & CLONE_SIGHAND != 0 && f & CLONE_VM == 0
    {
        return err(Errno::EINVAL);
    }
    if f & CLONE_PIDFD != 0 && f & CLONE_THREAD != 0 {
        return err(Errno::EINVAL);
    }
    if f & THREAD_REQUIRED != THREAD_REQUIRED || f & !(THREAD_REQUIRED | THREAD_OPTIONAL) != 0 {
        return Err(Error::unsupported(
            Errno::ENOSYS,
            "creating processes (fork, vfork, posix_spawn)",
        ));
    }
    if args.exit_signal != 0 {
        return err(Errno::EINVAL);
    }
    Ok(())
}

fn create_thread(ctx: &mut Ctx, args: CloneArgs) -> Result<u64> {
    validate(&args)?;
    let k = kernel();
    let tid = k.alloc_id();
    let thread = Thread::new(tid, ctx.process.clone());
    // A new thread starts with its creator's signal mask and affinity, and no alternate stack.
    thread.sigmask.store(
        ctx.thread.sigmask.load(Ordering::Relaxed),
        Ordering::Relaxed,
    );
    *thread.affinity.lock() = ctx.thread.affinity.lock().clone();
    if args.flags & CLONE_CHILD_CLEARTID != 0 {
        thread
            .clear_child_tid
            .store(args.child_tid, Ordering::Relaxed);
    }
    let tid_bytes = tid.to_ne_bytes();
    let publish = |addr: u64| user::write_bytes(addr, &tid_bytes);
    let undo = |thread: &Thread| {
        ctx.process.threads.lock().retain(|&t| t != thread.tid);
    };
    if args.flags & CLONE_PARENT_SETTID != 0 {
        publish(args.parent_tid).inspect_err(|_| undo(&thread))?;
    }
    if args.flags & CLONE_CHILD_SETTID != 0 {
        publish(args.child_tid).inspect_err(|_| undo(&thread))?;
    }
    let mut regs = *ctx.regs;
    regs.rax = 0;
    if args.stack_top != 0 {
        regs.rsp = args.stack_top;
    }
    if args.flags & CLONE_SETTLS != 0 {
        regs.fs_base = args.tls;
    }
    k.threads.lock().insert(tid, thread.clone());
    if let Err(e) = k.platform.spawn_thread(regs, tid as usize) {
        k.threads.lock().remove(&tid);
        undo(&thread);
        return Err(e.into());
    }
    Ok(tid as u64)
}

pub fn sys_clone(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    // x86-64 order: flags, new stack, parent tid pointer, child tid pointer, tls.
    let args = CloneArgs {
        flags: a[0] & !CSIGNAL,
        stack_top: a[1],
        parent_tid: a[2],
        child_tid: a[3],
        tls: a[4],
        exit_signal: a[0] & CSIGNAL,
    };
    create_thread(ctx, args)
}

/// `struct clone_args` fields up to `tls` (CLONE_ARGS_SIZE_VER0 = 64 bytes).
const CLONE_ARGS_SIZE_VER0: u64 = 64;

pub fn sys_clone3(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (addr, size) = (a[0], a[1]);
    if !(CLONE_ARGS_SIZE_VER0..=4096).contains(&size) {
        return err(Errno::EINVAL);
    }
    let raw = user::read_bytes(addr, size as usize)?;
    let field = |i: usize| u64::from_ne_bytes(raw[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    // Fields past the ones Veil knows must be zero (Linux's rule for extensible structs).
    let known = 11 * 8;
    if raw.iter().skip(known).any(|&b| b != 0) {
        return Err(Error::unsupported(
            Errno::E2BIG,
            "clone3 arguments beyond cgroup",
        ));
    }
    let (flags, stack, stack_size) = (field(0), field(5), field(6));
    if size as usize >= 10 * 8 && (field(8) != 0 || field(9) != 0) {
        return Err(Error::unsupported(Errno::EINVAL, "clone3 set_tid"));
    }
    if (stack == 0) != (stack_size == 0) {
        return err(Errno::EINVAL);
    }
    let args = CloneArgs {
        flags,
        stack_top: if stack == 0 {
            0
        } else {
            stack.checked_add(stack_size).ok_or(Errno::EINVAL)?
        },
        parent_tid: field(3),
        child_tid: field(2),
        tls: field(7),
        exit_signal: field(4),
    };
    if flags & CSIGNAL != 0 {
        return err(Errno::EINVAL);
    }
    create_thread(ctx, args)
}
