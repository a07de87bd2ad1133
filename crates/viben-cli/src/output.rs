//! How results reach people (aligned tables, lines) and scripts (one JSON document).
//!
//! Every byte the command writes goes through here, for three reasons:
//! - **no write may panic**: `println!` panics when stdout is a closed pipe (`viben check |
//!   head -1`) or a full device; these functions return the error as a [`Failure`] instead
//!   (a closed pipe becomes a quiet exit, see [`Failure::output`]);
//! - **stored text is data, not terminal commands**: plain text passes through [`escape`], so a
//!   name holding `ESC[2J`, an OSC title sequence, a C1 control or a bidi override is shown
//!   escaped instead of acting on the terminal (`--json` is exact JSON and needs none of it);
//! - **secrets are masked by one rule**: [`viben_model::redact`].

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use unicode_width::UnicodeWidthChar;

use crate::failure::Failure;

/// Whether `--json` was given: set once by `main`, read by the printers that have no
/// [`crate::cli::Format`] at hand (warnings, errors, confirmations).
static JSON: AtomicBool = AtomicBool::new(false);

/// Records whether the command line asked for JSON output.
pub(crate) fn set_json(json: bool) {
    JSON.store(json, Ordering::Relaxed);
}

/// Whether the command line asked for JSON output (`--json`, anywhere on the line).
pub(crate) fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// The widest a cell of a listing may be, in terminal columns, before it is shortened with `…`.
pub(crate) const MAX_CELL_WIDTH: usize = 60;

/// Shows control characters of stored text as escapes: C0 controls (`\n`, `\t`, `\r` and
/// `\u{1b}` for ESC), DEL, C1 controls (U+0080–U+009F, where U+009B is a one-byte CSI), and the
/// invisible bidi controls that reorder what follows (U+202A–U+202E, U+2066–U+2069, U+200E,
/// U+200F, U+061C), and the line and paragraph separators U+2028/U+2029. Text without any
/// comes back borrowed.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    escape_keeping(text, &[])
}

/// Like [`escape`], but keeps line breaks and tabs, for multi-line text printed as a block
/// (a message's content, a system prompt).
pub(crate) fn escape_multiline(text: &str) -> Cow<'_, str> {
    escape_keeping(text, &['\n', '\t'])
}

fn escape_keeping<'a>(text: &'a str, keep: &[char]) -> Cow<'a, str> {
    if !text.chars().any(|c| is_unsafe(c) && !keep.contains(&c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) || keep.contains(&c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// Characters a terminal acts on or that reorder the text around them.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{061c}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// How many terminal columns `text` takes (wide CJK characters take two, combining marks none).
pub(crate) fn display_width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `text` shortened to at most `max` columns, ending in `…` when something was cut.
pub(crate) fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if display_width(text) <= max {
        return Cow::Borrowed(text);
    }
    let budget = max.saturating_sub(1);
    let mut width = 0;
    let mut out = String::new();
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if width + w > budget {
            break;
        }
        width += w;
        out.push(c);
    }
    out.push('…');
    Cow::Owned(out)
}

/// Writes `text` and a line break to stdout, escaped.
pub(crate) fn line(text: &str) -> Result<(), Failure> {
    write_stdout(&format!("{}\n", escape(text)))
}

/// Writes already-safe text (escaped, or JSON) to stdout.
pub(crate) fn write_stdout(text: &str) -> Result<(), Failure> {
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Failure::output)
}

/// Writes one line of escaped text to stdout: `say!("created agent {id}")?`.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::line(&format!($($arg)*))
    };
}
pub(crate) use say;

/// Prints `value` as one pretty JSON document on stdout.
pub(crate) fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_stdout(&text)
}

/// Says that a change was made: the sentence in plain text, `{"message": …}` with `--json`.
pub(crate) fn done(message: &str) -> Result<(), Failure> {
    if json() {
        print_json(&serde_json::json!({ "message": message }))
    } else {
        line(message)
    }
}

/// Writes one line to stderr, escaped. A failing stderr is ignored: there is nowhere left to
/// say so, and panicking would only add noise.
pub(crate) fn eprint_line(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{}", escape(text));
}

/// Writes one JSON value on one line to stderr (a `--json` error or warning).
pub(crate) fn eprint_json(value: &serde_json::Value) {
    let _ = writeln!(io::stderr().lock(), "{value}");
}

