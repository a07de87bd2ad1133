//! viben-db's errors, one type per kind of call, as Diesel keeps `ConnectionError` apart from
//! `result::Error` and diesel_migrations keeps its own `MigrationError`:
//!
//! - [`ConnectError`]: finding the connection string, connecting, checking a connection out of
//!   the pool;
//! - [`QueryError`]: running a query on an open connection (not found, already taken, a
//!   missing table, a lost connection, a value the schema refuses, ...);
//! - [`MigrationError`]: migrating, reverting, adopting and checking the schema, which run
//!   queries too ([`MigrationError::Query`]).
//!
//! Each follows the workspace's one design (see [`viben_model::Hint`]): `Display` says what went
//! wrong in one lowercase line, without the cause and without the hint; `source()` is the real
//! cause (Diesel's or libpq's error, never a copy of its text); [`Hint::hint`] says what to do,
//! naming the `viben` command that moves forward. Messages never contain a password (connection
//! strings are shown with `***`) or an access token.

mod classify;

use std::sync::Arc;
use std::time::Duration;

use diesel::result::Error as DieselError;
use viben_model::{Hint, ValidationError};

use crate::catalog::Difference;

pub(crate) use classify::check_text;

/// A viben-db result; the error defaults to [`QueryError`], what most calls can meet.
pub type Result<T, E = QueryError> = std::result::Result<T, E>;

/// Finding the connection string, connecting, or getting a connection from the pool failed.
///
/// Cheap to clone (libpq's error is shared), so the pool can keep the last one it met.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// Neither `POSTGRES_URL` nor `DATABASE_URL` is set.
    #[error("no database connection string")]
    MissingUrl,

    /// The connection string is not one libpq reads as meant (an unescaped `@` in the
    /// password, surrounding quotes, another scheme, ...). No part of the string is shown.
    #[error("{origin} is not valid: {problem}")]
    InvalidUrl {
        /// Where the string came from: `the connection string`, or `the connection string in
        /// POSTGRES_URL`.
        origin: String,
        /// What is wrong, naming the part (never quoting it).
        problem: String,
        /// What to do (the hint).
        fix: String,
    },

    /// The server could not be reached, refused the connection, or refused to set the session
    /// up.
    #[error("cannot connect to PostgreSQL at {host}:{port}")]
    Connect {
        /// The host the connection string names.
        host: String,
        /// The port the connection string names.
        port: u16,
        /// What libpq or the server reported (any password in libpq's text replaced by `***`).
        #[source]
        source: Arc<diesel::ConnectionError>,
    },

    /// No pooled connection became free, and no new one could be opened, in time.
    #[error("no database connection available after {}", Millis(*timeout))]
    PoolTimeout {
        /// How long the pool waited.
        timeout: Duration,
        /// The last error the pool met while opening a connection, if any.
        #[source]
        last_error: Option<Box<ConnectError>>,
    },
}

impl Hint for ConnectError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::MissingUrl => "set POSTGRES_URL (the web app's variable) or DATABASE_URL, for \
                                 example postgres://user:password@localhost:5432/viben"
                .to_owned(),
            Self::InvalidUrl { fix, .. } => fix.clone(),
            Self::Connect { source, .. } if is_certificate_error(source) => {
                "the server's TLS certificate did not verify: point sslrootcert at the \
                 certificate of the authority that signed it (sslrootcert=system for a public \
                 one, as Neon's), and connect by the host name the certificate names \
                 (sslmode=verify-full checks it)"
                    .to_owned()
            }
            Self::Connect { .. } => "check that the server is running and reachable, and the \
                                     user, password, database and sslmode in the connection \
                                     string"
                .to_owned(),
            Self::PoolTimeout { .. } => "raise the pool size or the checkout timeout, or check \
                                         that the server is reachable"
                .to_owned(),
        })
    }
}

impl ConnectError {
    /// [`ConnectError::Connect`] for the server `url` names.
    pub(crate) fn connect(url: &crate::DatabaseUrl, source: diesel::ConnectionError) -> Self {
        Self::Connect {
            host: url.host(),
            port: url.port(),
            source: Arc::new(source),
        }
    }
}

/// Whether libpq refused the server's certificate (OpenSSL's "certificate verify failed", or a
/// host name the certificate does not name). libpq's own English words, a client-side message.
fn is_certificate_error(source: &diesel::ConnectionError) -> bool {
    let text = source.to_string();
    text.contains("certificate verify failed")
        || (text.contains("server certificate for") && text.contains("does not match"))
}

