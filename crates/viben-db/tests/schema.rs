//! The schema after migrating, migrations up/down/up, adopting a Drizzle-made database, drift.

mod common;

use common::Statements;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use viben_db::Adopted;
use viben_db::catalog::{self, Difference};
use viben_db::testing::TestDatabase;
use viben_db::{MigrationError, QueryError, migrate};
use viben_model::Hint;

const DRIZZLE_FIXTURE: &str = include_str!("fixtures/drizzle-made-database.sql");

#[derive(QueryableByName, Debug, PartialEq)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Nullable<Text>)]
    column_default: Option<String>,
}

fn columns(conn: &mut PgConnection) -> Vec<(String, String, String, bool, Option<String>)> {
    diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
         data_type::text AS data_type, (is_nullable = 'YES') AS nullable, \
         column_default::text AS column_default FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name IN ('users', 'oauth_connections') \
         ORDER BY table_name DESC, ordinal_position",
    )
    .load::<Column>(conn)
    .expect("reading information_schema.columns")
    .into_iter()
    .map(|c| {
        (
            c.table_name,
            c.column_name,
            c.data_type,
            c.nullable,
            c.column_default,
        )
    })
    .collect()
}

#[derive(QueryableByName, Debug)]
struct Constraint {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

fn constraints(conn: &mut PgConnection) -> Vec<(String, String)> {
    diesel::sql_query(
        "SELECT c.conname::text AS name, pg_get_constraintdef(c.oid) AS definition \
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE n.nspname = 'public' ORDER BY 1",
    )
    .load::<Constraint>(conn)
    .expect("reading pg_constraint")
    .into_iter()
    .map(|c| (c.name, c.definition))
    .collect()
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn catalog_after_migrating_is_exactly_the_specified_schema() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let t = "timestamp without time zone";
    let now = Some(s("now()"));
    let expected = vec![
        (s("users"), s("id"), s("text"), false, None),
        (s("users"), s("email"), s("text"), false, None),
        (s("users"), s("username"), s("text"), false, None),
        (s("users"), s("display_name"), s("text"), true, None),
        (s("users"), s("avatar_url"), s("text"), true, None),
        (s("users"), s("github_username"), s("text"), true, None),
        (
            s("users"),
            s("email_verified"),
            s("boolean"),
            true,
            Some(s("false")),
        ),
        (
            s("users"),
            s("role"),
            s("text"),
            true,
            Some(s("'user'::text")),
        ),
        (s("users"), s("created_at"), s(t), true, now.clone()),
        (s("users"), s("updated_at"), s(t), true, now.clone()),
        (s("oauth_connections"), s("id"), s("text"), false, None),
        (s("oauth_connections"), s("user_id"), s("text"), true, None),
        (
            s("oauth_connections"),
            s("provider"),
            s("text"),
            false,
            None,
        ),
        (
            s("oauth_connections"),
            s("provider_id"),
            s("text"),
            false,
            None,
        ),
        (
            s("oauth_connections"),
            s("access_token"),
            s("text"),
            true,
            None,
        ),
        (
            s("oauth_connections"),
            s("created_at"),
            s(t),
            true,
            now.clone(),
        ),
        (s("oauth_connections"), s("updated_at"), s(t), true, now),
    ];
    assert_eq!(columns(&mut conn), expected);
    assert_eq!(
        constraints(&mut conn),
        vec![
            (
                s("__diesel_schema_migrations_pkey"),
                s("PRIMARY KEY (version)")
            ),
            (s("oauth_connections_pkey"), s("PRIMARY KEY (id)")),
            (
                s("oauth_connections_user_id_users_id_fk"),
                s("FOREIGN KEY (user_id) REFERENCES users(id)")
            ),
            (s("users_email_unique"), s("UNIQUE (email)")),
            (s("users_pkey"), s("PRIMARY KEY (id)")),
            (s("users_username_unique"), s("UNIQUE (username)")),
        ]
    );
    let live = catalog::read(&mut conn).expect("reading the catalog");
    let fk = live
        .constraints
        .iter()
        .find(|c| c.name == "oauth_connections_user_id_users_id_fk")
        .expect("the foreign key exists");
    assert_eq!((fk.on_delete.as_str(), fk.on_update.as_str()), ("a", "a"));
    let mut indexes: Vec<&str> = live
        .indexes
        .iter()
        .filter(|i| i.table_name != "__diesel_schema_migrations")
        .map(|i| i.name.as_str())
        .collect();
    indexes.sort_unstable();
    assert_eq!(
        indexes,
        [
            "oauth_connections_pkey",
            "users_email_unique",
            "users_pkey",
            "users_username_unique"
        ]
    );
    assert_eq!(
        catalog::diff(
            &migrate::MIGRATIONS.latest_schema().unwrap(),
            &catalog::Schema::of(&live)
        ),
        vec![]
    );
}

#[test]
fn migrations_make_the_same_catalog_as_the_drizzle_ddl() {
    let migrated = TestDatabase::new();
    let drizzle = TestDatabase::empty();
    let mut conn = drizzle.connection();
    conn.batch_execute(DRIZZLE_FIXTURE).unwrap();
    let mut a = catalog::read(&mut migrated.connection()).unwrap();
    let mut b = catalog::read(&mut conn).unwrap();
    for live in [&mut a, &mut b] {
        live.tables.retain(|t| t != "__diesel_schema_migrations");
        live.columns
            .retain(|c| c.table_name != "__diesel_schema_migrations");
        live.constraints
            .retain(|c| c.table_name != "__diesel_schema_migrations");
        live.indexes
            .retain(|c| c.table_name != "__diesel_schema_migrations");
    }
    assert_eq!(a, b);
}

#[test]
fn naming_rules_hold_on_the_live_catalog_except_email_verified() {
    let db = TestDatabase::new();
    let live = catalog::read(&mut db.connection()).unwrap();
    assert_eq!(catalog::naming_violations(&live), Vec::<String>::new());
    assert_eq!(catalog::NAMING_EXCEPTIONS, ["users.email_verified"]);
    // Without the exception, email_verified is the one violation.
    let mut renamed = live.clone();
    for column in &mut renamed.columns {
        if column.column_name == "email_verified" {
            column.table_name = "accounts".into();
        }
    }
    renamed.tables.push("accounts".into());
    assert_eq!(
        catalog::naming_violations(&renamed),
        ["boolean column accounts.email_verified does not start with is_ or has_"]
    );
}

fn pg_dump_schema(db: &TestDatabase) -> Option<String> {
    let output = std::process::Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "--no-privileges", "-d"])
        .arg(db.url().expose())
        .output()
        .ok()?;
    // `\restrict` lines carry a random key per dump (pg_dump 15.14 and later): leave them out.
    output.status.success().then(|| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[test]
fn migrations_run_up_down_up_leave_the_same_catalog() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    let applied = migrate::run_pending(&mut conn).unwrap();
    assert_eq!(applied.len(), 1);
    let first = catalog::read(&mut conn).unwrap();
    let first_dump = pg_dump_schema(&db);

    let reverted = migrate::revert_all(&mut conn).unwrap();
    assert_eq!(reverted, applied);
    let empty = catalog::read(&mut conn).unwrap();
    assert_eq!(empty.tables, ["__diesel_schema_migrations"]);
    let status = migrate::status(&mut conn).unwrap();
    assert!(status.applied.is_empty());
    assert_eq!(status.pending, applied);

    assert_eq!(migrate::run_pending(&mut conn).unwrap(), applied);
    assert_eq!(catalog::read(&mut conn).unwrap(), first);
    if let (Some(before), Some(after)) = (first_dump, pg_dump_schema(&db)) {
        assert_eq!(before, after);
    }
    let status = migrate::status(&mut conn).unwrap();
    assert_eq!(status.applied, applied);
    assert!(status.pending.is_empty());
}

