//! The platform interface: everything Veil's kernel needs from the world below it.
//!
//! The kernel (`veil-kernel`) is `no_std` and never calls the host directly. A platform — today
//! `veil-platform-sim` (Linux host processes + Syscall User Dispatch), later a KVM guest — enters
//! user code, catches its traps and hands them to the kernel's [`TrapHandler`], maps memory,
//! waits and wakes on futex words, and performs the few host calls ([`HostCalls`]) the kernel needs.
//!
//! Everything a host call returns is untrusted: the kernel validates sizes and structures.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use core::ffi::CStr;
use core::sync::atomic::AtomicU32;

pub use veil_abi::Errno;
use veil_abi::general::{stat, statfs64, timespec};

/// A user-memory access hit an unmapped or protected page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault;

/// A host file descriptor (valid in the current address-space process only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostFd(pub i32);

impl HostFd {
    /// `AT_FDCWD` of the host: relative paths resolve against the host process's cwd.
    pub const CWD: HostFd = HostFd(-100);
}

/// The register state of a user thread at a trap, as the kernel reads and changes it.
///
/// On return from a trap the platform resumes the thread with exactly these values (so the kernel
/// can redirect it: signal delivery, `execve`, `rt_sigreturn`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserRegs {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
    /// The thread's `%fs` base (its TLS pointer), set by `arch_prctl(ARCH_SET_FS)` or clone.
    pub fs_base: u64,
    /// The thread's `%gs` base as the application sees it.
    pub gs_base: u64,
}

impl UserRegs {
    /// The syscall number of a trapped `syscall` instruction.
    pub fn syscall_nr(&self) -> u64 {
        self.rax
    }

    /// The six syscall arguments in ABI order (rdi, rsi, rdx, r10, r8, r9).
    pub fn syscall_args(&self) -> [u64; 6] {
        [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9]
    }
}

/// What kind of hardware fault a user thread took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Page fault or general protection: host SIGSEGV. `addr` is the faulting address.
    Segv { addr: u64, code: i32 },
    /// Bus error (e.g. access beyond the end of a mapped file): host SIGBUS.
    Bus { addr: u64, code: i32 },
    /// Arithmetic fault (division by zero, ...): host SIGFPE.
    Fpe { addr: u64, code: i32 },
    /// Illegal instruction: host SIGILL.
    Ill { addr: u64, code: i32 },
    /// Breakpoint or single step: host SIGTRAP.
    Trap { addr: u64, code: i32 },
}

