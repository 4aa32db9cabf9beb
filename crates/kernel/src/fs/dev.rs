//! `/dev`: the standard character devices (with Linux's device numbers), the controlling
//! terminal, and links to the process's standard streams.

use super::synth::{OpenFn, SynthInode, SynthKind};
use super::{FileOps, FileSystem, InodeRef};
use crate::error::{Result, err};
use crate::process::current_process;
use crate::root::kernel;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use veil_abi::Errno;

const DEVFS_MAGIC: i64 = 0x1373;

/// The device file system.
pub struct DevFs {
    root: InodeRef,
}

/// Behaviour of the memory-like devices.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MemDevice {
    Null,
    Zero,
    Full,
    Random,
}

impl FileOps for MemDevice {
    fn read(&self, _pos: &mut u64, buf: &mut [u8], _flags: u32) -> Result<usize> {
        self.read_at(0, buf)
    }
    fn write(&self, _pos: &mut u64, buf: &[u8], _flags: u32) -> Result<usize> {
        self.write_at(0, buf)
    }
    fn read_at(&self, _offset: u64, buf: &mut [u8]) -> Result<usize> {
        match self {
            MemDevice::Null => Ok(0),
            MemDevice::Zero | MemDevice::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            MemDevice::Random => {
                kernel().platform.random(buf);
                Ok(buf.len())
            }
        }
    }
    fn write_at(&self, _offset: u64, buf: &[u8]) -> Result<usize> {
        match self {
            MemDevice::Full => err(Errno::ENOSPC),
            _ => Ok(buf.len()),
        }
    }
    fn size(&self) -> Result<u64> {
        Ok(0)
    }
    fn seek(&self, pos: &mut u64, _offset: i64, _whence: u32) -> Result<u64> {
        *pos = 0;
        Ok(0)
    }
}

/// Linux's encoding of a device number (glibc's `gnu_dev_makedev`).
fn makedev(major: u64, minor: u64) -> u64 {
    (major & 0xfffff000) << 32 | (major & 0xfff) << 8 | (minor & 0xffffff00) << 12 | minor & 0xff
}

impl DevFs {
    pub fn new() -> Arc<DevFs> {
        Arc::new_cyclic(|me: &alloc::sync::Weak<DevFs>| {
            let id = me.as_ptr() as usize;
            // Devices carry Linux's numbers: programs compare them (e.g. to recognise /dev/null).
            let device = |ino: u64, name: &[u8], major: u64, minor: u64, open: OpenFn| {
                let kind = SynthKind::Device(open, makedev(major, minor));
                (
                    name.to_vec(),
                    SynthInode::build(id, DEVFS_MAGIC, ino, 0o666, kind),
                )
            };
            let mem = |ino: u64, name: &[u8], minor: u64, d: MemDevice| {
                let open: OpenFn = Box::new(move |_| Ok(Arc::new(d) as Arc<dyn FileOps>));
                device(ino, name, 1, minor, open)
            };
            let link = |ino: u64, name: &[u8], target: &'static [u8]| -> (Vec<u8>, InodeRef) {
                let render = Box::new(move || Ok(target.to_vec()));
                (
                    name.to_vec(),
                    SynthInode::build(id, DEVFS_MAGIC, ino, 0o777, SynthKind::Link(render)),
                )
            };
            let children: Vec<(Vec<u8>, InodeRef)> = alloc::vec![
                mem(2, b"null", 3, MemDevice::Null),
                mem(3, b"zero", 5, MemDevice::Zero),
                mem(4, b"full", 7, MemDevice::Full),
                mem(5, b"random", 8, MemDevice::Random),
                mem(6, b"urandom", 9, MemDevice::Random),
                link(7, b"stdin", b"/proc/self/fd/0"),
                link(8, b"stdout", b"/proc/self/fd/1"),
                link(9, b"stderr", b"/proc/self/fd/2"),
                link(10, b"fd", b"/proc/self/fd"),
                device(11, b"tty", 5, 0, Box::new(open_tty)),
            ];
            let list = Box::new(move || Ok(children.clone()));
            DevFs {
                root: SynthInode::build(id, DEVFS_MAGIC, 1, 0o755, SynthKind::Dir(list)),
            }
        })
    }
}

/// `/dev/tty`: the controlling terminal. The instance's is the host's terminal of `veil run`,
/// if it has one; a process that started a session of its own (`setsid`) has none.
fn open_tty(flags: u32) -> Result<Arc<dyn FileOps>> {
    // The instance's first process leads the session that owns the host's terminal.
    if current_process().sid.load(Ordering::Relaxed) != 1 {
        return err(Errno::ENXIO);
    }
    super::stdio::open_host_tty(flags)
}

impl FileSystem for DevFs {
    fn root(&self) -> InodeRef {
        self.root.clone()
    }
    fn type_name(&self) -> &'static str {
        "devtmpfs"
    }
}
