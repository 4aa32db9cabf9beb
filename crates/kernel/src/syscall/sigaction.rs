//! Signal state: dispositions (`rt_sigaction`), the blocked mask (`rt_sigprocmask`) and the
//! alternate signal stack (`sigaltstack`).
//!
//! These calls record state with Linux's exact validation and errno behaviour; delivering
//! signals to handlers (which reads this state) is the signal subsystem's job.

use super::*;
use core::sync::atomic::Ordering;

/// Size of the kernel's `sigset_t`: 64 signals.
const SIGSET_SIZE: u64 = 8;
/// Highest signal number (`_NSIG`).
const NSIG: u32 = 64;
/// `sa_flags` bits Linux keeps (`UAPI_SA_FLAGS`); it clears the others so that programs can
/// detect unsupported flags (`SA_UNSUPPORTED`).
const UAPI_SA_FLAGS: u64 = (g::SA_NOCLDSTOP
    | g::SA_NOCLDWAIT
    | g::SA_SIGINFO
    | g::SA_ONSTACK
    | g::SA_RESTART
    | g::SA_NODEFER
    | g::SA_RESETHAND
    | g::SA_EXPOSE_TAGBITS
    | g::SA_RESTORER) as u64;
/// Size of `stack_t`: `ss_sp` (8), `ss_flags` (4, then 4 of padding), `ss_size` (8).
const STACK_T_SIZE: usize = 24;

/// The mask bit of signal `sig`.
const fn sigmask(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// SIGKILL and SIGSTOP can be neither caught, nor ignored, nor blocked.
const UNBLOCKABLE: u64 = sigmask(g::SIGKILL) | sigmask(g::SIGSTOP);

/// Validates `rt_sigaction`'s signal number: 1..=64, and not SIGKILL or SIGSTOP when changing.
fn check_sigaction_signal(sig: i32, changing: bool) -> Result<usize> {
    if !(1..=NSIG as i32).contains(&sig) || (changing && UNBLOCKABLE & sigmask(sig as u32) != 0) {
        return err(Errno::EINVAL);
    }
    Ok(sig as usize - 1)
}

/// A disposition as Linux stores it: unknown flags and the unblockable signals dropped.
fn sanitize_action(mut act: g::kernel_sigaction) -> g::kernel_sigaction {
    act.sa_flags &= UAPI_SA_FLAGS;
    act.sa_mask.sig[0] &= !UNBLOCKABLE;
    act
}

pub fn sys_rt_sigaction(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (sig, act_addr, old_addr, setsize) = (a[0] as i32, a[1], a[2], a[3]);
    if setsize != SIGSET_SIZE {
        return err(Errno::EINVAL);
    }
    let new = if act_addr != 0 {
        Some(user::read_val::<g::kernel_sigaction>(act_addr)?)
    } else {
        None
    };
    let index = check_sigaction_signal(sig, new.is_some())?;
    let old = {
        let mut table = ctx.process.signals.lock();
        let old = table[index];
        if let Some(new) = new {
            table[index] = sanitize_action(new);
        }
        old
    };
    if old_addr != 0 {
        user::write_val(old_addr, &old)?;
    }
    Ok(0)
}

/// The blocked mask after `how` applies `set` to `current` (EINVAL for an unknown `how`).
fn apply_sigprocmask(current: u64, how: u32, set: u64) -> Result<u64> {
    let set = set & !UNBLOCKABLE;
    Ok(match how {
        g::SIG_BLOCK => current | set,
        g::SIG_UNBLOCK => current & !set,
        g::SIG_SETMASK => set,
        _ => return err(Errno::EINVAL),
    })
}

pub fn sys_rt_sigprocmask(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (how, set_addr, old_addr, setsize) = (a[0] as u32, a[1], a[2], a[3]);
    if setsize != SIGSET_SIZE {
        return err(Errno::EINVAL);
    }
    // Only this thread changes its own mask, so reading then storing does not race.
    let old = ctx.thread.sigmask.load(Ordering::Acquire);
    if set_addr != 0 {
        let set: u64 = user::read_val(set_addr)?;
        ctx.thread
            .sigmask
            .store(apply_sigprocmask(old, how, set)?, Ordering::Release);
    }
    if old_addr != 0 {
        user::write_val(old_addr, &old)?;
    }
    Ok(0)
}

pub fn sys_rt_sigpending(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    if a[1] > SIGSET_SIZE {
        return err(Errno::EINVAL);
    }
    let pending = ctx.thread.pending.load(Ordering::Acquire);
    user::write_bytes(a[0], &pending.to_ne_bytes()[..a[1] as usize])?;
    Ok(0)
}

/// A thread's alternate signal stack as `sigaltstack` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AltStack {
    sp: u64,
    flags: i32,
    size: u64,
}

impl AltStack {
    /// Decodes a user `stack_t`.
    fn from_bytes(b: &[u8; STACK_T_SIZE]) -> AltStack {
        AltStack {
            sp: u64::from_ne_bytes(b[0..8].try_into().expect("8 bytes")),
            flags: i32::from_ne_bytes(b[8..12].try_into().expect("4 bytes")),
            size: u64::from_ne_bytes(b[16..24].try_into().expect("8 bytes")),
        }
    }

