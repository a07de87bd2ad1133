//! The r2d2 connection pool: UTC sessions, timeouts, cheap health checks, pooler support.
//!
//! ## Health checks
//!
//! r2d2's default `test_on_check_out` sends `SELECT 1` before every checkout, a full round trip
//! that doubles the latency of a one-query request. This pool keeps broken connections out
//! in two cheaper ways instead:
//!
//! - every connection carries a small Diesel instrumentation that notes when its last statement
//!   finished and whether it failed because the connection was lost; r2d2 asks
//!   `has_broken` when a connection is returned, and a lost one is dropped there, so a
//!   connection broken by a server restart fails one statement at most;
//! - on checkout, only a connection idle for longer than
//!   [`PoolBuilder::health_check_after`] (5 s by default) is pinged with `SELECT 1`; a busy
//!   connection is handed out without a round trip.
//!
//! A connection whose instrumentation was replaced (`set_instrumentation`) cannot be tracked,
//! so it is pinged on every checkout instead: correct, only slower.
//!
//! Measured figures are in `docs/performance.md`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::connection::{CacheSize, Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection, PgConnection};

use crate::{ConnectError, DatabaseUrl};

/// A pooled connection; it derefs to [`PgConnection`], so `&mut conn` goes wherever a
/// `&mut PgConnection` is expected.
pub type PooledConnection = r2d2::PooledConnection<PgManager>;

/// The r2d2 connection manager: opens connections set up the way viben-db needs them (UTC,
/// statement timeout, statement cache) and decides which ones are healthy. Use it through
/// [`Pool`], or [`PoolBuilder::connect`] for one connection without a pool.
#[derive(Debug, Clone)]
pub struct PgManager {
    settings: Arc<Settings>,
}

#[derive(Debug)]
struct Settings {
    url: DatabaseUrl,
    connect_url: DatabaseUrl,
    statement_timeout: Option<Duration>,
    transaction_pooler: bool,
    health_check_after: Duration,
    /// How long opening a connection keeps trying a server that is not up yet.
    wait_for_server: Duration,
    /// The last error met while opening a connection, for [`ConnectError::PoolTimeout`] (r2d2
    /// keeps only its text).
    last_error: Mutex<Option<ConnectError>>,
}

/// Notes, per connection, when its last statement finished and whether the connection was lost;
/// passes every event on to Diesel's default instrumentation, if the program set one.
struct Health {
    epoch: Instant,
    last_used_ms: u64,
    lost: bool,
    statements: crate::trace::Statements,
    /// The pool's statement timeout, for [`transaction`]'s `SET LOCAL`.
    statement_timeout: Option<Duration>,
    inner: Option<Box<dyn Instrumentation>>,
}

impl Instrumentation for Health {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        self.statements.on_event(&event);
        if let InstrumentationEvent::FinishQuery { error, .. } = &event {
            let elapsed = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.last_used_ms = elapsed;
            if let Some(DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )) = error
            {
                if !self.lost {
                    tracing::warn!(target: "viben_db::connection", "connection lost");
                }
                self.lost = true;
            }
        }
        if let Some(inner) = &mut self.inner {
            inner.on_connection_event(event);
        }
    }
}

impl Health {
    fn of(conn: &mut PgConnection) -> Option<&mut Health> {
        conn.instrumentation().downcast_mut::<Health>()
    }
}

