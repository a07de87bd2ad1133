//! Adopting and migrating across more than one migration, with a test-only history
//! (`tests/fixtures/migrations_with_index`: the initial migration, then an index).

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use viben_db::Adopted;
use viben_db::catalog::Difference;
use viben_db::migrate::{MigrationSet, Snapshot};
use viben_db::testing::TestDatabase;

const DRIZZLE_FIXTURE: &str = include_str!("fixtures/drizzle-made-database.sql");

const WITH_INDEX: EmbeddedMigrations = embed_migrations!("tests/fixtures/migrations_with_index");

static HISTORY: MigrationSet = MigrationSet::new(
    &WITH_INDEX,
    &[
        Snapshot {
            version: INITIAL,
            schema: Some(include_str!(
                "fixtures/migrations_with_index/2026-11-27-034035_create_users_and_oauth_connections/schema.json"
            )),
        },
        Snapshot {
            version: WITH_INDEX_VERSION,
            schema: Some(include_str!(
                "fixtures/migrations_with_index/2026-11-28-000000_index_oauth_connections_provider/schema.json"
            )),
        },
    ],
);

const INITIAL: &str = "20261127034035";
const WITH_INDEX_VERSION: &str = "20261128000000";
const THE_INDEX: &str =
    "CREATE INDEX oauth_connections_provider_idx ON oauth_connections (provider)";

#[test]
fn a_fresh_database_migrates_to_the_second_migration_and_checks_clean() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    assert_eq!(
        HISTORY.run_pending(&mut conn).unwrap(),
        [INITIAL, WITH_INDEX_VERSION]
    );
    assert_eq!(HISTORY.check_drift(&mut conn).unwrap(), vec![]);
}

#[test]
fn a_drizzle_made_database_is_adopted_at_the_first_migration_then_migrated() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    conn.batch_execute(DRIZZLE_FIXTURE).unwrap();
    assert_eq!(
        HISTORY.adopt(&mut conn).unwrap(),
        Adopted::Recorded(vec![INITIAL.to_owned()])
    );
    // At the first migration, the database is what that migration leaves: no drift, one
    // migration pending.
    assert_eq!(HISTORY.check_drift(&mut conn).unwrap(), vec![]);
    assert_eq!(
        HISTORY.status(&mut conn).unwrap().pending,
        [WITH_INDEX_VERSION]
    );
    assert_eq!(
        HISTORY.run_pending(&mut conn).unwrap(),
        [WITH_INDEX_VERSION]
    );
    assert_eq!(HISTORY.check_drift(&mut conn).unwrap(), vec![]);
}

#[test]
fn a_drizzle_made_database_that_already_has_the_change_is_adopted_at_the_second() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    conn.batch_execute(DRIZZLE_FIXTURE).unwrap();
    conn.batch_execute(THE_INDEX).unwrap();
    assert_eq!(
        HISTORY.adopt(&mut conn).unwrap(),
        Adopted::Recorded(vec![INITIAL.to_owned(), WITH_INDEX_VERSION.to_owned()])
    );
    // The index must not be created a second time.
    assert!(HISTORY.run_pending(&mut conn).unwrap().is_empty());
    assert_eq!(HISTORY.check_drift(&mut conn).unwrap(), vec![]);
}

#[test]
fn a_database_matching_no_migration_is_refused_with_the_differences_from_the_closest() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    conn.batch_execute(DRIZZLE_FIXTURE).unwrap();
    conn.batch_execute(THE_INDEX).unwrap();
    conn.batch_execute("ALTER TABLE users DROP COLUMN avatar_url")
        .unwrap();
    let err = HISTORY.adopt(&mut conn).unwrap_err();
    let viben_db::MigrationError::SchemaMismatch(differences) = &err else {
        panic!("expected SchemaMismatch, got {err:?}");
    };
    // Closest is the second migration (it has the index): only the dropped column differs.
    assert_eq!(
        differences,
        &[Difference::MissingColumn {
            table: "users".into(),
            column: "avatar_url".into()
        }]
    );
    assert!(HISTORY.status(&mut conn).unwrap().applied.is_empty());
}

#[test]
fn drift_after_the_second_migration_names_a_dropped_index() {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    HISTORY.run_pending(&mut conn).unwrap();
    conn.batch_execute("DROP INDEX oauth_connections_provider_idx")
        .unwrap();
    let drift = HISTORY.check_drift(&mut conn).unwrap();
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(
        drift[0].to_string(),
        "index oauth_connections_provider_idx on oauth_connections is missing \
         (CREATE INDEX oauth_connections_provider_idx ON public.oauth_connections USING btree \
         (provider))"
    );
}
