//! Mount table and path walk.
//!
//! A [`Loc`] is a resolved location: its canonical absolute path and the chain of directory
//! inodes from the root to it, so that `..` steps back through mount points correctly. Symbolic
//! links are expanded here (at most 40 per walk, then ELOOP), never by a file system.
//!
//! Lock order: `Mounts` is a leaf lock.

use super::{FileSystem, InodeRef, S_IFDIR, S_IFLNK, S_IFMT};
use crate::error::{Result, err};
use crate::sync::Mutex;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use veil_abi::Errno;

/// Linux limits.
pub const PATH_MAX: usize = 4096;
pub const NAME_MAX: usize = 255;
const MAX_SYMLINKS: usize = 40;

/// A resolved location in the instance's file tree.
#[derive(Clone)]
pub struct Loc {
    /// Canonical absolute path ("/" for the root).
    pub path: String,
    /// Inodes from the root (first) to this location (last).
    chain: Vec<InodeRef>,
}

impl Loc {
    /// The inode at this location.
    pub fn inode(&self) -> &InodeRef {
        self.chain.last().expect("a Loc always has its root")
    }

    /// The parent location (the root is its own parent).
    pub fn parent(&self) -> Loc {
        let mut p = self.clone();
        p.pop();
        p
    }

    fn pop(&mut self) {
        if self.chain.len() > 1 {
            self.chain.pop();
            let cut = self.path.rfind('/').unwrap_or(0);
            self.path.truncate(cut.max(1));
        }
    }

    /// Whether this location is a directory.
    pub fn is_dir(&self) -> bool {
        self.inode().mode() & S_IFMT == S_IFDIR
    }
}

/// The mount table: file systems by canonical mount-point path (empty until boot mounts `/`).
#[derive(Default)]
pub struct Mounts {
    table: Mutex<BTreeMap<String, Arc<dyn FileSystem>>>,
}

impl Mounts {
    /// Mounts `fs` at the canonical path `at` (whose directory must exist for lookups to reach it).
    pub fn mount(&self, at: &str, fs: Arc<dyn FileSystem>) {
        self.table.lock().insert(String::from(at), fs);
    }

    /// `(mount point, type)` of every mount, in path order.
    pub fn list(&self) -> Vec<(String, &'static str)> {
        self.table
            .lock()
            .iter()
            .map(|(p, fs)| (p.clone(), fs.type_name()))
            .collect()
    }

    fn mounted_at(&self, path: &str) -> Option<InodeRef> {
        self.table.lock().get(path).map(|fs| fs.root())
    }

    /// Whether some mount point lies strictly below the canonical path `path`.
    fn has_mount_below(&self, path: &str) -> bool {
        let prefix = if path == "/" {
            String::from("/")
        } else {
            alloc::format!("{path}/")
        };
        self.table
            .lock()
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(p, _)| p.starts_with(&prefix))
    }

    /// The root location.
    pub fn root(&self) -> Loc {
        let root = self.mounted_at("/").expect("root is always mounted");
        Loc {
            path: String::from("/"),
            chain: alloc::vec![root],
        }
    }

    /// Resolves `path` relative to `base` (ignored for absolute paths). The last component is a
    /// symlink target only when `follow_last`.
    pub fn resolve(&self, base: &Loc, path: &[u8], follow_last: bool) -> Result<Loc> {
        if path.is_empty() {
            return err(Errno::ENOENT);
        }
        let mut walk = Walk::new(self, base, path)?;
        walk.run(follow_last, false)?;
        Ok(walk.loc)
    }

    /// Resolves all but the last component of `path`: returns the parent directory and the last
    /// name. A trailing slash is reported as `must_be_dir`. The name may be "." or "..".
    pub fn resolve_parent(&self, base: &Loc, path: &[u8]) -> Result<ParentLoc> {
        if path.is_empty() {
            return err(Errno::ENOENT);
        }
        let mut walk = Walk::new(self, base, path)?;
        walk.run(false, true)?;
        let name = walk.last.take().unwrap_or_else(|| b".".to_vec());
        Ok(ParentLoc {
            dir: walk.loc,
            name,
            must_be_dir: walk.trailing_slash,
        })
    }

    /// Whether a file system is mounted at `loc` (other than the root): such a location cannot
    /// be removed or renamed (EBUSY).
    pub fn is_mount_point(&self, loc: &Loc) -> bool {
        loc.chain.len() > 1 && self.table.lock().contains_key(&loc.path)
    }

    /// The location of a child `name` of directory `dir` (after a create, say).
    pub fn child(&self, dir: &Loc, name: &[u8]) -> Result<Loc> {
        let mut loc = dir.clone();
        step(self, &mut loc, name)?;
        Ok(loc)
    }
}

