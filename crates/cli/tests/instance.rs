//! A whole instance, the way the README shows it: `veil new`, copy a program into the image,
//! `veil build`, `veil run -C`; exit codes, arguments and the configured environment pass through.

mod common;

use common::{scratch, veil_bin};
use std::path::{Path, PathBuf};
use std::process::Command;

fn veil(args: &[&str]) -> std::process::Output {
    Command::new(veil_bin())
        .args(args)
        .env("VEIL_LOG", "error")
        .output()
        .expect("run veil")
}

/// A new instance made by `veil new` in the scratch directory `name`.
fn new_instance(name: &str) -> PathBuf {
    let dir = scratch(name).join("app");
    assert!(veil(&["new", dir.to_str().unwrap()]).status.success());
    dir
}

/// Replaces `old` (which must be there) with `new` in the instance's `Veil.toml`.
fn edit_config(dir: &Path, old: &str, new: &str) {
    let path = dir.join("Veil.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    assert!(config.contains(old), "no {old:?} in Veil.toml");
    std::fs::write(path, config.replace(old, new)).unwrap();
}

/// `veil build -C dir`, which must succeed.
fn build(dir: &Path) {
    let build = veil(&["build", "-C", dir.to_str().unwrap()]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
}

#[test]
fn new_build_run_a_static_program() {
    let dir = new_instance("instance");
    let app = dir.to_str().unwrap();
    let hello = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/hello.c");
    let cc = Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(dir.join("image/bin/hello"))
        .arg(hello)
        .status()
        .expect("gcc");
    assert!(cc.success());
    edit_config(&dir, "[env]\n", "[env]\nGREETING = \"from the config\"\n");
    build(&dir);

    let out = veil(&["run", "-C", app, "/bin/hello", "7", "two words"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(7),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("hello from /bin/hello on Linux x86_64"),
        "{stdout}"
    );
    // The image's own /etc/hostname (written by `veil new`), not the host's.
    assert!(
        stdout.contains("instance hostname file says: app"),
        "{stdout}"
    );
    assert!(stdout.contains("arg 2: two words"), "{stdout}");

    // A program that is not in the image: 127, with the reason.
    let missing = veil(&["run", "-C", app, "/bin/nope"]);
    assert_eq!(missing.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot execute /bin/nope"));
}

/// The program's environment: `[env]` over the defaults, then the host variables named in
/// `process.host_env` (no others: not even `TERM`, the default list), then `veil run --env`;
/// sorted by name.
#[test]
fn the_configured_environment_reaches_the_program() {
    common::need("/bin/busybox");
    let dir = new_instance("instance-env");
    std::fs::copy("/bin/busybox", dir.join("image/bin/busybox")).unwrap();
    edit_config(
        &dir,
        "[env]\n",
        "[env]\nGREETING = \"from the config\"\nOVERRIDDEN = \"from the config\"\n\
         HOME = \"/home/app\"\nLISTED = \"from the config\"\n",
    );
    edit_config(
        &dir,
        "#host_env = [\"TERM\"]\n",
        "host_env = [\"LISTED\", \"LISTED_BUT_UNSET\"]\n",
    );
    build(&dir);
    let out = Command::new(veil_bin())
        .args(["run", "-C", dir.to_str().unwrap()])
        .args([
            "--env",
            "OVERRIDDEN=from the command line",
            "--env",
            "ADDED=1",
        ])
        .args(["/bin/busybox", "env"])
        .env_clear()
        .env("VEIL_LOG", "error")
        .env("LISTED", "from the host")
        .env("UNLISTED", "from the host")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ADDED=1\n\
         GREETING=from the config\n\
         HOME=/home/app\n\
         LISTED=from the host\n\
         OVERRIDDEN=from the command line\n\
         PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
    );
}