impl PgManager {
    /// Opens a connection set up for viben-db, trying again with backoff while the server is
    /// not up yet (refused, starting up) and the connect deadline allows; notes the last
    /// error for [`ConnectError::PoolTimeout`].
    fn establish(&self) -> Result<PgConnection, ConnectError> {
        let started = Instant::now();
        let deadline = started + self.settings.wait_for_server;
        let mut pause = Duration::from_millis(25);
        let opened = loop {
            let opened = self.open();
            match &opened {
                Err(e) if is_transient(e) && Instant::now() + pause < deadline => {
                    tracing::debug!(
                        target: "viben_db::connection",
                        url = %self.settings.url,
                        error = %viben_model::Report(e),
                        "the server is not up yet; trying again"
                    );
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                _ => break opened,
            }
        };
        let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &opened {
            Ok(_) => tracing::info!(
                target: "viben_db::connection",
                url = %self.settings.url,
                millis,
                "connection opened"
            ),
            Err(error) => tracing::warn!(
                target: "viben_db::connection",
                url = %self.settings.url,
                millis,
                error = %viben_model::Report(error),
                "connecting failed"
            ),
        }
        // The last attempt's error, or none after a success (as r2d2 keeps it).
        *self
            .settings
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = opened.as_ref().err().cloned();
        opened
    }

    fn open(&self) -> Result<PgConnection, ConnectError> {
        let s = &self.settings;
        let mut conn = PgConnection::establish(s.connect_url.expose())
            .map_err(|e| connect_error(&s.url, e))?;
        if s.transaction_pooler {
            conn.set_prepared_statement_cache_size(CacheSize::Disabled);
        }
        // Behind a transaction pooler a session `SET statement_timeout` would land on whichever
        // server connection runs it and stay there for other clients: [`transaction`] sets it
        // per transaction instead. `TimeZone` is one of the parameters PgBouncer keeps per
        // client, and no query of viben-db depends on it.
        let mut setup = String::from("SET TIME ZONE 'UTC'");
        if let Some(timeout) = s.statement_timeout.filter(|_| !s.transaction_pooler) {
            setup.push_str(&format!(
                "; SET statement_timeout = {}",
                timeout.as_millis()
            ));
        }
        conn.batch_execute(&setup).map_err(|e| {
            ConnectError::connect(
                &s.url,
                diesel::ConnectionError::CouldntSetupConfiguration(e),
            )
        })?;
        conn.set_instrumentation(Health {
            epoch: Instant::now(),
            last_used_ms: 0,
            lost: false,
            statements: crate::trace::Statements::default(),
            statement_timeout: s.statement_timeout,
            inner: diesel::connection::get_default_instrumentation(),
        });
        Ok(conn)
    }
}

/// Fragments of libpq's messages for a server that is not accepting connections yet, or any
/// more for a moment: nothing listening, a server starting up or restarting (SQLSTATE 57P03,
/// whose text is the server's own: an English server is assumed, as Diesel passes libpq's
/// connect errors on as text only).
const TRANSIENT_MESSAGES: &[&str] = &[
    "Connection refused",
    "Connection reset",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "server closed the connection unexpectedly",
];

/// Whether connecting again shortly may succeed (a cold start): a server not up yet, as
/// opposed to a refused password, a missing database or a certificate that does not verify.
fn is_transient(error: &ConnectError) -> bool {
    match error {
        ConnectError::Connect { source, .. } => match source.as_ref() {
            diesel::ConnectionError::BadConnection(message) => {
                TRANSIENT_MESSAGES.iter().any(|m| message.contains(m))
                    // A Unix socket not there yet (not a missing certificate file).
                    || (message.contains("on socket")
                        && message.contains("No such file or directory"))
            }
            _ => false,
        },
        _ => false,
    }
}

/// Runs `f` in a transaction that sets viben-db's session settings for itself:
/// `SET LOCAL TIME ZONE 'UTC'` and, on a connection from a [`Pool`] with a statement timeout,
/// `SET LOCAL statement_timeout`, sent with `BEGIN` in one round trip. Commits when `f`
/// returns `Ok`, rolls back when it returns `Err` (or panics: the pool then drops the
/// connection).
///
/// Behind a transaction-mode pooler (PgBouncer, Neon's `-pooler` hosts) each transaction may
/// run on another server connection, which another client may have left with its own
/// `SET statement_timeout`; only a setting made inside the transaction is sure to hold there,
/// so do the work that needs the timeout in here. On a direct connection the pool's session
/// settings hold anyway, and this is Diesel's `transaction` with the settings repeated. Inside
/// a transaction already open, it is Diesel's `transaction` (a savepoint).
///
/// ```no_run
/// # fn get(pool: &viben_db::Pool) -> Result<(), Box<dyn std::error::Error>> {
/// let mut conn = pool.get()?;
/// let user = viben_db::transaction(&mut conn, |conn| viben_db::users::get_by_id(conn, "u1"))?;
/// # Ok(()) }
/// ```
pub fn transaction<T, E>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DieselError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let depth = AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(E::from)?;
    if depth.is_some() {
        return conn.transaction(f);
    }
    let timeout = Health::of(conn).and_then(|h| h.statement_timeout);
    AnsiTransactionManager::begin_transaction_sql(conn, &begin_sql(timeout))?;
    match f(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            // A failed rollback leaves the transaction manager broken, and the pool drops the
            // connection; `f`'s error is the one to report.
            let _ = AnsiTransactionManager::rollback_transaction(conn);
            Err(error)
        }
    }
}

