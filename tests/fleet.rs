//! Several managers on one fleet (CONTRACT §5), on one real broker — Mosquitto when it is
//! installed (always in CI), else the embedded one: a follower's edits land in the
//! authority's store, the two views agree, nothing is published twice, the authority's
//! refusals reach the follower's editor, a follower without a live authority refuses edits
//! and says why, and `--role authority` takes over (the old authority steps down).

mod support;

use alicia_config_manager::api;
use alicia_config_manager::core::config::{ChangeSource, ConfigError, Precondition};
use alicia_config_manager::core::fleet::{Role, RoleSetting};
use alicia_config_manager::core::{Core, CoreRuntime};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use support::api::Call;
use support::headless::Headless;
use support::{TestBroker, TestClient, llm_document, wait_until};

fn broker() -> TestBroker {
    TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded)
}

async fn manager(dir: &Path, port: u16, role: RoleSetting) -> (Core, CoreRuntime) {
    support::start_synced_manager(dir, port, role, |_| {}).await
}

/// The documents as a follower or authority holds them.
fn documents(core: &Core) -> Value {
    let snapshot = core.config.snapshot();
    Value::Object(
        snapshot
            .documents
            .iter()
            .map(|(name, stored)| (name.clone(), Value::clone(&stored.document)))
            .collect(),
    )
}

