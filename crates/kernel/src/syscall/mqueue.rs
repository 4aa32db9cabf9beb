//! POSIX message queues: mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify and
//! mq_getsetattr (mq_overview(7)). A queue is a kernel object named in the instance's queue
//! namespace (glibc and musl strip the name's leading slash); a queue descriptor is a file
//! descriptor, readable for a status line and pollable (POLLIN: a message waits; POLLOUT: room
//! for one). Messages are received highest priority first, oldest first within a priority. A
//! full queue makes senders wait and an empty one receivers (interruptible, with an absolute
//! CLOCK_REALTIME timeout), unless the description is O_NONBLOCK; messages pass to waiters as
//! on Linux (see `QueueState`). A process may register to be told with a signal (`mq_notify`)
//! when a message arrives in the empty queue while nobody waits to receive one; the
//! registration then ends, as it does when its process closes a descriptor of the queue or
//! ends. Limits are Linux's defaults for an unprivileged process (10 messages of 8192 bytes at
//! most, 256 queues), and queues are charged to RLIMIT_MSGQUEUE (EMFILE beyond it). `SIGEV_THREAD` notification
//! (a netlink socket for glibc's helper thread) is not supported.
//!
//! Lock order: `Kernel::mqueues` and a queue's `state` are leaves (signals are sent, and the
//! notification's owner looked up, with neither held).

use super::*;
use crate::fs::{FileOps, Inode, InodeRef};
use crate::ipc::futex::Deadline;
use crate::sync::{Event, Mutex};
use alloc::collections::BTreeMap;
use alloc::collections::VecDeque;
use core::sync::atomic::{AtomicU64, Ordering};
use veil_abi::MqAttr;
use veil_abi::general::{stat, statfs64};

/// `MQ_PRIO_MAX`: priorities are below it.
const MQ_PRIO_MAX: u32 = 32768;
/// Defaults for a queue created without attributes (`/proc/sys/fs/mqueue/*_default`).
const DEFAULT_MAXMSG: i64 = 10;
const DEFAULT_MSGSIZE: i64 = 8192;
/// Largest attributes and most queues (Linux's `/proc/sys/fs/mqueue` defaults, which bind
/// processes without CAP_SYS_RESOURCE: the instance gives none).
const MSG_MAX: i64 = 10;
const MSGSIZE_MAX: i64 = 8192;
const QUEUES_MAX: usize = 256;
/// `st_size` of a queue (Linux's FILENT_SIZE).
const QUEUE_FILE_SIZE: u64 = 80;
/// Longest queue name (NAME_MAX).
const NAME_MAX: usize = 255;
/// The mqueue file system's magic (`statfs`).
const MQUEUE_MAGIC: i64 = 0x1980_0202;
/// `si_code` of a message-queue notification.
const SI_MESGQ: i32 = -3;
const SIGEV_SIGNAL: u32 = 0;
const SIGEV_NONE: u32 = 1;
const SIGEV_THREAD: u32 = 2;

/// The instance's named queues, and the bytes every queue may hold (RLIMIT_MSGQUEUE is
/// charged to the instance's one user, as Linux charges a queue's creator).
#[derive(Default)]
pub struct Namespace {
    queues: Mutex<BTreeMap<Vec<u8>, Arc<MessageQueue>>>,
    charged: AtomicU64,
}

/// What a queue charges against RLIMIT_MSGQUEUE: its messages plus Linux's bookkeeping
/// (`struct msg_msg` per message, a tree node per priority it may use).
fn charge(maxmsg: i64, msgsize: i64) -> u64 {
    let maxmsg = maxmsg as u64;
    maxmsg * 48 + maxmsg.min(MQ_PRIO_MAX as u64) * 40 + maxmsg * msgsize as u64
}

/// A message queue (also the inode of its descriptors).
pub struct MessageQueue {
    maxmsg: i64,
    msgsize: i64,
    mode: u32,
    state: Mutex<QueueState>,
    /// Notified when a message is sent or received.
    changed: Event,
    /// Bumped with `changed`, for epoll.
    generation: AtomicU64,
}