impl FaultKind {
    /// The Linux signal number this fault raises in the application.
    pub fn signal(&self) -> u32 {
        use veil_abi::general::{SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
        match self {
            FaultKind::Segv { .. } => SIGSEGV,
            FaultKind::Bus { .. } => SIGBUS,
            FaultKind::Fpe { .. } => SIGFPE,
            FaultKind::Ill { .. } => SIGILL,
            FaultKind::Trap { .. } => SIGTRAP,
        }
    }
}

/// The kernel's side of the trap path: the platform calls these when a user thread traps.
///
/// `thread` is the per-thread value the kernel registered with [`Platform::set_thread_data`].
pub trait TrapHandler: Sync {
    /// The thread executed `syscall`. The kernel writes the result into `regs.rax` (or redirects
    /// the thread entirely).
    fn syscall(&self, thread: usize, regs: &mut UserRegs);
    /// The thread took a hardware fault while running user code.
    fn fault(&self, thread: usize, regs: &mut UserRegs, fault: FaultKind);
    /// The thread was interrupted while running user code: by [`Platform::interrupt_thread`]
    /// (`host_signal` = None: pending signals may need delivering), or by a signal the host
    /// sent to the instance (`SIGINT` from a terminal, `SIGTERM`, ...).
    fn interrupt(&self, thread: usize, regs: &mut UserRegs, host_signal: Option<u32>);
    /// A thread started by [`Platform::spawn_thread`], or the only thread of an address space
    /// just made by [`Platform::fork_on_return`] or [`Platform::move_on_return`], is about to enter user code with `regs`
    /// (the kernel records its host identity, sets up what the thread starts with, and may
    /// deliver signals that are already pending).
    fn thread_start(&self, thread: usize, regs: &mut UserRegs);
    /// The copy of the address space [`Platform::fork_on_return`] asked for was made (`Ok(id)`
    /// of the new address space) or not; called in the original address space before the trap
    /// of `thread` returns.
    fn forked(&self, thread: usize, regs: &mut UserRegs, result: Result<u64, Errno>);
    /// The move of thread `thread` that [`Platform::move_on_return`] asked for was done (`Ok(id)`
    /// of its new address space) or not; called in the original address space before the trap
    /// returns. The calling host thread may run another LibOS thread by now (see
    /// [`Platform::set_thread_data`]).
    fn moved(&self, thread: usize, regs: &mut UserRegs, result: Result<u64, Errno>);
    /// The thread made syscall `regs.rax` through a patched call site (the fast path: no host
    /// signal frame, so no FP state to build a signal frame from). `regs.rip` is the address
    /// after the site's `syscall` instruction. See [`FastExit`] for what the kernel may do.
    fn fast_syscall(&self, thread: usize, regs: &mut UserRegs) -> FastExit;
}

/// How a syscall made through the fast path ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastExit {
    /// Completed: the result is in `regs.rax`, no other register changed.
    Done,
    /// Declined before doing anything: the thread executes the site's real `syscall`
    /// instruction instead (the full trap path).
    Trap,
    /// Completed (`regs.rax` and `regs.rip` are final), but the thread has signals to act on
    /// or must exit: the platform passes it through the full trap path as an interrupt.
    Deliver,
}

/// Memory protection bits (Linux `PROT_*` values).
pub type Prot = u32;

/// How [`Platform::map`] chooses the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Anywhere; the address is a hint.
    Hint(usize),
    /// Exactly here, replacing whatever is mapped (`MAP_FIXED`).
    Fixed(usize),
    /// Exactly here, failing with EEXIST if anything is mapped (`MAP_FIXED_NOREPLACE`).
    FixedNoReplace(usize),
}

/// What a mapping made by [`Platform::map`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backing {
    /// Private, zero-filled memory.
    Private,
    /// The instance's shared memory from this offset (see [`Platform::shared_read`]): every
    /// mapping of the same offset, in any address space, sees the same pages.
    Shared(u64),
    /// A host file from this offset, shared with every other mapping of that file.
    HostFile(HostFd, u64),
}

/// Result of a futex wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitResult {
    /// Woken (or spurious wake-up): the caller re-checks its condition.
    Woken,
    /// The word did not hold the expected value.
    ValueChanged,
    /// The timeout expired.
    TimedOut,
}

/// A clock the host can read (Linux clock ids).
pub type ClockId = u32;

/// The CPU time a host thread has used since it was created (see
/// [`Platform::thread_cpu_time`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCpuTime {
    /// User plus system time, precise.
    pub total_ns: u64,
    /// The host's user and system parts. They may be sampled (at the host's scheduler tick),
    /// so their sum need not equal `total_ns`; only their ratio is meaningful.
    pub user_ns: u64,
    pub system_ns: u64,
}

/// The platform below Veil's kernel. One value per instance, shared by every address space.
pub trait Platform: Sync {
    // --- synchronisation across threads and address spaces (shared futex words) ---

    /// Sleeps while `*word == expected`, up to `timeout_ns` nanoseconds (relative) if given.
    fn futex_wait(&self, word: &AtomicU32, expected: u32, timeout_ns: Option<u64>) -> WaitResult;
    /// Wakes up to `count` waiters on `word`; returns how many were woken.
    fn futex_wake(&self, word: &AtomicU32, count: u32) -> u32;

    // --- user memory of the current address space (fault-safe) ---

