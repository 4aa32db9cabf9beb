//! `Veil.toml`: the schema of an instance's configuration, its parsing, validation and
//! normalised form.
//!
//! This module owns the file format (documented for users in `docs/config.md`). Parsing runs in
//! three steps, and every error names the file, the line and the dotted key:
//!
//! 1. TOML syntax: the toml crate's byte span becomes a line number;
//! 2. shape: serde with `deny_unknown_fields` on every table; the span of a type error is mapped
//!    back to the key that holds it by walking the parsed document ([`key_at`]);
//! 3. meaning: ranges, paths, duplicates, checked on `Spanned` fields by [`Validator`].
//!
//! The result is a [`Config`] with every default filled in. [`Config::to_toml`] writes it back in
//! the same schema; `veil build` stores that as `build/config.toml` and `veil run` parses it with
//! the same code, so the two can never disagree about the format.

use std::collections::{BTreeMap, HashMap};
use std::ops::{Range, RangeInclusive};
use std::path::PathBuf;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::{DeTable, DeValue};
use veil_platform_sim::Limits;

/// `PATH` of the first process unless `[env]` sets it (also `veil run --rootfs`'s `PATH`).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// `HOME` of the first process unless `[env]` sets it.
pub const DEFAULT_HOME: &str = "/root";
/// Host variables passed through unless `process.host_env` says otherwise.
pub const DEFAULT_HOST_ENV: &[&str] = &["TERM"];

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const MAX_OPEN_FILES: RangeInclusive<u64> = 1..=1_048_576;
const STACK_SIZE_MIN: u64 = 64 * KIB;
const STACK_SIZE_MAX: u64 = GIB;
const MAX_MEMORY_MIN: u64 = MIB;

/// A configuration error, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {}{message}", key.as_deref().map(|k| format!("{k}: ")).unwrap_or_default())]
pub struct ConfigError {
    file: String,
    line: usize,
    /// Dotted key (`resources.stack_size`, `mount[1].path`), when the error belongs to one.
    key: Option<String>,
    message: String,
}

impl ConfigError {
    /// An error about `key`, found after parsing (for instance by `veil build`'s checks).
    pub fn new(file: &str, line: usize, key: &str, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_owned(),
            line,
            key: Some(key.to_owned()),
            message: message.into(),
        }
    }
}

/// Placement policy for the instance's processes (`process.address_space`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AddressSpace {
    /// Processes share address spaces when their mappings fit (fast spawn).
    #[default]
    Shared,
    /// Every process gets its own address space (isolation between processes).
    PerProcess,
}

/// The default program of `veil run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Program (absolute path, or a name looked up in `PATH`) followed by its arguments.
    pub argv: Vec<String>,
    /// Line of `process.entry`, for errors found later.
    pub line: usize,
}

/// What a `[[mount]]` mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountType {
    /// A RAM file system.
    Ram,
    /// A host directory; `source` is relative to the instance directory (or absolute).
    Host { source: PathBuf },
}

/// One `[[mount]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Absolute, normalised path inside the instance.
    pub path: String,
    pub kind: MountType,
    /// Line of the `[[mount]]` header, for errors found later.
    pub line: usize,
}

/// A validated configuration with every default filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub entry: Option<Entry>,
    /// Absolute, normalised working directory of the first process.
    pub cwd: String,
    /// Host variables passed through to the first process.
    pub host_env: Vec<String>,
    pub address_space: AddressSpace,
    /// Environment of the first process: the defaults overridden by `[env]`.
    pub env: BTreeMap<String, String>,
    pub limits: Limits,
    pub mounts: Vec<Mount>,
}

impl Default for Config {
    /// The configuration of an empty `Veil.toml`.
    fn default() -> Self {
        Config {
            entry: None,
            cwd: "/".into(),
            host_env: DEFAULT_HOST_ENV.iter().map(|s| s.to_string()).collect(),
            address_space: AddressSpace::Shared,
            env: BTreeMap::from([
                ("HOME".to_owned(), DEFAULT_HOME.to_owned()),
                ("PATH".to_owned(), DEFAULT_PATH.to_owned()),
            ]),
            limits: Limits::default(),
            mounts: Vec::new(),
        }
    }
}

