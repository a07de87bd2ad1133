//! The store's format version through the CLI: `viben check` reports it, and a store written by
//! a newer viben is read but never changed, with a hint to upgrade.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use common::{create_agent, viben};

fn private_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temporary folder");
    std::fs::set_permissions(
        home.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("make the folder private");
    home
}

#[test]
fn init_records_the_format_and_check_reports_it() {
    let home = private_home();
    let h = home.path();
    viben(h, &["init"]).ok();
    let version = std::fs::read_to_string(h.join("version.yaml")).expect("version.yaml");
    assert!(version.ends_with("format: 1\n"), "{version}");
    let out = viben(h, &["check"]).ok().to_owned();
    assert!(
        out.contains("store format 1 (this viben writes format 1)"),
        "{out}"
    );
    let json = viben(h, &["--json", "check"]).json();
    assert_eq!(json["format"]["found"], 1);
    assert_eq!(json["format"]["supported"], 1);
    assert_eq!(json["format"]["recorded"], true);
}

#[test]
fn a_store_in_a_newer_format_is_read_but_not_changed_and_the_hint_says_to_upgrade() {
    let home = private_home();
    let h = home.path();
    create_agent(h, "a");
    std::fs::write(h.join("version.yaml"), "format: 2\n").expect("write version.yaml");
    let config = std::fs::read_to_string(h.join("agents/a/config.yaml")).expect("config");

    // Reads work.
    assert!(viben(h, &["agents", "show", "a"]).ok().contains("a"));

    let run = viben(h, &["agents", "edit", "a", "--temperature", "0.2"]);
    let stderr = run.failed();
    assert!(
        stderr.contains("is in format 2, newer than this viben writes (format 1)"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: upgrade viben"), "{stderr}");
    for args in [
        &["agents", "delete", "a", "--force"][..],
        &["models", "add", "m", "--provider", "p"],
        &["init"],
    ] {
        let run = viben(h, args);
        assert!(
            run.failed().contains("hint: upgrade viben"),
            "{args:?}: {run:#?}"
        );
    }
    let run = viben(h, &["--json", "models", "add", "m", "--provider", "p"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let error: serde_json::Value = serde_json::from_str(run.stderr.trim()).expect("a JSON error");
    assert!(
        error["hint"]
            .as_str()
            .unwrap_or("")
            .starts_with("upgrade viben"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(h.join("agents/a/config.yaml")).expect("config"),
        config,
        "the agent was not changed"
    );
    assert!(!h.join("models.yaml").exists());

    // The agent names a provider with no file, which check also reports.
    let out = viben(h, &["check"]).stdout;
    assert!(
        out.contains("store format 2 (this viben writes format 1)"),
        "{out}"
    );
    assert!(
        out.contains("version.yaml: warning: the store is in format 2"),
        "{out}"
    );
}
