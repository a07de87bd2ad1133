//! Telemetry: one JSON Lines file per UTC day per signal, time-range reads, pruning.

mod common;

use std::os::unix::fs::symlink;
use std::time::SystemTime;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{temp_store, write};
use viben_model::{JsonFields, LogLevel, LogRecord, MetricPoint, Span};
use viben_store::PrunePolicy;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
}

fn log(time: DateTime<Utc>, message: &str) -> LogRecord {
    LogRecord {
        level: LogLevel::Info,
        message: message.into(),
        attributes: JsonFields::new(),
        time,
        extra: JsonFields::new(),
    }
}

#[test]
fn records_go_to_one_file_per_utc_day_per_signal() {
    let t = temp_store();
    t.store.telemetry().record(&log(at(1, 23), "late")).unwrap();
    t.store.telemetry().record(&log(at(2, 0), "early")).unwrap();
    let span = Span {
        trace_id: "t".into(),
        span_id: "s".into(),
        parent: None,
        name: "llm.call".into(),
        start: at(1, 10),
        end: at(1, 11),
        attributes: JsonFields::new(),
        extra: JsonFields::new(),
    };
    t.store.telemetry().record(&span).unwrap();
    let metric = MetricPoint {
        name: "tokens".into(),
        value: 42.0,
        unit: Some("tokens".into()),
        attributes: JsonFields::new(),
        time: at(1, 12),
        extra: JsonFields::new(),
    };
    t.store.telemetry().record(&metric).unwrap();
    let root = t.dir.path();
    for file in [
        "telemetry/logs/2026-03-01.jsonl",
        "telemetry/logs/2026-03-02.jsonl",
        "telemetry/traces/2026-03-01.jsonl",
        "telemetry/metrics/2026-03-01.jsonl",
    ] {
        assert!(root.join(file).exists(), "{file}");
    }
    let spans = t
        .store
        .telemetry()
        .read::<Span>(at(1, 0), at(2, 0))
        .unwrap();
    assert_eq!(spans.records, [span]);
}

#[test]
fn a_time_range_read_returns_only_records_inside_it() {
    let t = temp_store();
    for day in 1..=5 {
        for hour in [0, 12] {
            t.store
                .telemetry()
                .record(&log(at(day, hour), &format!("{day}/{hour}")))
                .unwrap();
        }
    }
    let read = t
        .store
        .telemetry()
        .read::<LogRecord>(at(2, 12), at(4, 12))
        .unwrap();
    let got: Vec<_> = read.records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(got, ["2/12", "3/0", "3/12", "4/0"]);
}

#[test]
fn a_torn_telemetry_line_is_skipped_with_a_warning() {
    let t = temp_store();
    t.store.telemetry().record(&log(at(1, 1), "ok")).unwrap();
    let path = t.dir.path().join("telemetry/logs/2026-03-01.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"level\":\"in");
    write(t.dir.path(), "telemetry/logs/2026-03-01.jsonl", text);
    let read = t
        .store
        .telemetry()
        .read::<LogRecord>(at(1, 0), at(2, 0))
        .unwrap();
    assert_eq!(read.records.len(), 1);
    assert_eq!(read.warnings.len(), 1);
    t.store.telemetry().record(&log(at(1, 2), "after")).unwrap();
    let read = t
        .store
        .telemetry()
        .read::<LogRecord>(at(1, 0), at(2, 0))
        .unwrap();
    assert_eq!(read.records.len(), 2);
    assert_eq!(
        read.warnings.len(),
        1,
        "the torn line is now a complete bad line"
    );
}

#[test]
fn pruning_by_age_removes_whole_days_older_than_the_limit() {
    let t = temp_store();
    for day in 1..=5 {
        t.store.telemetry().record(&log(at(day, 1), "x")).unwrap();
    }
    let report = t
        .store
        .telemetry()
        .prune(
            PrunePolicy {
                max_age: Some(Duration::days(2)),
                max_total_bytes: None,
            },
            at(5, 6),
        )
        .unwrap();
    // Days 1 and 2 ended more than two days before March 5th 06:00.
    assert_eq!(report.removed.len(), 2);
    let left = t
        .store
        .telemetry()
        .read::<LogRecord>(at(1, 0), at(6, 0))
        .unwrap();
    assert_eq!(
        left.records.iter().map(|r| r.time).collect::<Vec<_>>(),
        [at(3, 1), at(4, 1), at(5, 1)]
    );
}

