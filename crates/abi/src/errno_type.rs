//! A Linux error number with its symbolic name.

use core::fmt;

/// A Linux errno value (always positive). Syscalls return `-errno` to user space.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub u16);

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(pub const $name: Errno = Errno(linux_raw_sys::errno::$name as u16);)*

            /// The symbolic name ("ENOENT"), or "E?" for a number Veil does not know.
            pub const fn name(self) -> &'static str {
                $(if self.0 == linux_raw_sys::errno::$name as u16 { return stringify!($name); })*
                "E?"
            }
        }
    };
}

errnos!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    ENOTBLK,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    ETXTBSY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    EDOM,
    ERANGE,
    EDEADLK,
    ENAMETOOLONG,
    ENOLCK,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    ENOMSG,
    EIDRM,
    ENODATA,
    ETIME,
    ENOLINK,
    EPROTO,
    EOVERFLOW,
    EBADFD,
    EILSEQ,
    ENOTSOCK,
    EDESTADDRREQ,
    EMSGSIZE,
    EPROTOTYPE,
    ENOPROTOOPT,
    EPROTONOSUPPORT,
    ELIBBAD,
    EOPNOTSUPP,
    EAFNOSUPPORT,
    EADDRINUSE,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ECONNABORTED,
    ECONNRESET,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ETIMEDOUT,
    ECONNREFUSED,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
    ESTALE,
    EDQUOT,
    ECANCELED,
    EOWNERDEAD,
    ENOTRECOVERABLE,
);

impl Errno {
    /// Kernel-internal: the call was interrupted by a signal and is restarted unless a handler
    /// without SA_RESTART runs (then it fails with EINTR). Never seen by programs.
    pub const ERESTARTSYS: Errno = Errno(512);
    /// Kernel-internal: restarted only if no handler runs (poll, select, sleeps).
    pub const ERESTARTNOHAND: Errno = Errno(514);

    /// The value a syscall returns for this error: `-errno` as an unsigned register value.
    pub const fn as_syscall_return(self) -> u64 {
        (-(self.0 as i64)) as u64
    }

    /// Decodes a raw `-errno` return value of a Linux syscall, if it is one.
    pub const fn from_syscall_return(ret: i64) -> Option<Errno> {
        if ret < 0 && ret >= -4095 {
            Some(Errno((-ret) as u16))
        } else {
            None
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
