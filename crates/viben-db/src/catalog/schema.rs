//! The schema as a value: what a database holds, normalized so that two databases with the
//! same schema give equal values, and written as the JSON snapshots kept beside each
//! migration (`migrations/<version>/schema.json`).
//!
//! A snapshot is generated, never edited: it is what the embedded migrations up to that
//! version make, read back from a real server. `tests/schema_snapshots.rs` regenerates every
//! snapshot and fails when one differs (see `migrations/README.md`), so the expected schema
//! that [`crate::catalog::check_drift`] and [`crate::adopt()`] compare with cannot drift from
//! the migrations.

use serde::{Deserialize, Serialize};

use super::live::LiveCatalog;

/// Tables in `public` that belong to tooling, not to the schema.
pub const TOOLING_TABLES: &[&str] = &["__diesel_schema_migrations"];

/// A database's schema: its tables in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// The tables of the `public` schema (tooling tables left out), sorted by name.
    pub tables: Vec<Table>,
}

/// A table: its columns in order, its constraints and the indexes no constraint owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Table name (schema `public`).
    pub name: String,
    /// Columns, in the table's order.
    pub columns: Vec<Column>,
    /// Constraints (not NOT NULL ones), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    /// Indexes that back no constraint, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Type as `information_schema.columns.data_type` spells it.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Default expression as PostgreSQL prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A constraint, in words (`unique (email)`, `foreign key (user_id) references users(id) …`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    /// Constraint name.
    pub name: String,
    /// What it does, as [`crate::catalog::LiveConstraint::describe`] words it.
    pub definition: String,
}

/// An index that no constraint owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// Index name.
    pub name: String,
    /// Its definition, as `pg_get_indexdef` prints it.
    pub definition: String,
}

impl Schema {
    /// The schema of a live catalog, tooling tables left out.
    pub fn of(live: &LiveCatalog) -> Self {
        let tables = live
            .tables
            .iter()
            .filter(|name| !TOOLING_TABLES.contains(&name.as_str()))
            .map(|name| Table {
                name: name.clone(),
                columns: live
                    .columns
                    .iter()
                    .filter(|c| &c.table_name == name)
                    .map(|c| Column {
                        name: c.column_name.clone(),
                        data_type: c.data_type.clone(),
                        nullable: c.nullable,
                        default: c.column_default.clone(),
                    })
                    .collect(),
                constraints: live
                    .constraints
                    .iter()
                    .filter(|c| &c.table_name == name)
                    .map(|c| Constraint {
                        name: c.name.clone(),
                        definition: c.describe(),
                    })
                    .collect(),
                indexes: live
                    .indexes
                    .iter()
                    .filter(|i| &i.table_name == name)
                    .filter(|i| {
                        !live
                            .constraints
                            .iter()
                            .any(|c| c.table_name == i.table_name && c.name == i.name)
                    })
                    .map(|i| Index {
                        name: i.name.clone(),
                        definition: i.definition.clone(),
                    })
                    .collect(),
            })
            .collect();
        Self { tables }
    }

    /// The table `name`, if the schema has it.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The snapshot text: pretty JSON ending in a newline, stable for a given schema.
    pub fn to_snapshot(&self) -> String {
        // Serializing plain strings, booleans and vectors cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parses a snapshot written by [`Schema::to_snapshot`].
    pub fn from_snapshot(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}
