//! The one syscall table: every Linux x86-64 syscall number with its name, argument kinds (for
//! `--strace`), and handler. Numbers without a handler fail with ENOSYS and one log line.
//! `docs/syscalls.md` is generated from this table (see the `syscall_doc` test).
//!
//! Argument kinds: `d` signed, `u` unsigned, `x` hex, `o` octal mode, `f` fd or dirfd, `s` path
//! string, `p` pointer, `b` buffer the program passes in (length in the next argument),
//! `B` buffer the kernel fills (length = the return value).

use super::*;

/// How completely Veil implements a syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Implemented as Linux specifies it.
    Full,
    /// Implemented, with the restriction described.
    Partial(&'static str),
    /// Fails with ENOSYS.
    Unsupported,
}

/// One row of the table.
pub struct Entry {
    pub nr: u64,
    pub name: &'static str,
    pub args: &'static str,
    pub handler: Option<Handler>,
    pub support: Support,
}

macro_rules! sys {
    ($nr:literal, $name:ident, $args:literal, $handler:path) => {
        Entry {
            nr: $nr,
            name: stringify!($name),
            args: $args,
            handler: Some($handler),
            support: Support::Full,
        }
    };
    ($nr:literal, $name:ident, $args:literal, $handler:path, $note:literal) => {
        Entry {
            nr: $nr,
            name: stringify!($name),
            args: $args,
            handler: Some($handler),
            support: Support::Partial($note),
        }
    };
}

macro_rules! nosys {
    ($nr:literal, $name:ident) => {
        Entry {
            nr: $nr,
            name: stringify!($name),
            args: "xxxxxx",
            handler: None,
            support: Support::Unsupported,
        }
    };
}

