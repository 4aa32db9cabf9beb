//! The `log` backend of the `veil` binary: lines on stderr, `veil: <level>: <message>`, at the
//! level chosen by `VEIL_LOG` (`error`, `warn`, `info`, `debug` or `trace`; default `warn`).
//!
//! Records from every crate in the process go through it, the platform's included.

use std::io::Write;

use log::{LevelFilter, Log, Metadata, Record};

/// The environment variable that selects the level.
pub const VAR: &str = "VEIL_LOG";
const DEFAULT: LevelFilter = LevelFilter::Warn;
const LEVELS: [LevelFilter; 5] = [
    LevelFilter::Error,
    LevelFilter::Warn,
    LevelFilter::Info,
    LevelFilter::Debug,
    LevelFilter::Trace,
];

/// The logger; its level lives in `log`'s own max level, so it needs no state of its own.
struct StderrLogger;

static LOGGER: StderrLogger = StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            let level = record.level().as_str().to_ascii_lowercase();
            // A closed stderr must not turn a log line into a crash.
            let _ = writeln!(std::io::stderr().lock(), "veil: {level}: {}", record.args());
        }
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// An unusable `VEIL_LOG` value.
#[derive(Debug, thiserror::Error)]
#[error("{VAR}={value:?} is not a log level: use error, warn, info, debug or trace")]
pub struct BadLevel {
    value: String,
}

/// Installs the logger at the level `VEIL_LOG` selects.
pub fn init() -> Result<(), BadLevel> {
    let value = std::env::var_os(VAR).map(|v| v.to_string_lossy().into_owned());
    let level = level(value.as_deref())?;
    // Only fails if a logger is already installed, which would then keep logging.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
    Ok(())
}

/// The level for a `VEIL_LOG` value; unset or empty means the default.
fn level(value: Option<&str>) -> Result<LevelFilter, BadLevel> {
    match value.map(str::trim) {
        None | Some("") => Ok(DEFAULT),
        Some(v) => LEVELS
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(v))
            .ok_or_else(|| BadLevel {
                value: v.to_owned(),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(level(None).unwrap(), LevelFilter::Warn);
        assert_eq!(level(Some("")).unwrap(), LevelFilter::Warn);
        assert_eq!(level(Some("debug")).unwrap(), LevelFilter::Debug);
        assert_eq!(level(Some("TRACE")).unwrap(), LevelFilter::Trace);
        let err = level(Some("verbose")).unwrap_err().to_string();
        assert_eq!(
            err,
            "VEIL_LOG=\"verbose\" is not a log level: use error, warn, info, debug or trace"
        );
    }
}
