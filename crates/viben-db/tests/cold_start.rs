//! A server that is not up yet (a Neon compute waking up takes seconds): connecting tries
//! again with backoff within the connect timeout, for the pool's first connection and for later
//! ones; a server that never comes still fails within it, saying where.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use viben_db::testing::LocalServer;
use viben_db::{ConnectError, Pool};
use viben_model::Chain;

/// How long the server takes to come up in these tests: the cold start being simulated.
const WAKING_UP: Duration = Duration::from_secs(2);

#[test]
fn the_first_query_succeeds_when_the_server_starts_two_seconds_after_build() {
    let server = LocalServer::create(&[]).unwrap_or_else(|e| panic!("{}", Chain(&e)));
    let url = server.url();
    let started = Instant::now();
    let pool = std::thread::scope(|scope| {
        let building = scope.spawn(|| {
            Pool::builder()
                .url(&url)
                .connect_timeout(Duration::from_secs(15))
                .build()
        });
        // Not a wait for readiness: the server being asleep is what this test is about.
        std::thread::sleep(WAKING_UP);
        server.restart().unwrap_or_else(|e| panic!("{}", Chain(&e)));
        building.join().expect("the building thread")
    })
    .unwrap_or_else(|e| panic!("{}", Chain(&e)));
    assert!(started.elapsed() >= WAKING_UP);
    pool.get()
        .expect("a connection")
        .batch_execute("SELECT 1")
        .unwrap();
}

#[test]
fn later_connections_wait_for_a_server_that_is_starting_again() {
    let server = LocalServer::start().unwrap_or_else(|e| panic!("{}", Chain(&e)));
    let pool = Pool::builder()
        .url(server.url())
        .connect_timeout(Duration::from_secs(15))
        .health_check_after(Duration::ZERO)
        .build()
        .unwrap();
    pool.get().unwrap().batch_execute("SELECT 1").unwrap();
    server.stop().unwrap();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(WAKING_UP);
            server.restart().unwrap_or_else(|e| panic!("{}", Chain(&e)));
        });
        let mut conn = pool.get().unwrap_or_else(|e| panic!("{}", Chain(&e)));
        conn.batch_execute("SELECT 1").unwrap();
    });
}

#[test]
fn a_server_that_never_comes_fails_within_the_connect_timeout_saying_where() {
    let server = LocalServer::create(&[]).unwrap_or_else(|e| panic!("{}", Chain(&e)));
    let started = Instant::now();
    let err = Pool::builder()
        .url(server.url())
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(3),
        "took {took:?}"
    );
    match &err {
        ConnectError::Connect { host, port, .. } => {
            assert_eq!((host.as_str(), *port), ("127.0.0.1", server.port()));
        }
        other => panic!("expected Connect, got {other:?}"),
    }
    assert!(
        Chain(&err).to_string().contains("Connection refused"),
        "{err:?}"
    );
}

#[test]
fn without_waiting_for_the_server_a_refused_connection_fails_at_once() {
    let server = LocalServer::create(&[]).unwrap_or_else(|e| panic!("{}", Chain(&e)));
    let started = Instant::now();
    let err = Pool::builder()
        .url(server.url())
        .connect_timeout(Duration::from_secs(5))
        .wait_for_server(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "{err:?}");
    assert!(matches!(err, ConnectError::Connect { .. }), "{err:?}");
}
