//! Backup and restore: one JSON file holding every config, the history behind them and the
//! settings file. Secrets (`api_key`s, the MQTT password, the API token, the kiosk PIN hash)
//! are left out unless the admin asks; a restore from a file without them keeps the secrets
//! stored now.
//!
//! The file:
//! `{"format": "alicia-config-manager-backup", "version": 1, "created", "secrets_included",
//!   "configs": {service: document}, "history": [revision…], "settings": {…}}`.

use crate::clock::now_rfc3339;
use crate::config::settings_schemas::{self, SCHEMAS_FILE_NAME};
use crate::config::{
    ConfigService, FieldError, HistoryEntry, Restore, SchemaRecord, Schemas, diff,
    load_config_file, mask_document_with, read_history, restore_masked_secrets_with,
};
use crate::settings::{BrokerUrl, SETTINGS_FILE_NAME, SettingsFile, SettingsFileIo, SettingsStore};
pub use alicia_model::transfer::{BrokerChange, RestoreItem, RestoreKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The `format` field of a backup file.
pub const BACKUP_FORMAT: &str = "alicia-config-manager-backup";
/// The version this build writes and reads.
pub const BACKUP_VERSION: u32 = 1;
/// Settings keys that hold secrets.
const SECRET_SETTINGS: [&str; 4] = [
    "mqtt_password",
    "api_token",
    "api_read_token",
    "kiosk_pin_hash",
];

/// A backup, as written to its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    /// Always [`BACKUP_FORMAT`].
    pub format: String,
    /// Always [`BACKUP_VERSION`] for now.
    pub version: u32,
    /// When it was made (RFC 3339).
    pub created: String,
    /// True when it holds the secrets.
    pub secrets_included: bool,
    /// Every document, by service.
    pub configs: Map<String, Value>,
    /// The history, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The settings file.
    pub settings: Map<String, Value>,
}

/// The broker a settings file names, as shown and compared: its address and user, never its
/// password.
fn broker_of(file: &SettingsFile) -> String {
    let user = file
        .mqtt_username
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|u| format!(" as {u}"))
        .unwrap_or_default();
    let named = file
        .broker
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty() && !b.eq_ignore_ascii_case("embedded"));
    match named {
        None => format!(
            "the embedded broker (port {}){user}",
            file.embedded_broker_port
                .unwrap_or(crate::settings::DEFAULT_MQTT_PORT)
        ),
        Some(text) => match BrokerUrl::parse_with_login(text, None) {
            Ok((url, login)) => {
                let user = login.map_or(user, |login| format!(" as {}", login.username));
                format!("{url}{user}")
            }
            Err(_) => "an address that does not parse".to_owned(),
        },
    }
}

/// Why a backup could not be read or restored.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file is not a backup of this app.
    #[error("not a backup: {0}")]
    NotABackup(String),
    /// A document in it is invalid; nothing was restored.
    #[error("the backup holds invalid entries: {}", list(.0))]
    Invalid(Vec<FieldError>),
    /// Reading or writing a file.
    #[error("{0}")]
    Io(String),
    /// The backup names another broker and the admin has not confirmed it; nothing was
    /// restored.
    #[error("{0}: confirm the broker change to restore this backup")]
    BrokerChange(BrokerChange),
}

