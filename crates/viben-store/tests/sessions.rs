//! Sessions: metadata, the append-only message log, torn tails, and reading the last N.

mod common;

use std::io::Write;

use chrono::{Duration, Utc};
use common::{read, seed_store, write};
use viben_model::{Message, MessageRole, SessionMeta};
use viben_store::{LogWarningKind, StoreError};

fn msg(content: &str) -> Message {
    Message::new(MessageRole::User, content)
}

#[test]
fn sessions_are_created_listed_newest_first_and_filtered_by_agent() {
    let t = seed_store();
    t.store
        .agents()
        .create(&viben_model::AgentConfig::new(
            "other",
            "O",
            "claude-3-sonnet",
            "anthropic",
        ))
        .unwrap();
    let mut old = SessionMeta::new("my-agent", Some("old".into()));
    old.created_at = Utc::now() - Duration::days(2);
    let new = SessionMeta::new("my-agent", Some("new".into()));
    let others = SessionMeta::new("other", None);
    for s in [&old, &new, &others] {
        t.store.sessions().create(s).unwrap();
    }
    let all = t.store.sessions().list().unwrap();
    assert!(all.errors.is_empty());
    assert_eq!(
        all.items.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        [&others.id, &new.id, &old.id]
    );
    let mine = t.store.sessions().list_for_agent("my-agent").unwrap();
    assert_eq!(
        mine.items
            .iter()
            .map(|s| s.title.as_deref().unwrap())
            .collect::<Vec<_>>(),
        ["new", "old"]
    );
    assert!(matches!(
        t.store.sessions().create(&new),
        Err(StoreError::AlreadyExists {
            kind: "session",
            ..
        })
    ));
}

#[test]
fn a_session_for_a_missing_agent_is_refused() {
    let t = seed_store();
    let err = t
        .store
        .sessions()
        .create(&SessionMeta::new("ghost", None))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { kind: "agent", .. }),
        "{err:?}"
    );
}

#[test]
fn session_metadata_updates_set_updated_at_and_keep_unknown_fields() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    let path = format!("sessions/{}/session.yaml", meta.id);
    let text = read(t.dir.path(), &path) + "pinned: true\n";
    write(t.dir.path(), &path, text);
    let updated = t
        .store
        .sessions()
        .update(&meta.id, |m| {
            m.title = Some("Named".into());
            Ok(())
        })
        .unwrap()
        .value;
    assert!(updated.updated_at > meta.updated_at);
    assert_eq!(updated.created_at, meta.created_at);
    assert!(read(t.dir.path(), &path).contains("pinned: true"));
}

#[test]
fn messages_are_appended_and_streamed_back_in_order() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    let appender = t.store.sessions().appender(&meta.id).unwrap();
    for i in 0..100 {
        appender.append(&msg(&format!("m{i}"))).unwrap();
    }
    appender.append_durable(&msg("durable")).unwrap();
    let mut reader = t.store.sessions().read(&meta.id).unwrap();
    let contents: Vec<String> = reader.by_ref().map(|m| m.unwrap().content).collect();
    assert_eq!(contents.len(), 101);
    assert_eq!(contents[0], "m0");
    assert_eq!(contents[100], "durable");
    assert!(reader.warnings().is_empty());
}

#[test]
fn the_last_n_messages_come_from_the_end_of_a_long_log() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    let appender = t.store.sessions().appender(&meta.id).unwrap();
    let padding = "x".repeat(1000);
    for i in 0..500 {
        appender.append(&msg(&format!("{i} {padding}"))).unwrap();
    }
    let last = t.store.sessions().last(&meta.id, 3).unwrap();
    let firsts: Vec<_> = last
        .records
        .iter()
        .map(|m| m.content.split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(firsts, ["497", "498", "499"]);
    assert_eq!(
        t.store
            .sessions()
            .last(&meta.id, 1000)
            .unwrap()
            .records
            .len(),
        500
    );
    assert!(
        t.store
            .sessions()
            .last(&meta.id, 0)
            .unwrap()
            .records
            .is_empty()
    );
}

