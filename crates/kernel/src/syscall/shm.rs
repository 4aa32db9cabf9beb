//! System V shared memory: shmget, shmat, shmdt, shmctl. A segment's pages are a shared-memory
//! object (`mm::shared`), so attaching it anywhere, in any address space, gives the same pages;
//! IPC_RMID forgets the id at once and the pages go when the last attachment does.

use super::*;
use crate::ipc::sysv::{self, IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, IpcObject};
use crate::mm::shared::{SharedObject, WINDOW};
use crate::mm::{SharedPages, Vma, VmaKind};
use veil_abi::{PAGE_SIZE, ShmInfo, ShmUsage, ShmidDs, page_align_up};
use veil_platform::Placement;

const SHM_RDONLY: u32 = 0o10000;
const SHM_RND: u32 = 0o20000;
const SHM_REMAP: u32 = 0o40000;
const SHM_EXEC: u32 = 0o100000;
const SHM_LOCK: u32 = 11;
const SHM_UNLOCK: u32 = 12;
const SHM_STAT: u32 = 13;
const SHM_INFO: u32 = 14;
const SHM_STAT_ANY: u32 = 15;
/// Linux's defaults: SHMMAX and SHMALL (ULONG_MAX - 2^24, bytes and pages), SHMMNI.
const SHMMAX: u64 = u64::MAX - (1 << 24);
const SHMMNI: u64 = 4096;

/// A shared memory segment.
pub struct Segment {
    pages: Arc<SharedObject>,
    size: u64,
    creator: i32,
    /// Last attach and detach: time and process.
    use_times: crate::sync::Mutex<UseTimes>,
}

#[derive(Default, Clone, Copy)]
struct UseTimes {
    attached: i64,
    detached: i64,
    last_pid: i32,
}

impl Segment {
    fn touched(&self, attach: bool) {
        let mut t = self.use_times.lock();
        let now = sysv::now_secs();
        if attach {
            t.attached = now;
        } else {
            t.detached = now;
        }
        t.last_pid = current_process_pid();
    }
}

fn current_process_pid() -> i32 {
    crate::process::current_process().pid
}

pub fn sys_shmget(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (key, size, flags) = (a[0] as i32, a[1], a[2] as u32);
    let id = kernel().sysv_shm.get_or_create(
        key,
        flags,
        |segment| {
            if size > segment.size {
                err(Errno::EINVAL)
            } else {
                Ok(())
            }
        },
        || {
            if size == 0 || size > WINDOW {
                return err(Errno::EINVAL);
            }
            Ok(Segment {
                pages: SharedObject::new()?,
                size,
                creator: current_process_pid(),
                use_times: Default::default(),
            })
        },
    )?;
    Ok(id as u64)
}

pub fn sys_shmat(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (id, addr, flags) = (a[0] as i32, a[1] as usize, a[2] as u32);
    let segment = kernel().sysv_shm.get(id)?;
    let len = page_align_up(segment.body.size as usize);
    let placement = if addr == 0 {
        Placement::Hint(0)
    } else {
        let addr = if flags & SHM_RND != 0 {
            addr & !(PAGE_SIZE - 1)
        } else if addr.is_multiple_of(PAGE_SIZE) {
            addr
        } else {
            return err(Errno::EINVAL);
        };
        if addr
            .checked_add(len)
            .is_none_or(|end| end > veil_abi::USER_SPACE_END)
        {
            return err(Errno::EINVAL);
        }
        if flags & SHM_REMAP != 0 {
            Placement::Fixed(addr)
        } else {
            Placement::FixedNoReplace(addr)
        }
    };
    let mut prot = g::PROT_READ;
    if flags & SHM_RDONLY == 0 {
        prot |= g::PROT_WRITE;
    }
    if flags & SHM_EXEC != 0 {
        prot |= g::PROT_EXEC;
    }
    let pages = SharedPages {
        object: segment.body.pages.clone(),
        offset: 0,
    };
    let start =
        mmap::map_user(&ctx.process, placement, len, prot, pages.backing()).map_err(|e| {
            // Without SHM_REMAP an occupied address is EINVAL.
            if e.errno == Errno::EEXIST {
                Error::from(Errno::EINVAL)
            } else {
                e
            }
        })?;
    ctx.process.vm().lock().insert(Vma {
        start,
        end: start + len,
        prot,
        shared: true,
        kind: VmaKind::SysvShm {
            key: segment.key,
            id,
        },
        pages: Some(pages),
    });
    segment.body.touched(true);
    Ok(start as u64)
}

