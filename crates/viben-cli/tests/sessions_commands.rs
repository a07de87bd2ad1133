//! `viben sessions create | append | show | delete`, run as a user runs them, so a session can
//! be driven from outside the Rust API.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{create_agent, viben, viben_limited, viben_with};

/// A home with an agent, and a session for it; returns the session's id.
fn home_with_session() -> (tempfile::TempDir, String) {
    let home = tempfile::tempdir().expect("a temporary folder");
    let h = home.path();
    create_agent(h, "my-agent");
    let created = viben(
        h,
        &[
            "sessions", "create", "--agent", "my-agent", "--title", "Trip", "--json",
        ],
    )
    .json();
    assert_eq!(created["agent_id"], "my-agent");
    assert_eq!(created["title"], "Trip");
    let id = created["id"].as_str().expect("an id").to_owned();
    (home, id)
}

#[test]
fn a_session_is_created_appended_to_shown_and_deleted_from_the_command_line() {
    let (home, id) = home_with_session();
    let h = home.path();
    let out = viben(h, &["sessions", "append", &id, "--content", "Hi"]);
    assert_eq!(
        out.ok(),
        format!("appended a user message to session {id}\n")
    );
    // From standard input, without the newline `echo` adds.
    let appended = viben_with(
        h,
        None,
        "Hello!\n",
        &["sessions", "append", &id, "--role", "assistant", "--json"],
    )
    .json();
    assert_eq!(appended["content"], "Hello!");
    assert_eq!(appended["role"], "assistant");

    let shown = viben(h, &["sessions", "show", &id, "--json"]).json();
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["title"], "Trip");
    let messages = shown["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["content"], "Hi");
    assert_eq!(messages[1]["role"], "assistant");
    let last = viben(h, &["sessions", "show", &id, "--last", "1", "--json"]).json();
    assert_eq!(last["messages"][0]["content"], "Hello!");
    assert_eq!(last["messages"].as_array().map(Vec::len), Some(1));
    let plain = viben(h, &["sessions", "show", &id]);
    assert!(plain.ok().contains("] user\nHi\n"), "{plain:?}");
    assert!(plain.stdout.ends_with("] assistant\nHello!\n"), "{plain:?}");

    let listed = viben(h, &["sessions", "list", "--json"]).json();
    assert_eq!(listed[0]["id"], id.as_str());

    // Deleting needs --yes: a usage error (exit 2) without it, nothing deleted.
    let refused = viben(h, &["sessions", "delete", &id]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.stderr.contains("--yes"), "{refused:?}");
    viben(h, &["sessions", "show", &id]).ok();
    let deleted = viben(h, &["sessions", "delete", &id, "--yes"]);
    assert_eq!(deleted.ok(), format!("deleted session {id}\n"));
    let gone = viben(h, &["sessions", "show", &id]);
    assert!(gone.failed().contains("does not exist"), "{gone:?}");
    assert!(
        viben(h, &["sessions", "delete", &id, "--yes"])
            .failed()
            .contains("does not exist")
    );
}

#[test]
fn sessions_create_needs_an_existing_agent() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let missing = viben(home.path(), &["sessions", "create"]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("--agent"), "{missing:?}");
    let err = viben(home.path(), &["sessions", "create", "--agent", "ghost"])
        .failed()
        .to_owned();
    assert!(
        err.starts_with("error: agent \"ghost\" does not exist"),
        "{err}"
    );
}

#[test]
fn sessions_append_refuses_an_empty_a_non_utf8_and_an_over_long_message_writing_nothing() {
    let (home, id) = home_with_session();
    let h = home.path();
    let empty = viben_with(h, None, "", &["sessions", "append", &id]);
    assert!(
        empty
            .failed()
            .starts_with("error: the message is empty\nhint: "),
        "{empty:?}"
    );
    let long = "x".repeat(16 * 1024 * 1024 + 1);
    let over = viben_with(h, None, &long, &["sessions", "append", &id]);
    assert!(over.failed().contains("16 MiB"), "{over:?}");
    // Escaping makes this line longer than the limit, though the text itself is not.
    let escaped = "\u{1}".repeat(4 * 1024 * 1024);
    let over = viben_with(h, None, &escaped, &["sessions", "append", &id]);
    let err = over.failed();
    assert!(
        err.contains("more than the 16777216 bytes (16 MiB) a log line may hold"),
        "{err}"
    );
    assert!(err.contains("hint: shorten it or split it"), "{err}");
    let missing = viben(h, &["sessions", "append", "nope", "--content", "x"]);
    assert!(
        missing.failed().contains("session \"nope\" does not exist"),
        "{missing:?}"
    );
    let shown = viben(h, &["sessions", "show", &id, "--json"]).json();
    assert_eq!(shown["messages"], serde_json::json!([]));

    let mut child = Command::new(env!("CARGO_BIN_EXE_viben"))
        .arg("--home")
        .arg(h)
        .args(["sessions", "append", &id])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("viben starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"caf\xe9\n")
        .expect("write stdin");
    let out = child.wait_with_output().expect("viben runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not UTF-8 text (invalid byte at offset 3)"),
        "{err}"
    );
}