    /// Copies `dst.len()` bytes from user address `src`.
    fn copy_from_user(&self, dst: &mut [u8], src: usize) -> Result<(), Fault>;
    /// Copies `src` to user address `dst`.
    fn copy_to_user(&self, dst: usize, src: &[u8]) -> Result<(), Fault>;
    /// Sets `len` bytes at user address `dst` to zero.
    fn zero_user(&self, dst: usize, len: usize) -> Result<(), Fault>;
    /// Atomically replaces the aligned 32-bit user word at `addr` with `new` if it equals
    /// `expected`; returns the value it held (futex operations on user memory).
    fn cmpxchg_user_u32(&self, addr: usize, expected: u32, new: u32) -> Result<u32, Fault>;

    // --- the current address space's mappings ---

    /// Maps `len` bytes of `backing` with `prot`; returns the address.
    fn map(
        &self,
        placement: Placement,
        len: usize,
        prot: Prot,
        backing: Backing,
    ) -> Result<usize, Errno>;
    /// Removes mappings in `[addr, addr + len)`.
    fn unmap(&self, addr: usize, len: usize) -> Result<(), Errno>;
    /// Changes the protection of `[addr, addr + len)`.
    fn protect(&self, addr: usize, len: usize, prot: Prot) -> Result<(), Errno>;
    /// Gives the private writable memory `[addr, addr + len)` its pages now, as it is about to
    /// be written in full: one host call instead of a page fault per page. A hint.
    fn populate(&self, addr: usize, len: usize);
    /// Moves or resizes a mapping (Linux `mremap` semantics with `flags` = `MREMAP_*`).
    fn remap(
        &self,
        old_addr: usize,
        old_len: usize,
        new_len: usize,
        flags: u32,
        new_addr: usize,
    ) -> Result<usize, Errno>;
    /// Writes back changes to `[addr, addr + len)` of a mapped host file (`msync`).
    fn sync_mapping(&self, addr: usize, len: usize, flags: u32) -> Result<(), Errno>;
    /// Passes an advice (`MADV_*`) about `[addr, addr + len)`.
    fn advise(&self, addr: usize, len: usize, advice: u32) -> Result<(), Errno>;
    /// Fills `out` with residency bytes for the pages of `[addr, ...)`.
    fn residency(&self, addr: usize, out: &mut [u8]) -> Result<(), Errno>;

    // --- the instance's shared memory: one object every address space can map ---

    /// Size of the shared-memory object (every offset below is smaller).
    fn shared_memory_size(&self) -> u64;
    /// Reads shared memory at `offset`.
    fn shared_read(&self, offset: u64, buf: &mut [u8]) -> Result<(), Errno>;
    /// Writes shared memory at `offset`.
    fn shared_write(&self, offset: u64, buf: &[u8]) -> Result<(), Errno>;
    /// Copies `len` bytes of host file `fd` from `file_offset` into shared memory at `offset`
    /// without passing them through LibOS memory; returns how many it copied (fewer at the
    /// file's end). Errors leave the range partly written.
    fn shared_fill_from_host(
        &self,
        offset: u64,
        fd: HostFd,
        file_offset: u64,
        len: usize,
    ) -> Result<usize, Errno>;
    /// Gives the pages of `[offset, offset + len)` back to the host: they read as zeros again.
    fn shared_discard(&self, offset: u64, len: u64);

    // --- threads ---

    /// The floating-point/vector register state of the calling thread's trapped user context, in
    /// the `xsave` layout Linux puts in signal frames (including its software-reserved header
    /// and trailing magic). Empty outside a trap.
    fn fp_state(&self) -> Vec<u8>;
    /// Replaces that state (from a signal frame being returned from). Fails with EFAULT if
    /// `data` is not a well-formed state of the same layout.
    fn set_fp_state(&self, data: &[u8]) -> Result<(), Errno>;

