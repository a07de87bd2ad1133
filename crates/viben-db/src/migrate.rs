//! The embedded migrations (the top-level `migrations/` folder): run, list, revert.
//!
//! Every operation runs in one transaction holding a transaction-scoped PostgreSQL advisory
//! lock ([`MIGRATION_LOCK_KEY`], `pg_advisory_xact_lock`), so several processes starting at
//! once migrate one after the other instead of racing (neither Diesel nor Drizzle does this by
//! itself), also through a transaction-mode pooler. Diesel runs each migration in a savepoint
//! of that transaction, so [`run_pending`] is all or nothing: when one migration fails, the
//! ones before it in the same run are rolled back too. A migration must therefore be able to
//! run in a transaction (no `run_in_transaction = false`, no `CREATE INDEX CONCURRENTLY`).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::DbError;

/// The migrations, compiled into the crate: no CLI is needed to bring a database up to date.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The advisory lock key migrations hold (`"vibenmig"` in ASCII).
pub const MIGRATION_LOCK_KEY: i64 = 0x7669_6265_6e6d_6967;

/// The tables of the web app's schema.
pub(crate) const APP_TABLES: [&str; 2] = ["users", "oauth_connections"];

/// Applied and pending migrations, by version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Versions recorded as applied, oldest first.
    pub applied: Vec<String>,
    /// Versions not applied yet, in the order they would run.
    pub pending: Vec<String>,
}

/// Runs `f` in one transaction that first takes the migration lock
/// (`pg_advisory_xact_lock`), released by the commit or rollback.
///
/// A transaction-scoped lock, because a session-level `pg_advisory_lock`/`unlock` pair breaks
/// behind a transaction-mode pooler (PgBouncer, Neon's `-pooler` hosts): the two statements
/// may reach different server sessions, leaving the lock held by a session nobody controls.
/// Inside this transaction Diesel runs each migration in a savepoint.
pub(crate) fn with_lock<T>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
            .execute(conn)?;
        f(conn)
    })
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

/// Whether Diesel has recorded any migration in this database.
pub(crate) fn diesel_recorded_any(conn: &mut PgConnection) -> Result<bool, DbError> {
    let table =
        diesel::sql_query("SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS exists")
            .get_result::<Exists>(conn)?;
    if !table.exists {
        return Ok(false);
    }
    Ok(
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM __diesel_schema_migrations) AS exists")
            .get_result::<Exists>(conn)?
            .exists,
    )
}

/// Which of the web app's tables exist in the `public` schema.
pub(crate) fn existing_app_tables(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    let mut found = Vec::new();
    for table in APP_TABLES {
        let exists = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name = $1) AS exists",
        )
        .bind::<diesel::sql_types::Text, _>(table)
        .get_result::<Exists>(conn)?;
        if exists.exists {
            found.push(table.to_owned());
        }
    }
    Ok(found)
}

fn migration_error(error: Box<dyn std::error::Error + Send + Sync>) -> DbError {
    match error.downcast::<diesel::result::Error>() {
        Ok(diesel_error) => match DbError::from(*diesel_error) {
            DbError::Query(e) => DbError::Migration(e.to_string()),
            other => other,
        },
        Err(other) => DbError::Migration(other.to_string()),
    }
}

/// Runs every pending migration, in one transaction (all or nothing), and returns the
/// versions it applied.
///
/// On a database where the web app's tables exist but Diesel has recorded nothing (made by
/// Drizzle), it refuses with [`DbError::NeedsAdopt`] instead of failing on "relation already
/// exists": run [`crate::adopt::adopt`] first.
pub fn run_pending(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    with_lock(conn, |conn| {
        if !diesel_recorded_any(conn)? {
            let tables = existing_app_tables(conn)?;
            if !tables.is_empty() {
                return Err(DbError::NeedsAdopt {
                    tables: tables.join(", "),
                });
            }
        }
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(migration_error)?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// The applied and pending migrations.
///
/// Read-only: it reads Diesel's bookkeeping table when there is one (where Diesel's own
/// `applied_migrations` would create it) and takes no lock, so it works on a read-only
/// connection or replica and never waits for a running migration.
pub fn status(conn: &mut PgConnection) -> Result<MigrationStatus, DbError> {
    let table =
        diesel::sql_query("SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS exists")
            .get_result::<Exists>(conn)?;
    let applied: Vec<String> = if table.exists {
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load::<Version>(conn)?
            .into_iter()
            .map(|v| v.version)
            .collect()
    } else {
        Vec::new()
    };
    let pending = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_err(|e| DbError::Migration(e.to_string()))?
        .iter()
        .map(|m| m.name().version().to_string())
        .filter(|version| !applied.contains(version))
        .collect();
    Ok(MigrationStatus { applied, pending })
}

/// Reverts the most recently applied migration and returns its version (`None` when none is
/// applied).
///
/// Reverting the initial migration drops `users` and `oauth_connections` with every row in
/// them, the web app's included: it is for development databases.
pub fn revert_last(conn: &mut PgConnection) -> Result<Option<String>, DbError> {
    with_lock(conn, |conn| {
        if !diesel_recorded_any(conn)? {
            return Ok(None);
        }
        let version = conn
            .revert_last_migration(MIGRATIONS)
            .map_err(migration_error)?;
        Ok(Some(version.to_string()))
    })
}

/// Reverts every applied migration, newest first, and returns their versions.
pub fn revert_all(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    let mut reverted = Vec::new();
    while let Some(version) = revert_last(conn)? {
        reverted.push(version);
    }
    Ok(reverted)
}
