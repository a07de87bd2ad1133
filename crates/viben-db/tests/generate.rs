//! `db generate`: a migration written from a database changed by hand, tried on a scratch
//! database, with its snapshot; and `schema.rs` written from the schema.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use viben_db::catalog::{self, Schema};
use viben_db::generate::{self, GenerateError};
use viben_db::migration_files::{MigrationFilesError, MigrationsDir};
use viben_db::testing::TestDatabase;

fn product_migrations() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations")
}

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

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:30:00Z")
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

#[test]
fn without_a_database_an_empty_migration_is_added_with_the_previous_snapshot() {
    let dir = copy_of_product_migrations();
    let migrations = MigrationsDir::new(dir.path());
    let before = migrations.latest_schema().unwrap();
    let generated = generate::generate(&migrations, "add_teams", None, now()).unwrap();
    assert!(generated.sql.is_empty());
    assert!(
        generated.folder.ends_with("2026-12-01-093000_add_teams"),
        "{}",
        generated.folder.display()
    );
    let up = std::fs::read_to_string(generated.folder.join("up.sql")).unwrap();
    assert_eq!(up, viben_db::migration_files::PLACEHOLDER_SQL);
    assert!(generated.folder.join("down.sql").is_file());
    assert_eq!(migrations.latest_schema().unwrap(), before);
    // Diesel runs it (a file without a statement it would refuse), up and down.
    let db = TestDatabase::empty();
    let mut conn = db.connection();
    let source = FileBasedMigrations::from_path(dir.path()).unwrap();
    conn.run_pending_migrations(source.clone()).unwrap();
    conn.revert_last_migration(source).unwrap();
}

#[test]
fn a_database_changed_by_hand_gives_a_migration_that_makes_its_schema_and_undoes_it() {
    let live = TestDatabase::new();
    live.connection()
        .batch_execute(
            "ALTER TABLE users ADD COLUMN is_admin boolean DEFAULT false NOT NULL;
             ALTER TABLE users DROP COLUMN avatar_url;
             ALTER TABLE users ALTER COLUMN role SET DEFAULT 'member';
             CREATE INDEX users_created_at_idx ON users (created_at);
             CREATE TABLE teams (id text PRIMARY KEY, owner_id text NOT NULL
                 REFERENCES users(id) ON DELETE CASCADE, name text NOT NULL);",
        )
        .unwrap();
    let dir = copy_of_product_migrations();
    let migrations = MigrationsDir::new(dir.path());
    let generated = generate::generate(&migrations, "teams_and_admins", Some(live.url()), now())
        .unwrap_or_else(|e| panic!("{}", viben_model::Chain(&e)));

    let up = std::fs::read_to_string(generated.folder.join("up.sql")).unwrap();
    for expected in [
        "CREATE TABLE teams (",
        "ALTER TABLE users ADD COLUMN is_admin boolean DEFAULT false NOT NULL;",
        "ALTER TABLE users ALTER COLUMN role SET DEFAULT 'member'::text;",
        "ALTER TABLE teams ADD CONSTRAINT teams_owner_id_fkey foreign key (owner_id) \
         references users(id) on delete cascade on update no action;",
        "CREATE INDEX users_created_at_idx ON public.users USING btree (created_at);",
        "ALTER TABLE users DROP COLUMN avatar_url;",
    ] {
        assert!(up.contains(expected), "{expected} missing from:\n{up}");
    }
    let down = std::fs::read_to_string(generated.folder.join("down.sql")).unwrap();
    for expected in [
        "ALTER TABLE users ADD COLUMN avatar_url text;",
        "ALTER TABLE users DROP COLUMN is_admin;",
        "DROP INDEX users_created_at_idx;",
        "DROP TABLE teams;",
    ] {
        assert!(down.contains(expected), "{expected} missing from:\n{down}");
    }

    // The migrations, run on an empty database, now make the live schema (the column order
    // aside: avatar_url comes back at the end).
    let fresh = TestDatabase::empty();
    let mut conn = fresh.connection();
    conn.run_pending_migrations(FileBasedMigrations::from_path(dir.path()).unwrap())
        .unwrap();
    let made = Schema::of(&catalog::read(&mut conn).unwrap());
    let live_schema = Schema::of(&catalog::read(&mut live.connection()).unwrap());
    let differences: Vec<_> = catalog::diff(&live_schema, &made)
        .into_iter()
        .filter(|d| !d.is_cosmetic())
        .collect();
    assert!(differences.is_empty(), "{differences:?}");
    // The snapshot is what the migrations make.
    assert_eq!(migrations.latest_schema().unwrap(), made);
    // The database it was made from has the change: the migration is recorded there.
    assert!(generated.recorded);
    let version = generated.folder.file_name().unwrap().to_string_lossy()[..17].replace('-', "");
    let applied = live.connection().applied_migrations().unwrap();
    assert!(
        applied.iter().any(|v| v.to_string() == version),
        "{applied:?}"
    );
}

