//! Test support (feature `testing`): a PostgreSQL server, and a fresh migrated database per test.
//!
//! ```no_run
//! # // no_run: needs PostgreSQL's binaries or a server.
//! use viben_db::testing::TestDatabase;
//! let db = TestDatabase::new(); // its own database, migrations applied
//! let mut conn = db.connection();
//! assert_eq!(viben_db::users::count(&mut conn)?, 0);
//! # Ok::<(), viben_db::QueryError>(())
//! ```
//!
//! ## The server
//!
//! One per test process, found in this order:
//! 1. `VIBEN_TEST_DATABASE_URL`, else `DATABASE_URL`: a server where the user may create
//!    databases (the database the URL names is used for administration only);
//! 2. else a throwaway server started from the installed PostgreSQL binaries (`initdb`,
//!    `pg_ctl`: in the folder [`PG_BINDIR`] names when it is set, else found with
//!    `pg_config --bindir`, in `/usr/lib/postgresql/*/bin`, or on `PATH`)
//!    in a temporary folder, on a free port on 127.0.0.1, with `fsync=off`. When the tests run
//!    as root it runs as the `postgres` OS user (PostgreSQL refuses root), through `runuser`.
//!
//! Rust does not drop statics, so the throwaway server is stopped by a watchdog: a small
//! `sh` loop, in its own process group, that waits for the test process to exit and then runs
//! `pg_ctl stop -m immediate` and removes the folder. If no server can be had, the first test
//! panics with a message saying how to get one; tests are never skipped.
//!
//! ## A pooler, TLS, a cold start
//!
//! [`PgBouncer`] starts a PgBouncer in transaction mode in front of a server;
//! [`LocalServer::start_with`] starts a server with settings of its own (`ssl=on`, with
//! [`LocalServer::install_file`] for the certificate and key), and [`LocalServer::create`]
//! makes one that starts only when told.
//!
//! ## The databases
//!
//! [`TestDatabase::new`] creates a uniquely named database with
//! `CREATE DATABASE ... TEMPLATE viben_template_<hash>`, where the template already has the
//! migrations applied and `<hash>` is a hash of the migrations' `up.sql` and `down.sql` files
//! (so a changed migration gets a new template). The template is made once per server, under
//! an advisory lock so parallel test processes do not race; after making one, the other
//! `viben_template_*` databases (older migrations) are dropped, best effort (one in use is
//! left; a test process still running on older migrations on the same server then fails to
//! create its next database and says so). Dropping the [`TestDatabase`] drops the
//! database (`WITH (FORCE)`), so tests run in parallel and never see each other's rows.

mod database;
mod local;
mod pgbouncer;
mod server;
mod template;

pub use database::TestDatabase;
pub use local::{LocalServer, LocalServerError, PG_BINDIR};
pub use pgbouncer::PgBouncer;
pub use server::TestServer;
