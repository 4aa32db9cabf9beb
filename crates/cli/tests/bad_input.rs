//! Bad input never crashes the LibOS: malformed executables and scripts get
//! `veil: cannot execute PATH: REASON` and exit 126 (127 when the file does not exist).
//! Next to the bad scripts, the good ones they border on: `#!` chains as deep as Veil allows.

mod common;

use common::{assert_same, scratch, under_veil};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Writes an executable file.
fn exe(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A real dynamic executable to mutate.
fn sample() -> Vec<u8> {
    std::fs::read("/bin/true").expect("/bin/true")
}

fn u16_at(b: &[u8], off: usize) -> usize {
    u16::from_le_bytes([b[off], b[off + 1]]) as usize
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

/// Offset of the first program header of type `ty`.
fn phdr_of(b: &[u8], ty: u32) -> usize {
    let (phoff, phnum) = (u64_at(b, 0x20) as usize, u16_at(b, 0x38));
    (0..phnum)
        .map(|i| phoff + i * 56)
        .find(|&o| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) == ty)
        .expect("phdr")
}

fn expect_cannot_execute(path: &Path, reason: &str, want_code: i32) {
    let dir = path.parent().unwrap();
    let out = under_veil(&[path.to_str().unwrap()], dir, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        common::code(&out),
        want_code,
        "{}: stderr: {stderr}",
        path.display()
    );
    assert!(
        stderr.contains(&format!("veil: cannot execute {}", path.display()))
            && stderr.contains(reason),
        "{}: expected reason {reason:?}, got: {stderr}",
        path.display()
    );
}

#[test]
fn malformed_elf_files() {
    let dir = scratch("bad-elf");
    let good = sample();
    expect_cannot_execute(&exe(&dir, "empty", b""), "Exec format error", 126);
    expect_cannot_execute(
        &exe(&dir, "text", b"just some text\n"),
        "Exec format error",
        126,
    );
    expect_cannot_execute(&exe(&dir, "truncated", &good[..20]), "ELF header", 126);
    let mut wrong_machine = good.clone();
    wrong_machine[0x12] = 40; // EM_ARM
    expect_cannot_execute(&exe(&dir, "arm", &wrong_machine), "wrong machine", 126);
    let mut outside = good.clone();
    let load = phdr_of(&outside, 1);
    outside[load + 8..load + 16].copy_from_slice(&(1u64 << 40).to_le_bytes()); // p_offset
    expect_cannot_execute(&exe(&dir, "outside", &outside), "outside the file", 126);
    let mut absurd = good.clone();
    let load = phdr_of(&absurd, 1);
    absurd[load + 16..load + 24].copy_from_slice(&0xffff_ffff_ffff_0000u64.to_le_bytes()); // p_vaddr
    expect_cannot_execute(&exe(&dir, "absurd", &absurd), "out of range", 126);
    let mut big_file = good.clone();
    let load = phdr_of(&big_file, 1);
    let memsz = u64_at(&big_file, load + 40);
    big_file[load + 32..load + 40].copy_from_slice(&(memsz + 4096).to_le_bytes()); // p_filesz > p_memsz
    expect_cannot_execute(&exe(&dir, "filesz", &big_file), "file size exceeds", 126);
    let mut no_interp = good.clone();
    let interp = phdr_of(&no_interp, 3);
    let off = u64_at(&no_interp, interp + 8) as usize;
    no_interp[off + 1] = b'X'; // "/Xib64/ld-linux-x86-64.so.2"
    expect_cannot_execute(
        &exe(&dir, "nointerp", &no_interp),
        "interpreter /Xib64",
        126,
    );
    let mut phentsize = good;
    phentsize[0x36] = 32;
    expect_cannot_execute(&exe(&dir, "phentsize", &phentsize), "program header", 126);
}

#[test]
fn missing_and_unexecutable_programs() {
    let dir = scratch("bad-exec");
    expect_cannot_execute(
        &dir.join("does-not-exist"),
        "No such file or directory",
        127,
    );
    std::fs::create_dir(dir.join("a-dir")).unwrap();
    expect_cannot_execute(&dir.join("a-dir"), "Permission denied", 126);
    let plain = dir.join("plain");
    std::fs::write(&plain, b"#!/bin/sh\necho hi\n").unwrap();
    expect_cannot_execute(&plain, "Permission denied", 126);
}

#[test]
fn bad_scripts() {
    let dir = scratch("bad-scripts");
    let looping = dir.join("loop.sh");
    exe(
        &dir,
        "loop.sh",
        format!("#!{}\n", looping.display()).as_bytes(),
    );
    expect_cannot_execute(&looping, "nested", 126);
    expect_cannot_execute(
        &exe(&dir, "missing.sh", b"#!/no/such/interpreter\n"),
        "interpreter /no/such/interpreter",
        126,
    );
    expect_cannot_execute(&exe(&dir, "empty.sh", b"#!\n"), "empty #! line", 126);
}

/// Scripts whose interpreter is a script: a chain of `depth` scripts in `dir`, the first run
/// by `end` (with `body` as its text), each next one by the previous one with an optional
/// argument. Returns the last script, and what the chain hands `end`: the arguments
/// (interpreter arguments and script paths) that come before those of the last script.
fn script_chain(dir: &Path, tag: &str, end: &str, body: &str, depth: usize) -> (String, String) {
    let mut interp = end.to_string();
    let mut prefix = Vec::new();
    for k in 1..=depth {
        let text = if k == 1 {
            format!("#!{interp}\n{body}\n")
        } else {
            prefix.push(format!("arg{k}"));
            format!("#!{interp} arg{k}\n")
        };
        let script = exe(dir, &format!("{tag}-{depth}-{k}"), text.as_bytes());
        interp = script.to_str().unwrap().to_string();
        prefix.push(interp.clone());
    }
    (interp, prefix.join(" "))
}

/// Nested `#!` scripts run as on Linux, 2 to 5 deep (Linux's limit; see `bad_scripts` for a
/// loop), ending in a shell or in a plain program.
#[test]
fn nested_scripts() {
    let dir = scratch("nested-scripts");
    // The shells exit with a status of their own, which must pass through too.
    for (tag, end, body) in [
        ("sh", "/bin/sh", "echo \"$0 $*\"; exit 3"),
        ("dash", "/bin/dash", "echo \"$0 $*\"; exit 4"),
        ("echo", "/bin/echo", ""),
    ] {
        common::need(end);
        for depth in 2..=5 {
            let (last, prefix) = script_chain(&dir, tag, end, body, depth);
            let out = assert_same(&[&last, "x", "two words"], &dir, None);
            assert_eq!(
                out,
                format!("{prefix} x two words\n"),
                "{tag}, {depth} deep"
            );
        }
    }
}

#[test]
fn a_crashing_program_reports_the_fault() {
    let dir = scratch("crash");
    let src = dir.join("crash.c");
    std::fs::write(
        &src,
        "int main(void) { volatile int *p = (int *)16; return *p; }\n",
    )
    .unwrap();
    let bin = dir.join("crash");
    let cc = std::process::Command::new("gcc")
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .status()
        .unwrap();
    assert!(cc.success());
    let out = under_veil(&[bin.to_str().unwrap()], &dir, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(common::code(&out), 139, "{stderr}");
    assert!(
        stderr.contains("killed by SIGSEGV") && stderr.contains("address 0x10"),
        "{stderr}"
    );
}

/// A process told to end by a signal (SIGTERM, SIGKILL: a shell's `kill`, a process pool's
/// workers at exit) ends quietly, as on Linux: only crashes are reported.
#[test]
fn a_terminated_process_ends_quietly() {
    let dir = scratch("terminated");
    let script = "sh -c 'kill -TERM $$'; echo $?; sh -c 'kill -KILL $$'; echo $?";
    let out = under_veil(&["/bin/sh", "-c", script], &dir, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "143\n137\n",
        "{stderr}"
    );
    assert!(!stderr.contains("killed by"), "{stderr}");
}

/// Starts a Python whose forked child (in an address space of its own) prints its ready line
/// and sleeps; returns `veil` and the host pids of the two address spaces.
fn instance_with_forked_child(name: &str) -> (std::process::Child, u32, u32) {
    let dir = scratch(name);
    let script = "import os, time\n\
                  pid = os.fork()\n\
                  if pid == 0:\n    print('ready', flush=True)\n    time.sleep(60)\n    os._exit(0)\n\
                  os.waitpid(pid, 0)\n";
    let mut child = common::python_under_veil(&dir, script)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_ready(&mut child);
    // veil → first address space → the forked child's address space (and the zygote).
    let first = common::host_children(child.id());
    assert_eq!(first.len(), 1, "veil should have one child process");
    let forked: Vec<u32> = common::host_children(first[0])
        .into_iter()
        .filter(|&p| !common::is_zygote(p))
        .collect();
    assert_eq!(
        forked.len(),
        1,
        "the first address space should have one child process"
    );
    (child, first[0], forked[0])
}

fn kill9(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The host process of an address space killed from outside (or crashed) while it held a
/// process: the instance ends with a clear error instead of waiting forever for that process.
#[test]
fn a_killed_address_space_ends_the_instance() {
    let (child, _, forked) = instance_with_forked_child("killed-address-space");
    kill9(forked);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("died unexpectedly"), "{stderr}");
}

/// The first address space killed from outside: `veil` reports it, and no other address space
/// of the instance outlives it.
#[test]
fn a_killed_first_address_space_takes_the_others_with_it() {
    let (child, first, forked) = instance_with_forked_child("killed-first-address-space");
    kill9(first);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128 + 9), "{stderr}");
    assert!(stderr.contains("died unexpectedly"), "{stderr}");
    assert!(
        !std::path::Path::new(&format!("/proc/{forked}")).exists(),
        "the forked child's address space (host pid {forked}) is still running"
    );
}

