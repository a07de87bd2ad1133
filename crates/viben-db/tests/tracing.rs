//! What viben-db tells `tracing` carries no secret: every event and span emitted while the
//! token-bearing paths run (linking an OAuth identity with its access token, replacing the
//! token, reading it back, connecting with a password in the URL, failing to connect) is
//! captured, and no part of a secret appears in it. One test: a subscriber is global.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use viben_db::testing::TestDatabase;
use viben_db::{PoolBuilder, migrate, oauth_connections, push, users};
use viben_model::{NewOAuthConnection, OAuthProvider, Secret};

/// Everything written by the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn no_secret_reaches_any_span_or_event_and_statements_are_traced() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");

    let db = TestDatabase::empty();
    let with_password = db.url().expose().replacen(
        "postgres://postgres@",
        "postgres://postgres:pw-SECRET-url@",
        1,
    );
    assert_ne!(
        &with_password,
        db.url().expose(),
        "the URL names the postgres user"
    );
    let pool = PoolBuilder::default()
        .url(with_password.as_str())
        .max_size(2)
        .build()
        .expect("the test server trusts local connections whatever the password");
    let mut conn = pool.get().expect("a connection");
    migrate::run_pending(&mut conn).expect("migrating");
    push::plan(&mut conn, &migrate::MIGRATIONS).expect("a push plan");

    let user = users::create(&mut conn, &common::new_user(1)).expect("a user");
    let connection = oauth_connections::link(
        &mut conn,
        &NewOAuthConnection::new(user.id.clone(), OAuthProvider::GitHub, "gh-1")
            .with_access_token(Secret::new("tok-SECRET-first")),
    )
    .expect("a link");
    oauth_connections::update_token(
        &mut conn,
        &connection.id,
        Some(&Secret::new("tok-SECRET-second")),
    )
    .expect("a new token");
    users::get_with_connections(&mut conn, &user.id).expect("the user and its connections");
    users::list_with_connections(&mut conn, None, 10).expect("a page");
    oauth_connections::unlink(&mut conn, &connection.id).expect("an unlink");
    drop(conn);

    // A server that is not there, with a password: the failure is traced, not the password.
    let refused = PoolBuilder::default()
        .url("postgres://someone:pw-SECRET-down@127.0.0.1:1/db")
        .connect_timeout(std::time::Duration::from_secs(1))
        .build();
    assert!(refused.is_err());

    let text = String::from_utf8_lossy(
        &captured
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned();
    // The capture works: statements, checkouts, connections and migration spans are there.
    for expected in [
        "viben_db::statement",
        // The statement that stores the token is traced (its SQL quoted as a field), the
        // token is not.
        r#"UPDATE \"oauth_connections\" SET \"access_token\" = $1"#,
        "viben_db::pool",
        "connection opened",
        "connecting failed",
        "run_pending",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} was not traced:\n{text}"
        );
    }
    assert!(!text.contains("SECRET"), "a secret was traced:\n{text}");
}
