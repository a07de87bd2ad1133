//! What the async entry point and the HTTP service cost over the synchronous pool, for "get a
//! user with its connections" (`users::get_with_connections`, two statements):
//!
//! - per call, one caller: `AsyncPool::run` awaited in a loop against the same call on the
//!   synchronous pool (and, with no query at all, the hand-over to a blocking thread alone);
//! - requests/s through `examples/accounts_service.rs`'s router (axum on a multi-threaded
//!   tokio runtime, real HTTP/1.1 over kept-alive TCP connections) at 1, 8 and 32 concurrent
//!   clients, against the same query on the synchronous pool from as many threads.
//!
//! Both sides use one pool of the same size, in the same run, measured in alternating rounds
//! (the median of each). The HTTP clients run in this
//! process, so on a small machine they take CPU from the service: the ratio is an upper bound of
//! the service's overhead.
//!
//! `cargo bench --bench accounts_service` (on the server `VIBEN_TEST_DATABASE_URL` names, else a
//! throwaway one). Ends with one line per figure:
//! `BENCH name=<name> value=<n> unit=<unit> baseline=<name> baseline_value=<n> ratio=<v/b>`.

#[expect(
    dead_code,
    reason = "only the example's router is served here; its main and start-up are not used"
)]
#[path = "../examples/accounts_service.rs"]
mod service;

#[expect(
    dead_code,
    reason = "the benchmark reads statuses only, not JSON bodies"
)]
#[path = "../tests/support/http.rs"]
mod http;

use std::time::{Duration, Instant};

use viben::db::testing::TestDatabase;
use viben::db::{AsyncPool, Pool, QueryError, oauth_connections, users};
use viben::model::{NewOAuthConnection, NewUser, OAuthProvider};

/// Each figure and its baseline are measured in alternating rounds, and each is the median of
/// its rounds: on a shared machine the load drifts, and both sides should meet the same drift.
const ROUNDS: usize = 7;
/// How long one round lasts.
const RUN: Duration = Duration::from_millis(300);
/// The pool's size, on both sides.
const POOL_SIZE: u32 = 16;

fn main() {
    let db = TestDatabase::new();
    let pool = Pool::builder()
        .url(db.url().expose())
        .max_size(POOL_SIZE)
        .build()
        .expect("a pool");
    let id = seed(&pool);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let async_pool = AsyncPool::from(pool.clone());
    let mut lines = Vec::new();

    // Per call, one caller.
    let (run, direct) = alternate(
        || {
            runtime.block_on(per_call_async(|| {
                let id = id.clone();
                let pool = async_pool.clone();
                async move {
                    pool.run(move |conn| users::get_with_connections(conn, &id))
                        .await
                        .expect("the user");
                }
            }))
        },
        || {
            per_call_sync(|| {
                let mut conn = pool.get().expect("a connection");
                users::get_with_connections(&mut conn, &id).expect("the user");
            })
        },
    );
    lines.push(line(
        "run_get_user_with_connections",
        run,
        "us_per_op",
        "sync_get_user_with_connections",
        direct,
    ));
    let (handover, checkout) = alternate(
        || {
            runtime.block_on(per_call_async(|| {
                let pool = async_pool.clone();
                async move {
                    pool.run(|_| Ok::<_, QueryError>(()))
                        .await
                        .expect("a checkout");
                }
            }))
        },
        || per_call_sync(|| drop(pool.get().expect("a connection"))),
    );
    lines.push(line(
        "run_checkout_only",
        handover,
        "us_per_op",
        "sync_checkout_only",
        checkout,
    ));

    // Requests/s through the service against the synchronous pool, at 1, 8 and 32 clients.
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a free port");
    let addr = listener.local_addr().expect("the bound address");
    let router = service::router(async_pool.clone());
    runtime.spawn(async move { axum::serve(listener, router).await });
    let path = format!("/users/{id}");
    for clients in [1, 8, 32] {
        let (http, sync) = alternate(
            || {
                per_second(clients, || {
                    let mut client =
                        http::Client::connect(addr).expect("connecting to the service");
                    let path = path.clone();
                    move || {
                        let reply = client.request("GET", &path, None).expect("a response");
                        assert_eq!(reply.status, 200, "{}", reply.body);
                    }
                })
            },
            || {
                per_second(clients, || {
                    let pool = pool.clone();
                    let id = id.clone();
                    move || {
                        let mut conn = pool.get().expect("a connection");
                        users::get_with_connections(&mut conn, &id).expect("the user");
                    }
                })
            },
        );
        lines.push(line(
            &format!("service_get_user_with_connections_{clients}_clients"),
            http,
            "requests_per_s",
            &format!("sync_pool_get_user_with_connections_{clients}_threads"),
            sync,
        ));
    }
    for line in lines {
        println!("{line}");
    }
}

/// `figure` and `baseline` measured in [`ROUNDS`] alternating rounds; the median of each.
fn alternate(mut figure: impl FnMut() -> f64, mut baseline: impl FnMut() -> f64) -> (f64, f64) {
    let (mut figures, mut baselines) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        figures.push(figure());
        baselines.push(baseline());
    }
    (median(figures), median(baselines))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A user with two OAuth connections; returns its id.
fn seed(pool: &Pool) -> String {
    let mut conn = pool.get().expect("a connection");
    let user = users::create(&mut conn, &NewUser::new("bench@example.com", "bench"))
        .expect("creating the user");
    for (provider, provider_id) in [(OAuthProvider::GitHub, "1"), (OAuthProvider::Google, "2")] {
        oauth_connections::link(
            &mut conn,
            &NewOAuthConnection::new(user.id.clone(), provider, provider_id),
        )
        .expect("linking");
    }
    user.id
}

/// Microseconds per call of `f`, called in a loop for [`RUN`] (after a short warm-up).
fn per_call_sync(mut f: impl FnMut()) -> f64 {
    for _ in 0..5 {
        f();
    }
    let started = Instant::now();
    let mut calls = 0u64;
    while started.elapsed() < RUN {
        f();
        calls += 1;
    }
    started.elapsed().as_secs_f64() * 1e6 / calls as f64
}

/// Microseconds per awaited call of `f`, awaited in a loop for [`RUN`] (after a short warm-up).
async fn per_call_async<F: Future<Output = ()>>(mut f: impl FnMut() -> F) -> f64 {
    for _ in 0..5 {
        f().await;
    }
    let started = Instant::now();
    let mut calls = 0u64;
    while started.elapsed() < RUN {
        f().await;
        calls += 1;
    }
    started.elapsed().as_secs_f64() * 1e6 / calls as f64
}

/// Calls per second of `threads` threads, each calling the function `make` gives it in a loop
/// for [`RUN`].
fn per_second<F: FnMut() + Send>(threads: usize, mut make: impl FnMut() -> F) -> f64 {
    let workers: Vec<F> = (0..threads).map(|_| make()).collect();
    let started = Instant::now();
    let calls: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = workers
            .into_iter()
            .map(|mut work| {
                scope.spawn(move || {
                    let mut calls = 0u64;
                    while started.elapsed() < RUN {
                        work();
                        calls += 1;
                    }
                    calls
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a benchmark thread"))
            .sum()
    });
    calls as f64 / started.elapsed().as_secs_f64()
}

fn line(name: &str, value: f64, unit: &str, baseline: &str, baseline_value: f64) -> String {
    format!(
        "BENCH name={name} value={value:.1} unit={unit} baseline={baseline} \
         baseline_value={baseline_value:.1} ratio={:.3}",
        value / baseline_value
    )
}
