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
    stdout
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
