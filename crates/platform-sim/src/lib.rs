//! Veil's simulation platform: the LibOS kernel runs inside ordinary Linux host processes and
//! intercepts the program's system calls with Syscall User Dispatch.
//!
//! `veil run` calls [`launch`], which makes the calling process the *supervisor*: it maps the
//! shared kernel heap, forks the first address-space (AS) process, and waits for it. The AS
//! process boots the kernel, loads the program and enters it; from then on the program's
//! syscalls and faults arrive through the trap path in `trap.rs`.

mod futex;
mod heap;
mod host;
mod huge_text;
mod platform;
mod shared_memory;
mod supervisor;
mod threads;
mod trap;
mod uaccess;
mod zygote;

pub use heap::VeilAllocator;
pub use supervisor::launch;

/// Everything `veil run` needs to start an instance.
#[derive(Debug, Clone, Default)]
pub struct LaunchSpec {
    /// Host directory that becomes `/` inside the instance (host pass-through file system).
    pub root: std::path::PathBuf,
    /// Extra mounts (path inside the instance, kind).
    pub mounts: Vec<MountSpec>,
    /// Program path inside the instance, e.g. `/bin/sh`.
    pub program: String,
    /// argv, including argv[0].
    pub argv: Vec<String>,
    /// Environment as `KEY=VALUE` strings, in order.
    pub env: Vec<String>,
    /// Working directory inside the instance.
    pub cwd: String,
    /// Write an strace-like trace of every syscall here ("-" = stderr).
    pub strace: Option<std::path::PathBuf>,
    /// Resource limits.
    pub limits: Limits,
    /// Run every process in an address space of its own (`process.address_space =
    /// "per-process"`) instead of spawned programs sharing their parent's when they fit.
    pub per_process_spaces: bool,
}

/// A file system mounted into the instance at `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    pub path: String,
    pub kind: MountKind,
}

/// The kinds of file system a config can mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    /// A RAM file system (tmpfs).
    Ram,
    /// Pass-through to a host directory (untrusted).
    Host { source: std::path::PathBuf },
}

/// Instance-wide resource settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// RLIMIT_NOFILE soft and hard limit.
    pub max_open_files: u64,
    /// RLIMIT_STACK and size of the main thread's stack.
    pub stack_size: u64,
    /// Optional cap on the instance's user memory (bytes).
    pub max_memory: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_open_files: 1024,
            stack_size: 8 << 20,
            max_memory: None,
        }
    }
}

/// How an instance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The init program exited with this code.
    Exited(i32),
    /// The init program was killed by this signal.
    Signaled(i32),
}

impl ExitStatus {
    /// The exit code `veil run` returns: the code, or 128 + signal.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }
}

/// Why an instance could not start.
#[derive(Debug)]
pub enum LaunchError {
    /// The program was not found (`veil` exits 127).
    NotFound(String),
    /// The program could not be executed (`veil` exits 126): bad ELF, no permission, ...
    CannotExecute { path: String, reason: String },
    /// The host refused something the platform needs.
    Host(String),
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::NotFound(p) => write!(f, "cannot execute {p}: No such file or directory"),
            LaunchError::CannotExecute { path, reason } => {
                write!(f, "cannot execute {path}: {reason}")
            }
            LaunchError::Host(m) => write!(f, "host error: {m}"),
        }
    }
}

impl std::error::Error for LaunchError {}

impl LaunchError {
    /// The exit code `veil run` returns for this error (Linux shell conventions).
    pub fn exit_code(&self) -> i32 {
        match self {
            LaunchError::NotFound(_) => 127,
            LaunchError::CannotExecute { .. } => 126,
            LaunchError::Host(_) => 125,
        }
    }
}
