//! Commands that only read never create or change anything on disk, whatever state the store
//! is in; commands that write create what they need. And `telemetry prune` goes on past
//! entries it cannot prune, naming each.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use std::path::Path;
use std::process::Command;

use common::viben;

/// Every command that only reads (or, like `telemetry prune` on an empty store, finds
/// nothing to change), with the exit code each gives on an empty store.
const READS: &[&[&str]] = &[
    &["agents", "list"],
    &["agents", "list", "--json"],
    &["agents", "show", "a"],
    &["models", "list"],
    &["models", "list", "--json"],
    &["models", "default"],
    &["providers", "list"],
    &["providers", "list", "--json"],
    &["providers", "show", "p"],
    &["channels", "list"],
    &["channels", "list", "--json"],
    &["channels", "show", "c"],
    &["sessions", "list"],
    &["sessions", "list", "--json"],
    &["sessions", "show", "s"],
    &["sessions", "show", "s", "--last", "2"],
    &["check"],
    &["doctor"],
    &["telemetry", "prune", "--keep-days", "1"],
    &["providers", "delete", "p"],
    &["agents", "delete", "a"],
];

/// Every file and folder under `dir`, relative, with each file's size and mode.
fn tree(dir: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries {
            let entry = entry.expect("a folder entry");
            let meta = std::fs::symlink_metadata(entry.path()).expect("inspect an entry");
            if meta.is_dir() {
                stack.push(entry.path());
            }
            let rel = entry
                .path()
                .strip_prefix(dir)
                .expect("under dir")
                .to_owned();
            out.push(format!(
                "{} {} {:o}",
                rel.display(),
                if meta.is_file() { meta.len() } else { 0 },
                meta.permissions().mode()
            ));
        }
    }
    out.sort();
    out
}

/// Runs every read against `--home home` and asserts that nothing under `watched` changed
/// and that none panicked (exit 0 or 1).
fn assert_reads_change_nothing(home: &Path, watched: &Path) {
    let before = tree(watched);
    for args in READS {
        let run = viben(home, args);
        assert!(
            run.code == 0 || run.code == 1,
            "{args:?} exited {}: {run:?}",
            run.code
        );
        assert_eq!(
            tree(watched),
            before,
            "`viben {}` changed the disk",
            args.join(" ")
        );
    }
}

#[test]
fn reading_a_missing_store_creates_nothing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let home = dir.path().join("no-such-home/.viben");
    assert_reads_change_nothing(&home, dir.path());
    assert!(!dir.path().join("no-such-home").exists());
    let list = viben(&home, &["agents", "list", "--json"]);
    assert_eq!(
        list.json(),
        serde_json::json!([]),
        "a missing store is empty"
    );
    let show = viben(&home, &["agents", "show", "a"]);
    assert!(show.failed().contains("does not exist"), "{show:?}");
}

#[test]
fn reading_a_partial_store_creates_no_folder() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let home = dir.path();
    // A folder with only a model catalog in it, as a person might start one.
    std::fs::write(
        home.join("models.yaml"),
        "models:\n- id: llama3:8b\n  provider: ollama\n",
    )
    .expect("write models.yaml");
    std::fs::create_dir(home.join("providers")).expect("make providers/");
    assert_reads_change_nothing(home, home);
    let list = viben(home, &["models", "list"]);
    assert!(list.ok().contains("llama3:8b"), "{list:?}");
}

#[test]
fn with_home_naming_a_missing_folder_reads_create_nothing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let home = dir.path().join("gone");
    for args in [&["models", "list"][..], &["agents", "list"], &["check"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_viben"))
            .args(args)
            .env("HOME", &home)
            .env_remove("VIBEN_HOME")
            .env_remove("POSTGRES_URL")
            .env_remove("DATABASE_URL")
            .output()
            .expect("viben runs");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
    }
    assert!(!home.exists(), "HOME was created");
}

#[test]
fn writes_to_a_missing_store_create_what_they_need() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let home = dir.path().join("new/.viben");
    viben(&home, &["models", "add", "m", "--provider", "p"]).ok();
    assert!(home.join("models.yaml").is_file());
    assert!(!home.join("agents").exists(), "only what the write needs");
    viben(&home, &["providers", "set", "p"]).ok();
    assert!(home.join("providers/p.yaml").is_file());
    viben(
        &home,
        &[
            "agents",
            "create",
            "a",
            "--name",
            "A",
            "--model",
            "m",
            "--provider",
            "p",
        ],
    )
    .ok();
    assert!(home.join("agents/a/config.yaml").is_file());
    viben(&home, &["init"]).ok();
    for folder in ["sessions", "telemetry/logs"] {
        assert!(home.join(folder).is_dir(), "{folder}");
    }
}

#[test]
fn telemetry_prune_names_each_entry_it_skips_and_prunes_the_rest() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let home = dir.path();
    viben(home, &["init"]).ok();
    let logs = home.join("telemetry/logs");
    for day in ["2020-01-01", "2020-01-03"] {
        std::fs::write(logs.join(format!("{day}.jsonl")), "{}\n").expect("a day file");
    }
    std::fs::create_dir(logs.join("2020-01-02.jsonl")).expect("a folder named like a day");
    std::os::unix::fs::symlink(
        "/etc/hostname",
        home.join("telemetry/traces/2020-01-02.jsonl"),
    )
    .expect("a link named like a day");
    let run = viben(home, &["telemetry", "prune", "--keep-days", "7"]);
    let out = run.ok();
    assert!(out.contains("removed 2 files"), "{run:?}");
    assert!(out.contains("2 entries skipped"), "{run:?}");
    assert!(
        run.stderr
            .contains("warning: skipped telemetry/logs/2020-01-02.jsonl: a folder, not a day file"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("warning: skipped telemetry/traces/2020-01-02.jsonl: a symbolic link"),
        "{run:?}"
    );
    assert!(!logs.join("2020-01-03.jsonl").exists());
    assert!(logs.join("2020-01-02.jsonl").is_dir());
}
