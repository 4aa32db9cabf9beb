//! memfd_create: anonymous RAM files (in an internal RAM file system), sealable with
//! `F_ADD_SEALS` when created with MFD_ALLOW_SEALING. Mapped shared, their pages live in the
//! instance's shared memory, so they stay shared across fork and address spaces.

use super::*;
use crate::fs::{Loc, OpenFile};

const MFD_CLOEXEC: u32 = 0x1;
const MFD_ALLOW_SEALING: u32 = 0x2;
const MFD_HUGETLB: u32 = 0x4;
const MFD_NOEXEC_SEAL: u32 = 0x8;
const MFD_EXEC: u32 = 0x10;
/// The longest name: NAME_MAX minus the "memfd:" prefix Linux adds.
const MAX_NAME: usize = 249;

pub fn sys_memfd_create(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let flags = a[1] as u32;
    let known = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
    if flags & !known != 0 || flags & MFD_EXEC != 0 && flags & MFD_NOEXEC_SEAL != 0 {
        return err(Errno::EINVAL);
    }
    if flags & MFD_HUGETLB != 0 {
        return Err(Error::unsupported(Errno::EINVAL, "MFD_HUGETLB"));
    }
    let name = user::read_cstr(a[0], MAX_NAME + 1).map_err(|e| {
        if e.errno == Errno::ENAMETOOLONG {
            Error::from(Errno::EINVAL)
        } else {
            e
        }
    })?;
    if name.len() > MAX_NAME {
        return err(Errno::EINVAL);
    }
    // MFD_NOEXEC_SEAL implies sealing (Linux 6.3).
    let sealing = flags & (MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL) != 0;
    let inode = kernel().memfd_fs().memfd(sealing);
    let ops = inode.open(g::O_RDWR)?;
    let path = alloc::format!("/memfd:{} (deleted)", String::from_utf8_lossy(&name));
    let file = OpenFile::new(ops, Loc::detached(path, inode), g::O_RDWR | g::O_LARGEFILE);
    ctx.install(file, flags & MFD_CLOEXEC != 0)
}
