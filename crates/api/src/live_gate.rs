//! The entrance to socket.io (CONTRACT §10): at most [`MAX_PENDING`] engine.io sessions that
//! have not joined a namespace exist at once, and the next handshake gets 503. A handshake (a
//! request to `/socket.io/` without a `sid`) takes a place, kept in its request's extensions,
//! which engineioxide keeps with the session: the place is given back when the session joins
//! the namespace ([`joined`]) or when the session ends (refused, timed out, closed).

use super::errors::ErrorBody;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Sessions that may exist without having joined a namespace.
pub const MAX_PENDING: usize = 64;

/// The places for sessions not yet in a namespace.
#[derive(Clone)]
pub struct LiveGate {
    places: Arc<Semaphore>,
}

impl LiveGate {
    /// A gate with [`MAX_PENDING`] places.
    pub fn new() -> Self {
        Self {
            places: Arc::new(Semaphore::new(MAX_PENDING)),
        }
    }
}

impl Default for LiveGate {
    fn default() -> Self {
        Self::new()
    }
}

/// A session's place at the gate, held until it joins or ends.
#[derive(Clone)]
pub struct PendingPlace(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

/// The session joined the namespace: its place goes back to the gate.
pub fn joined(parts: &axum::http::request::Parts) {
    if let Some(place) = parts.extensions.get::<PendingPlace>() {
        place.0.lock().take();
    }
}

/// True for a socket.io request that starts a session.
fn is_handshake(request: &Request) -> bool {
    let path = request.uri().path();
    (path == "/socket.io" || path.starts_with("/socket.io/"))
        && !request
            .uri()
            .query()
            .unwrap_or("")
            .split('&')
            .any(|pair| pair.starts_with("sid="))
}

/// Middleware: a place for each handshake, or 503 when there is none.
pub async fn admit_handshakes(
    State(gate): State<LiveGate>,
    mut request: Request,
    next: Next,
) -> Response {
    if !is_handshake(&request) {
        return next.run(request).await;
    }
    let Ok(place) = Arc::clone(&gate.places).try_acquire_owned() else {
        tracing::debug!("a socket.io handshake refused: too many sessions not yet connected");
        let body = ErrorBody::new(
            "Server busy".to_owned(),
            Some(format!(
                "{MAX_PENDING} live sessions are still connecting; try again shortly"
            )),
        );
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return response;
    };
    request
        .extensions_mut()
        .insert(PendingPlace(Arc::new(Mutex::new(Some(place)))));
    next.run(request).await
}
