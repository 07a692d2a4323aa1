//! `alicia-config-manager kiosk-pin set|clear`: the kiosk's unlock PIN, set on the home server
//! itself for the account the kiosk runs as (a locked kiosk hides Settings, and a workstation's
//! Settings write the workstation's own file). The PIN is read from the terminal twice
//! without echo, or from stdin when piped (`echo 2468 | alicia-config-manager kiosk-pin set`);
//! only its hash is written.

use crate::cli::KioskPinAction;
use crate::core::kiosk_pin::{self, check_new_pin, check_pin};
use crate::core::settings::SettingsStore;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;

/// The longest input read from a pipe.
const MOST_PIPED: u64 = 1024;

/// Sets or clears the PIN in the settings file at `settings_path`.
pub fn run(settings_path: &Path, action: KioskPinAction) -> anyhow::Result<()> {
    let store = SettingsStore::new(settings_path.to_path_buf());
    let mut out = std::io::stdout();
    match action {
        KioskPinAction::Set => {
            let pin = read_pin()?;
            kiosk_pin::set_pin(&store, &pin).map_err(anyhow::Error::msg)?;
            writeln!(
                out,
                "Kiosk PIN set in {} (only its Argon2 hash is stored). A running kiosk takes it \
                 at its next unlock.",
                settings_path.display()
            )?;
        }
        KioskPinAction::Clear => {
            if kiosk_pin::clear_pin(&store)? {
                writeln!(
                    out,
                    "Kiosk PIN removed from {}: the kiosk stays read-only until a PIN is set.",
                    settings_path.display()
                )?;
            } else {
                writeln!(out, "No kiosk PIN was set in {}.", settings_path.display())?;
            }
        }
    }
    Ok(())
}

/// The new PIN: typed twice on the terminal, or the first line of stdin (a second line, when
/// there is one, must repeat it).
fn read_pin() -> anyhow::Result<String> {
    let (pin, again) = if std::io::stdin().is_terminal() {
        let prompt = format!(
            "New kiosk PIN ({}–{} digits): ",
            kiosk_pin::SHORTEST,
            kiosk_pin::LONGEST
        );
        let pin = rpassword::prompt_password(prompt)?;
        check_pin(pin.trim()).map_err(anyhow::Error::msg)?;
        let again = rpassword::prompt_password("The same PIN again: ")?;
        (pin, Some(again))
    } else {
        let mut input = String::new();
        std::io::stdin()
            .take(MOST_PIPED)
            .read_to_string(&mut input)
            .map_err(|e| anyhow::anyhow!("cannot read the PIN from stdin: {e}"))?;
        let mut lines = input.lines();
        let pin = lines.next().unwrap_or_default().to_owned();
        let again = lines
            .next()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned);
        (pin, again)
    };
    let pin = pin.trim().to_owned();
    if pin.is_empty() {
        anyhow::bail!("no PIN given: nothing changed");
    }
    check_new_pin(&pin, again.as_deref().map(str::trim))
        .map_err(|e| anyhow::anyhow!("{e}: nothing changed"))?;
    Ok(pin)
}
