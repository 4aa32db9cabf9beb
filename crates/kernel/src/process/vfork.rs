//! A vfork child runs on its parent's host thread.
//!
//! The parent of a vfork-style child (`vfork`, glibc's `posix_spawn`, Python's `subprocess`)
//! does nothing until the child execs or ends. So instead of waking a parked host thread for
//! the child and putting the parent's to sleep until the exec wakes it again (two cross-thread
//! wake-ups per spawn, each tens of microseconds when a virtual machine's idle CPU has to wake),
//! the parent *lends* its host thread: its user state (registers and FP state) is set aside and
//! the trap returns into the child. When the child execs, its new program starts on a host
//! thread of its own (a parked one, on the parent's CPU) and the execve trap returns into the
//! parent; when the child ends first, its last trap leaves into the parent. A child that execs
//! into an address space of its own gives the host thread back once the platform has moved it
//! (`TrapHandler::moved`).
//!
//! While its host thread is lent, the parent has none (`Thread::host` is 0): signals sent to it
//! stay pending and are acted on when it resumes, as after Linux's vfork wait. Its CPU time goes
//! on counting on the host thread, so the time a vfork child runs before it execs counts as its
//! parent's (and advances the parent's CPU-time timers). Another thread of the parent's process that execs waits for the lent thread until
//! it is back (it has to leave, and it can only leave from its own host thread).
//!
//! Lock order: a thread's `lending` locks are leaves.

use super::Thread;
use crate::root::kernel;
use crate::sync::Mutex;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use veil_platform::UserRegs;

/// A thread's part in lending host threads (`Thread::lending`).
#[derive(Default)]
pub struct Lending {
    /// The thread's user state while its host thread runs another LibOS thread.
    suspended: Mutex<Option<UserState>>,
    /// The thread whose host thread this one runs on, while it borrows it.
    lender: Mutex<Option<Arc<Thread>>>,
}

/// A LibOS thread's user state set aside: its registers, and its FP state (None: whatever the
/// trap has, which a vfork child inherits).
struct UserState {
    regs: UserRegs,
    fp: Option<Vec<u8>>,
}

/// Makes the calling host thread run `to` instead of `from` when the current trap returns:
/// `regs` (and the trap's FP state) become `to`'s `resume`; `from`'s are returned.
fn switch(regs: &mut UserRegs, from: &Thread, to: &Thread, resume: UserState) -> UserState {
    let k = kernel();
    let fp = k.platform.fp_state();
    if let Some(state) = &resume.fp {
        // The state was taken from a trap of this host thread: same layout.
        let _ = k.platform.set_fp_state(state);
    }
    let left = UserState {
        regs: core::mem::replace(regs, resume.regs),
        fp: Some(fp),
    };
    to.host
        .store(from.host.swap(0, Ordering::SeqCst), Ordering::SeqCst);
    k.platform.set_thread_data(to.tid as usize);
    left
}

/// The calling thread `parent` lends its host thread to `child` (the only thread of its new vfork
/// child), which starts with `child_regs` when the trap returns; `parent` resumes later with
/// `regs`, whose rax is the result of its clone.
fn lend(regs: &mut UserRegs, parent: &Arc<Thread>, child: &Arc<Thread>, child_regs: UserState) {
    *child.lending.lender.lock() = Some(parent.clone());
    let state = switch(regs, parent, child, child_regs);
    *parent.lending.suspended.lock() = Some(state);
}

/// `ctx.thread` lends its host thread to its new vfork child's `child`, which starts with
/// `child_regs` (the caller's FP state stays); the caller's clone returns the child's pid when
/// it gets the host thread back. `ctx` is the child's from here on.
pub fn lend_to_child(ctx: &mut crate::syscall::Ctx, child: Arc<Thread>, child_regs: UserRegs) {
    ctx.regs.rax = child.tid as u64;
    let resume = UserState {
        regs: child_regs,
        fp: None,
    };
    lend(ctx.regs, &ctx.thread, &child, resume);
    ctx.process = child.process.clone();
    ctx.thread = child;
}

/// If `borrower` runs on a lent host thread, gives it back: `regs` become the lender's, which is
/// returned with `borrower`'s state as it leaves.
fn give_back(regs: &mut UserRegs, borrower: &Thread) -> Option<(Arc<Thread>, UserState)> {
    let lender = borrower.lending.lender.lock().take()?;
    let resume = lender
        .lending
        .suspended
        .lock()
        .take()
        .expect("a lender's state is set aside while its host thread is lent");
    let left = switch(regs, borrower, &lender, resume);
    crate::syscall::strace::resumed(lender.tid, regs.rax);
    Some((lender, left))
}

/// Makes `ctx` the lender's after a give-back; the syscall's result is the lender's.
fn resume_in(ctx: &mut crate::syscall::Ctx, lender: Arc<Thread>) -> u64 {
    ctx.process = lender.process.clone();
    ctx.thread = lender;
    ctx.regs.rax
}

/// After a successful execve in this address space: a borrowing thread (`ctx.thread`) starts
/// its new program (`ctx.regs`) on a host thread of its own, and the lender gets this one back.
/// Returns the syscall's result for whoever `ctx` then stands for.
pub fn after_exec(ctx: &mut crate::syscall::Ctx) -> u64 {
    let child = ctx.thread.clone();
    let program = *ctx.regs;
    let Some((lender, left)) = give_back(ctx.regs, &child) else {
        return 0;
    };
    match kernel()
        .platform
        .spawn_thread(program, child.tid as usize, true)
    {
        Ok(()) => resume_in(ctx, lender),
        Err(e) => {
            // No host thread to be had: the child keeps this one, and the parent waits for
            // it to end.
            log::warn!(
                "execve: no host thread for the new program ({e:?}); its vfork parent waits until it ends"
            );
            lend(ctx.regs, &lender, &child, left);
            0
        }
    }
}

/// `borrower` leaves the calling host thread (it moved to an address space of its own, or it
/// ends): if it was lent, it goes back to the lender, which resumes with `regs` when the trap
/// returns, its pending signals acted on first. False if `borrower` borrowed nothing.
pub fn give_back_as_it_leaves(borrower: &Thread, regs: &mut UserRegs) -> bool {
    let Some((lender, _)) = give_back(regs, borrower) else {
        return false;
    };
    super::leave_if_exiting(&lender);
    crate::signal::collect_host_signals();
    crate::signal::deliver_pending(regs, &lender);
    true
}

/// The ending `borrower` gives its host thread back: the lender resumes at once (this trap's
/// frames are abandoned). Returns if it borrowed none.
pub fn resume_lender(borrower: &Thread) {
    let mut regs = UserRegs::default();
    if give_back_as_it_leaves(borrower, &mut regs) {
        kernel().platform.leave_trap(&regs)
    }
}

/// Whether `thread` runs on a host thread lent by its vfork parent.
pub fn is_borrowing(thread: &Thread) -> bool {
    thread.lending.lender.lock().is_some()
}
