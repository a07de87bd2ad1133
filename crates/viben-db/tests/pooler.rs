//! Through a real PgBouncer in transaction mode: 8 clients sharing 2 server connections run
//! every kind of work viben-db does, and another client's session settings do not reach ours.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use viben_db::testing::{PgBouncer, TestDatabase};
use viben_db::{DatabaseUrl, Pool, QueryError, migrate, oauth_connections, users};
use viben_model::{NewOAuthConnection, NewUser, OAuthProvider, Secret};

use common::new_user;

const CLIENTS: usize = 8;
const SERVER_CONNECTIONS: u32 = 2;
const DRIZZLE_FIXTURE: &str = include_str!("fixtures/drizzle-made-database.sql");

/// A PgBouncer in front of `db`, and a pool of `CLIENTS` connections through it.
fn through_pgbouncer(db: &TestDatabase, server_connections: u32) -> (PgBouncer, Pool) {
    let bouncer = PgBouncer::start(db.url(), server_connections)
        .unwrap_or_else(|e| panic!("{}", viben_model::Chain(&e)));
    let pool = Pool::builder()
        .url(bouncer.url_for(db.url()))
        .transaction_pooler(true)
        .max_size(CLIENTS as u32)
        .build()
        .unwrap_or_else(|e| panic!("{}\n{}", viben_model::Chain(&e), bouncer.log()));
    (bouncer, pool)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many server sessions are open on `db`'s database (read directly, not through the
/// pooler).
fn server_sessions(db: &TestDatabase) -> i64 {
    let mut admin = db.connection();
    diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind::<Text, _>(db.name())
    .get_result::<Count>(&mut admin)
    .expect("counting server sessions")
    .n
}

/// Runs `work(client)` on `CLIENTS` threads at once, each holding its own pooled connection.
fn on_every_client<T: Send>(
    pool: &Pool,
    work: impl Fn(usize, &mut PgConnection) -> T + Sync,
) -> Vec<T> {
    let barrier = std::sync::Barrier::new(CLIENTS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    let mut conn = pool.get().expect("a pooled connection");
                    barrier.wait();
                    work(client, &mut conn)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a client thread"))
            .collect()
    })
}

