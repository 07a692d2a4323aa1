//! Serving one connection with hyper: a timer and the header-read timeout, upgrades for
//! socket.io's WebSocket, the peer's address for the handlers, 408 for a request body that
//! stalls (CONTRACT §10), and the idle rule: while the server is at its cap, a connection
//! that has had no request for [`IDLE_AT_CAP`] is closed.

use super::activity::{Activity, idle_at_cap};
use super::bodies::{Busy, Stalling, Tracked};
use super::io::Held;
use super::{BODY_STALL_TIMEOUT, HEADER_READ_TIMEOUT, Shared};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tower::ServiceExt;

/// Serves `io` until it closes, the server stops, or the idle rule closes it.
pub(crate) async fn serve(io: Held, remote: SocketAddr, shared: Shared) {
    let activity = Arc::new(Activity::new());
    let app = shared.app.clone();
    let tracked = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let app = app.clone();
        let busy = Busy::begin(&tracked);
        async move {
            let stalled = Arc::new(AtomicBool::new(false));
            let mut request = request.map(|body| {
                Body::new(Stalling::new(
                    body,
                    BODY_STALL_TIMEOUT,
                    Arc::clone(&stalled),
                ))
            });
            request.extensions_mut().insert(ConnectInfo(remote));
            let response = match app.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let response = if stalled.load(Ordering::Acquire) {
                tracing::debug!(%remote, "a request body stalled: answered 408");
                request_timeout()
            } else {
                response
            };
            Ok::<_, Infallible>(response.map(|body| Body::new(Tracked::new(body, busy))))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let mut closing = shared.closing.clone();
    let idle = idle_at_cap(&activity, &shared.slots);
    let mut idle = std::pin::pin!(idle);
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::trace!(%error, %remote, "connection ended");
                }
                return;
            }
            () = &mut idle => {
                tracing::trace!(%remote, "an idle connection closed: the server is at its cap");
                return;
            }
            changed = closing.changed() => {
                connection.as_mut().graceful_shutdown();
                if changed.is_err() {
                    // The loop is gone: finish this connection without listening further.
                    if let Err(error) = connection.as_mut().await {
                        tracing::trace!(%error, %remote, "connection ended");
                    }
                    return;
                }
            }
        }
    }
}

/// 408 for a request whose body stopped arriving; the connection closes after it.
fn request_timeout() -> Response<Body> {
    let body = serde_json::json!({
        "error": "Request timeout",
        "message": format!(
            "the request body sent nothing for {} s",
            BODY_STALL_TIMEOUT.as_secs()
        ),
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
