//! Signals sent to `veil run` reach the program inside as the same signals: a handler runs
//! (interrupting a blocking call), or the default action ends the program and `veil` exits with
//! 128 + signal.

mod common;

use common::{python_under_veil, scratch, wait_ready};
use std::process::{Command, Stdio};
use std::time::Duration;

fn send(child: &std::process::Child, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn sigterm_reaches_a_handler_and_sigint_kills() {
    let dir = scratch("host-signals");
    let script = "import signal, sys, time\n\
                  signal.signal(signal.SIGTERM, lambda s, f: (print('handled', s, flush=True), sys.exit(7)))\n\
                  print('ready', flush=True)\n\
                  time.sleep(30)\n";
    let run = |script: &str| python_under_veil(&dir, script).spawn().unwrap();

    let mut child = run(script);
    wait_ready(&mut child);
    send(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "handled 15\n");
    assert_eq!(out.status.code(), Some(7));

    // Without a handler for it, SIGINT's default action is to end the program (Python turns
    // SIGINT into KeyboardInterrupt, so restore the default first).
    let mut child = run(
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_DFL)\nprint('ready', flush=True)\ntime.sleep(30)\n",
    );
    wait_ready(&mut child);
    std::thread::sleep(Duration::from_millis(50));
    send(&child, "INT");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
}

/// A signal sent to the process group `veil` leads (as a shell's `kill -TERM -PGID` or a job
/// control stop would) reaches the program once, not once through `veil` and once more
/// through the address-space process that shares the group.
#[test]
fn a_signal_to_the_whole_group_arrives_once() {
    use std::os::unix::process::CommandExt;
    let dir = scratch("host-signals-group");
    let script = "import signal, time\n\
                  hits = []\n\
                  signal.signal(signal.SIGUSR1, lambda s, f: hits.append(s))\n\
                  print('ready', flush=True)\n\
                  deadline = time.time() + 1.0\n\
                  while time.time() < deadline:\n    time.sleep(0.05)\n\
                  print(len(hits))\n";
    let mut child = python_under_veil(&dir, script)
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    wait_ready(&mut child);
    let status = Command::new("kill")
        .args(["-USR1", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        (
            String::from_utf8_lossy(&out.stdout).as_ref(),
            out.status.code()
        ),
        ("1\n", Some(0)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Ctrl-C on `veil run`'s terminal: the terminal signals its whole foreground process group
/// (`veil` and the instance's address-space processes), and the program gets SIGINT once.
#[test]
fn ctrl_c_on_the_terminal_reaches_the_program() {
    common::need("/usr/bin/python3");
    // A host Python drives a pseudo-terminal: `veil run` is its foreground job.
    let driver = r#"
import os, pty, sys, time
veil = sys.argv[1]
program = "import signal, time\n" \
          "signal.signal(signal.SIGINT, lambda s, f: (print('handled', s, flush=True), exit(3)))\n" \
          "print('ready', flush=True)\n" \
          "time.sleep(30)\n"
pid, fd = pty.fork()
if pid == 0:
    os.execv(veil, [veil, "run", "--rootfs", "/", "/usr/bin/python3", "-c", program])
out = b""
while b"ready" not in out:
    out += os.read(fd, 100)
time.sleep(0.1)
os.write(fd, b"\x03")
_, status = os.waitpid(pid, 0)
try:
    while True:
        chunk = os.read(fd, 100)
        if not chunk:
            break
        out += chunk
except OSError:
    pass
print(out.count(b"handled 2"), os.waitstatus_to_exitcode(status))
"#;
    let out = Command::new("/usr/bin/python3")
        .args(["-c", driver, common::veil_bin()])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1 3",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Ctrl-Z on `veil run`'s terminal: the program inside gets SIGTSTP (its handler runs, as an
/// editor's would to restore the terminal) and, once it stops, `veil run` stops too, so the
/// shell sees its job stopped; the shell's SIGCONT (`fg`) continues both. Without a handler
/// the default action stops the program the same way.
#[test]
fn ctrl_z_on_the_terminal_stops_the_job_and_sigcont_resumes_it() {
    common::need("/usr/bin/python3");
    let driver = r#"
import os, pty, signal, sys, time
veil, with_handler = sys.argv[1], sys.argv[2] == "1"
program = "import os, signal\n" \
          + ("signal.signal(signal.SIGTSTP, lambda s, f: (print('tstp', flush=True), os.kill(os.getpid(), signal.SIGSTOP)))\n" if with_handler else "") \
          + "print('ready', flush=True)\n" \
          + "__import__('time').sleep(1.5)\n" \
          + "print('back', flush=True)\n" \
          + "exit(5)\n"
pid, fd = pty.fork()
if pid == 0:
    os.execv(veil, [veil, "run", "--rootfs", "/", "/usr/bin/python3", "-c", program])
out = b""
while b"ready" not in out:
    out += os.read(fd, 100)
time.sleep(0.1)
os.write(fd, b"\x1a")
_, status = os.waitpid(pid, os.WUNTRACED)
stopped = os.WIFSTOPPED(status)
os.killpg(pid, signal.SIGCONT)
_, status = os.waitpid(pid, 0)
try:
    while True:
        chunk = os.read(fd, 100)
        if not chunk:
            break
        out += chunk
except OSError:
    pass
print(stopped, out.count(b"tstp"), out.count(b"back"), os.waitstatus_to_exitcode(status))
"#;
    for (with_handler, expected) in [("1", "True 1 1 5"), ("0", "True 0 1 5")] {
        let out = Command::new("/usr/bin/python3")
            .args(["-c", driver, common::veil_bin(), with_handler])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            expected,
            "handler {with_handler}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