    /// Encodes a `stack_t` (padding zeroed).
    fn to_bytes(self) -> [u8; STACK_T_SIZE] {
        let mut b = [0u8; STACK_T_SIZE];
        b[0..8].copy_from_slice(&self.sp.to_ne_bytes());
        b[8..12].copy_from_slice(&self.flags.to_ne_bytes());
        b[16..24].copy_from_slice(&self.size.to_ne_bytes());
        b
    }

    /// Whether the stack pointer `sp` is on this stack (never, with `SS_AUTODISARM`). The
    /// stack grows down, so its top address counts and its bottom does not.
    fn contains(&self, sp: u64) -> bool {
        self.flags as u32 & g::SS_AUTODISARM == 0 && sp > self.sp && sp - self.sp <= self.size
    }

    /// What `sigaltstack` reports for this stack when the thread's stack pointer is `sp`.
    fn report(&self, sp: u64) -> AltStack {
        let state = if self.size == 0 {
            g::SS_DISABLE
        } else if self.contains(sp) {
            g::SS_ONSTACK
        } else {
            0
        };
        AltStack {
            flags: (state | (self.flags as u32 & g::SS_FLAG_BITS)) as i32,
            ..*self
        }
    }

    /// The stack after a request `new`, with Linux's checks: EPERM while running on the
    /// current stack, EINVAL for an unknown mode, ENOMEM for a stack under `MINSIGSTKSZ`.
    fn update(&self, new: AltStack, sp: u64) -> Result<AltStack> {
        if self.contains(sp) {
            return err(Errno::EPERM);
        }
        let mode = new.flags as u32 & !g::SS_FLAG_BITS;
        if mode != g::SS_DISABLE && mode != g::SS_ONSTACK && mode != 0 {
            return err(Errno::EINVAL);
        }
        if new == *self {
            return Ok(*self);
        }
        if mode == g::SS_DISABLE {
            return Ok(AltStack {
                sp: 0,
                flags: new.flags,
                size: 0,
            });
        }
        if new.size < g::MINSIGSTKSZ as u64 {
            return err(Errno::ENOMEM);
        }
        Ok(new)
    }
}

pub fn sys_sigaltstack(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (new_addr, old_addr) = (a[0], a[1]);
    let new = if new_addr != 0 {
        let mut raw = [0u8; STACK_T_SIZE];
        user::read_into(new_addr, &mut raw)?;
        Some(AltStack::from_bytes(&raw))
    } else {
        None
    };
    let sp = ctx.regs.rsp;
    let old = {
        let mut stored = ctx.thread.altstack.lock();
        let current = AltStack {
            sp: stored.0,
            flags: stored.1,
            size: stored.2,
        };
        if let Some(new) = new {
            let next = current.update(new, sp)?;
            *stored = (next.sp, next.flags, next.size);
        }
        current.report(sp)
    };
    if old_addr != 0 {
        user::write_bytes(old_addr, &old.to_bytes())?;
    }
    Ok(0)
}

/// `rt_sigsuspend`: waits with a temporary mask until a signal is delivered to a handler (or
/// ends the process); always fails with EINTR, and the handler's return restores the old mask.
pub fn sys_rt_sigsuspend(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    if a[1] != SIGSET_SIZE {
        return err(Errno::EINVAL);
    }
    let unblockable = (1u64 << (g::SIGKILL - 1)) | (1u64 << (g::SIGSTOP - 1));
    let temporary: u64 = user::read_val::<u64>(a[0])? & !unblockable;
    let old = ctx.thread.sigmask.swap(temporary, Ordering::AcqRel);
    *ctx.thread.saved_sigmask.lock() = Some(old);
    wait_for_signal();
    err(Errno::EINTR)
}

/// `pause`: waits until a signal is delivered to a handler (EINTR) or ends the process.
pub fn sys_pause(_ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    wait_for_signal();
    err(Errno::ERESTARTNOHAND)
}

/// Sleeps until the calling thread has a signal to act on.
fn wait_for_signal() {
    let idle = crate::sync::Event::new();
    while !crate::signal::interrupted() {
        let _ = idle.wait_timeout(idle.current(), None);
    }
}

