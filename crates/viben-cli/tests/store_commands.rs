//! The store commands, run as a user runs them: a real binary on a temporary home.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use common::{viben, viben_with};

fn home() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temporary folder");
    // Private, as viben makes its folder (`check` warns about a folder others may enter).
    std::fs::set_permissions(
        home.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("make the folder private");
    home
}

/// A home with a model, a provider and an agent that uses them.
fn seeded() -> tempfile::TempDir {
    let home = home();
    let h = home.path();
    viben(h, &["init"]).ok();
    viben(
        h,
        &[
            "models",
            "add",
            "claude-3-sonnet",
            "--provider",
            "anthropic",
        ],
    )
    .ok();
    viben(h, &["models", "default", "claude-3-sonnet"]).ok();
    viben(
        h,
        &[
            "providers",
            "set",
            "anthropic",
            "--api-key-env",
            "ANTHROPIC_API_KEY",
        ],
    )
    .ok();
    viben(
        h,
        &[
            "agents",
            "create",
            "my-agent",
            "--name",
            "My Agent",
            "--model",
            "claude-3-sonnet",
            "--provider",
            "anthropic",
            "--temperature",
            "0.7",
            "--max-tokens",
            "4096",
        ],
    )
    .ok();
    home
}

#[test]
fn init_creates_the_layout_with_private_folders() {
    use std::os::unix::fs::PermissionsExt;
    let home = home();
    let root = home.path().join("fresh");
    let out = viben(&root, &["init"]);
    assert!(out.ok().contains("store ready"), "{out:?}");
    for dir in ["agents", "providers", "sessions", "telemetry/traces"] {
        let meta = std::fs::metadata(root.join(dir)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{dir}");
    }
}

#[test]
fn agents_create_list_show_edit_delete() {
    let home = seeded();
    let h = home.path();
    let list = viben(h, &["agents", "list"]);
    assert!(list.ok().starts_with("ID"), "{list:?}");
    assert!(list.stdout.contains("my-agent  My Agent"), "{list:?}");

    let shown = viben(h, &["agents", "show", "my-agent", "--json"]).json();
    assert_eq!(shown["id"], "my-agent");
    assert_eq!(shown["temperature"], 0.7);
    assert_eq!(shown["max_tokens"], 4096);

    viben(h, &["agents", "edit", "my-agent", "--description", "Helps"]).ok();
    let listed = viben(h, &["agents", "list", "--json"]).json();
    assert_eq!(listed[0]["description"], "Helps");
    assert_eq!(listed[0]["name"], "My Agent", "edit keeps the other fields");

    viben(h, &["agents", "delete", "my-agent"]).ok();
    assert_eq!(
        viben(h, &["agents", "list", "--json"]).json(),
        serde_json::json!([])
    );
}

#[test]
fn agents_create_without_required_flags_says_which_are_needed() {
    let home = home();
    let run = viben(home.path(), &["agents", "create", "a", "--name", "A"]);
    assert_eq!(run.code, 2, "a missing flag is a usage error: {run:?}");
    assert!(
        run.stderr.contains("--model <MODEL>") && run.stderr.contains("--provider <PROVIDER>"),
        "{run:?}"
    );
}

#[test]
fn an_invalid_value_fails_with_exit_1_and_a_hint() {
    let home = seeded();
    let run = viben(
        home.path(),
        &["agents", "edit", "my-agent", "--temperature", "3"],
    );
    let err = run.failed();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains("temperature 3"),
        "{err}"
    );
    assert!(lines[1].starts_with("hint: "), "{err}");
}

#[test]
fn wrong_usage_exits_with_2() {
    let home = home();
    assert_eq!(viben(home.path(), &["agents", "frobnicate"]).code, 2);
    assert_eq!(
        viben(home.path(), &["models", "add", "x"]).code,
        2,
        "missing --provider"
    );
}

