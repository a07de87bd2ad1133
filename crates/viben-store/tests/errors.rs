//! Errors name the file, the line and column, and what was expected; one bad file never hides
//! the others.

mod common;

use common::{seed_store, write};
use viben_store::{Severity, StoreError};

#[test]
fn a_yaml_syntax_error_names_the_file_line_and_column() {
    let t = seed_store();
    write(
        t.dir.path(),
        "agents/bad/config.yaml",
        "id: bad\nname: [unclosed\nmodel: m\n",
    );
    let err = t.store.agents().get("bad").unwrap_err();
    let (line, column) = err.line_column();
    assert!(line.is_some() && column.is_some(), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "{}:",
            t.dir.path().join("agents/bad/config.yaml").display()
        )),
        "{text}"
    );
    assert!(
        viben_model::Hint::hint(&err).is_some_and(|hint| hint.contains("fix the file by hand")),
        "{err:?}"
    );
}

#[test]
fn a_missing_field_names_the_field_and_its_place() {
    let t = seed_store();
    write(
        t.dir.path(),
        "agents/bad/config.yaml",
        "id: bad\nname: Bad\nprovider: p\n",
    );
    let err = t.store.agents().get("bad").unwrap_err();
    match &err {
        StoreError::Parse { line, message, .. } => {
            assert_eq!(*line, Some(1));
            assert!(message.contains("missing field `model`"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_wrong_type_names_the_field_line_column_and_expected_type() {
    let t = seed_store();
    write(
        t.dir.path(),
        "agents/bad/config.yaml",
        "id: bad\nname: Bad\nmodel: m\nprovider: p\nmax_tokens: lots\n",
    );
    let err = t.store.agents().get("bad").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("config.yaml:5:13: max_tokens: invalid type: string \"lots\", expected u32"),
        "{text}"
    );
}

#[test]
fn listing_agents_returns_the_good_ones_and_reports_each_broken_one() {
    let t = seed_store();
    write(
        t.dir.path(),
        "agents/broken/config.yaml",
        "id: broken\nname: [\n",
    );
    write(
        t.dir.path(),
        "agents/hot/config.yaml",
        "id: hot\nname: Hot\nmodel: m\nprovider: p\ntemperature: 9\n",
    );
    write(
        t.dir.path(),
        "agents/other/config.yaml",
        "id: other\nname: Other\nmodel: m\nprovider: p\n",
    );
    std::fs::create_dir_all(t.dir.path().join("agents/empty")).unwrap();
    write(t.dir.path(), "agents/.hidden/config.yaml", "nonsense");
    write(t.dir.path(), "agents/README.txt", "not an agent");
    let listing = t.store.agents().list().unwrap();
    let ids: Vec<_> = listing.items.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["my-agent", "other"]);
    assert_eq!(listing.errors.len(), 3, "{:?}", listing.errors);
    assert!(matches!(listing.errors[0], StoreError::Parse { .. }));
    assert!(matches!(listing.errors[1], StoreError::Io { .. }));
    assert!(
        listing.errors[1]
            .to_string()
            .contains("agents/empty/config.yaml"),
        "{}",
        listing.errors[1]
    );
    assert!(matches!(listing.errors[2], StoreError::Invalid { .. }));
}

#[test]
fn check_reports_every_problem_with_relative_path_line_and_column() {
    let t = seed_store();
    let root = t.dir.path();
    write(root, "agents/broken/config.yaml", "id: broken\nname: [\n");
    write(
        root,
        "agents/hot/config.yaml",
        "id: hot\nname: Hot\nmodel: claude-3-sonnet\nprovider: anthropic\ntemperature: 9\n",
    );
    write(
        root,
        "agents/lost/config.yaml",
        "id: lost\nname: Lost\nmodel: gpt-9\nprovider: nowhere\n",
    );
    write(
        root,
        "models.yaml",
        "default: gone\nmodels:\n- id: claude-3-sonnet\n  provider: anthropic\n- id: my-custom-model\n  provider: openai\n",
    );
    write(
        root,
        "channels.yaml",
        "channels:\n- id: tg\n  kind: telegram\n  agent: ghost\n",
    );
    write(
        root,
        "sessions/s1/messages.jsonl",
        "{\"role\":\"user\",\"content\":\"a\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n{\"role\":",
    );
    write(
        root,
        "sessions/s1/session.yaml",
        "id: s1\nagent_id: my-agent\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: 2026-01-01T00:00:00Z\n",
    );
    let problems: Vec<String> = t.store.check().iter().map(ToString::to_string).collect();
    let expect = [
        "models.yaml:1:1: the default model \"gone\" is not in models.yaml",
        "agents/broken/config.yaml:2:7: name: invalid type: sequence, expected a string",
        "agents/hot/config.yaml:5:1: temperature 9 is out of range",
        "agents/lost/config.yaml:3:1: model \"gpt-9\" is not in models.yaml",
        "agents/lost/config.yaml:4:1: provider \"nowhere\" has no providers/nowhere.yaml",
        "channels.yaml:4:3: channel \"tg\" routes to agent \"ghost\", which does not exist",
        "sessions/s1/messages.jsonl:2:1: warning: the last line is incomplete",
    ];
    for wanted in expect {
        assert!(
            problems.iter().any(|p| p.starts_with(wanted)),
            "missing {wanted:?} in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");
    let severities: Vec<_> = t.store.check().iter().map(|p| p.severity).collect();
    assert_eq!(
        severities
            .iter()
            .filter(|s| **s == Severity::Warning)
            .count(),
        1
    );
}

#[test]
fn check_reports_duplicates_and_id_mismatches() {
    let t = seed_store();
    let root = t.dir.path();
    write(
        root,
        "models.yaml",
        "models:\n- id: a\n  provider: anthropic\n- id: a\n  provider: anthropic\n",
    );
    write(root, "providers/openai.yaml", "name: open-ai\n");
    let problems: Vec<String> = t.store.check().iter().map(ToString::to_string).collect();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("models.yaml:4:3: model \"a\" is listed more than once")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("providers/openai.yaml:1:1: name is \"open-ai\"")),
        "{problems:#?}"
    );
}

#[test]
fn a_folder_name_that_is_not_utf8_is_reported_as_a_name_to_change_not_a_file_to_fix() {
    use std::os::unix::ffi::OsStrExt;
    let t = common::seed_store();
    let bad = t
        .dir
        .path()
        .join("agents")
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    std::fs::create_dir(&bad).unwrap();
    let listing = t.store.agents().list().unwrap();
    assert_eq!(listing.items.len(), 1);
    let [err] = listing.errors.as_slice() else {
        panic!("{:?}", listing.errors);
    };
    assert!(matches!(err, StoreError::BadName { .. }), "{err:?}");
    let message = viben_model::Report(err).to_string();
    assert!(message.contains("not valid UTF-8; rename it"), "{message}");
    assert!(!message.contains("fix the file by hand"), "{message}");
}

#[test]
fn check_warns_about_a_root_others_may_enter_and_says_how_to_close_it() {
    let t = common::seed_store();
    assert!(t.store.check().is_empty());
    std::fs::set_permissions(
        t.dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let problems = t.store.check();
    let [problem] = problems.as_slice() else {
        panic!("{problems:?}");
    };
    assert_eq!(problem.severity, viben_store::Severity::Warning);
    assert_eq!(problem.path, std::path::Path::new("."));
    assert!(problem.message.contains("755"), "{problem}");
    assert_eq!(
        problem.hint.as_deref(),
        Some(format!("run `chmod 700 {}`", t.dir.path().display()).as_str())
    );
    assert_eq!(t.store.check_root().as_ref(), Some(problem));
}
