//! Processes and threads: identity, the state a process owns (fds, cwd, memory, signal
//! dispositions, limits), and how the kernel finds the caller of a syscall.
//!
//! Lock order: `Kernel::threads` and `Kernel::processes` are leaves; a process's own locks are
//! taken in the order `fds` → `fs` → `vm` → `signals` → `limits` → `exec`; `groups` and a
//! thread's `altstack` and `affinity` are leaves.

pub mod identity;
pub mod limits;

use crate::fs::Loc;
use crate::fs::fdtable::FdTable;
use crate::mm::Vm;
use crate::root::kernel;
use crate::sync::Mutex;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use veil_abi::general as g;

/// Working directory and umask.
pub struct FsState {
    pub cwd: Loc,
    pub umask: u32,
}

/// What `execve` set up: shown by /proc and used by `prctl`.
#[derive(Default, Clone)]
pub struct ExecInfo {
    /// Absolute path of the executable inside the instance.
    pub exe: String,
    /// argv, NUL-separated, as /proc/pid/cmdline shows it.
    pub cmdline: Vec<u8>,
    /// Environment, NUL-separated, as /proc/pid/environ shows it.
    pub environ: Vec<u8>,
    /// `comm`: the task name (16 bytes max including NUL).
    pub comm: Vec<u8>,
    /// The auxiliary vector given to the program.
    pub auxv: Vec<(u64, u64)>,
}

/// Per-process switches set with `prctl`.
#[derive(Clone, Copy)]
pub struct PrctlState {
    pub dumpable: bool,
    pub no_new_privs: bool,
    pub child_subreaper: bool,
    pub keepcaps: bool,
    pub thp_disable: bool,
    /// Signal sent when the parent dies (`PR_SET_PDEATHSIG`), 0 = none.
    pub pdeathsig: u32,
    pub timerslack_ns: u64,
}

impl Default for PrctlState {
    fn default() -> Self {
        PrctlState {
            dumpable: true,
            no_new_privs: false,
            child_subreaper: false,
            keepcaps: false,
            thp_disable: false,
            pdeathsig: 0,
            timerslack_ns: 50_000,
        }
    }
}

/// A LibOS process.
pub struct Process {
    pub pid: i32,
    pub ppid: AtomicI32,
    pub pgid: AtomicI32,
    pub sid: AtomicI32,
    pub fds: Mutex<FdTable>,
    pub fs: Mutex<FsState>,
    pub vm: Mutex<Vm>,
    /// Signal dispositions, indexed by signal number − 1.
    pub signals: Mutex<[g::kernel_sigaction; 64]>,
    pub limits: Mutex<limits::Limits>,
    pub exec: Mutex<ExecInfo>,
    pub prctl: Mutex<PrctlState>,
    /// Thread ids of the process's live threads.
    pub threads: Mutex<Vec<i32>>,
    pub start_time_ns: u64,
    /// Nice value (−20..=19), as `setpriority` set it.
    pub nice: AtomicI32,
    /// Scheduling policy (`SCHED_*`, with `SCHED_RESET_ON_FORK`), as `sched_setscheduler` set it.
    pub sched_policy: AtomicU32,
    /// Supplementary group ids (`getgroups`/`setgroups`).
    pub groups: Mutex<Vec<u32>>,
}

/// A LibOS thread.
pub struct Thread {
    pub tid: i32,
    pub process: Arc<Process>,
    /// Blocked-signal mask.
    pub sigmask: AtomicU64,
    /// The mask to restore after the next handler (set by sigsuspend-like calls that wait with
    /// a temporary mask).
    pub saved_sigmask: Mutex<Option<u64>>,
    /// Signals pending for this thread (a bit per signal) ...
    pub pending: AtomicU64,
    /// ... and what each pending instance carries, in arrival order.
    pub queued: Mutex<Vec<crate::signal::SigInfo>>,
    /// `set_tid_address` / `CLONE_CHILD_CLEARTID` address.
    pub clear_child_tid: AtomicU64,
    /// `set_robust_list` head and length.
    pub robust_list: Mutex<(u64, u64)>,
    /// Alternate signal stack (`sigaltstack`): sp, flags, size.
    pub altstack: Mutex<(u64, i32, u64)>,
    /// CPU affinity mask (`sched_setaffinity`), 64 CPUs a word; empty = every online CPU.
    pub affinity: Mutex<Vec<u64>>,
}

impl Process {
    pub fn new(pid: i32, ppid: i32, cwd: Loc, limits: limits::Limits) -> Arc<Process> {
        Arc::new(Process {
            pid,
            ppid: AtomicI32::new(ppid),
            pgid: AtomicI32::new(pid),
            sid: AtomicI32::new(pid),
            fds: Mutex::new(FdTable::default()),
            fs: Mutex::new(FsState { cwd, umask: 0o022 }),
            vm: Mutex::new(Vm::default()),
            signals: Mutex::new([crate::pod::zeroed(); 64]),
            limits: Mutex::new(limits),
            exec: Mutex::new(ExecInfo::default()),
            prctl: Mutex::new(PrctlState::default()),
            threads: Mutex::new(Vec::new()),
            start_time_ns: kernel().monotonic_ns(),
            nice: AtomicI32::new(0),
            sched_policy: AtomicU32::new(g::SCHED_NORMAL),
            groups: Mutex::new(alloc::vec![identity::GID]),
        })
    }

