//! What only this machine may do (CONTRACT §11: local only), over the core: the REST server's
//! switch and its settings, a broker connection test, export and import, backup and restore.

use super::InProcess;
use crate::backup::Backup;
use crate::mqtt::connection_test::test_connection;
use crate::transfer::{apply_import, export_documents, preview_import};
use alicia_model::backend::{LocalAdmin, Reply};
use alicia_model::settings::api::{ApiSettings, ApiSettingsError};
use alicia_model::settings::broker::ProbeTarget;
use alicia_model::transfer::{ImportOutcome, ImportPreview, RestorePreview};
use std::sync::Arc;

impl LocalAdmin for InProcess {
    fn start_api(&self, settings: ApiSettings) -> Reply<Result<(), String>> {
        if let Err(error) = self.core.api.turn_on(settings.clone()) {
            return Reply::from_ready(Err(match error {
                ApiSettingsError::TokenRequired(_) => format!("{error}: generate one"),
                ApiSettingsError::ReadTokenWithoutToken => error.to_string(),
            }));
        }
        self.forwarder.send_system();
        self.keep_api(true, Some(settings))
    }

    fn new_token(&self) -> Reply<Result<String, String>> {
        Reply::from_ready(crate::random::secret_hex::<24>().map_err(|error| error.to_string()))
    }

    fn stop_api(&self) -> Reply<Result<(), String>> {
        self.core.api.turn_off();
        self.forwarder.send_system();
        self.keep_api(false, None)
    }

    fn test_broker(&self, target: ProbeTarget) -> Reply<Result<String, String>> {
        self.spawn(test_connection(target))
    }

    fn export(&self, secrets: bool) -> Reply<Result<Vec<u8>, String>> {
        let config = self.core.config.clone();
        self.spawn(async move {
            serde_json::to_vec_pretty(&export_documents(&config, secrets))
                .map_err(|error| error.to_string())
        })
    }

    fn backup(&self, secrets: bool) -> Reply<Result<Vec<u8>, String>> {
        let (config, settings) = (self.core.config.clone(), self.core.settings_file.clone());
        self.spawn_blocking(move || {
            Backup::of_service(&config, &settings, secrets)
                .map(|backup| backup.to_bytes())
                .map_err(|error| error.to_string())
        })
    }

    fn preview_import(&self, bytes: Vec<u8>) -> Reply<Result<ImportPreview, String>> {
        let config = self.core.config.clone();
        // Every document is validated here, on the blocking pool, not between two frames.
        self.spawn_blocking(move || {
            preview_import(&config, &bytes).map(|items| ImportPreview { items })
        })
    }

    fn apply_import(&self, preview: ImportPreview) -> Reply<Vec<ImportOutcome>> {
        let config = self.core.config.clone();
        self.spawn(async move { apply_import(&config, preview.items).await })
    }

    fn preview_restore(&self, bytes: Vec<u8>) -> Reply<Result<RestorePreview, String>> {
        let (config, settings) = (self.core.config.clone(), self.core.settings_file.clone());
        self.spawn_blocking(move || {
            let backup = Backup::parse(&bytes).map_err(|e| e.to_string())?;
            let items = backup.preview(&config).map_err(|e| e.to_string())?;
            let current = settings.load().map_err(|e| e.to_string())?;
            Ok(RestorePreview {
                created: backup.created.clone(),
                secrets_included: backup.secrets_included,
                items,
                broker_change: backup.broker_change(&current),
                bytes: Arc::from(bytes),
            })
        })
    }

    fn apply_restore(
        &self,
        preview: RestorePreview,
        accept_broker: bool,
    ) -> Reply<Result<usize, String>> {
        let (config, settings) = (self.core.config.clone(), self.core.settings_file.clone());
        self.spawn(async move {
            let backup = Backup::parse(&preview.bytes).map_err(|e| e.to_string())?;
            backup
                .restore(&config, &settings, accept_broker)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

impl InProcess {
    /// Keeps the REST server's switch (and its settings) for the next start.
    fn keep_api(&self, enabled: bool, settings: Option<ApiSettings>) -> Reply<Result<(), String>> {
        let store = self.core.settings_file.clone();
        self.spawn(async move {
            store
                .update(move |file| {
                    file.api_enabled = Some(enabled);
                    if let Some(settings) = settings {
                        file.api_bind = Some(settings.bind);
                        file.api_port = Some(settings.port);
                        file.api_token = settings.token;
                        file.frontend_url = Some(settings.frontend_url);
                    }
                })
                .await
                .map(drop)
                .map_err(|error| error.to_string())
        })
    }
}
