//! Veil's library OS kernel: the Linux x86-64 ABI implemented over the [`veil_platform`]
//! interface. `no_std` + `alloc`; all state lives in the kernel heap, reachable from the one
//! [`Kernel`] root object (see `docs/design.md`).
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod error;
pub mod fs;
pub mod ipc;
pub mod loader;
pub mod mm;
pub mod pod;
pub mod process;
pub mod root;
pub mod signal;
pub mod sync;
pub mod syscall;
pub mod timer;
pub mod user;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use fs::{Mounts, OpenFile};
use process::{Process, Thread};
use sync::Mutex;
use veil_abi::general as g;
use veil_platform::{FaultKind, HostFd, Platform, TrapHandler, UserRegs};

pub use root::kernel;

/// The kernel release `uname` and `/proc` report (programs parse the leading version).
pub const OS_RELEASE: &str = "6.1.0-veil";
/// The kernel version string `uname` and `/proc` report.
pub const OS_VERSION: &str = "#1 SMP Veil";

/// The root of all kernel state.
pub struct Kernel {
    pub platform: &'static dyn Platform,
    pub mounts: Mounts,
    pub processes: Mutex<BTreeMap<i32, Arc<Process>>>,
    pub threads: Mutex<BTreeMap<i32, Arc<Thread>>>,
    /// Threads moving to an address space of their own (`execve`), until their host thread here
    /// has heard how the move went: they may end there first.
    pub moving: Mutex<BTreeMap<i32, syscall::task::Moving>>,
    /// Futex wait queues of every process.
    pub futexes: ipc::futex::FutexTable,
    /// Signal-raising timers of every process.
    pub timers: timer::Timers,
    /// Notified when a process ends or a vfork child execs (wait4, vfork).
    pub children: sync::Event,
    /// System V shared memory segments, semaphore sets and message queues.
    pub sysv_shm: ipc::sysv::Registry<syscall::shm::Segment>,
    pub sysv_sem: ipc::sysv::Registry<syscall::sem::SemSet>,
    pub sysv_msg: ipc::sysv::Registry<syscall::msg::MsgQueue>,
    /// POSIX message queues by name.
    pub mqueues: syscall::mqueue::Namespace,
    /// The internal RAM file system memfds live in (made on first use).
    memfd_fs: Mutex<Option<Arc<fs::ram::RamFs>>>,
    /// Which parts of the platform's shared memory are in use.
    pub shared_windows: mm::shared::Windows,
    /// Read-only file contents mapped by programs (libraries, program text).
    pub page_cache: mm::cache::PageCache,
    /// Program images kept mapped for the next exec of their file, in every address space.
    pub kept_images: mm::images::KeptImages,
    /// flock and record locks of every file.
    pub locks: fs::lock::LockTable,
    /// The pipes behind open FIFOs, by file identity.
    pub fifos: Mutex<BTreeMap<fs::lock::FileKey, alloc::sync::Weak<fs::pipe::Pipe>>>,
    /// Notified whenever the readiness of any kernel file object may have changed (pipes,
    /// eventfds, timerfds, epoll sets): what poll, select and epoll_wait sleep on.
    pub readiness: fs::epoll::Readiness,
    next_id: AtomicI32,
    /// Where `--strace` lines go (a host fd), if tracing.
    pub strace: Option<HostFd>,
    /// Wall-clock time at boot (for synthetic timestamps).
    pub boot_time: g::timespec,
    boot_monotonic_ns: u64,
    /// Syscall numbers already reported as unsupported (one log line each).
    warned: [AtomicU64; 8],
    pub hostname: Mutex<Vec<u8>>,
    /// Processes per address space (`Platform::address_space_id`), each until its last host
    /// thread there has finished (`process::finish`): the last one ends the address space.
    spaces: Mutex<BTreeMap<u64, usize>>,
    /// Placement policy: every process runs in an address space of its own (`per-process`),
    /// instead of spawned programs sharing their parent's when they fit (`shared`).
    pub per_process_spaces: bool,
    /// Set once the instance is ending: an address space created meanwhile ends at once.
    pub ending: core::sync::atomic::AtomicBool,
    /// NIS domain name (`setdomainname`, `uname`).
    pub domainname: Mutex<Vec<u8>>,
    /// Ended threads kept until their host threads are done with them.
    pub graves: process::grave::Graves,
}