    /// Records the kernel's per-thread value for the calling thread (passed back on every trap).
    fn set_thread_data(&self, data: usize);
    /// The kernel's per-thread value of the calling thread (0 before any was set).
    fn thread_data(&self) -> usize;
    /// Runs `f`, which maps user memory and records it, so that no copy of the address space
    /// ([`Platform::fork_on_return`]) is made while it runs.
    fn hold_mappings(&self, f: &mut dyn FnMut());
    /// Where patched syscall sites enter the fast path (see [`TrapHandler::fast_syscall`]);
    /// None when the platform has none.
    fn fast_syscall_entry(&self) -> Option<usize>;
    /// Starts running user code on the calling thread with `regs`. Never returns: later traps
    /// arrive through the [`TrapHandler`].
    fn enter_user(&self, regs: &UserRegs) -> !;
    /// Ends the calling thread's current trap at once and resumes user code with `regs` and the
    /// trap's floating-point state (as [`Platform::set_fp_state`] left it). The trap's kernel
    /// frames are abandoned, so the caller holds no lock and nothing it must drop.
    fn leave_trap(&self, regs: &UserRegs) -> !;
    /// Starts a new thread in the current address space that enters user code with `regs`;
    /// its traps carry `thread_data`. `beside_caller`: the new thread is best started on the
    /// caller's CPU, where someone will soon wait for it (the program a vfork child execs: its
    /// parent resumes on the calling host thread and usually waits for it; a new thread of the
    /// caller's process, which Linux also starts on its creator's CPU).
    fn spawn_thread(
        &self,
        regs: UserRegs,
        thread_data: usize,
        beside_caller: bool,
    ) -> Result<(), Errno>;
    /// The CPU the calling thread runs on (it may move at any time: a placement hint).
    fn current_cpu(&self) -> u32;
    /// Makes `host_thread` (a [`Platform::current_host_thread`] value, of any address space,
    /// asleep) run only on `cpu`, so that a wake-up about to come runs it there, until it calls
    /// [`Platform::unpin_current_thread`]. False if it did not (nothing to undo then).
    fn pin_thread(&self, host_thread: u64, cpu: u32) -> bool;
    /// Lets the calling thread run on every CPU of the instance again after a
    /// [`Platform::pin_thread`].
    fn unpin_current_thread(&self);
    /// The calling thread's host identity, valid in every address space of the instance (what
    /// [`Platform::interrupt_thread`] takes).
    fn current_host_thread(&self) -> u64;
    /// The CPU time the host thread `host_thread` (a [`Platform::current_host_thread`] value)
    /// has used. Only threads of the current address space can be read; any other fails
    /// (ESRCH), as does a thread that has ended.
    fn thread_cpu_time(&self, host_thread: u64) -> Result<HostCpuTime, Errno>;
    /// Makes the thread `host_thread` (of any address space) notice pending work soon: a
    /// blocking host call it is in returns early (the kernel's waits then see `EINTR`), or, if
    /// it runs user code, it traps into [`TrapHandler::interrupt`].
    fn interrupt_thread(&self, host_thread: u64);
    /// Host signals that arrived while the calling thread ran LibOS code (a bit per signal),
    /// cleared by the call. The kernel turns them into instance signals.
    fn take_host_signals(&self) -> u64;
    /// The instance's first process was stopped (`true`) or continued by job control: the
    /// host side follows it, so that the shell that started `veil run` sees its job stop.
    fn first_process_stopped(&self, stopped: bool);
    /// Starts a kernel service thread in the current address space running `entry(arg)` (it
    /// runs no user code and has no kernel thread value).
    fn spawn_kernel_thread(&self, entry: fn(usize), arg: usize) -> Result<(), Errno>;
    /// Ends the calling thread (the rest of the address space goes on).
    fn exit_thread(&self) -> !;
    /// Ends the whole address space (all its host threads) with the host exit status `status`.
    fn exit_address_space(&self, status: i32) -> !;

    // --- address spaces ---

