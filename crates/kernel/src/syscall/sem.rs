//! System V semaphores: semget, semop, semtimedop, semctl. A set's operations apply all at
//! once or not at all; a caller that cannot proceed sleeps on the set's event (interruptible,
//! with an optional timeout). SEM_UNDO adjustments are kept per process and applied when it
//! ends.
//!
//! Lock order: a set's `state` is taken before a process's `sem_undo`.

use super::*;
use crate::ipc::sysv::{self, IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT};
use crate::sync::{Event, Mutex};
use veil_abi::{SemBuf, SemInfo, SemidDs};

const SEM_UNDO: i16 = 0x1000;
/// Largest semaphore value, semaphores per set, and operations per call (Linux's defaults).
const SEMVMX: i32 = 32767;
const SEMMSL: u64 = 32000;
const SEMOPM: u64 = 500;

const GETPID: u32 = 11;
const GETVAL: u32 = 12;
const GETALL: u32 = 13;
const GETNCNT: u32 = 14;
const GETZCNT: u32 = 15;
const SETVAL: u32 = 16;
const SETALL: u32 = 17;
const SEM_STAT: u32 = 18;
const SEM_INFO: u32 = 19;
const SEM_STAT_ANY: u32 = 20;
/// Linux's defaults: sets (SEMMNI) and semaphores (SEMMNS) system-wide.
const SEMMNI: i32 = 32000;
const SEMMNS: i32 = 1_024_000_000;

/// A semaphore set.
pub struct SemSet {
    state: Mutex<SetState>,
    changed: Event,
}

struct SetState {
    sems: Vec<Semaphore>,
    /// Time of the last successful semop.
    otime: i64,
    /// Set by IPC_RMID: sleepers fail with EIDRM.
    removed: bool,
}

#[derive(Clone, Copy, Default)]
struct Semaphore {
    value: i32,
    /// Process of the last operation.
    pid: i32,
    /// Callers waiting for the value to grow / to become zero.
    ncnt: u32,
    zcnt: u32,
}

pub fn sys_semget(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (key, nsems, flags) = (a[0] as i32, a[1] as u32 as u64, a[2] as u32);
    if nsems > SEMMSL {
        return err(Errno::EINVAL);
    }
    let id = kernel().sysv_sem.get_or_create(
        key,
        flags,
        |set| {
            if nsems as usize > set.state.lock().sems.len() {
                err(Errno::EINVAL)
            } else {
                Ok(())
            }
        },
        || {
            if nsems == 0 {
                return err(Errno::EINVAL);
            }
            Ok(SemSet {
                state: Mutex::new(SetState {
                    sems: alloc::vec![Semaphore::default(); nsems as usize],
                    otime: 0,
                    removed: false,
                }),
                changed: Event::new(),
            })
        },
    )?;
    Ok(id as u64)
}

pub fn sys_semop(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    semtimedop(ctx, a[0] as i32, a[1], a[2], None)
}

pub fn sys_semtimedop(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let timeout = if a[3] == 0 {
        None
    } else {
        let ts: g::timespec = user::read_val(a[3])?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return err(Errno::EINVAL);
        }
        Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
    };
    semtimedop(ctx, a[0] as i32, a[1], a[2], timeout)
}

/// Why a set of operations cannot proceed now: the semaphore and whether it waits for zero.
struct Blocked {
    sem: usize,
    for_zero: bool,
    nowait: bool,
}

/// Applies every operation of `ops` to `sems`, or none (returning which one blocks).
fn try_apply(
    sems: &mut [Semaphore],
    ops: &[SemBuf],
    pid: i32,
) -> Result<core::result::Result<(), Blocked>> {
    let mut values: Vec<i32> = sems.iter().map(|s| s.value).collect();
    for op in ops {
        let n = op.sem_num as usize;
        let delta = i32::from(op.sem_op);
        let nowait = op.sem_flg as u32 & IPC_NOWAIT != 0;
        if delta == 0 && values[n] != 0 || delta < 0 && values[n] + delta < 0 {
            let for_zero = delta == 0;
            return Ok(Err(Blocked {
                sem: n,
                for_zero,
                nowait,
            }));
        }
        if values[n] + delta > SEMVMX {
            return err(Errno::ERANGE);
        }
        values[n] += delta;
    }
    for op in ops {
        sems[op.sem_num as usize].pid = pid;
    }
    for (sem, value) in sems.iter_mut().zip(values) {
        sem.value = value;
    }
    Ok(Ok(()))
}