/// Table rows for a record's extra fields (or a channel's settings): `name`, and the value as
/// compact JSON, with secrets masked.
pub(crate) fn extra_rows(extra: &viben_model::Extra) -> Result<Vec<Vec<String>>, Failure> {
    let mut extra = extra.clone();
    viben_model::redact::redact_mapping(&mut extra);
    let value = serde_json::to_value(&extra)?;
    let serde_json::Value::Object(fields) = value else {
        return Ok(Vec::new());
    };
    Ok(fields
        .into_iter()
        .map(|(name, value)| {
            let shown = match value {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            vec![name, shown]
        })
        .collect())
}

/// A table for people: a header row and left-aligned columns two spaces apart.
///
/// Every cell is escaped. A listing ([`Table::new`]) shortens cells wider than
/// [`MAX_CELL_WIDTH`] with `…`; a record ([`Table::record`]) shows its last column whole, since
/// `show` is where a long value is read.
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    whole_last_column: bool,
}

impl Table {
    /// A listing: long cells are shortened.
    pub(crate) fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.to_vec(),
            rows: Vec::new(),
            whole_last_column: false,
        }
    }

    /// A record's fields (`FIELD  VALUE`): the last column is printed whole.
    pub(crate) fn record(header: &[&'static str]) -> Self {
        Self {
            whole_last_column: true,
            ..Self::new(header)
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Writes the table to stdout.
    pub(crate) fn print(&self) -> Result<(), Failure> {
        write_stdout(&self.render())
    }

    fn render(&self) -> String {
        let columns = self.header.len();
        let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
        let cells: Vec<Vec<String>> = std::iter::once(&header)
            .chain(&self.rows)
            .map(|row| {
                row.iter()
                    .enumerate()
                    .map(|(index, cell)| {
                        let cell = escape(cell);
                        let last = index + 1 == columns;
                        if last && self.whole_last_column {
                            cell.into_owned()
                        } else {
                            truncate(&cell, MAX_CELL_WIDTH).into_owned()
                        }
                    })
                    .collect()
            })
            .collect();
        let mut widths = vec![0; columns];
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(display_width(cell));
            }
        }
        let mut text = String::new();
        for row in &cells {
            let mut line = String::new();
            for (index, (cell, width)) in row.iter().zip(&widths).enumerate() {
                if index > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                // Padding by hand: `format!("{cell:<width$}")` panics for widths past u16::MAX
                // and counts chars, not columns.
                let pad = width.saturating_sub(display_width(cell));
                line.extend(std::iter::repeat_n(' ', pad));
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

/// An optional value as a table cell: `-` when absent.
pub(crate) fn cell(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned_to_the_widest_cell() {
        let mut table = Table::new(&["ID", "NAME"]);
        table.row(vec!["a".into(), "Alpha".into()]);
        table.row(vec!["long-id".into(), "B".into()]);
        assert_eq!(
            table.render(),
            "ID       NAME\na        Alpha\nlong-id  B\n"
        );
    }

    #[test]
    fn columns_are_aligned_by_display_width_not_bytes_or_chars() {
        let mut table = Table::new(&["ID", "NAME"]);
        table.row(vec!["日本".into(), "x".into()]);
        table.row(vec!["é".into(), "y".into()]);
        assert_eq!(table.render(), "ID    NAME\n日本  x\né     y\n");
    }

    #[test]
    fn long_cells_are_shortened_to_the_column_limit_by_display_width() {
        for filler in ["a", "é", "日", "😀"] {
            let text = filler.repeat(70_000);
            let short = truncate(&text, MAX_CELL_WIDTH);
            assert!(display_width(&short) <= MAX_CELL_WIDTH, "{filler}");
            assert!(short.ends_with('…'));
        }
    }

    #[test]
    fn a_record_shows_its_last_column_whole() {
        let long = "x".repeat(70_000);
        let mut table = Table::record(&["FIELD", "VALUE"]);
        table.row(vec!["system_prompt".into(), long.clone()]);
        assert!(table.render().contains(&long));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("\u{1b}]0;t\u{7}"), "\\u{1b}]0;t\\u{7}");
        assert_eq!(escape("x\u{9b}y\u{202e}z"), "x\\u{9b}y\\u{202e}z");
        assert_eq!(escape("a\nb"), "a\\nb");
        assert_eq!(escape("a\u{2028}b"), "a\\u{2028}b");
        assert_eq!(escape_multiline("a\nb\u{1b}"), "a\nb\\u{1b}");
        assert!(matches!(escape("plain é 日本"), Cow::Borrowed(_)));
    }
}
