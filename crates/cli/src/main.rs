//! `veil`: the command line of Veil. This file owns the command-line syntax (clap), the help
//! texts, dispatch to the command modules, and exit codes:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (`veil run`: the program exited with 0) |
//! | 1 | `veil new` / `veil build` failed |
//! | 2 | usage error: bad arguments, or a bad `VEIL_LOG` |
//! | 125 | `veil run` failed before the program started (instance, config, arguments) |
//! | 126 | `veil run`: the program cannot be executed |
//! | 127 | `veil run`: the program was not found |
//! | other | `veil run`: the program's exit code, or 128 + the signal that killed it |

mod build;
mod config;
mod instance;
mod logging;
mod new;
mod rootfs;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Every allocation of an instance's kernel lives in the shared kernel heap (see platform-sim).
#[global_allocator]
static ALLOCATOR: veil_platform_sim::VeilAllocator = veil_platform_sim::VeilAllocator;

/// Exit code when `veil new` or `veil build` fails.
const EXIT_FAILURE: u8 = 1;
/// Exit code for usage errors (clap uses it too).
const EXIT_USAGE: u8 = 2;

const ABOUT: &str = "Run unmodified Linux programs inside a protected Veil instance";

const LONG_ABOUT: &str = "\
Veil runs unmodified Linux x86-64 programs inside an instance: a library OS
that gives the program its own file system, processes and environment, with a
command line like Docker's.

An instance is a directory: Veil.toml (its configuration), image/ (its files)
and build/ (what `veil build` prepared). Create one with `veil new`, put
programs into image/, check and prepare it with `veil build`, and run it with
`veil run`. For development, `veil run --rootfs HOSTDIR` runs a program from
any host directory without an instance.

VEIL_LOG=error|warn|info|debug|trace chooses how much veil logs to stderr
(default: warn).";

const EXAMPLES: &str = "\
Examples:
  veil new hello                          create the instance directory hello/
  cp /bin/busybox hello/image/bin/        put a program into its image
  veil build -C hello                     check it and prepare hello/build/
  veil run -C hello /bin/busybox echo hi  run the program in the instance
  veil run --rootfs / /bin/ls -la         run a host program (root: host's /)";

#[derive(Debug, Parser)]
#[command(
    name = "veil",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = "Run `veil help COMMAND` or `veil COMMAND --help` for the details of a command.",
    after_long_help = EXAMPLES,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    New(NewArgs),
    Build(BuildArgs),
    Run(RunArgs),
}

/// Create a new instance directory
#[derive(Debug, Args)]
#[command(
    long_about = "\
Create a new instance directory: a Veil.toml listing every setting
(commented out, with its default) and an image/ skeleton that becomes the
instance's root file system:

  image/bin lib lib64 etc tmp usr/bin usr/lib root   empty directories
  image/dev image/proc          mount points: Veil provides their contents
  image/etc/passwd group        a single user, root
  image/etc/hostname            the directory's name

DIR must not exist yet, or be an empty directory.

Exit status: 0 when created, 1 on any error.",
    after_long_help = "\
Examples:
  veil new hello
  veil new /srv/instances/db"
)]
struct NewArgs {
    /// The instance directory to create
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

/// Check an instance and prepare it to run
#[derive(Debug, Args)]
#[command(
    long_about = "\
Check an instance and prepare it to run: validate Veil.toml; check that
image/ exists, that the entry program (process.entry) exists in it, and that
the host directories of host mounts exist; then write build/config.toml (the
validated configuration) and build/manifest.toml (what the build was made
from).

Build again after every change to Veil.toml: `veil run` refuses an
out-of-date build. Errors name the line and the setting, e.g.

  Veil.toml:7: resources.stack_size: \"8Q\" is not a size (...)

Exit status: 0 when built, 1 on any error.",
    after_long_help = "\
Examples:
  veil build              build the instance in the current directory
  veil build -C hello     build the instance in hello/"
)]
struct BuildArgs {
    /// The instance directory [default: the current directory]
    #[arg(
        short = 'C',
        long = "dir",
        value_name = "DIR",
        default_value = ".",
        hide_default_value = true
    )]
    dir: PathBuf,
}

/// Run a program in an instance
#[derive(Debug, Args)]
#[command(
    long_about = "\
Run a program in an instance and wait for it; veil exits with the program's
status.

The instance is DIR (-C DIR, or the current directory if it has a
Veil.toml), built with `veil build`: its root file system is DIR/image and
its settings come from DIR/build/config.toml. With --rootfs HOSTDIR instead,
the root is a host directory and the default settings apply (development
mode: nothing is checked or protected).