/// Messages move as on Linux: a message sent while receivers wait goes straight to the first of
/// them (the queue stays empty, so no notification), and a receive from a full queue with
/// senders waiting takes the first waiting sender's message into the queue. A waiter whose wait
/// fails (timeout, signal) still succeeds if its message was handed over meanwhile.
struct QueueState {
    /// Messages by priority; each priority's in arrival order.
    messages: BTreeMap<u32, VecDeque<Vec<u8>>>,
    count: i64,
    /// Receivers waiting, in arrival order (by waiter id).
    receivers: VecDeque<u64>,
    /// Messages handed to waiting receivers, by waiter id: (priority, text).
    handed: BTreeMap<u64, (u32, Vec<u8>)>,
    /// Senders waiting for room, in arrival order, with their messages.
    senders: VecDeque<(u64, u32, Vec<u8>)>,
    /// Waiting senders whose message is in the queue now.
    sent: alloc::collections::BTreeSet<u64>,
    next_waiter: u64,
    notification: Option<Notification>,
}

impl QueueState {
    fn push(&mut self, prio: u32, message: Vec<u8>) {
        self.messages.entry(prio).or_default().push_back(message);
        self.count += 1;
    }

    /// The highest-priority message, oldest first.
    fn pop(&mut self) -> Option<(u32, Vec<u8>)> {
        let mut highest = self.messages.last_entry()?;
        let message = highest
            .get_mut()
            .pop_front()
            .expect("no empty priority lists");
        let prio = *highest.key();
        if highest.get().is_empty() {
            highest.remove();
        }
        self.count -= 1;
        Some((prio, message))
    }

    fn new_waiter(&mut self) -> u64 {
        self.next_waiter += 1;
        self.next_waiter
    }
}

/// A process's `mq_notify` registration.
struct Notification {
    pid: i32,
    /// The signal and `sigev_value`, or None for `SIGEV_NONE`.
    signal: Option<(u32, u64)>,
}

impl Drop for MessageQueue {
    fn drop(&mut self) {
        kernel()
            .mqueues
            .charged
            .fetch_sub(charge(self.maxmsg, self.msgsize), Ordering::SeqCst);
    }
}

impl MessageQueue {
    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Release);
        self.changed.notify_all();
        kernel().readiness.notify();
    }
}

impl Inode for MessageQueue {
    fn stat(&self) -> Result<stat> {
        // Each queue its own inode number: its address.
        let ino = self as *const MessageQueue as u64 >> 3;
        let mut st = crate::fs::synthetic_stat(
            g::S_IFREG | self.mode,
            ino,
            QUEUE_FILE_SIZE,
            MQUEUE_MAGIC as u64,
        );
        st.st_blksize = 4096;
        Ok(st)
    }
    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>> {
        err(Errno::ENXIO)
    }
    fn statfs(&self) -> Result<statfs64> {
        Ok(crate::fs::synthetic_statfs(MQUEUE_MAGIC))
    }
    fn fs_id(&self) -> usize {
        MQUEUE_MAGIC as usize
    }
    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

/// The file operations of a queue descriptor.
struct QueueFile(Arc<MessageQueue>);

impl FileOps for QueueFile {
    /// The queue's status line, as Linux's mqueue file system shows it.
    fn read(&self, pos: &mut u64, buf: &mut [u8], _flags: u32) -> Result<usize> {
        let line = {
            let state = self.0.state.lock();
            let bytes: usize = state.messages.values().flatten().map(Vec::len).sum();
            let (notify, signo, pid) = match &state.notification {
                Some(n) => match n.signal {
                    Some((signo, _)) => (SIGEV_SIGNAL, signo, n.pid),
                    None => (SIGEV_NONE, 0, n.pid),
                },
                None => (0, 0, 0),
            };
            alloc::format!(
                "QSIZE:{bytes:<10} NOTIFY:{notify:<5} SIGNO:{signo:<5} NOTIFY_PID:{pid:<6}\n"
            )
        };
        let start = (*pos as usize).min(line.len());
        let n = buf.len().min(line.len() - start);
        buf[..n].copy_from_slice(&line.as_bytes()[start..start + n]);
        *pos += n as u64;
        Ok(n)
    }

    fn stat(&self) -> Option<Result<stat>> {
        Some(self.0.stat())
    }

    fn poll(&self, events: i16) -> i16 {
        let count = self.0.state.lock().count;
        let mut ready = 0;
        if count > 0 {
            ready |= g::POLLIN | g::POLLRDNORM;
        }
        if count < self.0.maxmsg {
            ready |= g::POLLOUT | g::POLLWRNORM;
        }
        ready as i16 & events
    }

