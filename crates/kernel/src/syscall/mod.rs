//! Syscall dispatch: looks the number up in the one [`table`], runs the handler, converts its
//! `Result` to the return register (the only place `-errno` is produced), and traces it for
//! `--strace`. Handlers live in one file per syscall family.

pub mod table;

mod attr;
pub mod clone;
mod epoll;
mod eventfd;
mod fd;
mod futex;
mod info;
mod io;
mod kill;
mod memfd;
mod mmap;
pub mod mqueue;
pub mod msg;
mod namespace;
mod open;
mod pidfd;
mod pipe;
mod poll;
mod resource;
pub mod sem;
pub mod shm;
mod sigaction;
mod signalfd;
mod stat;
pub mod strace;
pub mod task;
mod time;
mod timer;
mod timerfd;
mod wait;
mod xattr;

use crate::error::{Error, Result, err};
use crate::fs::path::{PATH_MAX, ParentLoc};
use crate::fs::{Loc, OpenFile};
use crate::process::{Ended, Ending, Process, Thread, current_thread};
use crate::root::kernel;
use crate::user;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use veil_abi::Errno;
use veil_abi::general as g;
use veil_platform::{FastExit, UserRegs};

/// A syscall handler: gets the caller's context and the six raw arguments.
pub type Handler = fn(&mut Ctx, [u64; 6]) -> Result<u64>;

/// The context of one syscall.
pub struct Ctx<'a> {
    pub regs: &'a mut UserRegs,
    pub thread: Arc<Thread>,
    pub process: Arc<Process>,
    /// Set when the syscall ended the caller (`thread`): see [`Ctx::end`].
    ending: Option<Ending>,
}

/// Handles the syscall trapped with `regs` and writes its result into `regs.rax`. `Err`: the
/// caller ended, by this syscall or by a signal acted on before it returns.
pub fn dispatch(regs: &mut UserRegs) -> core::result::Result<(), Ended> {
    let k = kernel();
    let thread = current_thread();
    let process = thread.process.clone();
    let nr = regs.rax;
    if k.strace.is_none() && !table::needs_full_context(nr) {
        crate::mm::patch::consider(&process, regs.rip, nr);
    }
    let args = regs.syscall_args();
    let entry = table::lookup(nr);
    let trace = k
        .strace
        .map(|fd| (fd, strace::format_call(nr, entry, &args)));
    if let Some((fd, call)) = &trace
        && entry.is_some_and(|e| strace::never_returns(e.name))
    {
        strace::emit(*fd, call, "?");
    }
    let caller = thread.tid;
    let mut ctx = Ctx {
        regs,
        thread,
        process,
        ending: None,
    };
    let result = run(&mut ctx, nr, entry, args);
    if let Some(how) = ctx.ending {
        return Err(Ended {
            thread: ctx.thread,
            how,
        });
    }
    set_return(ctx.regs, nr, result);
    if let Some((fd, call)) = trace {
        let ret = if ctx.thread.tid == caller {
            strace::format_result(entry, &args, ctx.regs.rax)
        } else if table::is_exec(nr) {
            // The exec'd program goes on elsewhere; this host thread went back to the parent.
            String::from("0")
        } else {
            // The host thread was lent to a vfork child (see `strace::resumed`).
            String::from("?")
        };
        strace::emit(fd, &call, &ret);
    }
    let after = crate::process::leave_if_exiting(&ctx.thread).and_then(|()| {
        crate::signal::collect_host_signals();
        crate::signal::deliver_pending(ctx.regs, &ctx.thread)
    });
    after.map_err(|how| Ended {
        thread: ctx.thread,
        how,
    })
}

/// Handles a syscall made through a patched site (the platform's fast path), unless it needs
/// what only the full trap path has: the whole user context, `--strace`, or signals to act on
/// before or after it.
pub fn fast(regs: &mut UserRegs) -> FastExit {
    let nr = regs.rax;
    if kernel().strace.is_some() || table::needs_full_context(nr) {
        return FastExit::Trap;
    }
    let thread = current_thread();
    let attention = |thread: &Thread| {
        crate::signal::thread_interrupted(thread) || thread.saved_sigmask.lock().is_some()
    };
    if attention(&thread) {
        return FastExit::Trap;
    }
    let site = regs.rip;
    let process = thread.process.clone();
    let args = regs.syscall_args();
    let mut ctx = Ctx {
        regs,
        thread,
        process,
        ending: None,
    };
    let result = run(&mut ctx, nr, table::lookup(nr), args);
    if let Some(how) = ctx.ending {
        // Not reached: the syscalls that can end their caller take the full trap path.
        crate::process::finish(Ended {
            thread: ctx.thread,
            how,
        });
    }
    set_return(ctx.regs, nr, result);
    if ctx.regs.rip != site || attention(&ctx.thread) {
        FastExit::Deliver
    } else {
        FastExit::Done
    }
}

