//! Host threads of an address-space process: creating them, and parking those whose LibOS
//! thread ended, so that the next new LibOS thread of the process reuses one (no host thread to
//! create, no stacks to map, and an ended thread leaves no memory behind). Every host thread
//! parks: an address space keeps as many host threads as it once ran LibOS threads at the same
//! time. Beyond [`KEPT_WARM`] parked ones, a parking thread gives its alternate stack's pages
//! back to the host (the mapping stays) and goes to the end of the pool.
//!
//! Every LibOS thread's alternate-stack region is left out of host forks (`MADV_DONTFORK`)
//! except the last forking thread's (`trap::IN_FORKS`): a fork does not copy the regions of the
//! other threads (parked or not), which its child does not have. Host stacks stay in forks:
//! glibc's record of each thread lives at the top of its stack, and glibc's thread list links
//! them.
//!
//! The pool is a list through the parked threads' blocks, in this process's own memory (never
//! the heap, which every address space shares); a forked child empties it, as the parked
//! threads do not exist there. Its lock is a leaf.
//!
//! Placement: a thread that wakes another one that will soon be waited for (the program a vfork
//! child execs, a child waking its waiting parent) pins the woken host thread to its own CPU
//! first, as Linux's synchronous wake-ups place the woken task; the woken thread takes back the
//! instance's CPUs at once.
//! Waking a host thread on an idle CPU instead costs tens of microseconds in a virtual machine.

use crate::futex::SharedRawMutex;
use crate::trap::{self, ThreadBlock};
use std::ptr::null_mut;
use std::sync::OnceLock;
use veil_platform::{Errno, UserRegs};

/// Size of a host thread's own stack: it runs the thread's set-up and, once parked, waits;
/// traps run on the alternate stack.
const HOST_STACK_SIZE: usize = 256 * 1024;
/// Parked host threads that keep their alternate stack's pages (the next ones to be reused).
const KEPT_WARM: usize = 64;

/// The parked host threads, linked through their blocks: those parked warm first (the most
/// recent first), then those that gave back their alternate stack's pages.
struct Pool {
    first: *mut ThreadBlock,
    last: *mut ThreadBlock,
    count: usize,
}

impl Pool {
    const EMPTY: Pool = Pool {
        first: null_mut(),
        last: null_mut(),
        count: 0,
    };
}

// SAFETY: the blocks in the pool belong to parked host threads of this process, which touch
// only their hand-over until a new LibOS thread is handed to them.
unsafe impl Send for Pool {}

static PARKED: lock_api::Mutex<SharedRawMutex, Pool> = lock_api::Mutex::new(Pool::EMPTY);

/// Every CPU the instance may use: `veil run`'s own set (under `taskset`, say), recorded at
/// launch, before any host thread is pinned.
static INSTANCE_CPUS: OnceLock<libc::cpu_set_t> = OnceLock::new();

/// Starts a LibOS thread with `regs`: on a parked host thread if there is one, else on a new one.
/// With `beside_caller`, a parked thread is woken on the caller's CPU.
pub fn spawn_libos_thread(
    regs: UserRegs,
    thread_data: usize,
    beside_caller: bool,
) -> Result<(), Errno> {
    if let Some(block) = take_parked() {
        // SAFETY: a block taken from the pool belongs to a live host thread parked in `park`,
        // which touches only the hand-over until `hand_over` wakes it.
        unsafe { (*block).hand_over(regs, thread_data, beside_caller) };
        return Ok(());
    }
    spawn_host_thread(move || match trap::init_thread(thread_data) {
        Ok(block) => run(block, regs),
        Err(e) => {
            eprintln!("veil: cannot start a thread: {e}");
            // SAFETY: ends the whole address space; the thread cannot run its program.
            unsafe { libc::_exit(125) }
        }
    })
}

/// Starts a kernel service thread running `entry(arg)`; the host thread ends when it returns.
pub fn spawn_kernel_thread(entry: fn(usize), arg: usize) -> Result<(), Errno> {
    spawn_host_thread(move || {
        // Signals for the instance must reach LibOS threads, never this one.
        trap::block_async_signals();
        entry(arg);
        // Its stack stays (and goes into forks): glibc's list of threads still links to the
        // record on it, and the next `pthread_create` in a fork writes there.
        end_host_thread()
    })
}

/// Runs a LibOS thread's first steps in the kernel, then its user code.
fn run(block: &'static mut ThreadBlock, mut regs: UserRegs) -> ! {
    if let Some(handler) = trap::trap_handler() {
        handler.thread_start(block.thread_data(), &mut regs);
    }
    block.enter_user(&regs)
}

/// Ends the calling LibOS thread: its host thread parks for the next one (or ends).
pub fn exit_libos_thread() -> ! {
    match trap::current_block() {
        Some(block) => {
            let top = block.park_stack_top();
            // SAFETY: `top` lies in this thread's host stack below every live frame of it (see
            // `ThreadBlock::park_stack_top`); we are on the alternate stack (in a trap), so
            // nothing there is in use, and `park` never returns.
            unsafe { trap::veil_switch_stack(top, park, (block as *mut ThreadBlock).cast()) }
        }
        _ => end_host_thread(),
    }
}

