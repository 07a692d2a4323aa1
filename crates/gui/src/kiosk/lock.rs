//! The kiosk lock: on the home server's own display the app is read-only until someone taps
//! the PIN on the keypad; then editable for a few minutes, renewed by every touch, with a
//! warning before it locks again. The rules (what a PIN is, how wrong tries wait) are the
//! model's ([`alicia_model::kiosk_pin`]) and the platform keeps the hash; this holds the
//! session's state, and every check and file read is the platform's, never a frame's.

use crate::platform::Platform;
use crate::tasks::Task;
use alicia_model::kiosk_pin::{self, LockState, PinStatus, Verdict};
use std::time::Duration;
use web_time::Instant;

/// How long an unlock lasts without a touch.
pub const UNLOCK_FOR: Duration = Duration::from_secs(5 * 60);
/// How long before locking the kiosk warns.
pub const WARN_BEFORE: Duration = Duration::from_secs(30);
/// How often a locked kiosk reads the PIN's status again (a PIN set meanwhile by
/// `kiosk-pin` shows without a restart).
const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// The lock of a kiosk session.
pub struct KioskLock {
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
    /// A locked kiosk, with the PIN's status read at start.
    pub fn new(pin: PinStatus) -> Self {
        Self {
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
            .is_none_or(|until| crate::clock::instant() >= until)
    }

    /// Time left unlocked.
    pub fn remaining(&self) -> Option<Duration> {
        self.unlocked_until
            .and_then(|until| until.checked_duration_since(crate::clock::instant()))
            .filter(|left| !left.is_zero())
    }

    /// The time left, while it is short enough to warn about.
    pub fn warning(&self) -> Option<Duration> {
        self.remaining().filter(|left| *left <= WARN_BEFORE)
    }

    /// Someone touched the screen: an unlocked kiosk stays unlocked for the full time again.
    pub fn touched(&mut self) {
        if !self.locked() {
            self.unlocked_until = Some(crate::clock::instant() + self.unlock_for);
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
    pub fn open_keypad(&mut self, platform: &dyn Platform) {
        self.keypad = true;
        self.entry.clear();
        self.message = None;
        self.refresh(platform);
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
            .and_then(|until| until.checked_duration_since(crate::clock::instant()))
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

    /// OK: asks the platform to check the typed PIN (the entry is cleared at once); the
    /// outcome arrives through [`KioskLock::poll`].
    pub fn submit(&mut self, platform: &dyn Platform) {
        if !self.can_submit() {
            return;
        }
        let entry = std::mem::take(&mut self.entry);
        self.message = None;
        self.checking.start(platform.try_pin(entry));
    }

    /// Reads the PIN's status and any wait again.
    pub fn refresh(&mut self, platform: &dyn Platform) {
        if self.refreshing.running() {
            return;
        }
        self.refreshed_at = Some(crate::clock::instant());
        self.refreshing.start(platform.lock_state());
    }

    /// Takes in finished checks and reads; starts a new read when the last is old. Returns
    /// true when the kiosk unlocked now.
    pub fn poll(&mut self, platform: &dyn Platform) -> bool {
        if let Some(Ok(state)) = self.refreshing.take() {
            self.pin = state.pin;
            self.wait_until = state.wait.map(|wait| crate::clock::instant() + wait);
        }
        if self.locked()
            && self
                .refreshed_at
                .is_none_or(|at| at.elapsed() >= REFRESH_EVERY)
        {
            self.refresh(platform);
        }
        let Some(verdict) = self.checking.take() else {
            return false;
        };
        match verdict {
            Verdict::Unlocked => {
                self.unlocked_until = Some(crate::clock::instant() + self.unlock_for);
                self.wait_until = None;
                self.close_keypad();
                return true;
            }
            Verdict::Wrong { wait } => {
                self.message = Some("Wrong PIN.".to_owned());
                self.wait_until = (!wait.is_zero()).then(|| crate::clock::instant() + wait);
            }
            Verdict::Wait(wait) => {
                self.message = None;
                self.wait_until = Some(crate::clock::instant() + wait);
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
