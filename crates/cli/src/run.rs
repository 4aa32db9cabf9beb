//! `veil run`: turns the command line and the instance's configuration into a [`LaunchSpec`]
//! and hands it to the platform.
//!
//! This module owns the mapping from config to launch: where the root is, which mounts exist
//! ([`mounts`], shared with `veil build`'s checks), the environment's precedence, `PATH` search
//! and argv. It never starts anything itself; [`veil_platform_sim::launch`] does.

use std::collections::BTreeMap;
use std::env::VarError;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use veil_platform_sim::{LaunchError, LaunchSpec, MountKind, MountSpec};

use crate::RunArgs;
use crate::build;
use crate::config::{AddressSpace, Config, MountType};
use crate::instance::{CONFIG_FILE, Instance};
use crate::rootfs::{EXECVP_DEFAULT_PATH, View};

/// Exit code for failures of `veil run` itself (like `docker run`), so they never look like the
/// program's own exit codes.
pub const EXIT_SETUP: i32 = 125;
/// Exit code for a program that was not found (shell convention).
const EXIT_NOT_FOUND: i32 = 127;

/// Why `veil run` did not produce the program's exit status.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Bad instance, config or arguments: nothing was started.
    #[error(transparent)]
    Setup(#[from] anyhow::Error),
    /// A program name without '/' that no `PATH` entry holds.
    #[error("{name}: not found in the instance's PATH ({path})")]
    NotInPath { name: String, path: String },
    /// The platform could not start the instance.
    #[error(transparent)]
    Launch(#[from] LaunchError),
}

impl RunError {
    /// The exit status of `veil run` for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Setup(_) => EXIT_SETUP,
            RunError::NotInPath { .. } => EXIT_NOT_FOUND,
            RunError::Launch(e) => e.exit_code(),
        }
    }
}

/// One `--env` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvArg {
    /// `--env K=V`
    Set(String, String),
    /// `--env K`: the host's value of K, or K removed when the host does not set it.
    FromHost(String),
}

/// clap value parser for `--env`.
pub fn parse_env_arg(arg: &str) -> Result<EnvArg, String> {
    let (name, value) = match arg.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (arg, None),
    };
    if name.is_empty() || arg.contains('\0') {
        return Err("expected K=V or K (a non-empty variable name, no NUL)".into());
    }
    Ok(match value {
        Some(value) => EnvArg::Set(name.into(), value.into()),
        None => EnvArg::FromHost(name.into()),
    })
}

/// clap value parser for `--cwd`: an absolute path, normalised.
pub fn parse_cwd(arg: &str) -> Result<String, String> {
    crate::config::normalise_path(arg)
        .ok_or_else(|| "expected an absolute path inside the instance".to_owned())
}

/// A `--volume HOST:PATH` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub host: PathBuf,
    pub path: String,
}

/// Parses `HOST:PATH` (PATH absolute inside the instance).
pub fn parse_volume(arg: &str) -> Result<Volume, String> {
    let (host, path) = arg
        .split_once(':')
        .filter(|(h, _)| !h.is_empty())
        .ok_or_else(|| "expected HOST:PATH, e.g. ./data:/data".to_owned())?;
    let path = crate::config::normalise_path(path)
        .filter(|p| p != "/")
        .ok_or_else(|| {
            format!("{path}: expected an absolute path inside the instance, other than /")
        })?;
    Ok(Volume {
        host: PathBuf::from(host),
        path,
    })
}

/// Runs the instance and returns the exit status `veil` should end with.
pub fn run(args: &RunArgs) -> Result<i32, RunError> {
    let spec = launch_spec(args, &host_var)?;
    log::debug!("launching {spec:#?}");
    Ok(veil_platform_sim::launch(&spec)?.code())
}

/// A host environment variable, if set and valid UTF-8.
fn host_var(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(VarError::NotPresent) => None,
        Err(VarError::NotUnicode(_)) => {
            log::warn!("host variable {name} is not valid UTF-8; not passed to the instance");
            None
        }
    }
}

