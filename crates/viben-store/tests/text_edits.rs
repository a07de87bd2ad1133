//! A whole file given as text (the studio's editor): saved as typed when it passes the checks a
//! read makes, refused with the problem placed at its line and column when not.

use viben_model::AgentConfig;
use viben_store::{Revision, Store, StoreError};

fn store_with_agent() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open");
    store.init().expect("init");
    let agent: AgentConfig =
        serde_yaml::from_str("id: a1\nname: A\nmodel: m\nprovider: p\n").expect("agent");
    store.agents().create(&agent).expect("create");
    (dir, store)
}

#[test]
fn text_is_saved_as_typed_comments_and_all() {
    let (dir, store) = store_with_agent();
    let opened = store.agents().text("a1").expect("text");
    let typed = "# my helper\nid: a1\nname: A   # shown to people\nmodel: m\nprovider: p\n\ntemperature: 0.3\n";
    let revision = store
        .agents()
        .save_text("a1", typed, &opened.revision)
        .expect("saved");
    let on_disk = std::fs::read_to_string(dir.path().join("agents/a1/config.yaml")).expect("file");
    assert_eq!(on_disk, typed);
    assert_eq!(revision, Revision::of(typed.as_bytes()));
    assert_eq!(
        store.agents().get("a1").expect("get").temperature,
        Some(0.3)
    );
}

#[test]
fn a_comment_only_edit_is_saved_too() {
    let (dir, store) = store_with_agent();
    let opened = store.agents().text("a1").expect("text");
    let typed = format!("# only a comment added\n{}", opened.value);
    store
        .agents()
        .save_text("a1", &typed, &opened.revision)
        .expect("saved");
    let on_disk = std::fs::read_to_string(dir.path().join("agents/a1/config.yaml")).expect("file");
    assert_eq!(on_disk, typed);
}

#[test]
fn a_broken_rule_is_placed_at_its_field_and_nothing_is_written() {
    let (dir, store) = store_with_agent();
    let opened = store.agents().text("a1").expect("text");
    let typed = "id: a1\nname: A\ntemperature: 7.5  # too hot\nmodel: m\nprovider: p\n";
    let err = store
        .agents()
        .save_text("a1", typed, &opened.revision)
        .expect_err("out of range");
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert_eq!(err.line_column(), (Some(3), Some(14)));
    assert!(
        err.to_string()
            .ends_with("agents/a1/config.yaml:3:14 breaks a rule"),
        "{err}"
    );
    let on_disk = std::fs::read_to_string(dir.path().join("agents/a1/config.yaml")).expect("file");
    assert_eq!(on_disk, opened.value, "nothing written");
}

#[test]
fn text_that_is_not_yaml_is_placed_where_the_parser_stopped() {
    let (_dir, store) = store_with_agent();
    let opened = store.agents().text("a1").expect("text");
    let err = store
        .agents()
        .save_text("a1", "id: a1\nname: [unclosed\n", &opened.revision)
        .expect_err("not YAML");
    assert!(matches!(err, StoreError::Parse { .. }), "{err:?}");
    assert!(err.line_column().0.is_some(), "placed: {err}");
}

#[test]
fn a_stale_revision_or_another_id_is_refused() {
    let (_dir, store) = store_with_agent();
    let opened = store.agents().text("a1").expect("text");
    store
        .agents()
        .save_text(
            "a1",
            &format!("{}temperature: 1\n", opened.value),
            &opened.revision,
        )
        .expect("first save");
    let err = store
        .agents()
        .save_text("a1", &opened.value, &opened.revision)
        .expect_err("stale");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    let current = store.agents().text("a1").expect("text");
    let err = store
        .agents()
        .save_text(
            "a1",
            &current.value.replace("id: a1", "id: a2"),
            &current.revision,
        )
        .expect_err("other id");
    assert!(matches!(err, StoreError::IdMismatch { .. }), "{err:?}");
}
