//! `db import-drizzle`: migrations the real drizzle-kit wrote (tests/fixtures/drizzle-kit, see
//! its README) become Diesel migrations that run on a real server, each once.

use std::path::{Path, PathBuf};

use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use viben_db::catalog::{self, Schema};
use viben_db::drizzle::{self, ImportError};
use viben_db::migration_files::MigrationsDir;
use viben_db::testing::{TestDatabase, TestServer};
use viben_model::Hint;

fn drizzle_out() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/drizzle-kit/out")
}

fn product_migrations() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations")
}

/// A copy of the product's migrations in a temporary folder.
fn copy_of_product_migrations() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for entry in std::fs::read_dir(product_migrations()).expect("the migrations folder") {
        let path = entry.expect("an entry").path();
        if !path.is_dir() {
            continue;
        }
        let to = dir.path().join(path.file_name().expect("a name"));
        std::fs::create_dir(&to).expect("a folder");
        for file in std::fs::read_dir(&path).expect("a migration folder") {
            let file = file.expect("an entry").path();
            std::fs::copy(&file, to.join(file.file_name().expect("a name"))).expect("a copy");
        }
    }
    dir
}

fn import(into: &Path) -> Result<drizzle::Imported, ImportError> {
    drizzle::import(
        &drizzle_out(),
        &MigrationsDir::new(into),
        Some(TestServer::get().admin_url()),
    )
}

