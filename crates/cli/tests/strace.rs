//! What `veil run` tells about a run on stderr: `--strace[=FILE]`, one line per syscall with
//! decoded arguments and the result; and its own log, whose level `VEIL_LOG` selects.

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

/// `VEIL_LOG=debug` adds `veil: debug: ...` lines (the launch specification) to stderr; at the
/// default level (`warn`) a program that runs normally leaves stderr empty.
#[test]
fn veil_log_debug_and_the_default_level() {
    let stderr_of_true = |level: Option<&str>| {
        let mut cmd = Command::new(veil_bin());
        cmd.args(["run", "--rootfs", "/", "/bin/true"])
            .env_remove("VEIL_LOG");
        if let Some(level) = level {
            cmd.env("VEIL_LOG", level);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "VEIL_LOG={level:?}: {stderr}");
        stderr
    };
    assert_eq!(stderr_of_true(None), "");
    let debug = stderr_of_true(Some("debug"));
    assert!(
        debug.starts_with("veil: debug: launching") && debug.contains(r#"program: "/bin/true""#),
        "{debug}"
    );
}
