//! `veil new`: creates an instance directory, its commented `Veil.toml` and an `image/`
//! skeleton with a minimal single-user `/etc`.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::instance::{CONFIG_FILE, Instance, shell_quote};

/// `Veil.toml` as created: every setting with its default, commented out (`#key = value`;
/// prose comments start with `# `). A test keeps these defaults equal to the parser's.
const TEMPLATE: &str = r#"# Veil.toml: the configuration of the Veil instance in this directory.
#
# Every setting is listed with its default value and commented out: remove the leading '#' to
# change it. `veil build` checks this file; `veil run` uses the checked copy in build/.
# The full reference is docs/config.md in the Veil sources.

[process]
# Program and arguments that `veil run` starts when no PROGRAM is given. No default: without
# it, `veil run` needs a PROGRAM. A name without '/' is looked up in PATH inside the instance.
#entry = ["/bin/hello", "--flag"]

# Working directory of the first process (an absolute path inside the instance).
#cwd = "/"

# Host environment variables given to the first process, when the host sets them. Only these
# cross from the host; `veil run --env` adds more.
#host_env = ["TERM"]

# How processes are placed: "shared" (processes share address spaces when they fit: fastest
# spawn) or "per-process" (one address space per process: isolation between processes).
#address_space = "shared"

[env]
# Environment of the first process. PATH and HOME below are the defaults; a line here
# overrides a default or adds a variable (NAME = "value").
#PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#HOME = "/root"

[resources]
# Sizes are a number of bytes, or a number with a K, M or G suffix (powers of 1024).

# Most files a process may have open (RLIMIT_NOFILE): 1 to 1048576.
#max_open_files = 1024

# Stack of the main thread (RLIMIT_STACK): 64K to 1G.
#stack_size = "8M"

# Most memory the instance may use, at least 1M. No default: no limit.
#max_memory = "4G"

# Extra file systems. / is the image, /tmp is a RAM file system (unless mounted here), and
# /dev and /proc are provided by Veil. Repeat the [[mount]] block for each mount.
#
#[[mount]]
# Where, inside the instance: an absolute path, not /, not under /dev or /proc.
#path = "/data"
# "host": a host directory, passed through (not encrypted, the host can read and change it);
# "ram": a file system in memory, empty at start.
#type = "host"
# For type = "host": the host directory, relative to this directory.
#source = "data"
"#;

/// Directories of the image skeleton. `dev` and `proc` are empty mount points.
const IMAGE_DIRS: &[&str] = &[
    "bin", "lib", "lib64", "etc", "tmp", "usr/bin", "usr/lib", "root", "dev", "proc",
];

/// Creates the instance `dir`.
pub fn new(dir: &Path) -> anyhow::Result<()> {
    check_free(dir)?;
    let instance = Instance::new(dir);
    let image = instance.image_dir();
    for sub in IMAGE_DIRS {
        let path = image.join(sub);
        fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
    }
    // The usual modes: a sticky world-writable /tmp, a private /root.
    set_mode(&image.join("tmp"), 0o1777)?;
    set_mode(&image.join("root"), 0o700)?;
    let etc = image.join("etc");
    write(&etc.join("passwd"), "root:x:0:0:root:/root:/bin/sh\n")?;
    write(&etc.join("group"), "root:x:0:\n")?;
    write(&etc.join("hostname"), &format!("{}\n", hostname(dir)))?;
    write(&instance.config_path(), TEMPLATE)?;

    let show = |p: &str| instance.name_in_messages(p);
    let dir_arg = shell_quote(&dir.to_string_lossy());
    println!("Created the Veil instance {}:", dir.display());
    println!(
        "  {:<32} configuration: every setting, commented, with its default",
        show(CONFIG_FILE)
    );
    println!(
        "  {:<32} the instance's files: {}",
        show("image/"),
        IMAGE_DIRS.join(" ")
    );
    println!(
        "  {:<32} a single user, root",
        show("image/etc/passwd, group")
    );
    println!(
        "  {:<32} the instance's host name",
        show("image/etc/hostname")
    );
    println!();
    println!("Next steps:");
    println!("  1. Put a program into the image:  cp PROGRAM {dir_arg}/image/bin/");
    println!("     (a dynamically linked program also needs its libraries in image/lib*)");
    println!(
        "  2. Build the instance:            {}",
        instance.command("build")
    );
    println!(
        "  3. Run the program:               {} /bin/PROGRAM",
        instance.command("run")
    );
    println!(
        "     or set process.entry in {} and run `{}`",
        show(CONFIG_FILE),
        instance.command("run")
    );
    Ok(())
}

/// Refuses a `dir` that exists and is not an empty directory.
fn check_free(dir: &Path) -> anyhow::Result<()> {
    let taken = match fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) if e.kind() == ErrorKind::NotADirectory => true,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    if taken {
        bail!(
            "{} already exists and is not an empty directory; choose another name, e.g. `veil new {}`",
            dir.display(),
            shell_quote(&free_name(dir).to_string_lossy())
        );
    }
    Ok(())
}

/// `dir-2`, `dir-3`, ...: the first that does not exist yet.
fn free_name(dir: &Path) -> PathBuf {
    let base = dir.as_os_str().to_string_lossy();
    let base = base.trim_end_matches('/');
    (2..)
        .map(|n| PathBuf::from(format!("{base}-{n}")))
        .find(|p| !p.exists())
        .expect("some name is free")
}

/// A host name from the directory name: lowercase letters, digits and '-', at most 63.
fn hostname(dir: &Path) -> String {
    let name = std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let cleaned: String = name
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .take(63)
        .collect();
    let cleaned = cleaned.trim_matches('-');
    if cleaned.is_empty() {
        "veil".to_owned()
    } else {
        cleaned.to_owned()
    }
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))
}

fn write(path: &Path, contents: &str) -> anyhow::Result<()> {
    fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AddressSpace, Config};

    /// The template with every `#key = value` line (and `#[[mount]]`) uncommented.
    fn uncommented(template: &str) -> String {
        template
            .lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if !rest.is_empty() && !rest.starts_with(' ') => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn template_parses_and_shows_the_real_defaults() {
        assert_eq!(
            Config::parse(TEMPLATE, "Veil.toml").unwrap(),
            Config::default()
        );
        let all = Config::parse(&uncommented(TEMPLATE), "Veil.toml").unwrap();
        let default = Config::default();
        assert_eq!(all.cwd, default.cwd);
        assert_eq!(all.host_env, default.host_env);
        assert_eq!(all.address_space, AddressSpace::Shared);
        assert_eq!(all.env, default.env);
        assert_eq!(all.limits.max_open_files, default.limits.max_open_files);
        assert_eq!(all.limits.stack_size, default.limits.stack_size);
        // The settings without a default are shown with examples.
        assert!(all.entry.is_some() && all.limits.max_memory.is_some());
        assert_eq!(all.mounts.len(), 1);
    }

    #[test]
    fn hostnames() {
        assert_eq!(hostname(Path::new("/x/My App_2")), "my-app-2");
        assert_eq!(hostname(Path::new("/x/__")), "veil");
    }

    #[test]
    fn free_names() {
        let dir = tempfile::tempdir().unwrap();
        let taken = dir.path().join("app");
        fs::create_dir(&taken).unwrap();
        fs::create_dir(dir.path().join("app-2")).unwrap();
        assert_eq!(free_name(&taken), dir.path().join("app-3"));
    }
}