/// A parked host thread: on its own host stack, out of the trap it ended in (whose frame on the
/// alternate stack is abandoned; its signal mask, everything but faults blocked, stays).
extern "C" fn park(block: *mut libc::c_void) -> ! {
    let block = block.cast::<ThreadBlock>();
    // SAFETY: the calling thread's own block; not yet published, so not shared.
    unsafe { (*block).forget_trap() };
    // (The count may change meanwhile: the split between warm and cold is a heuristic.)
    let cold = PARKED.lock().count >= KEPT_WARM;
    if cold {
        // SAFETY: as above; the thread runs on its host stack, not the alternate one.
        unsafe { (*block).release_alternate_stack_pages() };
    }
    let mut pool = PARKED.lock();
    // SAFETY: as above.
    unsafe { (*block).next_parked = null_mut() };
    if pool.first.is_null() {
        pool.first = block;
        pool.last = block;
    } else if cold {
        // SAFETY: `last` is a parked thread's block; only the pool's lock holder links them.
        unsafe { (*pool.last).next_parked = block };
        pool.last = block;
    } else {
        // SAFETY: as above.
        unsafe { (*block).next_parked = pool.first };
        pool.first = block;
    }
    pool.count += 1;
    drop(pool);
    // SAFETY: our own block; until the hand-over only its hand-over part is shared.
    let (regs, thread_data) = unsafe { (*block).wait_for_hand_over() };
    // SAFETY: handed over: the block is ours alone again.
    let block = unsafe { &mut *block };
    block.set_thread_data(thread_data);
    run(block, regs)
}

/// A parked host thread's block, taken out of the pool.
fn take_parked() -> Option<*mut ThreadBlock> {
    let mut pool = PARKED.lock();
    let block = pool.first;
    if block.is_null() {
        return None;
    }
    // SAFETY: a block in the pool belongs to a parked host thread, which does not touch this
    // field while parked.
    pool.first = unsafe { (*block).next_parked };
    if pool.first.is_null() {
        pool.last = null_mut();
    }
    pool.count -= 1;
    Some(block)
}

/// Empties the pool in a freshly forked address space (its parked threads stayed behind).
pub fn forget_parked() {
    if PARKED.is_locked() {
        // SAFETY: only the forking thread exists here; the holder was another thread of the
        // original address space.
        unsafe { PARKED.force_unlock() };
    }
    *PARKED.lock() = Pool::EMPTY;
}

/// Ends the calling host thread (one that never ran a LibOS thread). Its host stack (and
/// glibc's record of the thread) stays.
fn end_host_thread() -> ! {
    // SAFETY: SYS_exit ends only the calling host thread; no Rust state of it is used again.
    unsafe {
        libc::syscall(libc::SYS_exit, 0);
    }
    unreachable!("SYS_exit returned")
}

/// Starts a detached host (pthread) thread running `body` on a fresh stack. A pthread gives LibOS code a proper host TLS. The stack is never one of
/// glibc's cached stacks: after a fork those include the stacks of threads that ran in the
/// parent address space, and reusing them corrupts the shared kernel heap.
fn spawn_host_thread<F: FnOnce() + Send + 'static>(body: F) -> Result<(), Errno> {
    extern "C" fn start<F: FnOnce()>(arg: *mut libc::c_void) -> *mut libc::c_void {
        // The body leaves its box (freed here) before it runs: it never returns (a host thread
        // parks or ends with a raw exit), and the box is in the kernel heap every address space
        // shares, where nothing would ever free it.
        // SAFETY: `arg` is the box leaked below, handed to exactly this thread.
        let body = *unsafe { Box::from_raw(arg.cast::<F>()) };
        body();
        std::ptr::null_mut()
    }
    // SAFETY: a fresh private mapping for the new thread's stack (never unmapped: a host thread
    // parks or ends with a raw exit, see `exit_libos_thread`).
    let stack = unsafe {
        libc::mmap(
            null_mut(),
            HOST_STACK_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        return Err(Errno::EAGAIN);
    }
    let arg = Box::into_raw(Box::new(body));
    // SAFETY: the attribute object is initialised before use and destroyed after; the stack
    // and `arg` stay valid for the thread's lifetime; on failure both are reclaimed here.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        libc::pthread_attr_init(&mut attr);
        libc::pthread_attr_setstack(&mut attr, stack, HOST_STACK_SIZE);
        libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED);
        let mut thread: libc::pthread_t = 0;
        let r = trap::outside_forks(|| {
            libc::pthread_create(&mut thread, &attr, start::<F>, arg.cast())
        });
        libc::pthread_attr_destroy(&mut attr);
        if r != 0 {
            drop(Box::from_raw(arg));
            libc::munmap(stack, HOST_STACK_SIZE);
            return Err(Errno::EAGAIN);
        }
    }
    Ok(())
}

/// Records the CPUs the instance may use (at launch, in `veil run` itself).
pub fn record_instance_cpus() {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity writes at most its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) == 0 {
            let _ = INSTANCE_CPUS.set(set);
        }
    }
}

/// The CPU the calling host thread runs on (read from its rseq area: no host call).
pub fn current_cpu() -> u32 {
    // SAFETY: sched_getcpu has no preconditions.
    unsafe { libc::sched_getcpu() }.max(0) as u32
}

/// Pins the host thread `tid` to `cpu` (a placement hint); true if it did, so that the thread
/// must `unpin` itself. Nothing to do when the instance has a single CPU, or unknown CPUs
/// (nothing could unpin it).
pub fn pin(tid: i32, cpu: u32) -> bool {
    let cpus = INSTANCE_CPUS.get().map_or(0, |set| {
        // SAFETY: CPU_COUNT only reads the set.
        unsafe { libc::CPU_COUNT(set) }
    });
    if cpus <= 1 {
        return false;
    }
    // SAFETY: cpu_set_t is plain data; sched_setaffinity only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu as usize, &mut set);
        libc::sched_setaffinity(tid, std::mem::size_of_val(&set), &set) == 0
    }
}

/// Gives the calling host thread every CPU of the instance back after a `pin`.
pub fn unpin() {
    if let Some(set) = INSTANCE_CPUS.get() {
        // SAFETY: sched_setaffinity only reads the set.
        unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(set), set) };
    }
}
