//! The one error type of viben-db: what went wrong with the database, and what to do about it.

use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::catalog::Difference;

/// Everything a viben-db call can fail with.
///
/// Each message says what happened and what to do next. Messages never contain a password
/// (connection strings are shown with `***`) or an access token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// Neither `POSTGRES_URL` nor `DATABASE_URL` is set.
    #[error(
        "no database connection string; set POSTGRES_URL (the web app's variable) or \
         DATABASE_URL, for example postgres://user:password@localhost:5432/viben"
    )]
    MissingUrl,

    /// The connection string is not one libpq reads as meant (an unescaped `@` in the
    /// password, surrounding quotes, another scheme, ...). No part of the string is shown.
    #[error("{origin} is not valid: {problem}; {fix}")]
    InvalidUrl {
        /// Where the string came from: `the connection string`, or `the connection string in
        /// POSTGRES_URL`.
        origin: String,
        /// What is wrong, naming the part (never quoting it).
        problem: String,
        /// What to do.
        fix: String,
    },

    /// The server could not be reached or refused the connection.
    #[error(
        "cannot connect to PostgreSQL at {host}:{port}: {cause}; check that the server is \
         running and reachable, and the user, password, database and sslmode in the connection \
         string"
    )]
    Connect {
        /// The host the connection string names.
        host: String,
        /// The port the connection string names.
        port: u16,
        /// What libpq reported (with any password replaced by `***`).
        cause: String,
    },

    /// A connection broke while in use (the server restarted, the network dropped).
    #[error(
        "the connection to PostgreSQL was lost: {cause}; retry the operation (the pool \
         discards the broken connection and opens a new one)"
    )]
    ConnectionLost {
        /// What libpq reported.
        cause: String,
    },

    /// No pooled connection became free, and no new one could be opened, in time.
    #[error(
        "no database connection available after {timeout:?}{}; raise the pool size or the \
         checkout timeout, or check that the server is reachable",
        last_error.as_deref().map(|e| format!(" (last error: {e})")).unwrap_or_default()
    )]
    PoolTimeout {
        /// How long the pool waited.
        timeout: Duration,
        /// The last error the pool met while connecting, if any (passwords removed).
        last_error: Option<String>,
    },

    /// A table the query needs does not exist (SQLSTATE 42P01).
    #[error(
        "table {relation} does not exist in this database; run `viben db migrate`, which \
         creates it or says what else differs (or `viben db adopt` for the web app's existing \
         database)"
    )]
    MissingRelation {
        /// The table PostgreSQL named.
        relation: String,
    },

    /// A column the query needs does not exist (SQLSTATE 42703).
    #[error(
        "column {column} does not exist in this database, which is older or newer than this \
         program or was changed by hand; run `viben db check`, which lists every difference \
         and the SQL or command that fixes it"
    )]
    MissingColumn {
        /// The column PostgreSQL named: `table.column` where it names the table too (always
        /// for INSERT and UPDATE), else the bare column name.
        column: String,
    },

    /// A unique value is already taken, under a constraint this crate does not know (one
    /// added by hand, or by a newer web app): named as PostgreSQL reports it.
    #[error(
        "this {columns} is already taken (unique constraint {constraint} on table {table}); \
         choose another {columns}, or load the existing row"
    )]
    UniqueViolation {
        /// The table, from the server's error fields (`unknown` if it gave none).
        table: String,
        /// The constraint or unique index (`unknown` if the server gave none).
        constraint: String,
        /// The constrained columns, from the server's detail line (`value` if it gave none).
        columns: String,
    },

    /// A unique value is already taken.
    #[error(
        "this {field} is already taken (table {table}); choose another {field}, or load the \
         existing row"
    )]
    Conflict {
        /// The table (`users`, `oauth_connections`).
        table: &'static str,
        /// The field whose value is taken: `email`, `username` or `id`.
        field: &'static str,
    },

    /// The provider identity is already linked to another user.
    #[error(
        "this {provider} account ({provider_id}) is already linked to another user; unlink it \
         there first"
    )]
    AlreadyLinked {
        /// The provider.
        provider: String,
        /// The user's id at the provider.
        provider_id: String,
    },

    /// No row has the given key.
    #[error("no {entity} with {key}; check the value, or list the existing ones")]
    NotFound {
        /// What was looked for (`user`, `oauth connection`).
        entity: &'static str,
        /// The key that was used, e.g. `id "u1"`.
        key: String,
    },

    /// A row names a row that does not exist (or a row still named by others was deleted).
    #[error(
        "foreign key {constraint} violated: {detail}; link only to a user that exists (create \
         it first), and delete a user with `viben db users delete`, which removes its \
         connections too"
    )]
    ForeignKey {
        /// The constraint's name.
        constraint: String,
        /// PostgreSQL's detail line.
        detail: String,
    },

    /// A user id given by the caller that could not be found again as typed.
    #[error(
        "invalid user id {id:?}: {reason}; give an id with visible characters and no control \
         characters, or none to get a generated one"
    )]
    InvalidId {
        /// The refused id (control characters escaped by `{:?}`).
        id: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// A text value PostgreSQL cannot store.
    #[error("{field} contains a NUL byte (\\0), which PostgreSQL text cannot store; remove it")]
    NulByte {
        /// The field holding it.
        field: &'static str,
    },

    /// A statement ran longer than the pool's statement timeout.
    #[error(
        "a statement ran longer than the statement timeout and was cancelled; retry when the \
         database is less busy, or raise the pool's statement timeout (30 s by default)"
    )]
    StatementTimeout,

    /// A value breaks one of viben-model's rules.
    #[error("{}", viben_model::Report(.0))]
    Validation(#[from] viben_model::ValidationError),

    /// The web app's tables exist but Diesel has recorded no migration.
    #[error(
        "the database already has {tables} (made by the web app's Drizzle tooling) but no \
         Diesel migration is recorded; adopt it first with `viben db adopt`, which checks the \
         schema and records the initial migration"
    )]
    NeedsAdopt {
        /// The existing tables, comma-separated.
        tables: String,
    },

    /// [`crate::adopt()`] found neither of the web app's tables: there is nothing to adopt.
    #[error(
        "nothing to adopt: this database has no users or oauth_connections table; run \
         `viben db migrate` instead, which creates them"
    )]
    NothingToAdopt,

    /// The live schema is not the expected one.
    #[error(
        "the database schema differs from the expected one: {}; restore it with the SQL \
         `viben db check` shows (or with the web app's migrations), then run `viben db adopt` \
         again",
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    SchemaMismatch(Vec<Difference>),

    /// A migration failed to run or revert.
    #[error("migration failed: {0}; fix the cause, then run `viben db migrate` again")]
    Migration(String),

    /// Any other database error; Diesel's error is kept for callers that match on it.
    ///
    /// Its message is in this one's (programs such as `viben` print only the top-level
    /// message), so it is not also given as `source()`, where error-chain printers would show
    /// it a second time.
    #[error("database error: {0}")]
    Query(DieselError),
}

