//! Clean address spaces: the zygote.
//!
//! A program that cannot share its parent's address space (a vfork child exec'ing a non-PIE
//! program whose fixed range is taken there, or any vfork child's exec under the per-process
//! policy) starts in an address space of its own. A copy of the parent's (a host fork) costs
//! in proportion to the parent's memory (its page tables copied, then every mapping released
//! again in the copy) and briefly holds a copy of the other processes' data. So at boot, before
//! any program's memory exists, the first address space forks a *zygote*: a single-threaded
//! host process with the kernel heap, the instance's shared memory and the boot-time host fds
//! (standard streams, mounted host directories), which does nothing but fork itself on
//! request. Its child becomes the new address space: it puts the host fds the moving process
//! still uses at their numbers, arms the trap path and starts the moving kernel thread there.
//!
//! Requests travel over a `SOCK_SEQPACKET` socket pair. Every address space holds the
//! requesting end ([`CLIENT`], at the same number everywhere: forks inherit it, and each
//! request carries it to the new address space along with the other host fds), the zygote
//! alone holds the serving end, so it reads end-of-file and exits once every address space
//! of the instance has ended. A request names the kernel thread that moves, the numbers the
//! carried fds must have (the fds themselves go as `SCM_RIGHTS`), and a word in the shared
//! kernel heap where the outcome is reported: by the new address space once it is set up, or
//! by the zygote if its fork failed. The requester sleeps on that word.
//!
//! The zygote allocates from its own host heap, not the shared kernel heap: both sides of each
//! of its forks would otherwise own, and free, the same blocks (its request buffers, say).

use crate::futex;
use crate::trap::{self, ThreadBlock};
use rustix::fd::{AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use rustix::io::{IoSlice, IoSliceMut};
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32};
use veil_platform::{Errno, TrapHandler, UserRegs};

/// Most fds one `SCM_RIGHTS` message takes (Linux's `SCM_MAX_FD`).
const MAX_FDS: usize = 253;
/// The request header: kernel thread, reply word address, fd count.
const HEADER: usize = 20;
/// The zygote's host process name (`comm`).
const ZYGOTE_NAME: &[u8] = b"veil-zygote\0";
/// How long the requester sleeps before checking that the zygote still exists.
const LIVENESS_CHECK_NS: i64 = 100_000_000;

/// The requesting end of the zygote's socket in this address space (-1: no zygote).
static CLIENT: AtomicI32 = AtomicI32::new(-1);
/// The zygote's host pid.
static ZYGOTE: AtomicI32 = AtomicI32::new(0);

/// Where the outcome of a request is reported (in the shared kernel heap).
#[derive(Default)]
struct Reply {
    /// 1 once `result` is set.
    done: AtomicU32,
    /// The new address space's id, or -errno.
    result: AtomicI64,
}

impl Reply {
    fn report(&self, result: i64) {
        self.result.store(result, Relaxed);
        self.done.store(1, Release);
        futex::wake(&self.done, 1);
    }
}

/// Whether a move carrying `fds` host fds can be asked for.
pub fn can_carry(fds: usize) -> bool {
    CLIENT.load(Relaxed) >= 0 && fds < MAX_FDS
}

/// Forks the zygote. Called at boot on the first address space's only thread, which has its
/// trap block.
pub fn start(handler: &'static dyn TrapHandler) -> std::io::Result<()> {
    let block = trap::current_block()
        .ok_or_else(|| std::io::Error::other("the zygote starts from a LibOS thread"))?;
    let (client, server) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )?;
    // The zygote's children run on this thread's copy: its region must be in the copy.
    block.set_fork_inclusion(true);
    // SAFETY: this is the address space's only thread (boot), so the child may go on running
    // Rust code; kernel state is in the shared heap.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        drop(client);
        // Its own trap path is never used (it runs no user code); this records its identity.
        let _ = trap::after_fork_child();
        trap::set_trap_handler(handler);
        crate::heap::use_host_heap();
        // SAFETY: getpid has no preconditions.
        ZYGOTE.store(unsafe { libc::getpid() }, Relaxed);
        // Named for whoever looks at the host's process list; its children take back the
        // address spaces' name.
        let name = host_name();
        set_host_name(ZYGOTE_NAME);
        serve(server, block, name);
    }
    block.set_fork_inclusion(false);
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    drop(server);
    ZYGOTE.store(pid, Relaxed);
    CLIENT.store(client.into_raw_fd(), Relaxed);
    Ok(())
}