/// `BEGIN` and the `SET LOCAL`s of [`transaction`], as one batch.
fn begin_sql(statement_timeout: Option<Duration>) -> String {
    let mut sql = String::from("BEGIN; SET LOCAL TIME ZONE 'UTC'");
    if let Some(timeout) = statement_timeout {
        sql.push_str(&format!(
            "; SET LOCAL statement_timeout = {}",
            timeout.as_millis()
        ));
    }
    sql
}

/// Fragments of libpq's messages about the connection string itself (not about the server).
/// Several quote the string or the token they choke on, so none of them is shown; the
/// string is checked before libpq sees it ([`DatabaseUrl::validate`]), so these are a second
/// line of defence.
const CONNINFO_MESSAGES: &[&str] = &[
    "connection info string",
    "connection option",
    "in URI",
    "URI query parameter",
    "percent-encoded",
    "invalid port number",
    " value: \"",
    "hostaddr",
    "could not parse network address",
    "internal parser",
    "unexpected spaces",
    "service file",
    "definition of service",
];

/// The error for a failed `PQconnectdb`: Diesel's error, with any password scrubbed from
/// libpq's text, or, for a message about the string itself, none of it.
///
/// libpq's messages about connecting are client-side and English. Matching their text here
/// is a safety net that keeps a quoted password out of the message, not a classification.
fn connect_error(url: &DatabaseUrl, error: diesel::ConnectionError) -> ConnectError {
    let source = match error {
        diesel::ConnectionError::BadConnection(message) => message,
        diesel::ConnectionError::InvalidConnectionUrl(message) => message,
        other => {
            return ConnectError::connect(url, other);
        }
    };
    let message = source.trim();
    if CONNINFO_MESSAGES.iter().any(|m| message.contains(m)) {
        return ConnectError::InvalidUrl {
            origin: "the connection string".to_owned(),
            problem: "libpq refused it (its message is not shown, as it may quote the \
                      password)"
                .to_owned(),
            fix: "check it against libpq's format, as in \
                  postgres://user:password@localhost:5432/viben, percent-encoding any '@', \
                  ':', '/', '?', '#', '%' or space in the user name and password"
                .to_owned(),
        };
    }
    ConnectError::connect(
        url,
        diesel::ConnectionError::BadConnection(url.scrub(message)),
    )
}

impl r2d2::ManageConnection for PgManager {
    type Connection = PgConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<PgConnection, ConnectError> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), ConnectError> {
        let after = self.settings.health_check_after;
        let idle = Health::of(conn).map(|h| {
            let now = u64::try_from(h.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
            Duration::from_millis(now.saturating_sub(h.last_used_ms))
        });
        match idle {
            Some(idle) if idle < after => Ok(()),
            _ => conn.batch_execute("SELECT 1").map_err(|e| {
                ConnectError::connect(
                    &self.settings.url,
                    diesel::ConnectionError::CouldntSetupConfiguration(e),
                )
            }),
        }
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        use diesel::connection::TransactionManager;
        let lost = Health::of(conn).is_some_and(|h| h.lost);
        let broken = lost
            || std::thread::panicking()
            || <PgConnection as Connection>::TransactionManager::is_broken_transaction_manager(
                conn,
            );
        if broken {
            tracing::info!(
                target: "viben_db::connection",
                lost,
                "connection dropped from the pool; a new one replaces it when needed"
            );
        }
        broken
    }
}

/// A pool of PostgreSQL connections; cheap to clone (clones share the connections).
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<PgManager>,
    settings: Arc<Settings>,
    checkout_timeout: Duration,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.state();
        f.debug_struct("Pool")
            .field("url", &self.settings.url)
            .field("connections", &state.connections)
            .field("idle_connections", &state.idle_connections)
            .finish()
    }
}

impl Pool {
    /// A builder with the defaults; see [`PoolBuilder`].
    pub fn builder() -> PoolBuilder {
        PoolBuilder::default()
    }

    /// A pool with the defaults, on the server `POSTGRES_URL` (else `DATABASE_URL`) names.
    pub fn from_env() -> Result<Self, ConnectError> {
        PoolBuilder::default().build()
    }

