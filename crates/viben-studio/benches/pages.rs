//! Server time of the studio's heaviest pages as the data grows: the users page (100 rows,
//! first and at 90 % depth) at 1,000,000 users against the same page at 10,000 (with the
//! recommended indexes), and a session of 100,000 messages (time to the first byte and to the
//! last) against one of 1,000.
//!
//! `DATABASE_URL=postgres://... cargo bench -p viben-studio --bench pages`. Works in scratch
//! databases it creates and drops, and a temporary store. Prints one line per figure:
//! `BENCH name=<name> value=<n> unit=<unit> baseline=<name> baseline_value=<n> ratio=<v/b>`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use viben_db::{DatabaseUrl, PoolBuilder, indexes};
use viben_model::{Message, MessageRole, SessionMeta};

const ROUNDS: usize = 15;

fn main() {
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| {
            panic!(
                "the benchmark needs a server: set DATABASE_URL, e.g. \
                 DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p \
                 viben-studio --bench pages"
            )
        });
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let admin_url = DatabaseUrl::new(url);
    let mut admin = PgConnection::establish(admin_url.expose()).expect("DATABASE_URL");
    let mut users = Vec::new();
    for size in [10_000i64, 1_000_000] {
        let name = format!("viben_studio_bench_{}_{size}", std::process::id());
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("a scratch database");
        let url = admin_url.with_database(&name);
        let measured = std::panic::catch_unwind(|| runtime.block_on(users_pages(&url, size)));
        drop(admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
        match measured {
            Ok(figures) => users.push(figures),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    let sessions: Vec<(f64, f64)> = [1_000usize, 100_000]
        .into_iter()
        .map(|messages| runtime.block_on(session_page(messages)))
        .collect();
    let line = |name: &str, small: &str, large: &str, s: f64, l: f64| {
        println!(
            "BENCH name={name}_{large} value={l:.2} unit=ms baseline={name}_{small} \
             baseline_value={s:.2} ratio={:.3}",
            l / s
        );
    };
    line(
        "studio_users_first_page",
        "10k",
        "1m",
        users[0].0,
        users[1].0,
    );
    line(
        "studio_users_deep_page",
        "10k",
        "1m",
        users[0].1,
        users[1].1,
    );
    line(
        "studio_users_prefix_search",
        "10k",
        "1m",
        users[0].2,
        users[1].2,
    );
    line(
        "studio_users_email_search",
        "10k",
        "1m",
        users[0].3,
        users[1].3,
    );
    line(
        "studio_session_first_byte",
        "1k",
        "100k",
        sessions[0].0,
        sessions[1].0,
    );
    line(
        "studio_session_whole",
        "1k",
        "100k",
        sessions[0].1,
        sessions[1].1,
    );
}

/// Median milliseconds of the first users page, the page at 90 % depth, a prefix search and
/// a search by a whole email.
async fn users_pages(url: &DatabaseUrl, size: i64) -> (f64, f64, f64, f64) {
    let mut conn = PoolBuilder::default()
        .url(url.expose())
        .connect()
        .expect("connect");
    viben_db::migrate::run_pending(&mut conn).expect("migrate");
    conn.batch_execute(&format!(
        "INSERT INTO users (id, email, username, created_at) \
         SELECT 'u' || lpad(n::text, 7, '0'), 'u' || n || '@example.com', 'user' || n, \
           timestamp '2025-01-01' + n * interval '1 second' \
         FROM generate_series(1, {size}) n;
         INSERT INTO oauth_connections (id, user_id, provider, provider_id) \
         SELECT 'c' || n, 'u' || lpad(n::text, 7, '0'), 'github', 'gh' || n \
         FROM generate_series(1, {size}) n;"
    ))
    .expect("seed");
    indexes::apply(&mut conn).expect("the recommended indexes");
    for table in ["users", "oauth_connections"] {
        conn.batch_execute(&format!("VACUUM ANALYZE {table}"))
            .expect("vacuum");
    }
    let deep = size * 9 / 10;
    let cursor = viben_db::users::UserCursor {
        created_at: Some(
            chrono::NaiveDate::from_ymd_opt(2025, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("date")
                .and_utc()
                + chrono::Duration::seconds(deep),
        ),
        id: format!("u{deep:07}"),
    };
    let pool = PoolBuilder::default()
        .url(url.expose())
        .build()
        .expect("pool");
    let home = tempfile::tempdir().expect("temp dir");
    let store = viben_store::Store::open(home.path()).expect("store");
    let studio = studio_with(Some(store), Some(pool)).await;
    let first = median_ms(&studio, "/users").await;
    let deep = median_ms(
        &studio,
        &format!("/users?after={}", encode(&cursor.to_string())),
    )
    .await;
    let search = median_ms(&studio, "/users?q=u99999").await;
    let exact = median_ms(&studio, "/users?q=u9999%40example.com").await;
    (first, deep, search, exact)
}

/// Milliseconds to the first byte and to the last of a session of `messages` messages.
async fn session_page(messages: usize) -> (f64, f64) {
    let home = tempfile::tempdir().expect("temp dir");
    let store = common::store_with_agent(home.path());
    let session = SessionMeta::new("helper", Some("long".to_owned()));
    store.sessions().create(&session).expect("session");
    let appender = store.sessions().appender(&session.id).expect("appender");
    for i in 0..messages {
        appender
            .append(&Message::new(
                MessageRole::User,
                format!("message number {i}, a line of text"),
            ))
            .expect("append");
    }
    drop(appender);
    let studio = studio_with(Some(store), None).await;
    let path = format!("/sessions/{}", session.id);
    let mut first = Vec::new();
    let mut whole = Vec::new();
    for _ in 0..5 {
        let (ttfb, total) = timed_get(&studio, &path).await;
        first.push(ttfb);
        whole.push(total);
    }
    (median(first), median(whole))
}

struct Bench {
    running: common::Running,
    cookie: String,
}

async fn studio_with(store: Option<viben_store::Store>, pool: Option<viben_db::Pool>) -> Bench {
    let mut builder = viben_studio::Studio::builder();
    if let Some(store) = store {
        builder = builder.store(store);
    }
    if let Some(pool) = pool {
        builder = builder.database(pool);
    }
    let studio = builder.bind().await.expect("bind");
    let running = common::serve(studio);
    let (_, query) = running.url.split_once("/?").expect("token");
    let base = running.base.clone();
    let query = query.to_owned();
    let (_, head, _) = tokio::task::spawn_blocking(move || {
        common::http(&base, "GET", &format!("/?{query}"), &[], "")
    })
    .await
    .expect("enter");
    let cookie = head
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("cookie")
        .to_owned();
    Bench { running, cookie }
}

async fn median_ms(bench: &Bench, path: &str) -> f64 {
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        times.push(timed_get(bench, path).await.1);
    }
    median(times)
}

/// Milliseconds to the first byte of the response and to its end.
async fn timed_get(bench: &Bench, path: &str) -> (f64, f64) {
    let (base, cookie, path) = (
        bench.running.base.clone(),
        bench.cookie.clone(),
        path.to_owned(),
    );
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let address = base.strip_prefix("http://").expect("http");
        let started = Instant::now();
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        )
        .expect("request");
        let mut buffer = [0u8; 64 * 1024];
        let n = stream.read(&mut buffer).expect("first bytes");
        assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"), "{path}");
        let first = started.elapsed().as_secs_f64() * 1e3;
        while stream.read(&mut buffer).expect("rest") > 0 {}
        (first, started.elapsed().as_secs_f64() * 1e3)
    })
    .await
    .expect("request")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
