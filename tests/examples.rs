//! Every example runs to completion, and none writes into the user's `~/.viben`.
//!
//! `cargo test` builds the examples next to the test binaries (`target/<profile>/examples/`);
//! these tests run those binaries as a user would.

use std::path::PathBuf;
use std::process::Command;

use viben::db::testing::TestDatabase;

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing; build the examples with `cargo test` or `cargo build --examples`",
        path.display()
    );
    path
}

/// Runs an example with a fake `HOME` and the given database URL; returns its stdout.
fn run(name: &str, database_url: Option<&str>) -> String {
    let home = tempfile::tempdir().expect("a temporary HOME");
    let mut command = Command::new(example(name));
    command
        .env("HOME", home.path())
        .env_remove("VIBEN_HOME")
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL");
    if let Some(url) = database_url {
        command.env("POSTGRES_URL", url);
    }
    let output = command.output().expect("the example starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !home.path().join(".viben").exists(),
        "{name} wrote into ~/.viben"
    );
    assert_no_debug_forms(name, &stdout);
    stdout
}

/// Output is for people: no Rust `Debug` form such as `Some("Ada")` or `Err(...)`.
fn assert_no_debug_forms(name: &str, text: &str) {
    for form in ["Some(", "None", "Ok(", "Err(", "Error: \"", "\\\""] {
        assert!(
            !text.contains(form),
            "{name} printed a Debug form ({form}):\n{text}"
        );
    }
}

/// Runs an example on a machine without PostgreSQL: no URL set, and the harness pointed at an
/// empty folder of server binaries. Returns the exit code, stdout and stderr.
fn run_without_postgres(name: &str) -> (Option<i32>, String, String) {
    let home = tempfile::tempdir().expect("a temporary HOME");
    let no_binaries = tempfile::tempdir().expect("an empty binaries folder");
    let output = Command::new(example(name))
        .env("HOME", home.path())
        .env(viben::db::testing::PG_BINDIR, no_binaries.path())
        .env_remove("VIBEN_HOME")
        .env_remove("POSTGRES_URL")
        .env_remove("DATABASE_URL")
        .output()
        .expect("the example starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_no_debug_forms(name, &stdout);
    assert_no_debug_forms(name, &stderr);
    (output.status.code(), stdout, stderr)
}

#[test]
fn without_postgres_the_quickstart_runs_the_store_half_then_says_what_the_database_needs() {
    let (code, stdout, stderr) = run_without_postgres("quickstart");
    assert_eq!(code, Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("store check: 0 problem(s)"), "{stdout}");
    assert!(!stdout.contains("done"), "{stdout}");
    for needed in [
        "the database half needs PostgreSQL",
        "initdb and pg_ctl",
        "apt-get install postgresql",
        "set POSTGRES_URL",
    ] {
        assert!(stderr.contains(needed), "missing {needed:?} in:\n{stderr}");
    }
}

#[test]
fn without_postgres_the_database_examples_say_what_they_need_and_fail() {
    for name in ["web_accounts", "desktop_sign_in"] {
        let (code, stdout, stderr) = run_without_postgres(name);
        assert_eq!(
            code,
            Some(1),
            "{name}: stdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(
            stderr.contains("the database half needs PostgreSQL")
                && stderr.contains("apt-get install postgresql"),
            "{name}:\n{stderr}"
        );
    }
}

#[test]
fn the_store_example_needs_no_postgres() {
    let (code, stdout, stderr) = run_without_postgres("desktop_agents");
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("stale save refused"), "{stdout}");
}

#[test]
fn the_examples_do_not_load_the_system_libpq() {
    for name in ["quickstart", "web_accounts"] {
        let needed = dynamic_libraries(&example(name));
        assert!(
            !needed.iter().any(|lib| lib.contains("libpq")),
            "{name} loads {needed:?}; the root package should build viben-db with `bundled`"
        );
    }
}

/// The shared libraries a binary loads, as `ldd` lists them.
fn dynamic_libraries(binary: &std::path::Path) -> Vec<String> {
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .expect("ldd (glibc's libc-bin) lists a binary's shared libraries");
    assert!(output.status.success(), "ldd {} failed", binary.display());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn quickstart_runs_to_completion_on_a_throwaway_server() {
    let out = run("quickstart", None);
    assert!(out.contains("a throwaway server"), "{out}");
    assert!(out.contains("duplicate refused"), "{out}");
    assert!(out.trim_end().ends_with("done"), "{out}");
}

#[test]
fn quickstart_uses_postgres_url_when_set() {
    let database = TestDatabase::new();
    let out = run("quickstart", Some(database.url().expose()));
    assert!(out.contains("from POSTGRES_URL"), "{out}");
    assert!(out.contains("has 2 connections"), "{out}");
}

#[test]
fn desktop_agents_runs_to_completion() {
    let out = run("desktop_agents", None);
    assert!(out.contains("workspace_path: /home/me/project"), "{out}");
    assert!(out.contains("stale save refused"), "{out}");
}

#[test]
fn web_accounts_runs_to_completion() {
    let database = TestDatabase::new();
    let out = run("web_accounts", Some(database.url().expose()));
    assert!(out.contains("with relations: 1 connection(s)"), "{out}");
    assert!(out.contains("delete:        0 users left"), "{out}");
}

#[test]
fn desktop_sign_in_runs_to_completion() {
    let database = TestDatabase::new();
    let out = run("desktop_sign_in", Some(database.url().expose()));
    assert!(out.contains("signed in on the desktop as dev-"), "{out}");
    assert!(out.contains("telemetry: span sign_in took"), "{out}");
}

#[test]
fn without_postgres_the_test_harness_fails_saying_how_to_get_a_server() {
    // Runs one database test of this very binary on a machine without PostgreSQL.
    let no_binaries = tempfile::tempdir().expect("an empty binaries folder");
    let output = Command::new(std::env::current_exe().expect("the test binary knows its path"))
        .args(["--exact", "quickstart_uses_postgres_url_when_set"])
        .env(viben::db::testing::PG_BINDIR, no_binaries.path())
        .env_remove("VIBEN_TEST_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("POSTGRES_URL")
        .output()
        .expect("the test binary starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "the test passed without a server:\n{stdout}"
    );
    for needed in [
        "no PostgreSQL server for the tests",
        "initdb and pg_ctl",
        "apt-get install postgresql",
        "VIBEN_TEST_DATABASE_URL",
    ] {
        assert!(stdout.contains(needed), "missing {needed:?} in:\n{stdout}");
    }
}
