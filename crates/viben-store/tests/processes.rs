//! Real processes: concurrent read-modify-write, concurrent appends, and SIGKILL mid-write.
//!
//! The children are this test binary itself, re-run with `VIBEN_STORE_CHILD` naming what to
//! do and `VIBEN_STORE_ROOT` the store; `child_entry` does nothing in a normal test run.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::seed_store;
use viben_model::{AgentConfig, Message, MessageRole, SessionMeta};
use viben_store::Store;

const CHILD: &str = "VIBEN_STORE_CHILD";
const ROOT: &str = "VIBEN_STORE_ROOT";
const TAG: &str = "VIBEN_STORE_TAG";

fn spawn_child(mode: &str, root: &Path, tag: &str) -> Child {
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .env(ROOT, root)
        .env(TAG, tag)
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn a child process")
}

fn wait_ok(mut child: Child) {
    let status = child.wait().expect("wait for the child");
    assert!(status.success(), "child failed: {status}");
}

/// The entry point of every child process.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    if mode == "open-default" {
        let store = Store::open_default().unwrap();
        store
            .create_agent(&AgentConfig::new("from-env", "E", "m", "p"))
            .unwrap();
        return;
    }
    let store = Store::open(std::env::var(ROOT).unwrap()).unwrap();
    let tag = std::env::var(TAG).unwrap();
    match mode.as_str() {
        "update-models" => {
            for _ in 0..500 {
                store
                    .update_models(|catalog| {
                        for key in ["counter".to_owned(), format!("count_{tag}")] {
                            let n = catalog
                                .extra
                                .get(&key)
                                .and_then(|v| v.as_u64())
                                .unwrap_or(0);
                            catalog.extra.insert(key.into(), (n + 1).into());
                        }
                        Ok(())
                    })
                    .unwrap();
            }
        }
        "append" => {
            let appender = store.message_appender(&tag_session()).unwrap();
            for i in 0..2000u32 {
                // Every tenth line is longer than PIPE_BUF (4096 bytes).
                let size = if i.is_multiple_of(10) { 6000 } else { 40 };
                let content = format!("{tag} {i} {}", tag.repeat(size));
                appender
                    .append(&Message::new(MessageRole::User, content))
                    .unwrap();
            }
        }
        "write-loop" => {
            let session = tag_session();
            for n in 1.. {
                store
                    .update_agent("my-agent", |agent| {
                        *agent = agent_version(n);
                        Ok(())
                    })
                    .unwrap();
                store
                    .update_models(|catalog| {
                        catalog.extra.insert("version".into(), n.into());
                        catalog.extra.insert("padding".into(), padding(n).into());
                        Ok(())
                    })
                    .unwrap();
                store
                    .append_message(&session, &Message::new(MessageRole::User, padding(n)))
                    .unwrap();
            }
        }
        "short-write" => {
            // Run under a file size limit of a few KiB (see the parent test).
            let appender = store.message_appender(&tag_session()).unwrap();
            appender
                .append(&Message::new(MessageRole::User, "small"))
                .unwrap();
            let err = appender
                .append(&Message::new(MessageRole::User, "x".repeat(20_000)))
                .unwrap_err();
            assert!(err.to_string().contains("wrote only"), "{err}");
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn tag_session() -> String {
    "shared-session".to_owned()
}

fn padding(n: u64) -> String {
    format!("v{n} ").repeat(2000)
}

fn agent_version(n: u64) -> AgentConfig {
    let mut agent = AgentConfig::new("my-agent", format!("v{n}"), "claude-3-sonnet", "anthropic");
    agent.system_prompt = Some(padding(n));
    agent
}

fn create_shared_session(store: &Store) {
    let mut meta = SessionMeta::new("my-agent", None);
    meta.id = tag_session();
    store
        .create_session(&meta)
        .expect("create the shared session");
}

#[test]
fn viben_home_overrides_home_and_a_missing_root_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let viben_home = dir.path().join("custom");
    let home = dir.path().join("home");
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD, "open-default")
        .env("VIBEN_HOME", &viben_home)
        .env("HOME", &home)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(viben_home.join("agents/from-env/config.yaml").exists());
    assert!(!home.join(".viben").exists());

    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD, "open-default")
        .env_remove("VIBEN_HOME")
        .env("HOME", &home)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(home.join(".viben/agents/from-env/config.yaml").exists());
}

#[test]
fn two_processes_doing_500_updates_each_of_models_yaml_lose_none() {
    let t = seed_store();
    let a = spawn_child("update-models", t.dir.path(), "a");
    let b = spawn_child("update-models", t.dir.path(), "b");
    wait_ok(a);
    wait_ok(b);
    let catalog = t.store.load_models().unwrap();
    assert_eq!(catalog.extra["counter"], 1000);
    assert_eq!(catalog.extra["count_a"], 500);
    assert_eq!(catalog.extra["count_b"], 500);
    assert_eq!(catalog.models.len(), 2, "the entries are intact");
}

