//! The services' settings schemas as the writer keeps them: announced, compiled off the
//! writer's task (never for one already recorded), accepted, mirrored, forgotten with the
//! service (CONTRACT §10: trust on first use).

use super::*;

impl ConfigWriter {
    /// Applies settings-schema changes, in order, against the stored documents; stores the
    /// file once (atomically; on failure nothing changes), answers whoever waits and tells
    /// every face.
    pub(super) async fn schemas(&mut self, requests: Vec<SchemaRequest>) {
        let snapshot = Arc::clone(&self.shared.snapshot.borrow());
        let mut next = self.shared.settings_schemas.read().clone();
        let mut changed = Vec::new();
        let mut answers = Vec::new();
        for (service, input, reply) in requests {
            let op = match input {
                SchemaInput::Op(op) => op,
                SchemaInput::Source(kind, source) => {
                    match compiled(&next, &service, kind, source).await {
                        Some(op) => op,
                        None => continue,
                    }
                }
            };
            let document = snapshot.documents.get(&service).map(|s| &*s.document);
            let what = match &op {
                SchemaOp::Announced(_) => "announced",
                SchemaOp::Accept => "accepted by an admin",
                SchemaOp::Mirror(_) => "mirrored from the authority",
                SchemaOp::SeenByFollower(_) => "announced (pending here: the authority decides)",
                SchemaOp::Forget => "forgotten with its service",
            };
            let outcome = settings_schemas::apply_schema_op(&mut next, &service, op, document);
            if outcome == Ok(true) {
                changed.push((service.clone(), what));
            }
            answers.push((service, outcome.map(|_| ()), reply));
        }
        if !changed.is_empty() {
            let bytes = settings_schemas::render(&next);
            let path = self.shared.paths.schemas_file.clone();
            let stored = tokio::task::spawn_blocking(move || write_atomic(&path, &bytes))
                .await
                .unwrap_or_else(|join| Err(std::io::Error::other(join.to_string())));
            if let Err(error) = stored {
                let refusal = refusal_of_io(&error);
                for (service, outcome, _) in &mut answers {
                    if outcome.is_ok() && changed.iter().any(|(s, _)| s == service) {
                        *outcome = Err(refusal.clone());
                    }
                }
                changed.clear();
            }
        }
        if !changed.is_empty() {
            *self.shared.settings_schemas.write() = next;
            let schemas = self.shared.settings_schemas.read();
            for (service, what) in &changed {
                let record = schemas.get(service);
                tracing::info!(
                    service,
                    enforced = record.is_some_and(|r| r.enforced.is_some()),
                    pending = record.is_some_and(|r| r.pending.is_some()),
                    "settings schema {what}"
                );
            }
            drop(schemas);
            self.shared
                .schemas_changed
                .send_modify(|generation| *generation += 1);
            for (service, _) in changed {
                self.shared
                    .events
                    .emit(CoreEvent::ServiceUpdated { service });
            }
        }
        for (service, outcome, reply) in answers {
            match (outcome, reply) {
                (outcome, Some(reply)) => answer(reply, outcome),
                (Err(error), None) => {
                    tracing::warn!(service, %error, "a settings schema could not be stored");
                }
                (Ok(()), None) => {}
            }
        }
    }

    /// Deleted services take their settings schemas with them: the next schema announced
    /// for the name is a first again (CONTRACT §10).
    pub(super) async fn forget_schemas(&mut self, deleted: Vec<String>) {
        let known: Vec<String> = {
            let schemas = self.shared.settings_schemas.read();
            deleted
                .into_iter()
                .filter(|service| schemas.contains_key(service))
                .collect()
        };
        if !known.is_empty() {
            let requests = known
                .into_iter()
                .map(|service| (service, SchemaInput::Op(SchemaOp::Forget), None))
                .collect();
            self.schemas(requests).await;
        }
    }
}

/// The change a schema from the bus asks for: compiled on a blocking thread, unless it is
/// the enforced or pending schema already (its periodic re-announcement costs nothing); a
/// schema that does not compile is refused with a warning (`None`).
async fn compiled(
    schemas: &settings_schemas::Schemas,
    service: &str,
    kind: SourceKind,
    source: Option<Arc<Value>>,
) -> Option<SchemaOp> {
    let Some(source) = source else {
        return Some(kind.op(None));
    };
    let known = schemas.get(service).and_then(|record| {
        [&record.enforced, &record.pending]
            .into_iter()
            .flatten()
            .find(|schema| *schema.source == *source)
            .cloned()
    });
    if let Some(schema) = known {
        return Some(kind.op(Some(schema)));
    }
    let compiling =
        tokio::task::spawn_blocking(move || SettingsSchema::compile(Value::clone(&source)));
    match compiling.await {
        Ok(Ok(schema)) => Some(kind.op(Some(schema))),
        Ok(Err(error)) => {
            tracing::warn!(service, %error, "a settings schema from the bus was refused");
            None
        }
        Err(_) => None,
    }
}
