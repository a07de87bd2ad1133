//! `viben db push`, run as a developer runs it against a real database.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use common::viben_with;
use diesel::connection::SimpleConnection;
use viben_db::testing::TestDatabase;

fn push(database: &TestDatabase, args: &[&str]) -> common::Run {
    let home = tempfile::tempdir().expect("a temporary folder");
    let mut all = vec!["db", "push"];
    all.extend_from_slice(args);
    viben_with(home.path(), Some(database.url().expose()), "", &all)
}

fn has_column(database: &TestDatabase, table: &str, column: &str) -> bool {
    database
        .connection()
        .batch_execute(&format!("SELECT {column} FROM {table} LIMIT 0"))
        .is_ok()
}

#[test]
fn push_shows_the_sql_and_restores_a_dropped_column_with_the_rows_kept() {
    let database = TestDatabase::new();
    let mut conn = database.connection();
    conn.batch_execute(
        "INSERT INTO users (id, email, username, display_name) \
         VALUES ('u1', 'ada@example.com', 'ada', 'Ada');
         ALTER TABLE users DROP COLUMN github_username;",
    )
    .unwrap();
    let run = push(&database, &["--yes"]);
    let out = run.ok();
    assert!(
        out.contains("-- add column users.github_username\nALTER TABLE users ADD COLUMN github_username text;"),
        "{out}"
    );
    assert!(
        out.contains("pushed: 1 statement(s) in one transaction"),
        "{out}"
    );
    assert!(has_column(&database, "users", "github_username"));
    let home = tempfile::tempdir().unwrap();
    let shown = viben_with(
        home.path(),
        Some(database.url().expose()),
        "",
        &["db", "users", "show", "ada", "--json"],
    )
    .json();
    assert_eq!(shown["display_name"], "Ada");
    // Migrate and check agree afterwards.
    let check = viben_with(
        home.path(),
        Some(database.url().expose()),
        "",
        &["db", "check"],
    );
    assert!(check.ok().contains("the schema matches"), "{check:?}");
    let again = push(&database, &[]);
    assert!(
        again.ok().contains("nothing to push"),
        "a second push has nothing to do: {again:?}"
    );
}

#[test]
fn without_a_terminal_and_without_yes_push_refuses_and_changes_nothing() {
    let database = TestDatabase::new();
    database
        .connection()
        .batch_execute("ALTER TABLE users DROP COLUMN avatar_url")
        .unwrap();
    let run = push(&database, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--yes"), "{run:?}");
    assert!(!has_column(&database, "users", "avatar_url"));
}

#[test]
fn dry_run_prints_the_sql_and_changes_nothing() {
    let database = TestDatabase::new();
    database
        .connection()
        .batch_execute("ALTER TABLE users ALTER COLUMN role SET DEFAULT 'member'")
        .unwrap();
    let run = push(&database, &["--dry-run"]);
    assert!(
        run.ok()
            .contains("ALTER TABLE users ALTER COLUMN role SET DEFAULT 'user'::text;"),
        "{run:?}"
    );
    let json = push(&database, &["--dry-run", "--json"]).json();
    assert_eq!(json["applied"], false);
    assert_eq!(json["steps"].as_array().map(Vec::len), Some(1));
    // Still the changed default.
    let after = push(&database, &["--dry-run", "--json"]).json();
    assert_eq!(after["steps"], json["steps"]);
}

#[test]
fn a_type_change_needs_allow_data_loss_and_names_the_rows() {
    let database = TestDatabase::new();
    database
        .connection()
        .batch_execute(
            "INSERT INTO users (id, email, username) VALUES ('u1', 'a@example.com', 'ada');
             ALTER TABLE users ALTER COLUMN display_name TYPE varchar(64);",
        )
        .unwrap();
    let run = push(&database, &["--yes"]);
    let err = run.failed();
    assert!(err.contains("may lose data"), "{run:?}");
    assert!(err.contains("--allow-data-loss"), "{run:?}");
    assert!(
        run.stdout.contains("(may lose data: rewrites 1 row(s))"),
        "{run:?}"
    );
    let json = push(&database, &["--yes", "--allow-data-loss", "--json"]).json();
    assert_eq!(json["applied"], true);
    let check = push(&database, &["--dry-run", "--json"]).json();
    assert_eq!(check["steps"], serde_json::json!([]));
}

#[test]
fn extra_objects_are_listed_and_left_alone() {
    let database = TestDatabase::new();
    database
        .connection()
        .batch_execute(
            "ALTER TABLE users ADD COLUMN nickname text;
             ALTER TABLE users DROP COLUMN avatar_url;",
        )
        .unwrap();
    let run = push(&database, &["--yes"]);
    let out = run.ok();
    assert!(
        out.contains("-- left alone: column users.nickname exists but is not part of the schema"),
        "{out}"
    );
    assert!(has_column(&database, "users", "nickname"));
    assert!(has_column(&database, "users", "avatar_url"));
}

#[test]
fn db_check_and_doctor_report_the_naming_conventions_as_warnings() {
    let database = TestDatabase::new();
    database
        .connection()
        .batch_execute(
            "CREATE TABLE \"Audit\" (id text PRIMARY KEY, active boolean, happened timestamp, \
             owner text REFERENCES users(id))",
        )
        .unwrap();
    let home = tempfile::tempdir().expect("a temporary folder");
    let url = Some(database.url().expose());
    let check = viben_with(home.path(), url, "", &["db", "check"]);
    // The extra table is drift (exit 1); the names are warnings on top.
    let stderr = check.failed();
    for warning in [
        "warning: naming convention: table Audit is not plural snake_case",
        "warning: naming convention: boolean column Audit.active does not start with is_ or has_",
        "warning: naming convention: timestamp column Audit.happened does not end with _at",
        "warning: naming convention: foreign key column Audit.owner does not end with _id",
    ] {
        assert!(stderr.contains(warning), "missing {warning:?} in {check:?}");
    }
    assert!(
        !stderr.contains("email_verified"),
        "the documented exception is not reported: {check:?}"
    );
    let doctor = viben_with(home.path(), url, "", &["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&doctor.stdout).expect("one JSON report");
    let naming = report["checks"]
        .as_array()
        .and_then(|checks| {
            checks.iter().find(|c| {
                c["check"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("naming conventions"))
            })
        })
        .expect("doctor reports the naming conventions");
    assert_eq!(naming["ok"], true);
    assert_eq!(
        naming["details"].as_array().map(Vec::len),
        Some(4),
        "{naming}"
    );
}
