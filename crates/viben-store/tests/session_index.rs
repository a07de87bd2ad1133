//! The session index (`sessions/.index.jsonl` and `.index-log.jsonl`): kept right by
//! create, update and delete, in one process and several; sessions copied in by hand; a
//! damaged or missing index; `rebuild_index`. (Pages reading only their own `session.yaml`s:
//! `session_index_reads.rs`, which needs a global tracing subscriber.)
//!
//! The children are this test binary itself, re-run with `VIBEN_INDEX_CHILD` naming what to
//! do and `VIBEN_INDEX_ROOT` the store; `child_entry` does nothing in a normal test run.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{TempStore, temp_store, write};
use viben_model::{AgentConfig, Hint, SessionMeta};
use viben_store::{Severity, Store, StoreError};

const CHILD: &str = "VIBEN_INDEX_CHILD";
const ROOT: &str = "VIBEN_INDEX_ROOT";
const TAG: &str = "VIBEN_INDEX_TAG";

const SNAPSHOT: &str = "sessions/.index.jsonl";
const JOURNAL: &str = "sessions/.index-log.jsonl";

fn with_agents(agents: &[&str]) -> TempStore {
    let t = temp_store();
    for agent in agents {
        t.store
            .agents()
            .create(&AgentConfig::new(*agent, "A", "m", "p"))
            .expect("an agent");
    }
    t
}

fn create(store: &Store, agent: &str) -> String {
    let meta = SessionMeta::new(agent, None);
    store.sessions().create(&meta).expect("a session");
    meta.id
}

/// Every id of every page of `limit`, walking `next`, asserting no page has errors.
fn all_pages(store: &Store, agent: Option<&str>, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .sessions()
            .page(agent, after.as_deref(), limit)
            .expect("a page");
        assert!(page.errors.is_empty(), "{:?}", page.errors);
        assert!(page.items.len() <= limit);
        seen.extend(page.items.into_iter().map(|m| m.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return seen,
        }
    }
}

/// The ids the full listing (every `session.yaml`) finds, in page order.
fn listed(store: &Store, agent: Option<&str>) -> Vec<String> {
    let mut ids: Vec<String> = store
        .sessions()
        .list()
        .expect("the listing")
        .items
        .into_iter()
        .filter(|m| agent.is_none_or(|a| m.agent_id == a))
        .map(|m| m.id)
        .collect();
    // viben's UUIDv7 ids first, then the others, each newest (greatest) first.
    ids.sort_unstable_by_key(|id| {
        std::cmp::Reverse((id.len() == 36 && &id[14..15] == "7", id.clone()))
    });
    ids
}

fn assert_pages_match_listing(store: &Store, agents: &[&str]) {
    assert_eq!(all_pages(store, None, 7), listed(store, None));
    for agent in agents {
        assert_eq!(
            all_pages(store, Some(agent), 3),
            listed(store, Some(agent)),
            "agent {agent}"
        );
    }
}

fn index_problems(store: &Store) -> Vec<viben_store::Problem> {
    store
        .check()
        .into_iter()
        .filter(|p| p.path.starts_with("sessions/.index.jsonl") || p.path.starts_with(JOURNAL))
        .collect()
}

#[test]
fn the_index_stays_right_across_creates_updates_and_deletes() {
    let t = with_agents(&["a", "b", "c"]);
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(create(&t.store, ["a", "b", "c"][n % 3]));
    }
    assert!(t.dir.path().join(SNAPSHOT).is_file());
    assert_pages_match_listing(&t.store, &["a", "b", "c"]);

    for id in ids.iter().step_by(4) {
        t.store.sessions().delete(id).unwrap();
    }
    // A session moved to another agent is found under the new one, not the old one.
    t.store
        .sessions()
        .update(&ids[1], |m| {
            m.agent_id = "c".into();
            Ok(())
        })
        .unwrap();
    // An id deleted and made again, for another agent.
    t.store.sessions().delete(&ids[2]).unwrap();
    let mut again = SessionMeta::new("a", None);
    again.id = ids[2].clone();
    t.store.sessions().create(&again).unwrap();

    assert_pages_match_listing(&t.store, &["a", "b", "c"]);
    assert!(all_pages(&t.store, Some("c"), 5).contains(&ids[1]));
    assert!(!all_pages(&t.store, Some("b"), 5).contains(&ids[1]));
    assert!(all_pages(&t.store, Some("a"), 5).contains(&ids[2]));
    assert!(index_problems(&t.store).is_empty());
}