/// The zygote (the source of clean address spaces) killed from outside: programs that need an
/// address space of their own start in a copy of their parent's instead (with a log line), and
/// the instance goes on.
#[test]
fn a_killed_zygote_leaves_the_instance_running() {
    common::need("/usr/bin/python3");
    common::need("/bin/busybox");
    let dir = scratch("killed-zygote");
    let script = "import subprocess, sys\n\
                  subprocess.run(['/bin/busybox', 'true'], check=True)\n\
                  print('ready', flush=True)\n\
                  sys.stdin.readline()\n\
                  for attempt in range(2):\n    \
                      try:\n        \
                          print(attempt, subprocess.run(['/bin/busybox', 'echo', 'ran'], capture_output=True, text=True).stdout.strip(), flush=True)\n    \
                      except OSError as e:\n        \
                          print(attempt, e.errno, flush=True)\n";
    let mut child = common::python_under_veil(&dir, script)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_ready(&mut child);
    let first = common::host_children(child.id());
    let zygotes: Vec<u32> = common::host_children(first[0])
        .into_iter()
        .filter(|&p| common::is_zygote(p))
        .collect();
    assert_eq!(zygotes.len(), 1, "one zygote");
    kill9(zygotes[0]);
    while std::path::Path::new(&format!("/proc/{}", zygotes[0])).exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "0 ran\n1 ran\n", "{stderr}");
    assert!(stderr.contains("no clean address space"), "{stderr}");
}
