//! Looking up paths inside an instance while its root is still a host directory (host
//! pass-through, until the image file system exists).
//!
//! Paths are resolved the way the instance will see them: mounts are honoured, and symlinks are
//! followed with the instance's root as `/`, so an absolute link target (`/bin -> /usr/bin`) never
//! escapes to the host's own files. `veil build` uses this to check that the entry program exists,
//! `veil run` to search `PATH`.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use veil_platform_sim::{MountKind, MountSpec};

/// Linux's limit on symlinks followed in one lookup (`ELOOP`).
const MAX_LINKS: usize = 40;

/// The search path `execvp` uses when `PATH` is unset.
pub const EXECVP_DEFAULT_PATH: &str = "/bin:/usr/bin";

/// The instance's file tree as seen from the host: the root plus its mounts.
#[derive(Debug)]
pub struct View {
    /// Mount point (path components inside the instance) and its host directory; `None` for a
    /// RAM file system, which starts empty. The root is the entry with no components.
    mounts: Vec<(Vec<OsString>, Option<PathBuf>)>,
}

impl View {
    /// A view of `root` with `mounts` (host mount sources are host paths).
    pub fn new(root: &Path, mounts: &[MountSpec]) -> Self {
        let mut view = View {
            mounts: vec![(Vec::new(), Some(root.to_path_buf()))],
        };
        for m in mounts {
            let mut point = Vec::new();
            push_components(&mut point, Path::new(&m.path));
            point.reverse();
            let host = match &m.kind {
                MountKind::Host { source } => Some(source.clone()),
                MountKind::Ram => None,
            };
            view.mounts.push((point, host));
        }
        view
    }

    /// The host path of `path` (absolute, inside the instance), or `None` if it does not exist.
    pub fn resolve(&self, path: &str) -> Option<PathBuf> {
        let mut pending = Vec::new();
        push_components(&mut pending, Path::new(path));
        let mut current: Vec<OsString> = Vec::new();
        let mut links = 0;
        while let Some(name) = pending.pop() {
            if name == ".." {
                current.pop();
                continue;
            }
            current.push(name);
            let host = self.host_path(&current)?;
            let meta = fs::symlink_metadata(&host).ok()?;
            // A mount point is the mounted directory itself, whatever the host calls it.
            if meta.file_type().is_symlink() && !self.is_mount_point(&current) {
                links += 1;
                if links > MAX_LINKS {
                    return None;
                }
                let target = fs::read_link(&host).ok()?;
                current.pop();
                if target.is_absolute() {
                    current.clear();
                }
                push_components(&mut pending, &target);
            }
        }
        self.host_path(&current)
    }

    /// Searches `name` in `path_var` (a `PATH` value) like `execvp`: the first executable
    /// regular file wins. Returns the path to execute, as the instance would name it.
    /// Relative `PATH` entries are taken relative to `cwd`.
    pub fn find_in_path(&self, name: &str, path_var: &str, cwd: &str) -> Option<String> {
        path_var.split(':').find_map(|dir| {
            // An empty entry means the current directory (POSIX).
            let dir = if dir.is_empty() { "." } else { dir };
            let candidate = format!("{}/{name}", dir.trim_end_matches('/'));
            let absolute = if candidate.starts_with('/') {
                candidate.clone()
            } else {
                format!("{}/{candidate}", cwd.trim_end_matches('/'))
            };
            let host = self.resolve(&absolute)?;
            is_executable_file(&host).then_some(candidate)
        })
    }

    /// The host path of `inside` through the deepest mount that contains it.
    fn host_path(&self, inside: &[OsString]) -> Option<PathBuf> {
        let (point, host) = self
            .mounts
            .iter()
            .filter(|(point, _)| inside.starts_with(point))
            .max_by_key(|(point, _)| point.len())?;
        let mut path = host.clone()?;
        path.extend(&inside[point.len()..]);
        Some(path)
    }

    fn is_mount_point(&self, inside: &[OsString]) -> bool {
        self.mounts.iter().any(|(point, _)| point == inside)
    }
}

/// Whether `host` is a regular file someone may execute.
fn is_executable_file(host: &Path) -> bool {
    fs::metadata(host).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Pushes the names of `path` onto `stack` in reverse, so that popping yields them in order.
fn push_components(stack: &mut Vec<OsString>, path: &Path) {
    for component in path.components().rev() {
        match component {
            Component::Normal(name) => stack.push(name.to_owned()),
            Component::ParentDir => stack.push(OsStr::new("..").to_owned()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn executable(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn symlinks_stay_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        executable(&r.join("usr/bin/tool"));
        symlink("/usr/bin", r.join("bin")).unwrap();
        symlink("../usr/bin/tool", r.join("usr/rel")).unwrap();
        // Would exist on the host, but not in the instance.
        symlink("/etc/passwd", r.join("escape")).unwrap();
        let view = View::new(r, &[]);
        assert_eq!(view.resolve("/bin/tool"), Some(r.join("usr/bin/tool")));
        assert_eq!(view.resolve("/usr/rel"), Some(r.join("usr/bin/tool")));
        assert_eq!(
            view.resolve("/../../bin/./tool"),
            Some(r.join("usr/bin/tool"))
        );
        assert_eq!(view.resolve("/escape"), None);
        assert_eq!(view.resolve("/bin/missing"), None);
    }

    #[test]
    fn symlink_loops_end() {
        let root = tempfile::tempdir().unwrap();
        symlink("/loop", root.path().join("loop")).unwrap();
        assert_eq!(View::new(root.path(), &[]).resolve("/loop"), None);
    }

    #[test]
    fn mounts_are_honoured() {
        let root = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        executable(&data.path().join("bin/app"));
        executable(&root.path().join("tmp/hidden"));
        let mounts = [
            MountSpec {
                path: "/data".into(),
                kind: MountKind::Host {
                    source: data.path().to_path_buf(),
                },
            },
            MountSpec {
                path: "/tmp".into(),
                kind: MountKind::Ram,
            },
        ];
        let view = View::new(root.path(), &mounts);
        assert_eq!(
            view.resolve("/data/bin/app"),
            Some(data.path().join("bin/app"))
        );
        assert_eq!(
            view.resolve("/tmp/hidden"),
            None,
            "a RAM mount starts empty"
        );
    }

    #[test]
    fn path_search() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        executable(&r.join("usr/bin/tool"));
        executable(&r.join("srv/local"));
        fs::write(r.join("usr/bin/plain"), "not executable").unwrap();
        fs::create_dir_all(r.join("bin/dir")).unwrap();
        let view = View::new(r, &[]);
        let path = "/bin:/usr/bin/";
        assert_eq!(
            view.find_in_path("tool", path, "/").as_deref(),
            Some("/usr/bin/tool")
        );
        assert_eq!(view.find_in_path("plain", path, "/"), None);
        assert_eq!(view.find_in_path("dir", path, "/"), None);
        assert_eq!(view.find_in_path("local", path, "/srv"), None);
        assert_eq!(
            view.find_in_path("local", "/bin::", "/srv").as_deref(),
            Some("./local")
        );
    }
}