/// A duration for people: `300 ms`, `5 s`, `2.5 s`.
struct Millis(Duration);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0.as_millis();
        if ms < 1000 {
            write!(f, "{ms} ms")
        } else if ms.is_multiple_of(1000) {
            write!(f, "{} s", ms / 1000)
        } else {
            write!(f, "{} s", self.0.as_secs_f64())
        }
    }
}

/// A query on an open connection failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// No row has the given key.
    #[error("no {kind} \"{}\"", id.escape_debug())]
    NotFound {
        /// What was looked for and by which key: `user with id`, `user with email`,
        /// `oauth connection with id`.
        kind: &'static str,
        /// The key's value.
        id: String,
    },

    /// A unique value is already taken, under one of the schema's own constraints.
    ///
    /// The server's error is kept in `error`, not given as `source()`: the message says all
    /// it says, and its text (`duplicate key value violates ...`) is not for people.
    #[error("this {field} is already taken (table {table})")]
    AlreadyExists {
        /// The table (`users`, `oauth_connections`).
        table: &'static str,
        /// The field whose value is taken: `email`, `username` or `id`.
        field: &'static str,
        /// The server's error, for callers that inspect it.
        error: DieselError,
    },

    /// A unique value is already taken, under a constraint this crate does not know (one
    /// added by hand, or by a newer web app): named from the server's error fields. As for
    /// [`QueryError::AlreadyExists`], the server's error is kept in `error`, not as `source()`.
    #[error("this {columns} is already taken (unique constraint {constraint} on table {table})")]
    UniqueViolation {
        /// The table, from the server's error fields (`unknown` if it gave none).
        table: String,
        /// The constraint or unique index, from the server's error fields (`unknown` if it
        /// gave none).
        constraint: String,
        /// The constrained columns, from the server's detail line (`value` if it gave none
        /// or gave it in another language).
        columns: String,
        /// The server's error, for callers that inspect it.
        error: DieselError,
    },

    /// The provider identity is already linked to another user: taken, by someone else.
    #[error("this {provider} account ({provider_id}) is already linked to another user")]
    AlreadyLinked {
        /// The provider.
        provider: String,
        /// The user's id at the provider.
        provider_id: String,
    },

    /// A row names a row that does not exist (or a row still named by others was deleted).
    #[error("foreign key {constraint} violated")]
    ForeignKey {
        /// The constraint's name, from the server's error fields.
        constraint: String,
        /// The server's error.
        #[source]
        source: DieselError,
    },

    /// A table the query needs does not exist (SQLSTATE 42P01).
    #[error("table {relation} does not exist in this database")]
    MissingRelation {
        /// The table PostgreSQL named.
        relation: String,
        /// The server's error.
        #[source]
        source: DieselError,
    },

    /// A column the query needs does not exist (SQLSTATE 42703).
    #[error("column {column} does not exist in this database")]
    MissingColumn {
        /// The column PostgreSQL named: `table.column` where it names the table too (always
        /// for INSERT and UPDATE), else the bare column name.
        column: String,
        /// The server's error.
        #[source]
        source: DieselError,
    },

    /// The server refused the statement at a position in it: a table, column or type the
    /// query names is missing or different. What a missing table or column reads as when the
    /// server reports it in a language other than English (see the database guide).
    #[error("this database's schema does not match the query")]
    SchemaDiffers {
        /// The server's error.
        #[source]
        source: DieselError,
    },

    /// A statement ran longer than the pool's statement timeout and was cancelled.
    #[error("a statement ran longer than the statement timeout and was cancelled")]
    StatementTimeout {
        /// The server's error.
        #[source]
        source: DieselError,
    },

    /// A connection broke while in use (the server restarted, the network dropped).
    #[error("the connection to PostgreSQL was lost")]
    ConnectionLost {
        /// What libpq reported.
        #[source]
        source: DieselError,
    },

    /// A user id given by the caller that could not be found again as typed.
    #[error("invalid user id \"{}\": {reason}", id.escape_debug())]
    InvalidId {
        /// The refused id.
        id: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// A text value PostgreSQL cannot store.
    #[error("{field} contains a NUL byte (\\0), which PostgreSQL text cannot store")]
    NulByte {
        /// The field holding it.
        field: &'static str,
    },

    /// A value breaks one of viben-model's rules.
    #[error(transparent)]
    Validation(#[from] ValidationError),

    /// Any other database error.
    #[error("database error")]
    Query(#[source] DieselError),
}

impl Hint for QueryError {
    fn hint(&self) -> Option<String> {
        let text = match self {
            Self::NotFound { .. } => "check the value, or list the existing ones",
            Self::AlreadyExists { field, .. } => {
                return Some(format!("choose another {field}, or load the existing row"));
            }
            Self::UniqueViolation { columns, .. } => {
                return Some(format!(
                    "choose another {columns}, or load the existing row"
                ));
            }
            Self::AlreadyLinked { .. } => "unlink it there first",
            Self::ForeignKey { .. } => {
                "link only to a user that exists (create it first), and delete a user with \
                 `viben db users delete`, which removes its connections too"
            }
            Self::MissingRelation { .. } => {
                "run `viben db migrate`, which creates it or says what else differs (or \
                 `viben db adopt` for the web app's existing database)"
            }
            Self::MissingColumn { .. } => {
                "this database is older or newer than this program or was changed by hand; \
                 run `viben db check`, which lists every difference and the SQL or command \
                 that fixes it"
            }
            Self::SchemaDiffers { .. } => {
                "run `viben db check`, which lists every difference and the SQL or command \
                 that fixes it"
            }
            Self::StatementTimeout { .. } => {
                "retry when the database is less busy, or raise the pool's statement timeout \
                 (30 s by default)"
            }
            Self::ConnectionLost { .. } => {
                "retry the operation (the pool discards the broken connection and opens a new \
                 one)"
            }
            Self::InvalidId { .. } => {
                "give an id with visible characters and no control characters, or none to get \
                 a generated one"
            }
            Self::NulByte { .. } => "remove it",
            Self::Validation(err) => return err.hint(),
            Self::Query(_) => return None,
        };
        Some(text.to_owned())
    }
}

impl QueryError {
    /// Diesel's error for a lookup of `kind` by `id`: its `NotFound` becomes
    /// [`QueryError::NotFound`] naming both, anything else is classified as usual.
    pub(crate) fn not_found(
        kind: &'static str,
        id: &str,
    ) -> impl FnOnce(DieselError) -> QueryError {
        move |error| match error {
            DieselError::NotFound => QueryError::NotFound {
                kind,
                id: id.to_owned(),
            },
            other => other.into(),
        }
    }
}

/// Migrating, reverting, adopting or checking the schema failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The web app's tables exist but Diesel has recorded no migration.
    #[error(
        "the database already has {tables} (made by the web app's Drizzle tooling) but no \
         Diesel migration is recorded"
    )]
    NeedsAdopt {
        /// The existing tables, comma-separated.
        tables: String,
    },

    /// [`crate::adopt()`] found neither of the web app's tables: there is nothing to adopt.
    #[error("nothing to adopt: this database has no users or oauth_connections table")]
    NothingToAdopt,

    /// The live schema is not the expected one.
    #[error(
        "the database schema differs from the expected one: {}",
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    SchemaMismatch(Vec<Difference>),

    /// A migration has no schema snapshot beside its `up.sql`.
    #[error("migration {version} has no schema snapshot (schema.json beside its up.sql)")]
    MissingSnapshot {
        /// The migration's version.
        version: String,
    },

    /// A migration's schema snapshot cannot be read.
    #[error("the schema snapshot of migration {version} is not valid")]
    InvalidSnapshot {
        /// The migration's version.
        version: String,
        /// What the JSON reader reported.
        #[source]
        source: serde_json::Error,
    },

    /// A migration failed to load, run or revert, or Diesel's bookkeeping failed.
    #[error("migration failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// A query around the migrations failed (a missing table, a lost connection, ...).
    #[error(transparent)]
    Query(#[from] QueryError),
}

impl Hint for MigrationError {
    fn hint(&self) -> Option<String> {
        let text = match self {
            Self::NeedsAdopt { .. } => {
                "adopt it first with `viben db adopt`, which checks the schema and records the \
                 migrations it matches"
            }
            Self::NothingToAdopt => "run `viben db migrate` instead, which creates them",
            Self::SchemaMismatch(_) => {
                "restore it with the SQL `viben db check` shows (or with the web app's \
                 migrations), then run `viben db adopt` again"
            }
            Self::MissingSnapshot { .. } | Self::InvalidSnapshot { .. } => {
                "generate it with `VIBEN_UPDATE_SNAPSHOTS=1 cargo test -p viben-db --test \
                 schema_snapshots` (see migrations/README.md)"
            }
            Self::Failed(_) => "fix the cause, then run `viben db migrate` again",
            Self::Query(err) => return err.hint(),
        };
        Some(text.to_owned())
    }
}

impl From<DieselError> for MigrationError {
    fn from(error: DieselError) -> Self {
        Self::Query(error.into())
    }
}

impl From<ValidationError> for MigrationError {
    fn from(error: ValidationError) -> Self {
        Self::Query(error.into())
    }
}