#[test]
fn a_torn_log_reads_every_complete_message_warns_and_accepts_appends() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    t.store.sessions().append(&meta.id, &msg("one")).unwrap();
    t.store.sessions().append(&meta.id, &msg("two")).unwrap();
    let path = t
        .dir
        .path()
        .join(format!("sessions/{}/messages.jsonl", meta.id));
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(br#"{"role":"user","content":"thr"#).unwrap();

    let mut reader = t.store.sessions().read(&meta.id).unwrap();
    let contents: Vec<String> = reader.by_ref().map(|m| m.unwrap().content).collect();
    assert_eq!(contents, ["one", "two"]);
    let warnings = reader.into_warnings();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].line, Some(3));
    assert!(matches!(warnings[0].kind, LogWarningKind::TornTail { .. }));
    assert!(
        warnings[0]
            .to_string()
            .contains("messages.jsonl:3: the last line is incomplete"),
        "{}",
        warnings[0]
    );

    let last = t.store.sessions().last(&meta.id, 5).unwrap();
    assert_eq!(last.records.len(), 2);
    assert_eq!(last.warnings.len(), 1);

    t.store.sessions().append(&meta.id, &msg("four")).unwrap();
    let mut reader = t.store.sessions().read(&meta.id).unwrap();
    let items: Vec<_> = reader.by_ref().collect();
    assert_eq!(items.len(), 4, "the torn line is now a complete bad line");
    assert!(matches!(
        items[2],
        Err(StoreError::Parse { line: Some(3), .. })
    ));
    assert_eq!(items[3].as_ref().unwrap().content, "four");
    let last = t.store.sessions().last(&meta.id, 1).unwrap();
    assert_eq!(last.records[0].content, "four");
}

#[test]
fn a_log_without_a_final_newline_but_a_whole_record_reads_it() {
    let t = seed_store();
    write(
        t.dir.path(),
        "sessions/s/session.yaml",
        "id: s\nagent_id: my-agent\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: 2026-01-01T00:00:00Z\n",
    );
    write(
        t.dir.path(),
        "sessions/s/messages.jsonl",
        r#"{"role":"user","content":"a","created_at":"2026-01-01T00:00:00Z"}"#,
    );
    assert_eq!(t.store.sessions().read("s").unwrap().count(), 1);
    t.store.sessions().append("s", &msg("b")).unwrap();
    let all: Vec<_> = t
        .store
        .sessions()
        .read("s")
        .unwrap()
        .map(|m| m.unwrap().content)
        .collect();
    assert_eq!(all, ["a", "b"]);
}

#[test]
fn a_bad_line_in_the_middle_is_an_error_naming_its_line_and_reading_goes_on() {
    let t = seed_store();
    write(
        t.dir.path(),
        "sessions/s/session.yaml",
        "id: s\nagent_id: my-agent\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: 2026-01-01T00:00:00Z\n",
    );
    write(
        t.dir.path(),
        "sessions/s/messages.jsonl",
        "{\"role\":\"user\",\"content\":\"a\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n{\"role\": 5}\n\n{\"role\":\"user\",\"content\":\"c\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n",
    );
    let items: Vec<_> = t.store.sessions().read("s").unwrap().collect();
    assert_eq!(items.len(), 3);
    let err = items[1].as_ref().unwrap_err();
    assert!(err.to_string().contains("messages.jsonl:2:"), "{err}");
    assert_eq!(items[2].as_ref().unwrap().content, "c");
}