impl Kernel {
    /// Allocates a new process/thread id.
    pub fn alloc_id(&self) -> i32 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Host monotonic time in nanoseconds.
    pub fn monotonic_ns(&self) -> u64 {
        let ts = self
            .platform
            .clock_gettime(g::CLOCK_MONOTONIC)
            .unwrap_or(g::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            });
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    /// Nanoseconds since boot.
    pub fn uptime_ns(&self) -> u64 {
        self.monotonic_ns().saturating_sub(self.boot_monotonic_ns)
    }

    /// The internal RAM file system memfds live in.
    pub fn memfd_fs(&self) -> Arc<fs::ram::RamFs> {
        self.memfd_fs
            .lock()
            .get_or_insert_with(fs::ram::RamFs::new)
            .clone()
    }

    /// Records that `process` now lives in the current address space.
    pub fn join_space(&self, process: &Process) {
        let space = self.platform.address_space_id();
        process.space.store(space, Ordering::SeqCst);
        *self.spaces.lock().entry(space).or_insert(0) += 1;
    }

    /// Whether `process` is the only process of its address space.
    pub fn alone_in_space(&self, process: &Process) -> bool {
        let space = process.space.load(Ordering::SeqCst);
        self.spaces
            .lock()
            .get(&space)
            .is_some_and(|&count| count == 1)
    }

    /// Takes `process` out of its address space (its last host thread finished there, or it
    /// moved); true if it was the last process there.
    pub fn leave_space(&self, process: &Process) -> bool {
        let space = process.space.load(Ordering::SeqCst);
        let mut spaces = self.spaces.lock();
        let Some(count) = spaces.get_mut(&space) else {
            return false;
        };
        *count -= 1;
        if *count > 0 {
            return false;
        }
        spaces.remove(&space);
        drop(spaces);
        self.kept_images.forget_space(space);
        true
    }

    /// Ends the instance if another address space vanished while it still held processes: its
    /// host process was killed or crashed, so their state can never be settled (and a lock one
    /// of its threads held would stay held). Called periodically by the service thread.
    pub fn watch_spaces(&self) {
        for space in self.other_spaces() {
            // An address space leaves the table before its host process exits, so one still
            // listed but gone did not end through the kernel.
            if self.platform.address_space_alive(space) || !self.spaces.lock().contains_key(&space)
            {
                continue;
            }
            log::error!(
                "an address space of the instance (host process {space}) died unexpectedly; \
                 ending the instance"
            );
            self.ending.store(true, Ordering::SeqCst);
            for other in self.other_spaces() {
                self.platform.kill_address_space(other);
            }
            self.platform.exit_address_space(125);
        }
    }

    /// Every address space of the instance but the caller's.
    pub fn other_spaces(&self) -> Vec<u64> {
        let own = self.platform.address_space_id();
        self.spaces
            .lock()
            .keys()
            .copied()
            .filter(|&s| s != own)
            .collect()
    }

    /// Returns true the first time it is called for `nr` (to log unsupported syscalls once).
    pub fn first_warning(&self, nr: u64) -> bool {
        let (word, bit) = ((nr / 64) as usize, nr % 64);
        match self.warned.get(word) {
            Some(w) => w.fetch_or(1 << bit, Ordering::Relaxed) & (1 << bit) == 0,
            None => false,
        }
    }
}

/// A file system to mount at boot.
#[derive(Debug, Clone)]
pub enum MountSource {
    Ram,
    /// A host directory (host path).
    Host(Vec<u8>),
}

/// What the platform passes to [`boot`].
#[derive(Debug, Clone)]
pub struct BootSpec {
    /// Host directory that becomes `/`.
    pub root: Vec<u8>,
    /// Extra mounts: canonical path inside the instance and source.
    pub mounts: Vec<(String, MountSource)>,
    pub program: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub strace: Option<HostFd>,
    pub max_open_files: u64,
    pub stack_size: u64,
    /// Every process in an address space of its own (the `per-process` placement policy).
    pub per_process_spaces: bool,
}

