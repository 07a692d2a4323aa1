//! `GET /metrics` (CONTRACT §8) and the HTTP metrics behind it: every request is counted by
//! method, **route pattern** and status, and timed, by a layer around the whole app. The
//! pattern comes from the same table the router serves (the OpenAPI document's paths, plus
//! `/metrics` and `/socket.io/`): `/api/devices/lamp-7` is counted as `/api/devices/{id}`, and
//! a path no route serves as `unmatched` — so the labels stay bounded whatever clients ask.

use super::routes::ApiState;
use alicia_core::Core;
use alicia_core::metrics::CONTENT_TYPE;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use std::time::Instant;

/// The label of a request no route serves.
const UNMATCHED: &str = "unmatched";

/// Every metric of this core, in the Prometheus text format.
pub async fn metrics(State(state): State<ApiState>) -> Response {
    let core = state.core.clone();
    // Reading /proc and the overview takes a moment: off the async workers.
    let text = tokio::task::spawn_blocking(move || core.metrics.render(&core))
        .await
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
}

/// The route patterns the app serves, to label requests with.
fn routes() -> &'static matchit::Router<String> {
    static ROUTES: OnceLock<matchit::Router<String>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let mut routes = matchit::Router::new();
        let document = super::openapi_document();
        let paths = document["paths"]
            .as_object()
            .map(|paths| paths.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        for path in paths
            .into_iter()
            .chain(["/metrics".to_owned(), "/socket.io/".to_owned()])
        {
            if let Err(error) = routes.insert(path.clone(), path) {
                tracing::warn!(%error, "a route pattern is not labelled in the metrics");
            }
        }
        routes
    })
}

/// The pattern of the route serving `path`, or `unmatched`.
pub fn route_of(path: &str) -> &'static str {
    routes()
        .at(path)
        .map_or(UNMATCHED, |matched| matched.value.as_str())
}

/// Counts and times every request (the outermost layer: refusals by the guards count too).
pub async fn record(State(core): State<Core>, request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = route_of(request.uri().path());
    let started = Instant::now();
    let response = next.run(request).await;
    core.metrics.http_request(
        method,
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The method as a label: the standard ones by name, anything else as `other` (a client may
/// send any token as a method).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_labelled_by_their_route_pattern() {
        assert_eq!(route_of("/api/devices/lamp-7"), "/api/devices/{id}");
        assert_eq!(route_of("/api/config/changes"), "/api/config/changes");
        assert_eq!(
            route_of("/api/config/llm/history"),
            "/api/config/{service}/history"
        );
        assert_eq!(route_of("/metrics"), "/metrics");
        assert_eq!(route_of("/socket.io/"), "/socket.io/");
        assert_eq!(route_of("/wp-admin/login.php"), UNMATCHED);
        let odd = axum::http::Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), "other");
    }
}
