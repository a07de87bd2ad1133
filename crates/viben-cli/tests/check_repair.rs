//! `viben check --repair`: the session index, reported when it misses sessions (folders
//! copied in by hand) or is damaged, and rebuilt, run as a user runs it.

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
    home
}

/// A home with agent `my-agent` whose provider exists, so `check` has nothing else to say.
fn home_with_agent() -> tempfile::TempDir {
    let home = home();
    create_agent(home.path(), "my-agent");
    viben(home.path(), &["init"]).ok();
    std::fs::write(home.path().join("providers/p.yaml"), "name: p\n").expect("a provider");
    home
}

fn copy_in_session(home: &std::path::Path, id: &str) {
    let dir = home.join("sessions").join(id);
    std::fs::create_dir_all(&dir).expect("a session folder");
    std::fs::write(
        dir.join("session.yaml"),
        format!(
            "id: {id}\nagent_id: my-agent\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: \
             2026-01-01T00:00:00Z\n"
        ),
    )
    .expect("session.yaml");
}

fn index_problems(check: &serde_json::Value) -> Vec<serde_json::Value> {
    check["problems"]
        .as_array()
        .expect("a problems array")
        .iter()
        .filter(|p| p["path"] == "sessions/.index.jsonl")
        .cloned()
        .collect()
}

#[test]
fn a_session_copied_in_by_hand_is_reported_and_repair_takes_it_in() {
    let home = home_with_agent();
    let h = home.path();
    viben(h, &["sessions", "create", "--agent", "my-agent"]).ok();
    copy_in_session(h, "copied");

    let paged = viben(h, &["sessions", "list", "--limit", "10", "--json"]).json();
    assert_eq!(paged["sessions"].as_array().unwrap().len(), 1);

    let run = viben(h, &["check", "--json"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let check: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let problems = index_problems(&check);
    assert_eq!(problems.len(), 1, "{check:#}");
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("\"copied\"")
    );
    assert!(
        problems[0]["hint"]
            .as_str()
            .unwrap()
            .contains("viben check --repair")
    );

    let repaired = viben(h, &["check", "--repair"]);
    assert!(
        repaired
            .stdout
            .contains("rebuilt the session index: 2 session(s)"),
        "{repaired:#?}"
    );
    let check = viben(h, &["check", "--repair", "--json"]).json();
    assert_eq!(check["repaired"]["session_index"], 2);
    assert!(index_problems(&check).is_empty(), "{check:#}");
    let paged = viben(h, &["sessions", "list", "--limit", "10", "--json"]).json();
    assert_eq!(paged["sessions"].as_array().unwrap().len(), 2);
}

#[test]
fn a_damaged_index_fails_the_listing_with_the_repair_hint_until_repaired() {
    let home = home_with_agent();
    let h = home.path();
    viben(h, &["sessions", "create", "--agent", "my-agent"]).ok();
    std::fs::write(h.join("sessions/.index.jsonl"), "garbage\n").unwrap();

    let run = viben(h, &["sessions", "list", "--limit", "10"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("session index"), "{}", run.stderr);
    assert!(
        run.stderr.contains("viben check --repair"),
        "{}",
        run.stderr
    );

    viben(h, &["check", "--repair"]).ok();
    let paged = viben(h, &["sessions", "list", "--limit", "10", "--json"]).json();
    assert_eq!(paged["sessions"].as_array().unwrap().len(), 1);
}
