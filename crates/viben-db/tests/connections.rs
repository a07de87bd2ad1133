//! Connection strings, connect errors, the pool's session setup, timeouts, and a server restart.

use std::process::Command;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use viben_db::testing::{LocalServer, TestDatabase};
use viben_db::{ConnectError, Pool, QueryError, migrate, users};
use viben_model::Hint;
use viben_model::NewUser;

#[test]
fn no_connection_string_names_both_variables() {
    if std::env::var_os("VIBEN_DB_CHILD").is_some() {
        let err = Pool::from_env().unwrap_err();
        assert!(matches!(err, ConnectError::MissingUrl), "{err:?}");
        let hint = err.hint().unwrap_or_default();
        assert!(hint.contains("POSTGRES_URL"), "{hint}");
        assert!(hint.contains("DATABASE_URL"), "{hint}");
        return;
    }
    // Environment variables cannot be removed safely in a threaded process: run this test
    // again in a child process without them.
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "no_connection_string_names_both_variables",
            "--test-threads=1",
        ])
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .env("VIBEN_DB_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[test]
fn postgres_url_is_preferred_over_database_url() {
    if std::env::var_os("VIBEN_DB_CHILD").is_some() {
        let url = viben_db::DatabaseUrl::from_env().unwrap();
        assert_eq!(url.host(), "from-postgres-url");
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "postgres_url_is_preferred_over_database_url",
            "--test-threads=1",
        ])
        .env("POSTGRES_URL", "postgres://u@from-postgres-url/db")
        .env("DATABASE_URL", "postgres://u@from-database-url/db")
        .env("VIBEN_DB_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}"
    );
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("its address").port()
}

