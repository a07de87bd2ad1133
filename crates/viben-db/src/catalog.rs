//! The expected schema, the live catalog, and the differences between them (drift).
//!
//! The live catalog is read from `information_schema` (tables, columns, types, nullability,
//! defaults) and `pg_catalog` (constraints with their columns and foreign key actions, and
//! indexes). [`check_drift`] compares it with [`EXPECTED`] and says, in plain words, what
//! differs: the seed's "column X does not exist", caught before a query fails.

use std::fmt;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};

use crate::DbError;

/// A column of the expected schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedColumn {
    /// Column name.
    pub name: &'static str,
    /// Type as `information_schema.columns.data_type` spells it.
    pub data_type: &'static str,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Default expression as PostgreSQL prints it.
    pub default: Option<&'static str>,
}

/// A table of the expected schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedTable {
    /// Table name (schema `public`).
    pub name: &'static str,
    /// Columns, in order.
    pub columns: &'static [ExpectedColumn],
    /// Constraints: (name, description as [`LiveConstraint::describe`] words it).
    pub constraints: &'static [(&'static str, &'static str)],
}

const fn col(
    name: &'static str,
    data_type: &'static str,
    nullable: bool,
    default: Option<&'static str>,
) -> ExpectedColumn {
    ExpectedColumn {
        name,
        data_type,
        nullable,
        default,
    }
}

const TEXT: &str = "text";
const TIMESTAMP: &str = "timestamp without time zone";

/// The web app's schema, exactly: what the migrations make and what Drizzle makes.
pub const EXPECTED: &[ExpectedTable] = &[
    ExpectedTable {
        name: "users",
        columns: &[
            col("id", TEXT, false, None),
            col("email", TEXT, false, None),
            col("username", TEXT, false, None),
            col("display_name", TEXT, true, None),
            col("avatar_url", TEXT, true, None),
            col("github_username", TEXT, true, None),
            col("email_verified", "boolean", true, Some("false")),
            col("role", TEXT, true, Some("'user'::text")),
            col("created_at", TIMESTAMP, true, Some("now()")),
            col("updated_at", TIMESTAMP, true, Some("now()")),
        ],
        constraints: &[
            ("users_pkey", "primary key (id)"),
            ("users_email_unique", "unique (email)"),
            ("users_username_unique", "unique (username)"),
        ],
    },
    ExpectedTable {
        name: "oauth_connections",
        columns: &[
            col("id", TEXT, false, None),
            col("user_id", TEXT, true, None),
            col("provider", TEXT, false, None),
            col("provider_id", TEXT, false, None),
            col("access_token", TEXT, true, None),
            col("created_at", TIMESTAMP, true, Some("now()")),
            col("updated_at", TIMESTAMP, true, Some("now()")),
        ],
        constraints: &[
            ("oauth_connections_pkey", "primary key (id)"),
            (
                "oauth_connections_user_id_users_id_fk",
                "foreign key (user_id) references users(id) on delete no action on update no \
                 action",
            ),
        ],
    },
];

/// Tables in `public` that belong to tooling, not to the schema.
pub const TOOLING_TABLES: &[&str] = &["__diesel_schema_migrations"];

/// Columns that break the app's naming rules on purpose: `users.email_verified` is a boolean
/// without `is_`/`has_`, kept because the web app already uses it.
pub const NAMING_EXCEPTIONS: &[&str] = &["users.email_verified"];

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
pub fn read(conn: &mut PgConnection) -> Result<LiveCatalog, DbError> {
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

/// One way the live schema differs from the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// An expected table does not exist.
    MissingTable {
        /// Table name.
        table: String,
    },
    /// A table exists that the schema does not have.
    ExtraTable {
        /// Table name.
        table: String,
    },
    /// An expected column does not exist.
    MissingColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// A column exists that the schema does not have.
    ExtraColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// A column has another type.
    WrongType {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// Expected type.
        expected: String,
        /// Live type.
        found: String,
    },
    /// A column allows NULL where it should not, or the reverse.
    WrongNullability {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// Whether NULL should be allowed.
        expected_nullable: bool,
    },
    /// A column has another default.
    WrongDefault {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// Expected default.
        expected: Option<String>,
        /// Live default.
        found: Option<String>,
    },
    /// The columns are all there, in another order.
    ColumnOrder {
        /// Table name.
        table: String,
        /// Expected order.
        expected: Vec<String>,
        /// Live order.
        found: Vec<String>,
    },
    /// An expected constraint does not exist (under its name).
    MissingConstraint {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
        /// What it should be.
        expected: String,
    },
    /// A constraint has the expected name but does something else.
    WrongConstraint {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
        /// What it should be.
        expected: String,
        /// What it is.
        found: String,
    },
    /// A constraint exists that the schema does not have.
    ExtraConstraint {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
        /// What it is.
        found: String,
    },
    /// An index exists that the schema does not have.
    ExtraIndex {
        /// Table name.
        table: String,
        /// Index name.
        name: String,
        /// Its definition.
        definition: String,
    },
}