/// The parent directory of a path's last component.
pub struct ParentLoc {
    pub dir: Loc,
    pub name: Vec<u8>,
    pub must_be_dir: bool,
}

/// Moves `loc` to its child `name`, entering a file system mounted there.
fn step(mounts: &Mounts, loc: &mut Loc, name: &[u8]) -> Result<()> {
    if name.len() > NAME_MAX {
        return err(Errno::ENAMETOOLONG);
    }
    let mut path = loc.path.clone();
    if path != "/" {
        path.push('/');
    }
    path.push_str(&String::from_utf8_lossy(name));
    // A mount point needs no directory underneath it (an instance image may lack /proc).
    let child = match mounts.mounted_at(&path) {
        Some(root) => root,
        None => match loc.inode().lookup(name) {
            Ok(child) => child,
            // A mount point may sit below directories its parent file system lacks (a volume
            // under the RAM /tmp): the walk passes through an empty placeholder directory.
            Err(e) if e.errno == Errno::ENOENT && mounts.has_mount_below(&path) => {
                placeholder_dir()
            }
            Err(e) => return Err(e),
        },
    };
    loc.path = path;
    loc.chain.push(child);
    Ok(())
}

struct Walk<'a> {
    mounts: &'a Mounts,
    loc: Loc,
    pending: VecDeque<Vec<u8>>,
    symlinks: usize,
    trailing_slash: bool,
    /// With `parent_only`, the last component (not looked up).
    last: Option<Vec<u8>>,
}

fn components(path: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(|c| c.to_vec())
}

impl<'a> Walk<'a> {
    fn new(mounts: &'a Mounts, base: &Loc, path: &[u8]) -> Result<Walk<'a>> {
        if path.len() >= PATH_MAX {
            return err(Errno::ENAMETOOLONG);
        }
        let loc = if path[0] == b'/' {
            mounts.root()
        } else {
            base.clone()
        };
        Ok(Walk {
            mounts,
            loc,
            pending: components(path).collect(),
            symlinks: 0,
            trailing_slash: path.ends_with(b"/"),
            last: None,
        })
    }

    fn run(&mut self, follow_last: bool, parent_only: bool) -> Result<()> {
        while let Some(name) = self.pending.pop_front() {
            let is_last = self.pending.is_empty();
            if !self.loc.is_dir() {
                return err(Errno::ENOTDIR);
            }
            if is_last && parent_only {
                self.last = Some(name);
                return Ok(());
            }
            match name.as_slice() {
                b"." => continue,
                b".." => {
                    self.loc.pop();
                    continue;
                }
                _ => {}
            }
            let mut next = self.loc.clone();
            step(self.mounts, &mut next, &name)?;
            let is_link = next.inode().mode() & S_IFMT == S_IFLNK;
            if is_link && (!is_last || follow_last || self.trailing_slash) {
                self.symlinks += 1;
                if self.symlinks > MAX_SYMLINKS {
                    return err(Errno::ELOOP);
                }
                if let Some(target) = next.inode().magic_target() {
                    self.loc = target?;
                    continue;
                }
                let target = next.inode().readlink()?;
                if target.is_empty() {
                    return err(Errno::ENOENT);
                }
                if target[0] == b'/' {
                    self.loc = self.mounts.root();
                }
                for c in components(&target).collect::<Vec<_>>().into_iter().rev() {
                    self.pending.push_front(c);
                }
                continue;
            }
            self.loc = next;
        }
        if self.trailing_slash && !parent_only && !self.loc.is_dir() {
            return err(Errno::ENOTDIR);
        }
        Ok(())
    }
}

impl Loc {
    /// A location outside the tree (stdio inherited from the host, pipes, sockets): `name` is
    /// what `/proc/pid/fd` shows.
    pub fn detached(name: String, inode: InodeRef) -> Loc {
        Loc {
            path: name,
            chain: alloc::vec![inode],
        }
    }
}

/// An empty, read-only directory standing in for a missing parent of a mount point.
fn placeholder_dir() -> InodeRef {
    use super::synth::{SynthInode, SynthKind};
    const PLACEHOLDER_MAGIC: i64 = 0x0102_1994;
    SynthInode::build(
        0,
        PLACEHOLDER_MAGIC,
        2,
        0o555,
        SynthKind::Dir(alloc::boxed::Box::new(|| Ok(Vec::new()))),
    )
}