    fn can_poll(&self) -> bool {
        true
    }

    fn generation(&self) -> Option<u64> {
        Some(self.0.generation.load(Ordering::Acquire))
    }

    /// Linux drops a process's notification registration when it closes any descriptor of the
    /// queue.
    fn closed_by(&self, pid: i32) {
        let mut state = self.0.state.lock();
        if state.notification.as_ref().is_some_and(|n| n.pid == pid) {
            state.notification = None;
        }
    }
}

/// Whether a queue descriptor was opened for sending (access mode 3 is neither way).
fn can_send(file: &crate::fs::OpenFile) -> bool {
    matches!(file.flags() & g::O_ACCMODE, g::O_WRONLY | g::O_RDWR)
}

/// Whether a queue descriptor was opened for receiving.
fn can_receive(file: &crate::fs::OpenFile) -> bool {
    matches!(file.flags() & g::O_ACCMODE, g::O_RDONLY | g::O_RDWR)
}

/// Reads a queue name (without glibc's leading slash).
fn read_name(addr: u64) -> Result<Vec<u8>> {
    let name = user::read_cstr(addr, NAME_MAX)?;
    // Linux looks the name up in the mqueue file system's root: no slashes, no dot entries.
    if name.is_empty() {
        return err(Errno::ENOENT);
    }
    if name.contains(&b'/') || name == b"." || name == b".." {
        return err(Errno::EACCES);
    }
    Ok(name)
}

/// The open file of queue descriptor `fd` (EBADF if it is no queue).
fn queue_file(ctx: &Ctx, fd: u64) -> Result<Arc<crate::fs::OpenFile>> {
    let file = ctx.file(fd_arg(fd))?;
    queue(&file)?;
    Ok(file)
}

/// The queue of a queue descriptor's open file.
fn queue(file: &crate::fs::OpenFile) -> Result<&MessageQueue> {
    file.inode()
        .as_any()
        .downcast_ref::<MessageQueue>()
        .ok_or(Errno::EBADF.into())
}

pub fn sys_mq_open(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (name_addr, oflag, mode, attr_addr) = (a[0], a[1] as u32, a[2] as u32, a[3]);
    let name = read_name(name_addr)?;
    let allowed = g::O_ACCMODE | g::O_CREAT | g::O_EXCL | g::O_NONBLOCK | g::O_CLOEXEC;
    // Read before the namespace is locked (validated only if the queue is made).
    let attr: Option<MqAttr> = match attr_addr {
        0 => None,
        addr => Some(user::read_val(addr)?),
    };
    let mode = mode & 0o7777 & !ctx.umask();
    let limit = ctx.process.limits.lock().0[g::RLIMIT_MSGQUEUE as usize].rlim_cur;
    let k = kernel();
    let mut created = false;
    let queue = {
        let mut queues = k.mqueues.queues.lock();
        match queues.get(&name) {
            Some(_) if oflag & (g::O_CREAT | g::O_EXCL) == g::O_CREAT | g::O_EXCL => {
                return err(Errno::EEXIST);
            }
            // Access mode 3 (neither way) is refused only for an existing queue, as on Linux.
            Some(_) if oflag & g::O_ACCMODE == g::O_ACCMODE => return err(Errno::EINVAL),
            Some(queue) => queue.clone(),
            None if oflag & g::O_CREAT == 0 => return err(Errno::ENOENT),
            None => {
                let (maxmsg, msgsize) = match attr {
                    None => (DEFAULT_MAXMSG, DEFAULT_MSGSIZE),
                    Some(attr)
                        if (1..=MSG_MAX).contains(&attr.mq_maxmsg)
                            && (1..=MSGSIZE_MAX).contains(&attr.mq_msgsize) =>
                    {
                        (attr.mq_maxmsg, attr.mq_msgsize)
                    }
                    Some(_) => return err(Errno::EINVAL),
                };
                if queues.len() >= QUEUES_MAX {
                    return err(Errno::ENOSPC);
                }
                let bytes = charge(maxmsg, msgsize);
                let charged = &k.mqueues.charged;
                if charged
                    .load(Ordering::SeqCst)
                    .checked_add(bytes)
                    .is_none_or(|total| total > limit)
                {
                    return err(Errno::EMFILE);
                }
                charged.fetch_add(bytes, Ordering::SeqCst);
                let queue = Arc::new(MessageQueue {
                    maxmsg,
                    msgsize,
                    mode,
                    state: Mutex::new(QueueState {
                        messages: BTreeMap::new(),
                        count: 0,
                        receivers: VecDeque::new(),
                        handed: BTreeMap::new(),
                        senders: VecDeque::new(),
                        sent: Default::default(),
                        next_waiter: 0,
                        notification: None,
                    }),
                    changed: Event::new(),
                    generation: AtomicU64::new(0),
                });
                queues.insert(name.clone(), queue.clone());
                created = true;
                queue
            }
        }
    };
    let inode: InodeRef = queue.clone();
    let loc =
        crate::fs::Loc::detached(alloc::format!("/{}", String::from_utf8_lossy(&name)), inode);
    let status = oflag & allowed & !(g::O_CREAT | g::O_EXCL | g::O_CLOEXEC);
    let file = crate::fs::OpenFile::new(Arc::new(QueueFile(queue)), loc, status);
    // Linux makes every message queue descriptor close-on-exec.
    let installed = ctx.install(file, true);
    if installed.is_err() && created {
        // Linux takes the descriptor first: a queue it could not open is not left behind.
        let _unmade = k.mqueues.queues.lock().remove(&name);
    }
    installed
}

pub fn sys_mq_unlink(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let name = read_name(a[0])?;
    let removed = kernel().mqueues.queues.lock().remove(&name);
    match removed {
        Some(_) => Ok(0),
        None => err(Errno::ENOENT),
    }
}

/// An absolute CLOCK_REALTIME timeout (0: none), checked up front as Linux does.
fn timeout(addr: u64) -> Result<Deadline> {
    super::futex::deadline(addr, true, true)
}

/// Waits for `queue` to change after `seen`, until `deadline` (ETIMEDOUT after it).
fn wait(queue: &MessageQueue, seen: u32, deadline: Deadline) -> Result<()> {
    let remaining = match deadline {
        Deadline::Forever => None,
        Deadline::At(at) => match at.checked_sub(kernel().monotonic_ns()) {
            Some(ns) if ns > 0 => Some(ns),
            _ => return err(Errno::ETIMEDOUT),
        },
    };
    queue.changed.wait_timeout(seen, remaining)
}

pub fn sys_mq_timedsend(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (fd, msg_addr, len, prio, timeout_addr) = (a[0], a[1], a[2], a[3] as u32, a[4]);
    let deadline = timeout(timeout_addr)?;
    if prio >= MQ_PRIO_MAX {
        return err(Errno::EINVAL);
    }
    let file = queue_file(ctx, fd)?;
    let queue = queue(&file)?;
    if !can_send(&file) {
        return err(Errno::EBADF);
    }
    if len > queue.msgsize as u64 {
        return err(Errno::EMSGSIZE);
    }
    let message = user::read_bytes(msg_addr, len as usize)?;
    let mut state = queue.state.lock();
    if let Some(receiver) = state.receivers.pop_front() {
        state.handed.insert(receiver, (prio, message));
        drop(state);
        queue.changed();
        return Ok(0);
    }
    if state.count < queue.maxmsg {
        state.push(prio, message);
        // Told only of a message arriving in an empty queue.
        let notification = if state.count == 1 {
            state.notification.take()
        } else {
            None
        };
        drop(state);
        queue.changed();
        if let Some(Notification {
            signal: Some((signo, value)),
            pid,
        }) = notification
        {
            notify(pid, signo, value, ctx.process.pid);
        }
        return Ok(0);
    }
    if file.is_nonblocking() {
        return err(Errno::EAGAIN);
    }
    let me = state.new_waiter();
    state.senders.push_back((me, prio, message));
    loop {
        let seen = queue.changed.current();
        drop(state);
        let waited = wait(queue, seen, deadline);
        state = queue.state.lock();
        if state.sent.remove(&me) {
            return Ok(0);
        }
        if let Err(e) = waited {
            state.senders.retain(|(waiter, _, _)| *waiter != me);
            return Err(e);
        }
    }
}

/// Sends a registered process its notification signal.
fn notify(pid: i32, signo: u32, value: u64, sender: i32) {
    let process = kernel().processes.lock().get(&pid).cloned();
    if let Some(process) = process {
        let mut info = crate::signal::SigInfo::from_process(signo, SI_MESGQ, sender);
        info.fields[1] = value;
        crate::signal::send_to_process(&process, info);
    }
}

pub fn sys_mq_timedreceive(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (fd, msg_addr, len, prio_addr, timeout_addr) = (a[0], a[1], a[2], a[3], a[4]);
    let deadline = timeout(timeout_addr)?;
    let file = queue_file(ctx, fd)?;
    let queue = queue(&file)?;
    if !can_receive(&file) {
        return err(Errno::EBADF);
    }
    if len < queue.msgsize as u64 {
        return err(Errno::EMSGSIZE);
    }
    let mut state = queue.state.lock();
    let (prio, message) = match state.pop() {
        Some(taken) => {
            // Room for the first waiting sender's message.
            if let Some((sender, prio, message)) = state.senders.pop_front() {
                state.push(prio, message);
                state.sent.insert(sender);
            }
            drop(state);
            queue.changed();
            taken
        }
        None if file.is_nonblocking() => return err(Errno::EAGAIN),
        None => {
            let me = state.new_waiter();
            state.receivers.push_back(me);
            let handed = loop {
                let seen = queue.changed.current();
                drop(state);
                let waited = wait(queue, seen, deadline);
                state = queue.state.lock();
                if let Some(handed) = state.handed.remove(&me) {
                    break handed;
                }
                if let Err(e) = waited {
                    state.receivers.retain(|waiter| *waiter != me);
                    return Err(e);
                }
            };
            drop(state);
            handed
        }
    };
    // Linux writes the priority first; a fault loses the message, as there.
    if prio_addr != 0 {
        user::write_val(prio_addr, &prio)?;
    }
    user::write_bytes(msg_addr, &message)?;
    Ok(message.len() as u64)
}

pub fn sys_mq_notify(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (fd, sevp) = (a[0], a[1]);
    let signal = if sevp == 0 {
        None
    } else {
        // struct sigevent: sigev_value (8), sigev_signo (4), sigev_notify (4).
        let raw = user::read_bytes(sevp, 16)?;
        let value = u64::from_ne_bytes(raw[0..8].try_into().expect("8 bytes"));
        let signo = u32::from_ne_bytes(raw[8..12].try_into().expect("4 bytes"));
        match u32::from_ne_bytes(raw[12..16].try_into().expect("4 bytes")) {
            SIGEV_NONE => Some(None),
            // Linux accepts signal 0 (and then sends nothing).
            SIGEV_SIGNAL if signo <= 64 => Some(Some((signo, value))),
            SIGEV_THREAD => {
                return Err(Error::unsupported(
                    Errno::ENOSYS,
                    "mq_notify SIGEV_THREAD (netlink notification)",
                ));
            }
            _ => return err(Errno::EINVAL),
        }
    };
    let file = queue_file(ctx, fd)?;
    let queue = queue(&file)?;
    let pid = ctx.process.pid;
    let mut state = queue.state.lock();
    match signal {
        None => {
            if state.notification.as_ref().is_some_and(|n| n.pid == pid) {
                state.notification = None;
            }
        }
        Some(signal) => {
            if state.notification.is_some() {
                return err(Errno::EBUSY);
            }
            state.notification = Some(Notification { pid, signal });
        }
    }
    Ok(0)
}

pub fn sys_mq_getsetattr(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (fd, new_addr, old_addr) = (a[0], a[1], a[2]);
    let new = if new_addr == 0 {
        None
    } else {
        let attr: MqAttr = user::read_val(new_addr)?;
        if attr.mq_flags & !(g::O_NONBLOCK as i64) != 0 {
            return err(Errno::EINVAL);
        }
        Some(attr)
    };
    let file = queue_file(ctx, fd)?;
    let queue = queue(&file)?;
    let old = MqAttr {
        mq_flags: (file.flags() & g::O_NONBLOCK) as i64,
        mq_maxmsg: queue.maxmsg,
        mq_msgsize: queue.msgsize,
        mq_curmsgs: queue.state.lock().count,
        reserved: [0; 4],
    };
    // The new flags apply even if the old attributes cannot be written back (as on Linux).
    if let Some(attr) = new {
        file.set_status_flags(file.flags() & !g::O_NONBLOCK | attr.mq_flags as u32)?;
    }
    if old_addr != 0 {
        user::write_val(old_addr, &old)?;
    }
    Ok(0)
}
