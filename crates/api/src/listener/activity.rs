//! What a connection is doing — requests in flight, and since when it has had none — and
//! the idle rule at the cap: a served connection with no request for a while is closed when
//! others wait (CONTRACT §10).

use super::{IDLE_AT_CAP, Slots};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;
use tokio::time::Instant;

/// What a connection is doing: requests in flight, and since when it has had none.
pub(crate) struct Activity {
    in_flight: AtomicUsize,
    idle_since: Mutex<Instant>,
    changed: Notify,
}

impl Activity {
    pub(super) fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            changed: Notify::new(),
        }
    }

    /// A request head arrived.
    pub(crate) fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_one();
    }

    /// A request's answer was sent (or abandoned).
    pub(crate) fn end(&self) {
        *self.idle_since.lock() = Instant::now();
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.changed.notify_one();
    }
}

/// Resolves once the connection has had no request for [`IDLE_AT_CAP`] while the server is
/// at its cap.
pub(super) async fn idle_at_cap(activity: &Activity, slots: &Slots) {
    loop {
        let changed = activity.changed.notified();
        if activity.in_flight.load(Ordering::Acquire) > 0 {
            changed.await;
            continue;
        }
        let quiet_until = *activity.idle_since.lock() + IDLE_AT_CAP;
        if Instant::now() < quiet_until {
            tokio::select! {
                () = tokio::time::sleep_until(quiet_until) => {}
                () = changed => {}
            }
            continue;
        }
        if slots.at_cap() {
            return;
        }
        let pressure = slots.pressure.notified();
        tokio::select! {
            () = pressure => {}
            () = changed => {}
        }
    }
}
