//! The config service over a temp folder, as the config-store tests open it.

use alicia_config_manager::core::config::{ConfigPaths, ConfigService};
use alicia_config_manager::core::events::EventBus;
use serde_json::Value;
use std::path::Path;

/// The config service over `dir`, keeping 100 revisions a service, its writer running.
pub fn open(dir: &Path) -> ConfigService {
    open_with_limit(dir, 100)
}

/// The config service over `dir`, keeping `limit` revisions a service, its writer running.
pub fn open_with_limit(dir: &Path, limit: usize) -> ConfigService {
    let (service, writer, _report) =
        ConfigService::open(ConfigPaths::in_dir(dir), EventBus::default(), limit).unwrap();
    tokio::spawn(writer.run());
    service
}

/// An LLM service's document with a key, `model` and an endpoint.
pub fn document(name: &str, model: &str) -> Value {
    super::llm(name)
        .api_key("sk-live-123")
        .model(model)
        .ip("10.0.0.7")
        .protocol("http")
        .build()
}

/// `config.json` in `dir`, as JSON.
pub fn on_disk(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap()
}
