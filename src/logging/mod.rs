//! Logging with tracing, the seed's way (CONTRACT §9): human-readable lines on stdout, and JSON
//! lines to two files — everything to `combined.log.<date>` and errors to `error.log.<date>`,
//! rotated daily and 14 of each kept, in the log folder (`ALICIA_LOG_DIR`, systemd's
//! `LOGS_DIRECTORY`, `alicia-data/logs` when portable, else the platform's state folder) —
//! or to the exact files `LOG_FILE` / `ERROR_LOG_FILE` name (not rotated). File writes happen
//! on a background thread (tracing-appender), so logging never blocks the UI or the MQTT task.
//! `LOG_LEVEL` takes winston's level names as well as tracing's, or tracing filter directives.
//!
//! Secrets never reach a log line: the password and token are [`crate::core::secret::Secret`]s
//! (they print as `********`) and documents are logged by name, never by content.

mod escaping;

use crate::core::settings::{LogRotation, LogSettings};
use escaping::{Escaping, Style};
use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{EnvFilter, fmt};

/// Rotated log files kept of each kind.
pub const LOG_FILES_KEPT: usize = 14;

/// The level names `LOG_LEVEL` takes, and the tracing level each means: winston's (the
/// seed's logger) and tracing's own.
pub const LEVEL_NAMES: [(&str, &str); 10] = [
    ("error", "error"),
    ("warn", "warn"),
    ("info", "info"),
    ("http", "info"),
    ("verbose", "debug"),
    ("debug", "debug"),
    ("silly", "trace"),
    ("trace", "trace"),
    ("off", "off"),
    ("warning", "warn"),
];

/// Keeps the file writers alive; logs are flushed when it is dropped.
#[must_use = "dropping the guards stops file logging"]
pub struct LogGuards {
    _guards: Vec<WorkerGuard>,
}

/// The filter for a `LOG_LEVEL`: a level name (winston's or tracing's), or tracing directives
/// with at least one `target=level` (bare level names among them are mapped the same way);
/// anything else is refused, never silently turned into a filter that logs nothing. The MQTT
/// client is held at `warn` and the embedded broker silenced unless named explicitly (rumqttd
/// logs an ERROR for every clean client disconnect; the app reports the broker's real
/// failures itself). The crates under the REST and socket.io server are held at `info` unless
/// named explicitly: at `debug`/`trace` they log raw frames and packets, which carry bearer
/// tokens (the socket.io handshake's `auth`) and request bodies with `api_key`s.
pub fn filter_for(level: &str) -> Result<EnvFilter, String> {
    let directives = level_directives(level)?;
    EnvFilter::try_new(directives_for(&directives))
        .map_err(|error| format!("invalid LOG_LEVEL {level:?}: {error}"))
}

