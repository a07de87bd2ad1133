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

/// Like [`spawn_child`], with the child's stdout kept for the parent to read.
fn spawn_child_piped(mode: &str, root: &Path, tag: &str) -> Child {
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .env(ROOT, root)
        .env(TAG, tag)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn a child process")
}

/// Waits for a child started by [`spawn_child_piped`] and returns the number it printed on
/// its `acknowledged N` line.
fn wait_acknowledged(child: Child) -> usize {
    let output = child.wait_with_output().expect("wait for the child");
    assert!(output.status.success(), "child failed: {}", output.status);
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    // The test harness prints around it, on the same line.
    stdout
        .split("acknowledged ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in the child's output: {stdout}"))
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
            .agents()
            .create(&AgentConfig::new("from-env", "E", "m", "p"))
            .unwrap();
        return;
    }
    let store = Store::open(std::env::var(ROOT).unwrap()).unwrap();
    let tag = std::env::var(TAG).unwrap();
    match mode.as_str() {
        "update-models" => {
            for _ in 0..500 {
                store
                    .models()
                    .update(|catalog| {
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
            let appender = store.sessions().appender(&tag_session()).unwrap();
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
                    .agents()
                    .update("my-agent", |agent| {
                        *agent = agent_version(n);
                        Ok(())
                    })
                    .unwrap();
                store
                    .models()
                    .update(|catalog| {
                        catalog.extra.insert("version".into(), n.into());
                        catalog.extra.insert("padding".into(), padding(n).into());
                        Ok(())
                    })
                    .unwrap();
                store
                    .sessions()
                    .append(&session, &Message::new(MessageRole::User, padding(n)))
                    .unwrap();
            }
        }
        "short-write" => {
            // Run under a file size limit of a few KiB (see the parent test).
            let appender = store.sessions().appender(&tag_session()).unwrap();
            appender
                .append(&Message::new(MessageRole::User, "small"))
                .unwrap();
            let err = appender
                .append(&Message::new(MessageRole::User, "x".repeat(20_000)))
                .unwrap_err();
            // The operating system's error, with what was left, is the cause.
            let text = viben_model::Report(&err).to_string();
            assert!(text.contains("wrote only"), "{text}");
            assert!(text.contains("the partial line was removed"), "{text}");
        }
        "append-until-stopped" => {
            // Appends numbered small messages until the parent creates the stop file, then
            // prints how many appends returned Ok.
            let appender = store.sessions().appender(&tag_session()).unwrap();
            let stop = std::path::Path::new(&std::env::var(ROOT).unwrap()).join(STOP);
            let mut acknowledged = 0usize;
            loop {
                if acknowledged.is_multiple_of(16) && stop.exists() {
                    break;
                }
                let content = format!("{tag} {acknowledged} {}", tag.repeat(40));
                appender
                    .append(&Message::new(MessageRole::User, content))
                    .unwrap();
                acknowledged += 1;
            }
            println!("acknowledged {acknowledged}");
        }
        "append-huge" => {
            // One 1.5 MB line, long enough to be killed half-way through its `write`.
            store
                .sessions()
                .append(&tag_session(), &Message::new(MessageRole::User, huge()))
                .unwrap();
        }
        "append-70k" => {
            let appender = store.sessions().appender(&tag_session()).unwrap();
            for i in 0..LARGE_MESSAGES {
                let content = format!("{tag} {i} {}", tag.repeat(70_000));
                appender
                    .append(&Message::new(MessageRole::User, content))
                    .unwrap();
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

/// The file whose existence tells `append-until-stopped` children to stop.
const STOP: &str = "stop-appending";

/// How many 70 KB messages each `append-70k` child appends.
const LARGE_MESSAGES: usize = 100;

fn huge() -> String {
    "y".repeat(1_500_000)
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
        .sessions()
        .create(&meta)
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
    let catalog = t.store.models().document().unwrap();
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
    let mut reader = t.store.sessions().read(&tag_session()).unwrap();
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
        let agent = t.store.agents().get("my-agent").unwrap();
        let n: u64 = agent.name.trim_start_matches('v').parse().unwrap();
        assert_eq!(agent, agent_version(n));
        let catalog = t.store.models().document().unwrap();
        let m = catalog.extra["version"].as_u64().unwrap();
        assert_eq!(catalog.extra["padding"], padding(m).as_str());
        assert!(
            m + 1 >= n && m <= n,
            "models.yaml version {m} vs agent version {n}"
        );
        // The listing ignores leftover temporary files.
        let listing = t.store.agents().list().unwrap();
        assert_eq!((listing.items.len(), listing.errors.len()), (1, 0));
        // The log holds whole messages, perhaps with a torn tail, and accepts appends.
        t.store
            .sessions()
            .append(&tag_session(), &Message::new(MessageRole::User, "after"))
            .unwrap();
        let mut reader = t.store.sessions().read(&tag_session()).unwrap();
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
        .models()
        .document()
        .ok()
        .and_then(|c| c.extra.get("version").and_then(|v| v.as_u64()))
        .unwrap_or(0)
}

#[test]
fn a_short_write_of_a_line_is_an_error_and_leaves_no_partial_line() {
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
        .sessions()
        .append(&tag_session(), &Message::new(MessageRole::User, "after"))
        .unwrap();
    let read = t.store.sessions().last(&tag_session(), 10).unwrap();
    let contents: Vec<_> = read.records.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents, ["small", "after"]);
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    let log = std::fs::read_to_string(t.store.layout().session_messages(&tag_session())).unwrap();
    assert_eq!(
        log.lines().count(),
        2,
        "the partial line was cut off: {log}"
    );
}

/// A log as `jq` or a per-line `json.loads` sees it.
#[derive(Debug, Default)]
struct PerLine {
    messages: Vec<Message>,
    /// Lines that are a torn fragment of a huge message, alone.
    fragments: usize,
    /// Blank lines.
    blank: Vec<usize>,
    /// Lines where a record follows a torn fragment (the record is lost to readers).
    glued: Vec<usize>,
}

impl PerLine {
    /// Asserts that there is no blank line and that every line that is not a whole message is
    /// a torn fragment standing alone.
    fn assert_clean(&self) {
        assert!(
            self.blank.is_empty() && self.glued.is_empty(),
            "{} blank lines (first {:?}), {} lines with a record glued to a torn fragment \
             (first {:?})",
            self.blank.len(),
            self.blank.first(),
            self.glued.len(),
            self.glued.first()
        );
    }
}

fn lines_as_a_per_line_json_reader_sees_them(store: &Store) -> PerLine {
    let log = std::fs::read(store.layout().session_messages(&tag_session())).expect("read the log");
    let mut seen = PerLine::default();
    let mut lines: Vec<&[u8]> = log.split(|&b| b == b'\n').collect();
    // The bytes after the last newline: nothing, or a torn tail.
    if lines.last().is_some_and(|tail| tail.is_empty()) {
        lines.pop();
    }
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            seen.blank.push(i + 1);
            continue;
        }
        match serde_json::from_slice::<Message>(line) {
            Ok(message) => seen.messages.push(message),
            // A torn fragment: one record's start, all 'y' (a huge message's content).
            Err(_) if line.starts_with(b"{") && !line[1..].contains(&b'{') => seen.fragments += 1,
            Err(_) => seen.glued.push(i + 1),
        }
    }
    seen
}

/// Kills `child` (SIGKILL) while it is writing a huge message to `log`, seen as the log
/// ending in the message's `y`s (the kernel copies a long `write` a page or a folio at a time,
/// making the file longer after each, and stops between them for a fatal signal, leaving part
/// of the line). Returns whether it was caught so, rather than finishing first.
fn kill_mid_write(child: &mut Child, log: &Path) -> bool {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(log).expect("open the log");
    let mut end = [0u8; 16];
    loop {
        if child.try_wait().expect("poll the child").is_some() {
            return false;
        }
        let len = file.metadata().expect("the log's length").len();
        if len >= 16 && file.read_exact_at(&mut end, len - 16).is_ok() && end == [b'y'; 16] {
            child.kill().expect("kill the child");
            child.wait().expect("wait for the child");
            return true;
        }
    }
}

#[test]
fn appenders_killed_mid_line_never_cost_another_appender_an_acknowledged_message() {
    let t = seed_store();
    create_shared_session(&t.store);
    let root = t.dir.path();
    // The log exists before anyone watches it.
    let log = t.store.layout().session_messages(&tag_session());
    t.store
        .sessions()
        .append(&tag_session(), &Message::new(MessageRole::User, "first"))
        .unwrap();
    let a = spawn_child_piped("append-until-stopped", root, "a");
    let b = spawn_child_piped("append-until-stopped", root, "b");
    // Until six were killed inside their write (most then leave a torn line), or 100 tries.
    let (mut caught, mut kills) = (0, 0);
    while caught < 6 && kills < 100 {
        let mut child = spawn_child("append-huge", root, "k");
        caught += usize::from(kill_mid_write(&mut child, &log));
        kills += 1;
    }
    assert!(caught > 0, "no appender was caught inside its write");
    std::fs::write(root.join(STOP), "").unwrap();
    let acknowledged = [wait_acknowledged(a), wait_acknowledged(b)];

    let seen = lines_as_a_per_line_json_reader_sees_them(&t.store);
    seen.assert_clean();
    assert!(
        seen.fragments > 0,
        "no kill tore a line ({caught} caught mid-write)"
    );
    assert!(seen.fragments <= caught, "{} fragments", seen.fragments);
    let messages = seen.messages;
    let mut next = [0usize; 2];
    for message in &messages {
        if message.content == "first" {
            continue;
        }
        if message.content.starts_with('y') {
            assert_eq!(
                message.content,
                huge(),
                "a huge message that finished is whole"
            );
            continue;
        }
        let mut parts = message.content.split(' ');
        let tag = parts.next().unwrap();
        let i: usize = parts.next().unwrap().parse().unwrap();
        let slot = usize::from(tag == "b");
        assert_eq!(i, next[slot], "{tag}'s messages arrive in order, none lost");
        assert_eq!(parts.next(), Some(tag.repeat(40).as_str()));
        next[slot] += 1;
    }
    assert_eq!(next, acknowledged, "every acknowledged append reads back");
    assert!(acknowledged.iter().all(|&n| n > 0));

    // The store's own reader agrees, and a new append lands on a line of its own.
    t.store
        .sessions()
        .append(&tag_session(), &Message::new(MessageRole::User, "after"))
        .unwrap();
    let last = t.store.sessions().last(&tag_session(), 1).unwrap();
    assert_eq!(last.records[0].content, "after");
    let read = t.store.sessions().read(&tag_session()).unwrap();
    let good = read.filter(Result::is_ok).count();
    assert_eq!(good, messages.len() + 1);
}

#[test]
fn four_appenders_of_70_kb_lines_leave_no_blank_lines() {
    let t = seed_store();
    create_shared_session(&t.store);
    let children: Vec<_> = ["a", "b", "c", "d"]
        .iter()
        .map(|tag| spawn_child("append-70k", t.dir.path(), tag))
        .collect();
    children.into_iter().for_each(wait_ok);
    let seen = lines_as_a_per_line_json_reader_sees_them(&t.store);
    seen.assert_clean();
    assert_eq!(seen.fragments, 0);
    assert_eq!(seen.messages.len(), 4 * LARGE_MESSAGES);
    assert!(t.store.check().is_empty(), "{:?}", t.store.check());
}
