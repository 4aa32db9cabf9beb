//! Creating threads and processes: clone, clone3 and vfork.
//!
//! A new thread shares everything with its process (memory, files, fs state, signal handlers);
//! the platform starts a host thread that enters user code with the parent's registers, a new
//! stack and TLS, and rax = 0. A vfork-style child (CLONE_VM | CLONE_VFORK: `vfork`, glibc's
//! `posix_spawn`, Python's `subprocess`) is a new process in the same address space that borrows
//! its parent's memory, and its host thread, until it execs or exits, while the parent waits
//! (`process::vfork`). `fork` (and clone
//! without CLONE_VM) makes a new process in a copy of the caller's address space: the platform
//! copies the host process (copy-on-write), and in the copy the kernel releases the memory of
//! the other processes that shared the original. Kernel objects (open files, pipes, the
//! process table) live in the shared kernel heap, so both sides keep seeing the same ones.

use super::*;
use crate::process::Thread;
use core::ops::Bound;
use core::sync::atomic::Ordering;

const CLONE_VM: u64 = 0x100;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_VFORK: u64 = 0x4000;
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

/// Flags a vfork-style child may come with.
const VFORK_ALLOWED: u64 = CLONE_VM
    | CLONE_VFORK
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_SETTLS;

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

/// Dispatches a clone request to thread or process creation.
fn create(ctx: &mut Ctx, args: CloneArgs) -> Result<u64> {
    let f = args.flags;
    if f & CLONE_THREAD == 0 && f & (CLONE_VM | CLONE_VFORK) == CLONE_VM | CLONE_VFORK {
        if f & !VFORK_ALLOWED != 0 {
            return Err(Error::unsupported(
                Errno::ENOSYS,
                "this combination of clone flags for a new process",
            ));
        }
        return create_vfork_child(ctx, args);
    }
    if f & CLONE_VM == 0 {
        return create_forked_child(ctx, args);
    }
    create_thread(ctx, args)
}

/// Flags a forked child (no CLONE_VM) may come with.
const FORK_ALLOWED: u64 = CLONE_PARENT_SETTID
    | CLONE_CHILD_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_SETTLS
    | CLONE_PARENT
    | CLONE_DETACHED
    | CLONE_SYSVSEM;

/// `fork`: a new process in a copy of the caller's address space. The copy is made by the
/// platform when this trap returns (see `Platform::fork_on_return`); the child's thread then
/// starts in it through [`start_forked_child`].
fn create_forked_child(ctx: &mut Ctx, args: CloneArgs) -> Result<u64> {
    if args.flags & !FORK_ALLOWED != 0 {
        return Err(Error::unsupported(
            Errno::EINVAL,
            "sharing files, fs state or handlers (or namespaces) with a forked child",
        ));
    }
    let k = kernel();
    let parent = ctx.process.clone();
    let pid = k.alloc_id();
    let child = crate::process::Process::child_of(&parent, pid);
    if args.flags & CLONE_PARENT != 0 {
        child.ppid.store(parent.ppid(), Ordering::Relaxed);
    }
    child
        .exit_signal
        .store(args.exit_signal as u32, Ordering::Relaxed);
    let copied = parent.vm();
    let copy = copied.lock().clone();
    child.set_vm(Arc::new(crate::sync::Mutex::new(copy)));
    let thread = Thread::new(pid, child.clone());
    // Its thread runs on the forking host thread's copy.
    child.host_threads.store(1, Ordering::SeqCst);
    *thread.altstack.lock() = *ctx.thread.altstack.lock();
    *thread.affinity.lock() = ctx.thread.affinity.lock().clone();
    let regs = inherit(ctx, &args, &thread);
    *thread.fork_start.lock() = Some(crate::process::ForkStart {
        regs,
        space: parent.space.load(Ordering::SeqCst),
        copied,
        set_tid_at: if args.flags & CLONE_CHILD_SETTID != 0 {
            args.child_tid
        } else {
            0
        },
    });
    if args.flags & CLONE_PARENT_SETTID != 0 {
        user::write_bytes(args.parent_tid, &pid.to_ne_bytes())?;
    }
    let objects = Arc::as_ptr(&thread) as usize;
    k.processes.lock().insert(pid, child);
    k.threads.lock().insert(pid, thread);
    ctx.thread.forking.store(pid, Ordering::SeqCst);
    k.platform.fork_on_return(pid as usize, objects);
    Ok(pid as u64)
}