#[test]
fn appending_to_a_missing_session_is_not_found() {
    let t = seed_store();
    assert!(matches!(
        t.store.sessions().append("nope", &msg("x")),
        Err(StoreError::NotFound {
            kind: "session",
            ..
        })
    ));
    assert!(matches!(
        t.store.sessions().read("nope"),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn deleting_a_session_removes_its_folder() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    t.store.sessions().append(&meta.id, &msg("x")).unwrap();
    t.store.sessions().delete(&meta.id).unwrap();
    assert!(!t.dir.path().join("sessions").join(&meta.id).exists());
    assert!(matches!(
        t.store.sessions().delete(&meta.id),
        Err(StoreError::NotFound { .. })
    ));
    assert!(
        t.store.agents().delete("my-agent").is_ok(),
        "no referrer left"
    );
}

#[test]
fn an_appender_notices_a_torn_tail_written_by_someone_else_after_its_last_append() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    let appender = t.store.sessions().appender(&meta.id).unwrap();
    appender.append(&msg("one")).unwrap();
    // Another writer dies mid-line.
    let path = t
        .dir
        .path()
        .join(format!("sessions/{}/messages.jsonl", meta.id));
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(br#"{"role":"us"#).unwrap();
    appender.append(&msg("two")).unwrap();
    let items: Vec<_> = t.store.sessions().read(&meta.id).unwrap().collect();
    assert_eq!(items.len(), 3);
    assert!(items[1].is_err());
    assert_eq!(items[2].as_ref().unwrap().content, "two");
}

#[test]
fn a_line_longer_than_16_mib_is_skipped_with_an_error_and_reading_goes_on() {
    let t = seed_store();
    write(
        t.dir.path(),
        "sessions/s/session.yaml",
        "id: s\nagent_id: my-agent\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: 2026-01-01T00:00:00Z\n",
    );
    let good = "{\"role\":\"user\",\"content\":\"ok\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n";
    let mut log = String::from(good);
    log.push_str(&"x".repeat(17 * 1024 * 1024));
    log.push('\n');
    log.push_str(good);
    write(t.dir.path(), "sessions/s/messages.jsonl", log);
    let items: Vec<_> = t.store.sessions().read("s").unwrap().collect();
    assert_eq!(items.len(), 3);
    let err = items[1].as_ref().unwrap_err();
    assert!(
        err.to_string()
            .contains("messages.jsonl:2: the line is longer than"),
        "{err}"
    );
    assert_eq!(items[2].as_ref().unwrap().content, "ok");
    assert_eq!(t.store.sessions().last("s", 5).unwrap().records.len(), 2);
}

#[test]
fn an_appender_of_a_deleted_session_fails_with_not_found_instead_of_losing_messages() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    let appender = t.store.sessions().appender(&meta.id).unwrap();
    appender.append(&msg("before")).unwrap();
    t.store.sessions().delete(&meta.id).unwrap();
    for result in [
        appender.append(&msg("after")),
        appender.append_durable(&msg("after")),
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound { kind: "session", ref id } if *id == meta.id),
            "{err:?}"
        );
    }
    // A session created again with the same id starts empty and takes appends.
    t.store.sessions().create(&meta).unwrap();
    let again = t.store.sessions().appender(&meta.id).unwrap();
    again.append(&msg("new")).unwrap();
    assert!(appender.append(&msg("stale")).is_err());
    let read: Vec<_> = t
        .store
        .sessions()
        .read(&meta.id)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].content, "new");
}

#[test]
fn a_failed_session_create_leaves_no_folder_so_a_retry_succeeds() {
    let t = seed_store();
    let mut meta = SessionMeta::new("my-agent", Some("x".repeat(1024 * 1024)));
    let err = t.store.sessions().create(&meta).unwrap_err();
    assert!(matches!(err, StoreError::TooLargeToWrite { .. }), "{err:?}");
    assert!(!t.store.layout().session_dir(&meta.id).exists());
    let listing = t.store.sessions().list().unwrap();
    assert!(listing.errors.is_empty(), "{:?}", listing.errors);
    meta.title = Some("retry".into());
    t.store.sessions().create(&meta).unwrap();
    assert_eq!(
        t.store.sessions().get(&meta.id).unwrap().title.as_deref(),
        Some("retry")
    );
}

