//! `veil run --strace[=FILE]`: one line per syscall, with decoded arguments and the result.

mod common;

use common::{scratch, veil_bin};
use std::process::Command;

#[test]
fn strace_to_stderr_and_to_a_file() {
    let dir = scratch("strace");
    let out = Command::new(veil_bin())
        .args([
            "run",
            "--strace",
            "--rootfs",
            "/",
            "/bin/busybox",
            "cat",
            "/nonexistent",
        ])
        .env("VEIL_LOG", "error")
        .output()
        .unwrap();
    let trace = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        trace.contains(r#"openat(AT_FDCWD, "/nonexistent", 0x0, 0) = -1 ENOENT (2)"#),
        "{trace}"
    );
    assert!(trace.contains("exit_group(1) = ?"), "{trace}");

    let file = dir.join("trace.txt");
    let out = Command::new(veil_bin())
        .arg("run")
        .arg(format!("--strace={}", file.display()))
        .args(["--rootfs", "/", "/bin/busybox", "echo", "traced"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "traced\n");
    let trace = std::fs::read_to_string(&file).unwrap();
    assert!(trace.contains(r#"write(1, "traced\n", 7) = 7"#), "{trace}");
}