#[test]
fn agents_list_reports_a_broken_file_on_stderr_and_still_lists_the_rest() {
    let home = seeded();
    let h = home.path();
    let broken = h.join("agents/broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("config.yaml"), "id: broken\nname: [1, 2\n").unwrap();
    let run = viben(h, &["agents", "list"]);
    assert!(run.ok().contains("my-agent"), "{run:?}");
    assert!(run.stderr.contains("agents/broken/config.yaml:"), "{run:?}");
    assert!(
        run.stderr.contains(":2:") || run.stderr.contains(":3:"),
        "line given: {run:?}"
    );
}

#[test]
fn missing_agent_is_exit_1_with_a_hint() {
    let home = seeded();
    let err = viben(home.path(), &["agents", "show", "nope"])
        .failed()
        .to_owned();
    assert!(
        err.starts_with("error: agent \"nope\" does not exist\nhint: "),
        "{err}"
    );
}

#[test]
fn deleting_a_used_agent_needs_force() {
    let home = seeded();
    let h = home.path();
    std::fs::write(
        h.join("channels.yaml"),
        "channels:\n- id: tg\n  kind: telegram\n  agent: my-agent\n",
    )
    .unwrap();
    let err = viben(h, &["agents", "delete", "my-agent"])
        .failed()
        .to_owned();
    assert!(err.contains("channel \"tg\""), "{err}");
    viben(h, &["agents", "delete", "my-agent", "--force"]).ok();
}

#[test]
fn models_commands() {
    let home = seeded();
    let h = home.path();
    assert_eq!(viben(h, &["models", "default"]).ok(), "claude-3-sonnet\n");
    viben(
        h,
        &[
            "models",
            "add",
            "my-custom-model",
            "--provider",
            "openai",
            "--name",
            "My Custom Model",
            "--base-model",
            "gpt-4",
            "--temperature",
            "0.7",
        ],
    )
    .ok();
    viben(h, &["models", "disable", "my-custom-model"]).ok();
    let catalog = viben(h, &["models", "list", "--json"]).json();
    assert_eq!(catalog["default"], "claude-3-sonnet");
    assert_eq!(catalog["models"][1]["id"], "my-custom-model");
    assert_eq!(catalog["models"][1]["enabled"], false);
    viben(h, &["models", "enable", "my-custom-model"]).ok();
    viben(h, &["models", "default", "my-custom-model"]).ok();
    viben(h, &["models", "remove", "claude-3-sonnet"]).ok();
    let table = viben(h, &["models", "list"]);
    assert!(table.ok().contains("my-custom-model"), "{table:?}");
    assert!(!table.stdout.contains("claude-3-sonnet"), "{table:?}");
}

#[test]
fn models_default_without_one_set_fails() {
    let home = home();
    let err = viben(home.path(), &["models", "default"])
        .failed()
        .to_owned();
    assert!(err.contains("no default model"), "{err}");
}

#[test]
fn provider_key_from_stdin_is_stored_privately_and_never_printed() {
    use std::os::unix::fs::PermissionsExt;
    let home = home();
    let h = home.path();
    viben_with(
        h,
        None,
        "sk-live-secret\n",
        &["providers", "set", "openai", "--api-key-stdin"],
    )
    .ok();
    let file = h.join("providers/openai.yaml");
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("sk-live-secret")
    );
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for args in [
        &["providers", "list"][..],
        &["providers", "list", "--json"],
        &["providers", "show", "openai"],
        &["providers", "show", "openai", "--json"],
    ] {
        let run = viben(h, args);
        assert!(!run.ok().contains("sk-live"), "{args:?} leaked: {run:?}");
        assert!(run.stdout.contains("***"), "{args:?}: {run:?}");
    }
    assert_eq!(
        viben(h, &["providers", "show", "openai", "--json"]).json()["api_key"],
        "***"
    );
    viben(h, &["providers", "delete", "openai"]).ok();
    viben(h, &["providers", "show", "openai"]).failed();
}

#[test]
fn empty_stdin_for_a_key_is_refused() {
    let home = home();
    let err = viben_with(
        home.path(),
        None,
        "",
        &["providers", "set", "x", "--api-key-stdin"],
    );
    assert!(err.failed().contains("no API key"), "{err:?}");
}

#[test]
fn channels_list_and_show() {
    let home = seeded();
    let h = home.path();
    std::fs::write(
        h.join("channels.yaml"),
        "channels:\n- id: tg\n  kind: telegram\n  agent: my-agent\n  settings:\n    chat_id: 42\n    bot_token: '123:very-secret'\n",
    )
    .unwrap();
    let list = viben(h, &["channels", "list", "--json"]).json();
    assert_eq!(list[0]["kind"], "telegram");
    assert_eq!(list[0]["settings"]["chat_id"], 42);
    assert_eq!(list[0]["settings"]["bot_token"], "***");
    let shown = viben(h, &["channels", "show", "tg"]);
    assert!(shown.ok().contains("chat_id"), "{shown:?}");
    assert!(!shown.stdout.contains("very-secret"), "{shown:?}");
    let json = viben(h, &["channels", "show", "tg", "--json"]);
    assert!(!json.ok().contains("very-secret"), "{json:?}");
    viben(h, &["channels", "show", "nope"]).failed();
}

#[test]
fn sessions_list_and_show_a_hand_written_session() {
    let home = seeded();
    let h = home.path();
    let dir = h.join("sessions/s1");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("session.yaml"),
        "id: s1\nagent_id: my-agent\ntitle: Hello\ncreated_at: 2026-01-02T03:04:05Z\nupdated_at: 2026-01-02T03:04:05Z\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("messages.jsonl"),
        concat!(
            r#"{"role":"user","content":"hi","created_at":"2026-01-02T03:04:06Z"}"#,
            "\n",
            r#"{"role":"assistant","content":"hello!","created_at":"2026-01-02T03:04:07Z","output_tokens":3}"#,
            "\n",
        ),
    )
    .unwrap();
    let list = viben(h, &["sessions", "list", "--agent", "my-agent", "--json"]).json();
    assert_eq!(list[0]["id"], "s1");
    let other = viben(h, &["sessions", "list", "--agent", "other", "--json"]).json();
    assert_eq!(other, serde_json::json!([]));
    let shown = viben(h, &["sessions", "show", "s1", "--json"]).json();
    assert_eq!(shown["title"], "Hello");
    assert_eq!(shown["messages"].as_array().unwrap().len(), 2);
    assert_eq!(shown["messages"][1]["output_tokens"], 3);
    let last = viben(h, &["sessions", "show", "s1", "--last", "1", "--json"]).json();
    assert_eq!(last["messages"][0]["content"], "hello!");
    let text = viben(h, &["sessions", "show", "s1"]);
    assert!(text.ok().contains("hello!"), "{text:?}");
}