#[test]
fn a_session_naming_an_invalid_agent_id_is_an_invalid_record_not_an_invalid_session_id() {
    let t = seed_store();
    let meta = SessionMeta::new("../etc", None);
    let err = t.store.sessions().create(&meta).unwrap_err();
    match &err {
        StoreError::Invalid {
            path,
            source: viben_model::ValidationError::InvalidId { kind: "agent", .. },
            ..
        } => assert!(path.ends_with("session.yaml"), "{err}"),
        other => panic!("{other:?}"),
    }
    assert!(!t.store.layout().session_dir(&meta.id).exists());
    let mut meta = SessionMeta::new("my-agent", None);
    meta.id = "../x".into();
    let err = t.store.sessions().create(&meta).unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::InvalidId {
                source: viben_model::ValidationError::InvalidId {
                    kind: "session",
                    ..
                }
            }
        ),
        "{err:?}"
    );
}

/// The length of `message`'s line in the log, without its newline.
fn line_len(message: &Message) -> usize {
    serde_json::to_vec(message).expect("serialize").len()
}

#[test]
fn a_message_over_16_mib_is_refused_at_append_naming_the_limit_and_nothing_is_written() {
    const LIMIT: usize = 16 * 1024 * 1024;
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    let mut message = msg("");
    let overhead = line_len(&message);
    // A line of exactly the limit is accepted and reads back.
    message.content = "x".repeat(LIMIT - overhead);
    assert_eq!(line_len(&message), LIMIT);
    t.store.sessions().append(&meta.id, &message).unwrap();
    let read: Vec<_> = t.store.sessions().read(&meta.id).unwrap().collect();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].as_ref().unwrap().content.len(), LIMIT - overhead);

    // One byte more is refused before anything is written.
    message.content.push('x');
    let log = t.store.layout().session_messages(&meta.id);
    let before = std::fs::metadata(&log).unwrap().len();
    let appender = t.store.sessions().appender(&meta.id).unwrap();
    for result in [
        t.store.sessions().append(&meta.id, &message),
        appender.append(&message),
        appender.append_durable(&message),
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(err, StoreError::LineTooLong { bytes, limit: 16_777_216, .. } if bytes == LIMIT as u64 + 1),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("messages.jsonl: the record is 16777217 bytes as a JSON line, more than the 16777216 bytes (16 MiB)"),
            "{text}"
        );
        assert!(text.contains("nothing was written"), "{text}");
    }
    assert_eq!(std::fs::metadata(&log).unwrap().len(), before);
    appender.append(&msg("small")).unwrap();
    assert_eq!(t.store.sessions().read(&meta.id).unwrap().count(), 2);
}

#[test]
fn a_telemetry_record_over_the_line_limit_is_refused_too() {
    let t = seed_store();
    let record = viben_model::LogRecord {
        level: viben_model::LogLevel::Info,
        message: "x".repeat(16 * 1024 * 1024),
        attributes: viben_model::JsonFields::new(),
        time: Utc::now(),
        extra: viben_model::JsonFields::new(),
    };
    let err = t.store.telemetry().record(&record).unwrap_err();
    assert!(matches!(err, StoreError::LineTooLong { .. }), "{err:?}");
    let day = t
        .store
        .layout()
        .telemetry_day_file("logs", record.time.date_naive());
    assert!(
        std::fs::metadata(&day).map_or(true, |m| m.len() == 0),
        "nothing was written"
    );
}

/// A session `s` whose log is `lines` joined by newlines.
fn session_with_log(t: &common::TempStore, log: &[u8]) {
    write(
        t.dir.path(),
        "sessions/s/session.yaml",
        "id: s\nagent_id: my-agent\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: 2026-01-01T00:00:00Z\n",
    );
    write(t.dir.path(), "sessions/s/messages.jsonl", log);
}