impl Config {
    /// Parses and validates `text`; `file` is the name errors are reported against.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| toml_error(text, file, &e))?;
        Validator { text, file }.validate(raw)
    }

    /// The normalised configuration in `Veil.toml` syntax (what `build/config.toml` holds).
    pub fn to_toml(&self) -> String {
        let file = OutConfig {
            process: OutProcess {
                entry: self.entry.as_ref().map(|e| &e.argv),
                cwd: &self.cwd,
                host_env: &self.host_env,
                address_space: self.address_space,
            },
            env: &self.env,
            resources: OutResources {
                max_open_files: self.limits.max_open_files,
                stack_size: self.limits.stack_size,
                max_memory: self.limits.max_memory,
            },
            mount: self
                .mounts
                .iter()
                .map(|m| OutMount {
                    path: &m.path,
                    kind: match m.kind {
                        MountType::Ram => "ram",
                        MountType::Host { .. } => "host",
                    },
                    source: match &m.kind {
                        MountType::Ram => None,
                        MountType::Host { source } => Some(source.to_string_lossy().into_owned()),
                    },
                })
                .collect(),
        };
        toml::to_string(&file).expect("the normalised config is always representable in TOML")
    }
}

// ---- Shape: what serde accepts. Every field that can fail a later check is `Spanned`. ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    process: RawProcess,
    #[serde(default)]
    env: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    resources: RawResources,
    #[serde(default)]
    mount: Vec<Spanned<RawMount>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawProcess {
    entry: Option<Spanned<Vec<Spanned<String>>>>,
    cwd: Option<Spanned<String>>,
    host_env: Option<Vec<Spanned<String>>>,
    address_space: Option<AddressSpace>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawResources {
    // Signed, so that a negative number gets our range message rather than serde's.
    max_open_files: Option<Spanned<i64>>,
    stack_size: Option<Spanned<SizeValue>>,
    max_memory: Option<Spanned<SizeValue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMount {
    path: Spanned<String>,
    #[serde(rename = "type")]
    kind: RawMountType,
    source: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawMountType {
    Host,
    Ram,
}

/// A size as written: a number of bytes, or a string such as `"8M"`.
enum SizeValue {
    Bytes(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for SizeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = SizeValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size such as \"8M\" or a number of bytes")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SizeValue, E> {
                Ok(SizeValue::Bytes(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SizeValue, E> {
                Ok(SizeValue::Text(v.to_owned()))
            }
        }
        d.deserialize_any(SizeVisitor)
    }
}

// ---- The normalised form written by `to_toml` (same schema, every value explicit). ----

#[derive(Serialize)]
struct OutConfig<'a> {
    process: OutProcess<'a>,
    env: &'a BTreeMap<String, String>,
    resources: OutResources,
    // An empty array would be written as `mount = []` above the tables.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mount: Vec<OutMount<'a>>,
}

#[derive(Serialize)]
struct OutProcess<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<&'a Vec<String>>,
    cwd: &'a str,
    host_env: &'a [String],
    address_space: AddressSpace,
}

#[derive(Serialize)]
struct OutResources {
    max_open_files: u64,
    stack_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_memory: Option<u64>,
}

#[derive(Serialize)]
struct OutMount<'a> {
    path: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

// ---- Errors from the toml crate (syntax and shape). ----

fn toml_error(text: &str, file: &str, e: &toml::de::Error) -> ConfigError {
    let span = e.span().unwrap_or(text.len()..text.len());
    let mut message = e.message().trim_end().to_owned();
    // A shape error happens in a syntactically valid document: find the key it belongs to.
    let key = DeTable::parse(text)
        .ok()
        .and_then(|doc| key_at(doc.get_ref(), span.start));
    if key.is_none() {
        // A syntax error: quote what the parser stumbled on, when it is short.
        let at = text.get(span.clone()).unwrap_or_default().trim();
        if !at.is_empty() && at.len() <= 40 && !at.contains('\n') {
            message.push_str(&format!(" (at `{at}`)"));
        }
    }
    ConfigError {
        file: file.to_owned(),
        line: line_of(text, span.start),
        key,
        message,
    }
}

/// The dotted key (`process.cwd`, `mount[1].path`) whose key or value covers byte `offset`.
fn key_at(table: &DeTable<'_>, offset: usize) -> Option<String> {
    table.iter().find_map(|(key, value)| {
        if covers(&key.span(), offset) {
            Some(key.get_ref().to_string())
        } else {
            value_key_at(value, offset).map(|rest| format!("{}{rest}", key.get_ref()))
        }
    })
}

/// The rest of the key path (`""`, `.x`, `[2].y`) inside `value` that covers `offset`.
fn value_key_at(value: &Spanned<DeValue<'_>>, offset: usize) -> Option<String> {
    // Children first: a `[table]`'s own span is just its header, not its body.
    let inner = match value.get_ref() {
        DeValue::Table(t) => key_at(t, offset).map(|k| format!(".{k}")),
        DeValue::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| value_key_at(v, offset).map(|k| format!("[{i}]{k}"))),
        _ => None,
    };
    inner.or_else(|| covers(&value.span(), offset).then(String::new))
}

fn covers(span: &Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || span.start == offset
}

/// 1-based line number of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

// ---- Meaning: checks on the deserialised values. ----

struct Validator<'a> {
    text: &'a str,
    file: &'a str,
}

