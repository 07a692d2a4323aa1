//! Who sits at this machine's desktop app: the OS user and host, for the history's `actor`
//! (CONTRACT §9). The model's [`Actor`] is pure; reading the OS is the core's.

use alicia_model::config::actor::{Actor, ActorKind, Origin};
use alicia_model::config::source::ChangeSource;

/// Someone at this machine's desktop app: the OS user and host as `name`.
pub fn desktop_user() -> Actor {
    Actor {
        name: Some(os_user_at_host()),
        ..Actor::of_kind(ActorKind::Gui)
    }
}

/// A change made at this machine's desktop app, by its OS user.
pub fn desktop_origin() -> Origin {
    Origin::new(ChangeSource::Gui, desktop_user())
}

/// `user@host` for this process, as far as the OS tells.
fn os_user_at_host() -> String {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .or_else(account_name)
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{user}@{}", host_name())
}

/// The name of this process's user account (`/etc/passwd`), for a session without `USER`
/// (a service, a container).
#[cfg(unix)]
fn account_name() -> Option<String> {
    let uid = rustix::process::getuid().as_raw().to_string();
    let accounts = std::fs::read_to_string("/etc/passwd").ok()?;
    accounts.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_owned())
    })
}

#[cfg(not(unix))]
fn account_name() -> Option<String> {
    None
}

#[cfg(unix)]
fn host_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

#[cfg(not(unix))]
fn host_name() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_desktop_user_is_named_with_the_host() {
        let actor = desktop_user();
        assert_eq!(actor.kind, ActorKind::Gui);
        assert!(actor.name.unwrap().contains('@'));
        assert_eq!(desktop_origin().source, ChangeSource::Gui);
    }
}