#[test]
fn pruning_by_size_removes_the_oldest_days_first_but_never_today() {
    let t = temp_store();
    for day in 1..=4 {
        t.store.telemetry().record(&log(at(day, 1), "x")).unwrap();
        // Written long ago, as their days say (a file modified within the hour is kept).
        age(&t, day, 2 * 3600);
    }
    let one = std::fs::metadata(t.dir.path().join("telemetry/logs/2026-03-01.jsonl"))
        .unwrap()
        .len();
    let report = t
        .store
        .telemetry()
        .prune(
            PrunePolicy {
                max_age: None,
                max_total_bytes: Some(2 * one),
            },
            at(4, 6),
        )
        .unwrap();
    assert_eq!(report.removed.len(), 2);
    assert!(report.removed[0].ends_with("2026-03-01.jsonl"));
    assert_eq!(report.bytes_left, 2 * one);
    let report = t
        .store
        .telemetry()
        .prune(
            PrunePolicy {
                max_age: None,
                max_total_bytes: Some(0),
            },
            at(4, 6),
        )
        .unwrap();
    assert_eq!(report.removed.len(), 1, "today's file stays");
    assert!(
        t.dir
            .path()
            .join("telemetry/logs/2026-03-04.jsonl")
            .exists()
    );
}

/// Sets the modification time of March `day`'s log file to `secs` seconds ago.
fn age(t: &common::TempStore, day: u32, secs: u64) {
    let path = t
        .dir
        .path()
        .join(format!("telemetry/logs/2026-03-{day:02}.jsonl"));
    std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open the day file")
        .set_modified(SystemTime::now() - std::time::Duration::from_secs(secs))
        .expect("set its mtime");
}

#[test]
fn pruning_by_size_keeps_yesterdays_file_while_it_is_still_written() {
    let t = temp_store();
    for day in 1..=3 {
        t.store.telemetry().record(&log(at(day, 1), "x")).unwrap();
        age(&t, day, 2 * 3600);
    }
    // Just after midnight, a span that started yesterday at 23:59:59 is recorded into
    // yesterday's file.
    t.store
        .telemetry()
        .record(&log(at(3, 23) + Duration::seconds(3599), "late"))
        .unwrap();
    let report = t
        .store
        .telemetry()
        .prune(
            PrunePolicy {
                max_age: None,
                max_total_bytes: Some(0),
            },
            at(4, 0) + Duration::seconds(5),
        )
        .unwrap();
    assert_eq!(report.removed.len(), 2, "{:?}", report.removed);
    let left = t
        .store
        .telemetry()
        .read::<LogRecord>(at(1, 0), at(5, 0))
        .unwrap();
    assert_eq!(left.records.len(), 2, "yesterday's file was kept whole");
}

#[test]
fn a_huge_max_age_removes_nothing_instead_of_overflowing() {
    let t = temp_store();
    t.store.telemetry().record(&log(at(1, 1), "x")).unwrap();
    for max_age in [Duration::MAX, Duration::days(365 * 300_000)] {
        let report = t
            .store
            .telemetry()
            .prune(
                PrunePolicy {
                    max_age: Some(max_age),
                    max_total_bytes: None,
                },
                at(4, 6),
            )
            .unwrap();
        assert!(report.removed.is_empty(), "{report:?}");
    }
}

/// Makes `path` impossible to remove for this process until the returned guard drops: the
/// immutable attribute when running as root (root may remove anything else), else a
/// read-only folder (then `path` must be alone with what may stay in its folder).
struct Unremovable {
    path: std::path::PathBuf,
    immutable: bool,
}

impl Unremovable {
    fn new(path: &std::path::Path) -> Self {
        let is_root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
        if is_root {
            let status = std::process::Command::new("chattr")
                .arg("+i")
                .arg(path)
                .status()
                .expect("run chattr (root cannot be stopped otherwise)");
            assert!(status.success(), "chattr +i {}", path.display());
        } else {
            use std::os::unix::fs::PermissionsExt;
            let dir = path.parent().expect("a parent folder");
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o500))
                .expect("make the folder read-only");
        }
        Self {
            path: path.to_owned(),
            immutable: is_root,
        }
    }
}

