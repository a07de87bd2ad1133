//! viben-db's benchmark: each figure against a baseline measured in the same run.
//!
//! `DATABASE_URL=postgres://... cargo bench -p viben-db`. Works in a scratch database it creates
//! and drops. Ends with one line per figure:
//! `BENCH name=<name> value=<n> unit=<unit> baseline=<name> baseline_value=<n> ratio=<v/b>`.
//! Lines starting with `#` are extra figures for `docs/performance.md`.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Nullable, Text, Timestamp};
use viben_db::{DatabaseUrl, Pool, PoolBuilder, users};
use viben_model::NewUser;

const SEED_USERS: usize = 10_000;
const BULK_ROWS: usize = 100_000;
const PAGE: u32 = 1_000;
const RUN: Duration = Duration::from_secs(3);

struct Figure {
    name: &'static str,
    value: f64,
    unit: &'static str,
    baseline: &'static str,
    baseline_value: f64,
}

fn main() {
    let Some(url) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        panic!(
            "the benchmark needs a server: set DATABASE_URL, e.g. \
             DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p viben-db"
        );
    };
    let admin_url = DatabaseUrl::new(url);
    let name = format!("viben_bench_{}", std::process::id());
    let mut admin =
        PgConnection::establish(admin_url.expose()).expect("connecting to DATABASE_URL");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("creating the scratch database");
    let url = admin_url.with_database(&name);
    let result = std::panic::catch_unwind(|| run(&url));
    drop(admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
    match result {
        Ok(figures) => {
            for f in figures {
                println!(
                    "BENCH name={} value={:.1} unit={} baseline={} baseline_value={:.1} ratio={:.3}",
                    f.name,
                    f.value,
                    f.unit,
                    f.baseline,
                    f.baseline_value,
                    f.value / f.baseline_value
                );
            }
        }
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn run(url: &DatabaseUrl) -> Vec<Figure> {
    let mut conn = PoolBuilder::default()
        .url(url.expose())
        .connect()
        .expect("connecting to the scratch database");
    viben_db::migrate::run_pending(&mut conn).expect("migrating the scratch database");
    // Bulk first, on empty tables: deleting users later would check the foreign key of
    // oauth_connections (which has no index on user_id) once per row.
    let bulk = bulk_insert_users(url, &mut conn);
    seed(&mut conn);
    let pool = Pool::builder()
        .url(url.expose())
        .max_size(4)
        .build()
        .expect("building the pool");

    let mut figures = vec![
        get_user_by_id(url, &pool),
        get_user_by_id_in_transaction(url, &pool),
        get_user_by_id_traced(&pool),
        insert_user(url, &pool),
        bulk,
    ];
    for sql in [
        "DELETE FROM users WHERE id !~ '^u[0-9]{6}$'",
        "VACUUM ANALYZE users",
    ] {
        conn.batch_execute(sql)
            .expect("removing the users the insert figure made");
    }
    figures.push(users_page_with_connections(&pool, url));
    figures
}

fn seed(conn: &mut PgConnection) {
    conn.batch_execute(&format!(
        "INSERT INTO users (id, email, username, display_name, created_at, updated_at)
         SELECT 'u' || lpad(i::text, 6, '0'), 'u' || i || '@example.com', 'user' || i,
                'User ' || i, timestamp '2026-01-01' + i * interval '1 second',
                timestamp '2026-01-01' + i * interval '1 second'
         FROM generate_series(1, {SEED_USERS}) AS i;
         INSERT INTO oauth_connections (id, user_id, provider, provider_id, access_token)
         SELECT 'c' || i || '-' || p, 'u' || lpad(i::text, 6, '0'), p, i::text, 'tok' || i
         FROM generate_series(1, {SEED_USERS}) AS i, unnest(ARRAY['github', 'google']) AS p;
         ANALYZE;"
    ))
    .expect("seeding");
}

/// A cheap deterministic sequence of seed ids (xorshift), so no RNG crate is needed.
fn ids() -> impl Iterator<Item = String> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    std::iter::repeat_with(move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        format!("u{:06}", x % SEED_USERS as u64 + 1)
    })
}