/// Why boot failed.
#[derive(Debug)]
pub struct BootError {
    /// The program does not exist (exit 127 rather than 126).
    pub not_found: bool,
    pub message: String,
}

/// Boots the kernel in the calling address space and prepares the first process. Returns the
/// register state to enter user code with.
pub fn boot(platform: &'static dyn Platform, spec: BootSpec) -> Result<UserRegs, BootError> {
    let boot_error = |message: String| BootError {
        not_found: false,
        message,
    };
    let kernel = root::install(Box::new(Kernel {
        platform,
        mounts: Mounts::default(),
        processes: Mutex::new(BTreeMap::new()),
        threads: Mutex::new(BTreeMap::new()),
        moving: Mutex::new(BTreeMap::new()),
        futexes: Default::default(),
        timers: Default::default(),
        locks: Default::default(),
        shared_windows: Default::default(),
        page_cache: Default::default(),
        kept_images: Default::default(),
        memfd_fs: Mutex::new(None),
        sysv_shm: Default::default(),
        sysv_sem: Default::default(),
        sysv_msg: Default::default(),
        mqueues: Default::default(),
        children: sync::Event::new(),
        fifos: Mutex::new(BTreeMap::new()),
        readiness: fs::epoll::Readiness::new(),
        next_id: AtomicI32::new(1),
        strace: spec.strace,
        boot_time: platform
            .clock_gettime(g::CLOCK_REALTIME)
            .unwrap_or(g::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            }),
        boot_monotonic_ns: platform
            .clock_gettime(g::CLOCK_MONOTONIC)
            .map_or(0, |t| t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64),
        warned: Default::default(),
        hostname: Mutex::new(b"veil".to_vec()),
        spaces: Mutex::new(BTreeMap::new()),
        per_process_spaces: spec.per_process_spaces,
        ending: core::sync::atomic::AtomicBool::new(false),
        domainname: Mutex::new(b"(none)".to_vec()),
        graves: Default::default(),
    }));
    let root = fs::host::HostFs::open(&spec.root).map_err(|e| {
        boot_error(format!(
            "cannot open the instance root {}: {}",
            String::from_utf8_lossy(&spec.root),
            e.errno
        ))
    })?;
    kernel.mounts.mount("/", root);
    kernel.mounts.mount("/dev", fs::dev::DevFs::new());
    kernel.mounts.mount("/dev/shm", fs::ram::RamFs::new());
    kernel.mounts.mount("/proc", fs::proc::ProcFs::new());
    for (path, source) in &spec.mounts {
        let fs: Arc<dyn fs::FileSystem> = match source {
            MountSource::Ram => fs::ram::RamFs::new(),
            MountSource::Host(dir) => fs::host::HostFs::open(dir).map_err(|e| {
                boot_error(format!(
                    "cannot mount host directory {} at {path}: {}",
                    String::from_utf8_lossy(dir),
                    e.errno
                ))
            })?,
        };
        kernel.mounts.mount(path, fs);
    }
    // Clean address spaces are copies of this one as it is now: every mount's host directory
    // open, no program's memory yet.
    platform.prepare_clean_spaces(kernel);

    let pid = kernel.alloc_id();
    let root_loc = kernel.mounts.root();
    let cwd = kernel
        .mounts
        .resolve(&root_loc, &spec.cwd, true)
        .map_err(|e| {
            boot_error(format!(
                "working directory {}: {}",
                String::from_utf8_lossy(&spec.cwd),
                e.errno
            ))
        })?;
    let limits = process::limits::Limits::new(spec.max_open_files, spec.stack_size);
    let process = Process::new(pid, 0, cwd.clone(), limits);
    let thread = Thread::new(pid, process.clone());
    process.host_threads.store(1, Ordering::SeqCst);
    kernel.processes.lock().insert(pid, process.clone());
    kernel.threads.lock().insert(pid, thread.clone());
    platform.set_thread_data(pid as usize);
    thread.bind_host_thread();
    kernel.join_space(&process);
    kernel
        .timers
        .start_service()
        .map_err(|e| boot_error(format!("cannot start the timer service: {}", e.errno)))?;
    install_stdio(&process);

    let argv = if spec.argv.is_empty() {
        alloc::vec![spec.program.clone()]
    } else {
        spec.argv.clone()
    };
    match loader::exec(&process, &cwd, &spec.program, argv, spec.envp.clone()) {
        Ok(loaded) => Ok(loaded.regs),
        Err(e) => Err(BootError {
            not_found: e.error.errno == veil_abi::Errno::ENOENT
                && !e.reason.starts_with("interpreter"),
            message: e.reason,
        }),
    }
}

