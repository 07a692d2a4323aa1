//! The REST server's own accept loop (CONTRACT §6). `axum::serve` builds hyper's connection
//! builder without a timer, which silently turns hyper's header-read timeout off, and accepts
//! without bound; this loop serves each connection with hyper's HTTP/1 builder, a timer and
//! a 10 s header-read timeout (an idle keep-alive connection is closed the same way), with
//! upgrades for socket.io's WebSocket. Each connection holds a permit of a semaphore sized by
//! `ALICIA_MAX_CONNECTIONS`, kept by an upgraded connection until it closes; at the cap, the
//! loop stops accepting and new connections wait in the kernel's backlog until one closes.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

/// A connection that has not sent a complete request head within this is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections may take to finish once the server stops.
pub const GRACE: Duration = Duration::from_secs(5);
/// The pause after an accept error that is the process's (out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(200);

/// Serves `app` on `listener` until `shutdown` resolves, with at most `max_connections`
/// connections at once; then lets open connections finish for up to [`GRACE`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    max_connections: usize,
    shutdown: impl Future<Output = ()>,
) {
    // Turns every route into its service once (as `into_make_service` does): called as it
    // is, a router would build its layers again on each request, socket.io's engine included.
    let app = app.with_state(());
    let permits = Arc::new(Semaphore::new(max_connections));
    let (closing, closing_seen) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_error_logged: Option<Instant> = None;
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, remote)) => {
                tokio::spawn(serve_connection(
                    stream,
                    remote,
                    permit,
                    app.clone(),
                    closing_seen.clone(),
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
    if tokio::time::timeout(GRACE, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("open connections did not finish in time; closing them");
    }
}

/// Errors that concern one connection only (the next accept may succeed at once).
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    permit: OwnedSemaphorePermit,
    app: Router,
    mut closing: watch::Receiver<bool>,
) {
    // Small answers go out at once.
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(Held {
        stream,
        _permit: permit,
    });
    let service = app.map_request(move |request: axum::http::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(remote));
        request
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let connection = builder
        .serve_connection(io, TowerToHyperService::new(service))
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::trace!(%error, %remote, "connection ended");
                }
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

/// A connection's stream with its permit: the permit goes back when the stream is dropped,
/// after an upgrade (a WebSocket) too.
struct Held {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Held {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Held {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