#[test]
fn connect_error_names_host_and_port_but_never_the_password() {
    let port = closed_port();
    let started = Instant::now();
    let err = Pool::builder()
        .url(format!(
            "postgres://ada:hunter2-secret@127.0.0.1:{port}/viben"
        ))
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    match &err {
        ConnectError::Connect { host, port: p, .. } => {
            assert_eq!(host, "127.0.0.1");
            assert_eq!(*p, port);
        }
        other => panic!("expected Connect, got {other:?}"),
    }
    let shown = format!("{err} {err:?}");
    assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn an_unreachable_server_is_reported_within_the_connect_timeout() {
    // 10.255.255.1 is not routed: without a connect timeout this would hang.
    let started = Instant::now();
    let err = Pool::builder()
        .url("postgres://ada:pw-secret@10.255.255.1:5432/viben")
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(6), "took {took:?}");
    assert!(matches!(err, ConnectError::Connect { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("pw-secret"));
}

#[test]
fn pool_debug_and_url_display_hide_the_password() {
    let db = TestDatabase::new();
    let url = db.url().with_param("password", "pw-secret");
    let pool = Pool::builder().url(url.expose()).build().unwrap();
    let shown = format!("{pool:?} {} {:?}", pool.url(), pool.url());
    assert!(!shown.contains("pw-secret"), "{shown}");
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn show(conn: &mut PgConnection, name: &str) -> String {
    diesel::sql_query(format!("SELECT current_setting('{name}') AS value"))
        .get_result::<Setting>(conn)
        .expect("reading a setting")
        .value
}

#[test]
fn pooled_connections_run_in_utc_with_the_statement_timeout() {
    let db = TestDatabase::new();
    db.connection()
        .batch_execute(&format!(
            "ALTER DATABASE {} SET timezone = 'America/New_York'",
            db.name()
        ))
        .unwrap();
    let pool = Pool::builder()
        .url(db.url().expose())
        .statement_timeout(Some(Duration::from_millis(1500)))
        .build()
        .unwrap();
    let mut conn = pool.get().unwrap();
    assert_eq!(show(&mut conn, "TimeZone"), "UTC");
    assert_eq!(show(&mut conn, "statement_timeout"), "1500ms");
}

#[test]
fn a_statement_over_the_timeout_is_cancelled_with_a_clear_error() {
    let db = TestDatabase::new();
    let pool = Pool::builder()
        .url(db.url().expose())
        .statement_timeout(Some(Duration::from_millis(100)))
        .build()
        .unwrap();
    let err = diesel::sql_query("SELECT pg_sleep(2)")
        .execute(&mut pool.get().unwrap())
        .map_err(QueryError::from)
        .unwrap_err();
    assert!(
        matches!(err, QueryError::StatementTimeout { .. }),
        "{err:?}"
    );
}

#[test]
fn an_exhausted_pool_is_a_pool_timeout() {
    let db = TestDatabase::new();
    let pool = Pool::builder()
        .url(db.url().expose())
        .max_size(1)
        .checkout_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let _held = pool.get().unwrap();
    let Err(err) = pool.get() else {
        panic!("a second connection from a pool of one")
    };
    assert!(matches!(err, ConnectError::PoolTimeout { .. }), "{err:?}");
    let hint = err.hint().unwrap_or_default();
    assert!(hint.contains("raise the pool size"), "{hint}");
    assert!(err.to_string().ends_with("after 300 ms"), "{err}");
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn prepared_statements(conn: &mut PgConnection) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM pg_prepared_statements")
        .get_result::<Count>(conn)
        .expect("counting prepared statements")
        .n
}

#[test]
fn transaction_pooler_mode_keeps_no_named_prepared_statements() {
    let db = TestDatabase::new();
    let mut plain = Pool::builder().url(db.url().expose()).connect().unwrap();
    users::count(&mut plain).unwrap();
    users::count(&mut plain).unwrap();
    assert!(prepared_statements(&mut plain) > 0);

    let mut pooler = Pool::builder()
        .url(db.url().expose())
        .transaction_pooler(true)
        .connect()
        .unwrap();
    users::count(&mut pooler).unwrap();
    users::count(&mut pooler).unwrap();
    assert_eq!(prepared_statements(&mut pooler), 0);
}

/// How many users there are, through a connection from `pool`; a failure to get the
/// connection or to count is the error's message and causes.
fn count(pool: &Pool) -> Result<i64, String> {
    let mut conn = pool
        .get()
        .map_err(|e| viben_model::Report(&e).to_string())?;
    users::count(&mut conn).map_err(|e| viben_model::Report(&e).to_string())
}

#[test]
fn the_pool_recovers_after_the_server_restarts() {
    let server = LocalServer::start_watched().unwrap_or_else(|e| {
        panic!(
            "this test starts its own PostgreSQL server (it stops and restarts it), which \
             failed: {e}; install PostgreSQL's server binaries (initdb, pg_ctl)"
        )
    });
    let url = server.url();
    let mut conn = PgConnection::establish(url.expose())
        .unwrap_or_else(|e| panic!("connecting to the test's own server at {url}: {e}"));
    migrate::run_pending(&mut conn).expect("migrating the test's own server");
    drop(conn);
    let pool = Pool::builder()
        .url(url.expose())
        .max_size(4)
        .checkout_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    {
        // Fill the pool with connections that are then idle in it.
        let mut held: Vec<_> = (0..4).map(|_| pool.get().unwrap()).collect();
        for conn in &mut held {
            users::count(conn).unwrap();
        }
    }
    users::create(
        &mut pool.get().unwrap(),
        &NewUser::new("a@example.com", "ada"),
    )
    .unwrap();

    server
        .stop()
        .unwrap_or_else(|e| panic!("stopping the test's own server: {e}"));
    // While it is down: errors, not panics.
    let down = count(&pool);
    assert!(down.is_err());
    server
        .restart()
        .unwrap_or_else(|e| panic!("restarting the test's own server: {e}"));

    let mut failures = Vec::new();
    let mut recovered = false;
    for _ in 0..10 {
        match count(&pool) {
            Ok(n) => {
                assert_eq!(n, 1);
                recovered = true;
                break;
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    assert!(recovered, "never recovered: {failures:#?}");
    // Broken connections were dropped on their first failure: at most one per pooled one.
    assert!(failures.len() <= 5, "{failures:#?}");
    for e in &failures {
        assert!(
            e.contains("connection") || e.contains("no database connection"),
            "{e}"
        );
    }
    for _ in 0..20 {
        assert_eq!(users::count(&mut pool.get().unwrap()).unwrap(), 1);
    }
}

#[test]
fn checkout_from_a_pool_whose_database_is_gone_fails_within_the_connect_timeout() {
    let db = TestDatabase::new();
    let pool = Pool::builder()
        .url(db.url().expose())
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut admin =
        PgConnection::establish(viben_db::testing::TestServer::get().admin_url().expose())
            .expect("connecting to the test server");
    admin
        .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", db.name()))
        .unwrap();
    let started = Instant::now();
    let Err(err) = pool.get() else {
        panic!("a connection to a dropped database")
    };
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let ConnectError::PoolTimeout { last_error, .. } = &err else {
        panic!("expected PoolTimeout, got {err:?}")
    };
    // Why no connection could be opened is the timeout's cause.
    assert!(
        matches!(last_error.as_deref(), Some(ConnectError::Connect { .. })),
        "{err:?}"
    );
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    assert!(
        cause.is_some_and(|c| c.starts_with("cannot connect to PostgreSQL")),
        "{err:?}"
    );
}

#[test]
fn a_role_without_createdb_is_told_so_at_once_instead_of_retried() {
    let server = viben_db::testing::TestServer::get();
    let role = format!("viben_nocreatedb_{}", std::process::id());
    let mut admin = PgConnection::establish(server.admin_url().expose())
        .expect("connecting to the test server");
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN NOCREATEDB"
        ))
        .expect("creating a role without CREATEDB");
    let url = server.admin_url().with_param("user", &role);
    let started = Instant::now();
    let result = std::panic::catch_unwind(|| TestDatabase::empty_on(&url));
    let took = started.elapsed();
    admin
        .batch_execute(&format!("DROP ROLE {role}"))
        .expect("dropping the role");
    let Err(panic) = result else {
        panic!("a role without CREATEDB created a database")
    };
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("needs the CREATEDB privilege"),
        "{message}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}: retried");
}
