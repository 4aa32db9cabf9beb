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
//! of the instance has ended. A request names the kernel thread that moves and the numbers the
//! carried fds must have; the fds themselves go as `SCM_RIGHTS`, followed by the write end of
//! a pipe the requester reads the outcome from: the new address space's id, written once it
//! is set up, or -errno. The zygote closes its copy of that end once it has forked, so
//! end-of-file means that neither it nor a child of it will start the thread: the requester
//! then copies its own address space instead, as it does once the zygote is gone (killed from
//! outside, say), so that no exec fails for want of a zygote.
//!
//! The zygote allocates from its own host heap, not the shared kernel heap: both sides of each
//! of its forks would otherwise own, and free, the same blocks (its request buffers, say).

use crate::trap::{self, ThreadBlock};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use rustix::io::{Errno as HostErrno, IoSlice, IoSliceMut};
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicI32};
use veil_platform::{Errno, TrapHandler, UserRegs};

/// Most fds one `SCM_RIGHTS` message takes (Linux's `SCM_MAX_FD`).
const MAX_FDS: usize = 253;
/// The request header: kernel thread, number of carried fds.
const HEADER: usize = 12;
/// The zygote's host process name (`comm`).
const ZYGOTE_NAME: &[u8] = b"veil-zygote\0";

/// The requesting end of the zygote's socket in this address space (-1: no zygote).
static CLIENT: AtomicI32 = AtomicI32::new(-1);
/// Set in an address space the zygote made (it holds no other process's memory).
static CLEAN: AtomicBool = AtomicBool::new(false);

/// Whether this address space is one the zygote made.
pub fn is_clean() -> bool {
    CLEAN.load(Relaxed)
}

/// Records that this address space is a copy of another (a fork), not one the zygote made.
pub fn forget_clean() {
    CLEAN.store(false, Relaxed);
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
    // The zygote's children run on this thread's copy: its region must be in the copy (and
    // stays in forks here, as the region of the last thread that forked).
    trap::put_region_in_forks(block)?;
    // SAFETY: this is the address space's only thread (boot), so the child may go on running
    // Rust code; kernel state is in the shared heap.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        crate::heap::use_host_heap();
        drop(client);
        trap::set_trap_handler(handler);
        // Named for whoever looks at the host's process list; its children take back the
        // address spaces' name.
        let name = host_name();
        set_host_name(ZYGOTE_NAME);
        serve(server, block, name);
    }
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    drop(server);
    CLIENT.store(client.into_raw_fd(), Relaxed);
    Ok(())
}

/// Moves kernel thread `thread` (the caller) to a new address space made by the zygote, with
/// host fds `carried`: the new address space's id once it is set up, or the error that
/// stopped it. None if the zygote cannot be asked (gone, or too many fds to carry): the caller
/// copies its address space instead.
pub fn move_to_clean_space(thread: usize, carried: &[i32]) -> Option<Result<u64, Errno>> {
    let client = CLIENT.load(Relaxed);
    // The carried fds, the requesting end and the outcome pipe.
    if client < 0 || carried.len() + 2 > MAX_FDS {
        return None;
    }
    let (outcome, outcome_tx) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).ok()?;
    let mut targets = carried.to_vec();
    targets.push(client);
    let mut message = Vec::with_capacity(HEADER + 4 * targets.len());
    message.extend_from_slice(&(thread as u64).to_ne_bytes());
    message.extend_from_slice(&(targets.len() as u32).to_ne_bytes());
    for fd in &targets {
        message.extend_from_slice(&fd.to_ne_bytes());
    }
    let mut fds: Vec<BorrowedFd<'_>> = targets
        .iter()
        .map(|&fd| {
            // SAFETY: the carried fds are open in this address space for the duration of the
            // call (the kernel's files keep them open); sendmsg only duplicates them.
            unsafe { BorrowedFd::borrow_raw(fd) }
        })
        .collect();
    fds.push(outcome_tx.as_fd());
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return None;
    }
    // SAFETY: `client` is this address space's requesting end, open for its whole life.
    let socket = unsafe { BorrowedFd::borrow_raw(client) };
    let request = [IoSlice::new(&message)];
    loop {
        match rustix::net::sendmsg(socket, &request, &mut control, SendFlags::empty()) {
            Ok(_) => break,
            Err(HostErrno::INTR) => continue,
            Err(e @ (HostErrno::PIPE | HostErrno::CONNRESET | HostErrno::CONNREFUSED)) => {
                zygote_gone(&e.to_string());
                return None;
            }
            Err(e) => {
                log::warn!("cannot ask the zygote for an address space: {e}");
                return Some(Err(Errno::EAGAIN));
            }
        }
    }
    drop(outcome_tx);
    let mut result = [0u8; 8];
    let mut got = 0;
    while got < result.len() {
        match rustix::io::read(&outcome, &mut result[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(HostErrno::INTR) => continue,
            Err(_) => break,
        }
    }
    if got < result.len() {
        // Nobody holds the pipe's write end any more: no one will start the thread.
        zygote_gone("it ended before the new address space was set up");
        return None;
    }
    let result = i64::from_ne_bytes(result);
    Some(if result < 0 {
        Err(Errno((-result) as u16))
    } else {
        Ok(result as u64)
    })
}

/// The zygote cannot be asked any more (killed from outside, say): programs of this address
/// space that need one of their own start in a copy of it from now on.
fn zygote_gone(why: &str) {
    CLIENT.store(-1, Relaxed);
    log::warn!(
        "no clean address space from the zygote ({why}); programs that need an address space of their own start in a copy of their parent's instead"
    );
}