/// The mounts to launch with: the config's, with host sources resolved against the instance
/// directory `dir`, plus a RAM `/tmp` unless the config mounts something there.
pub fn mounts(dir: &Path, config: &Config) -> Vec<MountSpec> {
    let mut mounts: Vec<MountSpec> = config
        .mounts
        .iter()
        .map(|m| MountSpec {
            path: m.path.clone(),
            kind: match host_source(dir, &m.kind) {
                Some(source) => MountKind::Host { source },
                None => MountKind::Ram,
            },
        })
        .collect();
    if !mounts.iter().any(|m| m.path == "/tmp") {
        mounts.push(MountSpec {
            path: "/tmp".into(),
            kind: MountKind::Ram,
        });
    }
    // Parents before children, so that mounting /data does not hide an earlier /data/cache.
    mounts.sort_by_key(|m| m.path.matches('/').count());
    mounts
}

/// The host directory of a host mount (its `source` is relative to the instance directory).
pub fn host_source(dir: &Path, kind: &MountType) -> Option<PathBuf> {
    match kind {
        MountType::Host { source } => Some(dir.join(source)),
        MountType::Ram => None,
    }
}

/// Where the instance's files and settings come from.
struct Origin {
    root: PathBuf,
    config: Config,
    /// The instance directory (host mount sources are relative to it).
    dir: PathBuf,
    /// Hint for a missing program.
    no_program_hint: String,
}

fn origin(args: &RunArgs) -> anyhow::Result<Origin> {
    if let Some(rootfs) = &args.rootfs {
        if !rootfs.is_dir() {
            bail!("--rootfs {}: not a directory", rootfs.display());
        }
        // Development mode: a host directory and the default config.
        return Ok(Origin {
            root: rootfs.clone(),
            config: Config::default(),
            dir: PathBuf::from("."),
            no_program_hint: format!(
                "give one, e.g. `veil run --rootfs {} /bin/sh`",
                rootfs.display()
            ),
        });
    }
    let instance = match &args.dir {
        Some(dir) => Instance::new(dir),
        None => {
            let here = Instance::new(".");
            if !here.exists() {
                bail!(
                    "no {CONFIG_FILE} in the current directory: use `veil run -C DIR` to run an \
                     instance, or `veil run --rootfs HOSTDIR PROGRAM` to run from a host directory"
                );
            }
            here
        }
    };
    let config = build::load(&instance)?;
    let root = instance.image_dir();
    if !root.is_dir() {
        bail!(
            "{} is missing: the instance has no files",
            instance.name_in_messages("image")
        );
    }
    Ok(Origin {
        root,
        config,
        dir: instance.dir().to_path_buf(),
        no_program_hint: format!(
            "give PROGRAM, or set process.entry in {} and run `{}`",
            instance.config_name(),
            instance.command("build")
        ),
    })
}

/// Builds the launch specification; `host` reads the host's environment.
fn launch_spec(
    args: &RunArgs,
    host: &dyn Fn(&str) -> Option<String>,
) -> Result<LaunchSpec, RunError> {
    let origin = origin(args)?;
    let config = &origin.config;
    let root = std::path::absolute(&origin.root)
        .with_context(|| format!("cannot resolve {}", origin.root.display()))?;
    let mut mounts = mounts(&origin.dir, config);
    for volume in &args.volumes {
        mounts.retain(|m| m.path != volume.path);
        mounts.push(MountSpec {
            path: volume.path.clone(),
            kind: MountKind::Host {
                source: volume.host.clone(),
            },
        });
    }
    mounts.sort_by_key(|m| m.path.matches('/').count());
    for m in &mut mounts {
        if let MountKind::Host { source } = &mut m.kind {
            if !source.is_dir() {
                return Err(anyhow!(
                    "mount {}: host directory {} does not exist",
                    m.path,
                    source.display()
                )
                .into());
            }
            *source = std::path::absolute(&*source)
                .with_context(|| format!("cannot resolve {}", source.display()))?;
        }
    }

    let env = environment(config, &args.env, host);
    let cwd = args.cwd.clone().unwrap_or_else(|| config.cwd.clone());
    let (typed, rest) = match (args.command.split_first(), &config.entry) {
        (Some((program, rest)), _) => (program.clone(), rest.to_vec()),
        (None, Some(entry)) => (entry.argv[0].clone(), entry.argv[1..].to_vec()),
        (None, None) => {
            return Err(anyhow!("no program to run: {}", origin.no_program_hint).into());
        }
    };
    if typed.is_empty() {
        return Err(anyhow!("the program name is empty").into());
    }
    let program = if typed.contains('/') {
        typed.clone()
    } else {
        let path = env.get("PATH").map_or(EXECVP_DEFAULT_PATH, String::as_str);
        View::new(&root, &mounts)
            .find_in_path(&typed, path, &cwd)
            .ok_or_else(|| RunError::NotInPath {
                name: typed.clone(),
                path: path.to_owned(),
            })?
    };

    Ok(LaunchSpec {
        root,
        mounts,
        program,
        argv: std::iter::once(typed).chain(rest).collect(),
        env: env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        cwd,
        strace: args.strace.clone(),
        limits: config.limits.clone(),
        per_process_spaces: args.address_space.unwrap_or(config.address_space)
            == AddressSpace::PerProcess,
    })
}

