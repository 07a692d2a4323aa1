//! The kiosk lock: on the home server's own display the app is read-only until someone types
//! the PIN (set in Settings, stored hashed with Argon2), then editable for a few minutes.
//! Argon2 takes hundreds of milliseconds by design, so the PIN is checked on the runtime's
//! blocking pool, never between two frames.

use crate::gui::tasks::Task;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::time::{Duration, Instant};

/// How long a PIN unlocks editing.
pub const UNLOCK_FOR: Duration = Duration::from_secs(5 * 60);

/// Hashes a PIN for the settings file (a PHC string with its own random salt from the OS
/// generator). Slow on purpose: call it off the UI thread.
pub fn hash_pin(pin: &str) -> Result<String, String> {
    let salt = crate::core::random::secret_bytes::<16>().map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// True when `pin` matches `hash`. Slow on purpose: call it off the UI thread.
pub fn verify_pin(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The lock of a kiosk session.
#[derive(Default)]
pub struct KioskLock {
    /// The PIN's hash, when one is set.
    pub pin_hash: Option<String>,
    unlocked_until: Option<Instant>,
    /// What is being typed.
    pub entry: String,
    /// The last failed attempt's message.
    pub error: Option<String>,
    checking: Task<bool>,
}

impl KioskLock {
    /// A lock for this PIN hash.
    pub fn new(pin_hash: Option<String>) -> Self {
        Self {
            pin_hash,
            ..Self::default()
        }
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
    }

    /// True while a typed PIN is being checked.
    pub fn checking(&self) -> bool {
        self.checking.running()
    }

    /// Starts checking the typed PIN on `runtime` (the entry is cleared at once); the
    /// outcome arrives through [`KioskLock::poll`].
    pub fn try_unlock(&mut self, runtime: &tokio::runtime::Handle) {
        let entry = std::mem::take(&mut self.entry);
        let Some(hash) = self.pin_hash.clone() else {
            self.error = Some("no PIN is set: set one in Settings on a workstation".to_owned());
            return;
        };
        self.error = None;
        self.checking.start(runtime, async move {
            tokio::task::spawn_blocking(move || verify_pin(&entry, &hash))
                .await
                .unwrap_or(false)
        });
    }

    /// Takes the outcome of a check once it is done: unlocks for [`UNLOCK_FOR`] when the PIN
    /// was right. Returns true when it unlocked now.
    pub fn poll(&mut self) -> bool {
        match self.checking.take() {
            Some(true) => {
                self.unlocked_until = Some(Instant::now() + UNLOCK_FOR);
                self.error = None;
                true
            }
            Some(false) => {
                self.error = Some("wrong PIN".to_owned());
                false
            }
            None => false,
        }
    }

    /// Locks again at once.
    pub fn lock(&mut self) {
        self.unlocked_until = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn check(lock: &mut KioskLock, pin: &str) -> bool {
        lock.entry = pin.into();
        lock.try_unlock(&tokio::runtime::Handle::current());
        while lock.checking() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        lock.poll()
    }

    /// The salt came from fastrand's generator: whoever knew (or set) its state knew the salt.
    #[test]
    fn the_salt_does_not_follow_a_seeded_generator() {
        fastrand::seed(42);
        let first = hash_pin("2468").unwrap();
        fastrand::seed(42);
        let second = hash_pin("2468").unwrap();
        assert_ne!(first, second, "the same generator state gave the same salt");
    }

    #[tokio::test]
    async fn a_pin_unlocks_only_when_right() {
        let hash = hash_pin("2468").unwrap();
        assert!(!hash.contains("2468"));
        let mut lock = KioskLock::new(Some(hash));
        assert!(lock.locked());
        assert!(!check(&mut lock, "1357").await);
        assert!(lock.locked());
        assert_eq!(lock.error.as_deref(), Some("wrong PIN"));
        assert!(check(&mut lock, "2468").await);
        assert!(!lock.locked());
        assert!(lock.remaining().unwrap() > Duration::from_secs(60));
        lock.lock();
        assert!(lock.locked());
    }
}
