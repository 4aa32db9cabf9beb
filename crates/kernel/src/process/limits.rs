//! Resource limits (`getrlimit`/`setrlimit`/`prlimit64`).

use veil_abi::general as g;

/// Number of `RLIMIT_*` resources.
pub const RLIM_NLIMITS: usize = 16;
pub const RLIM_INFINITY: u64 = u64::MAX;

/// The limits of one process.
#[derive(Clone, Copy)]
pub struct Limits(pub [g::rlimit64; RLIM_NLIMITS]);

impl Limits {
    /// Linux's defaults, with the instance's configured open-file and stack limits.
    pub fn new(max_open_files: u64, stack_size: u64) -> Limits {
        let inf = g::rlimit64 {
            rlim_cur: RLIM_INFINITY,
            rlim_max: RLIM_INFINITY,
        };
        let mut l = [inf; RLIM_NLIMITS];
        l[g::RLIMIT_NOFILE as usize] = g::rlimit64 {
            rlim_cur: max_open_files,
            rlim_max: max_open_files,
        };
        l[g::RLIMIT_STACK as usize] = g::rlimit64 {
            rlim_cur: stack_size,
            rlim_max: RLIM_INFINITY,
        };
        l[g::RLIMIT_CORE as usize] = g::rlimit64 {
            rlim_cur: 0,
            rlim_max: RLIM_INFINITY,
        };
        l[g::RLIMIT_NPROC as usize] = g::rlimit64 {
            rlim_cur: 63_704,
            rlim_max: 63_704,
        };
        l[g::RLIMIT_SIGPENDING as usize] = g::rlimit64 {
            rlim_cur: 63_704,
            rlim_max: 63_704,
        };
        l[g::RLIMIT_MEMLOCK as usize] = g::rlimit64 {
            rlim_cur: 8 << 20,
            rlim_max: 8 << 20,
        };
        l[g::RLIMIT_MSGQUEUE as usize] = g::rlimit64 {
            rlim_cur: 819_200,
            rlim_max: 819_200,
        };
        l[g::RLIMIT_NICE as usize] = g::rlimit64 {
            rlim_cur: 0,
            rlim_max: 0,
        };
        l[g::RLIMIT_RTPRIO as usize] = g::rlimit64 {
            rlim_cur: 0,
            rlim_max: 0,
        };
        Limits(l)
    }

    /// The soft limit on open files, as a table size.
    pub fn nofile(&self) -> usize {
        self.0[g::RLIMIT_NOFILE as usize].rlim_cur.min(1 << 20) as usize
    }
}
