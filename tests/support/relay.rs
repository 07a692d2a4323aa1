//! A TCP relay in front of a broker that can be cut and restored: a broker outage for brokers
//! that cannot be stopped (the embedded one lives as long as the test process).

use super::free_port;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A relay from its own port to the broker's.
pub struct Relay {
    pub port: u16,
    target: u16,
    generation: Arc<AtomicU64>,
    stop: Option<watch::Sender<bool>>,
}

impl Relay {
    /// Listens on a free port and forwards every connection to `target`.
    pub async fn start(target: u16) -> Self {
        let mut relay = Self {
            port: free_port(),
            target,
            generation: Arc::new(AtomicU64::new(0)),
            stop: None,
        };
        relay.restore().await;
        relay
    }

    /// Stops listening and drops every open connection.
    pub fn cut(&mut self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&mut self) {
        let listener = loop {
            match TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], self.port))).await {
                Ok(listener) => break listener,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        };
        let (stop, mut stopped) = watch::channel(false);
        self.stop = Some(stop);
        let target = self.target;
        let generation = Arc::clone(&self.generation);
        let mine = generation.load(Ordering::SeqCst);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.changed() => return,
                    accepted = listener.accept() => {
                        let Ok((mut inbound, _)) = accepted else { continue };
                        let generation = Arc::clone(&generation);
                        let mut stopped = stopped.clone();
                        tokio::spawn(async move {
                            let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await else { return };
                            if generation.load(Ordering::SeqCst) != mine {
                                return;
                            }
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                                _ = stopped.changed() => {}
                            }
                        });
                    }
                }
            }
        });
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
    }
}
