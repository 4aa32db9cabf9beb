//! System V message queues: msgget, msgsnd, msgrcv, msgctl. A full queue makes senders wait and
//! an empty one receivers (interruptible), unless IPC_NOWAIT.

use super::*;
use crate::ipc::sysv::{self, IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT};
use crate::sync::{Event, Mutex};
use alloc::collections::VecDeque;
use veil_abi::{MsgInfo, MsqidDs};

/// Largest message and default queue capacity in bytes (Linux's defaults).
const MSGMAX: u64 = 8192;
const MSGMNB: u64 = 16384;
const MSG_NOERROR: u32 = 0o10000;
const MSG_EXCEPT: u32 = 0o20000;
const MSG_COPY: u32 = 0o40000;
const MSG_STAT: u32 = 11;
const MSG_INFO: u32 = 12;
const MSG_STAT_ANY: u32 = 13;
/// Linux's default number of queues (MSGMNI).
const MSGMNI: i32 = 32000;

/// A message queue.
pub struct MsgQueue {
    state: Mutex<QueueState>,
    changed: Event,
}

struct QueueState {
    /// (type, text) in arrival order.
    messages: VecDeque<(i64, Vec<u8>)>,
    bytes: u64,
    /// Capacity in bytes (`msg_qbytes`).
    capacity: u64,
    send_time: i64,
    receive_time: i64,
    last_sender: i32,
    last_receiver: i32,
    /// Set by IPC_RMID: sleepers fail with EIDRM.
    removed: bool,
}

pub fn sys_msgget(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (key, flags) = (a[0] as i32, a[1] as u32);
    let id = kernel().sysv_msg.get_or_create(
        key,
        flags,
        |_| Ok(()),
        || {
            Ok(MsgQueue {
                state: Mutex::new(QueueState {
                    messages: VecDeque::new(),
                    bytes: 0,
                    capacity: MSGMNB,
                    send_time: 0,
                    receive_time: 0,
                    last_sender: 0,
                    last_receiver: 0,
                    removed: false,
                }),
                changed: Event::new(),
            })
        },
    )?;
    Ok(id as u64)
}

pub fn sys_msgsnd(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (id, msgp, size, flags) = (a[0] as i32, a[1], a[2], a[3] as u32);
    if size > MSGMAX {
        return err(Errno::EINVAL);
    }
    let queue = kernel().sysv_msg.get(id)?;
    let kind: i64 = user::read_val(msgp)?;
    if kind <= 0 {
        return err(Errno::EINVAL);
    }
    let text = user::read_bytes(msgp + 8, size as usize)?;
    loop {
        let seen = queue.body.changed.current();
        {
            let mut state = queue.body.state.lock();
            if state.removed {
                return err(Errno::EIDRM);
            }
            // Linux also bounds the number of messages by the capacity.
            let fits = state.bytes + size <= state.capacity
                && (state.messages.len() as u64) < state.capacity;
            if fits {
                state.bytes += size;
                state.messages.push_back((kind, text));
                state.send_time = sysv::now_secs();
                state.last_sender = ctx.process.pid;
                drop(state);
                queue.body.changed.notify_all();
                return Ok(0);
            }
        }
        if flags & IPC_NOWAIT != 0 {
            return err(Errno::EAGAIN);
        }
        sysv::wait_changed(&queue.body.changed, seen, None)?;
    }
}

/// The index of the message `msgrcv` takes for `wanted` (see msgrcv(2)).
fn select(messages: &VecDeque<(i64, Vec<u8>)>, wanted: i64, except: bool) -> Option<usize> {
    match wanted {
        0 => (!messages.is_empty()).then_some(0),
        t if t > 0 => messages.iter().position(|(kind, _)| (*kind == t) != except),
        t => messages
            .iter()
            .enumerate()
            .filter(|(_, (kind, _))| *kind <= t.saturating_neg())
            .min_by_key(|(i, (kind, _))| (*kind, *i))
            .map(|(i, _)| i),
    }
}

