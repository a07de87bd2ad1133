//! Adopting the web app's existing database: a database Drizzle made, with no Diesel record.
//!
//! [`adopt`] checks that the live schema is exactly the expected one ([`crate::catalog`]) and
//! records the initial migration as applied, so later migrations run on top of it. Where the
//! schema differs it refuses and lists every difference. Drizzle's own bookkeeping (schema
//! `drizzle`) is left alone, so the web app's tooling keeps working.

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;

use crate::migrate::{self, MIGRATIONS};
use crate::{DbError, catalog};

/// What [`adopt`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adopted {
    /// The schema matched; this initial migration version is now recorded as applied.
    Recorded(String),
    /// Diesel had already recorded migrations here; nothing was changed.
    AlreadyManaged,
}

/// Adopts a database whose tables the web app's Drizzle tooling made.
///
/// Holds the migration lock. Refuses with [`DbError::SchemaMismatch`] (every difference listed)
/// when the live schema is not the expected one (the column order aside), and with [`DbError::NothingToAdopt`] when
/// neither table exists (run the migrations instead).
pub fn adopt(conn: &mut PgConnection) -> Result<Adopted, DbError> {
    migrate::with_lock(conn, |conn| {
        if migrate::diesel_recorded_any(conn)? {
            return Ok(Adopted::AlreadyManaged);
        }
        if migrate::existing_app_tables(conn)?.is_empty() {
            return Err(DbError::NothingToAdopt);
        }
        // The column order alone changes no query, and no SQL but a rebuilt table restores
        // it: refusing it would leave a database repaired with `repair_sql` unadoptable.
        let mut differences = catalog::check_drift(conn)?;
        differences.retain(|d| !d.is_cosmetic());
        if !differences.is_empty() {
            return Err(DbError::SchemaMismatch(differences));
        }
        let first = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
            .map_err(|e| DbError::Migration(e.to_string()))?
            .into_iter()
            .next()
            .ok_or_else(|| DbError::Migration("no migrations are embedded".to_owned()))?;
        let version = first.name().version().to_string();
        conn.transaction(|conn| {
            // Creates Diesel's bookkeeping table the way Diesel does.
            conn.applied_migrations()
                .map_err(|e| DbError::Migration(e.to_string()))?;
            diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ($1)")
                .bind::<Text, _>(&version)
                .execute(conn)?;
            Ok::<_, DbError>(())
        })?;
        Ok(Adopted::Recorded(version))
    })
}
