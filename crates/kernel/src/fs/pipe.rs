//! Pipes: a bounded byte ring in the kernel heap with a read end and a write end.
//!
//! Semantics follow pipe(7): reads return what is there (0 at end of file once every writer is
//! gone), writes of at most `PIPE_BUF` bytes are atomic, a write with no reader left fails with
//! EPIPE, and `O_NONBLOCK` turns waiting into EAGAIN. Space is accounted in page-sized slots
//! exactly as Linux does (16 by default): a write's sub-page remainder merges into the last page
//! when it fits, everything else takes fresh slots, and a partly read page frees no slot. Waiting uses an [`Event`] on a shared futex
//! word, so the ends work between threads and, later, between address spaces. Every change also
//! notifies [`crate::Kernel::readiness`] (poll, select, epoll) and bumps the generation of the
//! end it affects (edge-triggered epoll).
//!
//! Lock order: `Pipe::state` is a leaf.

use super::{FileOps, Inode, InodeRef};
use crate::error::{Result, err};
use crate::sync::{Event, Mutex};
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};
use veil_abi::Errno;
use veil_abi::general::{self as g, stat, statfs64};

/// Default capacity in page slots (Linux: 16 pages, 64 KiB).
pub const DEFAULT_SLOTS: usize = 16;
/// Largest capacity `F_SETPIPE_SZ` grants (Linux's default pipe-max-size: 1 MiB).
const MAX_SLOTS: usize = 256;
/// Writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;
const PAGE: usize = 4096;

/// One page slot: `data[start..]` is still unread.
struct Slot {
    data: alloc::vec::Vec<u8>,
    start: usize,
    /// Written in packet mode (O_DIRECT): a read takes at most this one packet.
    packet: bool,
}

impl Slot {
    fn unread(&self) -> usize {
        self.data.len() - self.start
    }
}
const PIPEFS_MAGIC: i64 = 0x5049_5045;

struct State {
    slots: VecDeque<Slot>,
    max_slots: usize,
    readers: usize,
    writers: usize,
    /// How many times each side was opened (a FIFO open waits for the other side's next open).
    reader_opens: u64,
    writer_opens: u64,
}

impl State {
    fn unread(&self) -> usize {
        self.slots.iter().map(Slot::unread).sum()
    }

    /// Appends `data` to the last page if the pipe is not empty and it fits there entirely.
    fn merge(&mut self, data: &[u8]) -> bool {
        match self.slots.back_mut() {
            Some(last) if !last.packet && last.data.len() + data.len() <= PAGE => {
                last.data.extend_from_slice(data);
                true
            }
            _ => false,
        }
    }
}

/// The shared part of a pipe (also the inode `fstat` reports).
pub struct Pipe {
    state: Mutex<State>,
    /// Notified whenever data, space, or the set of ends changes.
    changed: Event,
    /// Readiness generations (edge-triggered epoll) of the read end (data arrived, writers
    /// left) and of the write end (space freed, readers left).
    read_gen: AtomicU64,
    write_gen: AtomicU64,
    ino: u64,
    me: alloc::sync::Weak<Pipe>,
}

impl Pipe {
    /// A new pipe and its (read end, write end) file operations.
    pub fn new() -> (Arc<Pipe>, Arc<PipeEnd>, Arc<PipeEnd>) {
        let pipe = Pipe::with_ends(1, 1);
        let read = Arc::new(PipeEnd {
            pipe: pipe.clone(),
            reads: true,
            writes: false,
            named: false,
        });
        let write = Arc::new(PipeEnd {
            pipe: pipe.clone(),
            reads: false,
            writes: true,
            named: false,
        });
        (pipe, read, write)
    }

    fn with_ends(readers: usize, writers: usize) -> Arc<Pipe> {
        Arc::new_cyclic(|me| Pipe {
            state: Mutex::new(State {
                slots: VecDeque::new(),
                max_slots: DEFAULT_SLOTS,
                readers,
                writers,
                reader_opens: 0,
                writer_opens: 0,
            }),
            changed: Event::new(),
            read_gen: AtomicU64::new(0),
            write_gen: AtomicU64::new(0),
            ino: next_ino(),
            me: me.clone(),
        })
    }

    /// Opens the FIFO (named pipe) with identity `key`: all opens of one FIFO share a pipe.
    /// A read-only or write-only open waits until the other side is open too, unless
    /// O_NONBLOCK (a non-blocking writer with no reader fails with ENXIO); O_RDWR never waits.
    pub fn open_fifo(key: super::lock::FileKey, flags: u32) -> Result<Arc<PipeEnd>> {
        let pipe = {
            let mut fifos = crate::root::kernel().fifos.lock();
            fifos.retain(|_, p| p.strong_count() > 0);
            match fifos.get(&key).and_then(alloc::sync::Weak::upgrade) {
                Some(p) => p,
                None => {
                    let p = Pipe::with_ends(0, 0);
                    fifos.insert(key, Arc::downgrade(&p));
                    p
                }
            }
        };
        Pipe::open_end(pipe, flags, true)
    }

