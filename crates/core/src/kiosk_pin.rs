//! The kiosk PIN's rules, one place for the kiosk, the Settings panel and the `kiosk-pin`
//! subcommand: a PIN is 4 to 8 digits (typed on the kiosk's keypad), stored only as an Argon2
//! hash in the settings file next to the rule it was checked against; after three wrong PINs
//! each further try waits longer, and the wait is kept in `kiosk-lock.json` beside the
//! settings file, so restarting the kiosk does not reset it. Argon2 takes hundreds of
//! milliseconds by design: everything here that hashes or touches a file is blocking, for the
//! runtime's blocking pool or a command-line tool, never a UI frame.

use crate::fsutil::write_atomic;
use crate::settings::{SettingsError, SettingsStore};
pub use alicia_model::kiosk_pin::{
    FIRST_WAIT, FREE_TRIES, HOW_TO_SET, LONGEST, LONGEST_WAIT, LockState, PinStatus, RULE,
    SHORTEST, Verdict, check_new_pin, check_pin,
};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The file keeping wrong tries across restarts, beside the settings file.
pub const ATTEMPTS_FILE_NAME: &str = "kiosk-lock.json";
/// Hashes a PIN (a PHC string with its own random salt from the OS generator). Slow on
/// purpose.
pub fn hash_pin(pin: &str) -> Result<String, String> {
    check_pin(pin)?;
    let salt = crate::random::secret_bytes::<16>().map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// True when `pin` matches `hash`. Slow on purpose.
pub fn verify_pin(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Stores the hash of `pin` (checked first) in the settings file and forgets earlier wrong
/// tries. Blocking and slow (Argon2).
pub fn set_pin(store: &SettingsStore, pin: &str) -> Result<(), String> {
    let hash = hash_pin(pin)?;
    store
        .update_blocking(move |file| {
            file.kiosk_pin_hash = Some(hash);
            file.kiosk_pin_rule = Some(RULE.to_owned());
        })
        .map_err(|e| e.to_string())?;
    Attempts::default()
        .save(&attempts_file(store.path()))
        .map_err(|e| format!("the PIN is set, but the count of wrong tries was not reset: {e}"))
}

/// Removes the PIN from the settings file (the kiosk stays read-only); returns false when
/// there was none. Blocking.
pub fn clear_pin(store: &SettingsStore) -> Result<bool, SettingsError> {
    let mut had = false;
    store.update_blocking(|file| {
        had = file.kiosk_pin_hash.is_some();
        file.kiosk_pin_hash = None;
        file.kiosk_pin_rule = None;
    })?;
    Ok(had)
}

/// The attempts file beside the settings file at `settings_path`.
pub fn attempts_file(settings_path: &Path) -> PathBuf {
    settings_path.with_file_name(ATTEMPTS_FILE_NAME)
}

/// The wait before the next try after `failures` wrong PINs in a row.
pub fn wait_after(failures: u32) -> Duration {
    if failures < FREE_TRIES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_TRIES).min(16);
    FIRST_WAIT.saturating_mul(1 << doublings).min(LONGEST_WAIT)
}

/// Wrong tries in a row and until when the next must wait, kept across restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempts {
    /// Wrong PINs since the last right one.
    pub failures: u32,
    /// Until when no try is checked (milliseconds since the Unix epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_until_ms: Option<u64>,
}

impl Attempts {
    /// Reads the file; a missing one is no wrong tries. A broken one counts as the longest
    /// wait from now (deleting or garbling it must not reset the count).
    pub fn load(path: &Path) -> Self {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                tracing::warn!(file = %path.display(), %error, "the kiosk's attempts file is broken: waiting the longest");
                let mut attempts = Self {
                    failures: FREE_TRIES + 16,
                    wait_until_ms: None,
                };
                attempts.wait_until_ms = Some(millis(SystemTime::now() + LONGEST_WAIT));
                attempts
            }),
            Err(_) => Self::default(),
        }
    }

    /// Writes the file (atomically, 0600).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        write_atomic(path, &serde_json::to_vec(self)?)
    }

    /// The wait left at `now`, if any (never more than [`LONGEST_WAIT`], so a clock set back
    /// does not lock the kiosk for days).
    pub fn wait_left(&self, now: SystemTime) -> Option<Duration> {
        let until = self.wait_until_ms?;
        let left = Duration::from_millis(until.saturating_sub(millis(now)));
        (!left.is_zero()).then(|| left.min(LONGEST_WAIT))
    }

    /// Counts a wrong PIN at `now`.
    pub fn failed(&mut self, now: SystemTime) {
        self.failures = self.failures.saturating_add(1);
        let wait = wait_after(self.failures);
        self.wait_until_ms = (!wait.is_zero()).then(|| millis(now + wait));
    }
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Reads the PIN's status and the wait left. Blocking.
pub fn lock_state(store: &SettingsStore) -> Result<LockState, String> {
    let file = store.load().map_err(|e| e.to_string())?;
    let attempts = Attempts::load(&attempts_file(store.path()));
    Ok(LockState {
        pin: PinStatus::of(&file),
        wait: attempts.wait_left(SystemTime::now()),
    })
}

