//! The supervisor: the `veil run` process. It creates the kernel heap, forks the address-space
//! process that runs the instance, and turns the way that process ended into an exit status.

use crate::platform::PLATFORM;
use crate::{ExitStatus, LaunchError, LaunchSpec, MountKind, heap, shared_memory, trap};
use std::os::unix::ffi::OsStrExt;
use veil_kernel::{BootSpec, MountSource};
use veil_platform::HostFd;

/// `AT_HWCAP2` bit: the kernel allows FSGSBASE instructions in user mode.
const HWCAP2_FSGSBASE: u64 = 1 << 1;

/// Boots an instance, runs `spec.program` as its first process and waits for it to end.
pub fn launch(spec: &LaunchSpec) -> Result<ExitStatus, LaunchError> {
    if crate::platform::host_aux(libc::AT_HWCAP2) & HWCAP2_FSGSBASE == 0 {
        return Err(LaunchError::Host(
            "this host kernel does not enable FSGSBASE for user space (Linux 5.9 or newer on a CPU with FSGSBASE is required)".into(),
        ));
    }
    let strace_fd = open_strace(spec)?;
    crate::threads::record_instance_cpus();
    raise_host_fd_limit();
    heap::create_kernel_heap().map_err(LaunchError::Host)?;
    shared_memory::create().map_err(LaunchError::Host)?;
    // Address spaces whose parent address space ended become children of `veil`, not of the
    // host's init: whatever happens to the first one, none outlives the instance.
    // SAFETY: prctl with integer arguments has no memory effects.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) };
    // SAFETY: the supervisor is single-threaded here, so the child may keep running Rust code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(LaunchError::Host(format!(
            "fork: {}",
            std::io::Error::last_os_error()
        )));
    }
    if pid == 0 {
        run_address_space(spec, strace_fd);
    }
    forward_signals_to(pid);
    if let Some(fd) = strace_fd.filter(|fd| fd.0 != 2) {
        // SAFETY: closing the supervisor's copy of the trace file.
        unsafe { libc::close(fd.0) };
    }
    let status = wait_for(pid);
    end_remaining_address_spaces();
    status
}

/// Lets the instance's address spaces open as many host fds as the host allows (soft limit up
/// to the hard one): every process of an address space, and every host file they open, share
/// one host process's fd table, whose soft limit is often a mere 1024.
fn raise_host_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            log::debug!("cannot raise the host fd limit: {e}");
        }
    }
}