    /// A connection from the pool, waiting up to the checkout timeout.
    pub fn get(&self) -> Result<PooledConnection, ConnectError> {
        let started = Instant::now();
        let got = self.inner.get();
        let wait_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        match &got {
            Ok(_) => tracing::debug!(target: "viben_db::pool", wait_micros, "checkout"),
            Err(_) => tracing::warn!(
                target: "viben_db::pool",
                wait_micros,
                timeout_ms = u64::try_from(self.checkout_timeout.as_millis()).unwrap_or(u64::MAX),
                "checkout timed out"
            ),
        }
        got.map_err(|_| ConnectError::PoolTimeout {
            timeout: self.checkout_timeout,
            last_error: self
                .settings
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
                .map(Box::new),
        })
    }

    /// How many connections the pool holds, and how many are idle.
    pub fn state(&self) -> (u32, u32) {
        let state = self.inner.state();
        (state.connections, state.idle_connections)
    }

    /// The connection string (its `Display` hides the password).
    pub fn url(&self) -> &DatabaseUrl {
        &self.settings.url
    }
}

/// Settings for a [`Pool`].
///
/// ```no_run
/// use std::time::Duration;
/// let pool = viben_db::Pool::builder()
///     .url("postgres://viben@localhost/viben")
///     .max_size(8)
///     .connect_timeout(Duration::from_secs(3))
///     .statement_timeout(Some(Duration::from_secs(10)))
///     .build()?;
/// # Ok::<(), viben_db::ConnectError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    url: Option<DatabaseUrl>,
    max_size: u32,
    min_idle: Option<u32>,
    connect_timeout: Duration,
    checkout_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    statement_timeout: Option<Duration>,
    transaction_pooler: Option<bool>,
    health_check_after: Duration,
    wait_for_server: Option<Duration>,
}

impl Default for PoolBuilder {
    fn default() -> Self {
        Self {
            url: None,
            max_size: 10,
            min_idle: Some(0),
            connect_timeout: Duration::from_secs(5),
            checkout_timeout: None,
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            statement_timeout: Some(Duration::from_secs(30)),
            transaction_pooler: None,
            health_check_after: Duration::from_secs(5),
            wait_for_server: None,
        }
    }
}

impl PoolBuilder {
    /// The connection string; without it, `POSTGRES_URL`, else `DATABASE_URL`, is read.
    /// TLS is libpq's: put `sslmode=require` in it for Neon.
    pub fn url(mut self, url: impl Into<DatabaseUrl>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The most connections the pool opens (default 10).
    pub fn max_size(mut self, max_size: u32) -> Self {
        self.max_size = max_size;
        self
    }

    /// How many idle connections the pool keeps open (default 0: opened on demand).
    pub fn min_idle(mut self, min_idle: Option<u32>) -> Self {
        self.min_idle = min_idle;
        self
    }

    /// How long opening one connection may take (default 5 s; libpq's `connect_timeout`, whole
    /// seconds, at least 2). Also how long a server that refuses connections or is starting up
    /// (a cold start) is tried again, unless [`wait_for_server`](Self::wait_for_server) says
    /// otherwise.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long [`Pool::get`] waits for a free connection, including the attempts to open one
    /// (default: the connect timeout, so an unreachable server fails a checkout within it).
    pub fn checkout_timeout(mut self, timeout: Duration) -> Self {
        self.checkout_timeout = Some(timeout);
        self
    }

    /// How long an idle connection is kept before it is closed (default 10 min).
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long a connection lives before it is replaced (default 30 min).
    pub fn max_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.max_lifetime = lifetime;
        self
    }