#[test]
fn running_migrations_twice_applies_nothing_the_second_time() {
    let db = TestDatabase::new();
    assert!(
        migrate::run_pending(&mut db.connection())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn concurrent_migrations_from_several_connections_are_serialized() {
    let db = TestDatabase::empty();
    let results: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| migrate::run_pending(&mut db.connection()).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| !r.is_empty()).count(), 1);
    assert_eq!(catalog::check_drift(&mut db.connection()).unwrap(), vec![]);
}

#[test]
fn adopt_records_the_initial_migration_on_a_drizzle_made_database() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    conn.batch_execute(DRIZZLE_FIXTURE).unwrap();
    conn.batch_execute(
        "INSERT INTO users (id, email, username) VALUES ('u1', 'ada@example.com', 'ada')",
    )
    .unwrap();
    let adopted = viben_db::adopt(&mut conn).unwrap();
    let status = migrate::status(&mut conn).unwrap();
    assert_eq!(adopted, Adopted::Recorded(status.applied.clone()));
    assert!(status.pending.is_empty());
    assert!(migrate::run_pending(&mut conn).unwrap().is_empty());
    assert_eq!(viben_db::users::count(&mut conn).unwrap(), 1);
    assert_eq!(viben_db::adopt(&mut conn).unwrap(), Adopted::AlreadyManaged);
    // Drizzle's bookkeeping is left alone.
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let drizzle = diesel::sql_query("SELECT count(*) AS n FROM drizzle.__drizzle_migrations")
        .get_result::<Count>(&mut conn)
        .unwrap();
    assert_eq!(drizzle.n, 1);
}

