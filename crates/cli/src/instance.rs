//! The instance directory: where `Veil.toml`, `image/` and `build/` live, and how the directory
//! is named in messages and hints.
//!
//! ```text
//! DIR/Veil.toml    configuration (written by `veil new`, edited by the user)
//! DIR/image/       the files of the instance's root file system
//! DIR/build/       output of `veil build`, read by `veil run`
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Name of the configuration file in an instance directory.
pub const CONFIG_FILE: &str = "Veil.toml";

/// An instance directory (which may not exist yet).
#[derive(Debug, Clone)]
pub struct Instance {
    dir: PathBuf,
}

impl Instance {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Instance { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }

    pub fn image_dir(&self) -> PathBuf {
        self.dir.join("image")
    }

    pub fn build_dir(&self) -> PathBuf {
        self.dir.join("build")
    }

    /// Whether the directory holds a `Veil.toml`.
    pub fn exists(&self) -> bool {
        self.config_path().is_file()
    }

    /// Reads `Veil.toml`, failing clearly when the directory is not an instance.
    pub fn read_config(&self) -> anyhow::Result<String> {
        if !self.exists() {
            bail!(
                "{} is not a Veil instance: it has no {CONFIG_FILE} (create one with `veil new DIR`)",
                self.dir.display()
            );
        }
        std::fs::read_to_string(self.config_path())
            .with_context(|| format!("cannot read {}", self.config_name()))
    }

    /// The config file's name in messages: `Veil.toml` for the current directory, else
    /// `DIR/Veil.toml`.
    pub fn config_name(&self) -> String {
        self.name_in_messages(CONFIG_FILE)
    }

    /// `path` (relative to the instance directory) as the user would type it.
    pub fn name_in_messages(&self, path: &str) -> String {
        if self.dir == Path::new(".") {
            path.to_owned()
        } else {
            self.dir.join(path).display().to_string()
        }
    }

    /// A `veil` command line for this instance, e.g. `veil build -C DIR` (`veil build` for the
    /// current directory), with DIR quoted for the shell when needed.
    pub fn command(&self, subcommand: &str) -> String {
        if self.dir == Path::new(".") {
            format!("veil {subcommand}")
        } else {
            format!(
                "veil {subcommand} -C {}",
                shell_quote(&self.dir.to_string_lossy())
            )
        }
    }
}

/// Quotes `word` for a POSIX shell unless it only has characters that need no quoting.
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+,=".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_hints() {
        let here = Instance::new(".");
        assert_eq!(here.config_name(), "Veil.toml");
        assert_eq!(here.command("build"), "veil build");
        let there = Instance::new("apps/my app");
        assert_eq!(there.config_name(), "apps/my app/Veil.toml");
        assert_eq!(there.command("build"), "veil build -C 'apps/my app'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("/tmp/x-1"), "/tmp/x-1");
    }
}
