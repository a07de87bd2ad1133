//! `db push`: a live database brought to the migrations' schema in one transaction, without
//! destroying data silently.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use viben_db::catalog::Difference;
use viben_db::migrate::{self, MIGRATIONS};
use viben_db::push::{self, DataLoss, PushError};
use viben_db::testing::TestDatabase;

const DRIZZLE_FIXTURE: &str = include_str!("fixtures/drizzle-made-database.sql");

#[derive(QueryableByName, Debug, PartialEq)]
struct Row {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Nullable<Text>)]
    display_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    role: Option<String>,
}

fn rows(conn: &mut PgConnection) -> Vec<Row> {
    diesel::sql_query("SELECT id, email, display_name, role FROM users ORDER BY id")
        .load(conn)
        .expect("reading users")
}

fn with_users(conn: &mut PgConnection) {
    conn.batch_execute(
        "INSERT INTO users (id, email, username, display_name, role, github_username) VALUES \
         ('u1', 'ada@example.com', 'ada', 'Ada', 'admin', 'ada-gh'), \
         ('u2', 'bob@example.com', 'bob', NULL, 'moderator', NULL)",
    )
    .expect("inserting users");
}

/// Everything still different after a push is what a push leaves alone.
fn only_left_alone(conn: &mut PgConnection) -> Vec<Difference> {
    migrate::check_drift(conn)
        .expect("checking drift")
        .into_iter()
        .filter(|d| {
            !matches!(
                d,
                Difference::ColumnOrder { .. }
                    | Difference::ExtraColumn { .. }
                    | Difference::ExtraTable { .. }
                    | Difference::ExtraIndex { .. }
                    | Difference::ExtraConstraint { .. }
            )
        })
        .collect()
}

#[test]
fn a_dropped_column_comes_back_and_every_other_value_stays() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    with_users(&mut conn);
    let before = rows(&mut conn);
    conn.batch_execute("ALTER TABLE users DROP COLUMN github_username")
        .unwrap();

    let plan = push::plan(&mut conn, &MIGRATIONS).unwrap();
    assert_eq!(plan.steps.len(), 1, "{plan:#?}");
    assert_eq!(plan.steps[0].summary, "add column users.github_username");
    assert_eq!(
        plan.steps[0].sql,
        "ALTER TABLE users ADD COLUMN github_username text;"
    );
    let pushed = push::push(&mut conn, &MIGRATIONS, &plan, DataLoss::Refuse).unwrap();
    assert_eq!(pushed.steps, plan.steps);
    assert!(pushed.recorded.is_empty(), "already recorded: {pushed:?}");

    assert_eq!(rows(&mut conn), before);
    assert_eq!(only_left_alone(&mut conn), vec![]);
    // The restored column is usable again.
    viben_db::users::get_by_id(&mut conn, "u1").unwrap();
}

#[test]
fn a_changed_default_is_restored() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    conn.batch_execute("ALTER TABLE users ALTER COLUMN role SET DEFAULT 'member'")
        .unwrap();
    let plan = push::plan(&mut conn, &MIGRATIONS).unwrap();
    assert_eq!(
        plan.steps
            .iter()
            .map(|s| s.sql.as_str())
            .collect::<Vec<_>>(),
        ["ALTER TABLE users ALTER COLUMN role SET DEFAULT 'user'::text;"]
    );
    push::push(&mut conn, &MIGRATIONS, &plan, DataLoss::Refuse).unwrap();
    assert_eq!(migrate::check_drift(&mut conn).unwrap(), vec![]);
}

