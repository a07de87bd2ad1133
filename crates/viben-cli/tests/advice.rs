//! Exit codes and advice: usage errors exit 2, warnings alone do not fail, a hint fits what
//! was found, and a reference to something not configured yet is said at once.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use common::{create_agent, viben};

fn home() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temporary folder");
    // Private, as viben makes its folder (`check` warns about a folder others may enter).
    std::fs::set_permissions(
        home.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("make the folder private");
    viben(home.path(), &["init"]).ok();
    home
}

#[test]
fn missing_required_flags_are_usage_errors_with_exit_2() {
    let home = home();
    let h = home.path();
    for args in [
        &["agents", "create", "a", "--name", "A", "--model", "m"][..],
        &["db", "revert"],
        &["telemetry", "prune"],
    ] {
        let run = viben(h, args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains("required"), "{args:?}: {run:?}");
    }
}

#[test]
fn agents_edit_with_no_field_is_a_usage_error_and_changes_nothing() {
    let home = home();
    let h = home.path();
    create_agent(h, "a");
    let config = h.join("agents/a/config.yaml");
    let before = std::fs::read(&config).unwrap();
    let run = viben(h, &["agents", "edit", "a"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(!run.stdout.contains("updated"), "{run:?}");
    assert!(run.stderr.contains("no field to change"), "{run:?}");
    assert_eq!(std::fs::read(&config).unwrap(), before);
}

#[test]
fn check_with_only_warnings_exits_0_and_says_so() {
    let home = home();
    let h = home.path();
    std::fs::write(h.join(".models.yaml.tmp-123-abc1"), "x").unwrap();
    let run = viben(h, &["check"]);
    let out = run.ok();
    assert!(out.contains("warning: leftover temporary file"), "{run:?}");
    assert!(out.contains("no errors in"), "{run:?}");
    assert!(out.contains("1 warning(s)"), "{run:?}");
}

#[test]
fn a_check_error_without_a_line_gets_a_hint_that_names_no_line() {
    let home = home();
    let h = home.path();
    std::fs::create_dir(h.join("agents/x")).unwrap();
    let run = viben(h, &["check"]);
    let err = run.failed();
    assert!(err.contains("1 error(s)"), "{run:?}");
    assert!(!err.contains("at the line shown"), "{run:?}");
    assert!(err.contains("fix each file named above"), "{run:?}");
}

#[test]
fn unknown_providers_and_models_are_warned_about_when_referenced() {
    let home = home();
    let h = home.path();
    let run = viben(h, &["models", "add", "m", "--provider", "nope"]);
    run.ok();
    assert!(
        run.stderr
            .contains("provider \"nope\" has no providers/nope.yaml yet")
            && run.stderr.contains("viben providers set nope"),
        "{run:?}"
    );
    let run = viben(
        h,
        &[
            "agents",
            "create",
            "a",
            "--name",
            "A",
            "--model",
            "ghost",
            "--provider",
            "nope",
        ],
    );
    run.ok();
    assert!(run.stderr.contains("providers set nope"), "{run:?}");
    assert!(
        run.stderr
            .contains("model \"ghost\" is not in models.yaml yet"),
        "{run:?}"
    );
    let run = viben(h, &["agents", "edit", "a", "--model", "ghost2"]);
    run.ok();
    assert!(run.stderr.contains("\"ghost2\""), "{run:?}");
    assert!(
        !run.stderr.contains("providers set"),
        "only what the edit changed is checked: {run:?}"
    );

    // Once both exist, nothing is said.
    viben(
        h,
        &["providers", "set", "nope", "--api-key-env", "NOPE_KEY"],
    )
    .ok();
    let run = viben(
        h,
        &["agents", "edit", "a", "--model", "m", "--provider", "nope"],
    );
    run.ok();
    assert_eq!(run.stderr, "", "{run:?}");
}