impl From<DieselError> for DbError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::NotFound => DbError::NotFound {
                entity: "row",
                key: "the given key".to_owned(),
            },
            DieselError::DatabaseError(kind, info) => {
                let message = info.message();
                match kind {
                    DatabaseErrorKind::UniqueViolation => {
                        match unique_field(info.constraint_name()) {
                            Some((table, field)) => DbError::Conflict { table, field },
                            None => DbError::UniqueViolation {
                                table: info.table_name().unwrap_or("unknown").to_owned(),
                                constraint: info.constraint_name().unwrap_or("unknown").to_owned(),
                                columns: info
                                    .details()
                                    .and_then(key_columns)
                                    .unwrap_or_else(|| "value".to_owned()),
                            },
                        }
                    }
                    DatabaseErrorKind::ForeignKeyViolation => DbError::ForeignKey {
                        constraint: info.constraint_name().unwrap_or("unknown").to_owned(),
                        detail: info
                            .details()
                            .unwrap_or("a referenced row is missing")
                            .to_owned(),
                    },
                    DatabaseErrorKind::ClosedConnection
                    | DatabaseErrorKind::UnableToSendCommand => DbError::ConnectionLost {
                        cause: message.trim().to_owned(),
                    },
                    _ => match missing_object(message) {
                        Some(Missing::Column(column)) => DbError::MissingColumn { column },
                        Some(Missing::Relation(relation)) => DbError::MissingRelation { relation },
                        None if message
                            .contains("canceling statement due to statement timeout") =>
                        {
                            DbError::StatementTimeout
                        }
                        None => DbError::Query(error),
                    },
                }
            }
            _ => DbError::Query(error),
        }
    }
}

impl DbError {
    /// Turns a `NotFound` from Diesel into one that names the entity and key.
    pub(crate) fn not_found(entity: &'static str, key: String) -> impl FnOnce(DbError) -> DbError {
        move |error| match error {
            DbError::NotFound { .. } => DbError::NotFound { entity, key },
            other => other,
        }
    }
}

/// The (table, field) a unique constraint of the schema guards, from its name.
fn unique_field(constraint: Option<&str>) -> Option<(&'static str, &'static str)> {
    match constraint? {
        "users_email_unique" => Some(("users", "email")),
        "users_username_unique" => Some(("users", "username")),
        "users_pkey" => Some(("users", "id")),
        "oauth_connections_pkey" => Some(("oauth_connections", "id")),
        _ => None,
    }
}

