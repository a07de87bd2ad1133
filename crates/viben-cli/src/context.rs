//! Where the command finds the store and the database: flags first, then the environment.

use std::path::PathBuf;
use std::time::Duration;

use viben_db::PgConnection;
use viben_store::Store;

use crate::failure::Failure;

/// The global options, resolved lazily so a store command never needs a database URL.
pub(crate) struct Context {
    home: Option<PathBuf>,
    database_url: Option<String>,
}

impl Context {
    pub(crate) fn new(home: Option<PathBuf>, database_url: Option<String>) -> Self {
        Self { home, database_url }
    }

    /// Opens the store: `--home`, else `VIBEN_HOME`, else `~/.viben`. Nothing is created:
    /// a command that only reads leaves the disk as it was (a missing store reads as empty),
    /// and a command that writes creates the folders it writes into.
    pub(crate) fn store(&self) -> Result<Store, Failure> {
        let store = match &self.home {
            Some(home) => Store::open(home)?,
            None => Store::open_default()?,
        };
        Ok(store)
    }

    /// Whether a database URL was given: `--database-url`, `POSTGRES_URL` or `DATABASE_URL`.
    pub(crate) fn has_database_url(&self) -> bool {
        self.database_url.is_some() || viben_db::DatabaseUrl::from_env().is_ok()
    }

    /// A pool for a long-running command (the studio): like [`Context::connect`], the first
    /// connection is opened now, so a wrong URL is reported at once; later, while the server
    /// is away, each request fails on its own and the next one connects again.
    pub(crate) fn pool(&self) -> Result<viben_db::Pool, Failure> {
        let mut builder = viben_db::Pool::builder()
            .connect_timeout(Duration::from_secs(5))
            .wait_for_server(Duration::ZERO);
        if let Some(url) = &self.database_url {
            builder = builder.url(url.clone());
        }
        Ok(builder.build()?)
    }

    /// One connection to the database: `--database-url`, else `POSTGRES_URL`, else
    /// `DATABASE_URL`. An unreachable server fails within the connect timeout; a server that
    /// refuses connections is reported at once rather than waited for (a command typed at a
    /// terminal answers now; run it again when the server is up).
    pub(crate) fn connect(&self) -> Result<PgConnection, Failure> {
        let mut builder = viben_db::Pool::builder()
            .connect_timeout(Duration::from_secs(5))
            .wait_for_server(Duration::ZERO);
        if let Some(url) = &self.database_url {
            builder = builder.url(url.clone());
        }
        builder.connect().map_err(connect_failure)
    }

    /// The connection string: `--database-url`, else `POSTGRES_URL`, else `DATABASE_URL`.
    pub(crate) fn database_url(&self) -> Result<viben_db::DatabaseUrl, Failure> {
        match &self.database_url {
            Some(url) => Ok(viben_db::DatabaseUrl::new(url.clone())),
            None => viben_db::DatabaseUrl::from_env().map_err(connect_failure),
        }
    }
}

fn connect_failure(err: viben_db::ConnectError) -> Failure {
    match err {
        viben_db::ConnectError::MissingUrl => Failure::with_hint(
            "no database connection string",
            "pass --database-url URL, or set POSTGRES_URL or DATABASE_URL \
             (postgres://user:password@host:5432/db)",
        ),
        other => other.into(),
    }
}
