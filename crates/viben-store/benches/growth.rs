//! How the store's costs grow with its data: each figure at the large size printed as a
//! `BENCH` line whose baseline is the same figure at the small size, so `ratio` is the growth.
//!
//! - a page of 50 sessions, half-way down, at 100,000 sessions against 1,000 (goal: at most
//!   2), and the same for one agent's sessions (one session in ten, a quarter down);
//! - `check` of the whole store at 100,000 sessions against 1,000 (it reads everything, so
//!   this growth is expected to be about 100: the figure to watch is the time);
//! - a telemetry read of 365 days against 1 day, its time and its peak memory (goal: under
//!   50 MB), each read in a process of its own (this binary, run again) whose `VmHWM` is the
//!   figure.
//!
//! `cargo bench -p viben-store --bench growth`. Works in temporary folders, removed after
//! (about 1.2 GB at the peak). Sessions are written as files (what `sessions().create`
//! leaves, with a one-line log), the index made by `rebuild_index`, and then 300 more made by
//! `create`, so the index's journal is as long as it usually is.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use viben_model::{AgentConfig, SessionMeta, Span};
use viben_store::Store;

const PAGE: usize = 50;
/// Sessions made through `create` (the rest are written as files).
const CREATED: usize = 300;
/// The environment variable that makes this binary a telemetry reader child.
const CHILD: &str = "VIBEN_GROWTH_TELEMETRY_CHILD";
/// Spans per day of telemetry: about 300 KB a day, 110 MB a year.
const SPANS_PER_DAY: usize = 1_200;

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        return telemetry_child(&spec);
    }
    sessions();
    telemetry();
}

fn sessions() {
    let small = measure_sessions(1_000);
    let large = measure_sessions(100_000);
    bench(
        "sessions_page_100k",
        large.page,
        "us_per_page",
        "sessions_page_1k",
        small.page,
    );
    bench(
        "sessions_page_agent_100k",
        large.agent_page,
        "us_per_page",
        "sessions_page_agent_1k",
        small.agent_page,
    );
    bench(
        "check_100k",
        large.check / 1000.0,
        "ms",
        "check_1k",
        small.check / 1000.0,
    );
    println!(
        "# sessions list (every session.yaml): 1k {:.1} ms, 100k {:.1} ms, growth {:.1}",
        small.list / 1000.0,
        large.list / 1000.0,
        large.list / small.list
    );
    println!(
        "# rebuild of the session index (viben check --repair): 1k {:.1} ms, 100k {:.1} ms",
        small.rebuild / 1000.0,
        large.rebuild / 1000.0
    );
}

fn bench(name: &str, value: f64, unit: &str, baseline: &str, baseline_value: f64) {
    println!(
        "BENCH name={name} value={value:.1} unit={unit} baseline={baseline} \
         baseline_value={baseline_value:.1} ratio={:.3}",
        value / baseline_value
    );
}

/// Microseconds per operation.
struct SessionFigures {
    /// A page of 50, half-way down.
    page: f64,
    /// A page of 50 of agent `b` (one session in ten), a quarter down its sessions.
    agent_page: f64,
    /// `check` of the whole store.
    check: f64,
    /// The full listing.
    list: f64,
    /// `rebuild_index`, once.
    rebuild: f64,
}

fn measure_sessions(sessions: usize) -> SessionFigures {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("a private folder");
    let store = Store::open(dir.path()).expect("the store");
    store.init().expect("the store's folders");
    for agent in ["a", "b"] {
        store
            .agents()
            .create(&AgentConfig::new(agent, "A", "m", "p"))
            .expect("an agent");
    }
    let agent_of = |n: usize| if n.is_multiple_of(10) { "b" } else { "a" };
    let mut ids = Vec::with_capacity(sessions);
    for n in 0..sessions - CREATED {
        let meta = SessionMeta::new(agent_of(n), Some("a title".into()));
        std::fs::create_dir(store.layout().session_dir(&meta.id)).expect("a session folder");
        let text = format!(
            "id: {}\nagent_id: {}\ntitle: a title\ncreated_at: {}\nupdated_at: {}\n",
            meta.id,
            meta.agent_id,
            meta.created_at.to_rfc3339(),
            meta.updated_at.to_rfc3339()
        );
        std::fs::write(store.layout().session_meta(&meta.id), text).expect("session.yaml");
        std::fs::write(
            store.layout().session_messages(&meta.id),
            "{\"role\":\"user\",\"content\":\"hello\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n",
        )
        .expect("messages.jsonl");
        ids.push((meta.id, meta.agent_id));
    }
    let started = Instant::now();
    store.sessions().rebuild_index().expect("the index");
    let rebuild = started.elapsed().as_secs_f64() * 1e6;
    for n in sessions - CREATED..sessions {
        let meta = SessionMeta::new(agent_of(n), Some("a title".into()));
        store.sessions().create(&meta).expect("a session");
        ids.push((meta.id, meta.agent_id));
    }
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let after = ids[sessions / 2].0.clone();
    let of_b: Vec<&String> = ids
        .iter()
        .filter(|(_, agent)| agent == "b")
        .map(|(id, _)| id)
        .collect();
    let after_b = of_b[of_b.len() / 4].clone();

    let page = per_op(Duration::from_secs(2), || {
        let page = store
            .sessions()
            .page(None, Some(&after), PAGE)
            .expect("a page");
        assert_eq!(page.items.len(), PAGE);
    });
    let agent_page = per_op(Duration::from_secs(2), || {
        let page = store
            .sessions()
            .page(Some("b"), Some(&after_b), PAGE)
            .expect("a page");
        assert_eq!(page.items.len(), PAGE);
    });
    let list = per_op(Duration::from_secs(2), || {
        let listing = store.sessions().list().expect("a listing");
        assert_eq!(listing.items.len(), sessions);
    });
    let check = per_op(Duration::from_secs(2), || {
        // The agents' model and provider are not set up: only the sessions must be clean.
        let problems: Vec<_> = store
            .check()
            .into_iter()
            .filter(|p| p.path.starts_with("sessions"))
            .collect();
        assert!(
            problems.is_empty(),
            "{:?}",
            &problems[..problems.len().min(3)]
        );
    });
    SessionFigures {
        page,
        agent_page,
        check,
        list,
        rebuild,
    }
}

