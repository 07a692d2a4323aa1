//! The GUI's backend in the same process: the model's [`Backend`] over a running [`Core`].
//! Requests run on the core's runtime and answer through a [`Reply`] the GUI polls; the
//! core's events reach the GUI as [`Update`]s through a [`Feed`] ([`forward`]). What only
//! this machine may do is [`LocalAdmin`]'s ([`local`]).

mod forward;
mod local;

use crate::Core;
use crate::config::{desktop_origin, desktop_user};
use crate::mqtt::QoS;
use alicia_model::backend::{Backend, Feed, HistoryPage, Live, LocalAdmin, Reply, Wake};
use alicia_model::change_sets::{ChangeSetAnswer, ChangeSetRequest, SetPreview};
use alicia_model::config::{Committed, ConfigError, Precondition};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The core, as the GUI in the same process reaches it.
pub struct InProcess {
    core: Core,
    runtime: tokio::runtime::Handle,
    forwarder: forward::Forwarder,
}

impl InProcess {
    /// A backend over `core`, whose work runs on `runtime`.
    pub fn new(core: Core, runtime: tokio::runtime::Handle) -> Self {
        Self {
            forwarder: forward::Forwarder::new(core.clone(), runtime.clone()),
            core,
            runtime,
        }
    }

    /// Runs `work` on the runtime; its answer wakes the face when it lands.
    fn spawn<T: Send + 'static>(&self, work: impl Future<Output = T> + Send + 'static) -> Reply<T> {
        let (sender, reply) = Reply::new();
        let wake = self.forwarder.wake();
        self.runtime.spawn(async move {
            sender.send(work.await);
            if let Some(wake) = wake {
                wake(Duration::ZERO);
            }
        });
        reply
    }

    /// Runs `work` on the runtime's blocking pool (a compute or a file that may outlast a
    /// frame).
    fn spawn_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Reply<Result<T, String>> {
        self.spawn(async move {
            tokio::task::spawn_blocking(work)
                .await
                .unwrap_or_else(|error| Err(format!("the work stopped: {error}")))
        })
    }
}

impl Backend for InProcess {
    fn connect(&self, wake: Wake) -> Arc<Feed> {
        self.forwarder.start(wake)
    }

    fn follow(&self, live: Live) {
        self.forwarder.follow(live);
    }

    fn resync(&self) {
        self.forwarder.send_state();
    }

    fn history(&self, service: &str) -> Reply<HistoryPage> {
        // Read from memory under a short lock: ready at once.
        let entries = self.core.config.history(service);
        let ids: HashSet<&str> = entries
            .iter()
            .filter_map(|e| e.change_id.as_deref())
            .collect();
        let sets = self.core.config.change_set_members(&ids);
        Reply::from_ready(HistoryPage { entries, sets })
    }

    fn put(
        &self,
        service: &str,
        document: Value,
        precondition: Precondition,
        watch_secs: u64,
    ) -> Reply<Result<Committed, ConfigError>> {
        let (core, service) = (self.core.clone(), service.to_owned());
        // Put on watch: undone by itself if the service refuses it, turns unhealthy or (one
        // that confirms its configs) stays silent.
        let origin = desktop_origin().with_watch(watch_secs);
        self.spawn(async move {
            core.put_watched(&service, document, origin, precondition)
                .await
        })
    }

    fn delete(
        &self,
        service: &str,
        precondition: Precondition,
    ) -> Reply<Result<Committed, ConfigError>> {
        let (core, service) = (self.core.clone(), service.to_owned());
        self.spawn(async move {
            core.config
                .delete(&service, desktop_origin(), precondition)
                .await
        })
    }

    fn rollback(&self, service: &str, revision: u64) -> Reply<Result<Committed, ConfigError>> {
        let (core, service) = (self.core.clone(), service.to_owned());
        self.spawn(async move {
            core.config
                .rollback(&service, revision, desktop_user())
                .await
        })
    }

    fn accept_schema(&self, service: &str) -> Reply<Result<(), ConfigError>> {
        let (core, service) = (self.core.clone(), service.to_owned());
        self.spawn(async move { core.config.accept_schema(&service).await })
    }

    fn preview_set(&self, documents: Vec<Value>) -> Reply<SetPreview> {
        let changes = self.core.changes.clone();
        // The checks across services over the whole fleet: on the blocking pool.
        self.spawn(async move {
            tokio::task::spawn_blocking(move || changes.preview(&documents))
                .await
                .unwrap_or_default()
        })
    }

    fn apply_set(&self, request: ChangeSetRequest) -> Reply<Result<ChangeSetAnswer, ConfigError>> {
        let changes = self.core.changes.clone();
        self.spawn(async move { changes.apply(request, desktop_origin()).await })
    }

    fn rollback_set(
        &self,
        change_id: &str,
        force: bool,
    ) -> Reply<Result<ChangeSetAnswer, ConfigError>> {
        let (changes, change_id) = (self.core.changes.clone(), change_id.to_owned());
        self.spawn(async move { changes.rollback(&change_id, force, desktop_user()).await })
    }

    fn send_command(
        &self,
        device: &str,
        command: &str,
        params: Map<String, Value>,
    ) -> Reply<Result<String, String>> {
        // A publish into the client's queue: ready at once.
        Reply::from_ready(
            self.core
                .send_command(device, command, params)
                .map_err(|error| error.to_string()),
        )
    }

    fn forget_device(&self, id: &str) -> Reply<bool> {
        Reply::from_ready(self.core.forget_device(id))
    }

    fn publish(
        &self,
        topic: &str,
        payload: Vec<u8>,
        qos: u8,
        retain: bool,
    ) -> Reply<Result<(), String>> {
        let qos = match qos {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        };
        Reply::from_ready(
            self.core
                .mqtt
                .publish_checked(topic, payload, qos, retain)
                .map_err(|error| error.to_string()),
        )
    }

    fn retained_topics(&self, filters: Vec<String>) -> Reply<Result<Vec<String>, String>> {
        let target = crate::mqtt::retained_probe::core_broker(&self.core.settings);
        self.spawn(
            async move { crate::mqtt::retained_probe::retained_topics(target, &filters).await },
        )
    }

    fn set_home_assistant(&self, on: bool) -> Reply<Result<(), String>> {
        self.core.ha.set_enabled(on);
        self.forwarder.send_system();
        let store = self.core.settings_file.clone();
        self.spawn(async move {
            store
                .update(move |file| file.ha_discovery = Some(on))
                .await
                .map(drop)
                .map_err(|error| error.to_string())
        })
    }

    fn local(&self) -> Option<&dyn LocalAdmin> {
        Some(self)
    }
}