pub fn sys_msgrcv(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (id, msgp, size, wanted, flags) =
        (a[0] as i32, a[1], a[2] as i64, a[3] as i64, a[4] as u32);
    if size < 0 {
        return err(Errno::EINVAL);
    }
    if flags & MSG_COPY != 0 {
        return Err(Error::unsupported(Errno::EINVAL, "msgrcv MSG_COPY"));
    }
    let queue = kernel().sysv_msg.get(id)?;
    loop {
        let seen = queue.body.changed.current();
        {
            let mut state = queue.body.state.lock();
            if state.removed {
                return err(Errno::EIDRM);
            }
            if let Some(i) = select(&state.messages, wanted, flags & MSG_EXCEPT != 0) {
                let len = state.messages[i].1.len();
                if len > size as usize && flags & MSG_NOERROR == 0 {
                    return err(Errno::E2BIG);
                }
                let n = len.min(size as usize);
                let (kind, text) = &state.messages[i];
                user::write_val(msgp, kind)?;
                user::write_bytes(msgp + 8, &text[..n])?;
                state.messages.remove(i);
                state.bytes -= len as u64;
                state.receive_time = sysv::now_secs();
                state.last_receiver = ctx.process.pid;
                drop(state);
                queue.body.changed.notify_all();
                return Ok(n as u64);
            }
        }
        if flags & IPC_NOWAIT != 0 {
            return err(Errno::ENOMSG);
        }
        sysv::wait_changed(&queue.body.changed, seen, None)?;
    }
}

pub fn sys_msgctl(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (id, cmd, buf) = (a[0] as i32, sysv::ctl_command(a[1]), a[2]);
    let registry = &kernel().sysv_msg;
    match cmd {
        // MSG_STAT takes an index, which is the id here; it returns the id.
        IPC_STAT | MSG_STAT | MSG_STAT_ANY => {
            let queue = registry.get(id)?;
            let state = queue.body.state.lock();
            let record = MsqidDs {
                msg_perm: queue.perm_record(),
                msg_stime: state.send_time,
                msg_rtime: state.receive_time,
                msg_ctime: queue.ctime(),
                msg_cbytes: state.bytes,
                msg_qnum: state.messages.len() as u64,
                msg_qbytes: state.capacity,
                msg_lspid: state.last_sender,
                msg_lrpid: state.last_receiver,
                ..Default::default()
            };
            drop(state);
            user::write_val(buf, &record)?;
            Ok(if cmd == IPC_STAT { 0 } else { id as u64 })
        }
        IPC_INFO | MSG_INFO => {
            // Linux's defaults; MSG_INFO reports queues, messages and bytes in use instead
            // of three of them.
            let mut info = MsgInfo {
                msgpool: MSGMNI * MSGMNB as i32 / 1024,
                msgmap: MSGMNB as i32,
                msgmax: MSGMAX as i32,
                msgmnb: MSGMNB as i32,
                msgmni: MSGMNI,
                msgssz: 16,
                msgtql: MSGMNB as i32,
                msgseg: u16::MAX,
                pad: 0,
            };
            if cmd == MSG_INFO {
                let queues = registry.objects();
                info.msgpool = queues.len() as i32;
                info.msgmap = 0;
                info.msgtql = 0;
                for queue in &queues {
                    let state = queue.body.state.lock();
                    info.msgmap += state.messages.len() as i32;
                    info.msgtql += state.bytes as i32;
                }
            }
            user::write_val(buf, &info)?;
            Ok(registry.highest_index())
        }
        IPC_SET => {
            let record: MsqidDs = user::read_val(buf)?;
            let queue = registry.get(id)?;
            queue.set_perm(&record.msg_perm);
            queue.body.state.lock().capacity = record.msg_qbytes;
            queue.body.changed.notify_all();
            Ok(0)
        }
        IPC_RMID => {
            let queue = registry.remove(id)?;
            queue.body.state.lock().removed = true;
            queue.body.changed.notify_all();
            Ok(0)
        }
        _ => err(Errno::EINVAL),
    }
}
