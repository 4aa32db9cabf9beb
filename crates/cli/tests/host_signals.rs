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
