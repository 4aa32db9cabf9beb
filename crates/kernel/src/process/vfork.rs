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
//! into an address space of its own leaves its lender with the move record (`Kernel::moving`:
//! there it must not find one) and the host thread goes back to it once the platform has moved
//! the child (`TrapHandler::moved`).
//!
//! While its host thread is lent, the parent has none (`Thread::host` is 0): signals sent to it
//! stay pending and are acted on when it resumes, as after Linux's vfork wait. Its CPU time goes
//! on counting on the host thread, so the time a vfork child runs before it execs counts as its
//! parent's (and advances the parent's CPU-time timers). Another thread of the parent's process
//! that execs waits for the lent thread until it is back (it has to leave, and it can only leave
//! from its own host thread).
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

/// A LibOS thread's user state set aside: its registers, its FP state (None: whatever the trap
/// has, which a vfork child inherits), and the host thread it ran on.
struct UserState {
    regs: UserRegs,
    fp: Option<Vec<u8>>,
    host: u64,
}

/// Makes the calling host thread (`host`) run `to` instead of `from` when the current trap
/// returns: `regs` (and the trap's FP state) become `to`'s `resume`; `from`'s are returned.
fn switch(
    regs: &mut UserRegs,
    from: &Thread,
    to: &Thread,
    resume: UserState,
    host: u64,
) -> UserState {
    let k = kernel();
    let fp = k.platform.fp_state();
    if let Some(state) = &resume.fp {
        // The state was taken from a trap of this host thread: same layout.
        let _ = k.platform.set_fp_state(state);
    }
    let left = UserState {
        regs: core::mem::replace(regs, resume.regs),
        fp: Some(fp),
        host,
    };
    // `from` may already run elsewhere (a thread that moved to another address space).
    let _ = from
        .host
        .compare_exchange(host, 0, Ordering::SeqCst, Ordering::SeqCst);
    to.host.store(host, Ordering::SeqCst);
    k.platform.set_thread_data(to.tid as usize);
    left
}

/// The calling thread `parent` lends its host thread to `child` (the only thread of its new vfork
/// child), which starts with `child_regs` when the trap returns; `parent` resumes later with
/// `regs`, whose rax is the result of its clone.
fn lend(regs: &mut UserRegs, parent: &Arc<Thread>, child: &Arc<Thread>, child_regs: UserState) {
    *child.lending.lender.lock() = Some(parent.clone());
    let host = parent.host.load(Ordering::SeqCst);
    let state = switch(regs, parent, child, child_regs, host);
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
        host: 0,
    };
    lend(ctx.regs, &ctx.thread, &child, resume);
    ctx.process = child.process.clone();
    ctx.thread = child;
}

/// The host thread `borrower` ran on goes back to `lender`: `regs` become the lender's.
/// Returns `borrower`'s state as it leaves.
fn give_back_to(regs: &mut UserRegs, borrower: &Thread, lender: &Thread) -> UserState {
    let resume = lender
        .lending
        .suspended
        .lock()
        .take()
        .expect("a lender's state is set aside while its host thread is lent");
    let host = resume.host;
    let left = switch(regs, borrower, lender, resume, host);
    crate::syscall::strace::resumed(lender.tid, regs.rax);
    left
}

/// If `borrower` runs on a lent host thread, gives it back: `regs` become the lender's, which is
/// returned with `borrower`'s state as it leaves.
fn give_back(regs: &mut UserRegs, borrower: &Thread) -> Option<(Arc<Thread>, UserState)> {
    let lender = take_lender(borrower)?;
    let left = give_back_to(regs, borrower, &lender);
    Some((lender, left))
}

/// Whether `thread`'s host thread is lent to its vfork child (its user state is set aside).
pub fn is_lent(thread: &Thread) -> bool {
    thread.lending.suspended.lock().is_some()
}

/// Takes `borrower`'s lender away before it moves to another address space, where it must not
/// find one (its host thread there is its own); the lender gets the host thread here back when
/// the move is done ([`give_back_after_move`]), or the borrower takes its lender back
/// ([`restore_lender`]).
pub fn take_lender(borrower: &Thread) -> Option<Arc<Thread>> {
    borrower.lending.lender.lock().take()
}

/// Gives `borrower` back the lender [`take_lender`] took (its move did not happen).
pub fn restore_lender(borrower: &Thread, lender: Option<Arc<Thread>>) {
    if lender.is_some() {
        *borrower.lending.lender.lock() = lender;
    }
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

/// After `moved` moved to an address space of its own: the host thread it ran on here goes back
/// to `lender`, which resumes with `regs` when the trap returns (or ends: `Err`).
pub fn give_back_after_move(
    moved: &Thread,
    lender: &Thread,
    regs: &mut UserRegs,
) -> Result<(), super::Ending> {
    give_back_to(regs, moved, lender);
    resume_here(lender, regs)
}

/// A lender that got its host thread back, about to resume with `regs`: it leaves if its process
/// is ending (`Err`), and its pending signals are acted on.
pub fn resume_here(lender: &Thread, regs: &mut UserRegs) -> Result<(), super::Ending> {
    super::leave_if_exiting(lender)?;
    crate::signal::collect_host_signals();
    crate::signal::deliver_pending(regs, lender)
}

/// If the ending `borrower` runs on a lent host thread, gives it back: `regs` become the
/// lender's, which is returned.
pub fn return_to_lender(regs: &mut UserRegs, borrower: &Thread) -> Option<Arc<Thread>> {
    give_back(regs, borrower).map(|(lender, _)| lender)
}