    /// The id of the current address space (unique among the instance's live address spaces).
    fn address_space_id(&self) -> u64;
    /// Asks for the current address space to be copied (copy-on-write) when the calling
    /// thread's current trap returns, once no kernel frame of the trap is left on its stack (so
    /// nothing the kernel owns there exists twice). In the original, [`TrapHandler::forked`]
    /// reports the result; in the copy only this thread exists: it runs
    /// [`TrapHandler::thread_start`] as `child_thread` and resumes user code. Memory mapped
    /// with `shared` stays shared; the kernel heap is shared by construction. `objects` is the
    /// address of the copy's kernel objects (its thread), which the copy touches first: the
    /// platform may map the kernel heap around it in the copy up front.
    fn fork_on_return(&self, child_thread: usize, objects: usize);
    /// Makes clean address spaces available to [`Platform::move_on_return`]. Called once at
    /// boot, on the first address space's only thread, once the kernel state every address
    /// space needs exists (the root object, the mounts' host directories) and before any user
    /// memory is mapped; `handler` is the kernel.
    fn prepare_clean_spaces(&self, handler: &'static dyn TrapHandler);
    /// Moves thread `thread` (the calling host thread's LibOS thread when the trap began) when
    /// the current trap returns to a new address space of its own, with the host fds `carried`
    /// open at the same numbers there (host fds belong to one address space): a clean one,
    /// which holds none of this one's memory, where the platform can make one, else a copy of
    /// this one as [`Platform::fork_on_return`] makes ([`Platform::address_space_is_clean`]
    /// says which, there). [`TrapHandler::moved`] reports the result here; there, the thread runs
    /// [`TrapHandler::thread_start`] (with zeroed registers in a clean one).
    fn move_on_return(&self, thread: usize, carried: &[HostFd]);
    /// Whether the current address space was made clean by [`Platform::move_on_return`]
    /// (rather than copied from another, whose other processes' memory it then holds).
    fn address_space_is_clean(&self) -> bool;
    /// Ends another address space of the instance at once (the instance is ending).
    fn kill_address_space(&self, id: u64);
    /// Whether the address space `id` still exists.
    fn address_space_alive(&self, id: u64) -> bool;

    // --- time, entropy, host information ---

    /// Reads a host clock. Untrusted, as on any confidential platform.
    fn clock_gettime(&self, clock: ClockId) -> Result<timespec, Errno>;
    /// Resolution of a host clock.
    fn clock_getres(&self, clock: ClockId) -> Result<timespec, Errno>;
    /// Sleeps for `ns` nanoseconds of host monotonic time. Returns early with EINTR if interrupted.
    fn sleep(&self, ns: u64) -> Result<(), Errno>;
    /// Fills `buf` with random bytes from the platform's entropy source.
    fn random(&self, buf: &mut [u8]);
    /// Address of the host vDSO image in the current address space, if there is one.
    fn vdso_base(&self) -> Option<usize>;
    /// A value of the host's auxiliary vector (`AT_HWCAP`, `AT_HWCAP2`, `AT_MINSIGSTKSZ`, ...),
    /// passed on to programs so that they see the real CPU.
    fn host_aux(&self, key: u64) -> u64;
    /// Number of CPUs the instance may use.
    fn cpu_count(&self) -> usize;
    /// Lets the host run another thread on the calling thread's CPU, if one is waiting.
    fn yield_now(&self);
    /// Writes a diagnostic line (logs, strace) to the instance's log output.
    fn log_write(&self, bytes: &[u8]);
    /// Host calls on host files.
    fn host(&self) -> &dyn HostCalls;
}

/// Calls into the untrusted host for host-backed files (stdio, host pass-through file system).
///
/// Every method mirrors the Linux syscall of the same name; buffers are kernel buffers (the
/// platform copies them across whatever boundary separates kernel and host).
pub trait HostCalls: Sync {
    fn openat(&self, dir: HostFd, path: &CStr, flags: u32, mode: u32) -> Result<HostFd, Errno>;
    fn close(&self, fd: HostFd) -> Result<(), Errno>;
    fn read(&self, fd: HostFd, buf: &mut [u8]) -> Result<usize, Errno>;
    fn write(&self, fd: HostFd, buf: &[u8]) -> Result<usize, Errno>;
    fn pread(&self, fd: HostFd, buf: &mut [u8], offset: u64) -> Result<usize, Errno>;
    fn pwrite(&self, fd: HostFd, buf: &[u8], offset: u64) -> Result<usize, Errno>;
    fn lseek(&self, fd: HostFd, offset: i64, whence: u32) -> Result<u64, Errno>;
    fn fstat(&self, fd: HostFd) -> Result<stat, Errno>;
    fn fstatat(&self, dir: HostFd, path: &CStr, flags: u32) -> Result<stat, Errno>;
    fn fstatfs(&self, fd: HostFd) -> Result<statfs64, Errno>;
    fn getdents64(&self, fd: HostFd, buf: &mut [u8]) -> Result<usize, Errno>;
    fn readlinkat(&self, dir: HostFd, path: &CStr, buf: &mut [u8]) -> Result<usize, Errno>;
    fn faccessat(&self, dir: HostFd, path: &CStr, mode: u32, flags: u32) -> Result<(), Errno>;
    fn mkdirat(&self, dir: HostFd, path: &CStr, mode: u32) -> Result<(), Errno>;
    fn mknodat(&self, dir: HostFd, path: &CStr, mode: u32, dev: u64) -> Result<(), Errno>;
    fn unlinkat(&self, dir: HostFd, path: &CStr, flags: u32) -> Result<(), Errno>;
    fn renameat2(
        &self,
        old_dir: HostFd,
        old: &CStr,
        new_dir: HostFd,
        new: &CStr,
        flags: u32,
    ) -> Result<(), Errno>;
    fn symlinkat(&self, target: &CStr, dir: HostFd, path: &CStr) -> Result<(), Errno>;
    fn linkat(
        &self,
        old_dir: HostFd,
        old: &CStr,
        new_dir: HostFd,
        new: &CStr,
        flags: u32,
    ) -> Result<(), Errno>;
    fn ftruncate(&self, fd: HostFd, len: u64) -> Result<(), Errno>;
    fn fallocate(&self, fd: HostFd, mode: u32, offset: u64, len: u64) -> Result<(), Errno>;
    fn fsync(&self, fd: HostFd, data_only: bool) -> Result<(), Errno>;
    fn fchmodat(&self, dir: HostFd, path: &CStr, mode: u32) -> Result<(), Errno>;
    fn fchmod(&self, fd: HostFd, mode: u32) -> Result<(), Errno>;
    fn fchownat(
        &self,
        dir: HostFd,
        path: &CStr,
        uid: u32,
        gid: u32,
        flags: u32,
    ) -> Result<(), Errno>;
    fn fchown(&self, fd: HostFd, uid: u32, gid: u32) -> Result<(), Errno>;
    /// `utimensat`; `path` None means the file `dir` itself; `times` None means "now".
    fn utimensat(
        &self,
        dir: HostFd,
        path: Option<&CStr>,
        times: Option<&[timespec; 2]>,
        flags: u32,
    ) -> Result<(), Errno>;
    /// A terminal ioctl on a host fd whose argument is a buffer of known size (TCGETS, TIOCGWINSZ,
    /// FIONREAD, ...). The buffer is passed in and copied back out.
    fn ioctl_buf(&self, fd: HostFd, request: u32, arg: &mut [u8]) -> Result<i64, Errno>;
    /// `fcntl(F_GETFL)` / `fcntl(F_SETFL)` on a host fd.
    fn get_status_flags(&self, fd: HostFd) -> Result<u32, Errno>;
    fn set_status_flags(&self, fd: HostFd, flags: u32) -> Result<(), Errno>;
    /// Waits until one of `fds` is ready (Linux `poll` with `struct pollfd` entries as
    /// (fd, events, revents) triples); `timeout_ms` < 0 waits forever.
    fn poll(&self, fds: &mut [(HostFd, i16, i16)], timeout_ms: i32) -> Result<usize, Errno>;
}
