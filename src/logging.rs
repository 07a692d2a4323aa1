//! Logging with tracing: human-readable lines on the console, and JSON lines to `LOG_FILE`
//! (everything) and `ERROR_LOG_FILE` (errors) when set. File writes happen on a background
//! thread (tracing-appender), so logging never blocks the UI or the MQTT task.
//!
//! Secrets never reach a log line: the password and token are [`crate::core::secret::Secret`]s
//! (they print as `********`) and documents are logged by name, never by content.

use crate::core::settings::LogSettings;
use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{EnvFilter, fmt};

/// Keeps the file writers alive; logs are flushed when it is dropped.
#[must_use = "dropping the guards stops file logging"]
pub struct LogGuards {
    _guards: Vec<WorkerGuard>,
}

/// The filter for a level string: the level (or directives) the admin gave, with the MQTT
/// client held at `warn` and the embedded broker silenced unless named explicitly (rumqttd
/// logs an ERROR for every clean client disconnect; the app reports the broker's real
/// failures itself). The crates under the REST and socket.io server are held at `info` unless
/// named explicitly: at `debug`/`trace` they log raw frames and packets, which carry bearer
/// tokens (the socket.io handshake's `auth`) and request bodies with `api_key`s.
pub fn filter_for(level: &str) -> Result<EnvFilter, String> {
    EnvFilter::try_new(directives_for(level))
        .map_err(|error| format!("invalid LOG_LEVEL {level:?}: {error}"))
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

/// Installs the global subscriber.
pub fn init(settings: &LogSettings) -> Result<LogGuards, String> {
    let mut guards = Vec::new();
    let colours = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let console = fmt::layer()
        .with_target(false)
        .with_ansi(colours)
        .with_writer(std::io::stderr)
        .with_filter(filter_for(&settings.level)?);
    let json_file = match &settings.file {
        Some(path) => {
            let (writer, guard) = tracing_appender::non_blocking(open_append(path)?);
            guards.push(guard);
            Some(
                fmt::layer()
                    .json()
                    .with_ansi(false)
                    .with_writer(writer)
                    .with_filter(filter_for(&settings.level)?),
            )
        }
        None => None,
    };
    let error_file = match &settings.error_file {
        Some(path) => {
            let (writer, guard) = tracing_appender::non_blocking(open_append(path)?);
            guards.push(guard);
            Some(
                fmt::layer()
                    .json()
                    .with_ansi(false)
                    .with_writer(writer)
                    .with_filter(LevelFilter::ERROR),
            )
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(console)
        .with(json_file)
        .with(error_file)
        .try_init()
        .map_err(|error| format!("cannot install the logger: {error}"))?;
    Ok(LogGuards { _guards: guards })
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
}
