//! The design document's naming rules, checked on a live catalog.

use super::live::LiveCatalog;
use super::schema::TOOLING_TABLES;

/// Columns that break the app's naming rules on purpose: `users.email_verified` is a boolean
/// without `is_`/`has_`, kept because the web app already uses it.
pub const NAMING_EXCEPTIONS: &[&str] = &["users.email_verified"];

/// Where the live catalog breaks the app's naming rules (plural snake_case tables, snake_case
/// columns, `_id` foreign key columns, `_at` timestamps, `is_`/`has_` booleans), except
/// [`NAMING_EXCEPTIONS`]. Tooling tables are not checked.
pub fn naming_violations(live: &LiveCatalog) -> Vec<String> {
    let snake = |s: &str| {
        !s.is_empty()
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !s.contains("__")
            && !s.ends_with('_')
    };
    let mut out = Vec::new();
    for table in &live.tables {
        if TOOLING_TABLES.contains(&table.as_str()) {
            continue;
        }
        if !snake(table) || !table.ends_with('s') {
            out.push(format!("table {table} is not plural snake_case"));
        }
    }
    for column in &live.columns {
        if TOOLING_TABLES.contains(&column.table_name.as_str()) {
            continue;
        }
        let qualified = format!("{}.{}", column.table_name, column.column_name);
        if NAMING_EXCEPTIONS.contains(&qualified.as_str()) {
            continue;
        }
        let name = column.column_name.as_str();
        if !snake(name) {
            out.push(format!("column {qualified} is not snake_case"));
        }
        if column.data_type == "boolean" && !(name.starts_with("is_") || name.starts_with("has_")) {
            out.push(format!(
                "boolean column {qualified} does not start with is_ or has_"
            ));
        }
        if column.data_type.starts_with("timestamp") && !name.ends_with("_at") {
            out.push(format!(
                "timestamp column {qualified} does not end with _at"
            ));
        }
    }
    for constraint in live.constraints.iter().filter(|c| c.kind == "f") {
        for column in constraint.columns.as_deref().unwrap_or_default().split(',') {
            if !column.ends_with("_id") {
                out.push(format!(
                    "foreign key column {}.{column} does not end with _id",
                    constraint.table_name
                ));
            }
        }
    }
    out
}
