//! `veil build`: check an instance and prepare `DIR/build/`, which `veil run` reads; and
//! [`load`], the reading side used by `veil run`.
//!
//! `build/` holds:
//! - `config.toml`: the validated configuration in normalised form (every default explicit);
//! - `manifest.toml`: what the build was made from (the veil version and `Veil.toml` verbatim),
//!   so that `veil run` refuses a build that no longer matches the instance.
//!
//! Packing `image/` into the protected image and signing the manifest come later: each will be
//! a step in [`build`], fields in [`Manifest`], and a check in [`load`].

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigError, Entry};
use crate::instance::Instance;
use crate::rootfs::{EXECVP_DEFAULT_PATH, View};
use crate::run;

const CONFIG_OUT: &str = "config.toml";
const MANIFEST: &str = "manifest.toml";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const HEADER: &str = "# Written by `veil build`; read by `veil run`. Do not edit: edit Veil.toml \
                      and run `veil build` again.\n\n";

/// What a build was made from.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    /// Version of the `veil` that made the build; another version rebuilds.
    veil_version: String,
    /// `Veil.toml` exactly as built. A copy rather than a size or timestamp: only the content
    /// tells reliably whether the file changed.
    source_config: String,
}

/// Checks the instance in `instance` and writes `build/`.
pub fn build(instance: &Instance) -> anyhow::Result<()> {
    let source = instance.read_config()?;
    let file = instance.config_name();
    let config = Config::parse(&source, &file)?;
    check_image(instance, &config, &file)?;
    write(instance, &source, &config)?;

    let build_dir = instance.name_in_messages("build");
    println!("Built {build_dir}/ ({CONFIG_OUT}, {MANIFEST}).");
    match &config.entry {
        Some(entry) => println!(
            "Run it with: {}   (starts {})",
            instance.command("run"),
            entry.argv.join(" ")
        ),
        None => println!(
            "Run a program with: {} /bin/PROGRAM   (or set process.entry in {file})",
            instance.command("run")
        ),
    }
    Ok(())
}

/// The validated configuration of a built instance, refusing a missing or stale build.
pub fn load(instance: &Instance) -> anyhow::Result<Config> {
    let source = instance.read_config()?;
    let rebuild = instance.command("build");
    let manifest_path = instance.build_dir().join(MANIFEST);
    let text = match fs::read_to_string(&manifest_path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            bail!("instance not built: run `{rebuild}`")
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", manifest_path.display()));
        }
    };
    let manifest: Manifest = toml::from_str(&text)
        .map_err(|_| anyhow!("{} is damaged: run `{rebuild}`", manifest_path.display()))?;
    if manifest.veil_version != VERSION {
        bail!(
            "the instance was built by veil {}, this is veil {VERSION}: run `{rebuild}`",
            manifest.veil_version
        );
    }
    if manifest.source_config != source {
        bail!(
            "{} changed since the last `veil build`; run `{rebuild}`",
            instance.config_name()
        );
    }
    let name = instance.name_in_messages(&format!("build/{CONFIG_OUT}"));
    let text = fs::read_to_string(instance.build_dir().join(CONFIG_OUT))
        .with_context(|| format!("cannot read {name}: run `{rebuild}`"))?;
    Config::parse(&text, &name).with_context(|| format!("{name} is damaged: run `{rebuild}`"))
}

/// Checks what the config refers to: the image directory, host mount sources, the entry program.
fn check_image(instance: &Instance, config: &Config, file: &str) -> anyhow::Result<()> {
    let image = instance.image_dir();
    if !image.is_dir() {
        bail!(
            "{} is missing or not a directory: it holds the instance's files (see `veil new`)",
            instance.name_in_messages("image")
        );
    }
    for (i, m) in config.mounts.iter().enumerate() {
        if let Some(source) = run::host_source(instance.dir(), &m.kind)
            && !source.is_dir()
        {
            return Err(ConfigError::new(
                file,
                m.line,
                &format!("mount[{i}]"),
                format!("host directory {} does not exist", source.display()),
            )
            .into());
        }
    }
    if let Some(entry) = &config.entry {
        let view = View::new(&image, &run::mounts(instance.dir(), config));
        check_entry(&view, &image, entry, config)
            .map_err(|message| ConfigError::new(file, entry.line, "process.entry", message))?;
    }
    Ok(())
}

/// Checks that the entry program exists in the instance; the error is the message to show.
fn check_entry(view: &View, image: &Path, entry: &Entry, config: &Config) -> Result<(), String> {
    let program = &entry.argv[0];
    if program.starts_with('/') {
        // Only existence: whether it is a runnable program is for `veil run` to find out.
        return match view.resolve(program) {
            Some(host) if host.is_dir() => Err(format!("{program} is a directory")),
            Some(_) => Ok(()),
            None => Err(format!(
                "{program} does not exist in the instance (looked for {})",
                image.join(program.trim_start_matches('/')).display()
            )),
        };
    }
    let path = config
        .env
        .get("PATH")
        .map_or(EXECVP_DEFAULT_PATH, String::as_str);
    match view.find_in_path(program, path, &config.cwd) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{program} is not an executable file in the instance's PATH ({path})"
        )),
    }
}

