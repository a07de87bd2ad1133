//! Test support (feature `testing`): a PostgreSQL server, and a fresh migrated database per test.
//!
//! ```no_run
//! # // no_run: needs PostgreSQL's binaries or a server.
//! use viben_db::testing::TestDatabase;
//! let db = TestDatabase::new(); // its own database, migrations applied
//! let mut conn = db.connection();
//! assert_eq!(viben_db::users::count(&mut conn)?, 0);
//! # Ok::<(), viben_db::DbError>(())
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

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use crate::{DatabaseUrl, DbError, Pool, PoolBuilder, migrate};

/// The environment variable naming the folder that holds PostgreSQL's server binaries
/// (`initdb`, `pg_ctl`). When set, it is the only folder searched: pointing it at an empty
/// folder shows what a machine without PostgreSQL sees.
pub const PG_BINDIR: &str = "VIBEN_PG_BINDIR";

const TEMPLATE_LOCK_KEY: i64 = 0x7669_6265_6e74_706c; // "vibentpl"

/// The server the tests of this process use.
#[derive(Debug)]
pub struct TestServer {
    admin_url: DatabaseUrl,
    local: Option<LocalServer>,
    template: OnceLock<Result<String, String>>,
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
                 are unset, and a throwaway server could not be started ({why}); install \
                 PostgreSQL's server binaries (Debian and Ubuntu: `apt-get install postgresql`, \
                 which also creates the postgres OS user needed when running as root; macOS: \
                 `brew install postgresql`), or set VIBEN_TEST_DATABASE_URL to a server where \
                 this user may create databases"
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

    fn admin(&self) -> PgConnection {
        PgConnection::establish(self.admin_url.expose()).unwrap_or_else(|e| {
            panic!(
                "cannot connect to the test server at {}: {}",
                self.admin_url,
                self.admin_url.scrub(e.to_string().trim())
            )
        })
    }