#[test]
fn a_create_that_fails_leaves_an_entry_that_pages_skip() {
    let t = with_agents(&["a"]);
    let kept = create(&t.store, "a");
    // The agent does not exist: the create fails after the index line was written.
    let orphan = SessionMeta::new("ghost", None);
    assert!(matches!(
        t.store.sessions().create(&orphan),
        Err(StoreError::NotFound { .. })
    ));
    assert!(common::read(t.dir.path(), JOURNAL).contains(&orphan.id));
    assert_eq!(all_pages(&t.store, None, 10), vec![kept]);
    assert!(all_pages(&t.store, Some("ghost"), 10).is_empty());
    assert!(index_problems(&t.store).is_empty());
}

#[test]
fn a_long_journal_is_folded_into_the_snapshot_and_pages_stay_right() {
    let t = with_agents(&["a", "b"]);
    let first = create(&t.store, "a");
    // Entries of sessions that never were (creates that failed), enough to pass the limit.
    let mut lines = String::new();
    for n in 0..3000 {
        lines.push_str(&format!("[\"+\",\"gone-{n:05}\",\"a\"]\n"));
    }
    let journal = t.dir.path().join(JOURNAL);
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str(&lines);
    std::fs::write(&journal, text).unwrap();
    let second = create(&t.store, "b");
    assert_eq!(
        std::fs::metadata(&journal).unwrap().len(),
        0,
        "the journal was folded into the snapshot"
    );
    let snapshot = common::read(t.dir.path(), SNAPSHOT);
    assert!(snapshot.contains("gone-02999") && snapshot.contains(&second));
    assert_eq!(all_pages(&t.store, None, 10), vec![second.clone(), first]);
    assert_eq!(all_pages(&t.store, Some("b"), 10), vec![second]);

    // A rebuild drops the entries without a session.
    assert_eq!(t.store.sessions().rebuild_index().unwrap(), 2);
    assert!(!common::read(t.dir.path(), SNAPSHOT).contains("gone-"));
}

#[test]
fn a_torn_journal_line_is_ignored_and_cut_off_by_the_next_change() {
    let t = with_agents(&["a"]);
    let first = create(&t.store, "a");
    let journal = t.dir.path().join(JOURNAL);
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str("[\"+\",\"half-writ");
    std::fs::write(&journal, &text).unwrap();
    assert_eq!(all_pages(&t.store, None, 10), vec![first.clone()]);
    let second = create(&t.store, "a");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(!text.contains("half-writ"), "{text}");
    assert!(text.ends_with('\n'));
    assert_eq!(all_pages(&t.store, None, 10), vec![second, first]);
    assert!(index_problems(&t.store).is_empty());
}

fn hand_made_session(t: &TempStore, id: &str, agent: &str) {
    write(
        t.dir.path(),
        &format!("sessions/{id}/session.yaml"),
        format!(
            "id: {id}\nagent_id: {agent}\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: \
             2026-01-01T00:00:00Z\n"
        ),
    );
}

#[test]
fn a_store_without_an_index_has_it_made_by_the_first_page() {
    let t = with_agents(&["a", "b"]);
    // As an older viben (or a person) leaves them: folders, no index.
    for n in 0..12 {
        hand_made_session(
            &t,
            &format!("old-{n:02}"),
            if n % 2 == 0 { "a" } else { "b" },
        );
    }
    assert!(!t.dir.path().join(SNAPSHOT).exists());
    assert!(
        index_problems(&t.store).is_empty(),
        "no index is no problem"
    );
    assert_pages_match_listing(&t.store, &["a", "b"]);
    assert!(t.dir.path().join(SNAPSHOT).is_file());

    // A deleted index is made again the same way.
    std::fs::remove_file(t.dir.path().join(SNAPSHOT)).unwrap();
    let fresh = create(&t.store, "a");
    assert_eq!(all_pages(&t.store, Some("a"), 4)[0], fresh);
    assert_pages_match_listing(&t.store, &["a", "b"]);
}

