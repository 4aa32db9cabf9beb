//! An instance's host resources stay bounded: threads that ended leave no host threads or
//! mappings behind (their host threads are reused), and nothing in the kernel heap, so a
//! long-running program that keeps creating threads or processes does not make every later
//! fork slower, nor the instance bigger.

mod common;

use common::{host_children, need, python_under_veil, scratch, wait_ready};
use std::fs;

/// Runs python3 `script` under Veil until it prints `ready`, and counts the host threads and
/// host mappings of its (first) address space then.
fn threads_and_mappings_when_ready(dir: &std::path::Path, script: &str) -> (usize, usize) {
    let mut cmd = python_under_veil(dir, script);
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
    (threads, mappings)
}

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
    let (threads, mappings) = threads_and_mappings_when_ready(&dir, script);
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
/// started with (all of them, or a `taskset` subset). The last steps start a child (dash) on
/// the host thread a forked process parked in its new address space: a forked thread once
/// kept its original's host tid there, and the pin went to that thread in the first address
/// space.
#[test]
fn woken_parents_get_their_cpus_back() {
    need("/usr/bin/python3");
    need("/usr/bin/taskset");
    need("/bin/dash");
    let dir = scratch("placement");
    let script = "import os, subprocess, sys, time\n\
                  for _ in range(50):\n    subprocess.run(['/bin/true'], check=True)\n\
                  for _ in range(20):\n    pid = os.fork()\n    os._exit(0) if pid == 0 else os.waitpid(pid, 0)\n\
                  pid = os.fork()\n\
                  if pid == 0:\n    subprocess.Popen(['/bin/dash', '-c', 'sleep 0.2; /bin/true; /bin/true'])\n    os._exit(0)\n\
                  time.sleep(1.5)\n\
                  print('ready', flush=True)\n\
                  sys.stdin.read()\n\
                  os.waitpid(pid, 0)\n";
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

/// Every host process below `pid`.
fn host_descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut pending = vec![pid];
    while let Some(p) = pending.pop() {
        for child in host_children(p) {
            found.push(child);
            pending.push(child);
        }
    }
    found
}

/// The peak virtual memory size of host process `pid` (`VmPeak`, in KiB): a forked copy starts
/// with its original's.
fn peak_virtual_kib(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("VmPeak:"))
        .unwrap();
    line.trim().trim_end_matches("kB").trim().parse().unwrap()
}

/// A program that cannot share its parent's address space (the non-PIE python3 or busybox
/// from the non-PIE python3) starts in a clean one (a fork of the zygote made at boot), and
/// so does one started from there: no host process of the instance but its own ever held a
/// python3's 256 MiB buffer, as a copy of the parent's address space would have until it
/// released it.
#[test]
fn new_address_spaces_hold_nothing_of_their_parent() {
    need("/usr/bin/python3");
    need("/bin/busybox");
    let dir = scratch("clean-spaces");
    let script = "import subprocess, sys\n\
                  ballast = bytearray(256 << 20)\n\
                  inner = '''import subprocess, sys\n\
                  ballast = bytearray(256 << 20)\n\
                  child = subprocess.Popen(['/bin/busybox', 'sleep', '60'])\n\
                  print('ready', flush=True)\n\
                  sys.stdin.read()\n\
                  child.kill()\n\
                  child.wait()\n'''\n\
                  subprocess.run([sys.executable, '-c', inner], check=True)\n";
    let mut cmd = python_under_veil(&dir, script);
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    wait_ready(&mut child);
    // The first address space (python3), the zygote, the inner python3's and busybox's
    // address spaces.
    let processes = host_descendants(child.id());
    let peaks: Vec<(u32, u64)> = processes
        .iter()
        .map(|&p| (p, peak_virtual_kib(p)))
        .collect();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert!(processes.len() >= 4, "host processes: {peaks:?}");
    let smallest = peaks.iter().map(|&(_, kib)| kib).min().unwrap();
    let with_ballast = peaks
        .iter()
        .filter(|&&(_, kib)| kib >= smallest + (200 << 10))
        .count();
    assert_eq!(with_ballast, 2, "peak virtual sizes (KiB): {peaks:?}");
}