fn record_line(content: &str) -> String {
    format!(
        "{{\"role\":\"user\",\"content\":\"{content}\",\"created_at\":\"2026-01-01T00:00:00Z\"}}\n"
    )
}

#[test]
fn the_last_n_messages_are_n_even_with_bad_lines_among_them_and_each_bad_line_is_named() {
    let t = seed_store();
    let mut log = Vec::new();
    for content in ["a", "b", "c"] {
        log.extend_from_slice(record_line(content).as_bytes());
    }
    log.extend_from_slice(b"garbage\n");
    log.extend_from_slice(record_line("d").as_bytes());
    log.extend_from_slice(b"\xff\xfe not UTF-8\n");
    log.extend_from_slice(b"{\"role\":\"user\"}\n");
    log.extend_from_slice(record_line("e").as_bytes());
    session_with_log(&t, &log);

    let last = t.store.sessions().last("s", 2).unwrap();
    let contents: Vec<_> = last.records.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents, ["d", "e"]);
    let lines: Vec<_> = last.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [Some(6), Some(7)], "{:?}", last.warnings);
    assert!(
        last.warnings[0].to_string().contains("messages.jsonl:6: "),
        "{}",
        last.warnings[0]
    );

    let last = t.store.sessions().last("s", 3).unwrap();
    let contents: Vec<_> = last.records.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents, ["c", "d", "e"]);
    assert_eq!(last.warnings.len(), 3);
    assert_eq!(last.warnings[0].line, Some(4));

    let all = t.store.sessions().last("s", 100).unwrap();
    assert_eq!(all.records.len(), 5);
    assert_eq!(
        t.store.sessions().last("s", 1).unwrap().records[0].content,
        "e"
    );
}

#[test]
fn check_reports_every_log_line_readers_skip_with_its_path_and_line() {
    let t = seed_store();
    let mut log = Vec::new();
    log.extend_from_slice(record_line("a").as_bytes()); // 1
    log.extend_from_slice(b"garbage\n"); // 2
    log.extend_from_slice(b"{\"role\":\"user\",\"content\":\"\xff\xfe\"}\n"); // 3
    log.extend_from_slice(b"\n"); // 4
    log.extend_from_slice(&vec![b'x'; 16 * 1024 * 1024 + 1]); // 5
    log.push(b'\n');
    log.extend_from_slice(b"{\"role\":\"user\"}\n"); // 6
    log.extend_from_slice(record_line("b").as_bytes()); // 7
    log.extend_from_slice(b"{\"role\":\"us"); // 8, torn
    session_with_log(&t, &log);

    // Each problem with its hint after it.
    let problems: Vec<String> = t
        .store
        .check()
        .iter()
        .map(|p| format!("{p} (hint: {})", p.hint.as_deref().unwrap_or("-")))
        .collect();
    let at = |prefix: &str| {
        problems
            .iter()
            .find(|p| p.starts_with(prefix))
            .unwrap_or_else(|| panic!("nothing at {prefix}: {problems:#?}"))
            .clone()
    };
    assert!(
        at("sessions/s/messages.jsonl:2:1: not a valid record").contains("readers skip this line")
    );
    assert!(at("sessions/s/messages.jsonl:3:").contains("not a valid record"));
    assert!(at("sessions/s/messages.jsonl:4:1: warning:").contains("blank line"));
    assert!(at("sessions/s/messages.jsonl:5:").contains("longer than 16777216 bytes"));
    assert!(at("sessions/s/messages.jsonl:6:").contains("missing field"));
    assert!(at("sessions/s/messages.jsonl:8:1: warning:").contains("incomplete"));
    assert_eq!(problems.len(), 6, "{problems:#?}");
}

