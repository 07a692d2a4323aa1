//! The GUI's own view of the manager, kept from the backend's updates: the GUI reads this,
//! never the backend, between frames. The high-volume streams (devices, messages, the topic
//! tree) have views of their own in [`crate::models`].

use alicia_model::backend::{LocalSettings, SystemView, Update};
use alicia_model::checks::Check;
use alicia_model::config::{SchemaRecord, Schemas, SecretPaths, Snapshot, StoredDocument};
use alicia_model::overview::ServiceOverview;
use std::sync::Arc;

/// What the GUI knows of the manager now.
#[derive(Debug, Default)]
pub struct View {
    /// The manager as a whole (broker, role, REST server).
    pub system: SystemView,
    /// The settings only this machine sees (`None` from afar).
    pub local: Option<LocalSettings>,
    /// Every service's overview row.
    pub services: Arc<Vec<ServiceOverview>>,
    /// The findings of the checks across services.
    pub checks: Arc<Vec<Check>>,
    /// The stored documents.
    pub config: Arc<Snapshot>,
    /// The settings schemas the services announced.
    pub schemas: Arc<Schemas>,
    /// MQTT messages the manager received since it started.
    pub messages_received: u64,
    /// Counts the changes of the documents and the settings schemas seen: the editor and the
    /// history work out what they show again only when it moves (not at every health report).
    pub generation: u64,
}

impl View {
    /// Takes in an update about the manager; gives back the ones for other views (devices,
    /// messages, commands, rollbacks).
    pub fn apply(&mut self, update: Update) -> Option<Update> {
        match update {
            Update::System(system) => self.system = *system,
            Update::Local(local) => self.local = Some(*local),
            Update::Services { rows, checks } => {
                self.services = rows;
                self.checks = checks;
            }
            Update::Config(config) => {
                self.config = config;
                self.generation += 1;
            }
            Update::Schemas(schemas) => {
                self.schemas = schemas;
                self.generation += 1;
            }
            Update::Traffic { messages_received } => self.messages_received = messages_received,
            other => return Some(other),
        }
        None
    }

    /// A service's stored document.
    pub fn document(&self, service: &str) -> Option<&StoredDocument> {
        self.config.documents.get(service)
    }

    /// A service's settings schemas (enforced and pending).
    pub fn schema_record(&self, service: &str) -> Option<&SchemaRecord> {
        self.schemas.get(service)
    }

    /// The secret fields a service's settings schemas declare (masked in tables).
    pub fn secret_paths(&self, service: &str) -> SecretPaths {
        self.schema_record(service)
            .map(SchemaRecord::secret_paths)
            .unwrap_or_default()
    }

    /// A service's overview row.
    pub fn service(&self, service: &str) -> Option<&ServiceOverview> {
        self.services.iter().find(|row| row.service_name == service)
    }
}
