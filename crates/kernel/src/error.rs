//! The kernel's error type: an errno plus an optional static explanation.
//!
//! Kernel functions return [`Result`]; the conversion to `-errno` happens in one place, the
//! syscall dispatcher, which also logs the explanation of unsupported features.

use veil_abi::Errno;

/// An error of a kernel operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub errno: Errno,
    /// Why, when the errno alone does not say it (e.g. which feature is unsupported).
    pub msg: &'static str,
    /// The error means "Veil does not implement this": the dispatcher logs it once.
    pub unsupported: bool,
}

/// Result of a kernel operation.
pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// An error with an explanation.
    pub const fn new(errno: Errno, msg: &'static str) -> Error {
        Error {
            errno,
            msg,
            unsupported: false,
        }
    }

    /// A feature Veil does not implement (yet): fails with `errno`, and is logged with `what`.
    pub const fn unsupported(errno: Errno, what: &'static str) -> Error {
        Error {
            errno,
            msg: what,
            unsupported: true,
        }
    }
}

impl From<Errno> for Error {
    fn from(errno: Errno) -> Error {
        Error {
            errno,
            msg: "",
            unsupported: false,
        }
    }
}

impl From<veil_platform::Fault> for Error {
    fn from(_: veil_platform::Fault) -> Error {
        Error::from(Errno::EFAULT)
    }
}

/// Shorthand: `err(Errno::EINVAL)` as a `Result`.
pub fn err<T>(errno: Errno) -> Result<T> {
    Err(Error::from(errno))
}