/// The columns of a unique violation's detail line, `Key (a, b)=(x, y) already exists.`,
/// without the values (which may be anything a user typed).
fn key_columns(detail: &str) -> Option<String> {
    let columns = detail.strip_prefix("Key (")?.split_once(")=(")?.0;
    (!columns.is_empty()).then(|| columns.to_owned())
}

/// What a "does not exist" message from PostgreSQL names.
#[derive(Debug, PartialEq, Eq)]
enum Missing {
    /// `table.column`, or just `column` when PostgreSQL names no table.
    Column(String),
    Relation(String),
}

/// Reads PostgreSQL's "does not exist" messages, anchored at their start so that a missing
/// column is never taken for a missing table:
///
/// - `column "c" of relation "t" does not exist` (INSERT, UPDATE) → column `t.c`;
/// - `column t.c does not exist`, `column "c" does not exist` (SELECT) → `t.c`, `c`;
/// - `relation "t" does not exist` → relation `t`.
///
/// Anything else (`constraint "x" of relation "t" does not exist`, SQLSTATE 42704, ...) is
/// `None`.
fn missing_object(message: &str) -> Option<Missing> {
    let rest = message.trim().strip_suffix(" does not exist")?;
    if let Some(rest) = rest.strip_prefix("column ") {
        let (column, after) = identifier(rest)?;
        if after.is_empty() {
            return Some(Missing::Column(column));
        }
        let (table, after) = identifier(after.strip_prefix(" of relation ")?)?;
        return after
            .is_empty()
            .then(|| Missing::Column(format!("{table}.{column}")));
    }
    let (relation, after) = identifier(rest.strip_prefix("relation ")?)?;
    after.is_empty().then_some(Missing::Relation(relation))
}

/// A name at the start of `text`, quoted (`"a ""b"""`, doubled quotes inside) or not (up to
/// the next space; it may be qualified, `users.role`), and the text after it.
fn identifier(text: &str) -> Option<(String, &str)> {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find(' ').unwrap_or(text.len());
        return (end > 0).then(|| (text[..end].to_owned(), &text[end..]));
    };
    let mut name = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '"' {
            name.push(c);
        } else if quoted[i + 1..].starts_with('"') {
            name.push('"');
            chars.next();
        } else {
            return Some((name, &quoted[i + 1..]));
        }
    }
    None
}

/// Refuses text PostgreSQL cannot store, naming the field.
pub(crate) fn check_text(field: &'static str, value: &str) -> Result<(), DbError> {
    if value.contains('\0') {
        Err(DbError::NulByte { field })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_error_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<DbError>();
    }

    #[test]
    fn an_error_chain_shows_the_database_error_once() {
        let error = DbError::from(DieselError::QueryBuilderError("boom-cause".into()));
        assert!(matches!(error, DbError::Query(_)), "{error:?}");
        let mut chain = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(e) = source {
            chain.push_str(&format!(": {e}"));
            source = e.source();
        }
        assert_eq!(chain.matches("boom-cause").count(), 1, "{chain}");
    }

    #[test]
    fn names_are_taken_from_postgres_messages() {
        let column = |c: &str| Some(Missing::Column(c.to_owned()));
        let relation = |r: &str| Some(Missing::Relation(r.to_owned()));
        assert_eq!(
            missing_object(r#"column "github_username" of relation "users" does not exist"#),
            column("users.github_username")
        );
        assert_eq!(
            missing_object("column users.role does not exist"),
            column("users.role")
        );
        assert_eq!(
            missing_object(r#"column "role" does not exist"#),
            column("role")
        );
        assert_eq!(
            missing_object(r#"relation "users" does not exist"#),
            relation("users")
        );
        assert_eq!(
            missing_object(r#"relation "a ""b""" does not exist"#),
            relation(r#"a "b""#)
        );
        assert_eq!(
            missing_object(r#"constraint "users_pkey" of relation "users" does not exist"#),
            None
        );
        assert_eq!(missing_object(r#"type "citext" does not exist"#), None);
        assert_eq!(
            missing_object(r#"function lower(relation "x") does not exist"#),
            None
        );
        assert_eq!(
            unique_field(Some("users_email_unique")),
            Some(("users", "email"))
        );
        assert_eq!(
            unique_field(Some("users_username_unique")),
            Some(("users", "username"))
        );
        assert_eq!(unique_field(Some("users_nickname_key")), None);
        assert_eq!(
            key_columns("Key (lower(display_name))=(Ada) already exists.").as_deref(),
            Some("lower(display_name)")
        );
    }
}