    pub fn ppid(&self) -> i32 {
        self.ppid.load(Ordering::Relaxed)
    }

    /// The current working directory.
    pub fn cwd(&self) -> Loc {
        self.fs.lock().cwd.clone()
    }
}

impl Thread {
    pub fn new(tid: i32, process: Arc<Process>) -> Arc<Thread> {
        process.threads.lock().push(tid);
        Arc::new(Thread {
            tid,
            process,
            sigmask: AtomicU64::new(0),
            saved_sigmask: Mutex::new(None),
            pending: AtomicU64::new(0),
            queued: Mutex::new(Vec::new()),
            clear_child_tid: AtomicU64::new(0),
            robust_list: Mutex::new((0, 0)),
            altstack: Mutex::new((0, g::SS_DISABLE as i32, 0)),
            affinity: Mutex::new(Vec::new()),
        })
    }
}

/// The LibOS thread running this code, or None in a kernel service thread.
pub fn current_thread_opt() -> Option<Arc<Thread>> {
    let k = kernel();
    let tid = k.platform.thread_data() as i32;
    k.threads.lock().get(&tid).cloned()
}

/// The thread executing the current syscall.
pub fn current_thread() -> Arc<Thread> {
    let k = kernel();
    let tid = k.platform.thread_data() as i32;
    k.threads
        .lock()
        .get(&tid)
        .cloned()
        .expect("trap from a thread the kernel does not know")
}

/// The process executing the current syscall.
pub fn current_process() -> Arc<Process> {
    current_thread().process.clone()
}

/// Ends `thread` (the caller): wakes a joiner through its clear-child-tid word, marks robust
/// futexes it still holds as owner-dead, and forgets it. The last thread's exit ends the process.
pub fn exit_thread(thread: &Arc<Thread>, code: i32) -> ! {
    let k = kernel();
    release_robust_futexes(thread);
    let ctid = thread.clear_child_tid.swap(0, Ordering::Relaxed);
    if ctid != 0 && crate::user::write_val(ctid, &0u32).is_ok() {
        let key = crate::ipc::futex::FutexKey {
            pid: thread.process.pid,
            addr: ctid,
        };
        k.futexes.wake(key, 1, u32::MAX);
    }
    let last = {
        let mut threads = thread.process.threads.lock();
        threads.retain(|&t| t != thread.tid);
        threads.is_empty()
    };
    if last {
        exit_process(code);
    }
    k.threads.lock().remove(&thread.tid);
    k.platform.exit_thread()
}

/// Robust futex list processing at thread death (see `Documentation/locking/robust-futexes`):
/// every futex word on the list still owned by the thread gets FUTEX_OWNER_DIED, and one waiter
/// is woken if there are any.
fn release_robust_futexes(thread: &Thread) {
    const FUTEX_WAITERS: u32 = 0x8000_0000;
    const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
    const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
    const MAX_ENTRIES: usize = 2048;
    let (head, len) = *thread.robust_list.lock();
    if head == 0 || len != 24 {
        return;
    }
    let read = |addr: u64| crate::user::read_val::<u64>(addr);
    let Ok(offset) = read(head + 8) else { return };
    let pending = read(head + 16).unwrap_or(0);
    let release = |entry: u64| {
        // The low bit of an entry pointer marks a priority-inheritance futex.
        let word = (entry & !1).wrapping_add(offset);
        let Ok(value) = crate::user::read_val::<u32>(word) else {
            return;
        };
        if value & FUTEX_TID_MASK != thread.tid as u32 {
            return;
        }
        let new = value & FUTEX_WAITERS | FUTEX_OWNER_DIED;
        if kernel()
            .platform
            .cmpxchg_user_u32(word as usize, value, new)
            == Ok(value)
            && value & FUTEX_WAITERS != 0
        {
            let key = crate::ipc::futex::FutexKey {
                pid: thread.process.pid,
                addr: word,
            };
            kernel().futexes.wake(key, 1, u32::MAX);
        }
    };
    let mut entry = read(head).unwrap_or(head);
    for _ in 0..MAX_ENTRIES {
        if entry == head || entry == 0 {
            break;
        }
        if entry != pending {
            release(entry);
        }
        entry = match read(entry & !1) {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    if pending != 0 {
        release(pending);
    }
}

/// Ends the calling process with host exit status `code` (exit code, or 128 + signal).
///
/// With one process per instance, the instance ends with it; the supervisor reports the code.
pub fn exit_process(code: i32) -> ! {
    let k = kernel();
    let process = current_process();
    for tid in process.threads.lock().drain(..) {
        k.threads.lock().remove(&tid);
    }
    k.processes.lock().remove(&process.pid);
    k.platform.exit_address_space(code)
}