#[test]
fn telemetry_prune_needs_a_limit_and_removes_old_days() {
    let home = home();
    let h = home.path();
    let run = viben(h, &["telemetry", "prune"]);
    assert_eq!(run.code, 2, "a missing limit is a usage error: {run:?}");
    viben(h, &["init"]).ok();
    let old = h.join("telemetry/logs/2020-01-01.jsonl");
    std::fs::write(
        &old,
        "{\"level\":\"info\",\"message\":\"x\",\"time\":\"2020-01-01T00:00:00Z\"}\n",
    )
    .unwrap();
    let out = viben(h, &["telemetry", "prune", "--keep-days", "7"]);
    assert!(out.ok().contains("removed 1 files"), "{out:?}");
    assert!(!old.exists());
}

#[test]
fn check_prints_path_line_column_and_exits_1() {
    let home = seeded();
    let h = home.path();
    assert!(viben(h, &["check"]).ok().contains("no problems"));
    std::fs::write(
        h.join("models.yaml"),
        "default: claude-3-sonnet\nmodels:\n- id: [oops\n",
    )
    .unwrap();
    let run = viben(h, &["check"]);
    run.failed();
    let first = run.stdout.lines().next().unwrap_or_default().to_owned();
    let mut parts = first.splitn(4, ':');
    assert_eq!(parts.next(), Some("models.yaml"), "{run:?}");
    assert!(
        parts.next().unwrap().parse::<u32>().is_ok(),
        "line: {run:?}"
    );
    assert!(
        parts.next().unwrap().parse::<u32>().is_ok(),
        "column: {run:?}"
    );
}