    /// Opens one more end of `pipe` with the FIFO rules (see [`Pipe::open_fifo`]).
    fn open_end(pipe: Arc<Pipe>, flags: u32, named: bool) -> Result<Arc<PipeEnd>> {
        let (reads, writes) = match flags & g::O_ACCMODE {
            g::O_RDONLY => (true, false),
            g::O_WRONLY => (false, true),
            _ => (true, true),
        };
        let nonblock = flags & g::O_NONBLOCK != 0;
        // The other side counts as there if it is open now or opens later, even if it has gone
        // again by the time this open looks (a writer may open, write and close meanwhile).
        let (other_present, other_opens) = {
            let mut s = pipe.state.lock();
            if writes && !reads && nonblock && s.readers == 0 {
                return err(Errno::ENXIO);
            }
            s.readers += reads as usize;
            s.writers += writes as usize;
            s.reader_opens += reads as u64;
            s.writer_opens += writes as u64;
            if reads {
                (s.writers > 0, s.writer_opens)
            } else {
                (s.readers > 0, s.reader_opens)
            }
        };
        // From here the end's Drop undoes the counts if the wait is interrupted.
        let end = Arc::new(PipeEnd {
            pipe: pipe.clone(),
            reads,
            writes,
            named,
        });
        pipe.notify(true);
        pipe.notify(false);
        if nonblock || reads && writes || other_present {
            return Ok(end);
        }
        loop {
            let seen = pipe.changed.current();
            {
                let s = pipe.state.lock();
                let (present, opens) = if reads {
                    (s.writers, s.writer_opens)
                } else {
                    (s.readers, s.reader_opens)
                };
                if present > 0 || opens != other_opens {
                    return Ok(end);
                }
            }
            pipe.changed.wait(seen)?;
        }
    }

    /// Wakes everything waiting on the pipe after a change that affects the read end
    /// (`for_readers`) or the write end.
    fn notify(&self, for_readers: bool) {
        let generation = if for_readers {
            &self.read_gen
        } else {
            &self.write_gen
        };
        generation.fetch_add(1, Ordering::Release);
        self.changed.notify_all();
        crate::root::kernel().readiness.notify();
    }

    /// The path `/proc/pid/fd` shows for an end.
    pub fn name(&self) -> alloc::string::String {
        alloc::format!("pipe:[{}]", self.ino)
    }
}

fn next_ino() -> u64 {
    // Pipe inode numbers only need to be distinct; the kernel id allocator provides that.
    crate::root::kernel().alloc_id() as u64 + (1 << 32)
}

impl Inode for Pipe {
    fn stat(&self) -> Result<stat> {
        let len = self.state.lock().unread() as u64;
        let mut st = super::synthetic_stat(
            g::S_IFIFO | 0o600,
            self.ino,
            len,
            PIPEFS_MAGIC as u64 & 0xffff,
        );
        st.st_blksize = PIPE_BUF as _;
        Ok(st)
    }
    /// Reopening a pipe (through `/proc/self/fd/N`) gives another end of the same pipe.
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>> {
        let me = self.me.upgrade().ok_or(Errno::ENXIO)?;
        Ok(Pipe::open_end(me, flags, false)?)
    }
    fn is_fifo_node(&self) -> bool {
        false
    }
    fn statfs(&self) -> Result<statfs64> {
        Ok(super::synthetic_statfs(PIPEFS_MAGIC))
    }
    fn fs_id(&self) -> usize {
        PIPEFS_MAGIC as usize
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One end of a pipe (a FIFO opened O_RDWR is both ends at once).
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    reads: bool,
    writes: bool,
    /// A FIFO's end: `fstat` reports the FIFO's own inode, not the pipe.
    named: bool,
}

impl PipeEnd {
    /// The pipe as an inode (for the open file's location).
    pub fn inode(&self) -> InodeRef {
        self.pipe.clone()
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut s = self.pipe.state.lock();
        s.writers -= self.writes as usize;
        s.readers -= self.reads as usize;
        drop(s);
        // Readers see end of file when writers go, writers see EPIPE when readers go.
        self.pipe.notify(self.writes);
        self.pipe.notify(!self.reads);
    }
}

impl FileOps for PipeEnd {
    fn read(&self, _pos: &mut u64, buf: &mut [u8], flags: u32) -> Result<usize> {
        if !self.reads {
            return err(Errno::EBADF);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let seen = self.pipe.changed.current();
            let mut s = self.pipe.state.lock();
            if !s.slots.is_empty() {
                let mut n = 0;
                while n < buf.len() {
                    let Some(front) = s.slots.front_mut() else {
                        break;
                    };
                    if front.packet && n > 0 {
                        break;
                    }
                    let take = (buf.len() - n).min(front.unread());
                    buf[n..n + take].copy_from_slice(&front.data[front.start..front.start + take]);
                    front.start += take;
                    n += take;
                    // A packet is consumed whole: what did not fit in the buffer is dropped.
                    let packet = front.packet;
                    if front.unread() == 0 || packet {
                        s.slots.pop_front();
                    }
                    if packet {
                        break;
                    }
                }
                drop(s);
                self.pipe.notify(false);
                return Ok(n);
            }
            if s.writers == 0 {
                return Ok(0);
            }
            if flags & g::O_NONBLOCK != 0 {
                return err(Errno::EAGAIN);
            }
            drop(s);
            self.pipe.changed.wait(seen)?;
        }
    }