/// `get_user_by_id` with a `tracing` subscriber at `info` (the level `viben -v` uses; statement
/// events are `debug`, so only the check that they are off is paid) against no subscriber, in
/// alternating one-second rounds; at `debug` (every statement formatted and written to a sink)
/// as an extra `#` line.
fn get_user_by_id_traced(pool: &Pool) -> Figure {
    let subscriber = |level| {
        tracing_subscriber::fmt()
            .with_writer(std::io::sink)
            .with_max_level(level)
            .finish()
    };
    let mut ids = ids();
    let mut op = || {
        let id = ids.next().unwrap_or_default();
        let mut conn = pool.get().expect("a pooled connection");
        users::get_by_id(&mut conn, &id).expect("a seeded user");
    };
    let (mut plain, mut info, mut debug) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        plain.push(timed_loop_for(Duration::from_secs(1), &mut op));
        info.push(tracing::subscriber::with_default(
            subscriber(tracing::Level::INFO),
            || timed_loop_for(Duration::from_secs(1), &mut op),
        ));
        debug.push(tracing::subscriber::with_default(
            subscriber(tracing::Level::DEBUG),
            || timed_loop_for(Duration::from_secs(1), &mut op),
        ));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (plain, info, debug) = (median(plain), median(info), median(debug));
    println!(
        "# get_user_by_id with a subscriber at debug (every statement traced): {debug:.1} ops/s, \
         {:.3} of no subscriber",
        debug / plain
    );
    Figure {
        name: "get_user_by_id_tracing_info",
        value: info,
        unit: "ops/s",
        baseline: "get_user_by_id_no_subscriber",
        baseline_value: plain,
    }
}

fn per_second(count: usize, took: Duration) -> f64 {
    count as f64 / took.as_secs_f64()
}

fn timed_loop(op: impl FnMut()) -> f64 {
    timed_loop_for(RUN, op)
}

fn timed_loop_for(run: Duration, mut op: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < run {
        for _ in 0..100 {
            op();
        }
        n += 100;
    }
    per_second(n, started.elapsed())
}

fn pgbench(url: &DatabaseUrl, script: &str) -> f64 {
    pgbench_for(url, script, RUN)
}

fn pgbench_for(url: &DatabaseUrl, script: &str, run: Duration) -> f64 {
    let (url_without_password, password) = url.split_password();
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(script.as_bytes())
        .expect("writing the pgbench script");
    let output = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-c", "1", "-T"])
        .arg(run.as_secs().max(1).to_string())
        .arg("-f")
        .arg(file.path())
        .arg(url_without_password.expose())
        .envs(pgpassword(password))
        .output()
        .expect("running pgbench (install the postgresql client tools)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pgbench failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a tps line in pgbench's output")
}

/// `PGPASSWORD` for a client tool, so the password stays off its command line (which `ps`
/// shows to every user of the machine).
fn pgpassword(password: Option<String>) -> Option<(&'static str, String)> {
    password.map(|p| ("PGPASSWORD", p))
}

fn get_user_by_id(url: &DatabaseUrl, pool: &Pool) -> Figure {
    let mut ids = ids();
    let value = timed_loop(|| {
        let id = ids.next().unwrap_or_default();
        let mut conn = pool.get().expect("a pooled connection");
        users::get_by_id(&mut conn, &id).expect("a seeded user");
    });
    let baseline_value = pgbench(
        url,
        &format!(
            "\\set n random(1, {SEED_USERS})\n\
             SELECT * FROM users WHERE id = 'u' || lpad(:n::text, 6, '0');\n"
        ),
    );
    // The cost of r2d2's default health check: a SELECT 1 before every checkout.
    let ping_pool = Pool::builder()
        .url(url.expose())
        .max_size(4)
        .health_check_after(Duration::ZERO)
        .build()
        .expect("building the pool");
    let mut ids = ids_offset();
    let pinged = timed_loop(|| {
        let id = ids.next().unwrap_or_default();
        let mut conn = ping_pool.get().expect("a pooled connection");
        users::get_by_id(&mut conn, &id).expect("a seeded user");
    });
    println!("# get_user_by_id with SELECT 1 on every checkout: {pinged:.1} ops/s");
    let mut raw = PgConnection::establish(url.expose()).expect("a raw connection");
    let mut ids = ids_offset();
    let diesel_raw = timed_loop(|| {
        let id = ids.next().unwrap_or_default();
        users::get_by_id(&mut raw, &id).expect("a seeded user");
    });
    println!("# get_user_by_id on one raw Diesel connection (no pool): {diesel_raw:.1} ops/s");
    Figure {
        name: "get_user_by_id",
        value,
        unit: "ops/s",
        baseline: "pgbench_prepared_select_c1",
        baseline_value,
    }
}