/// Every x86-64 syscall, sorted by number.
pub static TABLE: &[Entry] = &[
    sys!(0, read, "fBu", io::sys_read),
    sys!(1, write, "fbu", io::sys_write),
    sys!(
        2,
        open,
        "sxo",
        open::sys_open,
        "O_TMPFILE on RAM file systems only (EOPNOTSUPP elsewhere)"
    ),
    sys!(3, close, "f", open::sys_close),
    sys!(4, stat, "sp", stat::sys_stat),
    sys!(5, fstat, "fp", stat::sys_fstat),
    sys!(6, lstat, "sp", stat::sys_lstat),
    sys!(7, poll, "pud", poll::sys_poll),
    sys!(8, lseek, "fdd", io::sys_lseek),
    sys!(
        9,
        mmap,
        "pxxxfx",
        mmap::sys_mmap,
        "file mappings are private copies; writable MAP_SHARED file mappings fail with ENODEV; no MAP_32BIT"
    ),
    sys!(10, mprotect, "pxx", mmap::sys_mprotect),
    sys!(11, munmap, "px", mmap::sys_munmap),
    sys!(12, brk, "p", mmap::sys_brk),
    sys!(
        13,
        rt_sigaction,
        "dppu",
        sigaction::sys_rt_sigaction,
        "full dispositions and flags; no SIGSTOP/SIGCONT job control yet"
    ),
    sys!(14, rt_sigprocmask, "dppu", sigaction::sys_rt_sigprocmask),
    sys!(15, rt_sigreturn, "", sigaction::sys_rt_sigreturn),
    sys!(16, ioctl, "fxx", fd::sys_ioctl, "FIOASYNC sends no SIGIO"),
    sys!(17, pread64, "fBud", io::sys_pread64),
    sys!(18, pwrite64, "fbud", io::sys_pwrite64),
    sys!(19, readv, "fpu", io::sys_readv),
    sys!(20, writev, "fpu", io::sys_writev),
    sys!(21, access, "so", attr::sys_access),
    sys!(22, pipe, "p", pipe::sys_pipe),
    sys!(23, select, "dpppp", poll::sys_select),
    sys!(24, sched_yield, "", resource::sys_sched_yield),
    sys!(
        25,
        mremap,
        "pxxxp",
        mmap::sys_mremap,
        "no MREMAP_DONTUNMAP, no old_size 0"
    ),
    sys!(26, msync, "pxx", mmap::sys_msync),
    sys!(27, mincore, "pxp", mmap::sys_mincore),
    sys!(
        28,
        madvise,
        "pxd",
        mmap::sys_madvise,
        "MADV_DONTNEED on a private file mapping zeroes it instead of restoring file contents"
    ),
    sys!(29, shmget, "xux", shm::sys_shmget),
    sys!(30, shmat, "dpx", shm::sys_shmat),
    sys!(31, shmctl, "ddp", shm::sys_shmctl),
    sys!(32, dup, "f", fd::sys_dup),
    sys!(33, dup2, "ff", fd::sys_dup2),
    sys!(34, pause, "", sigaction::sys_pause),
    sys!(35, nanosleep, "pp", time::sys_nanosleep),
    sys!(
        36,
        getitimer,
        "dp",
        timer::sys_getitimer,
        "ITIMER_REAL only (no CPU-time timers)"
    ),
    sys!(37, alarm, "u", timer::sys_alarm),
    sys!(
        38,
        setitimer,
        "dpp",
        timer::sys_setitimer,
        "ITIMER_REAL only (no CPU-time timers)"
    ),
    sys!(39, getpid, "", info::sys_getpid),
    sys!(40, sendfile, "ffpu", io::sys_sendfile),
    nosys!(41, socket),
    nosys!(42, connect),
    nosys!(43, accept),
    nosys!(44, sendto),
    nosys!(45, recvfrom),
    nosys!(46, sendmsg),
    nosys!(47, recvmsg),
    nosys!(48, shutdown),
    nosys!(49, bind),
    nosys!(50, listen),
    nosys!(51, getsockname),
    nosys!(52, getpeername),
    nosys!(53, socketpair),
    nosys!(54, setsockopt),
    nosys!(55, getsockopt),
    sys!(
        56,
        clone,
        "xpppx",
        clone::sys_clone,
        "no sharing of files, fs state or handlers with a child in another address space"
    ),
    sys!(57, fork, "", clone::sys_fork),
    sys!(58, vfork, "", clone::sys_vfork),
    sys!(
        59,
        execve,
        "spp",
        task::sys_execve,
        "the calling thread keeps its own thread id"
    ),
    sys!(
        60,
        exit,
        "d",
        task::sys_exit,
        "ends the calling thread only; the last thread's exit ends the process with its status"
    ),
    sys!(
        61,
        wait4,
        "dpxp",
        wait::sys_wait4,
        "rusage has the CPU times only"
    ),
    sys!(62, kill, "dd", kill::sys_kill),
    sys!(63, uname, "p", info::sys_uname),
    sys!(64, semget, "xux", sem::sys_semget),
    sys!(65, semop, "dpu", sem::sys_semop),
    sys!(66, semctl, "dddx", sem::sys_semctl),
    sys!(67, shmdt, "p", shm::sys_shmdt),
    sys!(68, msgget, "xx", msg::sys_msgget),
    sys!(69, msgsnd, "dpux", msg::sys_msgsnd),
    sys!(70, msgrcv, "dpudx", msg::sys_msgrcv, "no MSG_COPY"),
    sys!(71, msgctl, "ddp", msg::sys_msgctl),
    sys!(
        72,
        fcntl,
        "fdx",
        fd::sys_fcntl,
        "record and OFD locks between descriptions of one process; no seal commands; owner/signal/lease/notify commands EINVAL"
    ),
    sys!(73, flock, "fx", fd::sys_flock),
    sys!(74, fsync, "f", attr::sys_fsync),
    sys!(75, fdatasync, "f", attr::sys_fdatasync),
    sys!(76, truncate, "sd", attr::sys_truncate),
    sys!(77, ftruncate, "fd", attr::sys_ftruncate),
    nosys!(78, getdents),
    sys!(79, getcwd, "pu", namespace::sys_getcwd),
    sys!(80, chdir, "s", namespace::sys_chdir),
    sys!(81, fchdir, "f", namespace::sys_fchdir),
    sys!(82, rename, "ss", namespace::sys_rename),
    sys!(83, mkdir, "so", namespace::sys_mkdir),
    sys!(84, rmdir, "s", namespace::sys_rmdir),
    sys!(85, creat, "so", open::sys_creat),
    sys!(86, link, "ss", namespace::sys_link),
    sys!(87, unlink, "s", namespace::sys_unlink),
    sys!(88, symlink, "ss", namespace::sys_symlink),
    sys!(89, readlink, "spu", namespace::sys_readlink),
    sys!(90, chmod, "so", attr::sys_chmod),
    sys!(91, fchmod, "fo", attr::sys_fchmod),
    sys!(92, chown, "sdd", attr::sys_chown),
    sys!(93, fchown, "fdd", attr::sys_fchown),
    sys!(94, lchown, "sdd", attr::sys_lchown),
    sys!(95, umask, "o", attr::sys_umask),
    sys!(96, gettimeofday, "pp", time::sys_gettimeofday),
    sys!(97, getrlimit, "dp", resource::sys_getrlimit),
    sys!(
        98,
        getrusage,
        "dp",
        resource::sys_getrusage,
        "CPU times, and the mapped size as ru_maxrss; other fields zero"
    ),
    sys!(99, sysinfo, "p", info::sys_sysinfo),
    sys!(100, times, "p", resource::sys_times),
    nosys!(101, ptrace),
    sys!(102, getuid, "", info::sys_getuid),
    nosys!(103, syslog),
    sys!(104, getgid, "", info::sys_getgid),
    sys!(
        105,
        setuid,
        "d",
        info::sys_setuid,
        "only the instance user's own ids (EPERM otherwise)"
    ),
    sys!(
        106,
        setgid,
        "d",
        info::sys_setgid,
        "only the instance user's own ids (EPERM otherwise)"
    ),
    sys!(107, geteuid, "", info::sys_geteuid),
    sys!(108, getegid, "", info::sys_getegid),
    sys!(
        109,
        setpgid,
        "dd",
        info::sys_setpgid,
        "no EACCES after a child's exec"
    ),
    sys!(110, getppid, "", info::sys_getppid),
    sys!(111, getpgrp, "", info::sys_getpgrp),
    sys!(112, setsid, "", info::sys_setsid),
    sys!(
        113,
        setreuid,
        "dd",
        info::sys_setreuid,
        "only the instance user's own ids (EPERM otherwise)"
    ),
    sys!(
        114,
        setregid,
        "dd",
        info::sys_setregid,
        "only the instance user's own ids (EPERM otherwise)"
    ),
    sys!(115, getgroups, "dp", info::sys_getgroups),
    sys!(
        116,
        setgroups,
        "dp",
        info::sys_setgroups,
        "only the instance user's group (EPERM otherwise)"
    ),
    sys!(
        117,
        setresuid,
        "ddd",
        info::sys_setresuid,
        "only the instance user's own ids (EPERM otherwise)"
    ),
    sys!(118, getresuid, "ppp", info::sys_getresuid),
    sys!(
        119,
        setresgid,
        "ddd",
        info::sys_setresgid,
        "only the instance user's own ids (EPERM otherwise)"
    ),
    sys!(120, getresgid, "ppp", info::sys_getresgid),
    sys!(121, getpgid, "d", info::sys_getpgid),
    sys!(122, setfsuid, "d", info::sys_setfsuid),
    sys!(123, setfsgid, "d", info::sys_setfsgid),
    sys!(124, getsid, "d", info::sys_getsid),
    nosys!(125, capget),
    nosys!(126, capset),
    sys!(127, rt_sigpending, "pu", sigaction::sys_rt_sigpending),
    sys!(128, rt_sigtimedwait, "pppu", sigaction::sys_rt_sigtimedwait),
    sys!(129, rt_sigqueueinfo, "ddp", kill::sys_rt_sigqueueinfo),
    sys!(130, rt_sigsuspend, "pu", sigaction::sys_rt_sigsuspend),
    sys!(131, sigaltstack, "pp", sigaction::sys_sigaltstack),
    sys!(132, utime, "sp", attr::sys_utime),
    sys!(133, mknod, "sox", namespace::sys_mknod),
    nosys!(134, uselib),
    sys!(
        135,
        personality,
        "x",
        info::sys_personality,
        "PER_LINUX only"
    ),
    nosys!(136, ustat),
    sys!(137, statfs, "sp", stat::sys_statfs),
    sys!(138, fstatfs, "fp", stat::sys_fstatfs),
    nosys!(139, sysfs),
    sys!(140, getpriority, "dd", resource::sys_getpriority),
    sys!(141, setpriority, "ddd", resource::sys_setpriority),
    sys!(142, sched_setparam, "dp", resource::sys_sched_setparam),
    sys!(143, sched_getparam, "dp", resource::sys_sched_getparam),
    sys!(
        144,
        sched_setscheduler,
        "ddp",
        resource::sys_sched_setscheduler,
        "SCHED_FIFO/RR refused (EPERM)"
    ),
    sys!(
        145,
        sched_getscheduler,
        "d",
        resource::sys_sched_getscheduler
    ),
    sys!(
        146,
        sched_get_priority_max,
        "d",
        resource::sys_sched_get_priority_max
    ),
    sys!(
        147,
        sched_get_priority_min,
        "d",
        resource::sys_sched_get_priority_min
    ),
    sys!(
        148,
        sched_rr_get_interval,
        "dp",
        resource::sys_sched_rr_get_interval
    ),
    nosys!(149, mlock),
    nosys!(150, munlock),
    nosys!(151, mlockall),
    nosys!(152, munlockall),
    nosys!(153, vhangup),
    nosys!(154, modify_ldt),
    nosys!(155, pivot_root),
    nosys!(156, _sysctl),
    sys!(
        157,
        prctl,
        "dxxxx",
        task::sys_prctl,
        "common options (name, dumpable, no_new_privs, capabilities, subreaper, ...); others EINVAL"
    ),
    sys!(
        158,
        arch_prctl,
        "xx",
        task::sys_arch_prctl,
        "FS/GS base and CPUID query; no CPUID faulting"
    ),
    nosys!(159, adjtimex),
    sys!(160, setrlimit, "dp", resource::sys_setrlimit),
    nosys!(161, chroot),
    sys!(162, sync, "", attr::sys_sync),
    nosys!(163, acct),
    nosys!(164, settimeofday),
    nosys!(165, mount),
    nosys!(166, umount2),
    nosys!(167, swapon),
    nosys!(168, swapoff),
    nosys!(169, reboot),
    sys!(170, sethostname, "su", info::sys_sethostname),
    sys!(171, setdomainname, "su", info::sys_setdomainname),
    nosys!(172, iopl),
    nosys!(173, ioperm),
    nosys!(174, create_module),
    nosys!(175, init_module),
    nosys!(176, delete_module),
    nosys!(177, get_kernel_syms),
    nosys!(178, query_module),
    nosys!(179, quotactl),
    nosys!(180, nfsservctl),
    nosys!(181, getpmsg),
    nosys!(182, putpmsg),
    nosys!(183, afs_syscall),
    nosys!(184, tuxcall),
    nosys!(185, security),
    sys!(186, gettid, "", info::sys_gettid),
    sys!(187, readahead, "fdd", attr::sys_readahead),
    sys!(
        188,
        setxattr,
        "ssbux",
        xattr::sys_setxattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(
        189,
        lsetxattr,
        "ssbux",
        xattr::sys_lsetxattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(
        190,
        fsetxattr,
        "fsbux",
        xattr::sys_fsetxattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(
        191,
        getxattr,
        "sspu",
        xattr::sys_getxattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(
        192,
        lgetxattr,
        "sspu",
        xattr::sys_lgetxattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(
        193,
        fgetxattr,
        "fspu",
        xattr::sys_fgetxattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(
        194,
        listxattr,
        "spu",
        xattr::sys_listxattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(
        195,
        llistxattr,
        "spu",
        xattr::sys_llistxattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(
        196,
        flistxattr,
        "fpu",
        xattr::sys_flistxattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(
        197,
        removexattr,
        "ss",
        xattr::sys_removexattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(
        198,
        lremovexattr,
        "ss",
        xattr::sys_lremovexattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(
        199,
        fremovexattr,
        "fs",
        xattr::sys_fremovexattr,
        "no extended attributes: EOPNOTSUPP after the path or fd is checked"
    ),
    sys!(200, tkill, "dd", kill::sys_tkill),
    sys!(201, time, "p", time::sys_time),
    sys!(
        202,
        futex,
        "pxuppx",
        futex::sys_futex,
        "no priority-inheritance operations"
    ),
    sys!(
        203,
        sched_setaffinity,
        "dup",
        resource::sys_sched_setaffinity,
        "recorded, not applied on the host"
    ),
    sys!(
        204,
        sched_getaffinity,
        "dup",
        resource::sys_sched_getaffinity
    ),
    nosys!(205, set_thread_area),
    nosys!(206, io_setup),
    nosys!(207, io_destroy),
    nosys!(208, io_getevents),
    nosys!(209, io_submit),
    nosys!(210, io_cancel),
    nosys!(211, get_thread_area),
    nosys!(212, lookup_dcookie),
    sys!(213, epoll_create, "d", epoll::sys_epoll_create),
    nosys!(214, epoll_ctl_old),
    nosys!(215, epoll_wait_old),
    nosys!(216, remap_file_pages),
    sys!(217, getdents64, "fpu", namespace::sys_getdents64),
    sys!(218, set_tid_address, "p", task::sys_set_tid_address),
    nosys!(219, restart_syscall),
    sys!(220, semtimedop, "dpup", sem::sys_semtimedop),
    sys!(221, fadvise64, "fddd", attr::sys_fadvise64),
    sys!(
        222,
        timer_create,
        "dpp",
        timer::sys_timer_create,
        "SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID; no CPU-time clocks"
    ),
    sys!(223, timer_settime, "dxpp", timer::sys_timer_settime),
    sys!(224, timer_gettime, "dp", timer::sys_timer_gettime),
    sys!(225, timer_getoverrun, "d", timer::sys_timer_getoverrun),
    sys!(226, timer_delete, "d", timer::sys_timer_delete),
    sys!(
        227,
        clock_settime,
        "dp",
        time::sys_clock_settime,
        "CLOCK_REALTIME cannot be set from an instance (EPERM)"
    ),
    sys!(228, clock_gettime, "dp", time::sys_clock_gettime),
    sys!(229, clock_getres, "dp", time::sys_clock_getres),
    sys!(230, clock_nanosleep, "dxpp", time::sys_clock_nanosleep),
    sys!(231, exit_group, "d", task::sys_exit_group),
    sys!(232, epoll_wait, "fpdd", epoll::sys_epoll_wait),
    sys!(233, epoll_ctl, "fdfp", epoll::sys_epoll_ctl),
    sys!(234, tgkill, "ddd", kill::sys_tgkill),
    sys!(235, utimes, "sp", attr::sys_utimes),
    nosys!(236, vserver),
    nosys!(237, mbind),
    nosys!(238, set_mempolicy),
    nosys!(239, get_mempolicy),
    sys!(240, mq_open, "sxop", mqueue::sys_mq_open),
    sys!(241, mq_unlink, "s", mqueue::sys_mq_unlink),
    sys!(242, mq_timedsend, "dpuup", mqueue::sys_mq_timedsend),
    sys!(243, mq_timedreceive, "dpupp", mqueue::sys_mq_timedreceive),
    sys!(
        244,
        mq_notify,
        "dp",
        mqueue::sys_mq_notify,
        "no SIGEV_THREAD"
    ),
    sys!(245, mq_getsetattr, "dpp", mqueue::sys_mq_getsetattr),
    nosys!(246, kexec_load),
    sys!(247, waitid, "ddpxp", wait::sys_waitid),
    nosys!(248, add_key),
    nosys!(249, request_key),
    nosys!(250, keyctl),
    nosys!(251, ioprio_set),
    nosys!(252, ioprio_get),
    nosys!(253, inotify_init),
    nosys!(254, inotify_add_watch),
    nosys!(255, inotify_rm_watch),
    nosys!(256, migrate_pages),
    sys!(
        257,
        openat,
        "fsxo",
        open::sys_openat,
        "O_TMPFILE on RAM file systems only (EOPNOTSUPP elsewhere)"
    ),
    sys!(258, mkdirat, "fso", namespace::sys_mkdirat),
    sys!(259, mknodat, "fsox", namespace::sys_mknodat),
    sys!(260, fchownat, "fsddx", attr::sys_fchownat),
    sys!(261, futimesat, "fsp", attr::sys_futimesat),
    sys!(262, newfstatat, "fspx", stat::sys_newfstatat),
    sys!(263, unlinkat, "fsx", namespace::sys_unlinkat),
    sys!(264, renameat, "fsfs", namespace::sys_renameat),
    sys!(265, linkat, "fsfsx", namespace::sys_linkat),
    sys!(266, symlinkat, "sfs", namespace::sys_symlinkat),
    sys!(267, readlinkat, "fspu", namespace::sys_readlinkat),
    sys!(268, fchmodat, "fso", attr::sys_fchmodat),
    sys!(269, faccessat, "fso", attr::sys_faccessat),
    sys!(
        270,
        pselect6,
        "dppppp",
        poll::sys_pselect6,
        "the temporary mask is restored when the call returns, so a handler runs with the caller's own mask"
    ),
    sys!(
        271,
        ppoll,
        "puppu",
        poll::sys_ppoll,
        "the temporary mask is restored when the call returns, so a handler runs with the caller's own mask"
    ),
    nosys!(272, unshare),
    sys!(273, set_robust_list, "pu", task::sys_set_robust_list),
    sys!(274, get_robust_list, "dpp", task::sys_get_robust_list),
    nosys!(275, splice),
    nosys!(276, tee),
    sys!(277, sync_file_range, "fddx", attr::sys_sync_file_range),
    nosys!(278, vmsplice),
    nosys!(279, move_pages),
    sys!(280, utimensat, "fspx", attr::sys_utimensat),
    sys!(
        281,
        epoll_pwait,
        "fpddpu",
        epoll::sys_epoll_pwait,
        "the temporary mask is restored when the call returns, so a handler runs with the caller's own mask"
    ),
    sys!(
        282,
        signalfd,
        "fpu",
        signalfd::sys_signalfd,
        "reads the calling thread's pending signals"
    ),
    sys!(
        283,
        timerfd_create,
        "dx",
        timerfd::sys_timerfd_create,
        "alarm clocks do not wake a suspended host"
    ),
    sys!(284, eventfd, "u", eventfd::sys_eventfd),
    sys!(285, fallocate, "fxdd", attr::sys_fallocate),
    sys!(
        286,
        timerfd_settime,
        "fxpp",
        timerfd::sys_timerfd_settime,
        "TFD_TIMER_CANCEL_ON_SET is accepted and never cancels (the instance clock is never set)"
    ),
    sys!(287, timerfd_gettime, "fp", timerfd::sys_timerfd_gettime),
    nosys!(288, accept4),
    sys!(
        289,
        signalfd4,
        "fpux",
        signalfd::sys_signalfd4,
        "reads the calling thread's pending signals"
    ),
    sys!(290, eventfd2, "ux", eventfd::sys_eventfd2),
    sys!(291, epoll_create1, "x", epoll::sys_epoll_create1),
    sys!(292, dup3, "ffx", fd::sys_dup3),
    sys!(293, pipe2, "px", pipe::sys_pipe2),
    nosys!(294, inotify_init1),
    sys!(295, preadv, "fpuuu", io::sys_preadv),
    sys!(296, pwritev, "fpuuu", io::sys_pwritev),
    sys!(297, rt_tgsigqueueinfo, "dddp", kill::sys_rt_tgsigqueueinfo),
    nosys!(298, perf_event_open),
    nosys!(299, recvmmsg),
    nosys!(300, fanotify_init),
    nosys!(301, fanotify_mark),
    sys!(302, prlimit64, "ddpp", resource::sys_prlimit64),
    nosys!(303, name_to_handle_at),
    nosys!(304, open_by_handle_at),
    nosys!(305, clock_adjtime),
    sys!(306, syncfs, "f", attr::sys_syncfs),
    nosys!(307, sendmmsg),
    nosys!(308, setns),
    sys!(309, getcpu, "ppp", resource::sys_getcpu, "always CPU 0"),
    nosys!(310, process_vm_readv),
    nosys!(311, process_vm_writev),
    nosys!(312, kcmp),
    nosys!(313, finit_module),
    nosys!(314, sched_setattr),
    nosys!(315, sched_getattr),
    sys!(
        316,
        renameat2,
        "fsfsx",
        namespace::sys_renameat2,
        "no RENAME_WHITEOUT"
    ),
    nosys!(317, seccomp),
    sys!(318, getrandom, "pux", info::sys_getrandom),
    sys!(
        319,
        memfd_create,
        "sx",
        memfd::sys_memfd_create,
        "no MFD_HUGETLB"
    ),
    nosys!(320, kexec_file_load),
    nosys!(321, bpf),
    sys!(
        322,
        execveat,
        "fsppx",
        task::sys_execveat,
        "the calling thread keeps its own thread id"
    ),
    nosys!(323, userfaultfd),
    nosys!(324, membarrier),
    nosys!(325, mlock2),
    sys!(326, copy_file_range, "fpfpux", io::sys_copy_file_range),
    sys!(327, preadv2, "fpuuux", io::sys_preadv2),
    sys!(328, pwritev2, "fpuuux", io::sys_pwritev2),
    nosys!(329, pkey_mprotect),
    nosys!(330, pkey_alloc),
    nosys!(331, pkey_free),
    sys!(
        332,
        statx,
        "fsxxp",
        stat::sys_statx,
        "basic stats only: no birth time, mount id 0"
    ),
    nosys!(333, io_pgetevents),
    sys!(
        334,
        rseq,
        "pudx",
        task::sys_rseq,
        "returns ENOSYS by design; glibc and others run without restartable sequences"
    ),
    sys!(424, pidfd_send_signal, "fdpx", pidfd::sys_pidfd_send_signal),
    nosys!(425, io_uring_setup),
    nosys!(426, io_uring_enter),
    nosys!(427, io_uring_register),
    nosys!(428, open_tree),
    nosys!(429, move_mount),
    nosys!(430, fsopen),
    nosys!(431, fsconfig),
    nosys!(432, fsmount),
    nosys!(433, fspick),
    sys!(434, pidfd_open, "dx", pidfd::sys_pidfd_open),
    sys!(
        435,
        clone3,
        "pu",
        clone::sys_clone3,
        "no set_tid; no sharing of files, fs state or handlers with a child in another address space"
    ),
    sys!(436, close_range, "uux", open::sys_close_range),
    nosys!(437, openat2),
    nosys!(438, pidfd_getfd),
    sys!(439, faccessat2, "fsox", attr::sys_faccessat2),
    nosys!(440, process_madvise),
    sys!(
        441,
        epoll_pwait2,
        "fpdppu",
        epoll::sys_epoll_pwait2,
        "the temporary mask is restored when the call returns, so a handler runs with the caller's own mask"
    ),
    nosys!(442, mount_setattr),
    nosys!(443, quotactl_fd),
    nosys!(444, landlock_create_ruleset),
    nosys!(445, landlock_add_rule),
    nosys!(446, landlock_restrict_self),
    nosys!(447, memfd_secret),
    nosys!(448, process_mrelease),
    nosys!(449, futex_waitv),
    nosys!(450, set_mempolicy_home_node),
    nosys!(451, cachestat),
    sys!(452, fchmodat2, "fsox", attr::sys_fchmodat2),
    nosys!(453, map_shadow_stack),
    nosys!(454, futex_wake),
    nosys!(455, futex_wait),
    nosys!(456, futex_requeue),
    nosys!(457, statmount),
    nosys!(458, listmount),
    nosys!(459, lsm_get_self_attr),
    nosys!(460, lsm_set_self_attr),
    nosys!(461, lsm_list_modules),
    nosys!(462, mseal),
    nosys!(463, setxattrat),
    nosys!(464, getxattrat),
    nosys!(465, listxattrat),
    nosys!(466, removexattrat),
    nosys!(467, open_tree_attr),
];

/// Syscalls whose handlers read or replace the caller's whole user context (registers, FP
/// state, stack, TLS base) rather than just their arguments: they always take the full trap
/// path (`rt_sigreturn`, `rt_sigsuspend`, `sigaltstack`, the clone family, execve, exit,
/// `arch_prctl`, `restart_syscall`).
const FULL_CONTEXT: [u64; 13] = [15, 56, 57, 58, 59, 60, 130, 131, 158, 219, 231, 322, 435];

/// Syscalls that map user memory (mmap, mprotect's private copies, mremap, brk, shmat,
/// madvise): they run under `Platform::hold_mappings`, so that no copy of the address space
/// catches a mapping before it is recorded. (execve holds it only while it loads, once the
/// process's other threads are gone: it waits for them.)
const MAPS_MEMORY: [u64; 6] = [9, 10, 12, 25, 28, 30];

/// Whether syscall `nr` maps user memory (see [`MAPS_MEMORY`]).
pub fn maps_memory(nr: u64) -> bool {
    MAPS_MEMORY.contains(&nr)
}

/// Whether syscall `nr` is `execve` or `execveat`.
pub fn is_exec(nr: u64) -> bool {
    nr == 59 || nr == 322
}

/// Whether syscall `nr` needs the full trap path (see [`FULL_CONTEXT`]).
pub fn needs_full_context(nr: u64) -> bool {
    FULL_CONTEXT.contains(&nr)
}

/// The table row for syscall number `nr`.
pub fn lookup(nr: u64) -> Option<&'static Entry> {
    TABLE
        .binary_search_by_key(&nr, |e| e.nr)
        .ok()
        .map(|i| &TABLE[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(TABLE.windows(2).all(|w| w[0].nr < w[1].nr));
        assert_eq!(lookup(0).map(|e| e.name), Some("read"));
        assert_eq!(lookup(231).map(|e| e.name), Some("exit_group"));
        assert!(lookup(1000).is_none());
    }
}

/// Renders `docs/syscalls.md` from the table.
pub fn render_markdown() -> alloc::string::String {
    use core::fmt::Write;
    let mut out = alloc::string::String::from(
        "# Syscalls\n\nGenerated from `crates/kernel/src/syscall/table.rs` by \
         `VEIL_UPDATE_DOCS=1 cargo test -p veil-kernel syscall_doc`; do not edit by hand.\n\n\
         Unsupported syscalls fail with `ENOSYS` and log one warning line naming the syscall.\n\n",
    );
    let full = TABLE.iter().filter(|e| e.support == Support::Full).count();
    let partial = TABLE
        .iter()
        .filter(|e| matches!(e.support, Support::Partial(_)))
        .count();
    let _ = writeln!(
        out,
        "{} syscalls: {full} full, {partial} partial, {} unsupported.\n",
        TABLE.len(),
        TABLE.len() - full - partial
    );
    out.push_str("| nr | name | support | notes |\n|---:|---|---|---|\n");
    for e in TABLE {
        let (level, note) = match e.support {
            Support::Full => ("full", ""),
            Support::Partial(n) => ("partial", n),
            Support::Unsupported => ("ENOSYS", ""),
        };
        let _ = writeln!(out, "| {} | `{}` | {level} | {note} |", e.nr, e.name);
    }
    out
}

#[cfg(test)]
mod doc_tests {
    /// `docs/syscalls.md` must match the table; set VEIL_UPDATE_DOCS=1 to regenerate it.
    #[test]
    fn syscall_doc() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/syscalls.md");
        let expected = super::render_markdown();
        if std::env::var_os("VEIL_UPDATE_DOCS").is_some() {
            std::fs::write(path, &expected).expect("write docs/syscalls.md");
            return;
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/syscalls.md is stale: run `VEIL_UPDATE_DOCS=1 cargo test -p veil-kernel syscall_doc`"
        );
    }
}
