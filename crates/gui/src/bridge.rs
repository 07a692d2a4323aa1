//! The bridge between the core (on the tokio runtime) and the UI thread. Core events are
//! forwarded into a bounded channel by a small task that also asks egui to repaint, so a burst
//! of events becomes one repaint; the UI drains the channel under a time budget each frame.
//! Work the UI starts (saves, commands, connection tests) runs on the runtime as a
//! [`poll_promise::Promise`] the panel polls — the UI thread never waits on I/O or on a lock
//! the runtime holds for long.

use alicia_core::Core;
use alicia_core::events::CoreEvent;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

/// Events that may wait for the UI before the forwarder starts counting them as missed.
const QUEUE_CAPACITY: usize = 65_536;
/// Repaint this soon after an event: a burst becomes one frame.
const REPAINT_AFTER: Duration = Duration::from_millis(10);

/// The UI's end of the bridge.
pub struct EventPump {
    events: mpsc::Receiver<CoreEvent>,
    missed: Arc<AtomicU64>,
    watching: Arc<Watching>,
}

/// Repaint this soon after an event the panel on screen does not show: the top bar's counts.
const NUDGE_AFTER: Duration = Duration::from_secs(1);

/// Which high-volume events the panel on screen shows, so that only those repaint at once
/// (the others repaint within [`NUDGE_AFTER`], for the top bar's counts).
#[derive(Debug, Default)]
struct Watching {
    messages: AtomicBool,
    devices: AtomicBool,
}

impl Watching {
    fn wants_repaint(&self, event: &CoreEvent) -> bool {
        match event {
            CoreEvent::Message(_) => self.messages.load(Ordering::Relaxed),
            CoreEvent::DeviceUpdated(_) | CoreEvent::DeviceRemoved { .. } => {
                self.devices.load(Ordering::Relaxed)
            }
            _ => true,
        }
    }
}

impl EventPump {
    /// Starts forwarding the core's events to the UI of `ctx`.
    pub fn start(core: &Core, ctx: egui::Context, runtime: &tokio::runtime::Handle) -> Self {
        let (tx, events) = mpsc::channel(QUEUE_CAPACITY);
        let missed = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&missed);
        let watching = Arc::new(Watching::default());
        let wants = Arc::clone(&watching);
        let mut source = core.events.subscribe();
        runtime.spawn(async move {
            let mut nudged: Option<Instant> = None;
            loop {
                match source.recv().await {
                    Ok(event) => match (wants.wants_repaint(&event), tx.try_send(event)) {
                        (true, Ok(())) => ctx.request_repaint_after(REPAINT_AFTER),
                        (false, Ok(())) => {
                            // At most one request a second, not one per message.
                            if nudged.is_none_or(|at| at.elapsed() >= NUDGE_AFTER) {
                                ctx.request_repaint_after(NUDGE_AFTER);
                                nudged = Some(Instant::now());
                            }
                        }
                        (_, Err(mpsc::error::TrySendError::Full(_))) => {
                            counter.fetch_add(1, Ordering::Relaxed);
                            ctx.request_repaint_after(REPAINT_AFTER);
                        }
                        (_, Err(mpsc::error::TrySendError::Closed(_))) => return,
                    },
                    Err(RecvError::Lagged(n)) => {
                        counter.fetch_add(n, Ordering::Relaxed);
                        ctx.request_repaint_after(REPAINT_AFTER);
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        Self {
            events,
            missed,
            watching,
        }
    }

    /// Says which live tables are on screen: their events repaint at once, others do not.
    pub fn watch(&self, messages: bool, devices: bool) {
        self.watching.messages.store(messages, Ordering::Relaxed);
        self.watching.devices.store(devices, Ordering::Relaxed);
    }

    /// Hands waiting events to `apply` until the queue is empty or `budget` is spent; returns
    /// how many events were missed since the last call (the views then resync from the core).
    pub fn drain(&mut self, budget: Duration, mut apply: impl FnMut(CoreEvent)) -> u64 {
        let deadline = Instant::now() + budget;
        let mut handled = 0u32;
        while let Ok(event) = self.events.try_recv() {
            apply(event);
            handled += 1;
            if handled.is_multiple_of(64) && Instant::now() > deadline {
                break;
            }
        }
        self.missed.swap(0, Ordering::Relaxed)
    }

    /// True when events are still waiting (the budget ran out).
    pub fn has_more(&self) -> bool {
        !self.events.is_empty()
    }
}