#[test]
fn folders_copied_in_by_hand_are_reported_by_check_and_taken_in_by_rebuild() {
    let t = with_agents(&["a", "b"]);
    let made = create(&t.store, "a");
    hand_made_session(&t, "copied-1", "b");
    hand_made_session(&t, "copied-2", "a");

    // Not in the index: pages leave them out, and check says so and what to do.
    assert_eq!(all_pages(&t.store, None, 10), vec![made.clone()]);
    let problems = index_problems(&t.store);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].severity, Severity::Error);
    assert!(problems[0].message.contains("\"copied-1\", \"copied-2\""));
    assert!(
        problems[0]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("viben check --repair"))
    );

    assert_eq!(t.store.sessions().rebuild_index().unwrap(), 3);
    assert!(index_problems(&t.store).is_empty());
    assert_eq!(
        all_pages(&t.store, None, 10),
        vec![made.clone(), "copied-2".to_owned(), "copied-1".to_owned()]
    );
    assert_eq!(all_pages(&t.store, Some("b"), 10), vec!["copied-1"]);
}

#[test]
fn a_session_moved_to_another_agent_by_hand_is_reported() {
    let t = with_agents(&["a", "b"]);
    let id = create(&t.store, "a");
    let path = format!("sessions/{id}/session.yaml");
    let text = common::read(t.dir.path(), &path).replace("agent_id: a", "agent_id: b");
    write(t.dir.path(), &path, text);
    assert!(all_pages(&t.store, Some("b"), 10).is_empty());
    assert_eq!(index_problems(&t.store).len(), 1);
    t.store.sessions().rebuild_index().unwrap();
    assert_eq!(all_pages(&t.store, Some("b"), 10), vec![id]);
}

fn assert_corrupt(store: &Store, agent: Option<&str>) {
    let err = store
        .sessions()
        .page(agent, None, 10)
        .expect_err("a damaged index is an error, not a shorter page");
    assert!(matches!(err, StoreError::CorruptIndex { .. }), "{err:?}");
    assert!(err.to_string().contains("session index"), "{err}");
    assert!(
        err.hint()
            .is_some_and(|h| h.contains("viben check --repair")),
        "{:?}",
        err.hint()
    );
    let problems = index_problems(store);
    assert!(
        problems.iter().any(|p| p.severity == Severity::Error
            && p.hint.as_deref().is_some_and(|h| h.contains("--repair"))),
        "{problems:#?}"
    );
}

#[test]
fn a_damaged_index_is_a_clear_error_until_rebuilt() {
    let t = with_agents(&["a", "b"]);
    let mut ids: Vec<String> = (0..20)
        .map(|n| create(&t.store, ["a", "b"][n % 2]))
        .collect();
    t.store.sessions().rebuild_index().unwrap();
    let snapshot = t.dir.path().join(SNAPSHOT);
    let good = std::fs::read(&snapshot).unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // What is damaged, and the filter whose page reads the damaged part.
    let mut damaged: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        ("not JSON at all", Some("a"), b"garbage\n".to_vec()),
        ("cut short", Some("a"), good[..good.len() - 10].to_vec()),
        (
            "a newer format",
            Some("b"),
            text.replacen("\"version\":1", "\"version\":9", 1)
                .into_bytes(),
        ),
    ];
    // Two lines of the first section swapped: same length, out of order.
    let mut swapped = lines.clone();
    swapped.swap(1, 2);
    damaged.push((
        "lines out of order",
        None,
        (swapped.join("\n") + "\n").into_bytes(),
    ));
    // A line that is not an entry, of the same length.
    let mut bad_line = lines.clone();
    let filler = "x".repeat(lines[3].len());
    bad_line[3] = &filler;
    damaged.push((
        "a line that is no entry",
        None,
        (bad_line.join("\n") + "\n").into_bytes(),
    ));
    for (what, agent, bytes) in damaged {
        std::fs::write(&snapshot, &bytes).unwrap();
        assert_corrupt(&t.store, agent);
        assert_eq!(t.store.sessions().rebuild_index().unwrap(), 20, "{what}");
        assert!(index_problems(&t.store).is_empty(), "{what}");
    }

    // A damaged journal line (not the last, unfinished one).
    std::fs::write(t.dir.path().join(JOURNAL), "[\"+\",\"x\"]\n").unwrap();
    assert_corrupt(&t.store, None);
    t.store.sessions().rebuild_index().unwrap();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(all_pages(&t.store, None, 6), ids);
}

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