/// The platform made (or failed to make) the copy of the address space `thread` asked for.
pub fn fork_done(thread: &Thread, regs: &mut UserRegs, result: core::result::Result<u64, Errno>) {
    match result {
        Err(e) => {
            abandon_fork(thread);
            regs.rax = e.as_syscall_return();
        }
        Ok(_) => thread.forking.store(0, Ordering::SeqCst),
    }
}

/// Forgets the address space `thread` asked for: it will not be made.
pub fn abandon_fork(thread: &Thread) {
    let k = kernel();
    thread.exec_elsewhere.lock().take();
    // Only where the move was asked for: a thread that already runs in its new address space
    // (and ends there at once) leaves the record to the old one's report of the move, which
    // gives the lender its host thread back there.
    let here = k.platform.address_space_id();
    let moving = {
        let mut all = k.moving.lock();
        let asked_here = all.get(&thread.tid).is_some_and(|m| m.from == here);
        if asked_here {
            all.remove(&thread.tid)
        } else {
            None
        }
    };
    if let Some(moving) = moving {
        // It leaves here after all: so does a host thread it borrowed (see `vfork`).
        crate::process::vfork::restore_lender(thread, moving.lender);
    }
    let pid = thread.forking.swap(0, Ordering::SeqCst);
    if pid != 0 {
        k.threads.lock().remove(&pid);
        k.processes.lock().remove(&pid);
    }
}

/// First steps of a forked child's thread, in its new address space: it takes its registers,
/// joins the address space, releases the memory of the processes it left behind, and stores
/// its tid where `CLONE_CHILD_SETTID` asked.
pub fn start_forked_child(thread: &Thread, start: crate::process::ForkStart, regs: &mut UserRegs) {
    let k = kernel();
    *regs = start.regs;
    k.join_space(&thread.process);
    if k.ending.load(Ordering::SeqCst) {
        k.platform.exit_address_space(0);
    }
    release_others(start.space, Some(&start.copied), thread.tid);
    if start.set_tid_at != 0 {
        // As on Linux, a bad address here is ignored.
        let _ = user::write_bytes(start.set_tid_at, &thread.tid.to_ne_bytes());
    }
}

/// In a fresh copy of address space `space`: unmaps the memory of the processes that stayed
/// behind in the original (all but `pid`, the process the copy is for, and whoever shares
/// `kept`, the memory it copied).
pub fn release_others(space: u64, kept: Option<&Arc<crate::sync::Mutex<crate::mm::Vm>>>, pid: i32) {
    let k = kernel();
    // One process at a time (the table is a leaf lock), not a list: a fork's child comes here
    // first thing, and its allocations take pages of the shared heap it has not touched yet.
    let mut after = Bound::Unbounded;
    loop {
        let next = k
            .processes
            .lock()
            .range((after, Bound::Unbounded))
            .find(|(_, p)| p.pid != pid && p.space.load(Ordering::SeqCst) == space)
            .map(|(&other, p)| (other, p.clone()));
        let Some((other, process)) = next else {
            return;
        };
        after = Bound::Excluded(other);
        let vm = process.vm();
        if kept.is_some_and(|kept| Arc::ptr_eq(&vm, kept)) {
            continue;
        }
        let ranges: Vec<(usize, usize)> = vm.lock().iter().map(|v| (v.start, v.end)).collect();
        crate::mm::unmap_ranges(ranges);
    }
}

/// A vfork-style child: a new process sharing the caller's memory; the caller waits until the
/// child execs or ends. The child runs on the caller's host thread meanwhile (see
/// `process::vfork`): `ctx` is the child's when this returns.
fn create_vfork_child(ctx: &mut Ctx, args: CloneArgs) -> Result<u64> {
    let k = kernel();
    let pid = k.alloc_id();
    let child = crate::process::Process::child_of(&ctx.process, pid);
    child
        .exit_signal
        .store(args.exit_signal as u32, Ordering::Relaxed);
    let thread = Thread::new(pid, child.clone());
    k.processes.lock().insert(pid, child.clone());
    k.join_space(&child);
    let undo = || {
        k.processes.lock().remove(&pid);
        k.leave_space(&child);
    };
    // An exiting process makes no more processes in its address space (as on Linux, where
    // the group exit's SIGKILL fails the clone): its exit may already have left its host
    // mappings in place for the host process's end, so a newcomer's would collide with them.
    // Checked after joining, so that either this sees `exiting` or the exit sees the newcomer.
    if ctx.process.exiting.load(Ordering::SeqCst) {
        undo();
        return Err(Errno::EINTR.into());
    }
    let regs = register_task(ctx, &args, &thread, undo)?;
    crate::process::vfork::lend_to_child(ctx, thread, regs);
    Ok(0)
}

