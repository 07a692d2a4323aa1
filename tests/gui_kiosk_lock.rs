//! The kiosk's lock over this machine's platform: a PIN set in the real settings file unlocks
//! only when right, a touch renews the unlock, and the keypad takes digits up to the longest
//! PIN.

#![allow(clippy::unwrap_used, reason = "tests: a panic is the failure report")]

use alicia_config_manager::core::kiosk_pin;
use alicia_config_manager::core::settings::SettingsStore;
use alicia_config_manager::desktop::NativePlatform;
use alicia_config_manager::gui::kiosk::KioskLock;
use alicia_config_manager::gui::kiosk::lock::UNLOCK_FOR;
use alicia_config_manager::model::kiosk_pin::PinStatus;
use std::time::Duration;

/// The platform over a settings file in `dir`.
fn platform(dir: &std::path::Path) -> (SettingsStore, NativePlatform) {
    let store = SettingsStore::new(dir.join("settings.json"));
    let platform = NativePlatform::new(store.clone(), dir, tokio::runtime::Handle::current());
    (store, platform)
}

/// Polls the lock until nothing runs; true when it unlocked meanwhile.
async fn settle(lock: &mut KioskLock, platform: &NativePlatform) -> bool {
    let mut unlocked = false;
    loop {
        unlocked |= lock.poll(platform);
        if !lock.busy() {
            return unlocked;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn tap(lock: &mut KioskLock, platform: &NativePlatform, pin: &str) -> bool {
    for digit in pin.chars() {
        lock.press(digit);
    }
    lock.submit(platform);
    settle(lock, platform).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_unlocks_only_when_right_and_a_touch_renews_the_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let (store, platform) = platform(dir.path());
    kiosk_pin::set_pin(&store, "2468").unwrap();
    let mut lock = KioskLock::new(PinStatus::Set);
    lock.open_keypad(&platform);
    settle(&mut lock, &platform).await;
    assert!(lock.locked());
    assert!(!tap(&mut lock, &platform, "1357").await);
    assert!(lock.locked());
    assert_eq!(lock.message().as_deref(), Some("Wrong PIN."));
    lock.set_unlock_for(Duration::from_secs(20));
    assert!(tap(&mut lock, &platform, "2468").await);
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
    let mut lock = KioskLock::new(PinStatus::Set);
    for digit in "123456789x".chars() {
        lock.press(digit);
    }
    assert_eq!(lock.typed(), kiosk_pin::LONGEST);
    lock.delete();
    assert_eq!(lock.typed(), kiosk_pin::LONGEST - 1);
}
