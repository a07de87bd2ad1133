//! `viben db generate | import-drizzle | print-schema`, run as a developer runs them: in a
//! project folder with a `diesel.toml`, against a real database and real drizzle-kit output.

use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::connection::SimpleConnection;
use viben_db::testing::{TestDatabase, TestServer};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn drizzle_out() -> PathBuf {
    workspace().join("crates/viben-db/tests/fixtures/drizzle-kit/out")
}

/// What one run printed and how it exited.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `viben args...` in `dir`, with no database variables set.
fn viben_in(dir: &Path, args: &[&str]) -> Run {
    let home = tempfile::tempdir().expect("a temporary folder");
    let output = Command::new(env!("CARGO_BIN_EXE_viben"))
        .current_dir(dir)
        .arg("--home")
        .arg(home.path())
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .args(args)
        .output()
        .expect("the viben binary runs");
    Run {
        code: output.status.code().expect("viben exited"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

/// A project folder as the workspace is laid out: `diesel.toml`, a copy of the product
/// migrations, and `src/` for schema.rs.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        dir.path().join("diesel.toml"),
        "[print_schema]\nfile = \"src/schema.rs\"\n\n[migrations_directory]\ndir = \"migrations\"\n",
    )
    .expect("setting up the project folder");
    std::fs::create_dir(dir.path().join("src")).expect("setting up the project folder");
    let into = dir.path().join("migrations");
    std::fs::create_dir(&into).expect("setting up the project folder");
    for entry in
        std::fs::read_dir(workspace().join("migrations")).expect("setting up the project folder")
    {
        let path = entry.expect("setting up the project folder").path();
        if !path.is_dir() {
            continue;
        }
        let to = into.join(path.file_name().expect("setting up the project folder"));
        std::fs::create_dir(&to).expect("setting up the project folder");
        for file in std::fs::read_dir(&path).expect("setting up the project folder") {
            let file = file.expect("setting up the project folder").path();
            std::fs::copy(
                &file,
                to.join(file.file_name().expect("setting up the project folder")),
            )
            .expect("setting up the project folder");
        }
    }
    dir
}

fn migration_folders(project: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(project.join("migrations"))
        .expect("reading the migrations folder")
        .map(|e| {
            e.expect("reading the migrations folder")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn generate_from_a_database_changed_by_hand_writes_the_migration_and_schema_rs() {
    let live = TestDatabase::new();
    live.connection()
        .batch_execute("ALTER TABLE users ADD COLUMN is_admin boolean NOT NULL DEFAULT false")
        .unwrap();
    let project = project();
    let run = viben_in(
        project.path(),
        &[
            "db",
            "generate",
            "add_is_admin_to_users",
            "--from-url",
            live.url().expose(),
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.contains("up: add column users.is_admin"),
        "{run:#?}"
    );
    assert!(run.stdout.contains("wrote "), "{run:#?}");
    assert!(run.stdout.contains("recorded as applied"), "{run:#?}");
    let folders = migration_folders(project.path());
    let new = folders.last().unwrap();
    assert!(new.ends_with("_add_is_admin_to_users"), "{folders:?}");
    let folder = project.path().join("migrations").join(new);
    let up = std::fs::read_to_string(folder.join("up.sql")).unwrap();
    assert!(
        up.contains("ALTER TABLE users ADD COLUMN is_admin boolean DEFAULT false NOT NULL;"),
        "{up}"
    );
    let down = std::fs::read_to_string(folder.join("down.sql")).unwrap();
    assert!(
        down.contains("ALTER TABLE users DROP COLUMN is_admin;"),
        "{down}"
    );
    assert!(folder.join("schema.json").is_file());
    let schema_rs = std::fs::read_to_string(project.path().join("src/schema.rs")).unwrap();
    assert!(
        schema_rs.contains("        is_admin -> Bool,\n"),
        "{schema_rs}"
    );

    // Generating again from the same database: nothing left to generate.
    let again = viben_in(
        project.path(),
        &["db", "generate", "again", "--from-url", live.url().expose()],
    );
    assert_eq!(again.code, 1, "{again:#?}");
    assert!(again.stderr.contains("nothing to generate"), "{again:#?}");
    assert_eq!(migration_folders(project.path()), folders);
}

#[test]
fn generate_without_a_database_writes_an_empty_migration_as_json() {
    let project = project();
    let run = viben_in(project.path(), &["db", "generate", "add_teams", "--json"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(json["folder"].as_str().unwrap().ends_with("_add_teams"));
    assert_eq!(json["up"], serde_json::json!([]));
    assert!(json["schema_rs"].as_str().unwrap().ends_with("schema.rs"));
    let stored =
        std::fs::read_to_string(workspace().join("crates/viben-db/src/schema.rs")).unwrap();
    let written = std::fs::read_to_string(project.path().join("src/schema.rs")).unwrap();
    assert_eq!(
        written, stored,
        "an empty migration leaves the schema as it was"
    );
}

#[test]
fn generate_with_a_bad_name_fails_with_a_hint_and_writes_nothing() {
    let project = project();
    let before = migration_folders(project.path());
    let run = viben_in(project.path(), &["db", "generate", "Add Teams"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .contains("error: migration name \"Add Teams\" is not snake_case"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("hint: use a name like"), "{run:#?}");
    assert_eq!(migration_folders(project.path()), before);
}

#[test]
fn import_drizzle_imports_real_drizzle_kit_output_once() {
    let project = project();
    let server = TestServer::get().admin_url().expose().to_owned();
    let out = drizzle_out();
    let args = [
        "--database-url",
        &server,
        "db",
        "import-drizzle",
        out.to_str().unwrap(),
    ];
    let run = viben_in(project.path(), &args);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.contains(
            "present: 0000_create_users_and_oauth_connections (as \
             2026-11-27-034035_create_users_and_oauth_connections)"
        ),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains("_0003_add_table_with_foreign_key\n"),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains("_0004_drop_column (its down.sql refuses: a statement cannot be undone)"),
        "{run:#?}"
    );
    assert_eq!(migration_folders(project.path()).len(), 5);
    let schema_rs = std::fs::read_to_string(project.path().join("src/schema.rs")).unwrap();
    assert!(schema_rs.contains("diesel::joinable!(api_keys -> users (user_id));"));

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let again = viben_in(project.path(), &json_args);
    assert_eq!(again.code, 0, "{again:#?}");
    let json: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(json["imported"], serde_json::json!([]));
    assert_eq!(json["present"].as_array().unwrap().len(), 5);
    assert_eq!(migration_folders(project.path()).len(), 5);
}

#[test]
fn import_drizzle_with_a_malformed_journal_fails_with_a_hint() {
    let project = project();
    let from = tempfile::tempdir().unwrap();
    std::fs::create_dir(from.path().join("meta")).unwrap();
    std::fs::write(from.path().join("meta/_journal.json"), "[1, 2").unwrap();
    let server = TestServer::get().admin_url().expose().to_owned();
    let run = viben_in(
        project.path(),
        &[
            "--database-url",
            &server,
            "db",
            "import-drizzle",
            from.path().to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(run.code, 1, "{run:#?}");
    let error: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("_journal.json is not a drizzle-kit journal"),
        "{error}"
    );
    assert!(
        error["hint"]
            .as_str()
            .unwrap()
            .contains("drizzle-kit generate")
    );
    assert_eq!(migration_folders(project.path()).len(), 1);
}

#[test]
fn import_drizzle_without_a_database_url_says_how_to_give_one() {
    let project = project();
    let out = drizzle_out();
    let run = viben_in(
        project.path(),
        &["db", "import-drizzle", out.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("--database-url"), "{run:#?}");
    assert_eq!(migration_folders(project.path()).len(), 1);
}

#[test]
fn print_schema_prints_the_crate_schema_rs_from_the_migrations() {
    let elsewhere = tempfile::tempdir().unwrap();
    let migrations = workspace().join("migrations");
    let run = viben_in(
        elsewhere.path(),
        &[
            "db",
            "print-schema",
            "--migrations",
            migrations.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let stored =
        std::fs::read_to_string(workspace().join("crates/viben-db/src/schema.rs")).unwrap();
    assert_eq!(run.stdout, stored);
}
