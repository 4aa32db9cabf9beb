//! Helpers shared by the integration tests: running a command natively and under Veil.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The environment both native and Veil runs get.
pub const ENV: &[(&str, &str)] = &[
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("HOME", "/root"),
    ("LANG", "C"),
    ("LC_ALL", "C"),
];

/// A scratch directory for a test, outside /tmp (inside an instance /tmp is a RAM file system,
/// so files there are not shared between the native and the Veil run).
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-scratch")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir.canonicalize().expect("canonical scratch dir")
}

/// `veil run` of `python3 -c script` with `dir` mounted, its stdout piped (the script prints
/// `ready` when the test may act on it: see [`wait_ready`]).
pub fn python_under_veil(dir: &Path, script: &str) -> Command {
    let mut cmd = Command::new(veil_bin());
    cmd.args(["run", "--rootfs", "/", "--volume"])
        .arg(format!("{0}:{0}", dir.display()))
        .args(["/usr/bin/python3", "-c", script])
        .stdout(Stdio::piped());
    cmd
}

/// Host processes whose parent is `pid` (any of its threads).
pub fn host_children(pid: u32) -> Vec<u32> {
    let mut all = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let path = task.unwrap().path().join("children");
        let list = std::fs::read_to_string(path).unwrap_or_default();
        all.extend(
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    all
}

/// Whether host process `pid` is an instance's zygote (the source of clean address spaces).
pub fn is_zygote(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "veil-zygote")
}

/// Reads the `ready` line a program under test prints once it is set up.
pub fn wait_ready(child: &mut std::process::Child) {
    use std::io::Read;
    let mut ready = [0u8; 6];
    child
        .stdout
        .as_mut()
        .expect("stdout is piped")
        .read_exact(&mut ready)
        .unwrap();
    assert_eq!(&ready, b"ready\n");
}

/// Fails the test with a hint when a program it runs is not installed.
pub fn need(path: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: run scripts/install-test-deps.sh"
    );
}

/// The `veil` binary under test.
pub fn veil_bin() -> &'static str {
    env!("CARGO_BIN_EXE_veil")
}

/// `veil run` options every test run gets: `--address-space POLICY` when the suite runs with
/// `VEIL_TEST_ADDRESS_SPACE=POLICY` (the whole suite passes with either placement policy).
pub fn policy_args() -> Vec<String> {
    match std::env::var("VEIL_TEST_ADDRESS_SPACE") {
        Ok(policy) if !policy.is_empty() => vec!["--address-space".into(), policy],
        _ => Vec::new(),
    }
}

fn run(mut cmd: Command, stdin: Option<&[u8]>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    if let Some(data) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(data)
            .expect("write stdin");
    }
    // A hang fails the test instead of hanging the suite: a watchdog kills the program.
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let pid = child.id().to_string();
    let watchdog = std::thread::spawn(move || {
        let expired = finished.recv_timeout(RUN_TIME_LIMIT).is_err();
        if expired {
            // Our child, not yet reaped: the pid is still its own.
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
        expired
    });
    let out = child.wait_with_output().expect("wait");
    let _ = done.send(());
    assert!(
        !watchdog.join().unwrap(),
        "{cmd:?} did not finish within {RUN_TIME_LIMIT:?}; its output:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// How long a program run by a test may take.
const RUN_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `argv` natively with a clean environment in `cwd`.
pub fn native(argv: &[&str], cwd: &Path, stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(argv[0]);
    cmd.args(&argv[1..])
        .current_dir(cwd)
        .env_clear()
        .envs(ENV.iter().copied());
    run(cmd, stdin)
}

/// Runs `argv` under `veil run --rootfs /` with the same environment and working directory.
pub fn under_veil(argv: &[&str], cwd: &Path, stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(veil_bin());
    // The scratch directory may lie under /tmp (a RAM file system inside the instance): mount it.
    cmd.args(["run", "--rootfs", "/"])
        .args(policy_args())
        .arg("--volume")
        .arg(format!("{0}:{0}", cwd.display()));
    cmd.arg("--cwd").arg(cwd);
    for (k, v) in ENV {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    cmd.args(argv).env_clear().env("VEIL_LOG", "error");
    run(cmd, stdin)
}

/// Exit status as `veil run` reports it: the code, or 128 + signal.
pub fn code(out: &Output) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    out.status
        .code()
        .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0))
}

/// Runs natively and under Veil and asserts identical stdout and exit status.
pub fn assert_same(argv: &[&str], cwd: &Path, stdin: Option<&[u8]>) -> String {
    let n = native(argv, cwd, stdin);
    let v = under_veil(argv, cwd, stdin);
    let (ns, vs) = (
        String::from_utf8_lossy(&n.stdout),
        String::from_utf8_lossy(&v.stdout),
    );
    assert!(
        ns == vs && code(&n) == code(&v),
        "{argv:?} differs\n--- native (exit {}):\n{ns}\n--- veil (exit {}):\n{vs}\n--- veil stderr:\n{}",
        code(&n),
        code(&v),
        String::from_utf8_lossy(&v.stderr)
    );
    ns.into_owned()
}
