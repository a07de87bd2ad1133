//! The database's schema as values: reading the live catalog ([`read`]), the normalized
//! [`Schema`] that migrations' snapshots hold, the differences between two schemas
//! ([`diff`], [`Difference`]), and the design document's naming rules
//! ([`naming_violations`]).
//!
//! Which schema a database should have comes from the migrations
//! ([`crate::migrate::MigrationSet::expected_schema`]); [`check_drift`] compares the live one
//! with it: the seed's "column X does not exist", caught before a query fails.

mod diff;
mod live;
mod naming;
mod repair;
mod schema;

use diesel::PgConnection;

use crate::MigrationError;

pub use diff::{Difference, diff};
pub use live::{LiveCatalog, LiveColumn, LiveConstraint, LiveIndex, read};
pub use naming::{NAMING_EXCEPTIONS, naming_violations};
pub(crate) use repair::ident;
pub use schema::{Column, Constraint, Index, Schema, TOOLING_TABLES, Table};

/// Reads the live catalog and compares it with the schema its migrations should have left
/// (see [`crate::migrate::MigrationSet::check_drift`]); an empty list means no drift.
pub fn check_drift(conn: &mut PgConnection) -> Result<Vec<Difference>, MigrationError> {
    crate::migrate::check_drift(conn)
}

/// Reads the live catalog and lists where it breaks the design document's naming rules (see
/// [`naming_violations`]). Read-only.
pub fn check_naming(conn: &mut PgConnection) -> Result<Vec<String>, crate::QueryError> {
    Ok(naming_violations(&read(conn)?))
}