/// Runs the handler of syscall `nr` (ENOSYS, logged once, without one).
fn run(ctx: &mut Ctx, nr: u64, entry: Option<&table::Entry>, args: [u64; 6]) -> Result<u64> {
    let result = match entry.and_then(|e| e.handler) {
        Some(handler) if table::maps_memory(nr) => {
            let mut result = err(Errno::ENOSYS);
            kernel()
                .platform
                .hold_mappings(&mut || result = handler(ctx, args));
            result
        }
        Some(handler) => handler(ctx, args),
        None => Err(Error::unsupported(Errno::ENOSYS, "syscall not implemented")),
    };
    if let Err(e) = &result
        && e.unsupported
        && kernel().first_warning(nr)
    {
        let name = entry.map_or("unknown", |e| e.name);
        log::warn!("syscall {name} ({nr}): {}: returning {}", e.msg, e.errno);
    }
    result
}

/// Writes the return register for `result`. An interrupted syscall that restarts re-executes
/// its `syscall` instruction once the signal is dealt with.
fn set_return(regs: &mut UserRegs, nr: u64, result: Result<u64>) {
    regs.rax = match result {
        Ok(value) => value,
        Err(e) if e.errno == Errno::ERESTARTSYS || e.errno == Errno::ERESTARTNOHAND => {
            crate::signal::collect_host_signals();
            if crate::signal::restarts(e.errno) {
                regs.rip -= 2;
                nr
            } else {
                Errno::EINTR.as_syscall_return()
            }
        }
        Err(e) => e.errno.as_syscall_return(),
    };
}

/// Number of CPUs programs see (`sched_getaffinity`, `/proc`).
pub fn online_cpus() -> usize {
    kernel().platform.cpu_count().clamp(1, 1024)
}

/// A file-descriptor argument (the ABI passes `int`).
pub fn fd_arg(raw: u64) -> i32 {
    raw as u32 as i32
}

impl Ctx<'_> {
    /// Records that the syscall ended the caller (`how`): the dispatcher returns it to the
    /// trap entry, which finishes the thread. What the syscall returns is never seen.
    pub fn end(&mut self, how: Ending) -> Result<u64> {
        self.ending = Some(how);
        Ok(0)
    }

    /// The open file behind `fd`.
    pub fn file(&self, fd: i32) -> Result<Arc<OpenFile>> {
        Ok(self.process.fds.lock().get(fd)?.file.clone())
    }

    /// Reads a path argument (EFAULT, ENAMETOOLONG as Linux).
    pub fn path_arg(&self, addr: u64) -> Result<Vec<u8>> {
        user::read_cstr(addr, PATH_MAX - 1)
    }

    /// The directory relative paths start from for `dirfd` (AT_FDCWD = the cwd).
    pub fn base_dir(&self, dirfd: i32, path: &[u8]) -> Result<Loc> {
        if path.first() == Some(&b'/') {
            return Ok(kernel().mounts.root());
        }
        if dirfd == g::AT_FDCWD {
            return Ok(self.process.cwd());
        }
        let file = self.file(dirfd)?;
        if !file.loc.is_dir() {
            return err(Errno::ENOTDIR);
        }
        Ok(file.loc.clone())
    }

    /// Resolves `(dirfd, path)`; with `AT_EMPTY_PATH` in `flags`, an empty path means `dirfd`.
    pub fn resolve_at(&self, dirfd: i32, path_addr: u64, flags: u32) -> Result<Loc> {
        let path = self.path_arg(path_addr)?;
        self.resolve_path_at(dirfd, &path, flags)
    }

    /// As [`Ctx::resolve_at`] with the path already read.
    pub fn resolve_path_at(&self, dirfd: i32, path: &[u8], flags: u32) -> Result<Loc> {
        if path.is_empty() {
            if flags & g::AT_EMPTY_PATH == 0 {
                return err(Errno::ENOENT);
            }
            if dirfd == g::AT_FDCWD {
                return Ok(self.process.cwd());
            }
            return Ok(self.file(dirfd)?.loc.clone());
        }
        let base = self.base_dir(dirfd, path)?;
        let follow = flags & g::AT_SYMLINK_NOFOLLOW == 0;
        kernel().mounts.resolve(&base, path, follow)
    }

    /// Resolves the parent directory of `(dirfd, path)` for create/remove operations.
    pub fn parent_at(&self, dirfd: i32, path_addr: u64) -> Result<ParentLoc> {
        let path = self.path_arg(path_addr)?;
        let base = self.base_dir(dirfd, &path)?;
        kernel().mounts.resolve_parent(&base, &path)
    }

    /// Installs `file` at the lowest free fd (within RLIMIT_NOFILE); returns the fd.
    pub fn install(&self, file: Arc<OpenFile>, cloexec: bool) -> Result<u64> {
        let limit = self.process.limits.lock().nofile();
        Ok(self
            .process
            .fds
            .lock()
            .insert_from(0, file, cloexec, limit)? as u64)
    }

    /// Opens an anonymous-inode file (`/proc/pid/fd` shows `anon_inode:[kind]`) and installs it.
    pub fn install_anon(
        &self,
        ops: Arc<dyn crate::fs::FileOps>,
        inode: crate::fs::InodeRef,
        kind: &str,
        flags: u32,
        cloexec: bool,
    ) -> Result<u64> {
        let loc = Loc::detached(alloc::format!("anon_inode:[{kind}]"), inode);
        self.install(OpenFile::new(ops, loc, flags), cloexec)
    }

    /// The process's file-creation mask.
    pub fn umask(&self) -> u32 {
        self.process.fs.lock().umask
    }
}
