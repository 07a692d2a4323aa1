//! Log lines that say what came, never what it pretends to be (CONTRACT §10): text from the
//! bus or a client — topics, names, payload excerpts, header values — may hold control
//! characters that would forge a whole log line (`\n`) or drive a terminal (`ESC`). Every
//! formatted event passes through [`Escaping`] before it reaches its writer: a character
//! below U+0020 (but the line's own final `\n`), U+007F or in U+0080–U+009F is written as an
//! escape — Rust's (`\n`, `\u{1b}`) in text lines, JSON's (`\n`, `\u001b`) in JSON lines,
//! where it can only stand inside a string. Escaping here, once, covers every line, the
//! libraries' too; untrusted text is still logged as a field, never as the message.

use std::borrow::Cow;
use std::io::{self, Write};
use tracing_subscriber::fmt::MakeWriter;

/// How the escapes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Human-readable lines; `keep_ansi`: the formatter's own colours (ESC) stay, as
    /// tracing-subscriber escapes ESC in the fields it writes.
    Text {
        /// True when the console is coloured.
        keep_ansi: bool,
    },
    /// JSON lines: control characters are escaped by the formatter already; DEL and C1 are
    /// not, and are escaped here.
    Json,
}

/// A [`MakeWriter`] whose writers escape control characters.
#[derive(Debug, Clone)]
pub struct Escaping<M> {
    inner: M,
    style: Style,
}

impl<M> Escaping<M> {
    /// Writers of `inner`, escaping in `style`.
    pub fn new(inner: M, style: Style) -> Self {
        Self { inner, style }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Escaping<M> {
    type Writer = EscapingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter {
            inner: self.inner.make_writer(),
            style: self.style,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        EscapingWriter {
            inner: self.inner.make_writer_for(meta),
            style: self.style,
        }
    }
}

/// One event's writer.
pub struct EscapingWriter<W> {
    inner: W,
    style: Style,
}

impl<W: Write> Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_all(&escape_line(buf, self.style))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `line` with every character CONTRACT §10 names escaped (the final `\n` kept).
pub fn escape_line(line: &[u8], style: Style) -> Cow<'_, [u8]> {
    let (body, ending) = match line.strip_suffix(b"\n") {
        Some(body) => (body, &b"\n"[..]),
        None => (line, &b""[..]),
    };
    let Ok(text) = std::str::from_utf8(body) else {
        // Formatters write UTF-8; anything else is passed on as it is.
        return Cow::Borrowed(line);
    };
    if !text.chars().any(|c| needs_escape(c, style)) {
        return Cow::Borrowed(line);
    }
    let mut escaped = String::with_capacity(line.len() + 16);
    for c in text.chars() {
        if !needs_escape(c, style) {
            escaped.push(c);
            continue;
        }
        match (style, c) {
            (_, '\n') => escaped.push_str("\\n"),
            (_, '\r') => escaped.push_str("\\r"),
            (_, '\t') => escaped.push_str("\\t"),
            (Style::Text { .. }, c) => escaped.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            (Style::Json, c) => escaped.push_str(&format!("\\u{:04x}", u32::from(c))),
        }
    }
    let mut bytes = escaped.into_bytes();
    bytes.extend_from_slice(ending);
    Cow::Owned(bytes)
}

/// Whether `c` is written as an escape in `style`.
fn needs_escape(c: char, style: Style) -> bool {
    let code = u32::from(c);
    match style {
        Style::Text { keep_ansi: true } if c == '\u{1b}' => false,
        _ => code < 0x20 || code == 0x7f || (0x80..=0x9f).contains(&code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &str) -> String {
        String::from_utf8(escape_line(line.as_bytes(), Style::Text { keep_ansi: false }).into())
            .unwrap()
    }

    fn json(line: &str) -> String {
        String::from_utf8(escape_line(line.as_bytes(), Style::Json).into()).unwrap()
    }

    #[test]
    fn a_forged_line_stays_one_line() {
        assert_eq!(
            text("INFO topic=a\nERROR forged line\n"),
            "INFO topic=a\\nERROR forged line\n"
        );
        assert_eq!(text("plain line\n"), "plain line\n");
        assert_eq!(text("ünïcode stays\n"), "ünïcode stays\n");
    }

    #[test]
    fn every_control_character_is_escaped() {
        assert_eq!(
            text("a\u{1b}[31mred\u{7f}\u{85}\u{9f}\r\t\0\n"),
            "a\\u{1b}[31mred\\u{7f}\\u{85}\\u{9f}\\r\\t\\u{0}\n"
        );
        assert_eq!(
            json("{\"topic\":\"a\u{7f}\u{85}\"}\n"),
            "{\"topic\":\"a\\u007f\\u0085\"}\n"
        );
        let coloured = escape_line(b"\x1b[32mINFO\x1b[0m x\n", Style::Text { keep_ansi: true });
        assert_eq!(&*coloured, b"\x1b[32mINFO\x1b[0m x\n");
    }
}
