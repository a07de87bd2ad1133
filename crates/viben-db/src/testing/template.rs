//! The migrated template database every [`super::TestDatabase`] is copied from.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use viben_model::Chain;

use super::TestServer;
use crate::{QueryError, migrate};

const TEMPLATE_LOCK_KEY: i64 = 0x7669_6265_6e74_706c; // "vibentpl"

impl TestServer {
    /// The migrated template database, made on first use.
    pub(super) fn template(&self) -> &str {
        let made = self.template.get_or_init(|| {
            let name = format!("viben_template_{}", env!("VIBEN_MIGRATIONS_HASH"));
            let mut admin = self.admin();
            let run = |admin: &mut PgConnection| -> Result<(), String> {
                let fail = |e: &dyn std::error::Error| {
                    format!("making the template database {name}: {}", Chain(e))
                };
                if database_exists(admin, &name).map_err(|e| fail(&e))? {
                    return Ok(());
                }
                let building = format!("{name}_building_{}", std::process::id());
                for sql in [
                    format!("DROP DATABASE IF EXISTS {building}"),
                    format!("CREATE DATABASE {building}"),
                ] {
                    admin.batch_execute(&sql).map_err(|e| fail(&e))?;
                }
                {
                    let url = self.admin_url.with_database(&building);
                    let mut conn = PgConnection::establish(url.expose())
                        .map_err(|e| format!("connecting to {building}: {e}"))?;
                    migrate::run_pending(&mut conn).map_err(|e| fail(&e))?;
                }
                // The migrating session may still be leaving the server: retry while it is.
                let rename = format!("ALTER DATABASE {building} RENAME TO {name}");
                let mut result = admin.batch_execute(&rename);
                for attempt in 1..20 {
                    match &result {
                        Err(e) if is_busy(e) => {
                            std::thread::sleep(std::time::Duration::from_millis(50 * attempt));
                            result = admin.batch_execute(&rename);
                        }
                        _ => break,
                    }
                }
                match result {
                    Ok(()) => {
                        drop_stale_templates(admin, &name);
                        Ok(())
                    }
                    // Another process made it first (one not holding the lock): use theirs.
                    Err(e) if e.to_string().contains("already exists") => {
                        if let Err(e) = admin.batch_execute(&format!(
                            "DROP DATABASE IF EXISTS {building} WITH (FORCE)"
                        )) {
                            eprintln!("viben-db testing: could not drop {building}: {e}");
                        }
                        Ok(())
                    }
                    Err(e) => Err(fail(&e)),
                }
            };
            with_advisory_lock(&mut admin, TEMPLATE_LOCK_KEY, run).map(|()| name.clone())
        });
        match made {
            Ok(name) => name,
            Err(why) => panic!("{why}"),
        }
    }
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

fn database_exists(conn: &mut PgConnection, name: &str) -> Result<bool, QueryError> {
    Ok(
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(name)
            .get_result::<Exists>(conn)?
            .exists,
    )
}

/// Whether an error is PostgreSQL's SQLSTATE 55006 ("... is being accessed by other users"):
/// a session is still leaving the database, so trying again shortly can succeed.
pub(super) fn is_busy(error: &diesel::result::Error) -> bool {
    error
        .to_string()
        .contains("is being accessed by other users")
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    datname: String,
}

/// Template databases other than `keep` (older migrations, or a build a crashed process left).
fn stale_templates(conn: &mut PgConnection, keep: &str) -> Result<Vec<String>, QueryError> {
    Ok(diesel::sql_query(
        "SELECT datname::text AS datname FROM pg_database \
         WHERE datname LIKE 'viben\\_template\\_%' AND datname <> $1 ORDER BY 1",
    )
    .bind::<Text, _>(keep)
    .load::<Name>(conn)?
    .into_iter()
    .map(|n| n.datname)
    .collect())
}

/// Drops the [`stale_templates`], best effort: one still in use (a test process on older
/// migrations) is left, and failures are ignored.
fn drop_stale_templates(conn: &mut PgConnection, keep: &str) {
    for name in stale_templates(conn, keep).unwrap_or_default() {
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""));
    }
}

fn with_advisory_lock<T>(
    conn: &mut PgConnection,
    key: i64,
    f: impl FnOnce(&mut PgConnection) -> Result<T, String>,
) -> Result<T, String> {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(key)
        .execute(conn)
        .map_err(|e| format!("taking the template lock: {e}"))?;
    let result = f(conn);
    let _ = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(key)
        .execute(conn);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_of_other_migrations_are_found_stale() {
        let server = TestServer::get();
        let current = server.template().to_owned();
        let mut admin = server.admin();
        let old = format!("viben_template_{:016x}", std::process::id());
        admin
            .batch_execute(&format!("CREATE DATABASE {old}"))
            .expect("creating an old template");
        let stale = stale_templates(&mut admin, &current);
        // Only this test's database is dropped here: others may belong to other test runs.
        admin
            .batch_execute(&format!("DROP DATABASE {old}"))
            .expect("dropping the old template");
        let stale = stale.expect("listing stale templates");
        assert!(stale.contains(&old), "{stale:?}");
        assert!(!stale.contains(&current), "{stale:?}");
    }
}