fn semtimedop(ctx: &Ctx, id: i32, sops: u64, nsops: u64, timeout: Option<u64>) -> Result<u64> {
    if nsops == 0 {
        return err(Errno::EINVAL);
    }
    if nsops > SEMOPM {
        return err(Errno::E2BIG);
    }
    let ops: Vec<SemBuf> = (0..nsops)
        .map(|i| user::read_val(sops + i * core::mem::size_of::<SemBuf>() as u64))
        .collect::<Result<_>>()?;
    let set = kernel().sysv_sem.get(id)?;
    let deadline = timeout.map(|t| kernel().monotonic_ns().saturating_add(t));
    let pid = ctx.process.pid;
    loop {
        let seen = set.body.changed.current();
        let blocked = {
            let mut state = set.body.state.lock();
            if state.removed {
                return err(Errno::EIDRM);
            }
            if ops.iter().any(|op| op.sem_num as usize >= state.sems.len()) {
                return err(Errno::EFBIG);
            }
            match try_apply(&mut state.sems, &ops, pid)? {
                Ok(()) => {
                    state.otime = sysv::now_secs();
                    record_undo(ctx, id, &ops);
                    drop(state);
                    set.body.changed.notify_all();
                    return Ok(0);
                }
                Err(blocked) if blocked.nowait => return err(Errno::EAGAIN),
                Err(blocked) => {
                    let sem = &mut state.sems[blocked.sem];
                    if blocked.for_zero {
                        sem.zcnt += 1;
                    } else {
                        sem.ncnt += 1;
                    }
                    blocked
                }
            }
        };
        let remaining = deadline.map(|d| d.saturating_sub(kernel().monotonic_ns()));
        let waited = if remaining == Some(0) {
            Err(Errno::EAGAIN.into())
        } else {
            sysv::wait_changed(&set.body.changed, seen, remaining)
        };
        {
            let mut state = set.body.state.lock();
            if let Some(sem) = state.sems.get_mut(blocked.sem) {
                if blocked.for_zero {
                    sem.zcnt -= 1;
                } else {
                    sem.ncnt -= 1;
                }
            }
        }
        waited?;
    }
}

/// Records the SEM_UNDO adjustments of applied `ops`.
fn record_undo(ctx: &Ctx, id: i32, ops: &[SemBuf]) {
    let mut undo = ctx.process.sem_undo.lock();
    for op in ops.iter().filter(|op| op.sem_flg & SEM_UNDO != 0) {
        *undo.entry((id, op.sem_num)).or_insert(0) -= i32::from(op.sem_op);
    }
}

/// Applies a process's SEM_UNDO adjustments (it is ending).
pub fn undo_on_exit(process: &crate::process::Process) {
    let adjustments = core::mem::take(&mut *process.sem_undo.lock());
    for ((id, num), adjust) in adjustments {
        let Ok(set) = kernel().sysv_sem.get(id) else {
            continue;
        };
        let mut state = set.body.state.lock();
        if let Some(sem) = state.sems.get_mut(num as usize) {
            sem.value = (sem.value + adjust).clamp(0, SEMVMX);
            sem.pid = process.pid;
        }
        drop(state);
        set.body.changed.notify_all();
    }
}

/// Forgets every process's SEM_UNDO adjustment of semaphore `num` of set `id` (SETVAL/SETALL).
fn clear_undo(id: i32, num: Option<u16>) {
    for p in crate::process::all_processes() {
        p.sem_undo
            .lock()
            .retain(|&(set, n), _| set != id || num.is_some_and(|num| num != n));
    }
}