/// Microseconds per call of `op`, over `run` (at least 3 calls, after one not counted).
fn per_op(run: Duration, mut op: impl FnMut()) -> f64 {
    op();
    let started = Instant::now();
    let mut calls = 0u32;
    while calls < 3 || started.elapsed() < run {
        op();
        calls += 1;
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
}

/// The last day of the generated year of telemetry.
fn last_day() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 30, 0, 0, 0)
        .single()
        .expect("a valid date")
}

fn telemetry() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write_year(dir.path());
    let mut figures = Vec::new();
    for days in [1, 365] {
        // Three readers each; the median time, the highest peak.
        let mut runs: Vec<(f64, f64, u64)> = (0..3).map(|_| run_child(dir.path(), days)).collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let peak = runs.iter().map(|r| r.1).fold(0.0, f64::max);
        figures.push((runs[1].0, peak, runs[1].2));
    }
    let (day, year) = (figures[0], figures[1]);
    bench(
        "telemetry_read_365d",
        year.0,
        "ms",
        "telemetry_read_1d",
        day.0,
    );
    bench(
        "telemetry_peak_rss_365d",
        year.1,
        "MB",
        "telemetry_peak_rss_1d",
        day.1,
    );
    println!(
        "# telemetry read: 1 day {} spans, 365 days {} spans (goal: peak RSS under 50 MB)",
        day.2, year.2
    );
}

/// Writes 365 day files of spans, as `telemetry().record` leaves them.
fn write_year(root: &Path) {
    let store = Store::open(root).expect("the store");
    store.init().expect("the store's folders");
    let first = last_day() - chrono::Duration::days(364);
    for day in 0..365 {
        let date = first + chrono::Duration::days(day);
        let mut text = Vec::with_capacity(SPANS_PER_DAY * 260);
        for n in 0..SPANS_PER_DAY {
            let start = date + chrono::Duration::seconds(n as i64 * 60);
            let span = Span {
                trace_id: format!("{:032x}", day as usize * SPANS_PER_DAY + n),
                span_id: format!("{n:016x}"),
                parent: None,
                name: "chat.completion".into(),
                start,
                end: start + chrono::Duration::milliseconds(850),
                attributes: serde_json::from_str(
                    r#"{"agent":"writer","model":"claude-3-sonnet","tokens.in":512,"tokens.out":128}"#,
                )
                .expect("attributes"),
                extra: Default::default(),
            };
            serde_json::to_writer(&mut text, &span).expect("a span line");
            text.push(b'\n');
        }
        std::fs::write(
            store
                .layout()
                .telemetry_day_file("traces", date.date_naive()),
            text,
        )
        .expect("a day file");
    }
}

/// Runs one reader child over the last `days` days: (milliseconds, peak RSS in MB, spans).
fn run_child(root: &Path, days: i64) -> (f64, f64, u64) {
    let output = Command::new(std::env::current_exe().expect("this binary"))
        .env(CHILD, format!("{days}:{}", root.display()))
        .output()
        .expect("a reader child");
    assert!(output.status.success(), "the reader child failed");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let field = |name: &str| -> f64 {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in the child's output: {text}"))
    };
    (
        field("ms="),
        field("hwm_kb=") / 1024.0,
        field("spans=") as u64,
    )
}

/// The child: streams the spans of the last `days` days and prints the time and `VmHWM`.
fn telemetry_child(spec: &str) {
    let (days, root) = spec.split_once(':').expect("days:root");
    let days: i64 = days.parse().expect("a number of days");
    let store = Store::open(root).expect("the store");
    let to = last_day() + chrono::Duration::days(1);
    let from = to - chrono::Duration::days(days);
    let started = Instant::now();
    let mut spans = 0u64;
    let mut stream = store
        .telemetry()
        .stream::<Span>(from, to)
        .expect("a stream");
    for span in stream.by_ref() {
        span.expect("a span");
        spans += 1;
    }
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let hwm_kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM");
    println!("ms={ms:.3} hwm_kb={hwm_kb} spans={spans}");
}