    /// The longest a statement may run before the server cancels it (default 30 s; `None`
    /// keeps the server's setting). Set per session on a direct connection; behind a
    /// transaction pooler only per transaction, inside [`transaction`](crate::transaction)
    /// (a session setting would not stay on one server connection).
    pub fn statement_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Whether the server is reached through a transaction-mode pooler (PgBouncer, Neon's
    /// `-pooler` hosts), which cannot keep named prepared statements: `true` turns off
    /// Diesel's prepared-statement cache, and the statement timeout is no longer set per
    /// session, only per transaction in [`transaction`](crate::transaction). By default it is
    /// on for hosts whose name contains `-pooler`, off otherwise.
    pub fn transaction_pooler(mut self, on: bool) -> Self {
        self.transaction_pooler = Some(on);
        self
    }

    /// How long opening a connection keeps trying, with backoff (25 ms doubling to 500 ms), a
    /// server that refuses connections or says it is starting up (a cold start, a restart):
    /// by default the connect timeout; `Duration::ZERO` reports the first failure at once.
    /// A refused password, a missing database or a certificate that does not verify are never
    /// tried again.
    pub fn wait_for_server(mut self, wait: Duration) -> Self {
        self.wait_for_server = Some(wait);
        self
    }

    /// A connection idle for longer than this is checked with `SELECT 1` before it is handed
    /// out (default 5 s); see the module documentation.
    pub fn health_check_after(mut self, idle: Duration) -> Self {
        self.health_check_after = idle;
        self
    }

    fn manager(&self) -> Result<PgManager, ConnectError> {
        let url = match &self.url {
            Some(url) => url.clone(),
            None => DatabaseUrl::from_env()?,
        };
        url.validate()?;
        let secs = self.connect_timeout.as_secs_f64().ceil().max(1.0) as u64;
        let connect_url = url.with_param("connect_timeout", &secs.to_string());
        let transaction_pooler = self
            .transaction_pooler
            .unwrap_or_else(|| url.host().contains("-pooler"));
        Ok(PgManager {
            settings: Arc::new(Settings {
                url,
                connect_url,
                statement_timeout: self.statement_timeout,
                transaction_pooler,
                health_check_after: self.health_check_after,
                wait_for_server: self.wait_for_server.unwrap_or(self.connect_timeout),
                last_error: Mutex::new(None),
            }),
        })
    }

    /// One connection with these settings, outside any pool.
    pub fn connect(&self) -> Result<PgConnection, ConnectError> {
        self.manager()?.establish()
    }

    /// Opens one connection (so a wrong URL or an unreachable server is reported now, within
    /// the connect timeout) and builds the pool around it.
    pub fn build(&self) -> Result<Pool, ConnectError> {
        let manager = self.manager()?;
        let first = manager.establish()?;
        drop(first);
        let settings = manager.settings.clone();
        // r2d2 refuses a zero timeout.
        let checkout_timeout = self
            .checkout_timeout
            .unwrap_or(self.connect_timeout)
            .max(Duration::from_millis(1));
        let inner = r2d2::Pool::builder()
            .max_size(self.max_size)
            .min_idle(self.min_idle)
            .connection_timeout(checkout_timeout)
            .idle_timeout(self.idle_timeout)
            .max_lifetime(self.max_lifetime)
            .test_on_check_out(true)
            .error_handler(Box::new(TracingErrors))
            .build_unchecked(manager);
        Ok(Pool {
            inner,
            settings,
            checkout_timeout,
        })
    }
}

/// r2d2's own errors (a connection it could not open in the background) go to `tracing`
/// rather than nowhere.
#[derive(Debug)]
struct TracingErrors;

impl r2d2::HandleError<ConnectError> for TracingErrors {
    fn handle_error(&self, error: ConnectError) {
        tracing::warn!(
            target: "viben_db::pool",
            error = %viben_model::Report(&error),
            "the pool could not open a connection"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(builder: PoolBuilder) -> Arc<Settings> {
        builder.manager().expect("a manager").settings
    }

    #[test]
    fn pooler_hosts_turn_the_statement_cache_off_by_default() {
        let neon =
            "postgres://u:p@ep-cool-1234-pooler.eu-central-1.aws.neon.tech/db?sslmode=require";
        assert!(settings(PoolBuilder::default().url(neon)).transaction_pooler);
        let direct = "postgres://u:p@ep-cool-1234.eu-central-1.aws.neon.tech/db";
        assert!(!settings(PoolBuilder::default().url(direct)).transaction_pooler);
        let forced = PoolBuilder::default().url(direct).transaction_pooler(true);
        assert!(settings(forced).transaction_pooler);
    }

    #[test]
    fn the_connect_timeout_goes_to_libpq_in_whole_seconds() {
        let s = settings(
            PoolBuilder::default()
                .url("postgres://u@h/db?sslmode=require")
                .connect_timeout(Duration::from_millis(2500)),
        );
        assert_eq!(
            s.connect_url.expose(),
            "postgres://u@h/db?sslmode=require&connect_timeout=3"
        );
    }

    #[test]
    fn libpq_messages_about_the_string_itself_are_never_shown() {
        // Strings libpq refuses before connecting, with messages that quote them; the
        // validation refuses them first, so this calls libpq directly.
        for raw in [
            "postgres://postgres:p@ss:Zq8Wv3Kt@127.0.0.1:5432/x",
            "\"postgres://postgres:Zq8Wv3Kt@127.0.0.1:5432/x\"",
            " postgres://postgres:Zq8Wv3Kt@127.0.0.1:5432/x",
            "jdbc:postgresql://127.0.0.1:5432/x?user=postgres&password=Zq8Wv3Kt",
            "postgres+psycopg2://postgres:Zq8Wv3Kt@127.0.0.1:5432/x",
            "postgres://postgres:Zq8W%zzv3Kt@127.0.0.1:5432/x",
            "postgres://postgres:Zq8W%00v3Kt@127.0.0.1:5432/x",
            "postgres://postgres:Zq8Wv3Kt@[::1/x",
            "postgres://postgres:Zq8Wv3Kt@[]:5432/x",
            "postgres://postgres:Zq8Wv3Kt@[::1]x/x",
            "postgres://127.0.0.1/x?password=Zq8W=v3Kt",
            "postgres://127.0.0.1/x?password=Zq8W&v3Kt",
            "postgres://127.0.0.1/x?Zq8Wv3Kt=1",
            "postgres://127.0.0.1/x?sslmode=Zq8Wv3Kt",
            "postgres://127.0.0.1:Zq8Wv3Kt/x",
            "host=127.0.0.1 password=Zq8W v3Kt",
            "host=127.0.0.1 password=x Zq8Wv3Kt=1",
            "host=127.0.0.1 password='Zq8Wv3Kt",
            "host=127.0.0.1 port=5432password=Zq8Wv3Kt",
            "host=127.0.0.1 hostaddr=Zq8Wv3Kt",
            "host=127.0.0.1 connect_timeout=Zq8Wv3Kt",
        ] {
            let url = DatabaseUrl::new(raw);
            assert!(url.validate().is_err(), "{raw:?} passes the validation");
            let cause = match PgConnection::establish(raw) {
                Ok(_) => panic!("libpq connected with {raw:?}"),
                Err(e) => e,
            };
            let message = cause.to_string();
            let error = connect_error(&url, cause);
            let shown = format!("{error} {error:?}");
            assert!(
                matches!(error, ConnectError::InvalidUrl { .. }),
                "{message}"
            );
            assert!(
                !shown.contains("Zq8W") && !shown.contains("v3Kt"),
                "{raw:?}: {shown}"
            );
        }
    }

    #[test]
    fn transactions_begin_with_the_settings_in_one_batch() {
        assert_eq!(begin_sql(None), "BEGIN; SET LOCAL TIME ZONE 'UTC'");
        assert_eq!(
            begin_sql(Some(Duration::from_millis(1500))),
            "BEGIN; SET LOCAL TIME ZONE 'UTC'; SET LOCAL statement_timeout = 1500"
        );
    }

    #[test]
    fn only_a_server_not_up_yet_is_tried_again() {
        let url = DatabaseUrl::new("postgres://u@h/db");
        let bad = |text: &str| {
            ConnectError::connect(&url, diesel::ConnectionError::BadConnection(text.into()))
        };
        for transient in [
            "connection to server at \"127.0.0.1\", port 5 failed: Connection refused",
            "connection to server at \"h\" failed: FATAL:  the database system is starting up",
            "connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: No such file or \
             directory",
        ] {
            assert!(is_transient(&bad(transient)), "{transient}");
        }
        for lasting in [
            "connection to server at \"h\" failed: FATAL:  password authentication failed",
            "connection to server at \"h\" failed: FATAL:  database \"x\" does not exist",
            "SSL error: certificate verify failed",
            "could not open certificate file \"/x/postgresql.crt\": No such file or directory",
            "timeout expired",
        ] {
            assert!(!is_transient(&bad(lasting)), "{lasting}");
        }
        assert!(!is_transient(&ConnectError::MissingUrl));
    }

    #[test]
    fn debug_output_hides_the_password() {
        let builder = PoolBuilder::default().url("postgres://u:hunter2@h/db");
        let shown = format!("{builder:?} {:?}", builder.manager().expect("a manager"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
