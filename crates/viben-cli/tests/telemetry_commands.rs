//! `viben telemetry show`: the records of a range, printed as they are read.

#[allow(dead_code, reason = "each test file uses a part of the shared helpers")]
mod common;

use chrono::{TimeZone, Utc};
use common::{viben, viben_limited};
use viben_model::{JsonFields, LogLevel, LogRecord, MetricPoint, Span};
use viben_store::Store;

fn store() -> (tempfile::TempDir, Store) {
    let home = tempfile::tempdir().expect("a temporary folder");
    let store = Store::open(home.path()).expect("the store");
    (home, store)
}

#[test]
fn telemetry_show_prints_each_signal_in_its_range_plain_and_json() {
    let (home, store) = store();
    let at = |day, hour| {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0)
            .single()
            .expect("a time")
    };
    for (day, hour, name) in [(28, 10, "before"), (29, 9, "plan"), (30, 12, "answer")] {
        store
            .telemetry()
            .record(&Span {
                trace_id: "t1".into(),
                span_id: name.into(),
                parent: None,
                name: name.into(),
                start: at(day, hour),
                end: at(day, hour) + chrono::TimeDelta::milliseconds(1500),
                attributes: JsonFields::new(),
                extra: JsonFields::new(),
            })
            .expect("a span");
    }
    let point = MetricPoint {
        name: "tokens".into(),
        value: 42.0,
        unit: Some("tok".into()),
        attributes: JsonFields::new(),
        time: at(29, 10),
        extra: JsonFields::new(),
    };
    store.telemetry().record(&point).expect("a metric");
    let log = LogRecord {
        level: LogLevel::Warn,
        message: "slow \u{1b}[2J reply".into(),
        attributes: JsonFields::new(),
        time: at(30, 1),
        extra: JsonFields::new(),
    };
    store.telemetry().record(&log).expect("a log");
    let h = home.path();

    let traces = viben(
        h,
        &[
            "telemetry",
            "show",
            "--signal",
            "traces",
            "--from",
            "2026-11-29",
            "--to",
            "2026-11-30",
        ],
    );
    assert_eq!(
        traces.ok(),
        "2026-11-29T09:00:00+00:00  plan  1500.000 ms  trace t1\n\
         2026-11-30T12:00:00+00:00  answer  1500.000 ms  trace t1\n"
    );
    let metrics = viben(
        h,
        &[
            "telemetry",
            "show",
            "--signal",
            "metrics",
            "--from",
            "2026-11-01",
        ],
    );
    assert!(metrics.ok().contains("tokens = 42 tok"), "{metrics:?}");
    let logs = viben(
        h,
        &[
            "telemetry",
            "show",
            "--signal",
            "logs",
            "--from",
            "2026-11-30",
            "--to",
            "2026-11-30",
        ],
    );
    assert!(
        !logs.ok().contains('\u{1b}'),
        "stored text is escaped: {logs:?}"
    );
    let json = viben(
        h,
        &[
            "telemetry",
            "show",
            "--signal",
            "traces",
            "--from",
            "2026-11-28",
            "--to",
            "2026-11-30",
            "--json",
        ],
    )
    .json();
    let names: Vec<_> = json
        .as_array()
        .expect("one array")
        .iter()
        .map(|span| span["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["before", "plan", "answer"]);
    let bad = viben(
        h,
        &[
            "telemetry",
            "show",
            "--signal",
            "logs",
            "--from",
            "yesterday",
        ],
    );
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[test]
fn telemetry_show_streams_a_range_larger_than_its_whole_memory_limit() {
    let (home, store) = store();
    // About 48 MiB of metrics over three days, each point with a 1 KiB attribute.
    let mut attributes = JsonFields::new();
    attributes.insert("note".into(), "x".repeat(1024).into());
    for n in 0..48_000i64 {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 27, 0, 0, 0)
            .single()
            .expect("a time")
            + chrono::TimeDelta::seconds(n * 5);
        let point = MetricPoint {
            name: "latency".into(),
            value: n as f64,
            unit: None,
            attributes: attributes.clone(),
            time: at,
            extra: JsonFields::new(),
        };
        store.telemetry().record(&point).expect("a metric");
    }
    for json in [false, true] {
        let mut args = vec![
            "telemetry",
            "show",
            "--signal",
            "metrics",
            "--from",
            "2026-11-27",
            "--to",
            "2026-11-30",
        ];
        if json {
            args.push("--json");
        }
        let (code, len, tail) = viben_limited(home.path(), 51_200, &args);
        assert_eq!(code, Some(0));
        assert!(len > 1_000_000, "the records were printed ({len} bytes)");
        assert!(
            tail.contains("latency") || tail.trim_end().ends_with(']'),
            "{tail}"
        );
    }
}
