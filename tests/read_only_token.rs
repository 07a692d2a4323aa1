//! Read-only access (CONTRACT §9), tried against the real binary: with `ALICIA_API_READ_TOKEN`
//! every `GET` and socket.io work, and every route that changes state — each one the OpenAPI
//! document lists — answers 403 and changes nothing; the admin token still does everything.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::headless::Headless;
use support::sio::SioClient;

const ADMIN: &str = "admin-token-for-the-seams-test";
const READER: &str = "read-token-for-the-seams-test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_token_reads_everything_and_changes_nothing() {
    let http = reqwest::Client::new();
    let manager = Headless::start_with(None, &[], &http, |command| {
        command
            .env("ALICIA_API_TOKEN", ADMIN)
            .env("ALICIA_API_READ_TOKEN", READER);
    })
    .await;
    let call = |method: Method, path: &str, token: Option<&str>| {
        let mut request = http
            .request(method, format!("{}{path}", manager.base))
            .json(&json!({}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let openapi: Value = call(Method::GET, "/api/openapi.json", Some(READER))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let before = manager.stored_configs();
    let mut changing = 0;
    for (path, item) in openapi["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{service}", "whisper-service")
            .replace("{id}", "lamp-1")
            .replace("{request_id}", "r-1");
        for (method, _) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let answer = call(method.clone(), &concrete, Some(READER)).await.unwrap();
            let status = answer.status();
            if method == Method::GET {
                assert!(
                    status == StatusCode::OK || status == StatusCode::NOT_FOUND,
                    "GET {concrete} with the read token: {status}"
                );
            } else {
                changing += 1;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {concrete} with the read token"
                );
                let body: Value = answer.json().await.unwrap();
                assert_eq!(body["error"], "Forbidden");
            }
        }
    }
    assert!(changing >= 6, "the changing routes were tried ({changing})");
    assert_eq!(manager.stored_configs(), before, "nothing changed");

    // Without a token: 401; the admin token changes things.
    let answer = call(Method::GET, "/api/config", None).await.unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let answer = call(Method::POST, "/api/system/discovery", Some(ADMIN))
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());

    // socket.io with the read token hears the live events.
    let mut reader = SioClient::spawn(&manager.base, &["--token", READER]);
    reader.expect("config:update", |_| true).await;
}