pub fn sys_semctl(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (id, num, cmd, arg) = (
        a[0] as i32,
        a[1] as u32 as usize,
        sysv::ctl_command(a[2]),
        a[3],
    );
    let registry = &kernel().sysv_sem;
    if cmd == IPC_INFO || cmd == SEM_INFO {
        // Linux's defaults; SEM_INFO reports sets and semaphores in use instead of two.
        let mut info = SemInfo {
            semmap: SEMMNS,
            semmni: SEMMNI,
            semmns: SEMMNS,
            semmnu: SEMMNS,
            semmsl: SEMMSL as i32,
            semopm: SEMOPM as i32,
            semume: SEMOPM as i32,
            semusz: 20,
            semvmx: SEMVMX,
            semaem: SEMVMX,
        };
        if cmd == SEM_INFO {
            let sets = registry.objects();
            info.semusz = sets.len() as i32;
            info.semaem = sets
                .iter()
                .map(|s| s.body.state.lock().sems.len() as i32)
                .sum();
        }
        user::write_val(arg, &info)?;
        return Ok(registry.highest_index());
    }
    if cmd == IPC_RMID {
        let set = registry.remove(id)?;
        set.body.state.lock().removed = true;
        set.body.changed.notify_all();
        return Ok(0);
    }
    let set = registry.get(id)?;
    let one = |state: &SetState| state.sems.get(num).copied().ok_or(Errno::EINVAL);
    match cmd {
        GETVAL => Ok(one(&set.body.state.lock())?.value as u64),
        GETPID => Ok(one(&set.body.state.lock())?.pid as u64),
        GETNCNT => Ok(u64::from(one(&set.body.state.lock())?.ncnt)),
        GETZCNT => Ok(u64::from(one(&set.body.state.lock())?.zcnt)),
        GETALL => {
            let values: Vec<u16> = set
                .body
                .state
                .lock()
                .sems
                .iter()
                .map(|s| s.value as u16)
                .collect();
            for (i, v) in values.iter().enumerate() {
                user::write_val(arg + 2 * i as u64, v)?;
            }
            Ok(0)
        }
        SETVAL => {
            let value = arg as u32 as i32;
            if !(0..=SEMVMX).contains(&value) {
                return err(Errno::ERANGE);
            }
            {
                let mut state = set.body.state.lock();
                let sem = state.sems.get_mut(num).ok_or(Errno::EINVAL)?;
                sem.value = value;
                sem.pid = crate::process::current_process().pid;
            }
            clear_undo(id, Some(num as u16));
            set.body.changed.notify_all();
            Ok(0)
        }
        SETALL => {
            let count = set.body.state.lock().sems.len();
            let values: Vec<u16> = (0..count)
                .map(|i| user::read_val(arg + 2 * i as u64))
                .collect::<Result<_>>()?;
            if values.iter().any(|&v| i32::from(v) > SEMVMX) {
                return err(Errno::ERANGE);
            }
            {
                let mut state = set.body.state.lock();
                let pid = crate::process::current_process().pid;
                for (sem, v) in state.sems.iter_mut().zip(values) {
                    sem.value = i32::from(v);
                    sem.pid = pid;
                }
            }
            clear_undo(id, None);
            set.body.changed.notify_all();
            Ok(0)
        }
        // SEM_STAT takes an index, which is the id here; it returns the id.
        IPC_STAT | SEM_STAT | SEM_STAT_ANY => {
            let state = set.body.state.lock();
            let record = SemidDs {
                sem_perm: set.perm_record(),
                sem_otime: state.otime,
                sem_ctime: set.ctime(),
                sem_nsems: state.sems.len() as u64,
                ..Default::default()
            };
            drop(state);
            user::write_val(arg, &record)?;
            Ok(if cmd == IPC_STAT { 0 } else { id as u64 })
        }
        IPC_SET => {
            let record: SemidDs = user::read_val(arg)?;
            set.set_perm(&record.sem_perm);
            Ok(0)
        }
        _ => err(Errno::EINVAL),
    }
}
