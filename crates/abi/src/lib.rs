//! The Linux x86-64 ABI as Veil's kernel sees it.
//!
//! Constants and `repr(C)` structures come from `linux-raw-sys` (generated from the kernel's UAPI
//! headers); this crate adds the [`Errno`] type and the few definitions the UAPI headers lack.
#![no_std]
#![deny(unsafe_code)]

pub use linux_raw_sys::auxvec;
pub use linux_raw_sys::errno;
pub use linux_raw_sys::general;
pub use linux_raw_sys::ioctl;
pub use linux_raw_sys::prctl;

mod errno_type;
mod structs;
pub use errno_type::Errno;
pub use structs::{
    IpcPerm, MqAttr, MsgInfo, MsqidDs, SemBuf, SemInfo, SemidDs, ShmInfo, ShmUsage, ShmidDs,
    SysInfo, Tms, Utsname,
};

/// Size of a page on x86-64.
pub const PAGE_SIZE: usize = 4096;

/// Rounds `value` up to a multiple of the page size (saturating at the top of the address space).
pub const fn page_align_up(value: usize) -> usize {
    match value.checked_add(PAGE_SIZE - 1) {
        Some(v) => v & !(PAGE_SIZE - 1),
        None => usize::MAX & !(PAGE_SIZE - 1),
    }
}

/// Rounds `value` down to a multiple of the page size.
pub const fn page_align_down(value: usize) -> usize {
    value & !(PAGE_SIZE - 1)
}

/// The highest user-space address on x86-64 with 4-level paging (exclusive).
pub const USER_SPACE_END: usize = 0x0000_7fff_ffff_f000;