/// `get_user_by_id` inside `viben_db::transaction` (BEGIN with the SET LOCALs in one round
/// trip, then COMMIT: what keeps the statement timeout behind a transaction pooler), against
/// the plain call, in alternating one-second rounds (the machine is shared: figures measured
/// seconds apart move by tens of percent); then both through a PgBouncer in transaction mode.
fn get_user_by_id_in_transaction(url: &DatabaseUrl, pool: &Pool) -> Figure {
    const ROUNDS: u32 = 4;
    let round = Duration::from_secs(1);
    let side_by_side = |pool: &Pool| {
        let (mut plain, mut in_transaction) = (0.0, 0.0);
        let (mut ids, mut other_ids) = (ids_offset(), ids());
        for _ in 0..ROUNDS {
            plain += timed_loop_for(round, || {
                let id = ids.next().unwrap_or_default();
                let mut conn = pool.get().expect("a pooled connection");
                users::get_by_id(&mut conn, &id).expect("a seeded user");
            });
            in_transaction += timed_loop_for(round, || {
                let id = other_ids.next().unwrap_or_default();
                let mut conn = pool.get().expect("a pooled connection");
                viben_db::transaction(&mut conn, |conn| users::get_by_id(conn, &id))
                    .expect("a seeded user");
            });
        }
        (
            plain / f64::from(ROUNDS),
            in_transaction / f64::from(ROUNDS),
        )
    };
    let (baseline_value, value) = side_by_side(pool);

    let bouncer =
        viben_db::testing::PgBouncer::start(url, 2).expect("starting PgBouncer (install it)");
    let pooled = Pool::builder()
        .url(bouncer.url_for(url))
        .transaction_pooler(true)
        .max_size(4)
        .build()
        .expect("building the pool through PgBouncer");
    let (through, through_in_transaction) = side_by_side(&pooled);
    println!(
        "# get_user_by_id through PgBouncer (transaction mode): {through:.1} ops/s; \
         in viben_db::transaction: {through_in_transaction:.1} ops/s (ratio {:.3})",
        through_in_transaction / through
    );
    Figure {
        name: "get_user_by_id_in_transaction",
        value,
        unit: "ops/s",
        baseline: "get_user_by_id",
        baseline_value,
    }
}

fn ids_offset() -> impl Iterator<Item = String> {
    ids().skip(7)
}

fn insert_user(url: &DatabaseUrl, pool: &Pool) -> Figure {
    // Each insert waits for its commit to reach the disk, which on a shared machine varies
    // from second to second: measure in alternating one-second rounds and average.
    const ROUNDS: u32 = 3;
    let round = Duration::from_secs(1);
    let script = "INSERT INTO users (id, email, username) VALUES \
                  (gen_random_uuid()::text, gen_random_uuid()::text || '@example.com', \
                   'b' || replace(gen_random_uuid()::text, '-', ''));\n";
    let mut i = 0usize;
    let mut ours = 0.0;
    let mut baseline = 0.0;
    for _ in 0..ROUNDS {
        ours += timed_loop_for(round, || {
            i += 1;
            let mut conn = pool.get().expect("a pooled connection");
            users::create(
                &mut conn,
                &NewUser::new(format!("ins{i}@example.com"), format!("ins{i}")),
            )
            .expect("inserting a user");
        });
        baseline += pgbench_for(url, script, round);
    }
    Figure {
        name: "insert_user",
        value: ours / f64::from(ROUNDS),
        unit: "ops/s",
        baseline: "pgbench_prepared_insert_c1",
        baseline_value: baseline / f64::from(ROUNDS),
    }
}

fn bulk_rows() -> Vec<NewUser> {
    (0..BULK_ROWS)
        .map(|i| {
            let mut user = NewUser::new(format!("bulk{i}@example.com"), format!("bulk{i}"));
            user.id = Some(format!("b{i:07}"));
            user.display_name = Some(format!("Bulk User {i}"));
            user
        })
        .collect()
}

fn clear_bulk(conn: &mut PgConnection) {
    conn.batch_execute("TRUNCATE users, oauth_connections")
        .expect("clearing the bulk rows");
}

