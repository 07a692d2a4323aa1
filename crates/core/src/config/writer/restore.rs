//! A backup's documents and history restored as one: checked first, a copy of the store kept
//! beside it, then installed and published.

use super::*;

impl ConfigWriter {
    /// Replaces the store with a backup: validates every document first, keeps a copy of the
    /// files it replaces, takes the backup's history and records an `import` per change.
    pub(super) async fn restore(
        &mut self,
        restore: Restore,
    ) -> Result<Vec<Committed>, ConfigError> {
        let current = Arc::clone(&self.shared.snapshot.borrow());
        let documents = self.validated_restore(&current, restore.documents)?;
        let mut history = restore.history;
        history.sort_by_key(|e| e.revision);
        let mut next_revision = history
            .last()
            .map_or(self.next_revision, |e| e.revision + 1)
            .max(self.next_revision);
        let before: BTreeMap<String, Arc<Value>> = current
            .documents
            .iter()
            .map(|(name, stored)| (name.clone(), Arc::clone(&stored.document)))
            .collect();
        let imports = reconcile(&before, &documents, &mut next_revision);
        let mut kept = Histories::new();
        for entry in history.into_iter().chain(imports.iter().cloned()) {
            push_bounded(&mut kept, Arc::new(entry), self.shared.history_limit);
        }
        let mut snapshot = Snapshot::default();
        for (name, document) in &documents {
            // The newest revision kept for it: its import, else the backup's last.
            let revision = kept
                .get(name)
                .and_then(|entries| entries.back())
                .map(|e| e.revision)
                .or_else(|| current.documents.get(name).map(|s| s.revision))
                .unwrap_or(0);
            snapshot.documents.insert(
                name.clone(),
                StoredDocument {
                    document: Arc::clone(document),
                    revision,
                },
            );
        }
        let all = retained_entries(&kept);

        let paths = self.shared.paths.clone();
        let rendered = store::render(&documents);
        let log = Arc::clone(&self.log);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            keep_copy_before_restore(&paths)?;
            let history = HistoryLog::render(&all)?;
            write_atomic_all(&[
                (paths.history_file.as_path(), &history),
                (paths.config_file.as_path(), &rendered),
            ])?;
            log.lock().replaced(all.len())
        })
        .await
        .unwrap_or_else(|join| Err(std::io::Error::other(join.to_string())))
        .map_err(|error| {
            tracing::error!(%error, "could not store the restored configs; nothing was changed");
            refusal_of_io(&error)
        })?;

        self.next_revision = next_revision;
        self.shared.snapshot.send_replace(Arc::new(snapshot));
        *self.shared.history.write() = kept;
        let committed = imports
            .into_iter()
            .map(|entry| {
                let created = !current.documents.contains_key(&entry.service);
                self.announce(entry, created, "config restored")
            })
            .collect();
        Ok(committed)
    }

    /// A backup's documents with masked secrets filled from the store, or every problem.
    pub(super) fn validated_restore(
        &self,
        current: &Snapshot,
        incoming: BTreeMap<String, Value>,
    ) -> Result<BTreeMap<String, Arc<Value>>, ConfigError> {
        let mut details = Vec::new();
        let mut documents = BTreeMap::new();
        let schemas = self.shared.settings_schemas.read();
        for (service, mut document) in incoming {
            let stored = current.documents.get(&service);
            let record = schemas.get(&service);
            let secrets = record.map(SchemaRecord::secret_paths).unwrap_or_default();
            if let Err(problems) =
                restore_masked_secrets_with(&mut document, stored.map(|s| &*s.document), &secrets)
            {
                details.extend(
                    problems
                        .into_iter()
                        .map(|e| FieldError::new(format!("/{service}{}", e.path), e.message)),
                );
            }
            if document.get("service_name").and_then(Value::as_str) != Some(service.as_str()) {
                details.push(FieldError::new(
                    format!("/{service}/service_name"),
                    format!("must be {service:?}, its key"),
                ));
            }
            details.extend(
                validate_document(&document, record.and_then(|r| r.enforced.as_ref()))
                    .into_iter()
                    .map(|e| FieldError::new(format!("/{service}{}", e.path), e.message)),
            );
            documents.insert(service, Arc::new(document));
        }
        if details.is_empty() {
            Ok(documents)
        } else {
            Err(ConfigError::Invalid { details })
        }
    }
}

/// Copies `config.json`, `history.jsonl` and the settings file beside them into
/// `before-restore-<time>/`.
fn keep_copy_before_restore(paths: &ConfigPaths) -> std::io::Result<()> {
    let Some(dir) = paths.config_file.parent() else {
        return Ok(());
    };
    let stamp = now_rfc3339().replace(':', "-");
    let copy = dir.join(format!("before-restore-{stamp}"));
    crate::fsutil::ensure_private_dir(&copy)?;
    let settings = dir.join(crate::settings::SETTINGS_FILE_NAME);
    for file in [&paths.config_file, &paths.history_file, &settings] {
        if let Some(name) = file.file_name()
            && file.exists()
        {
            let bytes = std::fs::read(file)?;
            write_atomic(&copy.join(name), &bytes)?;
        }
    }
    Ok(())
}
