//! SQL that undoes a difference, where one statement can do it without losing data.

use super::diff::Difference;
use super::schema::Schema;

impl Difference {
    /// SQL that restores the `expected` schema for this difference, where one statement can
    /// do it without losing data: a missing column, constraint, index or default, a wrong
    /// type or nullability. `None` for a missing table (re-create the database and run the
    /// migrations), the column order (only a re-created table changes it), and a table or
    /// column beyond the schema (dropping its data is the owner's decision). An extra
    /// constraint or index is dropped.
    ///
    /// A restored NOT NULL column or constraint fails on rows that break it; fill them first.
    pub fn repair_sql(&self, expected: &Schema) -> Option<String> {
        match self {
            Self::MissingColumn { table, column } => {
                let want = expected
                    .table(table)?
                    .columns
                    .iter()
                    .find(|c| &c.name == column)?;
                let mut sql = format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    ident(table),
                    ident(column),
                    want.data_type
                );
                if let Some(default) = &want.default {
                    sql.push_str(&format!(" DEFAULT {default}"));
                }
                if !want.nullable {
                    sql.push_str(" NOT NULL");
                }
                sql.push(';');
                Some(sql)
            }
            Self::WrongType {
                table,
                column,
                expected,
                ..
            } => Some(format!(
                "ALTER TABLE {} ALTER COLUMN {c} TYPE {expected} USING {c}::{expected};",
                ident(table),
                c = ident(column)
            )),
            Self::WrongNullability {
                table,
                column,
                expected_nullable,
            } => Some(format!(
                "ALTER TABLE {} ALTER COLUMN {} {} NOT NULL;",
                ident(table),
                ident(column),
                if *expected_nullable { "DROP" } else { "SET" }
            )),
            Self::WrongDefault {
                table,
                column,
                expected,
                ..
            } => Some(match expected {
                Some(default) => format!(
                    "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {default};",
                    ident(table),
                    ident(column)
                ),
                None => format!(
                    "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT;",
                    ident(table),
                    ident(column)
                ),
            }),
            // Constraint descriptions are valid SQL as written.
            Self::MissingConstraint {
                table,
                name,
                expected,
            } => Some(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {expected};",
                ident(table),
                ident(name)
            )),
            Self::WrongConstraint {
                table,
                name,
                expected,
                ..
            } => Some(format!(
                "ALTER TABLE {t} DROP CONSTRAINT {n}; ALTER TABLE {t} ADD CONSTRAINT {n} \
                 {expected};",
                t = ident(table),
                n = ident(name)
            )),
            // An index definition is `pg_get_indexdef`'s CREATE INDEX statement.
            Self::MissingIndex { expected, .. } => Some(format!("{expected};")),
            Self::WrongIndex { name, expected, .. } => {
                Some(format!("DROP INDEX {}; {expected};", ident(name)))
            }
            // Dropping a constraint or an index loses no data.
            Self::ExtraConstraint { table, name, .. } => Some(format!(
                "ALTER TABLE {} DROP CONSTRAINT {};",
                ident(table),
                ident(name)
            )),
            Self::ExtraIndex { name, .. } => Some(format!("DROP INDEX {};", ident(name))),
            Self::MissingTable { .. }
            | Self::ExtraTable { .. }
            | Self::ExtraColumn { .. }
            | Self::ColumnOrder { .. } => None,
        }
    }

    /// Whether the difference changes nothing for queries: the column order (every query,
    /// viben-db's and Drizzle's, names its columns). `viben db check` reports it without
    /// failing, and [`crate::adopt()`] accepts it, since only a rebuilt table would restore it.
    pub fn is_cosmetic(&self) -> bool {
        matches!(self, Self::ColumnOrder { .. })
    }
}

/// A name as SQL takes it: bare when it is a plain lowercase word, else double-quoted.
pub(crate) fn ident(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}
