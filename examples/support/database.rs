//! Where an example's database comes from (shared by the examples that use one).

use viben::db::testing::LocalServer;
use viben::db::{DatabaseUrl, DbError};

/// The database an example works on, and the throwaway server behind it when there is one.
pub(crate) struct ExampleDatabase {
    pub(crate) url: DatabaseUrl,
    /// Kept so the throwaway server stops (and its folder is removed) when the example ends.
    _server: Option<LocalServer>,
}

/// `POSTGRES_URL` or `DATABASE_URL` when set, else a throwaway local server started from the
/// installed PostgreSQL binaries. Says which it uses.
pub(crate) fn database() -> Result<ExampleDatabase, String> {
    match DatabaseUrl::from_env() {
        Ok(url) => {
            println!("database: {url} (from POSTGRES_URL / DATABASE_URL)");
            Ok(ExampleDatabase { url, _server: None })
        }
        Err(DbError::MissingUrl) => {
            let server = LocalServer::start()?;
            let url = server.url();
            println!(
                "database: a throwaway server at {url} (POSTGRES_URL and DATABASE_URL are unset)"
            );
            Ok(ExampleDatabase {
                url,
                _server: Some(server),
            })
        }
        Err(other) => Err(other.to_string()),
    }
}
