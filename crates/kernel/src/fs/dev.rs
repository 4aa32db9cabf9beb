//! `/dev`: the standard character devices, and links to the process's standard streams.

use super::synth::{SynthInode, SynthKind};
use super::{FileOps, FileSystem, InodeRef};
use crate::error::{Result, err};
use crate::root::kernel;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
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

impl DevFs {
    pub fn new() -> Arc<DevFs> {
        Arc::new_cyclic(|me: &alloc::sync::Weak<DevFs>| {
            let id = me.as_ptr() as usize;
            let dev = |ino: u64, d: MemDevice| -> (Vec<u8>, InodeRef) {
                let name: &[u8] = match d {
                    MemDevice::Null => b"null",
                    MemDevice::Zero => b"zero",
                    MemDevice::Full => b"full",
                    MemDevice::Random => {
                        if ino == 5 {
                            b"random"
                        } else {
                            b"urandom"
                        }
                    }
                };
                let open = Box::new(move || Arc::new(d) as Arc<dyn FileOps>);
                (
                    name.to_vec(),
                    SynthInode::build(id, DEVFS_MAGIC, ino, 0o666, SynthKind::Device(open)),
                )
            };
            let link = |ino: u64, name: &[u8], target: &'static [u8]| -> (Vec<u8>, InodeRef) {
                let render = Box::new(move || Ok(target.to_vec()));
                (
                    name.to_vec(),
                    SynthInode::build(id, DEVFS_MAGIC, ino, 0o777, SynthKind::Link(render)),
                )
            };
            let children: Vec<(Vec<u8>, InodeRef)> = alloc::vec![
                dev(2, MemDevice::Null),
                dev(3, MemDevice::Zero),
                dev(4, MemDevice::Full),
                dev(5, MemDevice::Random),
                dev(6, MemDevice::Random),
                link(7, b"stdin", b"/proc/self/fd/0"),
                link(8, b"stdout", b"/proc/self/fd/1"),
                link(9, b"stderr", b"/proc/self/fd/2"),
                link(10, b"fd", b"/proc/self/fd"),
                link(11, b"tty", b"/proc/self/fd/0"),
            ];
            let list = Box::new(move || Ok(children.clone()));
            DevFs {
                root: SynthInode::build(id, DEVFS_MAGIC, 1, 0o755, SynthKind::Dir(list)),
            }
        })
    }
}

impl FileSystem for DevFs {
    fn root(&self) -> InodeRef {
        self.root.clone()
    }
    fn type_name(&self) -> &'static str {
        "devtmpfs"
    }
}