async fn views_agree(authority: &Core, follower: &Core) {
    let (a, f) = (authority.clone(), follower.clone());
    wait_until("the follower's view matches the authority's", move || {
        documents(&a) == documents(&f)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_sends_its_edits_to_the_authority_and_shows_its_answers() {
    let broker = broker();
    let (dir_a, dir_f) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (authority, authority_runtime) =
        manager(dir_a.path(), broker.port, RoleSetting::Auto).await;
    assert_eq!(authority.fleet.role(), Role::Authority);

    let (follower, follower_runtime) = manager(dir_f.path(), broker.port, RoleSetting::Auto).await;
    assert_eq!(
        follower.fleet.role(),
        Role::Follower,
        "a live authority was announced"
    );
    let followed = follower.fleet.state().authority.unwrap();
    assert_eq!(followed.instance_id, authority.fleet.instance_id());
    assert!(
        follower
            .fleet
            .describe()
            .contains(authority.fleet.instance_id())
    );
    assert_eq!(follower.system_info().role.as_str(), "follower");
    views_agree(&authority, &follower).await;

    let mut observer = TestClient::connect(broker.port).await;
    observer.subscribe("alicia/config/#").await;
    observer.subscribe("alicia/system/health/#").await;

    // An edit on the follower (the path its GUI and REST take) lands in the authority's
    // store and history, as an MQTT change.
    let committed = follower
        .config
        .put(
            "llm-main",
            llm_document("llm-main", "llama3"),
            ChangeSource::Gui,
            Precondition::None,
        )
        .await
        .expect("the authority accepted the follower's edit");
    assert_eq!(
        committed.document.as_ref().unwrap()["config"]["model"],
        "llama3"
    );
    let stored = authority
        .config
        .get("llm-main")
        .expect("the authority has it");
    assert_eq!(stored.document["config"]["model"], "llama3");
    let history = authority.config.history("llm-main");
    assert_eq!(history[0].source, ChangeSource::Mqtt);
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(dir_a.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(on_disk["llm-main"]["config"]["model"], "llama3");
    views_agree(&authority, &follower).await;

    // Nothing published twice: one retained document, from the authority only.
    let seen = observer.drain_for(Duration::from_millis(1500)).await;
    let published: Vec<_> = seen
        .iter()
        .filter(|p| p.topic == "alicia/config/llm-main")
        .collect();
    assert_eq!(
        published.len(),
        1,
        "exactly one publication of the new document"
    );

    // Through the follower's own REST server too.
    let app = api::router(follower.clone(), &follower.settings.api);
    let mut edited = llm_document("llm-main", "mistral");
    edited["config"]["api_key"] = json!("sk-follower-secret");
    let answer = Call::new(Method::PUT, "/api/config/llm-main")
        .json(&edited)
        .send(&app)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let a = authority.clone();
    wait_until("the REST edit reached the authority", move || {
        a.config
            .get("llm-main")
            .is_some_and(|s| s.document["config"]["model"] == "mistral")
    })
    .await;
    assert_eq!(
        authority.config.get("llm-main").unwrap().document["config"]["api_key"],
        "sk-follower-secret"
    );

    // An invalid edit shows the authority's refusal, field by field.
    let mut invalid = llm_document("llm-main", "mistral");
    invalid["config"]["endpoints"][0]["port"] = json!(70000);
    let refused = follower
        .config
        .put(
            "llm-main",
            invalid.clone(),
            ChangeSource::Gui,
            Precondition::None,
        )
        .await;
    match refused {
        Err(ConfigError::RefusedByAuthority { details, .. }) => {
            assert!(
                details.iter().any(|d| d.path == "/config/endpoints/0/port"),
                "{details:?}"
            );
        }
        other => panic!("expected the authority's refusal, got {other:?}"),
    }
    let answer = Call::new(Method::PUT, "/api/config/llm-main")
        .json(&invalid)
        .send(&app)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.body["details"][0]["path"],
        "/config/endpoints/0/port"
    );

    // Deleting is the authority's job.
    let answer = Call::new(Method::DELETE, "/api/config/llm-main")
        .send(&app)
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text);
    assert!(authority.config.get("llm-main").is_some());

    // The authority goes away: the follower says so and refuses edits.
    authority_runtime.shutdown(&authority).await;
    let f = follower.clone();
    wait_until("the follower notices the authority left", move || {
        !f.fleet.state().has_live_authority()
    })
    .await;
    assert!(follower.fleet.describe().contains("edits refused"));
    match follower
        .config
        .put(
            "llm-main",
            llm_document("llm-main", "phi3"),
            ChangeSource::Gui,
            Precondition::None,
        )
        .await
    {
        Err(ConfigError::NoAuthority(reason)) => {
            assert!(reason.contains("--role authority"), "{reason}")
        }
        other => panic!("expected a refusal without an authority, got {other:?}"),
    }
    let answer = Call::new(Method::PUT, "/api/config/llm-main")
        .json(&llm_document("llm-main", "phi3"))
        .send(&app)
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        follower.fleet.role(),
        Role::Follower,
        "never promotes itself"
    );
    follower_runtime.shutdown(&follower).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_authority_takes_over_and_the_old_authority_follows() {
    let broker = broker();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, first_runtime) = manager(dir_a.path(), broker.port, RoleSetting::Auto).await;
    first
        .config
        .put(
            "llm-main",
            llm_document("llm-main", "llama3"),
            ChangeSource::Rest,
            Precondition::None,
        )
        .await
        .unwrap();

    // The second one follows, mirrors everything into its own folder…
    let (second, second_runtime) = manager(dir_b.path(), broker.port, RoleSetting::Auto).await;
    assert_eq!(second.fleet.role(), Role::Follower);
    views_agree(&first, &second).await;
    let second_id = second.fleet.instance_id().to_owned();
    second_runtime.shutdown(&second).await;

    // …and restarted with `--role authority` takes over: the first steps down and follows.
    let (second, second_runtime) = manager(dir_b.path(), broker.port, RoleSetting::Authority).await;
    assert_eq!(second.fleet.instance_id(), second_id, "the id lasts");
    assert_eq!(second.fleet.role(), Role::Authority);
    let f = first.clone();
    wait_until("the old authority steps down", move || {
        f.fleet.role() == Role::Follower
    })
    .await;
    assert_eq!(
        first.fleet.state().authority.unwrap().instance_id,
        second_id
    );
    assert_eq!(
        second.config.get("llm-main").unwrap().document["config"]["model"],
        "llama3",
        "the new authority holds the mirrored configs"
    );

    // Edits now go the other way.
    first
        .config
        .put(
            "llm-main",
            llm_document("llm-main", "qwen"),
            ChangeSource::Gui,
            Precondition::None,
        )
        .await
        .expect("the new authority accepts the old one's edit");
    assert_eq!(
        second.config.get("llm-main").unwrap().document["config"]["model"],
        "qwen"
    );
    assert_eq!(
        second.config.history("llm-main")[0].source,
        ChangeSource::Mqtt
    );
    views_agree(&second, &first).await;

    // A newcomer reads the live authority from the retained presence.
    let mut observer = TestClient::connect(broker.port).await;
    observer
        .subscribe("alicia/system/health/config-manager")
        .await;
    let presence = observer
        .expect_json("alicia/system/health/config-manager", |v| {
            v["status"] == "healthy"
        })
        .await;
    assert_eq!(presence["instance_id"], second_id.as_str());
    assert_eq!(presence["role"], "authority");

    first_runtime.shutdown(&first).await;
    second_runtime.shutdown(&second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_forgets_services_the_authority_deleted_while_it_was_away() {
    let broker = broker();
    let (dir_a, dir_f) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (authority, authority_runtime) =
        manager(dir_a.path(), broker.port, RoleSetting::Auto).await;
    for name in ["llm-main", "llm-spare"] {
        authority
            .config
            .put(
                name,
                llm_document(name, "llama3"),
                ChangeSource::Rest,
                Precondition::None,
            )
            .await
            .unwrap();
    }
    let (follower, follower_runtime) =
        manager(dir_f.path(), broker.port, RoleSetting::Follower).await;
    views_agree(&authority, &follower).await;
    follower_runtime.shutdown(&follower).await;

    authority
        .config
        .delete("llm-spare", ChangeSource::Rest, Precondition::None)
        .await
        .unwrap();
    let (follower, follower_runtime) =
        manager(dir_f.path(), broker.port, RoleSetting::Follower).await;
    views_agree(&authority, &follower).await;
    assert!(follower.config.get("llm-spare").is_none());
    follower_runtime.shutdown(&follower).await;
    authority_runtime.shutdown(&authority).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_managers_cannot_share_one_config_folder() {
    let broker = broker();
    let dir = tempfile::tempdir().unwrap();
    let (core, runtime) = manager(dir.path(), broker.port, RoleSetting::Auto).await;
    let second = Core::start(support::settings_for(dir.path(), broker.port)).await;
    match second {
        Err(error) => assert!(error.to_string().contains("already uses"), "{error}"),
        Ok(_) => panic!("a second manager must not open a folder in use"),
    }
    runtime.shutdown(&core).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_headless_managers_share_a_fleet_over_rest() {
    let broker = broker();
    let http = reqwest::Client::new();
    let authority = Headless::start(Some(broker.port), &[], &http).await;
    let follower = Headless::start(Some(broker.port), &["--role", "follower"], &http).await;
    let system = follower.get(&http, "/api/system").await;
    assert_eq!(system["role"], "follower");
    let authority_id = authority.get(&http, "/api/system").await["instance_id"].clone();
    assert_ne!(system["instance_id"], authority_id);

    // Wait until the follower has a live authority (it learns of it from the retained presence).
    let deadline = std::time::Instant::now() + support::PATIENCE;
    loop {
        let answer = http
            .put(format!("{}/api/config/llm-main", follower.base))
            .json(&llm_document("llm-main", "llama3"))
            .send()
            .await
            .unwrap();
        if answer.status().is_success() {
            break;
        }
        assert_eq!(answer.status(), 503, "{}", answer.text().await.unwrap());
        assert!(
            std::time::Instant::now() < deadline,
            "the follower never found its authority"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stored = authority.get(&http, "/api/config/llm-main").await;
    assert_eq!(stored["config"]["model"], "llama3");
    let history = authority.get(&http, "/api/config/llm-main/history").await;
    assert_eq!(history[0]["source"], "mqtt");
    let mirrored = follower.get(&http, "/api/config/llm-main").await;
    assert_eq!(
        mirrored, stored,
        "the follower shows the authority's document"
    );
}