/// Reports `result` (the new address space's id, or -errno) to the requester.
fn report(outcome: &OwnedFd, result: i64) {
    let _ = rustix::io::write(outcome, &result.to_ne_bytes());
}

/// A request as the zygote received it.
struct Request {
    thread: usize,
    /// The numbers the carried fds must have in the new address space, in order.
    targets: Vec<i32>,
    /// The carried fds, then the write end of the requester's outcome pipe.
    fds: Vec<OwnedFd>,
}

impl Request {
    fn parse(bytes: &[u8], fds: Vec<OwnedFd>) -> Option<Request> {
        if bytes.len() < HEADER {
            return None;
        }
        let count = u32::from_ne_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
        if bytes.len() != HEADER + 4 * count || fds.len() != count + 1 {
            return None;
        }
        Some(Request {
            thread: u64::from_ne_bytes(bytes[..8].try_into().expect("8 bytes")) as usize,
            targets: bytes[HEADER..]
                .chunks_exact(4)
                .map(|c| i32::from_ne_bytes(c.try_into().expect("4 bytes")))
                .collect(),
            fds,
        })
    }

    /// The write end of the requester's outcome pipe.
    fn outcome(&self) -> &OwnedFd {
        self.fds
            .last()
            .expect("parsed requests have an outcome pipe")
    }
}

/// What the zygote's socket delivered.
enum Received {
    Request(Request),
    /// Nothing usable: interrupted, or a request that does not parse (its fds, the outcome
    /// pipe included, are closed, so its requester copies its address space instead).
    Nothing,
    /// Every requesting end is closed: the instance has ended.
    End,
}

fn receive(server: &OwnedFd) -> Received {
    let mut buf = [0u8; HEADER + 4 * MAX_FDS];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let received = rustix::net::recvmsg(
        server,
        &mut [IoSliceMut::new(&mut buf)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    );
    let bytes = match received {
        Ok(msg) if msg.bytes == 0 => return Received::End,
        Ok(msg) => msg.bytes,
        Err(HostErrno::INTR) => return Received::Nothing,
        Err(_) => return Received::End,
    };
    let fds: Vec<OwnedFd> = control
        .drain()
        .flat_map(|m| match m {
            RecvAncillaryMessage::ScmRights(fds) => fds.collect(),
            _ => Vec::new(),
        })
        .collect();
    match Request::parse(&buf[..bytes], fds) {
        Some(request) => Received::Request(request),
        None => Received::Nothing,
    }
}

/// The zygote's life: fork on every request until every address space has ended.
fn serve(server: OwnedFd, block: &'static mut ThreadBlock, name: [u8; 16]) -> ! {
    loop {
        let request = match receive(&server) {
            Received::Request(request) => request,
            Received::Nothing => continue,
            Received::End => exit(0),
        };
        // SAFETY: the zygote is single-threaded, so the child may go on running Rust code.
        match unsafe { libc::fork() } {
            0 => {
                drop(server);
                set_host_name(&name);
                become_address_space(block, request);
            }
            pid if pid < 0 => report(request.outcome(), -(crate::host::last_errno().0 as i64)),
            // The child reports.
            _ => {}
        }
        // Closes the zygote's copies of the request's fds.
        drop(request);
        crate::huge_text::after_zygote_fork();
    }
}

/// In the zygote's child: sets up the new address space and starts the moving thread there.
fn become_address_space(block: &'static mut ThreadBlock, request: Request) -> ! {
    crate::heap::use_kernel_heap();
    let Request {
        thread,
        targets,
        fds,
    } = request;
    let outcome = match place_fds(fds, &targets).and_then(|outcome| {
        trap::after_fork_child()?;
        Ok(outcome)
    }) {
        Ok(outcome) => outcome,
        // The requester reads end-of-file and copies its address space instead.
        Err(_) => exit(1),
    };
    CLIENT.store(*targets.last().expect("the requesting end"), Relaxed);
    CLEAN.store(true, Relaxed);
    crate::threads::forget_parked();
    block.set_thread_data(thread);
    let Some(handler) = trap::trap_handler() else {
        exit(1);
    };
    report(&outcome, trap::process_id() as i64);
    drop(outcome);
    let mut regs = UserRegs::default();
    handler.thread_start(thread, &mut regs);
    block.enter_user(&regs)
}

/// Puts the carried fds (all of `fds` but the last) at the numbers `targets`, whatever the
/// zygote had open there; returns the last one, the outcome pipe's write end, at a number no
/// target uses.
fn place_fds(fds: Vec<OwnedFd>, targets: &[i32]) -> std::io::Result<OwnedFd> {
    let above = fds
        .iter()
        .map(|fd| fd.as_raw_fd())
        .chain(targets.iter().copied())
        .max()
        .unwrap_or(0)
        + 1;
    // First all out of the way of every target, then each carried fd to its number.
    let mut moved = Vec::with_capacity(fds.len());
    for fd in &fds {
        moved.push(rustix::io::fcntl_dupfd_cloexec(fd, above)?);
    }
    drop(fds);
    let outcome = moved.pop().expect("the outcome pipe");
    for (fd, &target) in moved.iter().zip(targets) {
        // SAFETY: dup3 onto a number this address space's kernel state refers to; whatever
        // the zygote had open there is not used here.
        if unsafe { libc::dup3(fd.as_raw_fd(), target, libc::O_CLOEXEC) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(outcome)
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

fn exit(status: i32) -> ! {
    // SAFETY: ends this host process; its state is either the zygote's (private) or an
    // address space that never ran a program.
    unsafe { libc::_exit(status) }
}
