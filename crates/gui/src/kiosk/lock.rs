//! The kiosk lock: on the home server's own display the app is read-only until someone taps
//! the PIN on the keypad; then editable for a few minutes, renewed by every touch, with a
//! warning before it locks again. The rules (what a PIN is, how wrong tries wait, where the
//! hash lives) are the core's ([`alicia_core::kiosk_pin`]); this holds the session's state,
//! and every check and file read runs on the runtime's blocking pool, never between two frames.

use crate::tasks::Task;
use alicia_core::kiosk_pin::{self, LockState, PinStatus, Verdict};
use alicia_core::settings::SettingsStore;
use std::time::{Duration, Instant, SystemTime};

/// How long an unlock lasts without a touch.
pub const UNLOCK_FOR: Duration = Duration::from_secs(5 * 60);
/// How long before locking the kiosk warns.
pub const WARN_BEFORE: Duration = Duration::from_secs(30);
/// How often a locked kiosk reads the PIN's status again (a PIN set meanwhile by
/// `kiosk-pin` shows without a restart).
const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// The lock of a kiosk session.
pub struct KioskLock {
    store: SettingsStore,
    pin: PinStatus,
    wait_until: Option<Instant>,
    unlock_for: Duration,
    unlocked_until: Option<Instant>,
    keypad: bool,
    entry: String,
    message: Option<String>,
    checking: Task<Verdict>,
    refreshing: Task<Result<LockState, String>>,
    refreshed_at: Option<Instant>,
}

impl KioskLock {
    /// A locked kiosk whose PIN lives in `store`'s file, with the status read at start.
    pub fn new(store: SettingsStore, pin: PinStatus) -> Self {
        Self {
            store,
            pin,
            wait_until: None,
            unlock_for: UNLOCK_FOR,
            unlocked_until: None,
            keypad: false,
            entry: String::new(),
            message: None,
            checking: Task::default(),
            refreshing: Task::default(),
            refreshed_at: None,
        }
    }

    /// Changes how long an unlock lasts without a touch (tests, tools).
    pub fn set_unlock_for(&mut self, unlock_for: Duration) {
        self.unlock_for = unlock_for;
    }

    /// True while editing is not allowed.
    pub fn locked(&self) -> bool {
        self.unlocked_until
            .is_none_or(|until| Instant::now() >= until)
    }

    /// Time left unlocked.
    pub fn remaining(&self) -> Option<Duration> {
        self.unlocked_until
            .and_then(|until| until.checked_duration_since(Instant::now()))
            .filter(|left| !left.is_zero())
    }

    /// The time left, while it is short enough to warn about.
    pub fn warning(&self) -> Option<Duration> {
        self.remaining().filter(|left| *left <= WARN_BEFORE)
    }

    /// Someone touched the screen: an unlocked kiosk stays unlocked for the full time again.
    pub fn touched(&mut self) {
        if !self.locked() {
            self.unlocked_until = Some(Instant::now() + self.unlock_for);
        }
    }

    /// Locks again at once.
    pub fn lock(&mut self) {
        self.unlocked_until = None;
        self.close_keypad();
    }

    /// What keeps any PIN from unlocking, to tell the household (none set, or set under the
    /// old rule).
    pub fn pin_problem(&self) -> Option<String> {
        self.pin.problem()
    }

    /// True while the full-screen keypad is shown.
    pub fn keypad_open(&self) -> bool {
        self.keypad
    }

    /// Shows the keypad (and reads the PIN's status and any wait again).
    pub fn open_keypad(&mut self, runtime: &tokio::runtime::Handle) {
        self.keypad = true;
        self.entry.clear();
        self.message = None;
        self.refresh(runtime);
    }

    /// Hides the keypad, forgetting what was typed.
    pub fn close_keypad(&mut self) {
        self.keypad = false;
        self.entry.clear();
        self.message = None;
    }

    /// How many digits are typed.
    pub fn typed(&self) -> usize {
        self.entry.len()
    }

    /// A key of the keypad: a digit is added (up to the longest PIN).
    pub fn press(&mut self, digit: char) {
        if digit.is_ascii_digit() && self.entry.len() < kiosk_pin::LONGEST && !self.checking() {
            self.entry.push(digit);
            self.message = None;
        }
    }

    /// The delete key.
    pub fn delete(&mut self) {
        self.entry.pop();
    }

    /// The wait left before a try is checked.
    pub fn wait_left(&self) -> Option<Duration> {
        self.wait_until
            .and_then(|until| until.checked_duration_since(Instant::now()))
            .filter(|left| !left.is_zero())
    }

    /// True while a typed PIN is being checked.
    pub fn checking(&self) -> bool {
        self.checking.running()
    }

    /// True when OK would check the typed PIN.
    pub fn can_submit(&self) -> bool {
        !self.checking()
            && self.wait_left().is_none()
            && self.pin == PinStatus::Set
            && self.entry.len() >= kiosk_pin::SHORTEST
    }

