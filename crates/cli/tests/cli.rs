//! The `veil` binary as users run it: help texts, `veil new`, `veil build`, and the ways
//! `veil run` fails before anything starts. (Running programs needs the platform and is tested
//! elsewhere.)

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `veil args...` in `dir` with a clean `VEIL_LOG`.
fn veil(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_veil"))
        .args(args)
        .current_dir(dir)
        .env_remove("VEIL_LOG")
        .output()
        .expect("veil runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code, showing the output when it is wrong.
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// A fresh instance `inst` in a temporary directory, made by `veil new`.
fn new_instance() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    assert_exit(&veil(tmp.path(), &["new", "inst"]), 0);
    tmp
}

/// Replaces a line of `inst/Veil.toml`, returning the (1-based) line number it was on.
fn edit_config(tmp: &Path, old_line: &str, new_line: &str) -> usize {
    let path = tmp.join("inst/Veil.toml");
    let text = fs::read_to_string(&path).unwrap();
    let index = text
        .lines()
        .position(|l| l == old_line)
        .unwrap_or_else(|| panic!("no line {old_line:?} in Veil.toml"));
    let edited: Vec<&str> = text
        .lines()
        .enumerate()
        .map(|(i, l)| if i == index { new_line } else { l })
        .collect();
    fs::write(&path, edited.join("\n") + "\n").unwrap();
    index + 1
}

#[test]
fn help_of_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--help"],
            &[
                "Usage: veil <COMMAND>",
                "new",
                "build",
                "run",
                "VEIL_LOG",
                "Examples:",
            ],
        ),
        (
            &["new", "--help"],
            &[
                "Usage: veil new <DIR>",
                "Veil.toml",
                "image/etc/passwd",
                "Examples:",
            ],
        ),
        (
            &["build", "--help"],
            &[
                "Usage: veil build",
                "-C, --dir <DIR>",
                "build/config.toml",
                "Examples:",
            ],
        ),
        (
            &["run", "--help"],
            &[
                "Usage: veil run [OPTIONS] [PROGRAM [ARGS]...]",
                "-C, --dir <DIR>",
                "--rootfs <HOSTDIR>",
                "-e, --env <K=V>",
                "--strace[=<FILE>]",
                "--cwd <PATH>",
                "125",
                "127",
                "Examples:",
            ],
        ),
        (&["help", "run"], &["Usage: veil run"]),
    ];
    for (args, needles) in cases {
        let o = veil(tmp.path(), args);
        assert_exit(&o, 0);
        for needle in *needles {
            assert!(
                stdout(&o).contains(needle),
                "`veil {args:?}` lacks {needle:?}"
            );
        }
    }
    assert_exit(&veil(tmp.path(), &[]), 2);
    assert_exit(&veil(tmp.path(), &["frobnicate"]), 2);
}

#[test]
fn new_creates_the_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let o = veil(tmp.path(), &["new", "inst"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("inst/Veil.toml"), "{out}");
    assert!(out.contains("veil build -C inst"), "{out}");
    assert!(out.contains("veil run -C inst /bin/PROGRAM"), "{out}");

    let inst = tmp.path().join("inst");
    let config = fs::read_to_string(inst.join("Veil.toml")).unwrap();
    for setting in [
        "#entry = ",
        "#cwd = \"/\"",
        "#host_env = [\"TERM\"]",
        "#address_space = \"shared\"",
        "#PATH = ",
        "#HOME = \"/root\"",
        "#max_open_files = 1024",
        "#stack_size = \"8M\"",
        "#max_memory = ",
        "#[[mount]]",
    ] {
        assert!(config.contains(setting), "Veil.toml lacks {setting:?}");
    }
    for dir in [
        "bin", "lib", "lib64", "etc", "tmp", "usr/bin", "usr/lib", "root", "dev", "proc",
    ] {
        assert!(inst.join("image").join(dir).is_dir(), "no image/{dir}");
    }
    for empty in ["dev", "proc"] {
        assert_eq!(
            fs::read_dir(inst.join("image").join(empty))
                .unwrap()
                .count(),
            0
        );
    }
    let etc = inst.join("image/etc");
    assert!(
        fs::read_to_string(etc.join("passwd"))
            .unwrap()
            .starts_with("root:x:0:0:")
    );
    assert!(
        fs::read_to_string(etc.join("group"))
            .unwrap()
            .starts_with("root:x:0:")
    );
    assert_eq!(fs::read_to_string(etc.join("hostname")).unwrap(), "inst\n");

    // An existing empty directory is fine.
    fs::create_dir(tmp.path().join("empty")).unwrap();
    assert_exit(&veil(tmp.path(), &["new", "empty"]), 0);
}