impl Drop for Unremovable {
    fn drop(&mut self) {
        if self.immutable {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(&self.path)
                .status();
        } else {
            use std::os::unix::fs::PermissionsExt;
            let dir = self.path.parent().expect("a parent folder");
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
}

#[test]
fn pruning_skips_and_reports_odd_entries_and_removes_every_other_expired_file() {
    let t = temp_store();
    let root = t.dir.path().to_owned();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("target.jsonl"), "keep\n").unwrap();
    // Expired day files in every signal, with odd entries named like day files among them,
    // sorting before, between and after the real ones.
    for day in [1, 3, 5] {
        t.store.telemetry().record(&log(at(day, 1), "x")).unwrap();
    }
    for signal in ["traces", "metrics"] {
        for day in [1, 3, 5] {
            write(
                &root,
                &format!("telemetry/{signal}/2026-03-0{day}.jsonl"),
                "{}\n",
            );
        }
    }
    std::fs::create_dir(root.join("telemetry/logs/2026-03-02.jsonl")).unwrap();
    std::fs::write(root.join("telemetry/logs/2026-03-02.jsonl/inner"), "x").unwrap();
    symlink(
        outside.path().join("target.jsonl"),
        root.join("telemetry/traces/2026-03-02.jsonl"),
    )
    .unwrap();
    symlink(
        "/nonexistent",
        root.join("telemetry/traces/2026-03-04.jsonl"),
    )
    .unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(root.join("telemetry/logs/2026-03-04.jsonl"))
        .status()
        .unwrap();
    assert!(status.success());
    // A file that cannot be removed, alone with one that may stay (in its folder).
    std::fs::remove_file(root.join("telemetry/metrics/2026-03-01.jsonl")).unwrap();
    std::fs::remove_file(root.join("telemetry/metrics/2026-03-05.jsonl")).unwrap();
    let stuck = root.join("telemetry/metrics/2026-03-03.jsonl");
    let guard = Unremovable::new(&stuck);

    let report = t
        .store
        .telemetry()
        .prune(
            PrunePolicy {
                max_age: Some(Duration::days(1)),
                max_total_bytes: None,
            },
            at(20, 0),
        )
        .unwrap();
    drop(guard);

    let mut removed: Vec<String> = report
        .removed
        .iter()
        .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    removed.sort();
    assert_eq!(
        removed,
        [
            "telemetry/logs/2026-03-01.jsonl",
            "telemetry/logs/2026-03-03.jsonl",
            "telemetry/logs/2026-03-05.jsonl",
            "telemetry/traces/2026-03-01.jsonl",
            "telemetry/traces/2026-03-03.jsonl",
            "telemetry/traces/2026-03-05.jsonl",
        ]
    );
    let skipped: Vec<(String, &str)> = report
        .skipped
        .iter()
        .map(|s| {
            (
                s.path.strip_prefix(&root).unwrap().display().to_string(),
                s.reason.as_str(),
            )
        })
        .collect();
    let reason_of = |rel: &str| {
        skipped
            .iter()
            .find(|(p, _)| p == rel)
            .unwrap_or_else(|| panic!("{rel} not reported: {skipped:?}"))
            .1
    };
    assert!(reason_of("telemetry/logs/2026-03-02.jsonl").starts_with("a folder, not a day file"));
    assert!(reason_of("telemetry/traces/2026-03-02.jsonl").starts_with("a symbolic link"));
    assert!(reason_of("telemetry/traces/2026-03-04.jsonl").starts_with("a symbolic link"));
    assert!(reason_of("telemetry/logs/2026-03-04.jsonl").starts_with("a FIFO"));
    assert!(reason_of("telemetry/metrics/2026-03-03.jsonl").contains("cannot delete"));
    assert_eq!(skipped.len(), 5, "{skipped:?}");
    // Oldest first.
    assert!(skipped[0].0.contains("2026-03-02") && skipped[4].0.contains("2026-03-04"));
    // Odd entries and what they lead to are left as they were.
    assert!(root.join("telemetry/logs/2026-03-02.jsonl/inner").exists());
    assert!(root.join("telemetry/traces/2026-03-02.jsonl").is_symlink());
    assert_eq!(
        std::fs::read_to_string(outside.path().join("target.jsonl")).unwrap(),
        "keep\n"
    );
    assert!(stuck.exists());
    assert_eq!(report.bytes_left, std::fs::metadata(&stuck).unwrap().len());
}

#[test]
fn an_unreadable_signal_folder_is_reported_and_the_others_are_pruned() {
    let t = temp_store();
    t.store.telemetry().record(&log(at(1, 1), "x")).unwrap();
    let root = t.dir.path();
    let _ = std::fs::remove_dir_all(root.join("telemetry/traces"));
    std::fs::create_dir_all(root.join("telemetry")).unwrap();
    std::fs::write(root.join("telemetry/traces"), "not a folder").unwrap();
    let report = t
        .store
        .telemetry()
        .prune(
            PrunePolicy {
                max_age: Some(Duration::days(1)),
                max_total_bytes: None,
            },
            at(20, 0),
        )
        .unwrap();
    assert_eq!(report.removed.len(), 1);
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert!(report.skipped[0].path.ends_with("telemetry/traces"));
}
