//! An instance's host resources stay bounded: threads that ended leave no host threads or
//! mappings behind (their host threads are reused), so a long-running program that keeps
//! creating threads or processes does not make every later fork slower.

mod common;

use common::{host_children, need, python_under_veil, scratch, wait_ready};
use std::fs;

#[test]
fn ended_threads_leave_no_host_threads_or_mappings() {
    need("/usr/bin/python3");
    let dir = scratch("host-resources");
    // 300 threads, one after another; then 50 children spawned and reaped (each a LibOS
    // thread too, in the same address space).
    let script = "import subprocess, sys, threading\n\
                  for _ in range(300):\n    t = threading.Thread(target=lambda: None)\n    t.start()\n    t.join()\n\
                  for _ in range(50):\n    subprocess.run(['/bin/true'], check=True)\n\
                  print('ready', flush=True)\n\
                  sys.stdin.read()\n";
    let mut cmd = python_under_veil(&dir, script);
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    wait_ready(&mut child);
    let spaces = host_children(child.id());
    assert_eq!(spaces.len(), 1, "one address-space process: {spaces:?}");
    let space = spaces[0];
    let threads = fs::read_dir(format!("/proc/{space}/task")).unwrap().count();
    let mappings = fs::read_to_string(format!("/proc/{space}/maps"))
        .unwrap()
        .lines()
        .count();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    // Python's main thread, the kernel's service thread and a few parked host threads (a
    // leak would leave hundreds of each).
    assert!(threads <= 8, "{threads} host threads");
    assert!(mappings <= 200, "{mappings} host mappings");
}