/// One try of `pin` at `now`: reads the hash from the settings file as it is now (so a PIN
/// set meanwhile by `kiosk-pin` counts), refuses while a wait runs, checks the PIN and keeps
/// the count of wrong tries. Blocking and slow (Argon2).
pub fn attempt(store: &SettingsStore, pin: &str, now: SystemTime) -> Verdict {
    let file = match store.load() {
        Ok(file) => file,
        Err(error) => return Verdict::Failed(error.to_string()),
    };
    let status = PinStatus::of(&file);
    let (PinStatus::Set, Some(hash)) = (status, file.kiosk_pin_hash) else {
        return Verdict::Unusable(status);
    };
    let path = attempts_file(store.path());
    let mut attempts = Attempts::load(&path);
    if let Some(wait) = attempts.wait_left(now) {
        return Verdict::Wait(wait);
    }
    let verdict = if verify_pin(pin, &hash) {
        attempts = Attempts::default();
        Verdict::Unlocked
    } else {
        attempts.failed(now);
        Verdict::Wrong {
            wait: attempts.wait_left(now).unwrap_or_default(),
        }
    };
    match attempts.save(&path) {
        Ok(()) => verdict,
        // A wrong try that cannot be counted is not checked either.
        Err(error) if verdict != Verdict::Unlocked => Verdict::Failed(format!(
            "the wrong try could not be recorded in {}: {error}",
            path.display()
        )),
        Err(_) => verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> SettingsStore {
        SettingsStore::new(dir.join("settings.json"))
    }

    #[test]
    fn a_pin_is_four_to_eight_digits() {
        assert!(check_pin("2468").is_ok());
        assert!(check_pin("24681357").is_ok());
        assert!(check_pin("246").unwrap_err().contains("4 to 8"));
        assert!(check_pin("246813579").unwrap_err().contains("4 to 8"));
        assert!(check_pin("24a8").unwrap_err().contains("digits only"));
        assert!(
            check_pin("٢٤٦٨").is_err(),
            "ASCII digits only: the keypad's"
        );
        assert!(hash_pin("abcd").is_err());
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

    #[test]
    fn the_wait_starts_after_three_wrong_pins_and_grows() {
        assert_eq!(wait_after(2), Duration::ZERO);
        assert_eq!(wait_after(3), FIRST_WAIT);
        assert_eq!(wait_after(4), FIRST_WAIT * 2);
        assert_eq!(wait_after(5), FIRST_WAIT * 4);
        assert_eq!(wait_after(40), LONGEST_WAIT);
        assert_eq!(wait_after(u32::MAX), LONGEST_WAIT);
    }

    #[test]
    fn tries_are_counted_across_restarts_and_a_right_pin_resets_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        set_pin(&store, "2468").unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(!text.contains("2468") && text.contains(RULE));
        let start = SystemTime::now();
        for _ in 0..2 {
            assert_eq!(
                attempt(&store, "1111", start),
                Verdict::Wrong {
                    wait: Duration::ZERO
                }
            );
        }
        assert_eq!(
            attempt(&store, "1111", start),
            Verdict::Wrong { wait: FIRST_WAIT }
        );
        // Even the right PIN waits; the wait is read back from the file (a restart).
        assert_eq!(
            attempt(&store, "2468", start + Duration::from_secs(10)),
            Verdict::Wait(Duration::from_secs(20))
        );
        let later = start + FIRST_WAIT;
        assert_eq!(
            attempt(&store, "1111", later),
            Verdict::Wrong {
                wait: FIRST_WAIT * 2
            }
        );
        let much_later = later + FIRST_WAIT * 2;
        assert_eq!(attempt(&store, "2468", much_later), Verdict::Unlocked);
        let attempts = Attempts::load(&attempts_file(store.path()));
        assert_eq!(attempts, Attempts::default());
    }

    #[test]
    fn an_old_hash_and_no_hash_unlock_nothing_and_say_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        assert_eq!(
            attempt(&store, "2468", SystemTime::now()),
            Verdict::Unusable(PinStatus::NotSet)
        );
        let hash = hash_pin("2468").unwrap();
        store
            .update_blocking(|file| file.kiosk_pin_hash = Some(hash))
            .unwrap();
        assert_eq!(
            attempt(&store, "2468", SystemTime::now()),
            Verdict::Unusable(PinStatus::OldRule)
        );
        assert!(
            PinStatus::OldRule
                .problem()
                .unwrap()
                .contains("kiosk-pin set")
        );
        assert!(clear_pin(&store).unwrap());
        assert!(!clear_pin(&store).unwrap());
    }

    #[test]
    fn a_broken_attempts_file_waits_and_a_clock_set_back_waits_no_longer_than_the_longest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ATTEMPTS_FILE_NAME);
        std::fs::write(&path, "garbage").unwrap();
        let now = SystemTime::now();
        assert!(Attempts::load(&path).wait_left(now).is_some());
        let far = Attempts {
            failures: 3,
            wait_until_ms: Some(millis(now + Duration::from_secs(86_400))),
        };
        assert_eq!(far.wait_left(now), Some(LONGEST_WAIT));
    }
}