#[test]
fn queries_inserts_copy_and_pagination_pass_with_8_clients_on_2_server_connections() {
    let db = TestDatabase::new();
    let (_bouncer, pool) = through_pgbouncer(&db, SERVER_CONNECTIONS);
    let per_client = on_every_client(&pool, |client, conn| {
        let created = users::create(conn, &new_user(client)).unwrap();
        assert_eq!(users::get_by_id(conn, &created.id).unwrap(), created);
        assert_eq!(
            users::get_by_email(conn, &created.email).unwrap().id,
            created.id
        );
        let batch: Vec<NewUser> = (0..50).map(|i| new_user(1000 * (client + 1) + i)).collect();
        assert_eq!(users::bulk_insert(conn, &batch).unwrap(), 50);
        viben_db::transaction(conn, users::count).unwrap()
    });
    assert!(per_client.iter().all(|&n| n >= 1), "{per_client:?}");
    assert_eq!(pool.state().0, CLIENTS as u32);
    let mut conn = pool.get().unwrap();
    let total = users::count(&mut conn).unwrap();
    assert_eq!(total, (CLIENTS * 51) as i64);
    let (mut seen, mut after) = (Vec::new(), None);
    loop {
        let page = users::list(&mut conn, after.as_ref(), 37).unwrap();
        seen.extend(page.items.into_iter().map(|u| u.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len() as i64, total);
    assert!(server_sessions(&db) <= i64::from(SERVER_CONNECTIONS));
}

#[test]
fn migrations_and_adopt_pass_through_pgbouncer() {
    let fresh = TestDatabase::empty();
    let (_bouncer, pool) = through_pgbouncer(&fresh, SERVER_CONNECTIONS);
    let applied = on_every_client(&pool, |_, conn| migrate::run_pending(conn).unwrap());
    assert_eq!(applied.iter().filter(|a| !a.is_empty()).count(), 1);
    let mut conn = pool.get().unwrap();
    assert!(migrate::status(&mut conn).unwrap().pending.is_empty());
    assert_eq!(migrate::check_drift(&mut conn).unwrap(), vec![]);

    let drizzle = TestDatabase::empty();
    drizzle.connection().batch_execute(DRIZZLE_FIXTURE).unwrap();
    let (_bouncer, pool) = through_pgbouncer(&drizzle, SERVER_CONNECTIONS);
    let mut conn = pool.get().unwrap();
    assert!(matches!(
        viben_db::adopt(&mut conn).unwrap(),
        viben_db::Adopted::Recorded(_)
    ));
    assert!(migrate::run_pending(&mut conn).unwrap().is_empty());
    assert_eq!(migrate::check_drift(&mut conn).unwrap(), vec![]);
}

#[test]
fn find_or_create_and_link_races_resolve_through_pgbouncer() {
    let db = TestDatabase::new();
    let (_bouncer, pool) = through_pgbouncer(&db, SERVER_CONNECTIONS);
    let found = on_every_client(&pool, |_, conn| {
        users::find_or_create_by_email(conn, &new_user(7)).unwrap()
    });
    assert_eq!(found.iter().filter(|r| r.created).count(), 1);
    let user = &found[0].user;
    assert!(found.iter().all(|r| r.user.id == user.id));

    let linked = on_every_client(&pool, |_, conn| {
        let new = NewOAuthConnection::new(&user.id, OAuthProvider::GitHub, "race")
            .with_access_token(Secret::new("gho_token_1"));
        oauth_connections::link(conn, &new)
    });
    assert!(linked.iter().all(Result::is_ok), "{linked:?}");
    let mut conn = pool.get().unwrap();
    assert_eq!(users::count(&mut conn).unwrap(), 1);
    assert_eq!(
        oauth_connections::list_for_user(&mut conn, &user.id)
            .unwrap()
            .len(),
        1
    );
    assert!(server_sessions(&db) <= i64::from(SERVER_CONNECTIONS));
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

fn connect(url: &DatabaseUrl) -> PgConnection {
    PgConnection::establish(url.expose()).expect("connecting through PgBouncer")
}

#[test]
fn another_clients_time_zone_and_statement_timeout_do_not_reach_ours() {
    let db = TestDatabase::new();
    // One server connection: every client's transactions run on it.
    let bouncer = PgBouncer::start(db.url(), 1).unwrap();
    let url = bouncer.url_for(db.url());
    let pool = Pool::builder()
        .url(&url)
        .transaction_pooler(true)
        .statement_timeout(Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    let mut ours = pool.get().unwrap();
    let mut theirs = connect(&url);
    theirs
        .batch_execute("SET TIME ZONE 'America/New_York'; SET statement_timeout = '1h'")
        .unwrap();

    // The session is shared: their statement_timeout is on the server connection we get.
    assert_eq!(show(&mut ours, "statement_timeout"), "1h");
    // TimeZone is a parameter PgBouncer keeps per client, and sets back for us.
    assert_eq!(show(&mut ours, "TimeZone"), "UTC");
    assert_eq!(show(&mut theirs, "TimeZone"), "America/New_York");

    // Writes store UTC, and read back as written.
    let before = Utc::now() - chrono::Duration::seconds(1);
    let created = users::create(&mut ours, &new_user(1)).unwrap();
    let after = Utc::now() + chrono::Duration::seconds(1);
    let at = created.created_at.unwrap();
    assert!(before <= at && at <= after, "{before} <= {at} <= {after}");
    assert_eq!(users::get_by_id(&mut ours, &created.id).unwrap(), created);
    let read_by_them = users::get_by_id(&mut theirs, &created.id).unwrap();
    assert_eq!(read_by_them.created_at, created.created_at);

    // Inside viben_db::transaction, our timeout holds on their connection...
    let started = Instant::now();
    let err = viben_db::transaction(&mut ours, |conn| {
        assert_eq!(show(conn, "statement_timeout"), "300ms");
        assert_eq!(show(conn, "TimeZone"), "UTC");
        diesel::sql_query("SELECT pg_sleep(5)")
            .execute(conn)
            .map_err(QueryError::from)
    })
    .unwrap_err();
    assert!(
        matches!(err, QueryError::StatementTimeout { .. }),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // ... and ends with it: their setting is back.
    assert_eq!(show(&mut theirs, "statement_timeout"), "1h");
    assert_eq!(show(&mut theirs, "TimeZone"), "America/New_York");
}