fn names(folders: &[PathBuf]) -> Vec<String> {
    folders
        .iter()
        .map(|f| {
            f.file_name()
                .expect("reading the migrations folder")
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Runs every migration of `dir` on a new empty database and returns its schema.
fn schema_after_running(dir: &Path) -> Schema {
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    let source = FileBasedMigrations::from_path(dir).expect("a migrations folder");
    conn.run_pending_migrations(source)
        .unwrap_or_else(|e| panic!("running the imported migrations: {e}"));
    Schema::of(&catalog::read(&mut conn).expect("the catalog"))
}

#[test]
fn drizzle_kit_migrations_are_imported_in_journal_order_and_make_the_drizzle_schema() {
    let dir = tempfile::tempdir().unwrap();
    let imported = import(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let added = names(&imported.added);
    let tags: Vec<&str> = added.iter().map(|n| n.split_once('_').unwrap().1).collect();
    assert_eq!(
        tags,
        [
            "0000_create_users_and_oauth_connections",
            "0001_add_column",
            "0002_add_index",
            "0003_add_table_with_foreign_key",
            "0004_drop_column",
        ]
    );
    let mut sorted = added.clone();
    sorted.sort();
    assert_eq!(sorted, added, "versions follow the journal order");
    for folder in &imported.added {
        assert!(folder.join("schema.json").is_file(), "{}", folder.display());
    }

    let schema = schema_after_running(dir.path());
    let api_keys = schema.table("api_keys").expect("the table 0003 adds");
    assert!(
        api_keys.constraints.iter().any(|c| c.definition
            == "foreign key (user_id) references users(id) on delete cascade on update no action"),
        "{api_keys:?}"
    );
    let oauth = schema.table("oauth_connections").unwrap();
    assert!(
        oauth
            .indexes
            .iter()
            .any(|i| i.name == "oauth_connections_user_id_idx"),
        "{oauth:?}"
    );
    let users = schema.table("users").unwrap();
    assert!(
        !users.columns.iter().any(|c| c.name == "bio"),
        "0004 drops it"
    );
    // Each snapshot is the schema after its migration: 0001's has the column 0004 drops.
    let after_0001 = std::fs::read_to_string(imported.added[1].join("schema.json")).unwrap();
    let after_0001 = Schema::from_snapshot(&after_0001).unwrap();
    assert!(
        after_0001
            .table("users")
            .unwrap()
            .columns
            .iter()
            .any(|c| c.name == "bio" && c.data_type == "text" && c.nullable)
    );
    let last = std::fs::read_to_string(imported.added[4].join("schema.json")).unwrap();
    assert_eq!(Schema::from_snapshot(&last).unwrap(), schema);
}

#[test]
fn importing_twice_imports_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let first = import(dir.path()).unwrap();
    assert_eq!(first.added.len(), 5);
    let second = import(dir.path()).unwrap();
    assert!(second.added.is_empty(), "{second:?}");
    assert_eq!(second.present.len(), 5);
    assert_eq!(MigrationsDir::new(dir.path()).folders().unwrap().len(), 5);
}

#[test]
fn the_first_drizzle_migration_is_already_present_in_the_product_migrations() {
    let dir = copy_of_product_migrations();
    let imported = import(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported.present.len(), 1, "{imported:?}");
    assert_eq!(
        imported.present[0].0,
        "0000_create_users_and_oauth_connections"
    );
    assert!(
        imported.present[0]
            .1
            .ends_with("2026-11-27-034035_create_users_and_oauth_connections")
    );
    assert_eq!(imported.added.len(), 4);
    let schema = schema_after_running(dir.path());
    assert!(schema.table("api_keys").is_some());
}

#[test]
fn a_statement_that_cannot_be_undone_gives_a_down_sql_that_refuses_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let imported = import(dir.path()).unwrap();
    assert_eq!(imported.irreversible, names(&imported.added[4..]));
    let down = std::fs::read_to_string(imported.added[4].join("down.sql")).unwrap();
    assert!(down.contains("RAISE EXCEPTION"), "{down}");

    let db = TestDatabase::empty();
    let mut conn = db.connection();
    let source = FileBasedMigrations::from_path(dir.path()).unwrap();
    conn.run_pending_migrations(source.clone()).unwrap();
    let refused = conn
        .revert_last_migration(source.clone())
        .expect_err("the down.sql of a dropped column refuses");
    let message = viben_model::Chain(&*refused).to_string();
    assert!(
        message.contains("cannot be reverted")
            && message.contains("ALTER TABLE \"users\" DROP COLUMN \"bio\""),
        "{message}"
    );
    // The refusal rolled back: the migration is still applied.
    assert_eq!(conn.applied_migrations().unwrap().len(), 5);
}

#[test]
fn the_reversible_migrations_down_sql_undo_them() {
    let dir = tempfile::tempdir().unwrap();
    let imported = import(dir.path()).unwrap();
    let down = std::fs::read_to_string(imported.added[3].join("down.sql")).unwrap();
    let drop_fk = down
        .find("DROP CONSTRAINT \"api_keys_user_id_users_id_fk\"")
        .expect("the foreign key is dropped");
    let drop_table = down
        .find("DROP TABLE \"api_keys\"")
        .expect("the table is dropped");
    assert!(
        drop_fk < drop_table,
        "newest statement undone first: {down}"
    );
}

#[test]
fn a_malformed_journal_is_a_clear_error_naming_the_file_and_nothing_is_imported() {
    let from = tempfile::tempdir().unwrap();
    std::fs::create_dir(from.path().join("meta")).unwrap();
    let journal = from.path().join("meta/_journal.json");
    let into = tempfile::tempdir().unwrap();
    let migrations = MigrationsDir::new(into.path());

    std::fs::write(&journal, "{ \"version\": \"7\", \"dialect\": ").unwrap();
    let err = drizzle::import(from.path(), &migrations, None).unwrap_err();
    assert!(matches!(err, ImportError::Journal { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("_journal.json is not a drizzle-kit journal: EOF"),
        "{message}"
    );
    assert!(err.hint().unwrap().contains("drizzle-kit generate"));

    std::fs::write(&journal, r#"{"version": "7", "dialect": "postgresql"}"#).unwrap();
    let err = drizzle::import(from.path(), &migrations, None).unwrap_err();
    assert!(err.to_string().contains("missing field `entries`"), "{err}");

    std::fs::write(
        &journal,
        r#"{"version": "7", "dialect": "postgresql", "entries": [
            {"idx": 0, "version": "7", "when": 1796062873538, "tag": "0000_gone", "breakpoints": true}]}"#,
    )
    .unwrap();
    let err = drizzle::import(from.path(), &migrations, None).unwrap_err();
    assert!(matches!(err, ImportError::MigrationFile { ref tag, .. } if tag == "0000_gone"));
    assert!(err.to_string().contains("0000_gone.sql"), "{err}");

    let missing = tempfile::tempdir().unwrap();
    let err = drizzle::import(missing.path(), &migrations, None).unwrap_err();
    assert!(matches!(err, ImportError::Journal { .. }), "{err:?}");

    assert!(migrations.folders().unwrap().is_empty());
    assert_eq!(std::fs::read_dir(into.path()).unwrap().count(), 0);
}

#[test]
fn a_migration_changed_after_its_import_is_refused() {
    let from = tempfile::tempdir().unwrap();
    std::fs::create_dir(from.path().join("meta")).unwrap();
    for name in [
        "meta/_journal.json",
        "0000_create_users_and_oauth_connections.sql",
    ] {
        std::fs::copy(drizzle_out().join(name), from.path().join(name)).unwrap();
    }
    // Only the first migration of the journal.
    let journal = std::fs::read_to_string(from.path().join("meta/_journal.json")).unwrap();
    let mut journal: serde_json::Value = serde_json::from_str(&journal).unwrap();
    journal["entries"].as_array_mut().unwrap().truncate(1);
    std::fs::write(from.path().join("meta/_journal.json"), journal.to_string()).unwrap();
    let into = tempfile::tempdir().unwrap();
    let migrations = MigrationsDir::new(into.path());
    let server = TestServer::get().admin_url();
    drizzle::import(from.path(), &migrations, Some(server)).unwrap();

    let sql = from
        .path()
        .join("0000_create_users_and_oauth_connections.sql");
    let text = std::fs::read_to_string(&sql).unwrap();
    std::fs::write(&sql, text.replace("\"bio\" text", "\"bio\" integer") + " ").unwrap();
    std::fs::write(&sql, text.replace("\"role\" text", "\"role\" varchar")).unwrap();
    let err = drizzle::import(from.path(), &migrations, Some(server)).unwrap_err();
    assert!(matches!(err, ImportError::Changed { .. }), "{err:?}");
    assert!(err.hint().unwrap().contains("new drizzle migration"));
}

#[test]
fn without_a_database_nothing_with_statements_is_imported() {
    let into = tempfile::tempdir().unwrap();
    let migrations = MigrationsDir::new(into.path());
    let err = drizzle::import(&drizzle_out(), &migrations, None).unwrap_err();
    assert!(err.to_string().contains("a database is needed"), "{err}");
    assert!(migrations.folders().unwrap().is_empty());
    // The staging folder is gone too.
    assert_eq!(std::fs::read_dir(into.path()).unwrap().count(), 0);
}
