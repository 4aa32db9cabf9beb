//! Byte views of plain-old-data ABI structures (the `repr(C)` types user space exchanges with
//! the kernel). The only place the kernel reinterprets bytes as structures.
#![allow(unsafe_code)]

use veil_abi::general as g;

/// A type every bit pattern of which is valid and which has no padding bytes that matter.
///
/// # Safety
/// Implementors must be `repr(C)` (or primitive) types with no invalid bit patterns.
pub unsafe trait Pod: Copy + 'static {}

macro_rules! pod {
    ($($t:ty),* $(,)?) => { $(
        // SAFETY: integer-only repr(C) ABI structure (or a primitive); all bit patterns valid.
        unsafe impl Pod for $t {}
    )* };
}

pod!(
    u8,
    u16,
    u32,
    u64,
    i32,
    i64,
    usize,
    [u64; 2],
    [u32; 2],
    [i32; 2],
    g::stat,
    g::statx,
    g::statfs64,
    g::timespec,
    [g::timespec; 2],
    g::timeval,
    g::iovec,
    g::rlimit64,
    g::rlimit,
    g::rusage,
    veil_abi::MqAttr,
    g::kernel_sigaction,
    g::timezone,
    veil_abi::Utsname,
    veil_abi::SysInfo,
    veil_abi::Tms,
    veil_abi::IpcPerm,
    veil_abi::ShmidDs,
    veil_abi::SemidDs,
    veil_abi::MsqidDs,
    veil_abi::ShmInfo,
    veil_abi::ShmUsage,
    veil_abi::MsgInfo,
    veil_abi::SemInfo,
    veil_abi::SemBuf,
    g::__kernel_timespec,
    g::robust_list_head,
    g::pollfd,
    g::winsize,
    g::termios,
);

/// The bytes of `value`.
pub fn as_bytes<T: Pod>(value: &T) -> &[u8] {
    // SAFETY: T is Pod, so reading its bytes (including padding, which is never uninit for these
    // integer-only structs created zeroed or from bytes) is sound.
    unsafe {
        core::slice::from_raw_parts(value as *const T as *const u8, core::mem::size_of::<T>())
    }
}

/// A value of `T` from the first `size_of::<T>()` bytes of `bytes` (which must be that long).
pub fn from_bytes<T: Pod>(bytes: &[u8]) -> T {
    assert!(bytes.len() >= core::mem::size_of::<T>());
    // SAFETY: length checked; T accepts any bit pattern; read_unaligned tolerates alignment.
    unsafe { core::ptr::read_unaligned(bytes.as_ptr() as *const T) }
}

/// An all-zero value of `T`.
pub fn zeroed<T: Pod>() -> T {
    // SAFETY: all-zero is a valid bit pattern for Pod types.
    unsafe { core::mem::zeroed() }
}
