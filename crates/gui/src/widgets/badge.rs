//! Coloured status badges (health, online, config state), readable in both themes.

use alicia_model::overview::ShownHealth;
use alicia_model::payloads::HealthStatus;
use alicia_model::status::ConfigState;
use egui::{Color32, RichText, Ui};
use std::time::Duration;

/// What a status means to the admin, and so its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// All is well: healthy, online, applied, connected.
    Good,
    /// Something is wrong: unhealthy, offline, refused, disconnected.
    Bad,
    /// Wait and see: pending, stale.
    Warning,
    /// Nothing known: unknown, no config.
    Neutral,
}

impl Tone {
    /// Its colour in the current theme (the style's palette: 4.5:1 on the background).
    pub fn colour(self, ui: &Ui) -> Color32 {
        let palette = super::style::palette(ui);
        match self {
            Self::Good => palette.good,
            Self::Bad => palette.bad,
            Self::Warning => palette.warning,
            Self::Neutral => palette.weak_text,
        }
    }

    /// Good when `ok`, else bad (online / offline, connected / not).
    pub fn good_if(ok: bool) -> Self {
        if ok { Self::Good } else { Self::Bad }
    }
}

impl From<HealthStatus> for Tone {
    fn from(status: HealthStatus) -> Self {
        match status {
            HealthStatus::Healthy => Self::Good,
            HealthStatus::Unhealthy => Self::Bad,
            HealthStatus::Unknown => Self::Neutral,
        }
    }
}

impl From<ShownHealth> for Tone {
    fn from(health: ShownHealth) -> Self {
        match health {
            ShownHealth::Reported(status) => status.into(),
            ShownHealth::Stale => Self::Warning,
        }
    }
}

impl From<ConfigState> for Tone {
    fn from(state: ConfigState) -> Self {
        match state {
            ConfigState::Applied => Self::Good,
            ConfigState::Refused => Self::Bad,
            ConfigState::Pending => Self::Warning,
            ConfigState::Unknown => Self::Neutral,
        }
    }
}

/// A status word after a dot, both in its tone's colour.
pub fn badge(ui: &mut Ui, word: &str, tone: Tone) -> egui::Response {
    let colour = tone.colour(ui);
    ui.horizontal(|ui| {
        dot(ui, colour);
        ui.label(RichText::new(word).color(colour))
    })
    .inner
}

/// A filled dot in `colour`, sized to the text.
pub fn dot(ui: &mut Ui, colour: Color32) {
    let size = ui.text_style_height(&egui::TextStyle::Body) * 0.6;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    ui.painter()
        .circle_filled(rect.center(), size / 2.0, colour);
}

/// "3 s ago", "5 min ago", "2 h ago", or the date, for an RFC 3339 time; asks `ctx` for a
/// repaint when that text will next change, so the window repaints only for times on screen.
pub fn relative_time(ctx: &egui::Context, rfc3339: Option<&str>) -> String {
    let (text, changes_in) = relative_time_at(rfc3339, crate::clock::now_utc());
    if let Some(after) = changes_in {
        ctx.request_repaint_after(after);
    }
    text
}

/// A duration as the kiosk counts down: "25 s", "2 min 30 s", "15 min" (seconds rounded up).
pub fn short_duration(left: Duration) -> String {
    let seconds = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    match (seconds / 60, seconds % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

/// The text of [`relative_time`] at `now`, and how long it stays the same.
fn relative_time_at(
    rfc3339: Option<&str>,
    now: time::OffsetDateTime,
) -> (String, Option<Duration>) {
    let Some(at) = rfc3339.and_then(alicia_model::clock::parse_rfc3339) else {
        return ("never".to_owned(), None);
    };
    let elapsed = (now - at).max(time::Duration::ZERO);
    let seconds = elapsed.whole_seconds();
    // The unit the text counts in, and what is left of the current one.
    let unit = match seconds {
        0..=59 => 1,
        60..=3599 => 60,
        3600..=86_399 => 3600,
        _ => return (rfc3339.unwrap_or_default().chars().take(10).collect(), None),
    };
    // Counting seconds, every time on screen shares one repaint a second (whatever their
    // phases); minutes and hours repaint when their own text turns over.
    let into_unit = elapsed - time::Duration::seconds(seconds / unit * unit);
    let left = match unit {
        1 => Duration::from_secs(1),
        _ => Duration::from_secs(unit as u64).saturating_sub(into_unit.unsigned_abs()),
    };
    let text = match unit {
        1 => format!("{seconds} s ago"),
        60 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3600),
    };
    (text, Some(left.max(Duration::from_millis(10))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> time::OffsetDateTime {
        alicia_model::clock::parse_rfc3339(rfc3339).expect("a valid time")
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = at("2026-11-26T12:00:00Z");
        assert_eq!(relative_time_at(None, now), ("never".to_owned(), None));
        assert_eq!(
            relative_time_at(Some("2026-11-26T11:59:57Z"), now),
            ("3 s ago".to_owned(), Some(Duration::from_secs(1)))
        );
        assert_eq!(
            relative_time_at(Some("2026-11-26T11:54:40Z"), now),
            ("5 min ago".to_owned(), Some(Duration::from_secs(40)))
        );
        assert_eq!(
            relative_time_at(Some("2026-11-26T10:00:00Z"), now),
            ("2 h ago".to_owned(), Some(Duration::from_secs(3600)))
        );
        assert_eq!(
            relative_time_at(Some("2020-02-03T00:00:00Z"), now),
            ("2020-02-03".to_owned(), None)
        );
    }

    #[test]
    fn countdowns_round_up_to_the_second() {
        assert_eq!(short_duration(Duration::from_millis(24_100)), "25 s");
        assert_eq!(short_duration(Duration::from_secs(150)), "2 min 30 s");
        assert_eq!(short_duration(Duration::from_secs(900)), "15 min");
    }

    #[test]
    fn a_time_in_the_future_reads_as_now() {
        let now = at("2026-11-26T12:00:00Z");
        assert_eq!(
            relative_time_at(Some("2026-11-26T12:00:05Z"), now).0,
            "0 s ago"
        );
    }
}