fn create_thread(ctx: &mut Ctx, args: CloneArgs) -> Result<u64> {
    validate(&args)?;
    let tid = kernel().alloc_id();
    let thread = Thread::new(tid, ctx.process.clone());
    // A new thread also starts with its creator's affinity (and no alternate stack).
    *thread.affinity.lock() = ctx.thread.affinity.lock().clone();
    let process = ctx.process.clone();
    let undo = || {
        process.threads.lock().retain(|&t| t != tid);
    };
    let regs = register_task(ctx, &args, &thread, undo)?;
    let k = kernel();
    // On its creator's CPU, as on Linux: a (parked) host thread woken on another, idle CPU
    // takes tens of microseconds longer to start on a virtual machine, and so does its joiner's
    // wake-up when it ends (thread create+join took 1.7–1.9x native time, now ~0.8x).
    if let Err(e) = k.platform.spawn_thread(regs, tid as usize, true) {
        process.host_threads.fetch_sub(1, Ordering::SeqCst);
        k.threads.lock().remove(&tid);
        undo();
        return Err(e.into());
    }
    Ok(tid as u64)
}

/// What every new thread takes from its creator and from `args`: the signal mask, the
/// clear-child-tid address, and the registers it starts with (the creator's, with rax = 0 and
/// the new stack and TLS).
fn inherit(ctx: &Ctx, args: &CloneArgs, thread: &Thread) -> UserRegs {
    thread.sigmask.store(
        ctx.thread.sigmask.load(Ordering::Relaxed),
        Ordering::Relaxed,
    );
    if args.flags & CLONE_CHILD_CLEARTID != 0 {
        thread
            .clear_child_tid
            .store(args.child_tid, Ordering::Relaxed);
    }
    let mut regs = *ctx.regs;
    regs.rax = 0;
    if args.stack_top != 0 {
        regs.rsp = args.stack_top;
    }
    if args.flags & CLONE_SETTLS != 0 {
        regs.fs_base = args.tls;
    }
    regs
}

/// Registers the new `thread` (of a new thread or process) of this address space: what it
/// inherits, and the tid published as `args` ask. Returns the registers it starts with. If it
/// cannot be registered, `undo` forgets what the caller registered.
fn register_task(
    ctx: &Ctx,
    args: &CloneArgs,
    thread: &Arc<Thread>,
    undo: impl Fn(),
) -> Result<UserRegs> {
    let k = kernel();
    let tid = thread.tid;
    let regs = inherit(ctx, args, thread);
    for (flag, addr) in [
        (CLONE_PARENT_SETTID, args.parent_tid),
        (CLONE_CHILD_SETTID, args.child_tid),
    ] {
        if args.flags & flag != 0 {
            user::write_bytes(addr, &tid.to_ne_bytes()).inspect_err(|_| undo())?;
        }
    }
    k.threads.lock().insert(tid, thread.clone());
    thread.process.host_threads.fetch_add(1, Ordering::SeqCst);
    Ok(regs)
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
    create(ctx, args)
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
    create(ctx, args)
}

pub fn sys_vfork(ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    let args = CloneArgs {
        flags: CLONE_VM | CLONE_VFORK,
        stack_top: 0,
        parent_tid: 0,
        child_tid: 0,
        tls: 0,
        exit_signal: g::SIGCHLD as u64,
    };
    create(ctx, args)
}

pub fn sys_fork(ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    let args = CloneArgs {
        flags: 0,
        stack_top: 0,
        parent_tid: 0,
        child_tid: 0,
        tls: 0,
        exit_signal: g::SIGCHLD as u64,
    };
    create(ctx, args)
}