#[test]
fn two_processes_appending_to_one_session_log_write_only_whole_lines() {
    let t = seed_store();
    create_shared_session(&t.store);
    let a = spawn_child("append", t.dir.path(), "a");
    let b = spawn_child("append", t.dir.path(), "b");
    wait_ok(a);
    wait_ok(b);
    let mut reader = t.store.read_messages(&tag_session()).unwrap();
    let mut next = [0usize; 2];
    for message in reader.by_ref() {
        let message = message.expect("every line is a whole message");
        let mut parts = message.content.split(' ');
        let tag = parts.next().unwrap();
        let i: usize = parts.next().unwrap().parse().unwrap();
        let slot = usize::from(tag == "b");
        assert_eq!(
            i, next[slot],
            "each writer's lines arrive in order, none lost"
        );
        next[slot] += 1;
        let size = if i.is_multiple_of(10) { 6000 } else { 40 };
        assert_eq!(parts.next().unwrap(), tag.repeat(size));
    }
    assert_eq!(next, [2000, 2000]);
    assert!(reader.warnings().is_empty());
}

#[test]
fn sigkill_in_the_middle_of_writes_leaves_every_file_an_old_or_new_version() {
    let t = seed_store();
    create_shared_session(&t.store);
    let root = t.dir.path();
    for round in 0..6u64 {
        let before = current_version(&t.store);
        let child = spawn_child("write-loop", root, "k");
        // Let it get going, then kill it at a different moment each round.
        let deadline = Instant::now() + Duration::from_secs(60);
        while current_version(&t.store) < before + 3 + round {
            assert!(Instant::now() < deadline, "the child made no progress");
            std::thread::sleep(Duration::from_millis(1 + round));
        }
        let mut child = child;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        // Every file parses and is exactly one version's content.
        let agent = t.store.get_agent("my-agent").unwrap();
        let n: u64 = agent.name.trim_start_matches('v').parse().unwrap();
        assert_eq!(agent, agent_version(n));
        let catalog = t.store.load_models().unwrap();
        let m = catalog.extra["version"].as_u64().unwrap();
        assert_eq!(catalog.extra["padding"], padding(m).as_str());
        assert!(
            m + 1 >= n && m <= n,
            "models.yaml version {m} vs agent version {n}"
        );
        // The listing ignores leftover temporary files.
        let listing = t.store.list_agents().unwrap();
        assert_eq!((listing.items.len(), listing.errors.len()), (1, 0));
        // The log holds whole messages, perhaps with a torn tail, and accepts appends.
        t.store
            .append_message(&tag_session(), &Message::new(MessageRole::User, "after"))
            .unwrap();
        let mut reader = t.store.read_messages(&tag_session()).unwrap();
        let mut last = None;
        let mut bad = 0;
        for item in reader.by_ref() {
            match item {
                Ok(message) => last = Some(message.content),
                Err(_) => bad += 1,
            }
        }
        assert!(bad <= round as usize + 1, "at most one torn line per kill");
        assert_eq!(last.as_deref(), Some("after"));
    }
    // Temporary files are dot files that no listing returns; none is ever an agent.
    for entry in std::fs::read_dir(root.join("agents/my-agent")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(name == "config.yaml" || name.starts_with('.'), "{name}");
    }
}

fn current_version(store: &Store) -> u64 {
    store
        .load_models()
        .ok()
        .and_then(|c| c.extra.get("version").and_then(|v| v.as_u64()))
        .unwrap_or(0)
}

#[test]
fn a_short_write_of_a_line_is_an_error_and_the_partial_line_is_never_continued() {
    let t = seed_store();
    create_shared_session(&t.store);
    // A file size limit (SIGXFSZ ignored, as it stays across exec) makes `write` stop short.
    let status = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 8 && exec \"$0\" \"$@\"")
        .arg(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD, "short-write")
        .env(ROOT, t.dir.path())
        .env(TAG, "a")
        // Pipes, not the caller's stdout: when that is a file (CI's log), it is already past the
        // child's file-size limit and the child's own output would fail.
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run the child");
    assert!(
        status.status.success(),
        "child failed: {}\n{}\n{}",
        status.status,
        String::from_utf8_lossy(&status.stdout),
        String::from_utf8_lossy(&status.stderr)
    );
    t.store
        .append_message(&tag_session(), &Message::new(MessageRole::User, "after"))
        .unwrap();
    let read = t.store.last_messages(&tag_session(), 10).unwrap();
    let contents: Vec<_> = read.records.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents, ["small", "after"]);
    assert_eq!(
        read.warnings.len(),
        1,
        "the partial line: {:?}",
        read.warnings
    );
}
