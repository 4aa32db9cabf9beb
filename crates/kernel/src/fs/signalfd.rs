//! signalfd: reading the calling thread's pending signals (those in the fd's mask) as
//! `struct signalfd_siginfo` records instead of having them delivered to handlers.

use super::epoll::wait_for_ready;
use super::{FileOps, InodeRef};
use crate::error::{Result, err};
use crate::signal::{self, SigInfo};
use crate::sync::Mutex;
use alloc::sync::Arc;
use veil_abi::Errno;
use veil_abi::general::{self as g};

/// `sizeof(struct signalfd_siginfo)`.
const RECORD: usize = 128;

/// A signalfd: its signal mask (changeable by a later `signalfd(fd, ...)`).
pub struct SignalFd {
    pub mask: Mutex<u64>,
}

impl SignalFd {
    pub fn new(mask: u64) -> Arc<SignalFd> {
        Arc::new(SignalFd {
            mask: Mutex::new(mask),
        })
    }
}

/// The record for one signal.
fn record(info: &SigInfo) -> [u8; RECORD] {
    let mut r = [0u8; RECORD];
    let lo = info.fields[0] as u32;
    let hi = (info.fields[0] >> 32) as u32;
    r[0..4].copy_from_slice(&info.signo.to_ne_bytes());
    r[8..12].copy_from_slice(&info.code.to_ne_bytes());
    let is_fault = matches!(
        info.signo,
        g::SIGSEGV | g::SIGBUS | g::SIGFPE | g::SIGILL | g::SIGTRAP
    ) && info.code > 0;
    if is_fault {
        r[72..80].copy_from_slice(&info.fields[0].to_ne_bytes()); // ssi_addr
    } else if info.code == -2 {
        // SI_TIMER: ssi_tid (timer id), ssi_overrun, ssi_int/ssi_ptr (sigev_value).
        r[24..28].copy_from_slice(&lo.to_ne_bytes());
        r[32..36].copy_from_slice(&hi.to_ne_bytes());
        r[44..48].copy_from_slice(&(info.fields[1] as u32).to_ne_bytes());
        r[48..56].copy_from_slice(&info.fields[1].to_ne_bytes());
    } else {
        r[12..16].copy_from_slice(&lo.to_ne_bytes()); // ssi_pid
        r[16..20].copy_from_slice(&hi.to_ne_bytes()); // ssi_uid
    }
    r
}

super::epoll::anon_inode!(SignalFd);

/// The file operations of a signalfd.
pub struct SignalFdFile(pub Arc<SignalFd>);

impl SignalFdFile {
    pub fn inode(&self) -> InodeRef {
        self.0.clone()
    }
}

impl FileOps for SignalFdFile {
    fn read(&self, _pos: &mut u64, buf: &mut [u8], flags: u32) -> Result<usize> {
        if buf.len() < RECORD {
            return err(Errno::EINVAL);
        }
        let thread = crate::process::current_thread();
        let take = |n: &mut usize, buf: &mut [u8]| {
            let mask = *self.0.mask.lock();
            while *n + RECORD <= buf.len() {
                let Some(info) = signal::dequeue_from(&thread, mask) else {
                    break;
                };
                buf[*n..*n + RECORD].copy_from_slice(&record(&info));
                *n += RECORD;
            }
        };
        let mut n = 0;
        take(&mut n, buf);
        if n > 0 {
            return Ok(n);
        }
        if flags & g::O_NONBLOCK != 0 {
            return err(Errno::EAGAIN);
        }
        let mask = *self.0.mask.lock();
        wait_for_ready(None, |_| {
            Ok(
                (thread.pending.load(core::sync::atomic::Ordering::Relaxed) & mask != 0)
                    .then_some(()),
            )
        })?;
        take(&mut n, buf);
        Ok(n)
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn poll(&self, events: i16) -> i16 {
        let thread = crate::process::current_thread();
        let pending =
            thread.pending.load(core::sync::atomic::Ordering::Relaxed) & *self.0.mask.lock();
        if pending != 0 {
            events & g::POLLIN as i16
        } else {
            0
        }
    }
    fn can_poll(&self) -> bool {
        true
    }
}