PROGRAM is a path inside the instance; a name without '/' is searched in the
instance's PATH. Without PROGRAM, process.entry from Veil.toml runs.
Everything after PROGRAM goes to the program unchanged, options and `--`
included; argv[0] is PROGRAM as typed. Put veil's own options before PROGRAM.

The environment is, from weakest to strongest: [env] from Veil.toml (by
default PATH and HOME), the host variables named in process.host_env (by
default TERM), then --env. With --rootfs: HOME=/root, TERM from the host if
set, and PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin.",
    override_usage = "veil run [OPTIONS] [PROGRAM [ARGS]...]",
    after_long_help = "\
Exit status:
  N    the program exited with N, or was killed by signal N-128 (N > 128)
  125  veil run itself failed: not built, bad configuration, bad --rootfs...
  126  the program cannot be executed
  127  the program was not found
  2    bad command line

Examples:
  veil run -C hello                       run hello/'s process.entry
  veil run -C hello /bin/busybox ls -l /  run a program in the instance hello/
  veil run --rootfs / /bin/ls -la         run a host program (root: host's /)
  veil run --rootfs rootfs -e LANG=C.UTF-8 -e TZ sh
  veil run --strace=trace.txt -C hello    trace every system call to trace.txt"
)]
pub(crate) struct RunArgs {
    /// The instance directory [default: the current directory, if it has a
    /// Veil.toml]
    #[arg(
        short = 'C',
        long = "dir",
        value_name = "DIR",
        conflicts_with = "rootfs"
    )]
    pub dir: Option<PathBuf>,

    /// Run from HOSTDIR as the root file system, with the default settings (no
    /// instance needed)
    #[arg(long, value_name = "HOSTDIR")]
    pub rootfs: Option<PathBuf>,

    /// Set a variable (K=V), or pass K's host value (K alone; removes K if the
    /// host does not set it). Repeatable; overrides Veil.toml
    #[arg(short = 'e', long = "env", value_name = "K=V", value_parser = run::parse_env_arg)]
    pub env: Vec<run::EnvArg>,

    /// Trace every system call to stderr, or to FILE with --strace=FILE
    // `require_equals`: in `--strace /bin/true`, /bin/true is the program, not the trace file.
    #[arg(
        long,
        value_name = "FILE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "-"
    )]
    pub strace: Option<PathBuf>,

    /// Mount host directory HOST at PATH inside the instance (pass-through, untrusted, like
    /// `docker run -v`). Repeatable; overrides a Veil.toml mount at the same PATH
    #[arg(short = 'v', long = "volume", value_name = "HOST:PATH", value_parser = run::parse_volume)]
    pub volumes: Vec<run::Volume>,

    /// Working directory inside the instance (absolute) [default: process.cwd, or /]
    #[arg(long, value_name = "PATH", value_parser = run::parse_cwd)]
    pub cwd: Option<String>,

    /// Where spawned programs run: in their parent's address space when they fit (shared), or
    /// each process in its own (per-process) [default: process.address_space, or shared]
    #[arg(long, value_name = "POLICY")]
    pub address_space: Option<config::AddressSpace>,

    /// PROGRAM: a path inside the instance, or a name searched in its PATH
    /// [default: process.entry]. ARGS: its arguments, passed unchanged
    // `trailing_var_arg`: from PROGRAM on, every word (`-la`, `--env`, `--`) is the program's.
    // Not `allow_hyphen_values`: it would make a mistyped veil option before PROGRAM the
    // program itself, instead of a usage error.
    #[arg(value_name = "PROGRAM [ARGS]", trailing_var_arg = true)]
    pub command: Vec<String>,
}

fn main() -> ExitCode {
    // Parsing first, so that `--help` works whatever VEIL_LOG says.
    let cli = Cli::parse();
    if let Err(e) = logging::init() {
        eprintln!("veil: {e}");
        return ExitCode::from(EXIT_USAGE);
    }
    match cli.command {
        Command::New(args) => finish(new::new(&args.dir)),
        Command::Build(args) => finish(build::build(&instance::Instance::new(args.dir))),
        Command::Run(args) => match run::run(&args) {
            Ok(code) => exit_code(code),
            Err(e) => {
                eprintln!("veil: {e:#}");
                exit_code(e.exit_code())
            }
        },
    }
}

/// The exit of `veil new` and `veil build`.
fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("veil: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// An exit status as the host's `exit` would report it (its low 8 bits).
fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(code.to_le_bytes()[0])
}
