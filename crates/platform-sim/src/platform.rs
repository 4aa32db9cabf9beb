//! [`SimPlatform`]: the `Platform` implementation on a Linux host process.

use crate::host::{SimHost, last_errno};
use crate::{futex, shared_memory, threads, trap, uaccess};
use std::sync::OnceLock;
use std::sync::atomic::AtomicU32;
use veil_abi::general::timespec;
use veil_platform::{
    Backing, ClockId, Errno, Fault, HostCalls, HostCpuTime, HostFd, Placement, Platform, Prot,
    TrapHandler, UserRegs, WaitResult,
};

/// Host CPU clocks of a thread (the low bits of a clock id): user plus system time sampled at
/// the tick, user time sampled at the tick, precise total; and the per-thread flag.
const CPUCLOCK_PROF: i32 = 0;
const CPUCLOCK_VIRT: i32 = 1;
const CPUCLOCK_SCHED: i32 = 2;
const CPUCLOCK_PERTHREAD: i32 = 4;

/// The simulation platform. Stateless: per-thread state lives in each thread's trap block.
pub struct SimPlatform;

/// The one platform value; the kernel keeps a `&'static` reference to it.
pub static PLATFORM: SimPlatform = SimPlatform;

fn mmap_result(ptr: *mut libc::c_void) -> Result<usize, Errno> {
    if ptr == libc::MAP_FAILED {
        Err(last_errno())
    } else {
        Ok(ptr as usize)
    }
}

fn unit(ret: libc::c_int) -> Result<(), Errno> {
    if ret < 0 { Err(last_errno()) } else { Ok(()) }
}

/// One more than the largest `AT_*` key kept from the host's auxiliary vector (Linux's keys
/// end at `AT_MINSIGSTKSZ` = 51).
const AUX_KEYS: usize = 64;

/// A value of the host's auxiliary vector as the host kernel passed it (0 if absent).
///
/// Read from `/proc/self/auxv`, not with `getauxval`: in a static glibc binary `getauxval`
/// answers `AT_HWCAP` with glibc's own internal value (2 on x86-64), not the CPU's feature bits.
/// The supervisor's first call (before any fork) fills the cache, so address spaces inherit it.
pub(crate) fn host_aux(key: u64) -> u64 {
    static AUXV: OnceLock<[u64; AUX_KEYS]> = OnceLock::new();
    let auxv = AUXV.get_or_init(|| {
        let mut values = [0; AUX_KEYS];
        match std::fs::read("/proc/self/auxv") {
            Ok(bytes) => {
                let mut words = bytes.chunks_exact(8).map(|w| {
                    u64::from_ne_bytes(w.try_into().expect("chunks_exact yields 8 bytes"))
                });
                while let (Some(k), Some(v)) = (words.next(), words.next()) {
                    if k == libc::AT_NULL {
                        break;
                    }
                    if let Some(slot) = values.get_mut(k as usize) {
                        *slot = v;
                    }
                }
            }
            // Without /proc, glibc's copy is the best there is.
            Err(_) => {
                for (k, slot) in values.iter_mut().enumerate() {
                    // SAFETY: getauxval has no preconditions.
                    *slot = unsafe { libc::getauxval(k as u64) };
                }
            }
        }
        values
    });
    auxv.get(key as usize).copied().unwrap_or(0)
}

fn host_timespec(ts: libc::timespec) -> timespec {
    timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: ts.tv_nsec,
    }
}

impl Platform for SimPlatform {
    fn futex_wait(&self, word: &AtomicU32, expected: u32, timeout_ns: Option<u64>) -> WaitResult {
        let ts = timeout_ns.map(|ns| libc::timespec {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_nsec: (ns % 1_000_000_000) as i64,
        });
        match trap::interruptible(|| futex::wait(word, expected, ts.as_ref())) {
            Ok(()) => WaitResult::Woken,
            Err(libc::EAGAIN) => WaitResult::ValueChanged,
            Err(libc::ETIMEDOUT) => WaitResult::TimedOut,
            Err(_) => WaitResult::Woken,
        }
    }

    fn futex_wake(&self, word: &AtomicU32, count: u32) -> u32 {
        futex::wake(word, count)
    }

