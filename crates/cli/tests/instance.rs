//! A whole instance, the way the README shows it: `veil new`, copy a program into the image,
//! `veil build`, `veil run -C`; exit codes, arguments and the configured environment pass through.

mod common;

use common::{scratch, veil_bin};
use std::process::Command;

fn veil(args: &[&str]) -> std::process::Output {
    Command::new(veil_bin())
        .args(args)
        .env("VEIL_LOG", "error")
        .output()
        .expect("run veil")
}

#[test]
fn new_build_run_a_static_program() {
    let dir = scratch("instance").join("app");
    let app = dir.to_str().unwrap();
    assert!(veil(&["new", app]).status.success());
    let hello = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/hello.c");
    let cc = Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(dir.join("image/bin/hello"))
        .arg(hello)
        .status()
        .expect("gcc");
    assert!(cc.success());
    let config = std::fs::read_to_string(dir.join("Veil.toml")).unwrap();
    let config = config.replace("[env]\n", "[env]\nGREETING = \"from the config\"\n");
    std::fs::write(dir.join("Veil.toml"), config).unwrap();
    let build = veil(&["build", "-C", app]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );

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
