//! Every migration's schema snapshot (`<migration>/schema.json`) is exactly what running the
//! migrations up to it makes on a real server: the snapshots are generated, never edited, so
//! the expected schema cannot drift from the migrations.
//!
//! When a migration is added or changed, regenerate them:
//! `VIBEN_UPDATE_SNAPSHOTS=1 cargo test -p viben-db --test schema_snapshots`.

use std::path::{Path, PathBuf};

use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use viben_db::catalog::{self, Schema};
use viben_db::testing::TestDatabase;

const UPDATE: &str = "VIBEN_UPDATE_SNAPSHOTS";

/// The migration folders of `dir`, oldest first.
fn migration_folders(dir: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| path.join("up.sql").is_file())
        .collect();
    folders.sort();
    folders
}

/// Runs the migrations of `dir` one at a time on an empty database and compares the schema
/// after each with its snapshot (or writes it, with `VIBEN_UPDATE_SNAPSHOTS=1`).
fn check_snapshots(dir: &Path) {
    let folders = migration_folders(dir);
    assert!(!folders.is_empty(), "no migrations in {}", dir.display());
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    let source = FileBasedMigrations::from_path(dir).expect("a migrations folder");
    let update = std::env::var_os(UPDATE).is_some();
    let mut stale = Vec::new();
    for folder in &folders {
        conn.run_next_migration(source.clone())
            .unwrap_or_else(|e| panic!("running {}: {e}", folder.display()));
        let snapshot =
            Schema::of(&catalog::read(&mut conn).expect("reading the catalog")).to_snapshot();
        let path = folder.join("schema.json");
        let stored = std::fs::read_to_string(&path).unwrap_or_default();
        if stored == snapshot {
            continue;
        }
        if update {
            std::fs::write(&path, &snapshot)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        } else {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "these schema snapshots are missing or differ from what their migrations make: {}; \
         regenerate them with `{UPDATE}=1 cargo test -p viben-db --test schema_snapshots` and \
         review the diff",
        stale.join(", ")
    );
}

#[test]
fn the_product_migrations_snapshots_are_what_the_migrations_make() {
    check_snapshots(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations"));
}

#[test]
fn the_test_migration_history_snapshots_are_what_the_migrations_make() {
    check_snapshots(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrations_with_index"),
    );
}

#[test]
fn the_embedded_migrations_carry_a_snapshot_for_every_migration() {
    let migrations = viben_db::migrate::MIGRATIONS;
    for version in migrations.versions().expect("the embedded migrations") {
        migrations
            .schema_after(&version)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
