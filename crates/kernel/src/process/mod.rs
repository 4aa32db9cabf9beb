//! Processes and threads: identity, the state a process owns (fds, cwd, memory, signal
//! dispositions, limits), and how the kernel finds the caller of a syscall.
//!
//! Lock order: `Kernel::threads` and `Kernel::processes` are leaves; a process's own locks are
//! taken in the order `fds` → `fs` → `vm` → `signals` → `limits` → `exec`; `groups` and a
//! thread's `altstack` and `affinity` are leaves; a process's `cpu` is taken before its threads'
//! `cpu` (see `cpu`), after `Kernel::threads` and the process's `threads` are released. A
//! process's `exit_status` is held while its SIGCHLD is sent (so before the parent's `signals`
//! and its threads' signal queues).

pub mod cpu;
pub mod grave;
pub mod identity;
pub mod limits;
pub mod placement;
pub mod vfork;

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
use veil_platform::UserRegs;

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
    /// The user mappings. Shared (same `Arc`) with a parent between vfork and exec.
    mm: Mutex<Arc<Mutex<Vm>>>,
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
    /// Signal sent to the parent when the process ends (SIGCHLD; 0 = none).
    pub exit_signal: AtomicU32,
    /// Wait status once the process has ended (a zombie until its parent reaps it).
    pub exit_status: Mutex<Option<i32>>,
    /// Set while the process is ending: its threads leave at their next trap.
    pub exiting: core::sync::atomic::AtomicBool,
    /// The address space (`Platform::address_space_id`) holding its memory and threads.
    pub space: AtomicU64,
    /// Host threads running this process's threads, in any address space (a thread counts
    /// itself out as the very last thing it does in kernel code).
    pub host_threads: AtomicU32,
    /// Stopped by a stop signal (job control) until continued.
    pub stopped: core::sync::atomic::AtomicBool,
    /// SIGCONTs sent to it so far: a stop signal its thread took before one of them is void.
    pub continues: AtomicU64,
    /// A stop or continue not yet reported to the parent's `wait`.
    pub job_event: Mutex<Option<JobEvent>>,
    /// SEM_UNDO adjustments by (semaphore set id, semaphore number), applied at exit.
    pub sem_undo: Mutex<alloc::collections::BTreeMap<(i32, u16), i32>>,
    /// CPU time of its ended threads and of its reaped children.
    pub cpu: Mutex<cpu::ProcessCpu>,
}

/// A job-control change of a process that its parent may `wait` for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEvent {
    /// Stopped by this signal (WUNTRACED).
    Stopped(u32),
    /// Continued by SIGCONT (WCONTINUED).
    Continued,
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
    /// Set when another thread of the process execs: this thread leaves at its next trap.
    pub doomed: core::sync::atomic::AtomicBool,
    /// CPU affinity mask (`sched_setaffinity`), 64 CPUs a word; empty = every online CPU.
    pub affinity: Mutex<Vec<u64>>,
    /// The host thread running it (`Platform::current_host_thread`; 0 until it has started).
    pub host: AtomicU64,
    /// How the only thread of a forked process starts, taken when its address space exists.
    pub fork_start: Mutex<Option<ForkStart>>,
    /// The pid of a child this thread is forking (its address space is made when the trap
    /// returns), 0 if none.
    pub forking: AtomicI32,
    /// The program this thread runs once it has moved to a new address space (`execve` of a
    /// program that does not fit where it is).
    pub exec_elsewhere: Mutex<Option<crate::loader::Prepared>>,
    /// CPU time accounting.
    pub cpu: Mutex<cpu::ThreadCpu>,
    /// Whether it waits for a child, and whether a waker pinned it (see `placement`).
    pub placement: placement::Placement,
    /// Its host thread lent to its vfork child, or its vfork parent's borrowed (see `vfork`).
    pub lending: vfork::Lending,
    /// Set by the host thread that ended it, as the last thing it did with it (see `grave`).
    pub host_done: core::sync::atomic::AtomicBool,
}