fn list(details: &[FieldError]) -> String {
    details
        .iter()
        .map(|d| format!("{} {}", d.path, d.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Backup {
    /// A backup of these parts.
    /// Without secrets, `api_key` and the secrets the services' settings `schemas` declare
    /// are masked.
    pub fn new(
        configs: impl IntoIterator<Item = (String, Value)>,
        history: impl IntoIterator<Item = HistoryEntry>,
        settings: &SettingsFile,
        schemas: &Schemas,
        include_secrets: bool,
    ) -> Self {
        let secrets = |service: &str| {
            schemas
                .get(service)
                .map(SchemaRecord::secret_paths)
                .unwrap_or_default()
        };
        let configs = configs
            .into_iter()
            .map(|(name, document)| {
                let document = if include_secrets {
                    document
                } else {
                    mask_document_with(&document, &secrets(&name))
                };
                (name, document)
            })
            .collect();
        let mut history: Vec<HistoryEntry> = history
            .into_iter()
            .map(|mut entry| {
                if !include_secrets {
                    let extra = secrets(&entry.service);
                    entry.document = entry
                        .document
                        .map(|d| Arc::new(mask_document_with(&d, &extra)));
                }
                entry
            })
            .collect();
        history.sort_by_key(|e| e.revision);
        let mut settings = match serde_json::to_value(settings) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        if !include_secrets {
            for key in SECRET_SETTINGS {
                settings.remove(key);
            }
            // A login written in the broker's address holds the MQTT password too (CONTRACT
            // §10): the backup keeps the address and the user, never the password.
            if let Some(Value::String(broker)) = settings.get("broker")
                && let Some(stripped) = without_password(broker)
            {
                settings.insert("broker".to_owned(), Value::String(stripped));
            }
        }
        Self {
            format: BACKUP_FORMAT.to_owned(),
            version: BACKUP_VERSION,
            created: now_rfc3339(),
            secrets_included: include_secrets,
            configs,
            history,
            settings,
        }
    }

    /// A backup of a running config service and its settings file.
    pub fn of_service(
        config: &ConfigService,
        settings: &SettingsStore,
        include_secrets: bool,
    ) -> Result<Self, BackupError> {
        let settings = settings
            .load()
            .map_err(|e| BackupError::Io(e.to_string()))?;
        let configs = config
            .snapshot()
            .documents
            .iter()
            .map(|(name, stored)| (name.clone(), Value::clone(&stored.document)))
            .collect::<Vec<_>>();
        let history = config
            .all_history()
            .into_iter()
            .map(|e| HistoryEntry::clone(&e));
        Ok(Self::new(
            configs,
            history,
            &settings,
            &config.schemas(),
            include_secrets,
        ))
    }

    /// A backup of the files in `config_dir`, read without changing them (a manager may be
    /// running on it).
    pub fn of_folder(config_dir: &Path, include_secrets: bool) -> Result<Self, BackupError> {
        let config_file = config_dir.join("config.json");
        let configs = load_config_file(&config_file)
            .map_err(|e| BackupError::Io(e.to_string()))?
            .ok_or_else(|| BackupError::Io(format!("{}: no such file", config_file.display())))?;
        let history = read_history(&config_dir.join("history.jsonl"))
            .map_err(|e| BackupError::Io(format!("history.jsonl: {e}")))?;
        let settings = SettingsFile::load(&config_dir.join(SETTINGS_FILE_NAME))
            .map_err(|e| BackupError::Io(e.to_string()))?;
        let (schemas, _) = settings_schemas::load(&config_dir.join(SCHEMAS_FILE_NAME));
        Ok(Self::new(
            configs,
            history.entries,
            &settings,
            &schemas,
            include_secrets,
        ))
    }

    /// Reads a backup file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, BackupError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| BackupError::NotABackup(e.to_string()))?;
        if value.get("format").and_then(Value::as_str) != Some(BACKUP_FORMAT) {
            return Err(BackupError::NotABackup(format!(
                "`format` must be {BACKUP_FORMAT:?}"
            )));
        }
        if value.get("version").and_then(Value::as_u64) != Some(u64::from(BACKUP_VERSION)) {
            return Err(BackupError::NotABackup(format!(
                "this build reads version {BACKUP_VERSION} backups"
            )));
        }
        serde_json::from_value(value).map_err(|e| BackupError::NotABackup(e.to_string()))
    }

    /// The file's bytes (pretty JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Checks every document (the whole backup is refused if one is invalid) and says what
    /// restoring it would do to each service.
    pub fn preview(&self, config: &ConfigService) -> Result<Vec<RestoreItem>, BackupError> {
        let mut details = Vec::new();
        let snapshot = config.snapshot();
        let mut items = Vec::new();
        for (service, document) in &self.configs {
            let stored = snapshot.documents.get(service);
            let mut incoming = document.clone();
            let mut errors = restore_masked_secrets_with(
                &mut incoming,
                stored.map(|s| &*s.document),
                &config.secret_paths(service),
            )
            .err()
            .unwrap_or_default();
            errors.extend(config.validate(service, &incoming));
            details.extend(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(format!("/configs/{service}{}", e.path), e.message)),
            );
            let kind = match stored {
                None => RestoreKind::New,
                Some(stored) => match diff(&stored.document, &incoming).len() {
                    0 => RestoreKind::Unchanged,
                    n => RestoreKind::Changed(n),
                },
            };
            items.push(RestoreItem {
                service: service.clone(),
                kind,
            });
        }
        for service in snapshot.documents.keys() {
            if !self.configs.contains_key(service) {
                items.push(RestoreItem {
                    service: service.clone(),
                    kind: RestoreKind::Removed,
                });
            }
        }
        let mut revisions = std::collections::HashSet::new();
        for (index, entry) in self.history.iter().enumerate() {
            if let Some(problem) = entry.problem() {
                details.push(FieldError::new(format!("/history/{index}"), problem));
            } else if !revisions.insert(entry.revision) {
                details.push(FieldError::new(
                    format!("/history/{index}/revision"),
                    format!("revision {} appears twice", entry.revision),
                ));
            }
        }
        if let Err(error) =
            serde_json::from_value::<SettingsFile>(Value::Object(self.settings.clone()))
        {
            details.push(FieldError::new("/settings", error.to_string()));
        }
        if details.is_empty() {
            items.sort_by(|a, b| a.service.cmp(&b.service));
            Ok(items)
        } else {
            Err(BackupError::Invalid(details))
        }
    }

    /// The broker change restoring it would make to `current` settings, if any.
    pub fn broker_change(&self, current: &SettingsFile) -> Option<BrokerChange> {
        let restored: SettingsFile =
            serde_json::from_value(Value::Object(self.settings.clone())).ok()?;
        let (now, then) = (broker_of(current), broker_of(&restored));
        (now != then).then(|| BrokerChange {
            now,
            restored: then,
            password_in_backup: restored.mqtt_password.is_some()
                || restored
                    .broker
                    .as_deref()
                    .and_then(|b| BrokerUrl::parse_with_login(b, None).ok())
                    .is_some_and(|(_, login)| login.is_some_and(|l| l.password.is_some())),
        })
    }

    /// Restores it: validates first, then replaces the configs and history (recording an
    /// `import` revision per changed service) and the settings file (secrets the backup lacks
    /// are kept from the file there now, but never the MQTT password for another broker). A
    /// backup that names another broker is restored only with `accept_broker_change`. Returns
    /// how many services changed.
    pub async fn restore(
        &self,
        config: &ConfigService,
        settings_file: &SettingsStore,
        accept_broker_change: bool,
    ) -> Result<usize, BackupError> {
        self.preview(config)?;
        let reader = settings_file.clone();
        let current = tokio::task::spawn_blocking(move || reader.load())
            .await
            .map_err(|e| BackupError::Io(e.to_string()))?
            .map_err(|e| BackupError::Io(e.to_string()))?;
        let broker_change = self.broker_change(&current);
        if let Some(change) = broker_change.clone()
            && !accept_broker_change
        {
            return Err(BackupError::BrokerChange(change));
        }
        let restore = Restore {
            documents: self
                .configs
                .iter()
                .map(|(name, document)| (name.clone(), document.clone()))
                .collect::<BTreeMap<_, _>>(),
            history: self.history.clone(),
        };
        let changed = config.restore(restore).await.map_err(|error| match error {
            crate::config::ConfigError::Invalid { details } => BackupError::Invalid(details),
            other => BackupError::Io(other.to_string()),
        })?;
        let store = settings_file.clone();
        let settings = self.settings.clone();
        let keep_password = broker_change.is_none();
        tokio::task::spawn_blocking(move || restore_settings(&store, settings, keep_password))
            .await
            .map_err(|e| BackupError::Io(e.to_string()))??;
        Ok(changed.len())
    }
}

/// `broker` without the password of a login written in it (`mqtt://user@host:port`); `None`
/// when it holds no password.
fn without_password(broker: &str) -> Option<String> {
    let (url, login) = BrokerUrl::parse_with_login(broker, None).ok()?;
    let login = login?;
    login.password.as_ref()?;
    let url = url.to_string();
    let (scheme, address) = url.split_once("://")?;
    Some(format!(
        "{scheme}://{}@{address}",
        percent_encode_user(&login.username)
    ))
}

/// A user name as written in a URL's login.
fn percent_encode_user(user: &str) -> String {
    user.bytes()
        .map(|byte| match byte {
            b'@' | b':' | b'/' | b'%' | b'?' | b'#' | 0x80.. => format!("%{byte:02X}"),
            _ => char::from(byte).to_string(),
        })
        .collect::<String>()
}

/// Where a backup without secrets names today's broker with today's user but no password,
/// today's broker address (with its password) is kept.
fn broker_with_its_password(
    restored: &Map<String, Value>,
    current: &Map<String, Value>,
) -> Option<String> {
    let then = restored.get("broker")?.as_str()?;
    let now = current.get("broker")?.as_str()?;
    let (then_url, then_login) = BrokerUrl::parse_with_login(then, None).ok()?;
    let (now_url, now_login) = BrokerUrl::parse_with_login(now, None).ok()?;
    let (then_login, now_login) = (then_login?, now_login?);
    let same = then_url == now_url
        && then_login.username == now_login.username
        && then_login.password.is_none()
        && now_login.password.is_some();
    same.then(|| now.to_owned())
}

/// Replaces the settings file with the backup's, keeping today's secrets where it has none
/// (the MQTT password only with `keep_password`: not for another broker).
fn restore_settings(
    store: &SettingsStore,
    settings: Map<String, Value>,
    keep_password: bool,
) -> Result<(), BackupError> {
    let mut refused = None;
    store
        .update_blocking(|file| {
            let mut restored = settings;
            if let Ok(Value::Object(current)) = serde_json::to_value(&*file) {
                if keep_password && let Some(kept) = broker_with_its_password(&restored, &current) {
                    restored.insert("broker".to_owned(), Value::String(kept));
                }
                for key in SECRET_SETTINGS {
                    if key == "mqtt_password" && !keep_password {
                        continue;
                    }
                    if !restored.contains_key(key)
                        && let Some(value) = current.get(key)
                    {
                        restored.insert(key.to_owned(), value.clone());
                    }
                }
            }
            match serde_json::from_value::<SettingsFile>(Value::Object(restored)) {
                Ok(restored) => *file = restored,
                Err(error) => refused = Some(error),
            }
        })
        .map_err(|e| BackupError::Io(e.to_string()))?;
    match refused {
        Some(error) => Err(BackupError::Io(format!("settings: {error}"))),
        None => Ok(()),
    }
}