/// `rt_sigtimedwait`: takes a pending signal of `set` (normally blocked ones) without running
/// its handler, waiting for one up to the timeout (EAGAIN); another signal that is delivered
/// meanwhile ends the wait with EINTR (never restarted, as on Linux).
pub fn sys_rt_sigtimedwait(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (set_addr, info_addr, timeout_addr, size) = (a[0], a[1], a[2], a[3]);
    if size != SIGSET_SIZE {
        return err(Errno::EINVAL);
    }
    let unblockable = (1u64 << (g::SIGKILL - 1)) | (1u64 << (g::SIGSTOP - 1));
    let set = user::read_val::<u64>(set_addr)? & !unblockable;
    let deadline = if timeout_addr == 0 {
        None
    } else {
        let ts: g::timespec = user::read_val(timeout_addr)?;
        let ns = crate::timer::to_ns(ts.tv_sec, ts.tv_nsec, 1_000_000_000)?;
        Some(kernel().monotonic_ns().saturating_add(ns))
    };
    let readiness = &kernel().readiness;
    loop {
        // Sending a signal notifies readiness (for signalfd), which is what wakes this wait.
        let seen = readiness.current();
        if let Some(info) = crate::signal::dequeue_from(&ctx.thread, set) {
            if info_addr != 0 {
                user::write_bytes(info_addr, &info.to_bytes())?;
            }
            return Ok(u64::from(info.signo));
        }
        if crate::signal::interrupted() {
            return err(Errno::EINTR);
        }
        let remaining = deadline.map(|d| d.saturating_sub(kernel().monotonic_ns()));
        if remaining == Some(0) {
            return err(Errno::EAGAIN);
        }
        readiness.wait(seen, remaining);
    }
}

/// `rt_sigreturn`: back from a signal handler to the interrupted context.
pub fn sys_rt_sigreturn(ctx: &mut Ctx, _a: [u64; 6]) -> Result<u64> {
    if crate::signal::frame::restore(ctx.regs, &ctx.thread).is_err() {
        let how = crate::signal::terminate_by_signal(
            g::SIGSEGV,
            ": corrupted signal frame in rt_sigreturn",
        );
        return ctx.end(how);
    }
    // The dispatcher stores the result in rax: give back the interrupted context's rax.
    Ok(ctx.regs.rax)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigaction_signal_numbers() {
        assert_eq!(check_sigaction_signal(1, true), Ok(0));
        assert_eq!(check_sigaction_signal(64, true), Ok(63));
        assert!(check_sigaction_signal(0, false).is_err());
        assert!(check_sigaction_signal(65, false).is_err());
        assert!(check_sigaction_signal(-1, false).is_err());
        assert!(check_sigaction_signal(g::SIGKILL as i32, true).is_err());
        assert!(check_sigaction_signal(g::SIGSTOP as i32, true).is_err());
        assert_eq!(check_sigaction_signal(g::SIGKILL as i32, false), Ok(8));
    }

    #[test]
    fn sigaction_sanitized() {
        let mut act: g::kernel_sigaction = crate::pod::zeroed();
        act.sa_flags = (g::SA_SIGINFO | g::SA_RESTORER | g::SA_UNSUPPORTED) as u64 | 1 << 40;
        act.sa_mask.sig[0] = u64::MAX;
        let act = sanitize_action(act);
        assert_eq!(act.sa_flags, (g::SA_SIGINFO | g::SA_RESTORER) as u64);
        assert_eq!(act.sa_mask.sig[0], !UNBLOCKABLE);
    }

    #[test]
    fn sigprocmask_how() {
        let usr1 = sigmask(g::SIGUSR1);
        assert_eq!(
            apply_sigprocmask(0, g::SIG_BLOCK, usr1 | UNBLOCKABLE),
            Ok(usr1)
        );
        assert_eq!(apply_sigprocmask(usr1 | 1, g::SIG_UNBLOCK, usr1), Ok(1));
        assert_eq!(apply_sigprocmask(usr1, g::SIG_SETMASK, 2), Ok(2));
        assert!(apply_sigprocmask(0, 3, 0).is_err());
    }

    #[test]
    fn altstack_rules() {
        let none = AltStack {
            sp: 0,
            flags: g::SS_DISABLE as i32,
            size: 0,
        };
        assert_eq!(none.report(0x1000).flags, g::SS_DISABLE as i32);
        let stack = AltStack {
            sp: 0x10000,
            flags: 0,
            size: 0x4000,
        };
        let set = none.update(stack, 0x7fff_0000).unwrap();
        assert_eq!(set, stack);
        assert_eq!(set.report(0x7fff_0000).flags, 0);
        assert_eq!(set.report(0x12000).flags, g::SS_ONSTACK as i32);
        // Changing it while running on it fails.
        assert_eq!(set.update(none, 0x12000), Err(Errno::EPERM.into()));
        assert_eq!(
            none.update(
                AltStack {
                    size: 2047,
                    ..stack
                },
                0
            ),
            Err(Errno::ENOMEM.into())
        );
        assert_eq!(
            none.update(AltStack { flags: 4, ..stack }, 0),
            Err(Errno::EINVAL.into())
        );
        let disabled = set
            .update(
                AltStack {
                    sp: 5,
                    flags: g::SS_DISABLE as i32,
                    size: 9,
                },
                0,
            )
            .unwrap();
        assert_eq!(disabled, none);
        let auto = AltStack {
            flags: g::SS_AUTODISARM as i32,
            ..stack
        };
        let set = none.update(auto, 0).unwrap();
        assert!(!set.contains(0x12000));
        assert_eq!(set.report(0).flags as u32, g::SS_AUTODISARM);
        let round = AltStack::from_bytes(&stack.to_bytes());
        assert_eq!(round, stack);
    }
}