/// Moves kernel thread `thread` (the caller) to a new address space made by the zygote, with
/// host fds `carried`; returns the new address space's id once it is set up.
pub fn move_to_clean_space(thread: usize, carried: &[i32]) -> Result<u64, Errno> {
    let client = CLIENT.load(Relaxed);
    if client < 0 {
        return Err(Errno::EAGAIN);
    }
    let mut targets = carried.to_vec();
    targets.push(client);
    // The reply lives in the kernel heap (the global allocator), which the new address space
    // shares at the same address.
    let reply = Box::into_raw(Box::<Reply>::default());
    let mut message = Vec::with_capacity(HEADER + 4 * targets.len());
    message.extend_from_slice(&(thread as u64).to_ne_bytes());
    message.extend_from_slice(&(reply as u64).to_ne_bytes());
    message.extend_from_slice(&(targets.len() as u32).to_ne_bytes());
    for fd in &targets {
        message.extend_from_slice(&fd.to_ne_bytes());
    }
    // SAFETY: the carried fds are open in this address space for the duration of the call
    // (the kernel's files keep them open); sendmsg only duplicates them.
    let fds: Vec<BorrowedFd<'_>> = targets
        .iter()
        .map(|&fd| unsafe { BorrowedFd::borrow_raw(fd) })
        .collect();
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    control.push(SendAncillaryMessage::ScmRights(&fds));
    // SAFETY: `client` is this address space's requesting end, open for its whole life.
    let socket = unsafe { BorrowedFd::borrow_raw(client) };
    if let Err(e) = rustix::net::sendmsg(
        socket,
        &[IoSlice::new(&message)],
        &mut control,
        SendFlags::empty(),
    ) {
        // SAFETY: nobody else has seen the reply.
        drop(unsafe { Box::from_raw(reply) });
        zygote_gone(&e.to_string());
        return Err(Errno::EAGAIN);
    }
    // SAFETY: the reply stays allocated until it is done (or, if the zygote is gone, forever).
    let reply_ref = unsafe { &*reply };
    let timeout = libc::timespec {
        tv_sec: 0,
        tv_nsec: LIVENESS_CHECK_NS,
    };
    while reply_ref.done.load(Acquire) == 0 {
        let _ = futex::wait(&reply_ref.done, 0, Some(&timeout));
        // SAFETY: signal 0 only checks that the process exists.
        if reply_ref.done.load(Acquire) == 0 && unsafe { libc::kill(ZYGOTE.load(Relaxed), 0) } != 0
        {
            zygote_gone("it ended");
            return Err(Errno::EAGAIN);
        }
    }
    let result = reply_ref.result.load(Relaxed);
    // SAFETY: reported: nobody uses the reply any more.
    drop(unsafe { Box::from_raw(reply) });
    if result < 0 {
        return Err(Errno((-result) as u16));
    }
    Ok(result as u64)
}

/// The zygote cannot be reached any more (killed from outside, say): later moves in this
/// address space are not asked for (the kernel copies address spaces instead).
fn zygote_gone(why: &str) {
    CLIENT.store(-1, Relaxed);
    log::warn!(
        "no clean address space from the zygote ({why}); from now on programs that need an address space of their own start in a copy of their parent's"
    );
}

/// A request as the zygote received it.
struct Request {
    thread: usize,
    reply: *const Reply,
    /// The numbers the received fds must have in the new address space, in order.
    targets: Vec<i32>,
}

impl Request {
    fn parse(bytes: &[u8]) -> Option<Request> {
        let u64_at = |at: usize| u64::from_ne_bytes(bytes[at..at + 8].try_into().expect("8"));
        if bytes.len() < HEADER {
            return None;
        }
        let count = u32::from_ne_bytes(bytes[16..20].try_into().expect("4")) as usize;
        if count > MAX_FDS || bytes.len() != HEADER + 4 * count {
            return None;
        }
        let targets = bytes[HEADER..]
            .chunks_exact(4)
            .map(|c| i32::from_ne_bytes(c.try_into().expect("4")))
            .collect();
        Some(Request {
            thread: u64_at(0) as usize,
            reply: u64_at(8) as *const Reply,
            targets,
        })
    }
}