/// Writes `build/`. The manifest marks a complete build, so it is removed first and written
/// last: an interrupted build leaves no manifest rather than one that pairs with a stale config.
fn write(instance: &Instance, source: &str, config: &Config) -> anyhow::Result<()> {
    let dir = instance.build_dir();
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let manifest_path = dir.join(MANIFEST);
    match fs::remove_file(&manifest_path) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("cannot remove {}", manifest_path.display()));
        }
        _ => {}
    }
    write_file(
        &dir.join(CONFIG_OUT),
        &format!("{HEADER}{}", config.to_toml()),
    )?;
    let manifest = Manifest {
        veil_version: VERSION.to_owned(),
        source_config: source.to_owned(),
    };
    let manifest = toml::to_string(&manifest).context("cannot encode the build manifest")?;
    write_file(&manifest_path, &format!("{HEADER}{manifest}"))
}

/// Writes `path` through a temporary file and a rename, so readers never see half a file.
fn write_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("toml.tmp");
    fs::write(&tmp, contents)
        .and_then(|()| fs::rename(&tmp, path))
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(config: &str) -> (tempfile::TempDir, Instance) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("image/bin")).unwrap();
        fs::write(dir.path().join("image/bin/hello"), "any file").unwrap();
        fs::write(dir.path().join("Veil.toml"), config).unwrap();
        let instance = Instance::new(dir.path());
        (dir, instance)
    }

    fn message(e: anyhow::Error) -> String {
        format!("{e:#}")
    }

    #[test]
    fn build_then_load() {
        let (_dir, inst) = instance("[process]\nentry = [\"/bin/hello\", \"-v\"]\n");
        build(&inst).unwrap();
        let config = load(&inst).unwrap();
        assert_eq!(config.entry.unwrap().argv, ["/bin/hello", "-v"]);
    }

    #[test]
    fn load_refuses_missing_or_stale_builds() {
        let (dir, inst) = instance("");
        assert!(
            message(load(&inst).unwrap_err())
                .starts_with("instance not built: run `veil build -C ")
        );
        build(&inst).unwrap();
        fs::write(dir.path().join("Veil.toml"), "[process]\ncwd = \"/tmp\"\n").unwrap();
        let err = message(load(&inst).unwrap_err());
        assert!(
            err.contains("Veil.toml changed since the last `veil build`; run `veil build -C "),
            "{err}"
        );
        build(&inst).unwrap();
        assert_eq!(load(&inst).unwrap().cwd, "/tmp");
    }

    #[test]
    fn load_refuses_other_versions() {
        let (dir, inst) = instance("");
        build(&inst).unwrap();
        let manifest = dir.path().join("build/manifest.toml");
        let text = fs::read_to_string(&manifest).unwrap();
        fs::write(&manifest, text.replace(VERSION, "0.0.0-old")).unwrap();
        assert!(message(load(&inst).unwrap_err()).contains("built by veil 0.0.0-old"));
    }

    #[test]
    fn entry_must_exist() {
        let (_dir, inst) = instance("\n[process]\nentry = [\"/bin/missing\"]\n");
        let err = message(build(&inst).unwrap_err());
        assert!(
            err.contains("Veil.toml:3: process.entry: /bin/missing does not exist"),
            "{err}"
        );
        let (_dir, inst) = instance("[process]\nentry = [\"/bin\"]\n");
        assert!(message(build(&inst).unwrap_err()).contains("/bin is a directory"));
        let (_dir, inst) = instance("[process]\nentry = [\"hello\"]\n");
        let err = message(build(&inst).unwrap_err());
        assert!(
            err.contains("hello is not an executable file in the instance's PATH"),
            "{err}"
        );
    }

    #[test]
    fn host_mount_sources_must_exist() {
        let text = "[[mount]]\npath = \"/data\"\ntype = \"host\"\nsource = \"data\"\n";
        let (dir, inst) = instance(text);
        let err = message(build(&inst).unwrap_err());
        assert!(
            err.contains("Veil.toml:1: mount[0]: host directory"),
            "{err}"
        );
        fs::create_dir(dir.path().join("data")).unwrap();
        build(&inst).unwrap();
    }

    #[test]
    fn image_must_exist() {
        let (dir, inst) = instance("");
        fs::remove_dir_all(dir.path().join("image")).unwrap();
        assert!(message(build(&inst).unwrap_err()).contains("image is missing"));
    }
}