/// The first process's environment. Later sources win: the config's `[env]` (with defaults),
/// then the host variables named in `process.host_env`, then `--env`.
fn environment(
    config: &Config,
    overrides: &[EnvArg],
    host: &dyn Fn(&str) -> Option<String>,
) -> BTreeMap<String, String> {
    let mut env = config.env.clone();
    for name in &config.host_env {
        if let Some(value) = host(name) {
            env.insert(name.clone(), value);
        }
    }
    for o in overrides {
        match o {
            EnvArg::Set(name, value) => {
                env.insert(name.clone(), value.clone());
            }
            EnvArg::FromHost(name) => match host(name) {
                Some(value) => {
                    env.insert(name.clone(), value);
                }
                None => {
                    env.remove(name);
                }
            },
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fn host(name: &str) -> Option<String> {
        match name {
            "TERM" => Some("xterm".into()),
            "LANG" => Some("C.UTF-8".into()),
            "SECRET" => Some("host-only".into()),
            _ => None,
        }
    }

    fn rootfs_args(root: &Path, program: &[&str]) -> RunArgs {
        RunArgs {
            dir: None,
            rootfs: Some(root.to_path_buf()),
            env: Vec::new(),
            strace: None,
            volumes: Vec::new(),
            cwd: None,
            address_space: None,
            command: program.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn rootfs_with_tool() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let tool = root.path().join("usr/bin/tool");
        fs::create_dir_all(tool.parent().unwrap()).unwrap();
        fs::write(&tool, "").unwrap();
        fs::set_permissions(&tool, fs::Permissions::from_mode(0o755)).unwrap();
        root
    }

    #[test]
    fn env_args() {
        assert_eq!(
            parse_env_arg("A=b=c"),
            Ok(EnvArg::Set("A".into(), "b=c".into()))
        );
        assert_eq!(parse_env_arg("A="), Ok(EnvArg::Set("A".into(), "".into())));
        assert_eq!(parse_env_arg("A"), Ok(EnvArg::FromHost("A".into())));
        assert!(parse_env_arg("=x").is_err());
        assert!(parse_env_arg("").is_err());
    }

    #[test]
    fn environment_precedence() {
        let mut config = Config {
            host_env: vec!["LANG".into(), "UNSET".into()],
            ..Config::default()
        };
        config.env.insert("LANG".into(), "from-config".into());
        config.env.insert("DROP".into(), "x".into());
        let overrides = [
            EnvArg::Set("HOME".into(), "/home/me".into()),
            EnvArg::FromHost("SECRET".into()),
            EnvArg::FromHost("DROP".into()),
        ];
        let env = environment(&config, &overrides, &host);
        assert_eq!(env["LANG"], "C.UTF-8", "host_env beats [env]");
        assert_eq!(env["HOME"], "/home/me", "--env beats everything");
        assert_eq!(env["SECRET"], "host-only", "--env K takes the host value");
        assert!(
            !env.contains_key("DROP"),
            "--env K unset on the host removes K"
        );
        assert!(!env.contains_key("UNSET"));
        assert!(!env.contains_key("TERM"), "only host_env variables pass");
    }

    #[test]
    fn rootfs_mode_defaults() {
        let root = rootfs_with_tool();
        let spec = launch_spec(&rootfs_args(root.path(), &["tool", "-la", "x"]), &host).unwrap();
        assert_eq!(spec.root, root.path());
        assert_eq!(spec.program, "/usr/bin/tool");
        assert_eq!(spec.argv, ["tool", "-la", "x"]);
        assert_eq!(spec.cwd, "/");
        assert_eq!(
            spec.env,
            [
                "HOME=/root".to_owned(),
                format!("PATH={}", crate::config::DEFAULT_PATH),
                "TERM=xterm".to_owned(),
            ]
        );
        assert_eq!(
            spec.mounts,
            [MountSpec {
                path: "/tmp".into(),
                kind: MountKind::Ram
            }]
        );
        assert_eq!(spec.limits, veil_platform_sim::Limits::default());
    }

    #[test]
    fn program_lookup() {
        let root = rootfs_with_tool();
        let mut args = rootfs_args(root.path(), &["./rel/prog"]);
        args.cwd = Some("/srv".into());
        let spec = launch_spec(&args, &host).unwrap();
        assert_eq!(
            spec.program, "./rel/prog",
            "paths with '/' are the platform's business"
        );
        assert_eq!(spec.cwd, "/srv");

        let err = launch_spec(&rootfs_args(root.path(), &["nothere"]), &host).unwrap_err();
        assert_eq!(err.exit_code(), 127);
        assert!(
            err.to_string()
                .starts_with("nothere: not found in the instance's PATH")
        );

        let mut args = rootfs_args(root.path(), &["tool"]);
        args.env = vec![EnvArg::Set("PATH".into(), "/nowhere".into())];
        assert!(
            launch_spec(&args, &host).is_err(),
            "the instance's PATH is searched"
        );

        let err = launch_spec(&rootfs_args(root.path(), &[]), &host).unwrap_err();
        assert_eq!(err.exit_code(), EXIT_SETUP);
        assert!(err.to_string().starts_with("no program to run"));
    }

    #[test]
    fn bad_rootfs() {
        let err = launch_spec(&rootfs_args(Path::new("/nonexistent/x"), &["/x"]), &host);
        assert_eq!(err.unwrap_err().exit_code(), EXIT_SETUP);
    }

    #[test]
    fn mounts_add_tmp_and_order_parents_first() {
        let text = "[[mount]]\npath = \"/data/cache\"\ntype = \"ram\"\n\n\
                    [[mount]]\npath = \"/data\"\ntype = \"host\"\nsource = \"d\"\n";
        let config = Config::parse(text, "Veil.toml").unwrap();
        let paths: Vec<_> = mounts(Path::new("/inst"), &config)
            .into_iter()
            .map(|m| (m.path, m.kind))
            .collect();
        assert_eq!(
            paths,
            [
                (
                    "/data".into(),
                    MountKind::Host {
                        source: "/inst/d".into()
                    }
                ),
                ("/tmp".into(), MountKind::Ram),
                ("/data/cache".into(), MountKind::Ram),
            ]
        );
        let text = "[[mount]]\npath = \"/tmp\"\ntype = \"host\"\nsource = \"t\"\n";
        let config = Config::parse(text, "Veil.toml").unwrap();
        assert_eq!(
            mounts(Path::new("/inst"), &config).len(),
            1,
            "no second /tmp"
        );
    }

    #[test]
    fn volumes_parse_and_mount_over_tmp() {
        assert_eq!(
            parse_volume("/srv/data:/data/"),
            Ok(Volume {
                host: PathBuf::from("/srv/data"),
                path: "/data".into()
            })
        );
        assert!(parse_volume("/srv/data").is_err());
        assert!(parse_volume(":/data").is_err());
        assert!(parse_volume("/srv:relative").is_err());
        assert!(parse_volume("/srv:/").is_err());
        let root = rootfs_with_tool();
        let host_dir = tempfile::tempdir().unwrap();
        let mut args = rootfs_args(root.path(), &["/usr/bin/tool"]);
        args.volumes = vec![Volume {
            host: host_dir.path().to_path_buf(),
            path: "/tmp/work".into(),
        }];
        let spec = launch_spec(&args, &|_| None).unwrap();
        let paths: Vec<&str> = spec.mounts.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/tmp", "/tmp/work"],
            "the RAM /tmp stays, the volume goes on top"
        );
    }
}
