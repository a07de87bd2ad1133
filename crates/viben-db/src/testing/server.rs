//! Finding the tests' PostgreSQL server: a URL from the environment, else a throwaway one.

use std::sync::OnceLock;

use diesel::prelude::*;
use viben_model::Chain;

use super::LocalServer;
use crate::DatabaseUrl;

/// The server the tests of this process use.
#[derive(Debug)]
pub struct TestServer {
    pub(super) admin_url: DatabaseUrl,
    local: Option<LocalServer>,
    pub(super) template: OnceLock<Result<String, String>>,
}

static SERVER: OnceLock<Result<TestServer, String>> = OnceLock::new();

impl TestServer {
    /// The process's server, found or started on first use (see the module documentation).
    ///
    /// # Panics
    /// When no server can be had; the message says how to get one.
    pub fn get() -> &'static TestServer {
        match SERVER.get_or_init(Self::resolve) {
            Ok(server) => server,
            Err(why) => panic!("{why}"),
        }
    }

    fn resolve() -> Result<TestServer, String> {
        for var in ["VIBEN_TEST_DATABASE_URL", crate::DATABASE_URL] {
            if let Some(url) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
                let admin_url = DatabaseUrl::new(url);
                PgConnection::establish(admin_url.expose()).map_err(|e| {
                    format!(
                        "{var} is set to {admin_url}, but connecting failed: {}; start that \
                         server, fix the variable, or unset it to let the tests start a \
                         throwaway server from the installed PostgreSQL binaries",
                        admin_url.scrub(e.to_string().trim())
                    )
                })?;
                return Ok(TestServer {
                    admin_url,
                    local: None,
                    template: OnceLock::new(),
                });
            }
        }
        let local = LocalServer::start_watched().map_err(|why| {
            format!(
                "no PostgreSQL server for the tests: VIBEN_TEST_DATABASE_URL and DATABASE_URL \
                 are unset, and a throwaway server could not be started ({}); install \
                 PostgreSQL's server binaries (Debian and Ubuntu: `apt-get install postgresql`, \
                 which also creates the postgres OS user needed when running as root; macOS: \
                 `brew install postgresql`), or set VIBEN_TEST_DATABASE_URL to a server where \
                 this user may create databases",
                Chain(&why)
            )
        })?;
        Ok(TestServer {
            admin_url: local.url(),
            local: Some(local),
            template: OnceLock::new(),
        })
    }

    /// The administration URL (the database it names is not used by tests).
    pub fn admin_url(&self) -> &DatabaseUrl {
        &self.admin_url
    }

    /// The throwaway server, when this process started one.
    pub fn local(&self) -> Option<&LocalServer> {
        self.local.as_ref()
    }

    pub(super) fn admin(&self) -> PgConnection {
        PgConnection::establish(self.admin_url.expose()).unwrap_or_else(|e| {
            panic!(
                "cannot connect to the test server at {}: {}",
                self.admin_url,
                self.admin_url.scrub(e.to_string().trim())
            )
        })
    }
}