/// The entry point of every child process.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    let store = Store::open(std::env::var(ROOT).unwrap()).unwrap();
    let tag = std::env::var(TAG).unwrap();
    match mode.as_str() {
        // Creates sessions (some deleted again) of the agent named by the tag, with its
        // own ids so the parent knows which should remain.
        "create-delete" => {
            for n in 0..60 {
                let mut meta = SessionMeta::new(tag.as_str(), None);
                meta.id = format!("{tag}-{n:03}");
                store.sessions().create(&meta).unwrap();
                if n % 3 == 0 {
                    store.sessions().delete(&meta.id).unwrap();
                }
            }
        }
        // Creates and deletes until killed.
        "churn" => {
            for n in 0.. {
                let mut meta = SessionMeta::new("k", None);
                meta.id = format!("{tag}-{n:06}");
                store.sessions().create(&meta).unwrap();
                if n % 2 == 0 {
                    store.sessions().delete(&meta.id).unwrap();
                }
            }
        }
        "rebuild" => {
            for _ in 0..5 {
                store.sessions().rebuild_index().unwrap();
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

#[test]
fn creators_in_several_processes_keep_the_index_whole() {
    let t = with_agents(&["p0", "p1", "p2", "p3"]);
    let mut children: Vec<Child> = (0..4)
        .map(|n| spawn_child("create-delete", t.dir.path(), &format!("p{n}")))
        .collect();
    // A repair running meanwhile loses nothing either.
    children.push(spawn_child("rebuild", t.dir.path(), "r"));
    for mut child in children {
        let status = child.wait().expect("wait for the child");
        assert!(status.success(), "child failed: {status}");
    }
    let mut expected = BTreeSet::new();
    for p in 0..4 {
        for n in (0..60).filter(|n| n % 3 != 0) {
            expected.insert(format!("p{p}-{n:03}"));
        }
    }
    let paged: BTreeSet<String> = all_pages(&t.store, None, 25).into_iter().collect();
    if paged != expected {
        eprintln!("DEBUG snapshot:\n{}", common::read(t.dir.path(), SNAPSHOT));
        eprintln!("DEBUG journal:\n{}", common::read(t.dir.path(), JOURNAL));
        eprintln!(
            "DEBUG missing: {:?}",
            expected.difference(&paged).collect::<Vec<_>>()
        );
    }
    assert_eq!(paged, expected);
    for p in 0..4 {
        let agent = format!("p{p}");
        let mine: BTreeSet<String> = all_pages(&t.store, Some(&agent), 9).into_iter().collect();
        assert_eq!(
            mine,
            expected
                .iter()
                .filter(|id| id.starts_with(&format!("{agent}-")))
                .cloned()
                .collect()
        );
    }
    assert!(index_problems(&t.store).is_empty());
}

#[test]
fn creators_killed_at_any_moment_never_leave_a_session_out_of_the_index() {
    let t = with_agents(&["k"]);
    let sessions_dir = t.dir.path().join("sessions");
    let count = || {
        std::fs::read_dir(&sessions_dir)
            .map(|entries| entries.count())
            .unwrap_or(0)
    };
    for round in 0..6u64 {
        let before = count();
        let mut child = spawn_child("churn", t.dir.path(), &format!("k{round}"));
        // Let it get going, then kill it at a different moment each round.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while count() < before + 2 + round as usize {
            assert!(
                std::time::Instant::now() < deadline,
                "the child made no progress"
            );
            std::thread::sleep(std::time::Duration::from_millis(1 + round));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Every session whose session.yaml is there is on the pages, under its agent (a
        // folder the kill left without one is an error of both the listing and the pages).
        let listing = t.store.sessions().list().unwrap();
        let listed: BTreeSet<String> = listing.items.into_iter().map(|m| m.id).collect();
        for agent in [None, Some("k")] {
            let (mut paged, mut errors, mut after) = (BTreeSet::new(), 0, None);
            loop {
                let page = t
                    .store
                    .sessions()
                    .page(agent, after.as_deref(), 10)
                    .unwrap();
                paged.extend(page.items.into_iter().map(|m| m.id));
                errors += page.errors.len();
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(paged, listed, "round {round}, agent {agent:?}");
            assert_eq!(errors, listing.errors.len(), "round {round}");
        }
    }
    assert!(index_problems(&t.store).is_empty());
}