/// Rounds of 100 threads alive at once, all ending: the host threads they ran on wait for the
/// next ones (none ends and leaves its host stack mapped), so twenty rounds leave about one
/// round's worth of host threads and mappings, not twenty.
#[test]
fn rounds_of_concurrent_threads_leave_one_round_of_host_threads() {
    need("/usr/bin/python3");
    let dir = scratch("thread-rounds");
    let script = "import sys, threading\n\
                  for _ in range(20):\n    go = threading.Event()\n    \
                  workers = [threading.Thread(target=go.wait) for _ in range(100)]\n    \
                  for w in workers:\n        w.start()\n    \
                  go.set()\n    \
                  for w in workers:\n        w.join()\n\
                  print('ready', flush=True)\n\
                  sys.stdin.read()\n";
    let (threads, mappings) = threads_and_mappings_when_ready(&dir, script);
    // 100 parked host threads (up to 4 mappings each: host stack, and the region's save area,
    // guard page and alternate stack; adjacent host stacks may merge), Python's main thread
    // and the kernel's service thread.
    assert!(threads <= 110, "{threads} host threads");
    assert!(mappings <= 600, "{mappings} host mappings");
}

/// All processes of an address space share one host process's fd table: `veil` raises the
/// host's soft limit on open fds to the hard one, so a program may open as many host files as
/// the instance allows (1024 by default) even when `veil` starts with a low soft limit.
#[test]
fn a_low_host_fd_soft_limit_is_raised() {
    need("/usr/bin/python3");
    need("/usr/bin/prlimit");
    let dir = scratch("host-fd-limit");
    std::fs::write(dir.join("f"), "x").unwrap();
    let script = format!(
        "import os\nfds = [os.open('{}', os.O_RDONLY) for _ in range(500)]\nprint('opened', len(fds))\n",
        dir.join("f").display()
    );
    let veil = python_under_veil(&dir, &script);
    let out = std::process::Command::new("prlimit")
        .arg("--nofile=64:4096")
        .arg(veil.get_program())
        .args(veil.get_args())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "opened 500\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The thread regions (1 MiB each, see `platform-sim/src/trap.rs`) in host process `pid`:
/// their first page (the fast path's save area) is zeroed in forks (`wf` among its flags), as
/// no other mapping is. None if the process is gone.
fn thread_regions(pid: u32) -> Option<usize> {
    let smaps = fs::read_to_string(format!("/proc/{pid}/smaps")).ok()?;
    let mut regions = 0;
    let mut start = 0;
    for line in smaps.lines() {
        if let Some(flags) = line.strip_prefix("VmFlags:") {
            if start % (1 << 20) == 0 && flags.split_whitespace().any(|f| f == "wf") {
                regions += 1;
            }
        } else if let Some((range, _)) = line.split_once(' ')
            && let Some((from, _)) = range.split_once('-')
            && let Ok(address) = usize::from_str_radix(from, 16)
        {
            start = address;
        }
    }
    Some(regions)
}

/// Only the forking thread's region is in a host fork: after forks from several threads (alive
/// meanwhile), a copy made by the main thread holds one region, not one per thread that forked.
#[test]
fn a_fork_copies_only_the_forking_threads_region() {
    need("/usr/bin/python3");
    let dir = scratch("fork-regions");
    let script = "import os, sys, threading\n\
                  done = threading.Event()\n\
                  def forker():\n    \
                  for _ in range(3):\n        pid = os.fork()\n        \
                  if pid == 0:\n            os._exit(0)\n        os.waitpid(pid, 0)\n    \
                  done.wait()\n\
                  threads = [threading.Thread(target=forker) for _ in range(4)]\n\
                  for t in threads:\n    t.start()\n\
                  pid = os.fork()\n\
                  if pid == 0:\n    print('ready', flush=True)\n    sys.stdin.read()\n    os._exit(0)\n\
                  os.waitpid(pid, 0)\n\
                  done.set()\n\
                  for t in threads:\n    t.join()\n";
    let mut cmd = python_under_veil(&dir, script);
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    wait_ready(&mut child);
    let spaces = host_children(child.id());
    assert_eq!(spaces.len(), 1, "one first address space: {spaces:?}");
    // The copy the main thread made (and any copy made by a thread that has not ended yet)
    // holds its own region only. (The zygote, forked at boot, is left out: no fork had marked
    // a region's first page by then.)
    let zygote = |p: u32| {
        fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "veil-zygote")
    };
    let copies: Vec<(u32, usize)> = host_children(spaces[0])
        .into_iter()
        .filter(|&p| !zygote(p))
        .filter_map(|p| Some((p, thread_regions(p)?)))
        .collect();
    let first = thread_regions(spaces[0]).unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert!(first >= 5, "regions of the original: {first}");
    // (A copy that is ending shows no mappings any more.)
    assert!(
        copies.iter().any(|&(_, regions)| regions == 1),
        "regions per copy: {copies:?}"
    );
    assert!(
        copies.iter().all(|&(_, regions)| regions <= 1),
        "regions per copy: {copies:?}"
    );
}

