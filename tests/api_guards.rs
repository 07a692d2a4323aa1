//! What guards every route (CONTRACT §3, §6, §10), on the real app called in process:
//! unknown routes and methods, security headers, CORS for the front end only, the rate limit
//! and who is outside it, foreign origins, the token off loopback, a storage fault and a
//! panicking handler answered as JSON while the server keeps serving.

mod support;

use alicia_config_manager::api;
use alicia_config_manager::core::secret::Secret;
use alicia_config_manager::core::settings::Settings;
use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::json;
use support::api::{Call, app};

use support::documents::ollama;

async fn statuses_with_a_wrong_token(app: &Router, n: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(
            Call::get("/api/config")
                .header("authorization", "Bearer wrong")
                .send(app)
                .await
                .status,
        );
    }
    statuses
}

async fn boom() -> &'static str {
    panic!("kaboom in a handler")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_methods_and_security_headers() {
    let t = app(|_| {}).await;
    let unknown = Call::get("/api/nothing/here").send(&t.app).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body, json!({"error": "Route not found"}));
    let outside = Call::get("/index.html").send(&t.app).await;
    assert_eq!(outside.body, json!({"error": "Route not found"}));
    let wrong_method = Call::new(Method::PATCH, "/api/config").send(&t.app).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.body["error"], "Method not allowed");
    for answer in [
        &unknown,
        &wrong_method,
        &Call::get("/api/health").send(&t.app).await,
    ] {
        for (name, value) in api::security::SECURITY_HEADERS {
            assert_eq!(answer.header(name), Some(value), "{name}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_the_front_end_only() {
    let t = app(|s| s.api.frontend_url = "http://admin.lan:3002".into()).await;
    let preflight = |origin: &str| {
        Call::new(Method::OPTIONS, "/api/config/ollama")
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .header("access-control-request-headers", "content-type,if-match")
    };
    let allowed = preflight("http://admin.lan:3002").send(&t.app).await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("http://admin.lan:3002")
    );
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        Some("true")
    );
    assert!(
        allowed
            .header("access-control-allow-methods")
            .unwrap()
            .contains("PUT")
    );
    let refused = preflight("http://evil.example").send(&t.app).await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
    let simple = Call::get("/api/health")
        .header("origin", "http://admin.lan:3002")
        .send(&t.app)
        .await;
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("http://admin.lan:3002")
    );
    assert!(
        simple
            .header("access-control-expose-headers")
            .unwrap()
            .contains("etag")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_is_per_client_with_retry_after() {
    let t = app(|s| {
        s.api.rate_limit_max = 3;
        s.api.rate_limit_window_ms = 60_000;
    })
    .await;
    let lan_client = [10, 0, 0, 8];
    for _ in 0..3 {
        assert_eq!(
            Call::get("/api/config")
                .peer(lan_client)
                .send(&t.app)
                .await
                .status,
            StatusCode::OK
        );
    }
    let limited = Call::get("/api/config").peer(lan_client).send(&t.app).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body["error"], "Too many requests from this IP");
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let other_client = Call::get("/api/config")
        .peer([10, 0, 0, 9])
        .send(&t.app)
        .await;
    assert_eq!(
        other_client.status,
        StatusCode::OK,
        "another client has its own budget"
    );
    // CONTRACT §10: with no token configured, a loopback peer is the admin's own, and
    // /metrics is never limited.
    for _ in 0..10 {
        assert_eq!(
            Call::get("/api/config").send(&t.app).await.status,
            StatusCode::OK
        );
        assert_eq!(
            Call::get("/metrics")
                .peer(lan_client)
                .send(&t.app)
                .await
                .status,
            StatusCode::OK
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_with_a_valid_token_are_outside_the_rate_limit() {
    let t = app(|s| {
        s.api.rate_limit_max = 2;
        s.api.rate_limit_window_ms = 60_000;
        s.api.token = Some(Secret::new("admin-token"));
        s.api.read_token = Some(Secret::new("reader-token"));
    })
    .await;
    for token in ["admin-token", "reader-token"] {
        for _ in 0..10 {
            let answer = Call::get("/api/config")
                .header("authorization", &format!("Bearer {token}"))
                .send(&t.app)
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{token}");
        }
    }
    // Without a valid token (loopback or not, a token is configured) the limit holds.
    let statuses: Vec<StatusCode> = statuses_with_a_wrong_token(&t.app, 4).await;
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_changing_request_from_a_foreign_origin_is_refused() {
    let t = app(|s| s.api.frontend_url = "http://admin.lan:3002".to_owned()).await;
    let foreign = Call::new(Method::PUT, "/api/config/ollama")
        .header("origin", "http://evil.example")
        .json(&ollama("x"))
        .send(&t.app)
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(foreign.body["error"], "Forbidden");
    assert!(t.core.config.get("ollama").is_none(), "nothing was stored");
    for origin in ["http://admin.lan:3002", "http://localhost:3000"] {
        let allowed = Call::new(Method::PUT, "/api/config/ollama")
            .header("origin", origin)
            .json(&ollama("x"))
            .send(&t.app)
            .await;
        assert!(allowed.status.is_success(), "{origin}: {}", allowed.text);
    }
    let reading = Call::get("/api/config")
        .header("origin", "http://evil.example")
        .send(&t.app)
        .await;
    assert_eq!(reading.status, StatusCode::OK, "reading is CORS's business");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_every_route_but_health_needs_the_token() {
    let t = app(|s| {
        s.api.bind = "0.0.0.0".parse().unwrap();
        s.api.token = Some(Secret::new("correct-horse"));
    })
    .await;
    let open = Call::get("/api/health").send(&t.app).await;
    assert_eq!(open.status, StatusCode::OK);
    for (method, uri) in [
        (Method::GET, "/api/config"),
        (Method::GET, "/api/devices"),
        (Method::POST, "/api/system/discovery"),
        (Method::GET, "/api/openapi.json"),
        (Method::GET, "/api/nope"),
    ] {
        let none = Call::new(method.clone(), uri).send(&t.app).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(none.header("www-authenticate"), Some("Bearer"));
        assert_eq!(none.body["error"], "Unauthorized");
        let wrong = Call::new(method.clone(), uri)
            .header("authorization", "Bearer correct-horsE")
            .send(&t.app)
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let right = Call::get("/api/system")
        .header("authorization", "Bearer correct-horse")
        .send(&t.app)
        .await;
    assert_eq!(right.status, StatusCode::OK);
    assert_eq!(right.body["api"]["auth_required"], true);
    assert!(
        !right.text.contains("correct-horse"),
        "the token is never answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_fault_is_503_json_and_stores_nothing() {
    // CONTRACT §6: an I/O error other than a full disk answers 503 (a full disk, 507, is
    // tried on a real tmpfs in disk_full.rs); unexpected faults stay 500 (below).
    for development in [false, true] {
        let t = app(|s| s.development = development).await;
        let config_file = t.dir.path().join("config.json");
        std::fs::remove_file(&config_file).unwrap();
        std::fs::create_dir(&config_file).unwrap();
        let failed = Call::new(Method::PUT, "/api/config/ollama")
            .json(&ollama("x"))
            .send(&t.app)
            .await;
        assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(failed.body["error"], "Service unavailable");
        let message = failed.body["message"].as_str().unwrap();
        assert!(message.contains("could not be stored"), "{message}");
        assert!(t.core.config.get("ollama").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_a_500_and_the_server_keeps_serving() {
    let settings = Settings::defaults_in(std::path::Path::new("/nonexistent")).api;
    let routes = Router::new()
        .route("/api/boom", axum::routing::get(boom))
        .route("/api/fine", axum::routing::get(|| async { "fine" }));
    for development in [false, true] {
        let app = api::wrap(
            api::guard_routes(routes.clone(), &settings),
            &settings,
            development,
        );
        let boom = Call::get("/api/boom").send(&app).await;
        assert_eq!(boom.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(boom.body["error"], "Internal server error");
        assert_eq!(boom.text.contains("kaboom"), development);
        assert_eq!(Call::get("/api/fine").send(&app).await.text, "fine");
    }
}
