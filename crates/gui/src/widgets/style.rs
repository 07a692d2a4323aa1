//! The app's one style, for both themes: text that meets WCAG AA against every background it
//! sits on (4.5:1), input borders that meet 3:1, status colours, and the button kinds —
//! primary (the action a panel is for), secondary (egui's plain button) and destructive (set
//! apart, in the error colour). Every panel draws through these instead of picking colours.

use egui::{Color32, RichText, Stroke, Theme, Visuals};

/// The palette of one theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    /// Panels and windows.
    pub background: Color32,
    /// Body text.
    pub text: Color32,
    /// Secondary text: hints, descriptions, "unknown".
    pub weak_text: Color32,
    /// Text fields' background.
    pub field: Color32,
    /// The border of text fields, buttons and checkboxes.
    pub border: Color32,
    /// Buttons' background.
    pub button: Color32,
    /// The primary button's background (its text is [`Palette::on_accent`]).
    pub accent: Color32,
    /// Text on the accent.
    pub on_accent: Color32,
    /// All is well.
    pub good: Color32,
    /// Wait and see.
    pub warning: Color32,
    /// Something is wrong; destructive actions.
    pub bad: Color32,
}

/// The dark theme's palette.
pub const DARK: Palette = Palette {
    background: Color32::from_gray(27),
    text: Color32::from_gray(215),
    weak_text: Color32::from_gray(165),
    field: Color32::from_gray(12),
    border: Color32::from_gray(125),
    button: Color32::from_gray(52),
    accent: Color32::from_rgb(22, 104, 176),
    on_accent: Color32::WHITE,
    good: Color32::from_rgb(80, 200, 120),
    warning: Color32::from_rgb(232, 182, 62),
    bad: Color32::from_rgb(255, 118, 118),
};

/// The light theme's palette.
pub const LIGHT: Palette = Palette {
    background: Color32::from_gray(248),
    text: Color32::from_gray(30),
    weak_text: Color32::from_gray(92),
    field: Color32::WHITE,
    border: Color32::from_gray(125),
    button: Color32::from_gray(228),
    accent: Color32::from_rgb(16, 92, 160),
    on_accent: Color32::WHITE,
    good: Color32::from_rgb(18, 118, 50),
    warning: Color32::from_rgb(138, 88, 0),
    bad: Color32::from_rgb(178, 24, 24),
};

/// The palette of the theme `ui` is drawn in.
pub fn palette(ui: &egui::Ui) -> &'static Palette {
    palette_of(ui.visuals().dark_mode)
}

/// The palette of the dark (`true`) or light theme.
pub fn palette_of(dark: bool) -> &'static Palette {
    if dark { &DARK } else { &LIGHT }
}

/// Installs the style in both themes (the theme preference picks one).
pub fn install(ctx: &egui::Context) {
    ctx.set_visuals_of(Theme::Dark, visuals(Visuals::dark(), &DARK));
    ctx.set_visuals_of(Theme::Light, visuals(Visuals::light(), &LIGHT));
}