#[test]
fn a_drizzle_database_repaired_with_the_shown_sql_can_be_adopted() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    conn.batch_execute(DRIZZLE_FIXTURE).unwrap();
    conn.batch_execute(
        "ALTER TABLE users DROP COLUMN avatar_url;
         ALTER TABLE users ALTER COLUMN role SET DEFAULT 'member';
         ALTER TABLE users DROP CONSTRAINT users_username_unique;
         CREATE INDEX oauth_provider_idx ON oauth_connections (provider, provider_id);",
    )
    .unwrap();
    let MigrationError::SchemaMismatch(differences) = viben_db::adopt(&mut conn).unwrap_err()
    else {
        panic!("expected SchemaMismatch");
    };
    let expected = migrate::MIGRATIONS.latest_schema().unwrap();
    let sql: Vec<String> = differences
        .iter()
        .filter_map(|d| d.repair_sql(&expected))
        .collect();
    assert_eq!(sql.len(), differences.len(), "{differences:#?}");
    conn.batch_execute(&sql.join("\n")).unwrap();
    // The restored column comes last: only the order differs now, which changes no query.
    let left = catalog::check_drift(&mut conn).unwrap();
    assert!(
        !left.is_empty() && left.iter().all(Difference::is_cosmetic),
        "{left:#?}"
    );
    assert!(matches!(
        viben_db::adopt(&mut conn).unwrap(),
        Adopted::Recorded(_)
    ));
}

#[test]
fn adopt_refuses_a_changed_database_and_lists_every_difference() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    conn.batch_execute(DRIZZLE_FIXTURE).unwrap();
    conn.batch_execute(
        "ALTER TABLE users DROP COLUMN avatar_url;
         ALTER TABLE users ADD COLUMN nickname text;
         ALTER TABLE users ALTER COLUMN role SET DEFAULT 'member';
         ALTER TABLE users ALTER COLUMN display_name SET NOT NULL;
         ALTER TABLE oauth_connections ALTER COLUMN provider_id TYPE varchar(64);
         ALTER TABLE users DROP CONSTRAINT users_username_unique;
         CREATE INDEX oauth_provider_idx ON oauth_connections (provider, provider_id);",
    )
    .unwrap();
    let err = viben_db::adopt(&mut conn).unwrap_err();
    let MigrationError::SchemaMismatch(differences) = &err else {
        panic!("expected SchemaMismatch, got {err:?}");
    };
    let words: Vec<String> = differences.iter().map(ToString::to_string).collect();
    for expected in [
        "column users.avatar_url is missing",
        "column users.nickname exists but is not part of the schema",
        "column users.role has default 'member'::text, expected default 'user'::text",
        "column users.display_name is NOT NULL, expected nullable",
        "column oauth_connections.provider_id has type character varying, expected text",
        "constraint users_username_unique on users (unique (username)) is missing",
    ] {
        assert!(
            words.iter().any(|w| w == expected),
            "{expected:?} not in {words:#?}"
        );
    }
    assert!(
        words
            .iter()
            .any(|w| w.starts_with("index oauth_provider_idx on oauth_connections")),
        "{words:#?}"
    );
    assert_eq!(differences.len(), 7, "{words:#?}");
    let message = err.to_string();
    assert!(
        message.contains("column users.avatar_url is missing"),
        "{message}"
    );
    // Nothing was recorded.
    assert!(migrate::status(&mut conn).unwrap().applied.is_empty());
}

#[test]
fn migrating_a_drizzle_made_database_refuses_and_says_to_adopt() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    conn.batch_execute(DRIZZLE_FIXTURE).unwrap();
    let err = migrate::run_pending(&mut conn).unwrap_err();
    assert!(matches!(err, MigrationError::NeedsAdopt { .. }), "{err:?}");
    let message = err.to_string();
    let hint = err.hint().unwrap_or_default();
    assert!(hint.contains("viben db adopt"), "{hint}");
    assert!(!message.contains("already exists"), "{message}");
}

#[test]
fn drift_check_reports_a_dropped_column_in_plain_words() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    assert_eq!(catalog::check_drift(&mut conn).unwrap(), vec![]);
    conn.batch_execute("ALTER TABLE users DROP COLUMN github_username")
        .unwrap();
    let drift = catalog::check_drift(&mut conn).unwrap();
    assert_eq!(
        drift,
        vec![Difference::MissingColumn {
            table: "users".into(),
            column: "github_username".into()
        }]
    );
    assert_eq!(
        drift[0].to_string(),
        "column users.github_username is missing"
    );
    // And a query that needs it names the column and says what to do.
    let err = viben_db::users::count(&mut conn)
        .map(|_| ())
        .and_then(|()| viben_db::users::get_by_id(&mut conn, "nobody").map(|_| ()));
    let err = err.unwrap_err();
    assert!(matches!(err, QueryError::MissingColumn { .. }), "{err:?}");
    assert!(err.to_string().contains("github_username"), "{err}");
    let hint = err.hint().unwrap_or_default();
    assert!(hint.contains("run `viben db check`"), "{hint}");
}