#[test]
fn threads_sharing_one_appender_write_whole_lines_and_no_blank_ones() {
    let t = seed_store();
    let meta = SessionMeta::new("my-agent", None);
    t.store.sessions().create(&meta).unwrap();
    let appender = t.store.sessions().appender(&meta.id).unwrap();
    // Lines of 40 KB: long enough to be seen half-written by a thread checking the log's end.
    std::thread::scope(|scope| {
        for tag in ["a", "b", "c", "d"] {
            let appender = &appender;
            scope.spawn(move || {
                for i in 0..100 {
                    let content = format!("{tag} {i} {}", tag.repeat(40_000));
                    appender.append(&msg(&content)).unwrap();
                }
            });
        }
    });
    let log = std::fs::read(t.store.layout().session_messages(&meta.id)).unwrap();
    assert!(log.ends_with(b"\n"));
    let lines: Vec<_> = log[..log.len() - 1].split(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), 400, "no blank line, none glued");
    for line in lines {
        let message: Message = serde_json::from_slice(line).unwrap();
        let tag = &message.content[..1];
        assert!(message.content.ends_with(&tag.repeat(40_000)));
    }
}

#[test]
fn a_session_deleted_while_others_update_and_append_to_it_is_gone_whole() {
    use std::sync::atomic::{AtomicBool, Ordering};
    for _ in 0..20 {
        let t = common::temp_store();
        t.store
            .agents()
            .create(&viben_model::AgentConfig::new("a", "A", "m", "p"))
            .unwrap();
        let meta = SessionMeta::new("a", Some("busy".into()));
        t.store.sessions().create(&meta).unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            for n in 0..3 {
                let (store, id, stop) = (&t.store, meta.id.clone(), &stop);
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        // Either works (before the delete) or says the session is gone.
                        let _ = store.sessions().update(&id, |m| {
                            m.title = Some(format!("title {n}"));
                            Ok(())
                        });
                        let _ = store
                            .sessions()
                            .append(&id, &Message::new(MessageRole::User, "hi"));
                    }
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
            t.store.sessions().delete(&meta.id).unwrap();
            stop.store(true, Ordering::Relaxed);
        });
        let left: Vec<_> = std::fs::read_dir(t.store.layout().sessions_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|name| !name.to_string_lossy().starts_with('.'))
            .collect();
        assert!(left.is_empty(), "a deleted session came back: {left:?}");
        assert!(matches!(
            t.store.sessions().get(&meta.id),
            Err(viben_store::StoreError::NotFound { .. })
        ));
    }
}

#[test]
fn sessions_page_newest_first_and_every_session_is_seen_once() {
    let t = common::temp_store();
    for agent in ["a", "b"] {
        t.store
            .agents()
            .create(&viben_model::AgentConfig::new(agent, "A", "m", "p"))
            .unwrap();
    }
    let mut made = Vec::new();
    for n in 0..23 {
        let meta = SessionMeta::new(if n % 3 == 0 { "b" } else { "a" }, None);
        t.store.sessions().create(&meta).unwrap();
        made.push(meta.id);
    }
    // A session made elsewhere, with an id that is not a UUIDv7: after all of viben's.
    let mut legacy = SessionMeta::new("a", None);
    legacy.id = "chat-1".into();
    t.store.sessions().create(&legacy).unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = t.store.sessions().page(None, after.as_deref(), 10).unwrap();
        assert!(page.errors.is_empty(), "{:?}", page.errors);
        assert!(page.items.len() <= 10);
        seen.extend(page.items.into_iter().map(|m| m.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected = made.clone();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    expected.push("chat-1".into());
    assert_eq!(seen, expected, "UUIDv7 ids newest first, then the others");

    let only_b = t.store.sessions().page(Some("b"), None, 100).unwrap();
    assert_eq!(only_b.items.len(), 8);
    assert!(only_b.items.iter().all(|m| m.agent_id == "b"));
    assert_eq!(only_b.next, None);
}