#[test]
fn new_refuses_a_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("inst")).unwrap();
    fs::write(tmp.path().join("inst/keep.txt"), "mine").unwrap();
    let o = veil(tmp.path(), &["new", "inst"]);
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains("inst already exists and is not an empty directory"),
        "{err}"
    );
    assert!(err.contains("`veil new inst-2`"), "{err}");
    assert_eq!(
        fs::read_dir(tmp.path().join("inst")).unwrap().count(),
        1,
        "nothing added"
    );
}

#[test]
fn build_a_fresh_instance() {
    let tmp = new_instance();
    fs::write(tmp.path().join("inst/image/bin/hello"), "any file will do").unwrap();
    edit_config(
        tmp.path(),
        "#entry = [\"/bin/hello\", \"--flag\"]",
        "entry = [\"/bin/hello\", \"--flag\"]",
    );
    let o = veil(tmp.path(), &["build", "-C", "inst"]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("veil run -C inst"), "{}", stdout(&o));
    let built = fs::read_to_string(tmp.path().join("inst/build/config.toml")).unwrap();
    assert!(
        built.contains("entry = [\"/bin/hello\", \"--flag\"]"),
        "{built}"
    );
    assert!(
        built.contains("stack_size = 8388608"),
        "defaults are explicit: {built}"
    );
    assert!(tmp.path().join("inst/build/manifest.toml").is_file());

    // From inside the instance, -C is not needed.
    assert_exit(&veil(&tmp.path().join("inst"), &["build"]), 0);
}

#[test]
fn build_reports_the_line_of_a_bad_setting() {
    let tmp = new_instance();
    let line = edit_config(tmp.path(), "#stack_size = \"8M\"", "stack_size = \"8Q\"");
    let o = veil(tmp.path(), &["build", "-C", "inst"]);
    assert_exit(&o, 1);
    let expected = format!(
        "veil: inst/Veil.toml:{line}: resources.stack_size: \"8Q\" is not a size \
         (use a number with an optional K, M or G suffix)\n"
    );
    assert_eq!(stderr(&o), expected);
    assert!(!tmp.path().join("inst/build/manifest.toml").exists());
}

/// Each kind of bad setting fails the build with one line naming the file, the line and (but
/// for TOML syntax errors, which precede any key) the dotted key.
#[test]
fn build_rejects_bad_settings() {
    // (line replaced, bad line, key named, what the message says)
    let cases: &[(&str, &str, Option<&str>, &str)] = &[
        (
            "#cwd = \"/\"",
            "cwdir = \"/\"",
            Some("process.cwdir"),
            "unknown field `cwdir`",
        ),
        (
            "#max_open_files = 1024",
            "max_open_files = \"many\"",
            Some("resources.max_open_files"),
            "invalid type: string \"many\"",
        ),
        (
            "#cwd = \"/\"",
            "cwd = [\"/\"]",
            Some("process.cwd"),
            "invalid type: sequence, expected a string",
        ),
        (
            "#max_open_files = 1024",
            "max_open_files = 0",
            Some("resources.max_open_files"),
            "0 is out of range (1 to 1048576)",
        ),
        (
            "#stack_size = \"8M\"",
            "stack_size = \"2G\"",
            Some("resources.stack_size"),
            "2G is out of range (64K to 1G)",
        ),
        (
            "#address_space = \"shared\"",
            "address_space = \"sometimes\"",
            Some("process.address_space"),
            "unknown variant `sometimes`",
        ),
        ("#cwd = \"/\"", "cwd = \"/", None, "invalid basic string"),
    ];
    for &(old_line, bad_line, key, message) in cases {
        let tmp = new_instance();
        let line = edit_config(tmp.path(), old_line, bad_line);
        let o = veil(tmp.path(), &["build", "-C", "inst"]);
        assert_exit(&o, 1);
        let err = stderr(&o);
        let prefix = match key {
            Some(key) => format!("veil: inst/Veil.toml:{line}: {key}: "),
            None => format!("veil: inst/Veil.toml:{line}: "),
        };
        assert!(
            err.starts_with(&prefix) && err.contains(message) && err.lines().count() == 1,
            "{bad_line:?}: expected {prefix:?}...{message:?}, got:\n{err}"
        );
        assert!(!tmp.path().join("inst/build/manifest.toml").exists());
    }
}

