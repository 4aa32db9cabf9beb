//! The C test suite: every `tests/c/*.c` program runs natively (the oracle)
//! and then under Veil; stdout and the exit status must match exactly.
//!
//! At start the harness compiles each program in up to five variants
//! ([`VARIANTS`]) into `<target>/c-tests/<variant>/<program>`, in parallel and
//! only when the binary is older than its sources or was built with other
//! flags. Each (program, variant) pair is one libtest-mimic trial named
//! `<variant>/<program>`, so the usual test filters work:
//!
//! ```text
//! cargo test -p veil --test c_programs -- gcc-static/
//! cargo test -p veil --test c_programs -- --exact musl-dyn/hello
//! ```
//!
//! A program may declare options in leading `// veil-test:` comment lines
//! (see `tests/c/README.md`): `args=`, `env=`, `variants=`, `stdin=`,
//! `expect-exit=`, `expect-signal=` and `timeout=`.
//!
//! Environment knobs:
//! - `VEIL_TEST_NATIVE_ONLY=1`: do not run Veil; run every program natively
//!   twice and require identical results (checks that the programs are
//!   deterministic and behave as their headers declare).
//! - `VEIL_TEST_TIMEOUT=<seconds>`: default per-run timeout (30 s).
//!
//! `tests/c/known-failures.txt` lists programs (or `variant/program`) that Veil does not pass
//! yet, each with the issue that will fix it. They still run: a failure is reported as ignored
//! with its reason, and a pass fails the trial so that the entry gets removed.

mod common;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// One way of compiling a test program.
struct Variant {
    /// Directory and trial-name prefix.
    name: &'static str,
    /// Compiler driver.
    compiler: &'static str,
    /// Flags added after the common ones.
    flags: &'static [&'static str],
    /// Files that must exist for binaries of this variant to run.
    runtime_files: &'static [&'static str],
}

/// Flags shared by all variants.
const COMMON_FLAGS: &[&str] = &["-O1", "-g", "-Wall", "-Wextra", "-Werror"];

/// The compile variants (DESIGN §8).
const VARIANTS: &[Variant] = &[
    Variant {
        name: "gcc-dyn",
        compiler: "gcc",
        flags: &[],
        runtime_files: &[],
    },
    Variant {
        name: "gcc-static",
        compiler: "gcc",
        flags: &["-static"],
        runtime_files: &[],
    },
    Variant {
        name: "gcc-static-pie",
        compiler: "gcc",
        flags: &["-static-pie"],
        runtime_files: &[],
    },
    Variant {
        name: "musl-static",
        compiler: "musl-gcc",
        flags: &["-static"],
        runtime_files: &[],
    },
    Variant {
        name: "musl-dyn",
        compiler: "musl-gcc",
        flags: &[],
        runtime_files: &["/lib/ld-musl-x86_64.so.1"],
    },
];

/// `PATH` given to every program (natively and under Veil).
const GUEST_PATH: &str = "/usr/bin:/bin";

