//! How the costs of the account queries grow with the data: each figure at 1,000,000 users
//! against the same figure at 10,000 (the baseline), with the recommended indexes
//! (`viben_db::indexes`), so `ratio` is the growth. Goal: at most 1.5.
//!
//! `DATABASE_URL=postgres://... cargo bench -p viben-db --bench growth`. Works in two scratch
//! databases it creates and drops; each user has one OAuth connection, one user in a thousand
//! has no `created_at` (as the web app's oldest rows). Ends with one line per figure:
//! `BENCH name=<name> value=<n> unit=<unit> baseline=<name> baseline_value=<n> ratio=<v/b>`;
//! lines starting with `#` are the same figures without the indexes, for `docs/performance.md`.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use viben_db::users::{self, UserCursor};
use viben_db::{DatabaseUrl, PoolBuilder, indexes};

const SMALL: i64 = 10_000;
const LARGE: i64 = 1_000_000;
const PAGE: u32 = 50;
const RUN: Duration = Duration::from_secs(2);

/// Microseconds per operation, for each figure.
struct Sizes {
    show: f64,
    deep_page: f64,
    page_with_connections: f64,
    delete: f64,
}

fn main() {
    let Some(url) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        panic!(
            "the benchmark needs a server: set DATABASE_URL, e.g. \
             DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p viben-db \
             --bench growth"
        );
    };
    let admin_url = DatabaseUrl::new(url);
    let mut admin =
        PgConnection::establish(admin_url.expose()).expect("connecting to DATABASE_URL");
    let mut results = Vec::new();
    for size in [SMALL, LARGE] {
        let name = format!("viben_growth_{}_{size}", std::process::id());
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("creating a scratch database");
        let url = admin_url.with_database(&name);
        let measured = std::panic::catch_unwind(|| measure(&url, size));
        drop(admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
        match measured {
            Ok(figures) => results.push(figures),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    let [(small, small_bare), (large, large_bare)] = [&results[0], &results[1]];
    for (name, s, l) in rows(small, large) {
        println!(
            "BENCH name={name}_1m value={l:.1} unit=us_per_op baseline={name}_10k \
             baseline_value={s:.1} ratio={:.3}",
            l / s
        );
    }
    for (name, s, l) in rows(small_bare, large_bare) {
        println!(
            "# without the indexes: {name} 10k {s:.1} us/op, 1m {l:.1} us/op, growth {:.1}",
            l / s
        );
    }
}

/// Each figure's name, its value at the small size and at the large one.
fn rows(small: &Sizes, large: &Sizes) -> [(&'static str, f64, f64); 4] {
    [
        ("users_show", small.show, large.show),
        ("users_deep_page", small.deep_page, large.deep_page),
        (
            "users_page_with_connections",
            small.page_with_connections,
            large.page_with_connections,
        ),
        ("users_delete", small.delete, large.delete),
    ]
}

/// The figures with the recommended indexes, then without them.
fn measure(url: &DatabaseUrl, size: i64) -> (Sizes, Sizes) {
    let mut conn = PoolBuilder::default()
        .url(url.expose())
        .connect()
        .expect("connecting to the scratch database");
    viben_db::migrate::run_pending(&mut conn).expect("migrating");
    // One statement each: a million rows in seconds. Ids and emails are numbered, creation
    // times a second apart, one user in a thousand without one.
    conn.batch_execute(&format!(
        "INSERT INTO users (id, email, username, created_at) \
         SELECT 'u' || lpad(n::text, 7, '0'), 'u' || n || '@example.com', 'user' || n, \
           CASE WHEN n % 1000 = 0 THEN NULL \
                ELSE timestamp '2025-01-01' + n * interval '1 second' END \
         FROM generate_series(1, {size}) n;
         INSERT INTO oauth_connections (id, user_id, provider, provider_id) \
         SELECT 'c' || n, 'u' || lpad(n::text, 7, '0'), 'github', 'gh' || n \
         FROM generate_series(1, {size}) n;"
    ))
    .expect("seeding");
    // One statement per call: VACUUM cannot run in the implicit transaction of a batch.
    for table in ["users", "oauth_connections"] {
        conn.batch_execute(&format!("VACUUM ANALYZE {table}"))
            .expect("vacuuming");
    }
    let bare = figures(&mut conn, size, "without");
    indexes::apply(&mut conn).expect("creating the recommended indexes");
    conn.batch_execute("ANALYZE users; ANALYZE oauth_connections;")
        .expect("analyzing");
    let indexed = figures(&mut conn, size, "with");
    (indexed, bare)
}

fn figures(conn: &mut PgConnection, size: i64, pass: &str) -> Sizes {
    // At 90 % depth: the cursor of the user created at that point.
    let deep = size * 9 / 10;
    let cursor = UserCursor {
        created_at: Some(
            chrono::NaiveDate::from_ymd_opt(2025, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("a date")
                .and_utc()
                + chrono::TimeDelta::seconds(deep),
        ),
        id: format!("u{deep:07}"),
    };
    let mut n = 0i64;
    let show = per_op(|| {
        n = n % size + 1;
        if n % 1000 == 0 {
            n += 1;
        }
        let found = users::find_by_key(conn, &format!("u{n}@example.com")).expect("show");
        users::get_with_connections(conn, &found.found.user.id).expect("connections");
    });
    let deep_page = per_op(|| {
        let page = users::list(conn, Some(&cursor), PAGE).expect("a deep page");
        assert_eq!(page.items.len(), PAGE as usize);
    });
    let page_with_connections = per_op(|| {
        let page = users::list_with_connections(conn, Some(&cursor), PAGE).expect("a page");
        assert_eq!(page.items.len(), PAGE as usize);
    });
    // Deleting users from the end (with their connections), a different one each time.
    let mut victim = size - if pass == "with" { 5_000 } else { 0 };
    let delete = per_op(|| {
        if victim % 1000 == 0 {
            victim -= 1;
        }
        users::delete(conn, &format!("u{victim:07}")).expect("a delete");
        victim -= 1;
    });
    eprintln!(
        "# {size} users, {pass} the indexes: show {show:.1} us, deep page {deep_page:.1} us, \
         page with connections {page_with_connections:.1} us, delete {delete:.1} us"
    );
    Sizes {
        show,
        deep_page,
        page_with_connections,
        delete,
    }
}

/// Microseconds per call of `op`, over [`RUN`] (at least 20 calls, at most 4,000).
fn per_op(mut op: impl FnMut()) -> f64 {
    op();
    let started = Instant::now();
    let mut calls = 0u32;
    while (calls < 20 || started.elapsed() < RUN) && calls < 4_000 {
        op();
        calls += 1;
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
}
