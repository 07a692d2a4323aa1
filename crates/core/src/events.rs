//! One stream of everything that changes in the core. Every face (GUI, REST/socket.io, logs)
//! subscribes to the same bounded broadcast; a subscriber that falls behind is told how many
//! events it missed (`RecvError::Lagged`) and re-reads the state it needs from the core.

pub use alicia_model::events::CoreEvent;
use tokio::sync::broadcast;

/// How many events a subscriber may fall behind before it starts missing some: 3.3 s of a
/// 10,000 msg/s flood. Every slot is written when the bus is made (80 bytes each), so this is
/// resident from the start: the 65,536 slots it had cost 5 MiB of an idle manager's memory
/// (issue 21). The subscribers only move events into their own bounded queues; at 16,384 a
/// 20,000-message burst outran the socket.io broadcaster of a debug build on 2 busy cores.
pub const EVENT_CAPACITY: usize = 32_768;

/// The broadcast every face subscribes to.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<CoreEvent>,
}

impl EventBus {
    /// A bus holding up to `capacity` undelivered events per subscriber.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }

    /// Sends an event to every current subscriber (none is fine).
    pub fn emit(&self, event: CoreEvent) {
        // An error only says nobody listens now, which is fine.
        let _ = self.sender.send(event);
    }

    /// A new subscriber, seeing events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CoreEvent> {
        self.sender.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(EVENT_CAPACITY)
    }
}
