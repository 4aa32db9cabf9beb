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

/// The CPUs each host thread of `space` may run on (`Cpus_allowed_list`).
fn allowed_cpus_of_threads(space: u32) -> Vec<String> {
    fs::read_dir(format!("/proc/{space}/task"))
        .unwrap()
        .map(|task| {
            let status = fs::read_to_string(task.unwrap().path().join("status")).unwrap();
            status
                .lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .unwrap()
                .trim()
                .to_string()
        })
        .collect()
}

/// Children that exec and end pin their waiting parent's host thread to their own CPU for the
/// wake-up (`process::placement`), and a vfork parent pins the host thread it starts its child
/// on: afterwards every host thread has the instance's CPUs again, those `veil run` was
/// started with (all of them, or a `taskset` subset).
#[test]
fn woken_parents_get_their_cpus_back() {
    need("/usr/bin/python3");
    need("/usr/bin/taskset");
    let dir = scratch("placement");
    let script = "import os, subprocess, sys\n\
                  for _ in range(50):\n    subprocess.run(['/bin/true'], check=True)\n\
                  for _ in range(20):\n    pid = os.fork()\n    os._exit(0) if pid == 0 else os.waitpid(pid, 0)\n\
                  print('ready', flush=True)\n\
                  sys.stdin.read()\n";
    let cpus = std::thread::available_parallelism().unwrap().get();
    for restricted in [false, true] {
        let mut cmd = python_under_veil(&dir, script);
        if restricted {
            let veil = cmd.get_program().to_owned();
            let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
            cmd = std::process::Command::new("taskset");
            cmd.args(["-c", "0"]).arg(veil).args(args);
            cmd.stdout(std::process::Stdio::piped());
        }
        cmd.stdin(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        wait_ready(&mut child);
        let expected = match (restricted, cpus) {
            (true, _) | (false, 1) => "0".to_string(),
            (false, n) => format!("0-{}", n - 1),
        };
        for space in host_children(child.id()) {
            for allowed in allowed_cpus_of_threads(space) {
                assert_eq!(
                    allowed, expected,
                    "a host thread of {space} (taskset: {restricted})"
                );
            }
        }
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
    }
}