impl Validator<'_> {
    fn error(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.file, self.line(span), key, message)
    }

    fn line(&self, span: Range<usize>) -> usize {
        line_of(self.text, span.start)
    }

    fn validate(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let p = raw.process;
        if let Some(entry) = p.entry {
            config.entry = Some(self.entry(entry)?);
        }
        if let Some(cwd) = p.cwd {
            config.cwd = self.absolute_path(&cwd, "process.cwd")?;
        }
        if let Some(names) = p.host_env {
            config.host_env = self.host_env(names)?;
        }
        config.address_space = p.address_space.unwrap_or_default();
        for (key, value) in raw.env {
            let name = format!("env.{}", key.get_ref());
            self.env_name(&key, &name)?;
            if value.get_ref().contains('\0') {
                return Err(self.error(value.span(), &name, "the value contains a NUL character"));
            }
            config.env.insert(key.into_inner(), value.into_inner());
        }
        config.limits = self.limits(raw.resources)?;
        config.mounts = self.mounts(raw.mount)?;
        Ok(config)
    }

    fn entry(&self, entry: Spanned<Vec<Spanned<String>>>) -> Result<Entry, ConfigError> {
        const KEY: &str = "process.entry";
        let line = self.line(entry.span());
        let Some(program) = entry.get_ref().first() else {
            return Err(self.error(
                entry.span(),
                KEY,
                "must name a program, e.g. [\"/bin/hello\", \"--flag\"]",
            ));
        };
        let p = program.get_ref();
        if p.is_empty() || (p.contains('/') && !p.starts_with('/')) {
            return Err(self.error(
                program.span(),
                KEY,
                format!(
                    "{p:?} is not a program: use an absolute path inside the instance, \
                     or a name looked up in PATH"
                ),
            ));
        }
        let mut argv = Vec::new();
        for arg in entry.into_inner() {
            if arg.get_ref().contains('\0') {
                return Err(self.error(arg.span(), KEY, "an argument contains a NUL character"));
            }
            argv.push(arg.into_inner());
        }
        Ok(Entry { argv, line })
    }

    fn host_env(&self, names: Vec<Spanned<String>>) -> Result<Vec<String>, ConfigError> {
        const KEY: &str = "process.host_env";
        let mut seen = Vec::new();
        for name in names {
            self.env_name(&name, KEY)?;
            if seen.contains(name.get_ref()) {
                return Err(self.error(
                    name.span(),
                    KEY,
                    format!("{:?} is listed twice", name.get_ref()),
                ));
            }
            seen.push(name.into_inner());
        }
        Ok(seen)
    }

    /// An environment variable name: anything the kernel's `KEY=VALUE` strings can carry.
    fn env_name(&self, name: &Spanned<String>, key: &str) -> Result<(), ConfigError> {
        let n = name.get_ref();
        if n.is_empty() || n.contains('=') || n.contains('\0') {
            return Err(self.error(
                name.span(),
                key,
                format!("{n:?} is not a variable name (it must be non-empty, without '=' or NUL)"),
            ));
        }
        Ok(())
    }

    fn limits(&self, r: RawResources) -> Result<Limits, ConfigError> {
        let mut limits = Limits::default();
        if let Some(n) = r.max_open_files {
            match u64::try_from(*n.get_ref()) {
                Ok(v) if MAX_OPEN_FILES.contains(&v) => limits.max_open_files = v,
                _ => {
                    return Err(self.error(
                        n.span(),
                        "resources.max_open_files",
                        format!(
                            "{} is out of range (1 to {})",
                            n.get_ref(),
                            MAX_OPEN_FILES.end()
                        ),
                    ));
                }
            }
        }
        if let Some(s) = r.stack_size {
            limits.stack_size = self.size(
                &s,
                "resources.stack_size",
                STACK_SIZE_MIN,
                Some(STACK_SIZE_MAX),
            )?;
        }
        if let Some(s) = r.max_memory {
            let key = "resources.max_memory";
            let bytes = self.size(&s, key, MAX_MEMORY_MIN, None)?;
            if bytes < limits.stack_size {
                return Err(self.error(
                    s.span(),
                    key,
                    format!(
                        "{} is smaller than resources.stack_size ({})",
                        show_size(bytes),
                        show_size(limits.stack_size)
                    ),
                ));
            }
            limits.max_memory = Some(bytes);
        }
        Ok(limits)
    }

    fn size(
        &self,
        value: &Spanned<SizeValue>,
        key: &str,
        min: u64,
        max: Option<u64>,
    ) -> Result<u64, ConfigError> {
        let bytes = match value.get_ref() {
            SizeValue::Bytes(n) => u64::try_from(*n).ok(),
            SizeValue::Text(t) => Some(parse_size(t).ok_or_else(|| {
                self.error(
                    value.span(),
                    key,
                    format!("{t:?} is not a size (use a number with an optional K, M or G suffix)"),
                )
            })?),
        };
        let range = match max {
            Some(max) => format!("{} to {}", show_size(min), show_size(max)),
            None => format!("at least {}", show_size(min)),
        };
        match bytes {
            Some(b) if b >= min && max.is_none_or(|m| b <= m) => Ok(b),
            _ => {
                let shown = match (value.get_ref(), bytes) {
                    (SizeValue::Text(t), _) => t.clone(),
                    (SizeValue::Bytes(_), Some(b)) => show_size(b),
                    (SizeValue::Bytes(n), None) => n.to_string(),
                };
                Err(self.error(
                    value.span(),
                    key,
                    format!("{shown} is out of range ({range})"),
                ))
            }
        }
    }

    fn absolute_path(&self, path: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
        normalise_path(path.get_ref()).ok_or_else(|| {
            self.error(
                path.span(),
                key,
                format!(
                    "{:?} is not an absolute path inside the instance",
                    path.get_ref()
                ),
            )
        })
    }

    fn mounts(&self, raw: Vec<Spanned<RawMount>>) -> Result<Vec<Mount>, ConfigError> {
        let mut mounts: Vec<Mount> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, m) in raw.into_iter().enumerate() {
            let line = self.line(m.span());
            let m = m.into_inner();
            let key = format!("mount[{i}].path");
            let path = self.absolute_path(&m.path, &key)?;
            if path == "/" {
                return Err(self.error(
                    m.path.span(),
                    &key,
                    "/ is the instance's image and cannot be replaced",
                ));
            }
            if ["/dev", "/proc"]
                .iter()
                .any(|fixed| path == *fixed || path.starts_with(&format!("{fixed}/")))
            {
                return Err(self.error(
                    m.path.span(),
                    &key,
                    format!("{path} is inside /dev or /proc, which Veil provides itself"),
                ));
            }
            if let Some(first) = seen.insert(path.clone(), line) {
                return Err(self.error(
                    m.path.span(),
                    &key,
                    format!("{path} is already mounted by the [[mount]] at line {first}"),
                ));
            }
            let kind = match (m.kind, m.source) {
                (RawMountType::Host, Some(source)) => {
                    let s = source.get_ref();
                    if s.is_empty() || s.contains('\0') {
                        return Err(self.error(
                            source.span(),
                            &format!("mount[{i}].source"),
                            format!("{s:?} is not a host directory"),
                        ));
                    }
                    MountType::Host {
                        source: PathBuf::from(source.into_inner()),
                    }
                }
                (RawMountType::Host, None) => {
                    return Err(ConfigError::new(
                        self.file,
                        line,
                        &format!("mount[{i}]"),
                        "type = \"host\" needs a `source` (a host directory, \
                         relative to the instance directory)",
                    ));
                }
                (RawMountType::Ram, None) => MountType::Ram,
                (RawMountType::Ram, Some(source)) => {
                    return Err(self.error(
                        source.span(),
                        &format!("mount[{i}].source"),
                        "only type = \"host\" mounts have a source",
                    ));
                }
            };
            mounts.push(Mount { path, kind, line });
        }
        Ok(mounts)
    }
}