/// Gives the first process the host's stdin, stdout and stderr as fds 0, 1 and 2.
fn install_stdio(process: &Process) {
    let host = kernel().platform.host();
    let mut fds = process.fds.lock();
    for fd in 0..3 {
        let hfd = HostFd(fd);
        let Ok(flags) = host.get_status_flags(hfd) else {
            continue;
        };
        let (inode, ops) = fs::stdio::stdio(hfd);
        let name = match fd {
            0 => "/dev/stdin",
            1 => "/dev/stdout",
            _ => "/dev/stderr",
        };
        let file = OpenFile::new(ops, fs::Loc::detached(String::from(name), inode), flags);
        fds.put(
            fd as usize,
            fs::fdtable::FdEntry {
                file,
                cloexec: false,
            },
        );
    }
}

/// The first steps of `thread` (the caller) on its new host thread, before it enters user code
/// (`Err`: it ended instead).
fn start_thread(thread: &Thread, regs: &mut UserRegs) -> Result<(), process::Ending> {
    let fork_start = thread.fork_start.lock().take();
    if fork_start.is_some() {
        thread.bind_forked_host_thread();
    } else {
        thread.bind_host_thread();
    }
    if let Some(start) = fork_start {
        syscall::clone::start_forked_child(thread, start, regs);
    }
    let exec = thread.exec_elsewhere.lock().take();
    if let Some(prepared) = exec {
        syscall::task::start_exec_elsewhere(thread, prepared, regs)?;
    }
    process::leave_if_exiting(thread)?;
    signal::deliver_pending(regs, thread)
}

/// Every entry from the platform holds its own reference to the calling thread, and finishes it
/// (`process::finish`) if it ended: by then every kernel frame of the trap has returned.
impl TrapHandler for Kernel {
    fn syscall(&self, _thread: usize, regs: &mut UserRegs) {
        if let Err(ended) = syscall::dispatch(regs) {
            process::finish(ended);
        }
    }

    fn fault(&self, _thread: usize, regs: &mut UserRegs, fault: FaultKind) {
        let thread = process::current_thread();
        let outcome = signal::fault(regs, &thread, fault);
        process::finish_if_ended(thread, outcome);
    }

    fn interrupt(&self, _thread: usize, regs: &mut UserRegs, host_signal: Option<u32>) {
        let thread = process::current_thread();
        let outcome = process::leave_if_exiting(&thread).and_then(|()| {
            if let Some(sig) = host_signal {
                signal::send_host_signal(sig);
            }
            signal::collect_host_signals();
            signal::deliver_pending(regs, &thread)
        });
        process::finish_if_ended(thread, outcome);
    }

    fn thread_start(&self, _thread: usize, regs: &mut UserRegs) {
        let thread = process::current_thread();
        let outcome = start_thread(&thread, regs);
        process::finish_if_ended(thread, outcome);
    }

    fn fast_syscall(&self, _thread: usize, regs: &mut UserRegs) -> veil_platform::FastExit {
        syscall::fast(regs)
    }

    fn forked(&self, _thread: usize, regs: &mut UserRegs, result: Result<u64, veil_abi::Errno>) {
        syscall::clone::fork_done(&process::current_thread(), regs, result);
    }

    fn moved(&self, thread: usize, regs: &mut UserRegs, result: Result<u64, veil_abi::Errno>) {
        let moving = self.moving.lock().remove(&(thread as i32));
        match moving {
            Some(moving) => {
                if let Err(ended) = syscall::task::move_done(moving, regs, result) {
                    process::finish(ended);
                }
            }
            // Only a thread that asked to move gets here.
            None => self.platform.exit_thread(),
        }
    }
}