#[test]
fn a_type_change_is_refused_without_allowing_data_loss_and_names_the_rows() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    with_users(&mut conn);
    conn.batch_execute("ALTER TABLE users ALTER COLUMN display_name TYPE varchar(64)")
        .unwrap();
    let plan = push::plan(&mut conn, &MIGRATIONS).unwrap();
    let losing: Vec<_> = plan.data_loss().collect();
    assert_eq!(losing.len(), 1, "{plan:#?}");
    assert_eq!(losing[0].rewrites_rows, Some(2));

    let err = push::push(&mut conn, &MIGRATIONS, &plan, DataLoss::Refuse).unwrap_err();
    assert!(matches!(err, PushError::DataLoss { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("users.display_name") && message.contains("2 row(s)"),
        "{message}"
    );
    let hint = viben_model::Hint::hint(&err).unwrap_or_default();
    assert!(hint.contains("--allow-data-loss"), "{hint}");
    // Nothing changed.
    assert_eq!(push::plan(&mut conn, &MIGRATIONS).unwrap(), plan);

    push::push(&mut conn, &MIGRATIONS, &plan, DataLoss::Allow).unwrap();
    assert_eq!(migrate::check_drift(&mut conn).unwrap(), vec![]);
    assert_eq!(rows(&mut conn)[0].display_name.as_deref(), Some("Ada"));
}

#[test]
fn extra_columns_tables_and_indexes_are_listed_and_kept_with_their_data() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    with_users(&mut conn);
    conn.batch_execute(
        "ALTER TABLE users ADD COLUMN nickname text;
         UPDATE users SET nickname = 'the countess' WHERE id = 'u1';
         CREATE TABLE notes (id text PRIMARY KEY, body text);
         INSERT INTO notes VALUES ('n1', 'keep me');
         CREATE INDEX users_role_idx ON users (role);
         ALTER TABLE users DROP COLUMN avatar_url;",
    )
    .unwrap();
    let plan = push::plan(&mut conn, &MIGRATIONS).unwrap();
    assert_eq!(plan.steps.len(), 1, "{plan:#?}");
    let kept: Vec<String> = plan.left_alone.iter().map(ToString::to_string).collect();
    for extra in [
        "column users.nickname",
        "table notes",
        "index users_role_idx",
    ] {
        assert!(
            kept.iter().any(|k| k.starts_with(extra)),
            "{extra} not in {kept:#?}"
        );
    }
    push::push(&mut conn, &MIGRATIONS, &plan, DataLoss::Refuse).unwrap();
    conn.batch_execute(
        "DO $$ BEGIN
           IF (SELECT nickname FROM users WHERE id = 'u1') IS DISTINCT FROM 'the countess'
              OR (SELECT body FROM notes WHERE id = 'n1') IS DISTINCT FROM 'keep me'
              OR to_regclass('users_role_idx') IS NULL
           THEN RAISE EXCEPTION 'an extra object lost its data'; END IF;
         END $$;",
    )
    .unwrap();
    assert_eq!(only_left_alone(&mut conn), vec![]);
}

#[test]
fn an_empty_database_is_pushed_to_the_whole_schema_and_every_migration_is_recorded() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    let plan = push::plan(&mut conn, &MIGRATIONS).unwrap();
    assert!(
        plan.steps.iter().any(|s| s.summary == "create table users"),
        "{plan:#?}"
    );
    let pushed = push::push(&mut conn, &MIGRATIONS, &plan, DataLoss::Refuse).unwrap();
    assert_eq!(pushed.recorded, MIGRATIONS.versions().unwrap());
    assert_eq!(migrate::check_drift(&mut conn).unwrap(), vec![]);
    let status = migrate::status(&mut conn).unwrap();
    assert!(status.pending.is_empty(), "{status:?}");
    assert!(migrate::run_pending(&mut conn).unwrap().is_empty());
}

#[test]
fn a_drizzle_made_database_with_a_dropped_column_is_pushed_and_then_agrees_with_migrate() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    conn.batch_execute(DRIZZLE_FIXTURE).unwrap();
    conn.batch_execute("ALTER TABLE users DROP COLUMN avatar_url")
        .unwrap();
    let plan = push::plan(&mut conn, &MIGRATIONS).unwrap();
    let pushed = push::push(&mut conn, &MIGRATIONS, &plan, DataLoss::Refuse).unwrap();
    assert_eq!(pushed.recorded, MIGRATIONS.versions().unwrap());
    assert!(migrate::run_pending(&mut conn).unwrap().is_empty());
    assert_eq!(only_left_alone(&mut conn), vec![]);
}

#[test]
fn a_plan_made_before_the_database_changed_is_refused_and_changes_nothing() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    conn.batch_execute("ALTER TABLE users DROP COLUMN github_username")
        .unwrap();
    let plan = push::plan(&mut conn, &MIGRATIONS).unwrap();
    conn.batch_execute("ALTER TABLE users DROP COLUMN avatar_url")
        .unwrap();
    let err = push::push(&mut conn, &MIGRATIONS, &plan, DataLoss::Refuse).unwrap_err();
    assert!(matches!(err, PushError::PlanChanged), "{err:?}");
    assert_eq!(push::plan(&mut conn, &MIGRATIONS).unwrap().steps.len(), 2);
}