/// `LOG_LEVEL` as tracing directives, or why it is no level.
pub fn level_directives(level: &str) -> Result<String, String> {
    let trimmed = level.trim();
    if trimmed.is_empty() {
        return Ok("info".to_owned());
    }
    let named = |word: &str| {
        LEVEL_NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word.trim()))
            .map(|(_, level)| *level)
    };
    let parts: Vec<&str> = trimmed.split(',').map(str::trim).collect();
    let has_directive = parts.iter().any(|part| part.contains('='));
    let mut mapped = Vec::with_capacity(parts.len());
    for part in parts.iter().filter(|part| !part.is_empty()) {
        match named(part) {
            Some(level) => mapped.push(level.to_owned()),
            None if part.contains('=') => mapped.push((*part).to_owned()),
            None if has_directive && !part.contains(char::is_whitespace) => {
                // A bare target in a filter (`info,my_crate`): tracing's own meaning.
                mapped.push((*part).to_owned());
            }
            None => {
                let names: Vec<&str> = LEVEL_NAMES[..8].iter().map(|(name, _)| *name).collect();
                return Err(format!(
                    "LOG_LEVEL {level:?} is not a level: use one of {} (winston's names \
                     and tracing's), or a tracing filter such as \"info,alicia_config_manager=debug\"",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(mapped.join(","))
}

fn directives_for(level: &str) -> String {
    let mut directives = level.trim().to_owned();
    if directives.is_empty() {
        directives = "info".to_owned();
    }
    for (noisy, level) in [
        ("rumqttd", "off"),
        ("rumqttc", "warn"),
        ("tungstenite", "info"),
        ("tokio_tungstenite", "info"),
        ("engineioxide", "info"),
        ("socketioxide", "info"),
        ("hyper", "info"),
        ("hyper_util", "info"),
        ("h2", "info"),
        ("axum", "info"),
        ("tower_http", "info"),
    ] {
        if !directives.contains(noisy) {
            directives.push_str(&format!(",{noisy}={level}"));
        }
    }
    directives
}

/// Log lines each file's writer thread may have waiting (tracing-appender's default,
/// 128,000, is a channel of ~3.9 MiB written through at start, per file; a household's manager
/// logs a few lines a second, and a burst past this is dropped and counted by the appender).
const BUFFERED_LINES: usize = 8_192;

/// A file's writer on its own thread, with a buffer sized for this app.
fn off_thread<W: std::io::Write + Send + 'static>(
    writer: W,
) -> (tracing_appender::non_blocking::NonBlocking, WorkerGuard) {
    tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(BUFFERED_LINES)
        .finish(writer)
}

/// Installs the global subscriber.
pub fn init(settings: &LogSettings) -> Result<LogGuards, String> {
    let mut guards = Vec::new();
    let colours = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let console = fmt::layer()
        .with_target(false)
        .with_ansi(colours)
        .with_writer(Escaping::new(
            std::io::stdout,
            Style::Text { keep_ansi: colours },
        ))
        .with_filter(filter_for(&settings.level)?);
    let combined = match (&settings.file, &settings.dir) {
        (Some(path), _) => Some(off_thread(open_append(path)?)),
        (None, Some(dir)) => Some(off_thread(rolling(dir, "combined.log", settings.rotation)?)),
        (None, None) => None,
    };
    let combined_filter = filter_for(&settings.level)?;
    let combined = combined.map(|(writer, guard)| {
        guards.push(guard);
        fmt::layer()
            .json()
            .with_ansi(false)
            .with_writer(Escaping::new(writer, Style::Json))
            .with_filter(combined_filter)
    });
    let errors = match (&settings.error_file, &settings.dir) {
        (Some(path), _) => Some(off_thread(open_append(path)?)),
        (None, Some(dir)) => Some(off_thread(rolling(dir, "error.log", settings.rotation)?)),
        (None, None) => None,
    };
    let errors = errors.map(|(writer, guard)| {
        guards.push(guard);
        fmt::layer()
            .json()
            .with_ansi(false)
            .with_writer(Escaping::new(writer, Style::Json))
            .with_filter(LevelFilter::ERROR)
    });
    tracing_subscriber::registry()
        .with(console)
        .with(combined)
        .with(errors)
        .try_init()
        .map_err(|error| format!("cannot install the logger: {error}"))?;
    Ok(LogGuards { _guards: guards })
}

/// A daily (or `rotation`) file `<prefix>.<date>` in `dir`, the newest [`LOG_FILES_KEPT`] kept.
/// The folder is made private (0700): the files inside are then readable by the owner only,
/// whatever mode the appender creates them with.
fn rolling(dir: &Path, prefix: &str, rotation: LogRotation) -> Result<RollingFileAppender, String> {
    crate::core::fsutil::ensure_private_dir(dir).map_err(|error| {
        format!(
            "cannot make the private log folder {}: {error}",
            dir.display()
        )
    })?;
    let rotation = match rotation {
        LogRotation::Daily => Rotation::DAILY,
        LogRotation::Hourly => Rotation::HOURLY,
        LogRotation::Minutely => Rotation::MINUTELY,
    };
    RollingFileAppender::builder()
        .rotation(rotation)
        .filename_prefix(prefix)
        .max_log_files(LOG_FILES_KEPT)
        .build(dir)
        .map_err(|error| format!("cannot open the log files in {}: {error}", dir.display()))
}

fn open_append(path: &Path) -> Result<std::fs::File, String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|error| {
            format!("cannot create the log folder {}: {error}", parent.display())
        })?;
    }
    // Private (0600): log lines name hosts, services and clients.
    let file =
        crate::core::fsutil::open_private(path, OpenOptions::new().create(true).append(true))
            .map_err(|error| format!("cannot open the log file {}: {error}", path.display()))?;
    crate::core::fsutil::set_private(&file).map_err(|error| {
        format!(
            "cannot make the log file {} private: {error}",
            path.display()
        )
    })?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noisy_crates_are_quieted_unless_named() {
        let transport = ",tungstenite=info,tokio_tungstenite=info,engineioxide=info,\
socketioxide=info,hyper=info,hyper_util=info,h2=info,axum=info,tower_http=info";
        assert_eq!(
            directives_for("debug"),
            format!("debug,rumqttd=off,rumqttc=warn{transport}")
        );
        assert_eq!(
            directives_for("info,rumqttc=debug"),
            format!("info,rumqttc=debug,rumqttd=off{transport}")
        );
        assert_eq!(
            directives_for(" "),
            format!("info,rumqttd=off,rumqttc=warn{transport}")
        );
        assert!(directives_for("trace,socketioxide=trace").ends_with(",tower_http=info"));
        assert!(!directives_for("trace,socketioxide=trace").contains("socketioxide=info"));
        assert!(filter_for("debug").is_ok());
        assert!(filter_for("alicia=loud").is_err());
    }

    #[test]
    fn winston_and_tracing_level_names_are_levels_and_other_words_are_refused() {
        for (name, level) in [
            ("error", "error"),
            ("warn", "warn"),
            ("info", "info"),
            ("http", "info"),
            ("verbose", "debug"),
            ("debug", "debug"),
            ("silly", "trace"),
            ("trace", "trace"),
            (" VERBOSE ", "debug"),
            ("", "info"),
        ] {
            assert_eq!(level_directives(name).unwrap(), level, "{name:?}");
        }
        assert_eq!(
            level_directives("verbose,rumqttc=debug").unwrap(),
            "debug,rumqttc=debug"
        );
        assert_eq!(
            level_directives("info,alicia_config_manager=trace").unwrap(),
            "info,alicia_config_manager=trace"
        );
        for refused in ["loud", "informational", "verbose debug", "loud,quiet"] {
            let error = level_directives(refused).unwrap_err();
            assert!(
                error.contains("silly") && error.contains(refused),
                "{error}"
            );
        }
    }
}
