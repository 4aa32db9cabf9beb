//! futex: the operations glibc and musl use for mutexes, condition variables, thread joins and
//! once-initialisation (WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET, WAKE_BITSET).
//! Priority-inheritance operations are not supported (ENOSYS with a log line).

use super::*;
use crate::ipc::futex::{Deadline, FutexKey};

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

fn key(ctx: &Ctx, addr: u64, op: u32) -> Result<FutexKey> {
    if !addr.is_multiple_of(4) {
        return err(Errno::EINVAL);
    }
    Ok(FutexKey::new(
        &ctx.process,
        addr,
        op & FUTEX_PRIVATE_FLAG != 0,
    ))
}

/// Decodes a timeout: relative for FUTEX_WAIT, absolute for FUTEX_WAIT_BITSET (on the realtime
/// clock with FUTEX_CLOCK_REALTIME, else the monotonic clock).
pub(super) fn deadline(addr: u64, absolute: bool, realtime: bool) -> Result<Deadline> {
    if addr == 0 {
        return Ok(Deadline::Forever);
    }
    let ts: g::timespec = user::read_val(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return err(Errno::EINVAL);
    }
    let ns = (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64);
    let now_mono = kernel().monotonic_ns();
    Ok(Deadline::At(if !absolute {
        now_mono.saturating_add(ns)
    } else if realtime {
        let now = kernel().platform.clock_gettime(g::CLOCK_REALTIME)?;
        let now_real = now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64;
        now_mono.saturating_add(ns.saturating_sub(now_real))
    } else {
        ns
    }))
}

pub fn sys_futex(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (uaddr, op, val, timeout_or_val2, uaddr2, val3) =
        (a[0], a[1] as u32, a[2] as u32, a[3], a[4], a[5] as u32);
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    if realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET {
        return err(Errno::ENOSYS);
    }
    let table = &kernel().futexes;
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT {
                FUTEX_BITSET_MATCH_ANY
            } else {
                val3
            };
            if bitset == 0 {
                return err(Errno::EINVAL);
            }
            let when = deadline(timeout_or_val2, cmd == FUTEX_WAIT_BITSET, realtime)?;
            table
                .wait(key(ctx, uaddr, op)?, uaddr, val, bitset, when)
                .map(|()| 0)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE {
                FUTEX_BITSET_MATCH_ANY
            } else {
                val3
            };
            if bitset == 0 {
                return err(Errno::EINVAL);
            }
            Ok(table.wake(key(ctx, uaddr, op)?, val, bitset) as u64)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            let (wake, requeue) = (val as i32, timeout_or_val2 as u32 as i32);
            if wake < 0 || requeue < 0 {
                return err(Errno::EINVAL);
            }
            let expected = (cmd == FUTEX_CMP_REQUEUE).then_some(val3);
            let n = table.requeue(
                key(ctx, uaddr, op)?,
                uaddr,
                key(ctx, uaddr2, op)?,
                wake as u32,
                requeue as u32,
                expected,
            )?;
            Ok(n as u64)
        }
        FUTEX_WAKE_OP => {
            let n = table.wake_op(
                key(ctx, uaddr, op)?,
                key(ctx, uaddr2, op)?,
                uaddr2,
                val,
                timeout_or_val2 as u32,
                val3,
            )?;
            Ok(n as u64)
        }
        _ => Err(Error::unsupported(
            Errno::ENOSYS,
            "priority-inheritance and other futex operations",
        )),
    }
}