/// The resident size of the kernel heap (the shared mapping at its fixed address,
/// `platform-sim/src/heap.rs`) in host process `pid`, in KiB.
fn kernel_heap_rss_kib(pid: u32) -> u64 {
    let smaps = fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
    let rss = smaps
        .lines()
        .skip_while(|l| !l.starts_with("200000000000-"))
        .find_map(|l| l.strip_prefix("Rss:"))
        .expect("the kernel heap's mapping");
    rss.trim().trim_end_matches("kB").trim().parse().unwrap()
}

/// What an ended thread or process was made of in the kernel heap is freed and reused: the
/// heap of the address space that keeps making them stays the same size. Rounds of forks
/// (children that exit, are killed by a signal, or start threads and exit while they run),
/// threads that end, and programs spawned in the same address space. The kernel's `Thread`
/// and `Process` objects of every one of them used to stay behind (~5 KB a fork), and so did
/// the start record of every host thread made in a forked address space (~250 bytes).
#[test]
fn ended_threads_and_processes_leave_nothing_in_the_kernel_heap() {
    need("/usr/bin/python3");
    let dir = scratch("kernel-heap");
    let script = "import os, signal, subprocess, sys, threading, time\n\
                  def child(how):\n    \
                  pid = os.fork()\n    \
                  if pid == 0:\n        \
                  if how == 'kill':\n            os.kill(os.getpid(), signal.SIGKILL)\n        \
                  if how == 'threads':\n            \
                  for _ in range(2):\n                \
                  threading.Thread(target=time.sleep, args=(10,), daemon=True).start()\n        \
                  os._exit(0)\n    \
                  os.waitpid(pid, 0)\n\
                  def rounds(n):\n    \
                  for i in range(n):\n        \
                  child('exit')\n        child('threads')\n        \
                  t = threading.Thread(target=lambda: None)\n        t.start()\n        t.join()\n        \
                  if i % 10 == 0:\n            \
                  child('kill')\n            \
                  subprocess.run(['/bin/true'], check=True)\n\
                  rounds(100)\n\
                  print('ready', flush=True)\n\
                  sys.stdin.readline()\n\
                  rounds(1000)\n\
                  print('ready', flush=True)\n\
                  sys.stdin.read()\n";
    let mut cmd = python_under_veil(&dir, script);
    // (Each killed child is reported on stderr.)
    cmd.stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    wait_ready(&mut child);
    let spaces = host_children(child.id());
    assert_eq!(spaces.len(), 1, "one first address space: {spaces:?}");
    let before = kernel_heap_rss_kib(spaces[0]);
    use std::io::Write;
    child.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
    wait_ready(&mut child);
    let after = kernel_heap_rss_kib(spaces[0]);
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    // A leak of the objects would be several MiB (2,000 forks, 3,000 threads, 200 more
    // processes), of the host threads' start records ~500 KiB.
    assert!(
        after < before + 256,
        "kernel heap resident: {before} KiB, then {after} KiB"
    );
}
