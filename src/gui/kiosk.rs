//! The kiosk lock: on the home server's own display the app is read-only until someone types
//! the PIN (set in Settings, stored hashed with Argon2), then editable for a few minutes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::time::{Duration, Instant};

/// How long a PIN unlocks editing.
pub const UNLOCK_FOR: Duration = Duration::from_secs(5 * 60);

/// Hashes a PIN for the settings file (a PHC string with its own random salt).
pub fn hash_pin(pin: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    salt.iter_mut().for_each(|b| *b = fastrand::u8(..));
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// True when `pin` matches `hash`.
pub fn verify_pin(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The lock of a kiosk session.
#[derive(Debug, Default)]
pub struct KioskLock {
    /// The PIN's hash, when one is set.
    pub pin_hash: Option<String>,
    unlocked_until: Option<Instant>,
    /// What is being typed.
    pub entry: String,
    /// The last failed attempt's message.
    pub error: Option<String>,
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

    /// Tries the typed PIN.
    pub fn try_unlock(&mut self) -> bool {
        let entry = std::mem::take(&mut self.entry);
        match &self.pin_hash {
            Some(hash) if verify_pin(&entry, hash) => {
                self.unlocked_until = Some(Instant::now() + UNLOCK_FOR);
                self.error = None;
                true
            }
            Some(_) => {
                self.error = Some("wrong PIN".to_owned());
                false
            }
            None => {
                self.error = Some("no PIN is set: set one in Settings on a workstation".to_owned());
                false
            }
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

    #[test]
    fn a_pin_unlocks_only_when_right() {
        let hash = hash_pin("2468").unwrap();
        assert!(!hash.contains("2468"));
        let mut lock = KioskLock::new(Some(hash));
        assert!(lock.locked());
        lock.entry = "1357".into();
        assert!(!lock.try_unlock());
        assert!(lock.locked());
        lock.entry = "2468".into();
        assert!(lock.try_unlock());
        assert!(!lock.locked());
        assert!(lock.remaining().unwrap() > Duration::from_secs(60));
        lock.lock();
        assert!(lock.locked());
    }
}
