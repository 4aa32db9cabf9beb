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

/// Runs `program` (Python source that prints `ready` once its handlers are set) with
/// `veil run --rootfs / python3 -c` as the foreground job of a pseudo-terminal driven by a host
/// Python, types `key` once it is ready, and, with `job_control`, waits for the job to stop and
/// continues it as a shell's `fg` would. Returns whether it stopped ("None" without job
/// control), its exit code, and everything it wrote to the terminal.
fn on_a_terminal(program: &str, key: &str, job_control: bool) -> (String, i32, String) {
    common::need("/usr/bin/python3");
    let driver = r#"
import os, pty, signal, sys, time
veil, program, key, job_control = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
pid, fd = pty.fork()
if pid == 0:
    os.execv(veil, [veil, "run", "--rootfs", "/", "/usr/bin/python3", "-c", program])
out = b""
while b"ready" not in out:
    out += os.read(fd, 100)
time.sleep(0.1)
os.write(fd, key.encode())
stopped = None
if job_control:
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
print(stopped, os.waitstatus_to_exitcode(status))
sys.stdout.write(out.decode(errors="replace"))
"#;
    let job = if job_control { "1" } else { "0" };
    let out = Command::new("/usr/bin/python3")
        .args(["-c", driver, common::veil_bin(), program, key, job])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (first, terminal) = stdout.split_once('\n').unwrap_or((&stdout, ""));
    let mut fields = first.split_whitespace();
    let stopped = fields.next().unwrap_or("").to_string();
    let Some(code) = fields.next().and_then(|c| c.parse().ok()) else {
        panic!(
            "driver output {stdout:?}, stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    (stopped, code, terminal.to_string())
}

/// Ctrl-C on `veil run`'s terminal: the terminal signals its whole foreground process group
/// (`veil` and the instance's address-space processes), and the program gets SIGINT once.
#[test]
fn ctrl_c_on_the_terminal_reaches_the_program() {
    let program = "import signal, time\n\
                   signal.signal(signal.SIGINT, lambda s, f: (print('handled', s, flush=True), exit(3)))\n\
                   print('ready', flush=True)\n\
                   time.sleep(30)\n";
    let (_, code, terminal) = on_a_terminal(program, "\x03", false);
    assert_eq!(
        (terminal.matches("handled 2").count(), code),
        (1, 3),
        "{terminal}"
    );
}

/// Ctrl-Z on `veil run`'s terminal: the program inside gets SIGTSTP (its handler runs, as an
/// editor's would to restore the terminal) and, once it stops, `veil run` stops too, so the
/// shell sees its job stopped; the shell's SIGCONT (`fg`) continues both. Without a handler
/// the default action stops the program the same way.
#[test]
fn ctrl_z_on_the_terminal_stops_the_job_and_sigcont_resumes_it() {
    let handler = "signal.signal(signal.SIGTSTP, lambda s, f: \
                   (print('tstp', flush=True), os.kill(os.getpid(), signal.SIGSTOP)))\n";
    for with_handler in [true, false] {
        let program = format!(
            "import os, signal, time\n{}print('ready', flush=True)\ntime.sleep(1.5)\n\
             print('back', flush=True)\nexit(5)\n",
            if with_handler { handler } else { "" }
        );
        let (stopped, code, terminal) = on_a_terminal(&program, "\x1a", true);
        let seen = (
            stopped.as_str(),
            terminal.matches("tstp").count(),
            terminal.matches("back").count(),
            code,
        );
        let expected = ("True", usize::from(with_handler), 1, 5);
        assert_eq!(seen, expected, "handler {with_handler}: {terminal}");
    }
}
