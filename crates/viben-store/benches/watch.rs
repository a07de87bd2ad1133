//! `cargo bench -p viben-store --bench watch`: how long after a rename over a file the
//! watcher's event arrives, against the raw notification of the same rename (no debouncing,
//! no reading the file) measured in the same run.
//!
//! Prints `BENCH name=... value=... unit=ms baseline=... baseline_value=... ratio=...` lines
//! (latencies: lower is better), each the median (and the 90th percentile) over `SAVES`
//! saves. Saves alternate between the two folders, so load from other processes hits both.

use std::fs;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify_debouncer_full::notify::{self, RecursiveMode, Watcher as _};
use viben_model::AgentConfig;
use viben_store::{Event, Store};

const SAVES: usize = 40;
const PATIENCE: Duration = Duration::from_secs(10);
/// Longer than the watcher's settle time and tick together.
const QUIET: Duration = Duration::from_millis(200);

/// Saves `text` to `path` as an editor does (a temporary file renamed over it), and returns
/// the moment the rename was called (the raw notification may come before it returns).
fn save(path: &Path, text: &str) -> Instant {
    let temp = path.with_file_name(".bench-save.tmp");
    fs::write(&temp, text).expect("write the temporary file");
    let renaming = Instant::now();
    fs::rename(&temp, path).expect("rename over");
    renaming
}

fn percentile(mut values: Vec<f64>, p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = Store::open(dir.path().join("store")).expect("open");
    let agent = AgentConfig::new("bench", "Bench", "claude-3-sonnet", "anthropic");
    store.agents().create(&agent).expect("create the agent");
    let config = store.layout().agent_config("bench");
    let yaml = fs::read_to_string(&config).expect("read the config");
    let watcher = store.watch().expect("watch");

    let raw_dir = dir.path().join("raw");
    fs::create_dir_all(&raw_dir).expect("raw folder");
    let raw_file = raw_dir.join("config.yaml");
    fs::write(&raw_file, &yaml).expect("raw file");
    let (raw_sender, raw_events) = mpsc::channel();
    let mut raw = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let _ = raw_sender.send((Instant::now(), event));
    })
    .expect("a raw watcher");
    raw.watch(&raw_dir, RecursiveMode::Recursive)
        .expect("watch the raw folder");

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for n in 0..SAVES {
        let text = format!("{yaml}# save {n}\n");

        let renamed = save(&config, &text);
        match watcher.recv_timeout(PATIENCE) {
            Some(Ok(Event::AgentChanged { .. })) => {
                ours.push(renamed.elapsed().as_secs_f64() * 1e3);
            }
            other => panic!("expected agent changed, got {other:?}"),
        }

        let renamed = save(&raw_file, &text);
        loop {
            let (at, event) = raw_events.recv_timeout(PATIENCE).expect("a raw event");
            let event = event.expect("no raw error");
            if event.paths.iter().any(|p| p == &raw_file) {
                theirs.push(at.saturating_duration_since(renamed).as_secs_f64() * 1e3);
                break;
            }
        }
        // Let every notification of both saves settle, so the next save starts from a quiet
        // watcher: a burst still pending would be reported with the next save's change and
        // make its delay look shorter than it is.
        std::thread::sleep(QUIET);
        while raw_events.try_recv().is_ok() {}
        if let Some(extra) = watcher.try_recv() {
            panic!("one save gave a second event: {extra:?}");
        }
    }
    for (name, p) in [("median", 0.5), ("p90", 0.9)] {
        let (value, base) = (percentile(ours.clone(), p), percentile(theirs.clone(), p));
        println!(
            "BENCH name=watch_rename_to_event_{name} value={value:.2} unit=ms \
             baseline=raw_inotify_event baseline_value={base:.3} ratio={:.1}",
            value / base.max(0.000_001)
        );
    }
    let worst = ours.iter().copied().fold(0.0, f64::max);
    println!("BENCH name=watch_rename_to_event_max value={worst:.2} unit=ms");
}
