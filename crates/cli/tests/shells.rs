//! Shells, the programs that fork the most: Debian's dash and busybox sh run the same script
//! (tests/scripts/shell_features.sh: pipelines, subshells, command substitution, background
//! jobs, traps, redirections), natively first and then under Veil; stdout and exit status must
//! match. Needs busybox-static (scripts/install-test-deps.sh).

mod common;

use common::{assert_same, need, scratch};
use std::path::PathBuf;

const SCRIPT: &str = include_str!("../../../tests/scripts/shell_features.sh");

/// A scratch directory holding the script. A copy, because the checkout may lie under /tmp,
/// which the instance does not share with the host; the scratch directory is mounted.
fn script_dir(name: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("shell_features.sh"), SCRIPT).unwrap();
    dir
}

/// Runs the script with `shell` natively and under Veil and checks that it ran to its end.
fn run_script(shell: &[&str], name: &str) {
    need(shell[0]);
    let dir = script_dir(name);
    let mut argv = shell.to_vec();
    argv.push("shell_features.sh");
    let out = assert_same(&argv, &dir, None);
    // Equal outputs could still be two equally early failures.
    assert!(
        out.ends_with("trapped EXIT, status 3\n"),
        "the script did not run to its end natively:\n{out}"
    );
}

#[test]
fn dash_script() {
    run_script(&["/bin/dash"], "shell-dash");
}

#[test]
fn busybox_sh_script() {
    run_script(&["/bin/busybox", "sh"], "shell-busybox");
}

/// A loop feeding a pipeline over the host's /etc (the root file system of the instance).
#[test]
fn busybox_sh_loop_into_pipeline() {
    need("/bin/busybox");
    let dir = scratch("shell-busybox-etc");
    let out = assert_same(
        &[
            "/bin/busybox",
            "sh",
            "-c",
            r#"for f in /etc/*.conf; do wc -l "$f"; done | sort -n | tail -3"#,
        ],
        &dir,
        None,
    );
    assert_eq!(out.lines().count(), 3, "unexpected output:\n{out}");
}