/// What the thread of a forked child needs to start in its new address space.
pub struct ForkStart {
    /// Its registers (the parent's at the fork, with the child's return value, stack and TLS).
    pub regs: veil_platform::UserRegs,
    /// The address space it was copied from, and the memory it copied: what the others in
    /// that address space own is released in the copy.
    pub space: u64,
    pub copied: Arc<Mutex<Vm>>,
    /// Where to store its tid (`CLONE_CHILD_SETTID`), 0 for nowhere.
    pub set_tid_at: u64,
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
            mm: Mutex::new(Arc::new(Mutex::new(Vm::default()))),
            signals: Mutex::new([crate::pod::zeroed(); 64]),
            limits: Mutex::new(limits),
            exec: Mutex::new(ExecInfo::default()),
            prctl: Mutex::new(PrctlState::default()),
            threads: Mutex::new(Vec::new()),
            start_time_ns: kernel().monotonic_ns(),
            nice: AtomicI32::new(0),
            sched_policy: AtomicU32::new(g::SCHED_NORMAL),
            groups: Mutex::new(alloc::vec![identity::GID]),
            exit_signal: AtomicU32::new(0),
            exit_status: Mutex::new(None),
            exiting: core::sync::atomic::AtomicBool::new(false),
            space: AtomicU64::new(0),
            sem_undo: Mutex::new(alloc::collections::BTreeMap::new()),
            host_threads: AtomicU32::new(0),
            stopped: core::sync::atomic::AtomicBool::new(false),
            continues: AtomicU64::new(0),
            job_event: Mutex::new(None),
            cpu: Mutex::new(cpu::ProcessCpu::default()),
        })
    }

    /// A child of `parent` for vfork-style creation: same memory (until exec), a copy of the fd
    /// table (sharing the open file descriptions), working directory, umask, signal
    /// dispositions, limits and identity.
    pub fn child_of(parent: &Process, pid: i32) -> Arc<Process> {
        let child = Process::new(pid, parent.pid, parent.cwd(), *parent.limits.lock());
        child
            .pgid
            .store(parent.pgid.load(Ordering::Relaxed), Ordering::Relaxed);
        child
            .sid
            .store(parent.sid.load(Ordering::Relaxed), Ordering::Relaxed);
        *child.fds.lock() = parent.fds.lock().clone();
        child.fs.lock().umask = parent.fs.lock().umask;
        child.set_vm(parent.vm());
        *child.signals.lock() = *parent.signals.lock();
        *child.exec.lock() = parent.exec.lock().clone();
        // The parent-death signal is not inherited.
        *child.prctl.lock() = PrctlState {
            pdeathsig: 0,
            ..*parent.prctl.lock()
        };
        child
            .nice
            .store(parent.nice.load(Ordering::Relaxed), Ordering::Relaxed);
        child.sched_policy.store(
            parent.sched_policy.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        *child.groups.lock() = parent.groups.lock().clone();
        child
    }

    /// The process's user mappings.
    pub fn vm(&self) -> Arc<Mutex<Vm>> {
        self.mm.lock().clone()
    }

    /// Whether the mappings are shared with another process (a vfork child before exec).
    pub fn vm_is_shared(&self) -> bool {
        Arc::strong_count(&self.mm.lock()) > 1
    }

    /// Gives the process `vm` (vfork: the parent's; exec: a fresh set).
    pub fn set_vm(&self, vm: Arc<Mutex<Vm>>) {
        *self.mm.lock() = vm;
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
            doomed: core::sync::atomic::AtomicBool::new(false),
            host: AtomicU64::new(0),
            fork_start: Mutex::new(None),
            forking: AtomicI32::new(0),
            exec_elsewhere: Mutex::new(None),
            cpu: Mutex::new(cpu::ThreadCpu::default()),
            placement: placement::Placement::default(),
            lending: vfork::Lending::default(),
            host_done: core::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Records that the calling host thread runs this thread (and counts its CPU time from now).
    pub fn bind_host_thread(&self) {
        let platform = kernel().platform;
        let host = platform.current_host_thread();
        self.bind(host, platform.thread_cpu_time(host).unwrap_or_default());
    }

    /// [`Self::bind_host_thread`] for the only thread of a host process just forked for it:
    /// all of that host thread's CPU time is this thread's (no host clocks to read).
    pub fn bind_forked_host_thread(&self) {
        let host = kernel().platform.current_host_thread();
        self.bind(host, veil_platform::HostCpuTime::default());
    }

    fn bind(&self, host: u64, now: veil_platform::HostCpuTime) {
        self.host.store(host, Ordering::SeqCst);
        cpu::start(self, host, now);
    }

    /// Makes the thread notice pending work soon (see `Platform::interrupt_thread`). A thread
    /// that has not started yet checks for signals before it first enters user code.
    pub fn interrupt(&self) {
        let host = self.host.load(Ordering::SeqCst);
        if host != 0 {
            kernel().platform.interrupt_thread(host);
        }
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
    current_thread_opt().expect("trap from a thread the kernel does not know")
}

/// The process executing the current syscall.
pub fn current_process() -> Arc<Process> {
    current_thread().process.clone()
}

/// How the calling thread ended. The functions that end it return this instead of ending its
/// host thread there and then: every kernel frame returns up to the trap entry, dropping what
/// it holds, and the entry then hands its own reference to [`finish`].
#[must_use = "the ended thread's trap entry must finish it"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The thread alone: its process goes on, or its last host thread finishes it.
    Thread,
    /// The process's last host thread: finishing, it also takes the process out of its address
    /// space, and ends the address space if it was the last process there.
    Process,
}

/// An ended thread, as its trap entry holds it.
pub struct Ended {
    pub thread: Arc<Thread>,
    pub how: Ending,
}

/// Ends `thread` (the caller): wakes a joiner through its clear-child-tid word, marks robust
/// futexes it still holds as owner-dead, and forgets it. The last thread's exit ends the process.
pub fn exit_thread(thread: &Arc<Thread>, code: i32) -> Ending {
    let k = kernel();
    release_robust_futexes(thread);
    let ctid = thread.clear_child_tid.swap(0, Ordering::Relaxed);
    if ctid != 0 && crate::user::write_val(ctid, &0u32).is_ok() {
        let key = crate::ipc::futex::FutexKey::new(&thread.process, ctid, false);
        k.futexes.wake(key, 1, u32::MAX);
    }
    cpu::thread_ended(thread);
    let last = {
        let mut threads = thread.process.threads.lock();
        threads.retain(|&t| t != thread.tid);
        threads.is_empty()
    };
    if last {
        return exit_process(Exit::Code(code));
    }
    k.threads.lock().remove(&thread.tid);
    Ending::Thread
}

/// Finishes `thread` (the caller, as its trap entry holds it) if `outcome` says it ended.
pub fn finish_if_ended(thread: Arc<Thread>, outcome: Result<(), Ending>) {
    if let Err(how) = outcome {
        finish(Ended { thread, how });
    }
}

/// Ends the calling host thread's run of `ended` (called by its trap entry, last, when no
/// kernel frame holds anything of it any more). The host thread counts itself out of its process
/// (see `Process::host_threads` and `grave`); the process's last one also takes the process out
/// of its address space, and ends the host process if that was the last process there. Any other
/// goes back to the vfork parent it was lent by, which resumes (or ends in turn), or parks.
pub fn finish(mut ended: Ended) -> ! {
    let k = kernel();
    loop {
        let mut regs = UserRegs::default();
        let lender = vfork::return_to_lender(&mut regs, &ended.thread);
        let how = ended.how;
        if how == Ending::Thread {
            // Not at a process's end: that is most often a forked copy's, which would fault in
            // the pages it frees (its parent's `wait` releases them).
            k.graves.release_done();
        }
        let mut space_ends = false;
        k.graves.bury(ended.thread, |thread| {
            let process = &thread.process;
            process.host_threads.fetch_sub(1, Ordering::SeqCst);
            match how {
                // The process's last thread may wait for this one (`exit_process`).
                Ending::Thread => {
                    k.platform.futex_wake(&process.host_threads, u32::MAX);
                }
                // Until here the process keeps the address space alive: nobody ends it while
                // this host thread runs kernel code.
                Ending::Process => space_ends = k.leave_space(process),
            }
        });
        if space_ends {
            k.platform.exit_address_space(0);
        }
        let Some(lender) = lender else {
            k.platform.exit_thread()
        };
        match vfork::resume_here(&lender, &mut regs) {
            Ok(()) => {
                drop(lender);
                k.platform.leave_trap(&regs)
            }
            Err(how) => {
                ended = Ended {
                    thread: lender,
                    how,
                }
            }
        }
    }
}

/// Waits until the calling thread is the only host thread of its process still running kernel
/// code (the others are leaving): it takes the process out of its address space last, and if
/// that ends the address space, it interrupts nobody inside a critical section of the shared
/// kernel heap.
fn wait_for_other_host_threads(process: &Process) {
    loop {
        let n = process.host_threads.load(Ordering::SeqCst);
        if n <= 1 {
            return;
        }
        kernel()
            .platform
            .futex_wait(&process.host_threads, n, Some(50_000_000));
    }
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
            let key = crate::ipc::futex::FutexKey::new(&thread.process, word, false);
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

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `exit`/`exit_group` with this code (0..=255).
    Code(i32),
    /// Killed by this signal.
    Signal(u32),
}

impl Exit {
    /// The wait status (`WIFEXITED`/`WIFSIGNALED` encoding).
    pub fn wait_status(self) -> i32 {
        match self {
            Exit::Code(c) => (c & 0xff) << 8,
            Exit::Signal(s) => s as i32 & 0x7f,
        }
    }
}

/// Ends the calling process. The instance's first process takes the whole instance with it
/// (host exit status: the code, or 128 + signal); any other process releases what it holds,
/// becomes a zombie for its parent to reap, and its threads leave. Returns how the calling
/// thread ended (the process's last host thread, unless another thread ends the process).
pub fn exit_process(how: Exit) -> Ending {
    let k = kernel();
    let process = current_process();
    if process.pid == 1 {
        let code = match how {
            Exit::Code(c) => c,
            Exit::Signal(s) => 128 + s as i32,
        };
        k.ending.store(true, Ordering::SeqCst);
        for space in k.other_spaces() {
            k.platform.kill_address_space(space);
        }
        k.platform.exit_address_space(code);
    }
    let me = current_thread();
    if process.exiting.swap(true, Ordering::SeqCst) {
        // Another thread ends the process (as on Linux, the first exit_group or fatal signal
        // decides its status): this one just leaves.
        return leave_thread(&me);
    }
    // Its memory goes (or is kept for the next program, `mm::images`) only once no other thread
    // of it can write there: they leave at their next trap. A lent thread (`vfork`) runs no
    // user code, and leaves as soon as it gets its host thread back.
    if let Err(ending) = stop_other_threads(&me, false, |t| !vfork::is_lent(t)) {
        return ending;
    }
    let files = core::mem::take(&mut *process.fds.lock());
    for (_, entry) in files.iter() {
        entry.file.ops.closed_by(process.pid);
    }
    drop(files);
    k.locks.release_process(process.pid);
    crate::syscall::sem::undo_on_exit(&process);
    k.timers.delete_all(process.pid, false);
    if !process.vm_is_shared() {
        let vm = process.vm();
        // The last process of an address space leaves the host mappings to the end of the host
        // process (much faster than unmapping them one by one: this is on every fork's path),
        // and its records just go (no list of them to make). No process joins meanwhile: see
        // `create_vfork_child`.
        if k.alone_in_space(&process) {
            let records = core::mem::take(&mut *vm.lock());
            drop(records);
        } else {
            let (old, images) = vm.lock().clear();
            crate::mm::release(old, images);
        }
    } else {
        // A vfork child that ends before it execs: its zombie keeps no share of the parent's
        // memory (which would look shared to the parent's next exec).
        process.set_vm(Arc::new(Mutex::new(Vm::default())));
    }
    let orphans: Vec<Arc<Process>> = k
        .processes
        .lock()
        .values()
        .filter(|p| p.ppid() == process.pid)
        .cloned()
        .collect();
    for orphan in orphans {
        orphan.ppid.store(1, Ordering::Relaxed);
    }
    // Its time is the process's before the parent can reap it.
    cpu::thread_ended(&me);
    // The parent's SIGCHLD is queued before anyone can reap the zombie (the status is set under
    // the same lock a wait reads it with), as on Linux: a parent that reaps and then installs
    // a new SIGCHLD handler never gets this child's signal late.
    let mut exit_status = process.exit_status.lock();
    let parent = k.processes.lock().get(&process.ppid()).cloned();
    let signo = process.exit_signal.load(Ordering::Relaxed);
    if let Some(parent) = parent.filter(|_| signo != 0) {
        let (code, status) = match how {
            Exit::Code(c) => (1, c as u32), // CLD_EXITED
            Exit::Signal(s) => (2, s),      // CLD_KILLED
        };
        let info = crate::signal::SigInfo {
            signo,
            code,
            fields: [
                process.pid as u32 as u64 | (identity::UID as u64) << 32,
                status as u64,
            ],
        };
        crate::signal::send_to_process(&parent, info);
    }
    *exit_status = Some(how.wait_status());
    drop(exit_status);
    // Not when this ends its address space: the host process's own exit still has to run on
    // this CPU, and the parent would wait for it.
    if !k.alone_in_space(&process) {
        placement::pull_waiting_parent(&process);
    }
    k.children.notify_all();
    // pidfds of this process become readable.
    k.readiness.notify();
    // This thread finishes last, once the others are out of kernel code: it takes the process
    // out of its address space (`finish`), which may end the address space.
    wait_for_other_host_threads(&process);
    crate::syscall::clone::abandon_fork(&me);
    forget_thread(&me);
    Ending::Process
}

/// The live threads of `process` other than `tid`.
fn other_threads(process: &Process, tid: i32) -> Vec<Arc<Thread>> {
    threads_where(process, |t| t.tid != tid)
}

/// Every process of the instance, as a snapshot: `Kernel::processes` is a leaf lock, so callers
/// that go on to take a process's own locks (its memory, its SEM_UNDO record) work on this.
pub fn all_processes() -> Vec<Arc<Process>> {
    kernel().processes.lock().values().cloned().collect()
}

/// The live threads of `process`.
pub fn threads_of(process: &Process) -> Vec<Arc<Thread>> {
    threads_where(process, |_| true)
}

/// The live threads of `process` for which `wanted` holds (no allocation when none does:
/// a single-threaded process's exit asks for its other threads).
fn threads_where(process: &Process, wanted: impl Fn(&Thread) -> bool) -> Vec<Arc<Thread>> {
    with_threads(process, |all| all.filter(|t| wanted(t)).cloned().collect())
}

/// The first live thread of `process` for which `wanted` holds.
pub fn find_thread(process: &Process, wanted: impl Fn(&Thread) -> bool) -> Option<Arc<Thread>> {
    with_threads(process, |mut all| {
        Iterator::find(&mut all, |t| wanted(t)).cloned()
    })
}

/// Runs `f` over the live threads of `process`, with its thread list and the thread table
/// locked (`Kernel::threads` is a leaf: it may be taken under the list).
fn with_threads<R>(
    process: &Process,
    f: impl FnOnce(&mut dyn Iterator<Item = &Arc<Thread>>) -> R,
) -> R {
    let tids = process.threads.lock();
    let threads = kernel().threads.lock();
    f(&mut tids.iter().filter_map(|t| threads.get(t)))
}

/// Ends the calling thread without anything else (its process is ending).
pub fn leave_thread(thread: &Thread) -> Ending {
    let k = kernel();
    // A fork that was to happen when this trap returned never will.
    crate::syscall::clone::abandon_fork(thread);
    cpu::thread_ended(thread);
    forget_thread(thread);
    k.children.notify_all();
    Ending::Thread
}

/// Takes `thread` out of its process's list of threads and out of the thread table.
fn forget_thread(thread: &Thread) {
    thread.process.threads.lock().retain(|&t| t != thread.tid);
    kernel().threads.lock().remove(&thread.tid);
}

/// Makes every other thread of the caller's process leave, and waits until they have (execve).
pub fn end_other_threads() -> Result<(), Ending> {
    stop_other_threads(&current_thread(), true, |_| true)
}

/// Interrupts the threads of `me`'s process other than `me` until none of them is `running`
/// any more; with `doom`, they leave even though the process goes on (exec), unless another
/// thread ends the process meanwhile: then `me` leaves too (it would wait for that thread).
fn stop_other_threads(
    me: &Thread,
    doom: bool,
    running: impl Fn(&Thread) -> bool,
) -> Result<(), Ending> {
    let k = kernel();
    loop {
        let seen = k.children.current();
        if doom && me.process.exiting.load(Ordering::SeqCst) {
            return Err(leave_thread(me));
        }
        let others = other_threads(&me.process, me.tid);
        if !others.iter().any(|t| running(t)) {
            return Ok(());
        }
        for thread in others {
            if doom {
                thread.doomed.store(true, Ordering::SeqCst);
            }
            thread.interrupt();
        }
        k.children.wait_service(seen, Some(50_000_000));
    }
}

/// If `thread`'s process is ending (or another of its threads execs), it leaves now.
pub fn leave_if_exiting(thread: &Thread) -> Result<(), Ending> {
    if thread.process.exiting.load(Ordering::SeqCst) || thread.doomed.load(Ordering::SeqCst) {
        return Err(leave_thread(thread));
    }
    Ok(())
}