#[test]
fn an_unchanged_database_has_nothing_to_generate_and_nothing_is_added() {
    let live = TestDatabase::new();
    let dir = copy_of_product_migrations();
    let migrations = MigrationsDir::new(dir.path());
    let before = migrations.folders().unwrap();
    let err = generate::generate(&migrations, "nothing", Some(live.url()), now()).unwrap_err();
    assert!(matches!(err, GenerateError::NothingChanged), "{err:?}");
    assert_eq!(migrations.folders().unwrap(), before);
}

#[test]
fn an_invalid_name_is_refused_and_nothing_is_written() {
    let dir = copy_of_product_migrations();
    let migrations = MigrationsDir::new(dir.path());
    let before = migrations.folders().unwrap();
    let err = generate::generate(&migrations, "Add Teams", None, now()).unwrap_err();
    assert!(
        matches!(
            err,
            GenerateError::Files(MigrationFilesError::InvalidName { .. })
        ),
        "{err:?}"
    );
    assert_eq!(migrations.folders().unwrap(), before);
}

#[test]
fn a_generated_migration_that_fails_leaves_the_folder_as_it_was() {
    // A live change the schema value cannot carry (a check constraint on a column whose
    // check references a function that does not exist elsewhere) fails on the scratch
    // database: nothing is added.
    let live = TestDatabase::new();
    live.connection()
        .batch_execute(
            "CREATE FUNCTION viben_test_is_lower(t text) RETURNS boolean \
               LANGUAGE sql IMMUTABLE AS 'SELECT t = lower(t)';
             ALTER TABLE users ADD CONSTRAINT users_email_lower CHECK (viben_test_is_lower(email));",
        )
        .unwrap();
    let dir = copy_of_product_migrations();
    let migrations = MigrationsDir::new(dir.path());
    let before = migrations.folders().unwrap();
    let err = generate::generate(&migrations, "lower_email", Some(live.url()), now()).unwrap_err();
    assert!(
        matches!(
            err,
            GenerateError::Files(MigrationFilesError::MigrationFailed { .. })
        ),
        "{err:?}"
    );
    assert_eq!(migrations.folders().unwrap(), before);
    let hidden: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "staging folders left: {hidden:?}");
}

#[test]
fn the_crate_schema_rs_is_what_print_schema_writes_for_the_newest_snapshot() {
    let schema = MigrationsDir::new(product_migrations())
        .latest_schema()
        .unwrap();
    let written = viben_db::print_schema::schema_rs(&schema).unwrap();
    let stored =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/schema.rs"))
            .unwrap();
    assert_eq!(written, stored);
}

#[test]
fn schema_rs_describes_a_new_table_with_its_join() {
    let live = TestDatabase::new();
    live.connection()
        .batch_execute(
            "CREATE TABLE api_keys (id text PRIMARY KEY, user_id text NOT NULL REFERENCES users(id),
                 type text, is_revoked boolean NOT NULL DEFAULT false, created_at timestamptz);",
        )
        .unwrap();
    let schema = Schema::of(&catalog::read(&mut live.connection()).unwrap());
    let written = viben_db::print_schema::schema_rs(&schema).unwrap();
    for expected in [
        "    api_keys (id) {\n        id -> Text,\n        user_id -> Text,\n        \
         #[sql_name = \"type\"]\n        type_ -> Nullable<Text>,\n        \
         is_revoked -> Bool,\n        created_at -> Nullable<Timestamptz>,\n    }",
        "diesel::joinable!(api_keys -> users (user_id));\n\
         diesel::joinable!(oauth_connections -> users (user_id));",
        "diesel::allow_tables_to_appear_in_same_query!(api_keys, oauth_connections, users,);",
    ] {
        assert!(
            written.contains(expected),
            "{expected}\nmissing from:\n{written}"
        );
    }
}