/// Normalises an absolute path lexically (`//`, `.` and `..` resolved); `None` if not absolute.
pub fn normalise_path(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// `"64K"`, `"8M"`, `"1G"` or a plain number of bytes.
fn parse_size(text: &str) -> Option<u64> {
    let (digits, unit) = match text.char_indices().last()? {
        (i, 'K' | 'k') => (&text[..i], KIB),
        (i, 'M' | 'm') => (&text[..i], MIB),
        (i, 'G' | 'g') => (&text[..i], GIB),
        _ => (text, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

/// A size in the config's own notation, for messages.
fn show_size(bytes: u64) -> String {
    match bytes {
        0 => "0".into(),
        b if b % GIB == 0 => format!("{}G", b / GIB),
        b if b % MIB == 0 => format!("{}M", b / MIB),
        b if b % KIB == 0 => format!("{}K", b / KIB),
        b => b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "Veil.toml")
    }

    /// Asserts that `text` fails with an error at `line` that mentions `key` and `needle`.
    fn fails(text: &str, line: usize, key: &str, needle: &str) {
        let err = parse(text)
            .expect_err("config should be rejected")
            .to_string();
        assert!(
            err.starts_with(&format!("Veil.toml:{line}: {key}")),
            "wrong place: {err}"
        );
        assert!(err.contains(needle), "{err:?} does not contain {needle:?}");
    }

    const FULL: &str = r#"
[process]
entry = ["/bin/hello", "--flag"]
cwd = "/srv//app/./x/.."
host_env = ["TERM", "LANG"]
address_space = "per-process"

[env]
PATH = "/usr/local/bin:/usr/bin:/bin"
GREETING = "hi"

[resources]
max_open_files = 4096
stack_size = "16M"
max_memory = "4G"

[[mount]]
path = "/data"
type = "host"
source = "data"

[[mount]]
path = "/scratch/"
type = "ram"
"#;

    #[test]
    fn full_config_parses() {
        let c = parse(FULL).unwrap();
        let entry = c.entry.as_ref().unwrap();
        assert_eq!(entry.argv, ["/bin/hello", "--flag"]);
        assert_eq!(entry.line, 3);
        assert_eq!(c.cwd, "/srv/app");
        assert_eq!(c.host_env, ["TERM", "LANG"]);
        assert_eq!(c.address_space, AddressSpace::PerProcess);
        assert_eq!(c.env["PATH"], "/usr/local/bin:/usr/bin:/bin");
        assert_eq!(c.env["GREETING"], "hi");
        assert_eq!(
            c.env["HOME"], DEFAULT_HOME,
            "defaults stay unless overridden"
        );
        assert_eq!(
            c.limits,
            Limits {
                max_open_files: 4096,
                stack_size: 16 * MIB,
                max_memory: Some(4 * GIB)
            }
        );
        assert_eq!(
            c.mounts,
            [
                Mount {
                    path: "/data".into(),
                    kind: MountType::Host {
                        source: "data".into()
                    },
                    line: 17
                },
                Mount {
                    path: "/scratch".into(),
                    kind: MountType::Ram,
                    line: 22
                },
            ]
        );
    }

    #[test]
    fn empty_config_is_the_default() {
        assert_eq!(parse("").unwrap(), Config::default());
        assert_eq!(
            parse("[process]\n[env]\n[resources]\n").unwrap(),
            Config::default()
        );
    }

    #[test]
    fn normalised_form_parses_to_the_same_config() {
        for text in [FULL, ""] {
            let first = parse(text).unwrap().to_toml();
            let again = Config::parse(&first, "build/config.toml").unwrap();
            assert_eq!(again.to_toml(), first);
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8388608"), Some(8 * MIB));
        assert_eq!(parse_size("64K"), Some(64 * KIB));
        assert_eq!(parse_size("8m"), Some(8 * MIB));
        assert_eq!(parse_size("1G"), Some(GIB));
        for bad in [
            "",
            "M",
            "8Q",
            "-8M",
            "8 M",
            "1.5G",
            "8MB",
            "99999999999999999999G",
        ] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
        let c = parse("[resources]\nstack_size = 131072\n").unwrap();
        assert_eq!(c.limits.stack_size, 128 * KIB);
    }

    #[test]
    fn syntax_error_has_a_line() {
        for (text, line) in [
            ("[process]\ncwd = \"/\"\nentry = [\n", 3),
            ("[process]\n\ncwd = /srv\n", 3),
            ("[process]\ncwd = \"/\"\n[process]\n", 3),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with(&format!("Veil.toml:{line}: ")), "{err}");
        }
        let err = parse("[env]\nA = \"1\"\n[env]\n").unwrap_err().to_string();
        assert_eq!(err, "Veil.toml:3: duplicate key (at `env`)");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        fails(
            "[process]\ncwd = \"/\"\nentrypoint = [\"/x\"]\n",
            3,
            "process.entrypoint",
            "unknown field `entrypoint`",
        );
        fails("\n[proces]\n", 2, "proces", "unknown field `proces`");
        fails(
            "[resources]\nstack = \"8M\"\n",
            2,
            "resources.stack",
            "unknown",
        );
        fails(
            "[[mount]]\npath = \"/a\"\ntype = \"ram\"\nmode = 1\n",
            4,
            "mount[0].mode",
            "unknown",
        );
    }

    #[test]
    fn wrong_types_name_the_key() {
        fails(
            "[process]\n\ncwd = 5\n",
            3,
            "process.cwd",
            "expected a string",
        );
        fails("[env]\nA = \"1\"\nB = 2\n", 3, "env.B", "expected a string");
        fails(
            "[resources]\nmax_open_files = \"many\"\n",
            2,
            "resources.max_open_files",
            "invalid type",
        );
        fails(
            "[resources]\nstack_size = true\n",
            2,
            "resources.stack_size",
            "a size such as",
        );
        fails("mount = 1\n", 1, "mount", "expected a sequence");
    }

    #[test]
    fn entry_rules() {
        fails(
            "[process]\nentry = []\n",
            2,
            "process.entry",
            "must name a program",
        );
        fails(
            "[process]\nentry = [\"bin/x\"]\n",
            2,
            "process.entry",
            "\"bin/x\" is not a program",
        );
        fails(
            "[process]\nentry = [\"\"]\n",
            2,
            "process.entry",
            "is not a program",
        );
        fails(
            "[process]\nentry = [\"/x\",\n \"a\\u0000b\"]\n",
            3,
            "process.entry",
            "NUL",
        );
        assert_eq!(
            parse("[process]\nentry = [\"python3\", \"app.py\"]\n")
                .unwrap()
                .entry
                .unwrap()
                .argv,
            ["python3", "app.py"]
        );
    }

    #[test]
    fn cwd_rules() {
        fails(
            "[process]\ncwd = \"srv\"\n",
            2,
            "process.cwd",
            "not an absolute path",
        );
        assert_eq!(
            parse("[process]\ncwd = \"/a/../..\"\n").unwrap().cwd,
            "/",
            "`..` stops at the root"
        );
    }

    #[test]
    fn host_env_rules() {
        fails(
            "[process]\nhost_env = [\"TERM\",\n\"A=B\"]\n",
            3,
            "process.host_env",
            "not a variable name",
        );
        fails(
            "[process]\nhost_env = [\"\"]\n",
            2,
            "process.host_env",
            "not a variable name",
        );
        fails(
            "[process]\nhost_env = [\"TERM\", \"TERM\"]\n",
            2,
            "process.host_env",
            "listed twice",
        );
        assert!(
            parse("[process]\nhost_env = []\n")
                .unwrap()
                .host_env
                .is_empty()
        );
    }

    #[test]
    fn address_space_rules() {
        fails(
            "[process]\naddress_space = \"private\"\n",
            2,
            "process.address_space",
            "expected `shared` or `per-process`",
        );
    }

    #[test]
    fn env_rules() {
        fails(
            "[env]\n\"A=B\" = \"x\"\n",
            2,
            "env.A=B",
            "not a variable name",
        );
        fails("[env]\nA = \"x\\u0000\"\n", 2, "env.A", "NUL");
    }

    #[test]
    fn max_open_files_range() {
        for bad in ["0", "-1", "1048577"] {
            fails(
                &format!("[resources]\nmax_open_files = {bad}\n"),
                2,
                "resources.max_open_files",
                "out of range (1 to 1048576)",
            );
        }
        for good in [1, 1_048_576] {
            let text = format!("[resources]\nmax_open_files = {good}\n");
            assert_eq!(parse(&text).unwrap().limits.max_open_files, good);
        }
    }

    #[test]
    fn stack_size_rules() {
        fails(
            "[process]\n\n[resources]\n\n\n\nstack_size = \"8Q\"\n",
            7,
            "resources.stack_size",
            "\"8Q\" is not a size (use a number with an optional K, M or G suffix)",
        );
        fails(
            "[resources]\nstack_size = \"32K\"\n",
            2,
            "resources.stack_size",
            "32K is out of range (64K to 1G)",
        );
        fails(
            "[resources]\nstack_size = \"2G\"\n",
            2,
            "resources.stack_size",
            "out of range",
        );
        fails(
            "[resources]\nstack_size = -1\n",
            2,
            "resources.stack_size",
            "-1 is out of range",
        );
        let c = parse("[resources]\nstack_size = \"64K\"\n").unwrap();
        assert_eq!(c.limits.stack_size, 64 * KIB);
        let c = parse("[resources]\nstack_size = \"1G\"\n").unwrap();
        assert_eq!(c.limits.stack_size, GIB);
    }

    #[test]
    fn max_memory_rules() {
        fails(
            "[resources]\nmax_memory = \"lots\"\n",
            2,
            "resources.max_memory",
            "is not a size",
        );
        fails(
            "[resources]\nmax_memory = 1000\n",
            2,
            "resources.max_memory",
            "out of range (at least 1M)",
        );
        fails(
            "[resources]\nstack_size = \"64M\"\nmax_memory = \"32M\"\n",
            3,
            "resources.max_memory",
            "smaller than resources.stack_size (64M)",
        );
        assert_eq!(parse("").unwrap().limits.max_memory, None);
    }

    #[test]
    fn mount_path_rules() {
        let mount = |path: &str| format!("[[mount]]\ntype = \"ram\"\npath = \"{path}\"\n");
        fails(&mount("data"), 3, "mount[0].path", "not an absolute path");
        fails(&mount("/"), 3, "mount[0].path", "cannot be replaced");
        fails(&mount("/x/.."), 3, "mount[0].path", "cannot be replaced");
        fails(&mount("/dev"), 3, "mount[0].path", "inside /dev or /proc");
        fails(
            &mount("/dev/shm"),
            3,
            "mount[0].path",
            "inside /dev or /proc",
        );
        fails(&mount("/proc/"), 3, "mount[0].path", "inside /dev or /proc");
        assert_eq!(
            parse(&mount("/devices")).unwrap().mounts[0].path,
            "/devices"
        );
        let two = format!("{}\n{}", mount("/a"), mount("/b/../a/"));
        fails(
            &two,
            7,
            "mount[1].path",
            "/a is already mounted by the [[mount]] at line 1",
        );
    }

    #[test]
    fn mount_type_and_source_rules() {
        fails(
            "[[mount]]\npath = \"/a\"\ntype = \"nfs\"\n",
            3,
            "mount[0].type",
            "expected `host` or `ram`",
        );
        fails(
            "[[mount]]\npath = \"/a\"\n",
            1,
            "mount[0]",
            "missing field `type`",
        );
        fails(
            "[[mount]]\npath = \"/a\"\ntype = \"ram\"\n\n[[mount]]\npath = \"/b\"\ntype = \"host\"\n",
            5,
            "mount[1]",
            "needs a `source`",
        );
        fails(
            "[[mount]]\npath = \"/a\"\ntype = \"host\"\nsource = \"\"\n",
            4,
            "mount[0].source",
            "not a host directory",
        );
        fails(
            "[[mount]]\npath = \"/a\"\ntype = \"ram\"\nsource = \"x\"\n",
            4,
            "mount[0].source",
            "only type = \"host\"",
        );
    }

    #[test]
    fn messages_show_sizes_in_config_notation() {
        assert_eq!(show_size(8 * MIB), "8M");
        assert_eq!(show_size(GIB), "1G");
        assert_eq!(show_size(1536), "1536");
        assert_eq!(show_size(0), "0");
    }
}