fn bulk_insert_users(url: &DatabaseUrl, conn: &mut PgConnection) -> Figure {
    let rows = bulk_rows();
    clear_bulk(conn);
    let started = Instant::now();
    let n = users::bulk_insert(conn, &rows).expect("COPY of the users");
    let value = per_second(n, started.elapsed());
    clear_bulk(conn);

    let started = Instant::now();
    let n = users::bulk_insert_chunked(conn, &rows, 1000).expect("multi-row inserts");
    let chunked = per_second(n, started.elapsed());
    println!("# bulk_insert_users with multi-row INSERTs of 1,000 rows: {chunked:.1} rows/s");
    clear_bulk(conn);

    let mut csv = tempfile::NamedTempFile::new().expect("a temporary file");
    for user in &rows {
        writeln!(
            csv,
            "{},{},{},{},false,user",
            user.id.as_deref().unwrap_or_default(),
            user.email,
            user.username,
            user.display_name.as_deref().unwrap_or_default()
        )
        .expect("writing the CSV");
    }
    csv.flush().expect("flushing the CSV");
    let started = Instant::now();
    let (url_without_password, password) = url.split_password();
    let output = Command::new("psql")
        .arg(url_without_password.expose())
        .envs(pgpassword(password))
        .args(["-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!(
            "\\copy users (id, email, username, display_name, email_verified, role) \
             FROM '{}' WITH (FORMAT csv)",
            csv.path().display()
        ))
        .output()
        .expect("running psql");
    let took = started.elapsed();
    assert!(
        output.status.success(),
        "psql \\copy failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    clear_bulk(conn);
    Figure {
        name: "bulk_insert_users",
        value,
        unit: "rows/s",
        baseline: "psql_copy",
        baseline_value: per_second(BULK_ROWS, took),
    }
}

#[derive(QueryableByName)]
#[expect(dead_code, reason = "read to measure the decoding, not used")]
struct RawUser {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    username: String,
    #[diesel(sql_type = Nullable<Text>)]
    display_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    avatar_url: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    github_username: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    email_verified: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    role: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    created_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    updated_at: Option<chrono::NaiveDateTime>,
}

#[derive(QueryableByName)]
#[expect(dead_code, reason = "read to measure the decoding, not used")]
struct RawConnection {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    user_id: Option<String>,
    #[diesel(sql_type = Text)]
    provider: String,
    #[diesel(sql_type = Text)]
    provider_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    access_token: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    created_at: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    updated_at: Option<chrono::NaiveDateTime>,
}

fn users_page_with_connections(pool: &Pool, url: &DatabaseUrl) -> Figure {
    // Pages of the seeded users (2 connections each); start over after the last page.
    let started = Instant::now();
    let mut seen = 0usize;
    let mut cursor = None;
    while started.elapsed() < RUN {
        let mut conn = pool.get().expect("a pooled connection");
        let page = users::list_with_connections(&mut conn, cursor.as_ref(), PAGE)
            .expect("a page with connections");
        seen += page.items.len();
        cursor = page.next;
    }
    let value = per_second(seen, started.elapsed());

    let mut raw = PgConnection::establish(url.expose()).expect("a raw connection");
    raw.batch_execute("SET TIME ZONE 'UTC'").expect("UTC");
    let started = Instant::now();
    let mut seen = 0usize;
    let mut after: Option<(Option<chrono::NaiveDateTime>, String)> = None;
    while started.elapsed() < RUN {
        let rows: Vec<RawUser> = match &after {
            None => diesel::sql_query(
                "SELECT * FROM users ORDER BY created_at ASC NULLS FIRST, id LIMIT $1",
            )
            .bind::<diesel::sql_types::BigInt, _>(i64::from(PAGE))
            .load(&mut raw),
            Some((at, id)) => diesel::sql_query(
                "SELECT * FROM users WHERE created_at > $1 OR (created_at = $1 AND id > $2) \
                 ORDER BY created_at ASC NULLS FIRST, id LIMIT $3",
            )
            .bind::<Nullable<Timestamp>, _>(*at)
            .bind::<Text, _>(id)
            .bind::<diesel::sql_types::BigInt, _>(i64::from(PAGE))
            .load(&mut raw),
        }
        .expect("a page of users");
        let ids: Vec<&str> = rows.iter().map(|u| u.id.as_str()).collect();
        let connections: Vec<RawConnection> = diesel::sql_query(
            "SELECT * FROM oauth_connections WHERE user_id = ANY($1) \
             ORDER BY created_at ASC NULLS FIRST, id",
        )
        .bind::<Array<Text>, _>(&ids)
        .load(&mut raw)
        .expect("their connections");
        std::hint::black_box(&connections);
        seen += rows.len();
        after = if rows.len() < PAGE as usize {
            None
        } else {
            rows.last().map(|u| (u.created_at, u.id.clone()))
        };
    }
    Figure {
        name: "users_page_with_connections",
        value,
        unit: "users/s",
        baseline: "hand_written_two_queries",
        baseline_value: per_second(seen, started.elapsed()),
    }
}