/// Default time limit for one run of a program.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How many compilers run at once.
const COMPILE_JOBS: usize = 3;

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl Status {
    fn from_exit(status: ExitStatus) -> Status {
        match (status.code(), status.signal()) {
            (Some(code), _) => Status::Code(code),
            (None, Some(sig)) => Status::Signal(sig),
            (None, None) => Status::Code(-1),
        }
    }

    /// The exit code `veil run` must report for a guest that ended this way.
    fn as_veil_exit(self) -> Status {
        match self {
            Status::Code(c) => Status::Code(c),
            Status::Signal(s) => Status::Code(128 + s),
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Code(c) => write!(f, "exit code {c}"),
            Status::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// Options a program declares in its `// veil-test:` header lines.
#[derive(Clone, Debug)]
struct Options {
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Restrict to these variants (all when `None`).
    variants: Option<Vec<String>>,
    /// File under `tests/c/` fed as stdin (`/dev/null` otherwise).
    stdin: Option<PathBuf>,
    expect: Status,
    timeout: Duration,
}

/// Parse the leading comment block of a program. Tokens are separated by
/// white space (double quotes group); `key=value` starts an option and
/// further tokens without a known key continue the previous one.
fn parse_options(
    source: &str,
    src_dir: &Path,
    default_timeout: Duration,
) -> Result<Options, String> {
    let mut opts = Options {
        args: Vec::new(),
        env: Vec::new(),
        variants: None,
        stdin: None,
        expect: Status::Code(0),
        timeout: default_timeout,
    };
    let mut current: Option<String> = None;
    for line in source.lines() {
        let line = line.trim();
        if !line.starts_with("//") {
            break;
        }
        let Some(rest) = line
            .trim_start_matches('/')
            .trim()
            .strip_prefix("veil-test:")
        else {
            continue;
        };
        for token in split_words(rest)? {
            let (key, value) = match token.split_once('=') {
                Some((k, v)) if is_option_key(k) => (k.to_string(), v.to_string()),
                _ => match &current {
                    Some(k) => (k.clone(), token.clone()),
                    None => return Err(format!("veil-test header: stray token {token:?}")),
                },
            };
            match key.as_str() {
                "args" => {
                    if !value.is_empty() {
                        opts.args.push(value);
                    }
                }
                "env" => {
                    let (k, v) = value.split_once('=').ok_or_else(|| {
                        format!("veil-test header: env entry {value:?} lacks '='")
                    })?;
                    opts.env.push((k.to_string(), v.to_string()));
                }
                "variants" => {
                    let list = opts.variants.get_or_insert_with(Vec::new);
                    for v in value.split(',').filter(|v| !v.is_empty()) {
                        if !VARIANTS.iter().any(|known| known.name == v) {
                            return Err(format!("veil-test header: unknown variant {v:?}"));
                        }
                        list.push(v.to_string());
                    }
                }
                "stdin" => opts.stdin = Some(src_dir.join(value)),
                "expect-exit" => opts.expect = Status::Code(parse_num(&key, &value)?),
                "expect-signal" => opts.expect = Status::Signal(parse_num(&key, &value)?),
                "timeout" => opts.timeout = Duration::from_secs(parse_num(&key, &value)?),
                _ => unreachable!("is_option_key admitted {key}"),
            }
            current = Some(key);
        }
    }
    Ok(opts)
}

fn is_option_key(key: &str) -> bool {
    matches!(
        key,
        "args" | "env" | "variants" | "stdin" | "expect-exit" | "expect-signal" | "timeout"
    )
}

fn parse_num<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("veil-test header: bad number for {key}: {value:?}"))
}

/// Split on white space; double quotes group words (no escapes).
fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err(format!("veil-test header: unbalanced quote in {s:?}"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// A test program found in `tests/c`.
struct Program {
    name: String,
    source: PathBuf,
    /// Parsed header, or why it could not be parsed.
    options: Result<Options, String>,
}

fn find_programs(src_dir: &Path, default_timeout: Duration) -> Vec<Program> {
    let mut programs: Vec<Program> = fs::read_dir(src_dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", src_dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension() == Some(OsStr::new("c"))).then_some(path)
        })
        .map(|source| {
            let name = source.file_stem().unwrap().to_string_lossy().into_owned();
            let options = fs::read_to_string(&source)
                .map_err(|e| format!("cannot read {}: {e}", source.display()))
                .and_then(|text| parse_options(&text, src_dir, default_timeout));
            Program {
                name,
                source,
                options,
            }
        })
        .collect();
    programs.sort_by(|a, b| a.name.cmp(&b.name));
    programs
}

/// Whether a variant can be built and run on this machine (`Err` = reason).
fn variant_available(v: &Variant) -> Result<(), String> {
    let probe = Command::new(v.compiler)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !matches!(probe, Ok(s) if s.success()) {
        return Err(format!("{} is not installed", v.compiler));
    }
    for f in v.runtime_files {
        if !Path::new(f).exists() {
            return Err(format!("{f} is missing"));
        }
    }
    Ok(())
}

/// One compilation to do.
struct CompileJob {
    variant: &'static Variant,
    source: PathBuf,
    output: PathBuf,
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Compile one program unless an up-to-date binary built with the same
/// command line exists. Returns the compiler's diagnostics on failure.
fn compile(job: &CompileJob, extra_deps: &[PathBuf]) -> Result<(), String> {
    let mut args: Vec<String> = COMMON_FLAGS
        .iter()
        .chain(job.variant.flags)
        .map(|s| s.to_string())
        .collect();
    let tmp = job.output.with_extension("tmp");
    args.push("-o".into());
    args.push(tmp.display().to_string());
    args.push(job.source.display().to_string());
    let cmdline = format!("{} {}\n", job.variant.compiler, args.join(" "));
    let stamp = job.output.with_extension("cmd");

    let newest_input = std::iter::once(&job.source)
        .chain(extra_deps)
        .filter_map(|p| mtime(p))
        .max();
    let fresh = match (mtime(&job.output), newest_input) {
        (Some(out), Some(input)) => out > input,
        _ => false,
    };
    if fresh && fs::read_to_string(&stamp).ok().as_deref() == Some(cmdline.as_str()) {
        return Ok(());
    }

    let out = Command::new(job.variant.compiler)
        .args(&args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", job.variant.compiler))?;
    if !out.status.success() {
        let _ = fs::remove_file(&tmp);
        return Err(format!(
            "compilation failed ({}):\n$ {cmdline}{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    fs::rename(&tmp, &job.output).map_err(|e| format!("rename {}: {e}", tmp.display()))?;
    fs::write(&stamp, cmdline).map_err(|e| format!("write {}: {e}", stamp.display()))?;
    Ok(())
}

/// Compile all jobs with a few worker threads; results are keyed by output path.
fn compile_all(
    jobs: Vec<CompileJob>,
    extra_deps: &[PathBuf],
) -> HashMap<PathBuf, Result<(), String>> {
    let queue = Mutex::new(jobs);
    let results = Mutex::new(HashMap::new());
    thread::scope(|s| {
        for _ in 0..COMPILE_JOBS {
            s.spawn(|| {
                loop {
                    let Some(job) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let result = compile(&job, extra_deps);
                    results.lock().unwrap().insert(job.output.clone(), result);
                }
            });
        }
    });
    results.into_inner().unwrap()
}

/// What one run of a program produced.
struct RunOutput {
    status: Status,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Spawn `cmd` in its own process group, collect its output, and kill the
/// whole group if it runs longer than `timeout`.
fn run_with_timeout(
    mut cmd: Command,
    stdin: Option<&Path>,
    timeout: Duration,
) -> Result<RunOutput, String> {
    let stdin = match stdin {
        Some(path) => {
            Stdio::from(fs::File::open(path).map_err(|e| format!("stdin {}: {e}", path.display()))?)
        }
        None => Stdio::null(),
    };
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child: Child = cmd
        .spawn()
        .map_err(|e| format!("cannot spawn {cmd:?}: {e}"))?;
    let out_reader = spawn_reader(child.stdout.take().unwrap());
    let err_reader = spawn_reader(child.stderr.take().unwrap());

    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_group(child.id());
                let _ = child.wait();
                let stderr = err_reader.join().unwrap_or_default();
                return Err(format!(
                    "timed out after {} s; stderr:\n{}",
                    timeout.as_secs(),
                    tail(&String::from_utf8_lossy(&stderr), 4000)
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("wait failed: {e}")),
        }
    };
    // Anything the program left behind in its group would keep our pipes open.
    kill_group(child.id());
    Ok(RunOutput {
        status: Status::from_exit(status),
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    })
}

fn spawn_reader(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// Minimal libc bindings (the `veil` crate has no `libc` dependency).
mod sys {
    use std::ffi::c_int;

    unsafe extern "C" {
        pub fn kill(pid: c_int, sig: c_int) -> c_int;
        pub fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    }
    pub const SIGKILL: c_int = 9;
    pub const F_SETFD: c_int = 2;
    pub const FD_CLOEXEC: c_int = 1;
}

/// SIGKILL every process in the group led by `pid`.
fn kill_group(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        sys::kill(-pid, sys::SIGKILL);
    }
}

/// Mark every inherited descriptor above stderr close-on-exec, so the test
/// programs see exactly fds 0, 1 and 2 (their output depends on fd numbers).
fn close_inherited_fds() {
    let Ok(dir) = fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: F_SETFD only changes the descriptor's flags; an fd that is
        // not open any more (the read_dir one) just yields EBADF.
        unsafe {
            sys::fcntl(fd, sys::F_SETFD, sys::FD_CLOEXEC);
        }
    }
}

fn native_command(binary: &Path, opts: &Options) -> Command {
    let mut cmd = Command::new(binary);
    cmd.args(&opts.args)
        .env_clear()
        .envs(guest_env(opts))
        .current_dir("/");
    cmd
}

fn veil_command(binary: &Path, opts: &Options) -> Command {
    let mut cmd = Command::new(common::veil_bin());
    cmd.args(["run", "--rootfs", "/"])
        .args(common::policy_args());
    // The checkout may lie under /tmp, which is a RAM file system inside the instance: mount the
    // binaries' directory at its own path.
    let dir = binary.parent().expect("binaries live in a directory");
    cmd.arg("--volume").arg(format!("{0}:{0}", dir.display()));
    for (k, v) in guest_env(opts) {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    // A clean host environment: no host variable (TERM, ...) may leak into the guest.
    cmd.arg(binary)
        .args(&opts.args)
        .current_dir("/")
        .env_clear();
    cmd
}

/// The complete environment of a guest program.
fn guest_env(opts: &Options) -> Vec<(String, String)> {
    let mut env = opts.env.clone();
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), GUEST_PATH.into()));
    }
    // `veil run --rootfs` gives every program HOME=/root, like a container; natively too.
    if !env.iter().any(|(k, _)| k == "HOME") {
        env.push(("HOME".into(), "/root".into()));
    }
    env
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// A readable description of how two outputs differ: a few lines of
/// context, then the differing lines of each side; the first difference is
/// marked with `>>`.
fn describe_diff(left_name: &str, left: &[u8], right_name: &str, right: &[u8]) -> String {
    let l = String::from_utf8_lossy(left);
    let r = String::from_utf8_lossy(right);
    let ll: Vec<&str> = l.split_inclusive('\n').collect();
    let rl: Vec<&str> = r.split_inclusive('\n').collect();
    let first = ll
        .iter()
        .zip(&rl)
        .position(|(a, b)| a != b)
        .unwrap_or(ll.len().min(rl.len()));
    let mut out = format!(
        "stdout differs at line {} ({left_name}: {} lines / {} bytes, {right_name}: {} lines / {} bytes)\n",
        first + 1,
        ll.len(),
        left.len(),
        rl.len(),
        right.len()
    );
    let show = |line: &str| format!("{:?}", line.strip_suffix('\n').unwrap_or(line));
    for line in &ll[first.saturating_sub(3)..first] {
        let _ = writeln!(out, "     {}", show(line));
    }
    for (name, lines, sign) in [(left_name, &ll, '-'), (right_name, &rl, '+')] {
        let _ = writeln!(out, "  {sign} {name}:");
        if first >= lines.len() {
            let _ = writeln!(out, ">> {sign}  <end of output>");
        }
        for (i, line) in lines.iter().enumerate().skip(first).take(6) {
            let mark = if i == first { ">>" } else { "  " };
            let _ = writeln!(out, "{mark} {sign}  {}", show(line));
        }
        if lines.len() > first + 6 {
            let _ = writeln!(out, "   {sign}  ... {} more lines", lines.len() - first - 6);
        }
    }
    out
}

/// Run a native binary and require the status its header declares.
fn run_native(binary: &Path, opts: &Options) -> Result<RunOutput, Failed> {
    let out = run_with_timeout(
        native_command(binary, opts),
        opts.stdin.as_deref(),
        opts.timeout,
    )
    .map_err(|e| format!("native run: {e}"))?;
    if out.status != opts.expect {
        return Err(format!(
            "native run (the oracle) ended with {} but the test expects {}: the test program is broken\n\
             --- native stdout (tail):\n{}\n--- native stderr (tail):\n{}",
            out.status,
            opts.expect,
            tail(&String::from_utf8_lossy(&out.stdout), 3000),
            tail(&String::from_utf8_lossy(&out.stderr), 3000)
        )
        .into());
    }
    Ok(out)
}

/// One trial: native oracle, then Veil (or a second native run).
fn run_trial(
    binary: &Path,
    opts: &Options,
    native_only: bool,
    lock: &Mutex<()>,
) -> Result<(), Failed> {
    // Variants of one program share its /tmp scratch directory.
    let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    let native = run_native(binary, opts)?;

    if native_only {
        let again = run_native(binary, opts)?;
        if again.stdout != native.stdout {
            return Err(format!(
                "program is not deterministic: two native runs differ\n{}",
                describe_diff(
                    "native run 1",
                    &native.stdout,
                    "native run 2",
                    &again.stdout
                )
            )
            .into());
        }
        return Ok(());
    }

    let veil = run_with_timeout(
        veil_command(binary, opts),
        opts.stdin.as_deref(),
        opts.timeout,
    )
    .map_err(|e| format!("veil run: {e}"))?;
    let expected = native.status.as_veil_exit();
    let mut problems = String::new();
    if veil.status != expected {
        let _ = writeln!(
            problems,
            "exit status: native {} => expected veil {expected}, got {}",
            native.status, veil.status
        );
    }
    if veil.stdout != native.stdout {
        problems.push_str(&describe_diff(
            "native",
            &native.stdout,
            "veil",
            &veil.stdout,
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let _ = write!(
        problems,
        "--- veil stderr (tail):\n{}",
        tail(&String::from_utf8_lossy(&veil.stderr), 4000)
    );
    Err(problems.into())
}

/// Reads `known-failures.txt`: `name: reason` lines, where name is `program` or
/// `variant/program`; `#` starts a comment.
fn read_known_failures(path: &Path) -> io::Result<HashMap<String, String>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(name, reason)| (name.trim().to_string(), reason.trim().to_string()))
        .collect())
}

fn main() -> io::Result<()> {
    let args = Arguments::from_args();
    close_inherited_fds();

    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src_dir = manifest.join("../../tests/c").canonicalize()?;
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .to_path_buf();
    let out_root = target.join("c-tests");
    for variant in VARIANTS {
        fs::create_dir_all(out_root.join(variant.name))?;
    }
    // Absolute and symlink-free: programs compare /proc/self/exe with argv[0].
    let out_root = out_root.canonicalize()?;
    let native_only =
        std::env::var_os("VEIL_TEST_NATIVE_ONLY").is_some_and(|v| v != "0" && !v.is_empty());
    let default_timeout = std::env::var("VEIL_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);

    let programs = find_programs(&src_dir, default_timeout);
    let known_failures = read_known_failures(&src_dir.join("known-failures.txt"))?;
    // Headers (`*.h`) are dependencies of every program.
    let headers: Vec<PathBuf> = fs::read_dir(&src_dir)?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension() == Some(OsStr::new("h")))
        .collect();
    let availability: Vec<Result<(), String>> = VARIANTS.iter().map(variant_available).collect();

    // Decide which trials exist and which of them this invocation runs.
    struct Planned {
        name: String,
        program: usize,
        variant: usize,
        binary: PathBuf,
    }
    let mut planned = Vec::new();
    for (vi, variant) in VARIANTS.iter().enumerate() {
        for (pi, program) in programs.iter().enumerate() {
            if let Ok(opts) = &program.options
                && let Some(only) = &opts.variants
                && !only.iter().any(|v| v == variant.name)
            {
                continue;
            }
            let binary = out_root.join(variant.name).join(&program.name);
            planned.push(Planned {
                name: format!("{}/{}", variant.name, program.name),
                program: pi,
                variant: vi,
                binary,
            });
        }
    }

    let selected = |p: &Planned| {
        let probe = Trial::test(p.name.clone(), || Ok(()));
        !args.list && !args.is_filtered_out(&probe)
    };
    let jobs: Vec<CompileJob> = planned
        .iter()
        .filter(|p| {
            selected(p) && availability[p.variant].is_ok() && programs[p.program].options.is_ok()
        })
        .map(|p| CompileJob {
            variant: &VARIANTS[p.variant],
            source: programs[p.program].source.clone(),
            output: p.binary.clone(),
        })
        .collect();
    let compiled = compile_all(jobs, &headers);

    let locks: HashMap<String, Arc<Mutex<()>>> = programs
        .iter()
        .map(|p| (p.name.clone(), Arc::new(Mutex::new(()))))
        .collect();
    let trials = planned
        .into_iter()
        .map(|p| {
            let program = &programs[p.program];
            let options = program.options.clone();
            let available = availability[p.variant].clone();
            let build = compiled.get(&p.binary).cloned();
            let lock = Arc::clone(&locks[&program.name]);
            let known = known_failures
                .get(&p.name)
                .or_else(|| known_failures.get(&program.name))
                .cloned()
                .filter(|_| !native_only);
            Trial::ignorable_test(p.name, move || {
                if let Err(reason) = available {
                    return Ok(Completion::ignored_with(reason));
                }
                let opts = options?;
                match build {
                    Some(Ok(())) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err("binary was not built".into()),
                }
                match (run_trial(&p.binary, &opts, native_only, &lock), known) {
                    (Ok(()), None) => Ok(Completion::Completed),
                    (Err(e), None) => Err(e),
                    (Err(_), Some(reason)) => {
                        Ok(Completion::ignored_with(format!("known failure: {reason}")))
                    }
                    (Ok(()), Some(_)) => {
                        Err("passes now: remove it from tests/c/known-failures.txt".into())
                    }
                }
            })
        })
        .collect();

    libtest_mimic::run(&args, trials).exit()
}