/// The address-space process signals are passed on to (0 until it exists).
static INSTANCE_PID: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Passes a signal `veil` received (from a process, or from its terminal: the address-space
/// processes, in the same process group, ignore their own copies) on to the instance.
extern "C" fn forward_signal(sig: i32, _info: *mut libc::siginfo_t, _uc: *mut libc::c_void) {
    let pid = INSTANCE_PID.load(std::sync::atomic::Ordering::SeqCst);
    if pid > 0 {
        let value = libc::sigval {
            sival_ptr: sig as usize as *mut libc::c_void,
        };
        // SAFETY: sigqueue has no memory effects here.
        unsafe { libc::sigqueue(pid, trap::FORWARD_SIGNAL, value) };
    }
}

/// Makes the supervisor pass the forwarded signals on to the instance process `pid`.
fn forward_signals_to(pid: libc::pid_t) {
    INSTANCE_PID.store(pid, std::sync::atomic::Ordering::SeqCst);
    for sig in trap::FORWARDED_SIGNALS {
        // SAFETY: a zeroed sigaction with an SA_SIGINFO handler that only calls kill.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward_signal as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

fn open_strace(spec: &LaunchSpec) -> Result<Option<HostFd>, LaunchError> {
    let Some(path) = &spec.strace else {
        return Ok(None);
    };
    if path.as_os_str() == "-" {
        return Ok(Some(HostFd(2)));
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(|e| {
            LaunchError::Host(format!("cannot open strace file {}: {e}", path.display()))
        })?;
    Ok(Some(HostFd(std::os::fd::IntoRawFd::into_raw_fd(file))))
}

/// Waits for the first AS process and maps its end to the instance's exit status (reaping the
/// other address spaces that end meanwhile as `veil`'s adopted children).
fn wait_for(pid: libc::pid_t) -> Result<ExitStatus, LaunchError> {
    let mut status = 0;
    loop {
        // SAFETY: waiting for any child into a local.
        let r = unsafe { libc::waitpid(-1, &mut status, 0) };
        if r == pid {
            break;
        }
        if r > 0 {
            continue;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return Err(LaunchError::Host(format!(
                "waitpid: {}",
                std::io::Error::last_os_error()
            )));
        }
    }
    if libc::WIFEXITED(status) {
        let code = libc::WEXITSTATUS(status);
        // The kernel encodes "killed by signal N" as 128 + N, like a shell does.
        return Ok(if code > 128 && code < 128 + 65 {
            ExitStatus::Signaled(code - 128)
        } else {
            ExitStatus::Exited(code)
        });
    }
    let sig = libc::WTERMSIG(status);
    eprintln!("veil: the instance's address-space process died unexpectedly (host signal {sig})");
    Ok(ExitStatus::Signaled(sig))
}

/// Kills and reaps the address spaces still running once the first one ended: normally none
/// (the instance's end ends them all), but the first one may have been killed from outside.
/// A killed one's own children come to `veil` in turn, hence the rounds.
fn end_remaining_address_spaces() {
    const MAX_ROUNDS: usize = 1000;
    for _ in 0..MAX_ROUNDS {
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        let children =
            std::fs::read_to_string(format!("/proc/{me}/task/{me}/children")).unwrap_or_default();
        let pids: Vec<libc::pid_t> = children
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            // SAFETY: kill and waitpid have no memory effects beyond the local status.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

fn boot_spec(spec: &LaunchSpec, strace: Option<HostFd>) -> BootSpec {
    let bytes = |s: &str| s.as_bytes().to_vec();
    BootSpec {
        root: spec.root.as_os_str().as_bytes().to_vec(),
        mounts: spec
            .mounts
            .iter()
            .map(|m| {
                let source = match &m.kind {
                    MountKind::Ram => MountSource::Ram,
                    MountKind::Host { source } => {
                        MountSource::Host(source.as_os_str().as_bytes().to_vec())
                    }
                };
                (m.path.clone(), source)
            })
            .collect(),
        program: bytes(&spec.program),
        argv: spec.argv.iter().map(|a| bytes(a)).collect(),
        envp: spec.env.iter().map(|e| bytes(e)).collect(),
        cwd: bytes(if spec.cwd.is_empty() { "/" } else { &spec.cwd }),
        strace,
        max_open_files: spec.limits.max_open_files,
        stack_size: spec.limits.stack_size,
        per_process_spaces: spec.per_process_spaces,
    }
}

/// The body of the address-space process: boot the kernel and enter the program. Never returns.
fn run_address_space(spec: &LaunchSpec, strace: Option<HostFd>) -> ! {
    heap::use_kernel_heap();
    // The kernel applies the instance's umask itself; the host must not apply its own on top.
    // SAFETY: umask has no memory effects.
    unsafe { libc::umask(0) };
    let fail = |code: i32, message: &str| -> ! {
        eprintln!("veil: {message}");
        // SAFETY: ends this forked process without running the supervisor's exit handlers.
        unsafe { libc::_exit(code) }
    };
    // SAFETY: getppid, prctl and signal have no memory effects. The instance must not outlive
    // `veil run`; forked address spaces are reaped by the host (the kernel tracks them).
    unsafe {
        trap::set_supervisor(libc::getppid());
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        libc::signal(libc::SIGCHLD, libc::SIG_IGN);
    }
    if let Err(e) = trap::install_signal_handlers() {
        fail(125, &format!("cannot install signal handlers: {e}"));
    }
    let block = match trap::init_thread(0) {
        Ok(b) => b,
        Err(e) => fail(125, &format!("cannot arm Syscall User Dispatch: {e}")),
    };
    let kernel_spec = boot_spec(spec, strace);
    match veil_kernel::boot(&PLATFORM, kernel_spec) {
        Ok(regs) => {
            trap::set_trap_handler(veil_kernel::kernel());
            crate::huge_text::start_helper();
            block.enter_user(&regs)
        }
        Err(e) => {
            let code = if e.not_found { 127 } else { 126 };
            fail(
                code,
                &format!("cannot execute {}: {}", spec.program, e.message),
            )
        }
    }
}
