//! The pool for tokio services (feature `tokio`): the same synchronous queries, run on tokio's
//! blocking threads, so an async handler awaits them without stalling its runtime.
//!
//! ## Why not diesel-async
//!
//! diesel-async reimplements the connection on tokio-postgres: every query of this crate would
//! need an async twin (`users::get_by_id` and its `async` copy), the pool's health checks,
//! tracing, pooler and TLS handling (libpq's `sslmode`, `sslrootcert`) would be rebuilt on
//! another driver, and the error classification would read another driver's errors. Running
//! the existing functions on [`tokio::task::spawn_blocking`] (as deadpool-diesel's `interact`
//! does) keeps one implementation of each. Its cost is one hand-over to a blocking thread and
//! back per call: `cargo bench --bench accounts_service` measures it against a direct call
//! (figures in `docs/database.md`, "Using viben-db in a web service"); it is small against the
//! query's own round trip to the server.

use std::any::Any;

use diesel::PgConnection;
use diesel::result::Error as DieselError;
use viben_model::Hint;

use crate::{ConnectError, Pool};

/// A [`Pool`] for async code: [`run`](Self::run) checks a connection out and runs a closure on
/// it on tokio's blocking threads, so neither the checkout nor the query blocks a runtime
/// worker. Cheap to clone (clones share the connections).
///
/// ```no_run
/// use viben_db::{AsyncPool, Pool, RunError, QueryError, users};
///
/// async fn show(pool: &AsyncPool, id: String) -> Result<String, RunError<QueryError>> {
///     let user = pool.run(move |conn| users::get_by_id(conn, &id)).await?;
///     Ok(user.username)
/// }
///
/// # async fn main_() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = AsyncPool::from(Pool::builder().max_size(16).build()?);
/// println!("{}", show(&pool, "u1".to_owned()).await?);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AsyncPool {
    pool: Pool,
}

impl From<Pool> for AsyncPool {
    fn from(pool: Pool) -> Self {
        Self { pool }
    }
}

impl AsyncPool {
    /// The synchronous pool underneath (for [`Pool::state`], or synchronous work on a thread of
    /// your own).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Checks a connection out and runs `f` on it, both on tokio's blocking threads; resolves
    /// to what `f` returns.
    ///
    /// `f` is `'static`: move owned values in (`let id = id.to_owned();` first). Errors:
    /// [`RunError::Connect`] when no connection could be had within the pool's checkout
    /// timeout, [`RunError::Failed`] with `f`'s own error, [`RunError::Panicked`] when `f`
    /// panicked (its connection is then dropped from the pool, never reused half-way through
    /// a transaction). Must be called within a tokio runtime.
    ///
    /// The caller's `tracing` span (and subscriber) go along to the blocking thread, so the
    /// statements' events stay inside the request that caused them.
    ///
    /// Tokio's blocking threads (512 by default) outnumber the pool's connections: a call beyond
    /// the pool's size waits on one of them, not on a runtime worker.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, RunError<E>>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let pool = self.pool.clone();
        // The blocking thread has neither the caller's span nor a subscriber set with
        // `set_default`: both go along, as `tracing::Instrument` does for a future.
        let span = tracing::Span::current();
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let task = tokio::task::spawn_blocking(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                let _entered = span.enter();
                // The connection lives inside the task, so a panic in `f` drops it while
                // unwinding, which the pool takes as broken (see `PgManager::has_broken`).
                let mut conn = pool.get().map_err(RunError::Connect)?;
                f(&mut conn).map_err(RunError::Failed)
            })
        });
        match task.await {
            Ok(outcome) => outcome,
            Err(join) if join.is_panic() => {
                let message = panic_message(join.into_panic());
                tracing::error!(
                    target: "viben_db::pool",
                    panic = %message,
                    "the database work panicked; its connection was dropped from the pool"
                );
                Err(RunError::Panicked { message })
            }
            Err(_) => Err(RunError::Cancelled),
        }
    }

    /// [`run`](Self::run) inside [`transaction`](crate::transaction): committed when `f`
    /// returns `Ok`, rolled back when it returns `Err` or panics; the pool's statement timeout
    /// holds in it even behind a transaction pooler.
    pub async fn transaction<T, E, F>(&self, f: F) -> Result<T, RunError<E>>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DieselError> + Send + 'static,
    {
        self.run(move |conn| crate::transaction(conn, f)).await
    }
}

/// The text a panic was raised with (`panic!("...")`, or a formatted one).
fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(text) => (*text).to_owned(),
            Err(_) => "a panic without a message".to_owned(),
        },
    }
}

/// What [`AsyncPool::run`] can fail with: no connection, the closure's own error `E`, or a
/// panic in the closure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError<E> {
    /// No connection could be checked out (the server is unreachable, or every connection
    /// stayed busy for the checkout timeout): the work did not start.
    #[error(transparent)]
    Connect(ConnectError),

    /// The closure returned an error.
    #[error(transparent)]
    Failed(E),

    /// The closure panicked; its connection was dropped from the pool. The panic's message is
    /// kept here and logged (target `viben_db::pool`), not shown by `Display`, as it may hold
    /// anything the closure had.
    #[error("the database work panicked (a bug in the closure given to the pool)")]
    Panicked {
        /// The panic's message.
        message: String,
    },

    /// The runtime shut down before the work ran.
    #[error("the database work was cancelled: the tokio runtime is shutting down")]
    Cancelled,
}

impl<E> RunError<E> {
    /// Whether the database could not be reached or was lost, so the same call may succeed
    /// shortly (an HTTP service answers 503 with `Retry-After`): a failed checkout, or a
    /// closure error for which `lost` says so, as
    /// `e.unavailable(|e| matches!(e, QueryError::ConnectionLost { .. }))`.
    pub fn unavailable(&self, lost: impl FnOnce(&E) -> bool) -> bool {
        match self {
            Self::Connect(_) => true,
            Self::Failed(e) => lost(e),
            Self::Panicked { .. } | Self::Cancelled => false,
        }
    }
}

impl<E: Hint> Hint for RunError<E> {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Connect(e) => e.hint(),
            Self::Failed(e) => e.hint(),
            Self::Panicked { .. } => Some(
                "fix the panic in the closure: its message is in the log, at error level; the \
                 service goes on"
                    .to_owned(),
            ),
            Self::Cancelled => Some("retry on a runtime that is running".to_owned()),
        }
    }
}
