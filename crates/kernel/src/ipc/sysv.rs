//! System V IPC objects (shared memory segments, semaphore sets, message queues): the table
//! each kind keeps by id and key, and their ownership records. The objects themselves are in
//! `syscall/shm.rs`, `syscall/sem.rs` and `syscall/msg.rs`.
//!
//! Lock order: a [`Registry`]'s table lock is a leaf; an object's `perm` lock is a leaf.

use crate::error::{Result, err};
use crate::root::kernel;
use crate::sync::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use veil_abi::{Errno, IpcPerm};

pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: u32 = 0o1000;
pub const IPC_EXCL: u32 = 0o2000;
pub const IPC_NOWAIT: u32 = 0o4000;
pub const IPC_RMID: u32 = 0;
pub const IPC_SET: u32 = 1;
pub const IPC_STAT: u32 = 2;
/// The limits of a kind (`*ctl`); `ipcs -l`.
pub const IPC_INFO: u32 = 3;
/// Old callers add this to `*ctl` commands to ask for the 64-bit layouts, which are the only
/// ones on x86-64.
const IPC_64: u32 = 0x100;

/// Strips the layout flag from a `*ctl` command.
pub fn ctl_command(raw: u64) -> u32 {
    raw as u32 & !IPC_64
}

/// Waits on an object's `event` (see `sync::Event::wait_timeout`). System V IPC calls are not
/// restarted after a handler ran (signal(7)), so an interruption becomes ERESTARTNOHAND.
pub fn wait_changed(event: &crate::sync::Event, seen: u32, timeout_ns: Option<u64>) -> Result<()> {
    event.wait_timeout(seen, timeout_ns).map_err(|e| {
        if e.errno == Errno::ERESTARTSYS {
            Errno::ERESTARTNOHAND.into()
        } else {
            e
        }
    })
}

/// Wall-clock seconds (the `*_time` fields).
pub fn now_secs() -> i64 {
    kernel()
        .platform
        .clock_gettime(veil_abi::general::CLOCK_REALTIME)
        .map_or(0, |t| t.tv_sec)
}

/// Owner, creator and mode of an object.
pub struct Perm {
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u32,
    /// Last change (`IPC_SET`, creation).
    pub ctime: i64,
}

/// One IPC object of kind `T`.
pub struct IpcObject<T> {
    pub id: i32,
    pub key: i32,
    pub perm: Mutex<Perm>,
    pub body: T,
}

impl<T> IpcObject<T> {
    /// The `ipc64_perm` record (`IPC_STAT`).
    pub fn perm_record(&self) -> IpcPerm {
        let p = self.perm.lock();
        IpcPerm {
            key: self.key,
            uid: p.uid,
            gid: p.gid,
            cuid: p.cuid,
            cgid: p.cgid,
            mode: p.mode,
            // The sequence number Linux folds into ids; ids here are never reused.
            seq: 0,
            ..Default::default()
        }
    }

    /// Applies an `IPC_SET` record: owner and the permission bits.
    pub fn set_perm(&self, record: &IpcPerm) {
        let mut p = self.perm.lock();
        p.uid = record.uid;
        p.gid = record.gid;
        p.mode = p.mode & !0o777 | record.mode & 0o777;
        p.ctime = now_secs();
    }

    /// The last-change time.
    pub fn ctime(&self) -> i64 {
        self.perm.lock().ctime
    }
}

/// The objects of one kind, by id.
pub struct Registry<T> {
    table: Mutex<Table<T>>,
}

struct Table<T> {
    by_id: BTreeMap<i32, Arc<IpcObject<T>>>,
    next_id: i32,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Registry {
            table: Mutex::new(Table {
                by_id: BTreeMap::new(),
                next_id: 0,
            }),
        }
    }
}

impl<T> Registry<T> {
    /// The `*get` rules: the object with `key` (EEXIST with IPC_CREAT|IPC_EXCL; `fits` checks
    /// it suits the request), else, with IPC_CREAT or for IPC_PRIVATE, a new one from
    /// `create` (ENOENT otherwise). Returns its id.
    pub fn get_or_create(
        &self,
        key: i32,
        flags: u32,
        fits: impl Fn(&T) -> Result<()>,
        create: impl FnOnce() -> Result<T>,
    ) -> Result<i32> {
        let mut table = self.table.lock();
        if key != IPC_PRIVATE {
            if let Some(existing) = table.by_id.values().find(|o| o.key == key) {
                if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
                    return err(Errno::EEXIST);
                }
                fits(&existing.body)?;
                return Ok(existing.id);
            }
            if flags & IPC_CREAT == 0 {
                return err(Errno::ENOENT);
            }
        }
        let id = table.next_id;
        table.next_id = id.checked_add(1).ok_or(Errno::ENOSPC)?;
        let (uid, gid) = (crate::process::identity::UID, crate::process::identity::GID);
        let object = Arc::new(IpcObject {
            id,
            key,
            perm: Mutex::new(Perm {
                uid,
                gid,
                cuid: uid,
                cgid: gid,
                mode: flags & 0o777,
                ctime: now_secs(),
            }),
            body: create()?,
        });
        table.by_id.insert(id, object);
        Ok(id)
    }

    /// The object with `id` (EINVAL if there is none).
    pub fn get(&self, id: i32) -> Result<Arc<IpcObject<T>>> {
        self.table
            .lock()
            .by_id
            .get(&id)
            .cloned()
            .ok_or(Errno::EINVAL.into())
    }

    /// Every object, by id.
    pub fn objects(&self) -> alloc::vec::Vec<Arc<IpcObject<T>>> {
        self.table.lock().by_id.values().cloned().collect()
    }

    /// What the `IPC_INFO`-style commands return: the highest index in use (0 when none).
    /// Ids are indexes here (never reused), so the `*_STAT` commands take an id as index.
    pub fn highest_index(&self) -> u64 {
        self.table
            .lock()
            .by_id
            .keys()
            .next_back()
            .map_or(0, |&id| id as u64)
    }

    /// Removes the object with `id` (`IPC_RMID`); it lives on while someone still uses it.
    pub fn remove(&self, id: i32) -> Result<Arc<IpcObject<T>>> {
        self.table
            .lock()
            .by_id
            .remove(&id)
            .ok_or(Errno::EINVAL.into())
    }
}
