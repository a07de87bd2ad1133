//! `viben db indexes` and doctor's recommendation, against a real database.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use common::viben_with;
use diesel::connection::SimpleConnection;
use viben_db::testing::TestDatabase;

fn run(database: &TestDatabase, args: &[&str]) -> common::Run {
    let home = tempfile::tempdir().expect("a temporary folder");
    viben_with(home.path(), Some(database.url().expose()), "", args)
}

#[test]
fn db_indexes_lists_the_recommended_indexes_and_apply_creates_the_missing_ones() {
    let database = TestDatabase::new();
    let listed = run(&database, &["db", "indexes"]);
    let out = listed.ok();
    assert!(out.contains("oauth_connections_user_id_idx"), "{out}");
    assert!(out.contains("users_created_at_id_idx"), "{out}");
    assert!(out.contains("missing"), "{out}");
    assert!(out.contains("viben db indexes --apply"), "{out}");

    let applied = run(&database, &["db", "indexes", "--apply", "--json"]).json();
    let states: Vec<_> = applied["indexes"]
        .as_array()
        .expect("indexes")
        .iter()
        .map(|i| (i["state"].clone(), i["applied"].clone()))
        .collect();
    assert!(
        states
            .iter()
            .all(|(state, applied)| state == "present" && applied == "created"),
        "{applied}"
    );
    // Known extras: the schema still matches.
    assert!(
        run(&database, &["db", "check"])
            .ok()
            .contains("the schema matches")
    );
}

#[test]
fn doctor_recommends_the_indexes_once_a_table_passes_ten_thousand_rows() {
    let database = TestDatabase::new();
    let small = run(&database, &["doctor", "--json"]);
    assert!(
        !small.stdout.contains("recommended index"),
        "no recommendation for small tables: {small:?}"
    );
    database
        .connection()
        .batch_execute(
            "INSERT INTO users (id, email, username) SELECT 'u' || n, 'u' || n || '@example.com', \
             'user' || n FROM generate_series(1, 10001) n",
        )
        .unwrap();
    let big = run(&database, &["doctor"]);
    assert_eq!(big.code, 1, "{big:?}");
    assert!(
        big.stdout.contains(
            "[FAIL] recommended index users_created_at_id_idx on users (10001 rows): missing"
        ),
        "{big:?}"
    );
    assert!(big.stdout.contains("viben db indexes --apply"), "{big:?}");
    run(&database, &["db", "indexes", "--apply"]).ok();
    let fixed = run(&database, &["doctor"]);
    assert!(
        fixed.stdout.contains(
            "[ ok ] recommended index users_created_at_id_idx on users (10001 rows): present"
        ),
        "{fixed:?}"
    );
}
