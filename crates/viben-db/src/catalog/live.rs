//! Reading the live catalog: the `public` schema as the server describes it.
//!
//! Tables, columns, types, nullability and defaults come from `information_schema`;
//! constraints (with their columns and foreign key actions) and indexes from `pg_catalog`.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};

use crate::QueryError;

/// A live column.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct LiveColumn {
    /// Table name.
    #[diesel(sql_type = Text)]
    pub table_name: String,
    /// Column name.
    #[diesel(sql_type = Text)]
    pub column_name: String,
    /// Position in the table (1-based; gaps where columns were dropped).
    #[diesel(sql_type = Integer)]
    pub position: i32,
    /// `information_schema` type name.
    #[diesel(sql_type = Text)]
    pub data_type: String,
    /// Whether NULL is allowed.
    #[diesel(sql_type = Bool)]
    pub nullable: bool,
    /// Default expression.
    #[diesel(sql_type = Nullable<Text>)]
    pub column_default: Option<String>,
}

/// A live constraint.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct LiveConstraint {
    /// Table name.
    #[diesel(sql_type = Text)]
    pub table_name: String,
    /// Constraint name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// `pg_constraint.contype`: `p`, `u`, `f`, `c`, `x`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// Constrained columns, comma-separated, in key order.
    #[diesel(sql_type = Nullable<Text>)]
    pub columns: Option<String>,
    /// Referenced table (foreign keys).
    #[diesel(sql_type = Nullable<Text>)]
    pub ref_table: Option<String>,
    /// Referenced columns (foreign keys).
    #[diesel(sql_type = Nullable<Text>)]
    pub ref_columns: Option<String>,
    /// `confdeltype`.
    #[diesel(sql_type = Text)]
    pub on_delete: String,
    /// `confupdtype`.
    #[diesel(sql_type = Text)]
    pub on_update: String,
    /// `pg_get_constraintdef`, for constraints this module cannot word.
    #[diesel(sql_type = Text)]
    pub definition: String,
}

impl LiveConstraint {
    /// The constraint in words, e.g. `unique (email)`.
    pub fn describe(&self) -> String {
        let columns = self
            .columns
            .as_deref()
            .unwrap_or_default()
            .replace(',', ", ");
        let action = |code: &str| match code {
            "a" => "no action",
            "r" => "restrict",
            "c" => "cascade",
            "n" => "set null",
            "d" => "set default",
            _ => "unknown",
        };
        match self.kind.as_str() {
            "p" => format!("primary key ({columns})"),
            "u" => format!("unique ({columns})"),
            "f" => format!(
                "foreign key ({columns}) references {}({}) on delete {} on update {}",
                self.ref_table.as_deref().unwrap_or_default(),
                self.ref_columns
                    .as_deref()
                    .unwrap_or_default()
                    .replace(',', ", "),
                action(&self.on_delete),
                action(&self.on_update)
            ),
            _ => self.definition.to_lowercase(),
        }
    }
}

/// A live index.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct LiveIndex {
    /// Table name.
    #[diesel(sql_type = Text)]
    pub table_name: String,
    /// Index name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// `pg_get_indexdef`.
    #[diesel(sql_type = Text)]
    pub definition: String,
}

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    table_name: String,
}

/// The `public` schema as the server describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCatalog {
    /// Base tables, sorted.
    pub tables: Vec<String>,
    /// Columns, by table then position.
    pub columns: Vec<LiveColumn>,
    /// Constraints (not NOT NULL ones), by table then name.
    pub constraints: Vec<LiveConstraint>,
    /// Indexes, by table then name.
    pub indexes: Vec<LiveIndex>,
}

/// Reads the `public` schema's tables, columns, constraints and indexes.
pub fn read(conn: &mut PgConnection) -> Result<LiveCatalog, QueryError> {
    let tables = diesel::sql_query(
        "SELECT table_name::text AS table_name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .load::<TableName>(conn)?
    .into_iter()
    .map(|t| t.table_name)
    .collect();
    let columns = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
         ordinal_position::int4 AS position, data_type::text AS data_type, \
         (is_nullable = 'YES') AS nullable, column_default::text AS column_default \
         FROM information_schema.columns WHERE table_schema = 'public' \
         ORDER BY table_name, ordinal_position",
    )
    .load::<LiveColumn>(conn)?;
    let constraints = diesel::sql_query(
        "SELECT cl.relname::text AS table_name, c.conname::text AS name, c.contype::text AS kind, \
         (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
            FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) \
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns, \
         (SELECT f.relname::text FROM pg_class f WHERE f.oid = c.confrelid) AS ref_table, \
         (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
            FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord) \
            JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS ref_columns, \
         c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update, \
         pg_get_constraintdef(c.oid) AS definition \
         FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f', 'c', 'x') \
         ORDER BY 1, 2",
    )
    .load::<LiveConstraint>(conn)?;
    let indexes = diesel::sql_query(
        "SELECT t.relname::text AS table_name, i.relname::text AS name, \
         pg_get_indexdef(i.oid) AS definition \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' ORDER BY 1, 2",
    )
    .load::<LiveIndex>(conn)?;
    Ok(LiveCatalog {
        tables,
        columns,
        constraints,
        indexes,
    })
}