    /// The migrated template database, made on first use.
    fn template(&self) -> &str {
        let made = self.template.get_or_init(|| {
            let name = format!("viben_template_{}", env!("VIBEN_MIGRATIONS_HASH"));
            let mut admin = self.admin();
            let run = |admin: &mut PgConnection| -> Result<(), String> {
                let fail = |e: DbError| format!("making the template database {name}: {e}");
                if database_exists(admin, &name).map_err(fail)? {
                    return Ok(());
                }
                let building = format!("{name}_building_{}", std::process::id());
                for sql in [
                    format!("DROP DATABASE IF EXISTS {building}"),
                    format!("CREATE DATABASE {building}"),
                ] {
                    admin.batch_execute(&sql).map_err(|e| fail(e.into()))?;
                }
                {
                    let url = self.admin_url.with_database(&building);
                    let mut conn = PgConnection::establish(url.expose())
                        .map_err(|e| format!("connecting to {building}: {e}"))?;
                    migrate::run_pending(&mut conn).map_err(fail)?;
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
                    Err(e) => Err(fail(e.into())),
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

fn database_exists(conn: &mut PgConnection, name: &str) -> Result<bool, DbError> {
    Ok(
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(name)
            .get_result::<Exists>(conn)?
            .exists,
    )
}

/// Whether an error is PostgreSQL's SQLSTATE 55006 ("... is being accessed by other users"):
/// a session is still leaving the database, so trying again shortly can succeed.
fn is_busy(error: &diesel::result::Error) -> bool {
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
fn stale_templates(conn: &mut PgConnection, keep: &str) -> Result<Vec<String>, DbError> {
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
    /// [`LocalServer`]).
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
            .url(self.url.expose())
            .connect()
            .unwrap_or_else(|e| panic!("cannot connect to test database {}: {e}", self.name))
    }

    /// A pool on this database (made on first use, up to 10 connections).
    ///
    /// # Panics
    /// When the pool cannot be built.
    pub fn pool(&self) -> &Pool {
        self.pool.get_or_init(|| {
            PoolBuilder::default()
                .url(self.url.expose())
                .build()
                .unwrap_or_else(|e| panic!("cannot build a pool on {}: {e}", self.name))
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

/// A PostgreSQL server this process started from the installed binaries, in a temporary
/// folder; stopped and removed when dropped (and by a watchdog when the process exits).
#[derive(Debug)]
pub struct LocalServer {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

impl LocalServer {
    /// Starts a new server (initdb, then pg_ctl start) on a free port.
    pub fn start() -> Result<Self, String> {
        let bin = find_bin_dir()?;
        let as_postgres_user = running_as_root();
        // As root, under /tmp: the postgres user must be able to reach the folder, and TMPDIR
        // may point somewhere only root can enter.
        let parent = if as_postgres_user && Path::new("/tmp").is_dir() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("viben-pg-")
            .tempdir_in(parent)
            .map_err(|e| format!("cannot make a temporary folder: {e}"))?
            .keep();
        let server = Self {
            dir,
            bin,
            port: 0,
            as_postgres_user,
        };
        server.init()?;
        server.started()
    }

    /// [`LocalServer::start`], plus the watchdog that stops the server when this process exits
    /// (for servers kept in statics, which are never dropped).
    pub fn start_watched() -> Result<Self, String> {
        let server = Self::start()?;
        server.spawn_watchdog()?;
        Ok(server)
    }

    fn init(&self) -> Result<(), String> {
        if self.as_postgres_user {
            let uid = id_of("-u")?;
            let gid = id_of("-g")?;
            std::os::unix::fs::chown(&self.dir, Some(uid), Some(gid)).map_err(|e| {
                format!(
                    "cannot give {} to the postgres user: {e}",
                    self.dir.display()
                )
            })?;
        }
        let data = self.data_dir();
        self.run(
            "initdb",
            &[
                "-D",
                path_str(&data)?,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )
        .map(|_| ())
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres_user {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let output = self
            .command(program)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "{program} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    fn pg_ctl_start(&self, port: u16) -> Result<(), String> {
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            path_str(&self.dir)?
        );
        let log = self.dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data_dir())?,
                "-l",
                path_str(&log)?,
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        .map(|_| ())
    }

    fn spawn_watchdog(&self) -> Result<(), String> {
        use std::os::unix::process::CommandExt;
        let run_as = if self.as_postgres_user {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {run_as}'{pg_ctl}' -D '{data}' stop -m immediate >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            pg_ctl = self.bin.join("pg_ctl").display(),
            data = self.data_dir().display(),
            dir = self.dir.display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map(|_| ())
            .map_err(|e| format!("cannot start the watchdog: {e}"))
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> DatabaseUrl {
        DatabaseUrl::new(format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.port
        ))
    }

    /// Stops the server (`pg_ctl stop -m fast`: open connections are cut).
    pub fn stop(&self) -> Result<(), String> {
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&self.data_dir())?,
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        )
        .map(|_| ())
    }

    /// Starts the stopped server again on the same port.
    pub fn restart(&self) -> Result<(), String> {
        self.pg_ctl_start(self.port)
    }
}

impl LocalServer {
    fn started(mut self) -> Result<Self, String> {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            match self.pg_ctl_start(port) {
                Ok(()) => {
                    self.port = port;
                    return Ok(self);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Ok(data) = path_str(&self.data_dir()) {
            let _ = self.run("pg_ctl", &["-D", data, "-m", "immediate", "-w", "stop"]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn id_of(flag: &str) -> Result<u32, String> {
    let output = Command::new("id")
        .args([flag, "postgres"])
        .output()
        .map_err(|e| format!("cannot run id: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            "running as root, and there is no postgres OS user to run PostgreSQL as (PostgreSQL \
             refuses root); create one (`useradd -r postgres`) or run the tests as another user"
                .to_owned()
        })
}

/// The folder holding `initdb` and `pg_ctl`.
fn find_bin_dir() -> Result<PathBuf, String> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os(PG_BINDIR) {
        let dir = PathBuf::from(dir);
        return if has_tools(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "PostgreSQL's server binaries (initdb and pg_ctl) were not found in {}, the \
                 folder {PG_BINDIR} names",
                dir.display()
            ))
        };
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_tools(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|dir| has_tools(dir))
        .ok_or_else(|| {
            "PostgreSQL's server binaries (initdb and pg_ctl) were not found (looked in \
             `pg_config --bindir`, /usr/lib/postgresql/*/bin and PATH)"
                .to_owned()
        })
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