    fn write(&self, _pos: &mut u64, buf: &[u8], flags: u32) -> Result<usize> {
        // O_DIRECT on the writing description: packet mode (each write of up to PIPE_BUF bytes
        // is read back as one packet).
        let packet = flags & g::O_DIRECT != 0;
        if !self.writes {
            return err(Errno::EBADF);
        }
        let mut written = 0;
        let mut first = true;
        loop {
            let seen = self.pipe.changed.current();
            let mut s = self.pipe.state.lock();
            if s.readers == 0 {
                return if written > 0 {
                    Ok(written)
                } else {
                    err(Errno::EPIPE)
                };
            }
            let before = written;
            if first {
                // The write's sub-page remainder (its first bytes) may join the last page.
                first = false;
                let remainder = buf.len() % PAGE;
                if !packet && remainder > 0 && s.merge(&buf[..remainder]) {
                    written = remainder;
                }
            }
            while written < buf.len() && s.slots.len() < s.max_slots {
                let n = (buf.len() - written).min(PAGE);
                s.slots.push_back(Slot {
                    data: buf[written..written + n].to_vec(),
                    start: 0,
                    packet,
                });
                written += n;
            }
            drop(s);
            if written > before {
                self.pipe.notify(true);
            }
            if written == buf.len() {
                return Ok(written);
            }
            if flags & g::O_NONBLOCK != 0 {
                return if written > 0 {
                    Ok(written)
                } else {
                    err(Errno::EAGAIN)
                };
            }
            self.pipe.changed.wait(seen)?;
        }
    }

    fn is_stream(&self) -> bool {
        true
    }

    fn ioctl(&self, request: u32, arg: u64) -> Result<u64> {
        if request == veil_abi::ioctl::FIONREAD {
            let n = self.pipe.state.lock().unread() as i32;
            crate::user::write_val(arg, &n)?;
            return Ok(0);
        }
        err(Errno::ENOTTY)
    }

    fn stat(&self) -> Option<Result<stat>> {
        (!self.named).then(|| self.pipe.stat())
    }

    fn poll(&self, events: i16) -> i16 {
        let s = self.pipe.state.lock();
        let mut ready = 0;
        if self.writes {
            // Linux reports both when the readers are gone and there is room.
            if s.readers == 0 {
                ready |= g::POLLERR as i16;
            }
            if s.slots.len() < s.max_slots {
                ready |= g::POLLOUT as i16;
            }
        }
        if self.reads {
            if !s.slots.is_empty() {
                ready |= g::POLLIN as i16;
            }
            if s.writers == 0 {
                ready |= g::POLLHUP as i16;
            }
        }
        ready & (events | g::POLLERR as i16 | g::POLLHUP as i16)
    }

    fn can_poll(&self) -> bool {
        true
    }

    fn pipe_capacity(&self, new: Option<u64>) -> Result<u64> {
        let mut s = self.pipe.state.lock();
        if let Some(bytes) = new {
            if bytes > i32::MAX as u64 {
                return err(Errno::EINVAL);
            }
            // Whole pages, a power of two of them (Linux's round_pipe_size).
            let slots = bytes.div_ceil(PAGE as u64).max(1).next_power_of_two() as usize;
            if slots > MAX_SLOTS {
                return err(Errno::EPERM);
            }
            if s.slots.len() > slots {
                return err(Errno::EBUSY);
            }
            s.max_slots = slots;
            drop(s);
            self.pipe.notify(false);
            return Ok((slots * PAGE) as u64);
        }
        Ok((s.max_slots * PAGE) as u64)
    }

    fn generation(&self) -> Option<u64> {
        let read = if self.reads {
            self.pipe.read_gen.load(Ordering::Acquire)
        } else {
            0
        };
        let write = if self.writes {
            self.pipe.write_gen.load(Ordering::Acquire)
        } else {
            0
        };
        Some(read.wrapping_add(write))
    }
}
