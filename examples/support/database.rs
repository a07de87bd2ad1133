//! Where an example's database comes from (shared by the examples that use one).

use viben::db::testing::LocalServer;
use viben::db::{ConnectError, DatabaseUrl};

/// The database an example works on, and the throwaway server behind it when there is one.
pub(crate) struct ExampleDatabase {
    pub(crate) url: DatabaseUrl,
    /// Kept so the throwaway server stops (and its folder is removed) when the example ends.
    _server: Option<LocalServer>,
}

/// `POSTGRES_URL` or `DATABASE_URL` when set, else a throwaway local server started from the
/// installed PostgreSQL binaries. Says which it uses; when there is neither, the error says in
/// plain words what the database half needs and how to get it.
pub(crate) fn database() -> Result<ExampleDatabase, String> {
    match DatabaseUrl::from_env() {
        Ok(url) => {
            println!("database: {url} (from POSTGRES_URL / DATABASE_URL)");
            Ok(ExampleDatabase { url, _server: None })
        }
        Err(ConnectError::MissingUrl) => {
            let server = LocalServer::start().map_err(|why| {
                format!(
                    "the database half needs PostgreSQL, and there is none: POSTGRES_URL and \
                     DATABASE_URL are unset, and a throwaway server could not be started \
                     ({}).\nTo run it, either install PostgreSQL's server binaries (Debian \
                     and Ubuntu: `sudo apt-get install postgresql`; Fedora: `sudo dnf install \
                     postgresql-server`; macOS: `brew install postgresql`), or set POSTGRES_URL \
                     to a server you may use, e.g. \
                     POSTGRES_URL=postgres://user:password@localhost:5432/viben",
                    viben::model::Chain(&why)
                )
            })?;
            let url = server.url();
            println!(
                "database: a throwaway server at {url} (POSTGRES_URL and DATABASE_URL are unset)"
            );
            Ok(ExampleDatabase {
                url,
                _server: Some(server),
            })
        }
        Err(other) => Err(viben::model::Report(&other).to_string()),
    }
}