impl Difference {
    /// SQL that restores the expected schema for this difference, where one statement can do
    /// it without losing data: a missing column, constraint or default, a wrong type or
    /// nullability. `None` for a missing table (re-create the database and run the
    /// migrations), the column order (only a re-created table changes it), and a table or
    /// column beyond the schema (dropping its data is the owner's decision). An extra
    /// constraint or index is dropped.
    ///
    /// A restored NOT NULL column or constraint fails on rows that break it; fill them first.
    pub fn repair_sql(&self) -> Option<String> {
        let expected_column = |table: &str, column: &str| {
            EXPECTED
                .iter()
                .find(|t| t.name == table)?
                .columns
                .iter()
                .find(|c| c.name == column)
                .copied()
        };
        match self {
            Self::MissingColumn { table, column } => {
                let want = expected_column(table, column)?;
                let mut sql = format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    ident(table),
                    ident(column),
                    want.data_type
                );
                if let Some(default) = want.default {
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
            // The descriptions in EXPECTED are valid SQL as written.
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
    /// failing, and [`crate::adopt`] accepts it, since only a rebuilt table would restore it.
    pub fn is_cosmetic(&self) -> bool {
        matches!(self, Self::ColumnOrder { .. })
    }
}

/// A name as SQL takes it: bare when it is a plain lowercase word, else double-quoted.
fn ident(name: &str) -> String {
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

fn or_none(value: Option<&str>) -> String {
    value.map_or_else(|| "no default".to_owned(), |v| format!("default {v}"))
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingTable { table } => write!(f, "table {table} is missing"),
            Self::ExtraTable { table } => {
                write!(f, "table {table} exists but is not part of the schema")
            }
            Self::MissingColumn { table, column } => {
                write!(f, "column {table}.{column} is missing")
            }
            Self::ExtraColumn { table, column } => {
                write!(
                    f,
                    "column {table}.{column} exists but is not part of the schema"
                )
            }
            Self::WrongType {
                table,
                column,
                expected,
                found,
            } => write!(
                f,
                "column {table}.{column} has type {found}, expected {expected}"
            ),
            Self::WrongNullability {
                table,
                column,
                expected_nullable,
            } => {
                if *expected_nullable {
                    write!(f, "column {table}.{column} is NOT NULL, expected nullable")
                } else {
                    write!(f, "column {table}.{column} allows NULL, expected NOT NULL")
                }
            }
            Self::WrongDefault {
                table,
                column,
                expected,
                found,
            } => write!(
                f,
                "column {table}.{column} has {}, expected {}",
                or_none(found.as_deref()),
                or_none(expected.as_deref())
            ),
            Self::ColumnOrder {
                table,
                expected,
                found,
            } => write!(
                f,
                "the columns of {table} are in the order {}, expected {}",
                found.join(", "),
                expected.join(", ")
            ),
            Self::MissingConstraint {
                table,
                name,
                expected,
            } => write!(f, "constraint {name} on {table} ({expected}) is missing"),
            Self::WrongConstraint {
                table,
                name,
                expected,
                found,
            } => write!(
                f,
                "constraint {name} on {table} is {found}, expected {expected}"
            ),
            Self::ExtraConstraint { table, name, found } => write!(
                f,
                "constraint {name} on {table} ({found}) is not part of the schema"
            ),
            Self::ExtraIndex {
                table,
                name,
                definition,
            } => write!(
                f,
                "index {name} on {table} is not part of the schema ({definition})"
            ),
        }
    }
}

/// Compares a live catalog with [`EXPECTED`]; an empty list means they match.
pub fn diff(live: &LiveCatalog) -> Vec<Difference> {
    let mut out = Vec::new();
    for table in &live.tables {
        if !EXPECTED.iter().any(|t| t.name == table) && !TOOLING_TABLES.contains(&table.as_str()) {
            out.push(Difference::ExtraTable {
                table: table.clone(),
            });
        }
    }
    for expected in EXPECTED {
        let table = expected.name.to_owned();
        if !live.tables.iter().any(|t| t == expected.name) {
            out.push(Difference::MissingTable { table });
            continue;
        }
        let columns: Vec<&LiveColumn> = live
            .columns
            .iter()
            .filter(|c| c.table_name == expected.name)
            .collect();
        for want in expected.columns {
            let Some(have) = columns.iter().find(|c| c.column_name == want.name) else {
                out.push(Difference::MissingColumn {
                    table: table.clone(),
                    column: want.name.to_owned(),
                });
                continue;
            };
            let column = want.name.to_owned();
            if have.data_type != want.data_type {
                out.push(Difference::WrongType {
                    table: table.clone(),
                    column: column.clone(),
                    expected: want.data_type.to_owned(),
                    found: have.data_type.clone(),
                });
            }
            if have.nullable != want.nullable {
                out.push(Difference::WrongNullability {
                    table: table.clone(),
                    column: column.clone(),
                    expected_nullable: want.nullable,
                });
            }
            if have.column_default.as_deref() != want.default {
                out.push(Difference::WrongDefault {
                    table: table.clone(),
                    column,
                    expected: want.default.map(str::to_owned),
                    found: have.column_default.clone(),
                });
            }
        }
        for have in &columns {
            if !expected.columns.iter().any(|c| c.name == have.column_name) {
                out.push(Difference::ExtraColumn {
                    table: table.clone(),
                    column: have.column_name.clone(),
                });
            }
        }
        let found_order: Vec<String> = columns
            .iter()
            .filter(|c| expected.columns.iter().any(|e| e.name == c.column_name))
            .map(|c| c.column_name.clone())
            .collect();
        let expected_order: Vec<String> = expected
            .columns
            .iter()
            .filter(|e| columns.iter().any(|c| c.column_name == e.name))
            .map(|e| e.name.to_owned())
            .collect();
        if found_order != expected_order {
            out.push(Difference::ColumnOrder {
                table: table.clone(),
                expected: expected_order,
                found: found_order,
            });
        }
        let constraints: Vec<&LiveConstraint> = live
            .constraints
            .iter()
            .filter(|c| c.table_name == expected.name)
            .collect();
        for (name, description) in expected.constraints {
            match constraints.iter().find(|c| c.name == *name) {
                None => out.push(Difference::MissingConstraint {
                    table: table.clone(),
                    name: (*name).to_owned(),
                    expected: (*description).to_owned(),
                }),
                Some(have) if have.describe() != *description => {
                    out.push(Difference::WrongConstraint {
                        table: table.clone(),
                        name: (*name).to_owned(),
                        expected: (*description).to_owned(),
                        found: have.describe(),
                    })
                }
                Some(_) => {}
            }
        }
        for have in &constraints {
            if !expected.constraints.iter().any(|(n, _)| *n == have.name) {
                out.push(Difference::ExtraConstraint {
                    table: table.clone(),
                    name: have.name.clone(),
                    found: have.describe(),
                });
            }
        }
        for index in live
            .indexes
            .iter()
            .filter(|i| i.table_name == expected.name)
        {
            let backs_constraint = live
                .constraints
                .iter()
                .any(|c| c.table_name == index.table_name && c.name == index.name);
            if !backs_constraint {
                out.push(Difference::ExtraIndex {
                    table: table.clone(),
                    name: index.name.clone(),
                    definition: index.definition.clone(),
                });
            }
        }
    }
    out
}

/// Reads the live catalog and compares it with [`EXPECTED`]; an empty list means no drift.
pub fn check_drift(conn: &mut PgConnection) -> Result<Vec<Difference>, DbError> {
    Ok(diff(&read(conn)?))
}

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