/// The zygote's life: fork on every request until every address space has ended.
fn serve(server: OwnedFd, block: &'static mut ThreadBlock, name: [u8; 16]) -> ! {
    let mut buf = vec![0u8; HEADER + 4 * MAX_FDS];
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    loop {
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let received = rustix::net::recvmsg(
            &server,
            &mut [IoSliceMut::new(&mut buf)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        );
        let bytes = match received {
            Ok(msg) if msg.bytes == 0 => exit(0),
            Ok(msg) => msg.bytes,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => exit(1),
        };
        let fds: Vec<OwnedFd> = control
            .drain()
            .flat_map(|m| match m {
                RecvAncillaryMessage::ScmRights(fds) => fds.collect(),
                _ => Vec::new(),
            })
            .collect();
        // Requests come from the instance's own address spaces; a malformed one has nowhere
        // to be answered.
        let Some(request) = Request::parse(&buf[..bytes]) else {
            continue;
        };
        // SAFETY: the requester keeps its reply allocated until it is reported.
        let reply = unsafe { &*request.reply };
        if fds.len() != request.targets.len() {
            // The zygote's own fd limit cut the message short.
            reply.report(-(Errno::EMFILE.0 as i64));
            continue;
        }
        // SAFETY: the zygote is single-threaded, so the child may go on running Rust code.
        match unsafe { libc::fork() } {
            0 => {
                drop(server);
                set_host_name(&name);
                become_address_space(block, request, fds);
            }
            pid if pid < 0 => reply.report(-(last_errno() as i64)),
            _ => {}
        }
    }
}

/// In the zygote's child: sets up the new address space and starts the moving thread there.
fn become_address_space(block: &'static mut ThreadBlock, request: Request, fds: Vec<OwnedFd>) -> ! {
    crate::heap::use_kernel_heap();
    // SAFETY: as in `serve`.
    let reply = unsafe { &*request.reply };
    block.set_fork_inclusion(false);
    if let Err(e) = place_fds(fds, &request.targets).and(trap::after_fork_child()) {
        reply.report(-(e.raw_os_error().unwrap_or(libc::EAGAIN) as i64));
        exit(1);
    }
    block.set_thread_data(request.thread);
    reply.report(trap::process_id() as i64);
    let mut regs = UserRegs::default();
    if let Some(handler) = trap::trap_handler() {
        handler.thread_start(request.thread, &mut regs);
    }
    block.enter_user(&regs)
}

/// Puts the received `fds` at the numbers `targets` (whatever the zygote had there goes).
fn place_fds(fds: Vec<OwnedFd>, targets: &[i32]) -> std::io::Result<()> {
    let above = fds
        .iter()
        .map(|fd| fd.as_raw_fd())
        .chain(targets.iter().copied())
        .max()
        .unwrap_or(0)
        + 1;
    // First out of the way of every target, then each to its number.
    let mut moved = Vec::with_capacity(fds.len());
    for fd in &fds {
        moved.push(rustix::io::fcntl_dupfd_cloexec(fd, above)?);
    }
    drop(fds);
    for (fd, &target) in moved.iter().zip(targets) {
        // SAFETY: dup2 onto a number this address space's kernel state refers to; whatever
        // the zygote had open there is not used here.
        if unsafe { libc::dup2(fd.as_raw_fd(), target) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The calling host process's name (`comm`, NUL-terminated).
fn host_name() -> [u8; 16] {
    let mut name = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes into the buffer.
    unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr()) };
    name
}

/// Renames the calling host process (`name`: at most 15 bytes, NUL-terminated).
fn set_host_name(name: &[u8]) {
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EAGAIN)
}

fn exit(status: i32) -> ! {
    // SAFETY: ends this host process; its state is either the zygote's (private) or an
    // address space that never ran a program.
    unsafe { libc::_exit(status) }
}
