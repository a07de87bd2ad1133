//! `viben schema`: the JSON Schemas of the store's files, as a user prints them for an editor.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use common::viben;

#[test]
fn schema_prints_the_committed_schema_of_a_kind() {
    let home = tempfile::tempdir().expect("a temporary folder");
    for kind in ["agent", "models", "message"] {
        let out = viben(home.path(), &["schema", kind]).ok().to_owned();
        let committed = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../../schemas/{kind}.schema.json")),
        )
        .expect("the committed copy");
        assert_eq!(out, committed, "{kind}");
        // `--json` changes nothing: the schema is JSON already.
        assert_eq!(viben(home.path(), &["--json", "schema", kind]).ok(), out);
    }
    assert!(
        !home.path().join(".viben").exists()
            && std::fs::read_dir(home.path()).unwrap().count() == 0,
        "printing a schema touches no store"
    );
}

#[test]
fn schema_without_a_kind_lists_the_kinds_and_their_files() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let listed = viben(home.path(), &["schema"]).ok().to_owned();
    assert_eq!(viben(home.path(), &["schema", "--list"]).ok(), listed);
    for (kind, file) in [
        ("agent", "agents/<id>/config.yaml"),
        ("channels", "channels.yaml"),
        ("log", "telemetry/logs/<day>.jsonl"),
    ] {
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with(kind) && l.contains(file)),
            "{kind}: {listed}"
        );
    }
    let json = viben(home.path(), &["--json", "schema", "--list"]).json();
    let kinds = json.as_array().expect("a list");
    assert_eq!(kinds.len(), 10);
    assert_eq!(kinds[0]["kind"], "agent");
    assert_eq!(kinds[0]["file"], "schemas/agent.schema.json");
}

#[test]
fn an_unknown_kind_is_a_usage_error_naming_the_kinds() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let run = viben(home.path(), &["schema", "agents"]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("there is no schema for \"agents\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: use one of agent, provider"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}
