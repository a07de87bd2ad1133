//! How results reach people (aligned tables) and scripts (one JSON document).

use std::io::{self, Write};

use serde::Serialize;

/// Prints `value` as one pretty JSON document on stdout.
pub(crate) fn print_json(value: &impl Serialize) -> Result<(), crate::failure::Failure> {
    let text = serde_json::to_string_pretty(value)?;
    writeln!(io::stdout().lock(), "{text}")?;
    Ok(())
}

/// Whether a setting's name says it holds a secret (`bot_token`, `client_secret`, `password`,
/// `api_key`, ...). Channel settings are free-form, so names are all there is to go on.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "token",
        "secret",
        "password",
        "api_key",
        "apikey",
        "private_key",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// Replaces, at any depth, the value of every field whose name says it is a secret with `***`.
pub(crate) fn mask_secrets(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (name, field) in map.iter_mut() {
                if is_secret_name(name) && !field.is_null() {
                    *field = viben_model::Secret::MASK.into();
                } else {
                    mask_secrets(field);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}

/// Table rows for a record's extra fields (or a channel's settings): `name`, and the value as
/// compact JSON, with secret-looking fields masked.
pub(crate) fn extra_rows(
    extra: &viben_model::Extra,
) -> Result<Vec<Vec<String>>, crate::failure::Failure> {
    let mut value = serde_json::to_value(extra)?;
    mask_secrets(&mut value);
    let serde_json::Value::Object(fields) = value else {
        return Ok(Vec::new());
    };
    Ok(fields
        .into_iter()
        .map(|(name, value)| vec![name, value.to_string()])
        .collect())
}

/// A table for people: a header row and left-aligned columns two spaces apart.
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Writes the table to stdout.
    pub(crate) fn print(&self) -> Result<(), crate::failure::Failure> {
        let mut out = io::stdout().lock();
        out.write_all(self.render().as_bytes())?;
        Ok(())
    }

    fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut text = String::new();
        let header = self
            .header
            .iter()
            .map(|h| h.to_string())
            .collect::<Vec<_>>();
        for row in std::iter::once(&header).chain(&self.rows) {
            let line = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect::<Vec<_>>()
                .join("  ");
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
    fn secret_looking_fields_are_masked_at_any_depth() {
        let mut value = serde_json::json!([
            {"id": "tg", "settings": {"bot_token": "123:abc", "chat_id": 42, "nested": {"Client_Secret": "s"}}}
        ]);
        mask_secrets(&mut value);
        assert_eq!(value[0]["settings"]["bot_token"], "***");
        assert_eq!(value[0]["settings"]["nested"]["Client_Secret"], "***");
        assert_eq!(value[0]["settings"]["chat_id"], 42);
        assert_eq!(value[0]["id"], "tg");
    }

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
}