/// The kiosk's touch sizes, in every theme (a theme switched to later keeps them): targets
/// at least 44 px, text at least 14 pt, labels that a finger's drag does not select, and a
/// flag the widgets read ([`touch`]).
pub fn install_touch(ctx: &egui::Context) {
    use egui::{FontFamily, FontId, TextStyle};
    ctx.all_styles_mut(|style| {
        style.spacing.interact_size = egui::vec2(56.0, 44.0);
        style.spacing.button_padding = egui::vec2(14.0, 10.0);
        style.spacing.item_spacing = egui::vec2(12.0, 10.0);
        style.spacing.icon_width = 28.0;
        style.spacing.icon_width_inner = 16.0;
        style.spacing.combo_height = 400.0;
        style.spacing.scroll.bar_width = 14.0;
        style.interaction.selectable_labels = false;
        style.text_styles = [
            (
                TextStyle::Small,
                FontId::new(14.0, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(17.0, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(18.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(15.0, FontFamily::Monospace),
            ),
            (
                TextStyle::Heading,
                FontId::new(24.0, FontFamily::Proportional),
            ),
        ]
        .into();
    });
    ctx.data_mut(|data| data.insert_temp(egui::Id::NULL.with("alicia-touch"), true));
}

/// True in the kiosk (touch sizes installed): widgets use steppers instead of drag values and
/// show what a desktop shows on hover.
pub fn touch(ctx: &egui::Context) -> bool {
    ctx.data(|data| data.get_temp::<bool>(egui::Id::NULL.with("alicia-touch")))
        .unwrap_or(false)
}

/// `base` (egui's theme) with the palette's colours.
pub fn visuals(mut base: Visuals, palette: &Palette) -> Visuals {
    base.panel_fill = palette.background;
    base.window_fill = palette.background;
    base.extreme_bg_color = palette.field;
    base.text_edit_bg_color = Some(palette.field);
    base.weak_text_color = Some(palette.weak_text);
    base.warn_fg_color = palette.warning;
    base.error_fg_color = palette.bad;
    let widgets = &mut base.widgets;
    widgets.noninteractive.fg_stroke = Stroke::new(1.0, palette.text);
    widgets.noninteractive.bg_fill = palette.background;
    widgets.noninteractive.weak_bg_fill = palette.background;
    widgets.inactive.fg_stroke = Stroke::new(1.0, palette.text);
    widgets.inactive.bg_stroke = Stroke::new(1.0, palette.border);
    widgets.inactive.weak_bg_fill = palette.button;
    widgets.inactive.bg_fill = palette.button;
    base
}

/// The action a panel is for (Save, Start, Send, Publish): filled with the accent.
pub fn primary_button(ui: &egui::Ui, text: &str) -> egui::Button<'static> {
    let palette = palette(ui);
    egui::Button::new(RichText::new(text).strong().color(palette.on_accent)).fill(palette.accent)
}

/// An action that removes something (Delete, Remove, Forget): in the error colour, to be
/// placed apart from the primary action.
pub fn destructive_button(ui: &egui::Ui, text: &str) -> egui::Button<'static> {
    let palette = palette(ui);
    egui::Button::new(RichText::new(text).color(palette.bad)).stroke(Stroke::new(1.0, palette.bad))
}

/// A section's heading inside a panel: one size and weight everywhere, a little space above.
pub fn section_heading(ui: &mut egui::Ui, text: impl Into<String>) -> egui::Response {
    ui.add_space(4.0);
    ui.label(RichText::new(text).strong().size(16.0))
}

/// WCAG's contrast ratio of two opaque colours (1.0 to 21.0).
pub fn contrast_ratio(a: Color32, b: Color32) -> f32 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    let (light, dark) = if la > lb { (la, lb) } else { (lb, la) };
    (light + 0.05) / (dark + 0.05)
}

/// WCAG's relative luminance of an sRGB colour.
fn relative_luminance(colour: Color32) -> f32 {
    let channel = |value: u8| {
        let c = f32::from(value) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(colour.r()) + 0.7152 * channel(colour.g()) + 0.0722 * channel(colour.b())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_matches_wcag_examples() {
        assert!((contrast_ratio(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 0.01);
        assert!((contrast_ratio(Color32::WHITE, Color32::WHITE) - 1.0).abs() < 0.001);
        // #767676 on white is the classic 4.54:1.
        let grey = Color32::from_gray(0x76);
        assert!((contrast_ratio(grey, Color32::WHITE) - 4.54).abs() < 0.02);
    }

    #[test]
    fn both_themes_meet_aa_for_text_and_3_to_1_for_borders() {
        for (name, palette, base) in [
            ("dark", &DARK, Visuals::dark()),
            ("light", &LIGHT, Visuals::light()),
        ] {
            let visuals = visuals(base, palette);
            let backgrounds = [
                ("panel", visuals.panel_fill),
                ("window", visuals.window_fill),
                ("field", visuals.text_edit_bg_color()),
                ("button", visuals.widgets.inactive.weak_bg_fill),
            ];
            let texts = [
                ("text", visuals.text_color()),
                ("weak text", visuals.weak_text_color()),
                ("button text", visuals.widgets.inactive.fg_stroke.color),
                ("warning", visuals.warn_fg_color),
                ("error", visuals.error_fg_color),
                ("good", palette.good),
            ];
            for (text_name, text) in texts {
                for (background_name, background) in backgrounds {
                    let ratio = contrast_ratio(text, background);
                    assert!(
                        ratio >= 4.5,
                        "{name}: {text_name} on {background_name} is {ratio:.2}:1"
                    );
                }
            }
            let accent = contrast_ratio(palette.on_accent, palette.accent);
            assert!(accent >= 4.5, "{name}: primary button text {accent:.2}:1");
            let border = visuals.widgets.inactive.bg_stroke.color;
            for (background_name, background) in [
                ("panel", visuals.panel_fill),
                ("field", visuals.text_edit_bg_color()),
            ] {
                let ratio = contrast_ratio(border, background);
                assert!(
                    ratio >= 3.0,
                    "{name}: input border on {background_name} is {ratio:.2}:1"
                );
            }
        }
    }
}