pub fn sys_shmdt(ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let addr = a[0] as usize;
    if !addr.is_multiple_of(PAGE_SIZE) {
        return err(Errno::EINVAL);
    }
    // The attachment starting at `addr`: every piece of it (mprotect may have split it).
    let (id, pieces) = {
        let vm = ctx.process.vm();
        let vm = vm.lock();
        let Some(first) = vm.find(addr).filter(|v| v.start == addr) else {
            return err(Errno::EINVAL);
        };
        let (VmaKind::SysvShm { id, .. }, Some(pages)) = (&first.kind, &first.pages) else {
            return err(Errno::EINVAL);
        };
        if pages.offset != 0 {
            return err(Errno::EINVAL);
        }
        let object = pages.object.clone();
        let pieces: Vec<(usize, usize)> = vm
            .iter()
            .filter(|v| v.start >= addr)
            .take_while(|v| {
                v.pages.as_ref().is_some_and(|p| {
                    Arc::ptr_eq(&p.object, &object) && p.offset == (v.start - addr) as u64
                })
            })
            .map(|v| (v.start, v.end))
            .collect();
        (*id, pieces)
    };
    for (start, end) in pieces {
        mmap::unmap_user(&ctx.process, start, end);
    }
    if let Ok(segment) = kernel().sysv_shm.get(id) {
        segment.body.touched(false);
    }
    Ok(0)
}

/// Attachments of `segment` in every process (their first pieces).
fn attachments(segment: &IpcObject<Segment>) -> u64 {
    crate::process::all_processes()
        .iter()
        .filter(|p| p.exit_status.lock().is_none())
        .map(|p| {
            p.vm()
                .lock()
                .iter()
                .filter(|v| {
                    v.pages.as_ref().is_some_and(|pages| {
                        Arc::ptr_eq(&pages.object, &segment.body.pages) && pages.offset == 0
                    })
                })
                .count() as u64
        })
        .sum()
}

pub fn sys_shmctl(_ctx: &mut Ctx, a: [u64; 6]) -> Result<u64> {
    let (id, cmd, buf) = (a[0] as i32, sysv::ctl_command(a[1]), a[2]);
    let registry = &kernel().sysv_shm;
    match cmd {
        // SHM_STAT takes an index, which is the id here; it returns the id.
        IPC_STAT | SHM_STAT | SHM_STAT_ANY => {
            let segment = registry.get(id)?;
            let times = *segment.body.use_times.lock();
            let record = ShmidDs {
                shm_perm: segment.perm_record(),
                shm_segsz: segment.body.size,
                shm_atime: times.attached,
                shm_dtime: times.detached,
                shm_ctime: segment.ctime(),
                shm_cpid: segment.body.creator,
                shm_lpid: times.last_pid,
                shm_nattch: attachments(&segment),
                ..Default::default()
            };
            user::write_val(buf, &record)?;
            Ok(if cmd == IPC_STAT { 0 } else { id as u64 })
        }
        IPC_INFO => {
            let limits = ShmInfo {
                shmmax: SHMMAX,
                shmmin: 1,
                shmmni: SHMMNI,
                shmseg: SHMMNI,
                shmall: SHMMAX,
                ..Default::default()
            };
            user::write_val(buf, &limits)?;
            Ok(registry.highest_index())
        }
        SHM_INFO => {
            let segments = registry.objects();
            let pages: u64 = segments
                .iter()
                .map(|s| s.body.size.div_ceil(PAGE_SIZE as u64))
                .sum();
            let usage = ShmUsage {
                used_ids: segments.len() as i32,
                shm_tot: pages,
                // Nothing is swapped out: every page counts as resident.
                shm_rss: pages,
                ..Default::default()
            };
            user::write_val(buf, &usage)?;
            Ok(registry.highest_index())
        }
        IPC_SET => {
            let record: ShmidDs = user::read_val(buf)?;
            registry.get(id)?.set_perm(&record.shm_perm);
            Ok(0)
        }
        IPC_RMID => {
            registry.remove(id)?;
            Ok(0)
        }
        // Nothing is ever swapped out.
        SHM_LOCK | SHM_UNLOCK => registry.get(id).map(|_| 0),
        _ => err(Errno::EINVAL),
    }
}
