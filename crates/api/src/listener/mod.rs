//! The REST server's own accept loop (CONTRACT §6, §10). `axum::serve` builds hyper's
//! connection builder without a timer, which silently turns hyper's header-read timeout off,
//! and accepts without bound; this loop accepts every TCP connection at once and decides its
//! fate itself:
//!
//! - while a slot is free (`ALICIA_MAX_CONNECTIONS`, socket.io included), the connection is
//!   served by hyper's HTTP/1 builder with a timer, a 10 s header-read timeout and upgrades
//!   for socket.io's WebSocket ([`connection`]); its slot is a semaphore permit held by its
//!   stream, kept by an upgraded connection until it closes;
//! - at the cap, up to [`MAX_WAITING`] more wait for a slot, oldest first, in the waiting
//!   room ([`waiting`]), which reads their request heads meanwhile and answers 503 to one
//!   that still has no slot 12 s after accept; one beyond those is closed at once;
//! - while the cap is reached, a served connection that has sent no request head for 2 s is
//!   closed, so idle keep-alive connections cannot starve the ones waiting.

mod activity;
mod bodies;
mod connection;
mod io;
mod waiting;

use axum::Router;
use std::future::Future;
use std::io as stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};

/// A connection that has not sent a complete request head within this is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections may take to finish once the server stops.
pub const GRACE: Duration = Duration::from_secs(5);
/// Connections that may wait for a slot at the cap (CONTRACT §10).
pub const MAX_WAITING: usize = 256;
/// A waiting connection with its head read but no slot this long after accept gets 503.
pub const BUSY_AFTER: Duration = Duration::from_secs(12);
/// While the cap is reached, a served connection idle this long without a request head is
/// closed.
pub const IDLE_AT_CAP: Duration = Duration::from_secs(2);
/// A request body that sends nothing for this long is cut off with 408.
pub const BODY_STALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The pause after an accept error that is the process's (out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(200);

/// The server's connection slots and the connections waiting for one.
pub(crate) struct Slots {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    /// Told when a connection arrives at the cap: idle served connections look again.
    pressure: Notify,
}

impl Slots {
    fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max)),
            waiting: AtomicUsize::new(0),
            pressure: Notify::new(),
        }
    }

    /// True while every slot is taken or a connection waits for one.
    fn at_cap(&self) -> bool {
        self.waiting.load(Ordering::Acquire) > 0 || self.permits.available_permits() == 0
    }
}

/// What every connection task shares.
#[derive(Clone)]
pub(crate) struct Shared {
    app: Router,
    slots: Arc<Slots>,
    closing: watch::Receiver<bool>,
}

/// Serves `app` on `listener` until `shutdown` resolves, with at most `max_connections`
/// connections served at once; then lets open connections finish for up to [`GRACE`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    max_connections: usize,
    shutdown: impl Future<Output = ()>,
) {
    // Turns every route into its service once (as `into_make_service` does): called as it
    // is, a router would build its layers again on each request, socket.io's engine included.
    let app = app.with_state(());
    let max_connections = max_connections.max(1);
    let slots = Arc::new(Slots::new(max_connections));
    let (closing, closing_seen) = watch::channel(false);
    let shared = Shared {
        app,
        slots: Arc::clone(&slots),
        closing: closing_seen,
    };
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_error_logged: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, remote)) => {
                let accepted_at = Instant::now();
                if let Ok(permit) = Arc::clone(&slots.permits).try_acquire_owned() {
                    let io = io::Held::new(stream, permit, Vec::new());
                    tokio::spawn(connection::serve(io, remote, shared.clone()));
                    continue;
                }
                slots.pressure.notify_waiters();
                if slots.waiting.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
                    slots.waiting.fetch_sub(1, Ordering::AcqRel);
                    tracing::debug!(%remote, "a connection closed at once: every slot and the waiting room are full");
                    drop(stream);
                    continue;
                }
                tokio::spawn(waiting::wait_for_slot(
                    stream,
                    remote,
                    accepted_at,
                    shared.clone(),
                ));
            }
            Err(error) => {
                if !is_connection_error(&error) {
                    // Out of file descriptors, most likely: let some close.
                    if last_error_logged.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
                        tracing::warn!(%error, "the REST server cannot accept connections now");
                        last_error_logged = Some(Instant::now());
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    }
    drop(listener);
    // An error only says no connection is open to hear it.
    let _ = closing.send(true);
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(GRACE, slots.permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("open connections did not finish in time; closing them");
    }
}

/// Errors that concern one connection only (the next accept may succeed at once).
fn is_connection_error(error: &stdio::Error) -> bool {
    matches!(
        error.kind(),
        stdio::ErrorKind::ConnectionRefused
            | stdio::ErrorKind::ConnectionAborted
            | stdio::ErrorKind::ConnectionReset
            | stdio::ErrorKind::Interrupted
    )
}
