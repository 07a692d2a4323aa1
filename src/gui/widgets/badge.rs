//! Coloured status badges (health, online, config state), readable in both themes.

use egui::{Color32, RichText, Ui};

/// Colours for statuses.
pub fn status_colour(ui: &Ui, status: &str) -> Color32 {
    let dark = ui.visuals().dark_mode;
    match status {
        "healthy" | "online" | "applied" => {
            if dark {
                Color32::from_rgb(80, 200, 120)
            } else {
                Color32::from_rgb(20, 130, 60)
            }
        }
        "unhealthy" | "offline" | "refused" | "invalid" => {
            if dark {
                Color32::from_rgb(240, 90, 90)
            } else {
                Color32::from_rgb(190, 30, 30)
            }
        }
        "pending" | "stale" => {
            if dark {
                Color32::from_rgb(230, 180, 60)
            } else {
                Color32::from_rgb(160, 110, 0)
            }
        }
        _ => ui.visuals().weak_text_color(),
    }
}

/// A status word after a dot in its colour.
pub fn badge(ui: &mut Ui, status: &str) -> egui::Response {
    let colour = status_colour(ui, status);
    ui.horizontal(|ui| {
        dot(ui, colour);
        ui.label(RichText::new(status).color(colour))
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

/// "3 s ago", "5 min ago", "2 h ago", or the date, for an RFC 3339 time.
pub fn relative_time(rfc3339: Option<&str>) -> String {
    let Some(at) = rfc3339.and_then(crate::core::clock::parse_rfc3339) else {
        return "never".to_owned();
    };
    let seconds = (time::OffsetDateTime::now_utc() - at)
        .whole_seconds()
        .max(0);
    match seconds {
        0..=59 => format!("{seconds} s ago"),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => rfc3339.unwrap_or_default().chars().take(10).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative_time(None), "never");
        let now = crate::core::clock::now_rfc3339();
        assert!(relative_time(Some(&now)).ends_with("s ago"));
        assert_eq!(relative_time(Some("2020-02-03T00:00:00Z")), "2020-02-03");
    }
}