    fn copy_from_user(&self, dst: &mut [u8], src: usize) -> Result<(), Fault> {
        // SAFETY: `dst` is a valid kernel buffer; faults on the user side are recovered.
        unsafe { uaccess::copy(dst.as_mut_ptr(), src as *const u8, dst.len()) }
    }

    fn copy_to_user(&self, dst: usize, src: &[u8]) -> Result<(), Fault> {
        // SAFETY: `src` is a valid kernel buffer; faults on the user side are recovered.
        unsafe { uaccess::copy(dst as *mut u8, src.as_ptr(), src.len()) }
    }

    fn zero_user(&self, dst: usize, len: usize) -> Result<(), Fault> {
        uaccess::zero(dst, len)
    }

    fn cmpxchg_user_u32(&self, addr: usize, expected: u32, new: u32) -> Result<u32, Fault> {
        uaccess::cmpxchg_u32(addr, expected, new)
    }

    fn map(
        &self,
        placement: Placement,
        len: usize,
        prot: Prot,
        backing: Backing,
    ) -> Result<usize, Errno> {
        let (addr, extra) = match placement {
            Placement::Hint(a) => (a, 0),
            Placement::Fixed(a) => (a, libc::MAP_FIXED),
            Placement::FixedNoReplace(a) => (a, libc::MAP_FIXED_NOREPLACE),
        };
        let (sharing, fd, offset) = match backing {
            Backing::Private => (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0),
            Backing::Shared(offset) => (libc::MAP_SHARED, shared_memory::fd(), offset),
            Backing::HostFile(fd, offset) => (libc::MAP_SHARED, fd.0, offset),
        };
        let offset = i64::try_from(offset).map_err(|_| Errno::EINVAL)?;
        let flags = sharing | libc::MAP_NORESERVE | extra;
        // SAFETY: the kernel only maps user ranges it owns (its VMA bookkeeping checked them).
        let ptr = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                len,
                prot as i32,
                flags,
                fd,
                offset,
            )
        };
        let got = mmap_result(ptr)?;
        if extra == libc::MAP_FIXED_NOREPLACE && got != addr {
            // Kernels before 4.17 ignore the flag and treat it as a hint.
            // SAFETY: unmapping the mapping just created.
            unsafe { libc::munmap(ptr, len) };
            return Err(Errno::EEXIST);
        }
        Ok(got)
    }

    fn populate(&self, addr: usize, len: usize) {
        /// Linux 5.14's `MADV_POPULATE_WRITE` (older hosts refuse it: the pages then fault in).
        const MADV_POPULATE_WRITE: i32 = 23;
        // SAFETY: advice on the kernel's own user range; it changes no contents.
        unsafe { libc::madvise(addr as *mut libc::c_void, len, MADV_POPULATE_WRITE) };
    }

    fn unmap(&self, addr: usize, len: usize) -> Result<(), Errno> {
        // SAFETY: the kernel only unmaps user ranges of the current process.
        unit(unsafe { libc::munmap(addr as *mut libc::c_void, len) })
    }

    fn protect(&self, addr: usize, len: usize, prot: Prot) -> Result<(), Errno> {
        // SAFETY: as for unmap; only user mappings are changed.
        unit(unsafe { libc::mprotect(addr as *mut libc::c_void, len, prot as i32) })
    }

    fn remap(
        &self,
        old: usize,
        old_len: usize,
        new_len: usize,
        flags: u32,
        new: usize,
    ) -> Result<usize, Errno> {
        // SAFETY: the kernel checked that both ranges are user memory of the current process.
        let ptr = unsafe {
            libc::mremap(
                old as *mut libc::c_void,
                old_len,
                new_len,
                flags as i32,
                new,
            )
        };
        mmap_result(ptr)
    }

    fn sync_mapping(&self, addr: usize, len: usize, flags: u32) -> Result<(), Errno> {
        // SAFETY: the kernel checked that the range is user memory of the current process.
        unit(unsafe { libc::msync(addr as *mut libc::c_void, len, flags as i32) })
    }

    fn shared_memory_size(&self) -> u64 {
        shared_memory::SIZE
    }

    fn shared_read(&self, offset: u64, buf: &mut [u8]) -> Result<(), Errno> {
        shared_memory::read(offset, buf)
    }

    fn shared_write(&self, offset: u64, buf: &[u8]) -> Result<(), Errno> {
        shared_memory::write(offset, buf)
    }

    fn shared_fill_from_host(
        &self,
        offset: u64,
        fd: HostFd,
        file_offset: u64,
        len: usize,
    ) -> Result<usize, Errno> {
        shared_memory::fill_from(offset, fd.0, file_offset, len)
    }

    fn shared_discard(&self, offset: u64, len: u64) {
        shared_memory::discard(offset, len)
    }

    fn advise(&self, addr: usize, len: usize, advice: u32) -> Result<(), Errno> {
        // SAFETY: advice on user memory of the current process.
        unit(unsafe { libc::madvise(addr as *mut libc::c_void, len, advice as i32) })
    }

    fn residency(&self, addr: usize, out: &mut [u8]) -> Result<(), Errno> {
        let len = out.len() * veil_abi::PAGE_SIZE;
        // SAFETY: `out` has one byte per page of the range.
        unit(unsafe { libc::mincore(addr as *mut libc::c_void, len, out.as_mut_ptr()) })
    }

    fn fp_state(&self) -> Vec<u8> {
        trap::current_block()
            .map(|b| b.fp_state())
            .unwrap_or_default()
    }

    fn set_fp_state(&self, data: &[u8]) -> Result<(), Errno> {
        trap::current_block()
            .ok_or(Errno::EFAULT)?
            .set_fp_state(data)
    }

    fn set_thread_data(&self, data: usize) {
        if let Some(block) = trap::current_block() {
            block.set_thread_data(data);
        }
    }

    fn thread_data(&self) -> usize {
        trap::current_block().map_or(0, |b| b.thread_data())
    }

    fn hold_mappings(&self, f: &mut dyn FnMut()) {
        trap::outside_forks(f);
    }

    fn fast_syscall_entry(&self) -> Option<usize> {
        Some(trap::fast_entry_address())
    }

    fn enter_user(&self, regs: &UserRegs) -> ! {
        match trap::current_block() {
            Some(block) => block.enter_user(regs),
            None => panic!("enter_user on a thread without a trap block"),
        }
    }

    fn leave_trap(&self, regs: &UserRegs) -> ! {
        match trap::current_block() {
            Some(block) => block.leave_trap(regs),
            None => panic!("leave_trap on a thread without a trap block"),
        }
    }

    fn spawn_thread(
        &self,
        regs: UserRegs,
        thread_data: usize,
        beside_caller: bool,
    ) -> Result<(), Errno> {
        threads::spawn_libos_thread(regs, thread_data, beside_caller)
    }

    fn current_cpu(&self) -> u32 {
        threads::current_cpu()
    }

    fn pin_thread(&self, host_thread: u64, cpu: u32) -> bool {
        threads::pin(host_thread as u32 as i32, cpu)
    }

    fn unpin_current_thread(&self) {
        threads::unpin();
    }

    fn spawn_kernel_thread(&self, entry: fn(usize), arg: usize) -> Result<(), Errno> {
        threads::spawn_kernel_thread(entry, arg)
    }

    fn current_host_thread(&self) -> u64 {
        trap::current_host_thread()
    }

    fn thread_cpu_time(&self, host_thread: u64) -> Result<HostCpuTime, Errno> {
        let (pid, tid) = ((host_thread >> 32) as i32, host_thread as u32 as i32);
        if pid != trap::process_id() || tid <= 0 {
            return Err(Errno::ESRCH);
        }
        // The host's per-thread CPU clocks (`MAKE_THREAD_CPUCLOCK`): the clock id holds the
        // complement of the tid, the per-thread bit and which clock; the host only lets a
        // process read the clocks of its own threads.
        let read = |which: i32| -> Result<u64, Errno> {
            let clock = libc::c_long::from(!tid << 3 | CPUCLOCK_PERTHREAD | which);
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // A direct host call: the vDSO serves no CPU-time clock, it would only make the
            // same call after faulting its code into a fresh fork's copy.
            // SAFETY: clock_gettime writes into a local timespec.
            let status = unsafe { libc::syscall(libc::SYS_clock_gettime, clock, &mut ts) };
            unit(status as libc::c_int)?;
            Ok((ts.tv_sec.max(0) as u64)
                .saturating_mul(1_000_000_000)
                .saturating_add(ts.tv_nsec.max(0) as u64))
        };
        let total_ns = read(CPUCLOCK_SCHED)?;
        let user_ns = read(CPUCLOCK_VIRT)?;
        let system_ns = read(CPUCLOCK_PROF)?.saturating_sub(user_ns);
        Ok(HostCpuTime {
            total_ns,
            user_ns,
            system_ns,
        })
    }

    fn interrupt_thread(&self, host_thread: u64) {
        trap::interrupt(host_thread);
    }

    fn take_host_signals(&self) -> u64 {
        trap::current_block().map_or(0, |b| b.take_deferred())
    }

    fn first_process_stopped(&self, stopped: bool) {
        trap::signal_supervisor(if stopped {
            libc::SIGSTOP
        } else {
            libc::SIGCONT
        });
    }

    fn exit_thread(&self) -> ! {
        threads::exit_libos_thread()
    }

    fn exit_address_space(&self, status: i32) -> ! {
        // SAFETY: ends the host process immediately; kernel state lives in the shared heap.
        unsafe { libc::_exit(status) }
    }

    fn address_space_id(&self) -> u64 {
        trap::process_id() as u64
    }

    fn fork_on_return(&self, child_thread: usize, objects: usize) {
        if let Some(block) = trap::current_block() {
            block.on_return(trap::OnReturn::Fork {
                child: child_thread,
                objects,
            });
        }
    }

    fn prepare_clean_spaces(&self, handler: &'static dyn TrapHandler) {
        if let Err(e) = crate::zygote::start(handler) {
            log::warn!("no clean address spaces (programs will start in copies): {e}");
        }
    }

    fn move_on_return(&self, thread: usize, carried: &[HostFd]) {
        if let Some(block) = trap::current_block() {
            block.on_return(trap::OnReturn::Move {
                thread,
                carried: carried.iter().map(|fd| fd.0).collect(),
            });
        }
    }

    fn address_space_is_clean(&self) -> bool {
        crate::zygote::is_clean()
    }

    fn address_space_alive(&self, id: u64) -> bool {
        let Ok(pid) = i32::try_from(id) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid, 0) == 0 }
    }

    fn kill_address_space(&self, id: u64) {
        if let Ok(pid) = i32::try_from(id)
            && pid > 1
        {
            // SAFETY: kill has no memory effects.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }

    fn clock_gettime(&self, clock: ClockId) -> Result<timespec, Errno> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: writes into a local timespec.
        unit(unsafe { libc::clock_gettime(clock as i32, &mut ts) })?;
        Ok(host_timespec(ts))
    }

    fn clock_getres(&self, clock: ClockId) -> Result<timespec, Errno> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: writes into a local timespec.
        unit(unsafe { libc::clock_getres(clock as i32, &mut ts) })?;
        Ok(host_timespec(ts))
    }

    fn sleep(&self, ns: u64) -> Result<(), Errno> {
        let ts = libc::timespec {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_nsec: (ns % 1_000_000_000) as i64,
        };
        // SAFETY: reads a local timespec; clock_nanosleep returns the error number itself.
        let r = trap::interruptible(|| unsafe {
            libc::clock_nanosleep(libc::CLOCK_MONOTONIC, 0, &ts, std::ptr::null_mut())
        });
        if r == 0 { Ok(()) } else { Err(Errno(r as u16)) }
    }

    fn random(&self, buf: &mut [u8]) {
        let mut filled = 0;
        while filled < buf.len() {
            let rest = &mut buf[filled..];
            // SAFETY: `rest` is valid for writes of its length.
            let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
            if n > 0 {
                filled += n as usize;
            }
        }
    }

    fn vdso_base(&self) -> Option<usize> {
        let base = host_aux(libc::AT_SYSINFO_EHDR) as usize;
        (base != 0).then_some(base)
    }

    fn host_aux(&self, key: u64) -> u64 {
        host_aux(key)
    }

    fn cpu_count(&self) -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    fn yield_now(&self) {
        std::thread::yield_now();
    }

    fn log_write(&self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            // SAFETY: `rest` is a valid buffer.
            let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
            if n <= 0 {
                break;
            }
            rest = &rest[n as usize..];
        }
    }

    fn host(&self) -> &dyn HostCalls {
        &SimHost
    }
}
