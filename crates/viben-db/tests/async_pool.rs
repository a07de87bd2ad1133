//! `AsyncPool` (feature `tokio`): the synchronous queries awaited from async code, on tokio's
//! blocking threads, with checkout failures, the closure's errors and its panics as typed
//! errors.

mod common;

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Text;
use viben_db::testing::TestDatabase;
use viben_db::{AsyncPool, ConnectError, Pool, QueryError, RunError, users};
use viben_model::Hint;

fn pool(db: &TestDatabase, max_size: u32) -> AsyncPool {
    Pool::builder()
        .url(db.url().expose())
        .max_size(max_size)
        .checkout_timeout(Duration::from_millis(300))
        .build()
        .expect("a pool")
        .into()
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn application_name(conn: &mut PgConnection) -> Result<String, QueryError> {
    let row: Setting = diesel::sql_query("SELECT current_setting('application_name') AS value")
        .get_result(conn)?;
    Ok(row.value)
}

#[tokio::test]
async fn run_returns_what_the_closure_returns() {
    let db = TestDatabase::new();
    let pool = pool(&db, 2);
    let created = pool
        .run(|conn| users::create(conn, &common::new_user(1)))
        .await
        .expect("created");
    let id = created.id.clone();
    let found = pool
        .run(move |conn| users::get_by_id(conn, &id))
        .await
        .expect("found");
    assert_eq!(found, created);
}

#[tokio::test]
async fn the_closures_error_comes_back_as_failed_with_its_hint() {
    let db = TestDatabase::new();
    let pool = pool(&db, 1);
    let err = pool
        .run(|conn| users::get_by_id(conn, "nobody"))
        .await
        .expect_err("no such user");
    assert!(
        matches!(&err, RunError::Failed(QueryError::NotFound { id, .. }) if id == "nobody"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), r#"no user with id "nobody""#);
    assert_eq!(
        err.hint().as_deref(),
        Some("check the value, or list the existing ones")
    );
    assert!(!err.unavailable(|_| false));
}

#[tokio::test(flavor = "current_thread")]
async fn waiting_for_a_connection_does_not_block_the_runtime() {
    let db = TestDatabase::new();
    let pool = pool(&db, 1);
    // The only connection is taken, so the next checkout waits its full 300 ms timeout.
    let held = pool.pool().get().expect("the only connection");
    let waiting = tokio::spawn({
        let pool = pool.clone();
        async move { pool.run(users::count).await }
    });
    // On a single-threaded runtime this timer only fires if the checkout is not blocking the
    // runtime's one thread.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        !waiting.is_finished(),
        "the checkout should still be waiting"
    );
    let err = waiting
        .await
        .expect("the task ran")
        .expect_err("no connection");
    assert!(
        matches!(&err, RunError::Connect(ConnectError::PoolTimeout { .. })),
        "{err:?}"
    );
    assert!(err.unavailable(|_| false));
    assert_eq!(
        err.hint(),
        ConnectError::PoolTimeout {
            timeout: Duration::ZERO,
            last_error: None
        }
        .hint()
    );
    drop(held);
    assert_eq!(pool.run(users::count).await.expect("a count"), 0);
}

#[tokio::test]
async fn a_panicking_closure_is_an_error_and_its_connection_is_not_reused() {
    let db = TestDatabase::new();
    let pool = pool(&db, 1);
    let err = pool
        .run(|conn| -> Result<(), QueryError> {
            diesel::sql_query("SET application_name = 'marked'").execute(conn)?;
            conn.transaction(|conn| {
                users::create(conn, &common::new_user(1))?;
                panic!("boom-7f3a");
            })
        })
        .await
        .expect_err("the closure panicked");
    match &err {
        RunError::Panicked { message } => assert_eq!(message, "boom-7f3a"),
        other => panic!("expected Panicked, got {other:?}"),
    }
    assert!(!err.to_string().contains("boom-7f3a"), "{err}");
    assert!(
        err.hint()
            .is_some_and(|h| h.contains("its message is in the log"))
    );
    // The pool's one connection was dropped: the next one is new (no session setting) and the
    // transaction left nothing behind.
    let (name, count) = pool
        .run(|conn| Ok::<_, QueryError>((application_name(conn)?, users::count(conn)?)))
        .await
        .expect("the pool still serves");
    assert_ne!(name, "marked");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn transaction_commits_on_ok_and_rolls_back_on_err() {
    let db = TestDatabase::new();
    let pool = pool(&db, 1);
    pool.transaction(|conn| users::create(conn, &common::new_user(1)))
        .await
        .expect("committed");
    let err = pool
        .transaction(|conn| {
            users::create(conn, &common::new_user(2))?;
            // The same email again: the transaction's second statement fails.
            users::create(conn, &common::new_user(1))
        })
        .await
        .expect_err("a taken email");
    assert!(
        matches!(
            &err,
            RunError::Failed(QueryError::AlreadyExists { field: "email", .. })
        ),
        "{err:?}"
    );
    assert_eq!(pool.run(users::count).await.expect("a count"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_span_covers_the_statements_on_the_blocking_thread() {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    /// Names the span each `viben_db::statement` event is recorded in.
    #[derive(Clone, Default)]
    struct SpansOfStatements(Arc<Mutex<Vec<String>>>);

    impl<S> tracing_subscriber::Layer<S> for SpansOfStatements
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            ctx: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if event.metadata().target().starts_with("viben_db::statement")
                && let Some(span) = ctx.event_span(event)
                && let Ok(mut spans) = self.0.lock()
            {
                spans.push(span.name().to_owned());
            }
        }
    }

    let db = TestDatabase::new();
    let pool = pool(&db, 1);
    let seen = SpansOfStatements::default();
    let subscriber = tracing_subscriber::registry().with(seen.clone());
    let _default = tracing::subscriber::set_default(subscriber);
    let span = tracing::info_span!("request");
    let _entered = span.enter();
    pool.run(users::count).await.expect("a count");
    let spans = seen.0.lock().expect("the spans").clone();
    assert!(
        !spans.is_empty() && spans.iter().all(|s| s == "request"),
        "{spans:?}"
    );
}
