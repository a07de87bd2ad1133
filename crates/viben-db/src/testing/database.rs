//! A throwaway database per test.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::template::is_busy;
use viben_model::Chain;

use super::TestServer;
use crate::{DatabaseUrl, Pool, PoolBuilder};

/// A database of its own for one test; dropped (with `WITH (FORCE)`) when this is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: DatabaseUrl,
    admin_url: DatabaseUrl,
    pool: OnceLock<Pool>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDatabase {
    /// A new database with the migrations applied, on the process's [`TestServer`].
    ///
    /// # Panics
    /// When there is no server (see [`TestServer::get`]) or the database cannot be created.
    pub fn new() -> Self {
        let server = TestServer::get();
        let template = server.template().to_owned();
        Self::create(server.admin_url(), Some(&template))
    }

    /// A new database with nothing in it (no migrations), on the process's [`TestServer`].
    pub fn empty() -> Self {
        Self::create(TestServer::get().admin_url(), None)
    }

    /// A new empty database on the server `admin_url` names (for tests that run their own
    /// [`LocalServer`](super::LocalServer)).
    pub fn empty_on(admin_url: &DatabaseUrl) -> Self {
        Self::create(admin_url, None)
    }

    fn create(admin_url: &DatabaseUrl, template: Option<&str>) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!(
            "viben_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let sql = match template {
            Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
            None => format!("CREATE DATABASE {name}"),
        };
        let mut admin = PgConnection::establish(admin_url.expose()).unwrap_or_else(|e| {
            panic!(
                "cannot connect to the test server at {admin_url}: {}",
                admin_url.scrub(e.to_string().trim())
            )
        });
        // CREATE DATABASE ... TEMPLATE fails while another session is still leaving the
        // template (SQLSTATE 55006): retry that, and only that, a few times.
        let mut attempt = 0;
        loop {
            let Err(e) = admin.batch_execute(&sql) else {
                break;
            };
            if is_busy(&e) && attempt < 20 {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(50 * attempt));
                continue;
            }
            let text = e.to_string();
            if text.contains("permission denied to create database") {
                panic!(
                    "cannot create the test database {name}: {text}; the role in the \
                     connection string ({admin_url}) needs the CREATEDB privilege (`ALTER ROLE \
                     <role> CREATEDB`), or unset VIBEN_TEST_DATABASE_URL and DATABASE_URL to \
                     let the tests start a throwaway server"
                );
            }
            panic!("cannot create the test database {name}: {text}");
        }
        Self {
            url: admin_url.with_database(&name),
            admin_url: admin_url.clone(),
            name,
            pool: OnceLock::new(),
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its connection string.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A new connection, set up as the pool sets its connections up (UTC).
    ///
    /// # Panics
    /// When the connection fails.
    pub fn connection(&self) -> PgConnection {
        PoolBuilder::default()
            .url(&self.url)
            .connect()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot connect to test database {}: {}",
                    self.name,
                    Chain(&e)
                )
            })
    }

    /// A pool on this database (made on first use, up to 10 connections).
    ///
    /// # Panics
    /// When the pool cannot be built.
    pub fn pool(&self) -> &Pool {
        self.pool.get_or_init(|| {
            PoolBuilder::default()
                .url(&self.url)
                .build()
                .unwrap_or_else(|e| panic!("cannot build a pool on {}: {}", self.name, Chain(&e)))
        })
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        drop(self.pool.take());
        let dropped = PgConnection::establish(self.admin_url.expose())
            .map_err(|e| self.admin_url.scrub(e.to_string().trim()))
            .and_then(|mut admin| {
                admin
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        self.name
                    ))
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = dropped {
            // Not a panic: Drop may run while a failing test unwinds.
            eprintln!(
                "viben-db testing: could not drop the test database {}: {e}; drop it by hand \
                 (DROP DATABASE {} WITH (FORCE))",
                self.name, self.name
            );
        }
    }
}