    /// The message under the dots: wrong PIN, the wait, why nothing unlocks.
    pub fn message(&self) -> Option<String> {
        if let Some(left) = self.wait_left() {
            let prefix = self.message.as_deref().unwrap_or("Too many wrong PINs.");
            return Some(format!(
                "{prefix} Try again in {}.",
                crate::widgets::badge::short_duration(left)
            ));
        }
        self.message.clone().or_else(|| self.pin_problem())
    }

    /// OK: checks the typed PIN on `runtime` (the entry is cleared at once); the outcome
    /// arrives through [`KioskLock::poll`].
    pub fn submit(&mut self, runtime: &tokio::runtime::Handle) {
        if !self.can_submit() {
            return;
        }
        let entry = std::mem::take(&mut self.entry);
        let store = self.store.clone();
        self.message = None;
        self.checking.start(runtime, async move {
            tokio::task::spawn_blocking(move || {
                kiosk_pin::attempt(&store, &entry, SystemTime::now())
            })
            .await
            .unwrap_or_else(|error| Verdict::Failed(error.to_string()))
        });
    }

    /// Reads the PIN's status and any wait again, on `runtime`.
    pub fn refresh(&mut self, runtime: &tokio::runtime::Handle) {
        if self.refreshing.running() {
            return;
        }
        let store = self.store.clone();
        self.refreshed_at = Some(Instant::now());
        self.refreshing.start(runtime, async move {
            tokio::task::spawn_blocking(move || kiosk_pin::lock_state(&store))
                .await
                .map_err(|error| error.to_string())?
        });
    }

    /// Takes in finished checks and reads; starts a new read when the last is old. Returns
    /// true when the kiosk unlocked now.
    pub fn poll(&mut self, runtime: &tokio::runtime::Handle) -> bool {
        if let Some(Ok(state)) = self.refreshing.take() {
            self.pin = state.pin;
            self.wait_until = state.wait.map(|wait| Instant::now() + wait);
        }
        if self.locked()
            && self
                .refreshed_at
                .is_none_or(|at| at.elapsed() >= REFRESH_EVERY)
        {
            self.refresh(runtime);
        }
        let Some(verdict) = self.checking.take() else {
            return false;
        };
        match verdict {
            Verdict::Unlocked => {
                self.unlocked_until = Some(Instant::now() + self.unlock_for);
                self.wait_until = None;
                self.close_keypad();
                return true;
            }
            Verdict::Wrong { wait } => {
                self.message = Some("Wrong PIN.".to_owned());
                self.wait_until = (!wait.is_zero()).then(|| Instant::now() + wait);
            }
            Verdict::Wait(wait) => {
                self.message = None;
                self.wait_until = Some(Instant::now() + wait);
            }
            Verdict::Unusable(status) => {
                self.pin = status;
                self.message = None;
            }
            Verdict::Failed(error) => {
                self.message = Some(format!("The PIN was not checked: {error}"))
            }
        }
        false
    }

    /// True while something runs that the UI should repaint for.
    pub fn busy(&self) -> bool {
        self.checking() || self.refreshing.running()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn settle(lock: &mut KioskLock) -> bool {
        let runtime = tokio::runtime::Handle::current();
        let mut unlocked = false;
        loop {
            unlocked |= lock.poll(&runtime);
            if !lock.busy() {
                return unlocked;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn tap(lock: &mut KioskLock, pin: &str) -> bool {
        for digit in pin.chars() {
            lock.press(digit);
        }
        lock.submit(&tokio::runtime::Handle::current());
        settle(lock).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pin_unlocks_only_when_right_and_a_touch_renews_the_unlock() {
        let dir = tempfile::tempdir().unwrap();
        let store = SettingsStore::new(dir.path().join("settings.json"));
        kiosk_pin::set_pin(&store, "2468").unwrap();
        let mut lock = KioskLock::new(store, PinStatus::Set);
        lock.open_keypad(&tokio::runtime::Handle::current());
        settle(&mut lock).await;
        assert!(lock.locked());
        assert!(!tap(&mut lock, "1357").await);
        assert!(lock.locked());
        assert_eq!(lock.message().as_deref(), Some("Wrong PIN."));
        lock.set_unlock_for(Duration::from_secs(20));
        assert!(tap(&mut lock, "2468").await);
        assert!(!lock.locked() && !lock.keypad_open());
        assert!(lock.warning().is_some(), "20 s left is within the warning");
        lock.set_unlock_for(UNLOCK_FOR);
        lock.touched();
        assert!(lock.warning().is_none(), "a touch renews the unlock");
        assert!(lock.remaining().unwrap() > Duration::from_secs(60));
        lock.lock();
        assert!(lock.locked());
        lock.touched();
        assert!(lock.locked(), "a touch does not unlock a locked kiosk");
    }

    #[test]
    fn the_keypad_takes_digits_up_to_the_longest_pin() {
        let dir = tempfile::tempdir().unwrap();
        let store = SettingsStore::new(dir.path().join("settings.json"));
        let mut lock = KioskLock::new(store, PinStatus::Set);
        for digit in "123456789x".chars() {
            lock.press(digit);
        }
        assert_eq!(lock.typed(), kiosk_pin::LONGEST);
        lock.delete();
        assert_eq!(lock.typed(), kiosk_pin::LONGEST - 1);
    }
}