#[test]
fn sessions_show_last_n_counts_messages_past_bad_lines_and_names_each_bad_line() {
    let (home, id) = home_with_session();
    let h = home.path();
    for content in ["one", "two", "three"] {
        viben(h, &["sessions", "append", &id, "--content", content]).ok();
    }
    let log = h.join("sessions").join(&id).join("messages.jsonl");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open the log");
    file.write_all(b"garbage\n").expect("write");
    drop(file);
    viben(h, &["sessions", "append", &id, "--content", "four"]).ok();

    let run = viben(h, &["sessions", "show", &id, "--last", "2", "--json"]);
    let shown = run.json();
    let contents: Vec<_> = shown["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["content"].as_str().expect("content").to_owned())
        .collect();
    assert_eq!(contents, ["three", "four"]);
    // With --json, the warning is one JSON object on stderr.
    let warning: serde_json::Value =
        serde_json::from_str(run.stderr.trim()).expect("one JSON warning on stderr");
    assert!(
        warning["warning"]
            .as_str()
            .is_some_and(|w| w.contains(&format!(
                "sessions/{id}/messages.jsonl:4: not a valid record"
            ))),
        "{run:?}"
    );
    let plain_last = viben(h, &["sessions", "show", &id, "--last", "2"]);
    assert!(
        plain_last.stderr.starts_with("warning: ")
            && plain_last.stderr.contains(&format!(
                "sessions/{id}/messages.jsonl:4: not a valid record"
            )),
        "{plain_last:?}"
    );
    let plain = viben(h, &["sessions", "show", &id]);
    assert!(plain.ok().ends_with("] user\nfour\n"), "{plain:?}");
    assert!(plain.stderr.contains("messages.jsonl:4: "), "{plain:?}");
    let check = viben(h, &["check"]);
    assert!(
        check.stdout.contains(&format!(
            "sessions/{id}/messages.jsonl:4:1: not a valid record"
        )),
        "{check:?}"
    );
}

#[test]
fn sessions_show_streams_a_log_larger_than_its_whole_memory_limit() {
    const MESSAGES: usize = 48;
    const LIMIT_KIB: u64 = 50 * 1024;
    let (home, id) = home_with_session();
    let h = home.path();
    // 48 messages of 1 MiB: more than the 50 MiB the whole process may map, shared libraries
    // included, once the log is held whole.
    let log = h.join("sessions").join(&id).join("messages.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&log).expect("create the log"));
    let body = "z".repeat(1024 * 1024);
    for i in 0..MESSAGES {
        writeln!(
            file,
            r#"{{"role":"user","content":"{i} {body}","created_at":"2026-01-01T00:00:00Z"}}"#
        )
        .expect("write the log");
    }
    file.flush().expect("flush the log");
    drop(file);
    let log_len = std::fs::metadata(&log).expect("the log").len() as usize;

    let (_, len, tail) = viben_limited(h, LIMIT_KIB, &["sessions", "show", &id, "--json"]);
    assert!(len > log_len, "all of it was printed: {len} bytes");
    assert!(
        tail.ends_with("\"created_at\": \"2026-01-01T00:00:00Z\"\n    }\n  ]\n}\n"),
        "{tail}"
    );

    let (_, len, tail) = viben_limited(h, LIMIT_KIB, &["sessions", "show", &id]);
    assert!(len > MESSAGES << 20, "all of it was printed: {len} bytes");
    assert!(tail.ends_with("zzz\n"), "{tail}");

    let (_, len, _) = viben_limited(h, LIMIT_KIB, &["sessions", "show", &id, "--last", "40"]);
    assert!(len > 40 << 20 && len < 41 << 20, "{len}");
}

#[test]
fn sessions_show_escapes_control_characters_and_keeps_line_breaks() {
    let (home, id) = home_with_session();
    let h = home.path();
    let hostile = "line one\n\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\u{202e}txt.exe";
    viben(h, &["sessions", "append", &id, "--content", hostile]).ok();
    let run = viben(h, &["sessions", "show", &id]);
    let shown = run.ok();
    for raw in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
        assert!(
            !shown.contains(raw),
            "{raw:?} reached the terminal: {shown:?}"
        );
    }
    assert!(shown.contains("line one\n"), "{shown:?}");
    // --json stays exact.
    let json = viben(h, &["sessions", "show", &id, "--json"]).json();
    assert_eq!(json["messages"][0]["content"], hostile);
}

#[test]
fn sessions_show_into_a_closed_pipe_ends_quietly() {
    let (home, id) = home_with_session();
    let h = home.path();
    for n in 0..200 {
        viben(
            h,
            &[
                "sessions",
                "append",
                &id,
                "--content",
                &format!("message {n}"),
            ],
        )
        .ok();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_viben"))
        .args(["--home"])
        .arg(h)
        .args(["sessions", "show", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("viben starts");
    // Close the reading end at once, as `| head -1` does after its line.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("viben ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(output.status.code(), Some(101), "{stderr}");
}

#[test]
fn sessions_list_pages_with_a_command_for_the_next_page() {
    let (home, first) = home_with_session();
    let h = home.path();
    for _ in 0..4 {
        viben(h, &["sessions", "create", "--agent", "my-agent"]).ok();
    }
    let mut seen = Vec::new();
    let mut args: Vec<String> = ["sessions", "list", "--limit", "2", "--json"]
        .map(String::from)
        .to_vec();
    loop {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let page = viben(h, &refs).json();
        let ids = page["sessions"].as_array().expect("sessions").clone();
        assert!(ids.len() <= 2);
        seen.extend(
            ids.iter()
                .map(|s| s["id"].as_str().unwrap_or_default().to_owned()),
        );
        match page["next"].as_str() {
            Some(next) => {
                args = [
                    "sessions", "list", "--limit", "2", "--json", "--after", next,
                ]
                .map(String::from)
                .to_vec();
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(seen.contains(&first));
    let plain = viben(h, &["sessions", "list", "--limit", "2"]);
    assert!(
        plain
            .ok()
            .contains("next page: viben sessions list --limit 2 --after "),
        "{plain:?}"
    );
}
