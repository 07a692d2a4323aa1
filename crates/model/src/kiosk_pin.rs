//! The kiosk PIN's rules as every face states them: a PIN is 4 to 8 digits (typed on the
//! kiosk's keypad), typed twice when set; what the settings file holds for the kiosk; the
//! outcome of a try. Hashing it and keeping the count of wrong tries is the core's
//! (`core::kiosk_pin`).

use crate::settings::file::SettingsFile;
use std::time::Duration;

/// The fewest digits of a PIN.
pub const SHORTEST: usize = 4;
/// The most digits of a PIN.
pub const LONGEST: usize = 8;
/// The rule stored beside a hash (`kiosk_pin_rule`): a hash without it was set under the old
/// rule (any 4 characters) and must be set again.
pub const RULE: &str = "4-8 digits";
/// Wrong PINs allowed before each try waits.
pub const FREE_TRIES: u32 = 3;
/// The wait after the last free try; it doubles with each further wrong PIN.
pub const FIRST_WAIT: Duration = Duration::from_secs(30);
/// The longest wait.
pub const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// How to set a PIN, for messages.
pub const HOW_TO_SET: &str = "run alicia-config-manager kiosk-pin set as the kiosk's account, \
     or use Settings › Kiosk PIN in the app run as that account";

/// Why a PIN is not acceptable.
pub fn check_pin(pin: &str) -> Result<(), String> {
    if !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "a PIN is digits only ({SHORTEST} to {LONGEST}): the kiosk's keypad has no letters"
        ));
    }
    if !(SHORTEST..=LONGEST).contains(&pin.len()) {
        return Err(format!(
            "a PIN is {SHORTEST} to {LONGEST} digits; this one has {}",
            pin.len()
        ));
    }
    Ok(())
}

/// Why a new PIN cannot be set: it breaks [`check_pin`], or `again` (its second typing, when
/// there is one) differs.
pub fn check_new_pin(pin: &str, again: Option<&str>) -> Result<(), String> {
    check_pin(pin)?;
    if again.is_some_and(|again| again != pin) {
        return Err("the two PINs differ".to_owned());
    }
    Ok(())
}

/// What the settings file holds for the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStatus {
    /// No PIN: the kiosk stays read-only.
    NotSet,
    /// A PIN of the current rule.
    Set,
    /// A hash set before PINs were 4–8 digits: it must be set again.
    OldRule,
}

impl PinStatus {
    /// The status of `file`.
    pub fn of(file: &SettingsFile) -> Self {
        match (&file.kiosk_pin_hash, file.kiosk_pin_rule.as_deref()) {
            (None, _) => Self::NotSet,
            (Some(_), Some(RULE)) => Self::Set,
            (Some(_), _) => Self::OldRule,
        }
    }

    /// What to tell someone at the kiosk, when no PIN can unlock it.
    pub fn problem(self) -> Option<String> {
        match self {
            Self::Set => None,
            Self::NotSet => Some(format!(
                "No PIN is set on this kiosk. To set one, {HOW_TO_SET}."
            )),
            Self::OldRule => Some(format!(
                "This kiosk's PIN was set before PINs were {SHORTEST}–{LONGEST} digits and must be \
                 set again: {HOW_TO_SET}."
            )),
        }
    }
}

/// The outcome of one try at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The PIN was right.
    Unlocked,
    /// The PIN was wrong; the next try waits this long (zero while tries are free).
    Wrong {
        /// The wait before the next try.
        wait: Duration,
    },
    /// Not checked: wait this long first.
    Wait(Duration),
    /// No usable PIN is set (see [`PinStatus::problem`]).
    Unusable(PinStatus),
    /// The settings or attempts file could not be read or written.
    Failed(String),
}

/// What the kiosk needs to show before a try: the PIN's status and the wait left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockState {
    /// Whether a usable PIN is set.
    pub pin: PinStatus,
    /// The wait left before the next try.
    pub wait: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_pin_is_digits_of_the_right_length_typed_the_same_twice() {
        assert_eq!(check_new_pin("1357", Some("1357")), Ok(()));
        assert_eq!(check_new_pin("1357", None), Ok(()));
        assert_eq!(
            check_new_pin("1357", Some("1358")),
            Err("the two PINs differ".to_owned())
        );
        assert!(
            check_new_pin("12a4", Some("12a4"))
                .unwrap_err()
                .contains("digits only")
        );
        assert!(
            check_new_pin("123", Some("123"))
                .unwrap_err()
                .contains("this one has 3")
        );
        assert!(check_new_pin("123456789", None).is_err());
    }
}
