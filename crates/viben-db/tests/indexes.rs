//! The recommended indexes: created concurrently on request, resumable, and known extras to
//! the drift check and adopt.

use diesel::connection::SimpleConnection;
use viben_db::catalog::Difference;
use viben_db::indexes::{self, Applied, IndexState, RECOMMENDED};
use viben_db::migrate;
use viben_db::testing::TestDatabase;

const DRIZZLE_FIXTURE: &str = include_str!("fixtures/drizzle-made-database.sql");

fn states(conn: &mut diesel::PgConnection) -> Vec<(&'static str, IndexState)> {
    indexes::status(conn)
        .expect("reading the indexes")
        .into_iter()
        .map(|s| (s.index.name, s.state))
        .collect()
}

#[test]
fn apply_creates_the_missing_indexes_exactly_as_recommended_and_is_safe_to_run_again() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    assert!(
        states(&mut conn)
            .iter()
            .all(|(_, state)| *state == IndexState::Missing)
    );
    let applied = indexes::apply(&mut conn).unwrap();
    assert_eq!(
        applied.iter().map(|(_, a)| *a).collect::<Vec<_>>(),
        vec![Applied::Created; RECOMMENDED.len()]
    );
    // Present means PostgreSQL prints the definition exactly as recommended.
    assert!(
        states(&mut conn)
            .iter()
            .all(|(_, state)| *state == IndexState::Present),
        "{:?}",
        states(&mut conn)
    );
    let again = indexes::apply(&mut conn).unwrap();
    assert!(again.iter().all(|(_, a)| *a == Applied::AlreadyPresent));
}

#[test]
fn the_recommended_indexes_are_not_drift_and_do_not_stop_adopt() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    indexes::apply(&mut conn).unwrap();
    assert_eq!(migrate::check_drift(&mut conn).unwrap(), vec![]);

    let web = TestDatabase::empty();
    let mut conn = web.connection();
    conn.batch_execute(DRIZZLE_FIXTURE).unwrap();
    indexes::apply(&mut conn).unwrap();
    assert!(matches!(
        migrate::adopt(&mut conn).unwrap(),
        viben_db::Adopted::Recorded(_)
    ));
}

#[test]
fn an_index_of_a_recommended_name_with_another_definition_is_drift_and_left_alone() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    conn.batch_execute("CREATE INDEX users_created_at_id_idx ON users (created_at, id)")
        .unwrap();
    let state = states(&mut conn)
        .into_iter()
        .find(|(name, _)| *name == "users_created_at_id_idx")
        .map(|(_, state)| state);
    assert!(
        matches!(state, Some(IndexState::Different { .. })),
        "{state:?}"
    );
    let applied = indexes::apply(&mut conn).unwrap();
    assert!(
        applied
            .iter()
            .any(|(index, a)| index.name == "users_created_at_id_idx" && *a == Applied::LeftAlone)
    );
    let drift = migrate::check_drift(&mut conn).unwrap();
    assert!(
        drift
            .iter()
            .any(|d| matches!(d, Difference::ExtraIndex { name, .. } if name == "users_created_at_id_idx")),
        "{drift:?}"
    );
}

#[test]
fn an_index_an_interrupted_build_left_invalid_is_rebuilt() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    indexes::apply(&mut conn).unwrap();
    // What an interrupted CREATE INDEX CONCURRENTLY leaves behind.
    conn.batch_execute(
        "UPDATE pg_index SET indisvalid = false \
         WHERE indexrelid = 'users_created_at_id_idx'::regclass",
    )
    .unwrap();
    assert!(
        states(&mut conn).contains(&("users_created_at_id_idx", IndexState::Invalid)),
        "{:?}",
        states(&mut conn)
    );
    let applied = indexes::apply(&mut conn).unwrap();
    assert!(
        applied
            .iter()
            .any(|(index, a)| index.name == "users_created_at_id_idx" && *a == Applied::Rebuilt)
    );
    assert!(
        states(&mut conn)
            .iter()
            .all(|(_, state)| *state == IndexState::Present)
    );
}

#[test]
fn status_gives_each_table_its_rows_and_size() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    conn.batch_execute(
        "INSERT INTO users (id, email, username) \
         SELECT 'u' || n, 'u' || n || '@example.com', 'user' || n FROM generate_series(1, 25) n",
    )
    .unwrap();
    let status = indexes::status(&mut conn).unwrap();
    let users = status
        .iter()
        .find(|s| s.index.table == "users")
        .expect("the users index");
    assert_eq!(users.table_rows, Some(25));
    assert!(users.table_bytes.is_some_and(|b| b > 0));
}

#[test]
fn apply_is_not_cut_short_by_the_statement_timeout_and_puts_it_back() {
    let db = TestDatabase::new();
    db.connection()
        .batch_execute(
            "INSERT INTO users (id, email, username) SELECT 'u' || n, 'u' || n || '@example.com', \
             'user' || n FROM generate_series(1, 20000) n",
        )
        .expect("seeding");
    // A timeout far shorter than a concurrent build of 20,000 rows.
    let mut conn = viben_db::PoolBuilder::default()
        .url(db.url())
        .statement_timeout(Some(std::time::Duration::from_millis(1)))
        .connect()
        .expect("a connection");
    let applied = indexes::apply(&mut conn).expect("built despite the 1 ms timeout");
    assert!(
        applied.iter().all(|(_, a)| *a == Applied::Created),
        "{applied:?}"
    );
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let setting: Setting = diesel::RunQueryDsl::get_result(
        diesel::sql_query("SELECT current_setting('statement_timeout') AS value"),
        &mut conn,
    )
    .expect("the setting");
    assert_eq!(setting.value, "1ms");
}

#[test]
fn apply_on_a_database_without_the_tables_builds_nothing_and_says_why() {
    let db = TestDatabase::empty();
    let applied = indexes::apply(&mut db.connection()).expect("no error, nothing to build");
    assert!(
        applied.iter().all(|(_, a)| *a == Applied::NoTable),
        "{applied:?}"
    );
}
