//! The connection rules of CONTRACT §10, tried against the real binary over real TCP with a
//! small cap (`ALICIA_MAX_CONNECTIONS=2`): connections past the cap wait (256 of them) and the
//! next is closed at once; a waiting request that gets no slot within 12 s is answered 503
//! `Server busy` with `Retry-After: 5`; idle connections give way within 2 s while others
//! wait; a request body that stalls for 10 s is cut off with 408.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

mod support;

use std::time::{Duration, Instant};
use support::TestBroker;
use support::headless::Headless;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn manager(max_connections: usize) -> (Headless, TestBroker) {
    let broker = TestBroker::mosquitto().unwrap_or_else(TestBroker::embedded);
    let http = reqwest::Client::new();
    let manager = Headless::start_with(Some(broker.port), &[], &http, |command| {
        command.env("ALICIA_MAX_CONNECTIONS", max_connections.to_string());
    })
    .await;
    (manager, broker)
}

fn addr_of(manager: &Headless) -> String {
    manager.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (or `limit` passes): what it sent, and when
/// it closed (`None`: still open).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Instant>) {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return (String::from_utf8_lossy(&answer).into_owned(), None),
            Ok(Ok(0) | Err(_)) => {
                return (
                    String::from_utf8_lossy(&answer).into_owned(),
                    Some(Instant::now()),
                );
            }
            Ok(Ok(n)) => answer.extend_from_slice(&buffer[..n]),
        }
    }
}

/// A connection that keeps its slot busy: a `PUT` whose body trickles in a byte every 3 s
/// (never stalled for 10 s, never finished) until the returned task is aborted.
async fn busy_connection(addr: &str) -> tokio::task::JoinHandle<()> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"PUT /api/config/slow HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        )
        .await
        .unwrap();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(3)).await;
            if stream.write_all(b" ").await.is_err() {
                return;
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_slot_for_12_s_gets_503_server_busy() {
    let (manager, _broker) = manager(2).await;
    let addr = addr_of(&manager);
    let busy = [busy_connection(&addr).await, busy_connection(&addr).await];
    // Let both heads reach their handlers before the third arrives.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut waiting = TcpStream::connect(&addr).await.unwrap();
    let accepted = Instant::now();
    waiting
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut waiting, Duration::from_secs(20)).await;
    let waited = accepted.elapsed();
    eprintln!("answered after {waited:?}: {answer:?}");
    assert!(
        answer.starts_with("HTTP/1.1 503"),
        "a waiting request is answered 503: {answer:?}"
    );
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("retry-after: 5"), "{answer}");
    assert!(lower.contains("connection: close"), "{answer}");
    assert!(answer.ends_with(r#"{"error":"Server busy"}"#), "{answer}");
    assert!(
        waited >= Duration::from_millis(11_500) && waited < Duration::from_secs(15),
        "503 comes 12 s after accept, not {waited:?}"
    );
    assert!(
        closed.is_some(),
        "the server closes the connection after its 503"
    );
    for task in busy {
        task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_waiting_room_a_connection_is_closed_at_once() {
    let (manager, _broker) = manager(2).await;
    let addr = addr_of(&manager);
    let busy = [busy_connection(&addr).await, busy_connection(&addr).await];
    tokio::time::sleep(Duration::from_millis(500)).await;
    // 256 wait (sending nothing yet: each has 10 s for its head)…
    let mut waiting = Vec::new();
    for _ in 0..256 {
        waiting.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // …and the next is closed at once.
    let mut one_more = TcpStream::connect(&addr).await.unwrap();
    let connected = Instant::now();
    let (answer, closed) = read_until_closed(&mut one_more, Duration::from_secs(5)).await;
    let closed = closed.expect("the connection past the waiting room is closed");
    assert!(answer.is_empty(), "{answer:?}");
    assert!(
        closed - connected < Duration::from_secs(1),
        "closed at once, not after {:?}",
        closed - connected
    );
    // The waiting ones are still open (their heads may still come).
    let mut first = waiting.swap_remove(0);
    let (_, first_closed) = read_until_closed(&mut first, Duration::from_millis(500)).await;
    assert!(
        first_closed.is_none(),
        "a waiting connection is not closed yet"
    );
    for task in busy {
        task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_give_way_within_2_s_while_others_wait() {
    let (manager, _broker) = manager(2).await;
    let addr = addr_of(&manager);
    let mut idle = [
        TcpStream::connect(&addr).await.unwrap(),
        TcpStream::connect(&addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let answer = http
        .get(format!("{}/api/health", manager.base))
        .send()
        .await
        .unwrap();
    let took = asked.elapsed();
    assert_eq!(answer.status(), 200);
    eprintln!("/api/health answered after {took:?} with both slots idle");
    assert!(
        took < Duration::from_secs(5),
        "the idle connections gave way in {took:?}"
    );
    // One gave its slot to the request; the other may stay until its own head timeout (the
    // cap is no longer reached once the request is served).
    let mut closed = 0;
    for stream in &mut idle {
        if read_until_closed(stream, Duration::from_secs(1))
            .await
            .1
            .is_some()
        {
            closed += 1;
        }
    }
    assert!(closed >= 1, "an idle connection was closed at the cap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_that_stalls_for_10_s_gets_408() {
    let (manager, _broker) = manager(512).await;
    let addr = addr_of(&manager);
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(
            b"PUT /api/config/stalled HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"service_name\"",
        )
        .await
        .unwrap();
    let sent = Instant::now();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    let waited = sent.elapsed();
    eprintln!("answered after {waited:?}: {answer:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("Request timeout"), "{answer}");
    assert!(
        waited >= Duration::from_millis(9_500) && waited < Duration::from_secs(14),
        "cut off after 10 s, not {waited:?}"
    );
    assert!(closed.is_some(), "and the connection closes");
    let http = reqwest::Client::new();
    let stored = http
        .get(format!("{}/api/config/stalled", manager.base))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 404, "nothing was stored");
}