#[test]
fn build_reports_a_missing_entry_program() {
    let tmp = new_instance();
    let line = edit_config(
        tmp.path(),
        "#entry = [\"/bin/hello\", \"--flag\"]",
        "entry = [\"/bin/hello\"]",
    );
    let o = veil(tmp.path(), &["build", "-C", "inst"]);
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "inst/Veil.toml:{line}: process.entry: /bin/hello does not exist"
        )),
        "{err}"
    );
}

#[test]
fn run_refuses_an_unbuilt_or_stale_instance() {
    let tmp = new_instance();
    let o = veil(tmp.path(), &["run", "-C", "inst", "/bin/true"]);
    assert_exit(&o, 125);
    assert_eq!(
        stderr(&o),
        "veil: instance not built: run `veil build -C inst`\n"
    );

    assert_exit(&veil(tmp.path(), &["build", "-C", "inst"]), 0);
    edit_config(tmp.path(), "#cwd = \"/\"", "cwd = \"/root\"");
    let o = veil(tmp.path(), &["run", "-C", "inst", "/bin/true"]);
    assert_exit(&o, 125);
    assert_eq!(
        stderr(&o),
        "veil: inst/Veil.toml changed since the last `veil build`; run `veil build -C inst`\n"
    );
}

#[test]
fn run_needs_an_instance_or_a_rootfs() {
    let tmp = tempfile::tempdir().unwrap();
    let o = veil(tmp.path(), &["run", "/bin/true"]);
    assert_exit(&o, 125);
    assert!(stderr(&o).contains("no Veil.toml in the current directory"));

    let o = veil(tmp.path(), &["run", "--rootfs", "missing", "/bin/true"]);
    assert_exit(&o, 125);
    assert!(stderr(&o).contains("--rootfs missing: not a directory"));

    let o = veil(
        tmp.path(),
        &["run", "-C", ".", "--rootfs", ".", "/bin/true"],
    );
    assert_exit(&o, 2);
}

#[test]
fn run_reports_a_program_missing_from_path() {
    let tmp = tempfile::tempdir().unwrap();
    let o = veil(tmp.path(), &["run", "--rootfs", ".", "nothere", "-x"]);
    assert_exit(&o, 127);
    assert!(stderr(&o).starts_with("veil: nothere: not found in the instance's PATH"));
}

#[test]
fn run_rejects_bad_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["run", "--rootfs", ".", "--cwd", "relative", "/bin/true"][..],
        &["run", "--rootfs", ".", "--env", "=x", "/bin/true"],
        &["run", "--rootfs", ".", "--strace", "-la"],
    ] {
        assert_exit(&veil(tmp.path(), args), 2);
    }
}

#[test]
fn bad_veil_log_names_the_levels() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_veil"))
        .args(["build"])
        .current_dir(tmp.path())
        .env("VEIL_LOG", "loud")
        .output()
        .unwrap();
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("error, warn, info, debug or trace"),
        "{}",
        stderr(&o)
    );
}