#[test]
fn drift_check_reports_a_missing_table() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    conn.batch_execute("DROP TABLE oauth_connections").unwrap();
    assert_eq!(
        catalog::check_drift(&mut conn).unwrap(),
        vec![Difference::MissingTable {
            table: "oauth_connections".into()
        }]
    );
}

#[test]
fn querying_an_unmigrated_database_says_to_run_the_migrations() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    let err = viben_db::users::count(&mut conn).unwrap_err();
    match &err {
        QueryError::MissingRelation { relation, .. } => assert_eq!(relation, "users"),
        other => panic!("expected MissingRelation, got {other:?}"),
    }
    let message = err.to_string();
    let hint = err.hint().unwrap_or_default();
    assert!(message.contains("table users does not exist"), "{message}");
    assert!(hint.contains("run `viben db migrate`"), "{hint}");
    assert!(hint.contains("adopt"), "{hint}");
}

#[test]
fn writing_to_a_dropped_column_is_a_missing_column_naming_it() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let user = viben_db::users::create(
        &mut conn,
        &viben_model::NewUser::new("a@example.com", "ada"),
    )
    .unwrap();
    conn.batch_execute("ALTER TABLE users DROP COLUMN github_username")
        .unwrap();
    let created = viben_db::users::create(
        &mut conn,
        &viben_model::NewUser::new("b@example.com", "bob"),
    )
    .unwrap_err();
    let patch = viben_model::UserPatch {
        github_username: Some(Some("ada".into())),
        ..viben_model::UserPatch::default()
    };
    let updated = viben_db::users::update(&mut conn, &user.id, &patch).unwrap_err();
    for err in [created, updated] {
        match &err {
            QueryError::MissingColumn { column, .. } => {
                assert_eq!(column, "users.github_username", "{err}")
            }
            other => panic!("expected MissingColumn, got {other:?}"),
        }
        assert!(
            err.to_string().contains("column users.github_username"),
            "{err}"
        );
        assert!(
            !err.to_string().contains("table users does not exist"),
            "{err}"
        );
    }
}

#[test]
fn migrations_take_their_lock_inside_one_transaction_for_transaction_mode_poolers() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    let statements = Statements::default();
    conn.set_instrumentation(statements.clone());
    migrate::run_pending(&mut conn).unwrap();
    migrate::revert_last(&mut conn).unwrap();
    migrate::run_pending(&mut conn).unwrap();
    let sent = statements.0.lock().unwrap().clone();
    assert!(
        sent.iter()
            .all(|s| !s.contains("pg_advisory_lock") && !s.contains("pg_advisory_unlock")),
        "a session-level lock does not survive a transaction-mode pooler: {sent:#?}"
    );
    let locks: Vec<usize> = sent
        .iter()
        .enumerate()
        .filter(|(_, s)| s.contains("pg_advisory_xact_lock"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(locks.len(), 3, "{sent:#?}");
    // Each lock is taken in the transaction that does the work: right after its BEGIN (and
    // the SET LOCAL that lifts the statement timeout for schema work).
    for i in locks {
        assert!(
            sent[i - 1].starts_with("SET LOCAL statement_timeout = 0"),
            "{sent:#?}"
        );
        assert_eq!(sent[i - 2], "BEGIN", "{sent:#?}");
    }
    assert_eq!(catalog::check_drift(&mut conn).unwrap(), vec![]);
}

#[test]
fn status_on_an_empty_database_writes_nothing() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    // A read-only session: any write, such as creating Diesel's bookkeeping table, fails.
    conn.batch_execute("SET default_transaction_read_only = on")
        .unwrap();
    let status = migrate::status(&mut conn).unwrap();
    assert!(status.applied.is_empty());
    assert_eq!(status.pending.len(), 1);
    conn.batch_execute("SET default_transaction_read_only = off")
        .unwrap();
    assert_eq!(
        catalog::read(&mut conn).unwrap().tables,
        Vec::<String>::new()
    );
}

#[test]
fn adopting_an_empty_database_is_nothing_to_adopt_and_says_to_run_the_migrations() {
    let db = TestDatabase::empty();
    let err = viben_db::adopt(&mut db.connection()).unwrap_err();
    assert!(matches!(err, MigrationError::NothingToAdopt), "{err:?}");
    let what = err.to_string();
    let hint = err.hint().expect("a hint");
    assert!(what.contains("nothing to adopt"), "{what}");
    assert!(hint.contains("run `viben db migrate`"), "{hint}");
    assert!(!hint.contains("adopt"), "{hint}");
}
