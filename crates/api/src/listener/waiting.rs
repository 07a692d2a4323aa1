//! The waiting room (CONTRACT §10): connections accepted at the cap wait here for a slot,
//! oldest first (tokio's semaphore is fair). Meanwhile their request heads are read, with the
//! usual 10 s deadline counted from accept; one whose head has arrived but that still has no
//! slot 12 s after accept is answered 503 `{"error": "Server busy"}` with `Retry-After: 5`
//! and `Connection: close`, then half-closed and read for 1 s, so the answer is not lost to a
//! reset.

use super::{BUSY_AFTER, HEADER_READ_TIMEOUT, Shared, connection, io::Held};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most of a request head read ahead while waiting; a longer head is read on by hyper.
const READ_AHEAD_LIMIT: usize = 64 * 1024;
/// How long the busy answer's connection is read (and its input thrown away) before closing.
const LINGER: Duration = Duration::from_secs(1);

/// The waiting room's count, released however the wait ends.
struct Waiting(Arc<super::Slots>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Waits for a slot for `stream` (counted in the waiting room by the caller), then serves it.
pub(crate) async fn wait_for_slot(
    mut stream: TcpStream,
    remote: SocketAddr,
    accepted: Instant,
    shared: Shared,
) {
    let waiting = Waiting(Arc::clone(&shared.slots));
    let mut closing = shared.closing.clone();
    let mut head = Vec::new();
    let mut head_read = false;
    let mut buffer = [0u8; 4096];
    let head_deadline = tokio::time::sleep_until((accepted + HEADER_READ_TIMEOUT).into());
    let busy_deadline = tokio::time::sleep_until((accepted + BUSY_AFTER).into());
    let slot = Arc::clone(&shared.slots.permits).acquire_owned();
    tokio::pin!(head_deadline, busy_deadline, slot);
    let permit = loop {
        tokio::select! {
            biased;
            permit = &mut slot => match permit {
                Ok(permit) => break permit,
                Err(_) => return,
            },
            read = stream.read(&mut buffer), if !head_read => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    head.extend_from_slice(&buffer[..n]);
                    head_read = head_is_complete(&head) || head.len() >= READ_AHEAD_LIMIT;
                }
            },
            () = &mut head_deadline, if !head_read => {
                tracing::debug!(%remote, "a waiting connection sent no request head in time; closed");
                return;
            }
            () = &mut busy_deadline, if head_read => {
                drop(waiting);
                answer_busy(stream, remote).await;
                return;
            }
            _ = closing.changed() => return,
        }
    };
    drop(waiting);
    // With its slot, a connection finishes its head within the same deadline.
    while !head_read {
        let read = tokio::select! {
            read = stream.read(&mut buffer) => read,
            () = &mut head_deadline => return,
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                head.extend_from_slice(&buffer[..n]);
                head_read = head_is_complete(&head) || head.len() >= READ_AHEAD_LIMIT;
            }
        }
    }
    connection::serve(Held::new(stream, permit, head), remote, shared).await;
}

/// True once `bytes` hold a whole request head (up to its blank line).
fn head_is_complete(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|window| window == b"\r\n\r\n")
        || bytes.windows(2).any(|window| window == b"\n\n")
}

/// 503 to a connection that waited too long, then a half-close and a short linger.
async fn answer_busy(mut stream: TcpStream, remote: SocketAddr) {
    tracing::debug!(%remote, "no connection slot within 12 s: answered 503");
    let body = r#"{"error":"Server busy"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 5\r\nconnection: close\r\n\
         x-content-type-options: nosniff\r\ncache-control: no-store\r\n\r\n{body}",
        body.len()
    );
    let sent = tokio::time::timeout(LINGER, async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
    if !matches!(sent, Ok(Ok(()))) {
        return;
    }
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(LINGER, async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::head_is_complete;

    #[test]
    fn a_head_is_complete_at_its_blank_line() {
        assert!(!head_is_complete(b"GET / HTTP/1.1\r\nHost: x\r\n"));
        assert!(head_is_complete(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(head_is_complete(b"GET / HTTP/1.1\nHost: x\n\n"));
    }
}
