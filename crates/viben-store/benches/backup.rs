//! What a backup and a restore cost against `tar czf` / `tar xzf` of the same folder (the
//! baseline, the system's tar and gzip, measured in the same run), on a store of 1,000
//! sessions of 20 messages plus a week of telemetry: `ratio` is viben's time over tar's.
//!
//! `cargo bench -p viben-store --bench backup`. Needs `tar` with gzip on the PATH. Works in
//! temporary folders.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use viben_model::AgentConfig;
use viben_store::{BackupOptions, RestoreOptions, Store};

const SESSIONS: usize = 1_000;
const MESSAGES: usize = 20;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path().join("store");
    let store = Store::open(&root).expect("the store");
    fill(&store);
    let bytes = size(&root);

    let archive = dir.path().join("viben.tar.gz");
    let tar_archive = dir.path().join("tar.tar.gz");
    let tar_pack = best_of(3, || {
        let status = Command::new("tar")
            .arg("czf")
            .arg(&tar_archive)
            .arg("-C")
            .arg(&root)
            .arg(".")
            .status()
            .expect("tar runs");
        assert!(status.success());
    });
    let with_secrets = best_of(3, || {
        let out = std::fs::File::create(&archive).expect("the archive");
        store
            .backup(
                std::io::BufWriter::new(out),
                BackupOptions {
                    include_secrets: true,
                },
                |_, _| {},
            )
            .expect("a backup");
    });
    let without_secrets = best_of(3, || {
        let out = std::fs::File::create(&archive).expect("the archive");
        store
            .backup(
                std::io::BufWriter::new(out),
                BackupOptions::default(),
                |_, _| {},
            )
            .expect("a backup");
    });
    let tar_unpack = best_of(3, || {
        let target = dir.path().join("tar-unpacked");
        let _ = std::fs::remove_dir_all(&target);
        std::fs::create_dir(&target).expect("a folder");
        let status = Command::new("tar")
            .arg("xzf")
            .arg(&tar_archive)
            .arg("-C")
            .arg(&target)
            .status()
            .expect("tar runs");
        assert!(status.success());
    });
    let restore = best_of(3, || {
        let target = dir.path().join("restored");
        let _ = std::fs::remove_dir_all(&target);
        let input = std::fs::File::open(&archive).expect("the archive");
        Store::open(&target)
            .expect("the target")
            .restore(
                std::io::BufReader::new(input),
                RestoreOptions::default(),
                |_| {},
            )
            .expect("a restore");
    });
    let mb = bytes as f64 / 1e6;
    let mut out = String::new();
    for (name, value, baseline_name, baseline) in [
        ("backup_with_secrets", with_secrets, "tar_czf", tar_pack),
        (
            "backup_without_secrets",
            without_secrets,
            "tar_czf",
            tar_pack,
        ),
        ("restore", restore, "tar_xzf", tar_unpack),
    ] {
        let _ = writeln!(
            out,
            "BENCH name={name} value={:.1} unit=ms baseline={baseline_name} baseline_value={:.1} \
             ratio={:.2}",
            value * 1e3,
            baseline * 1e3,
            value / baseline
        );
    }
    print!("{out}");
    println!(
        "# store: {SESSIONS} sessions x {MESSAGES} messages + 7 telemetry days, {mb:.1} MB in \
         {} files",
        files(&root)
    );
}

/// The fastest of `n` runs, in seconds (the machine is shared: the minimum is the least
/// disturbed).
fn best_of(n: usize, mut run: impl FnMut()) -> f64 {
    (0..n)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn fill(store: &Store) {
    store
        .agents()
        .create(&AgentConfig::new("a", "A", "m", "p"))
        .expect("an agent");
    let root = store.layout().root();
    std::fs::create_dir_all(root.join("providers")).expect("providers");
    std::fs::write(
        root.join("providers/p.yaml"),
        "name: p\napi_key: sk-secret\n",
    )
    .expect("a provider");
    for s in 0..SESSIONS {
        let id = format!("chat-{s:05}");
        let folder = store.layout().session_dir(&id);
        std::fs::create_dir_all(&folder).expect("a session folder");
        std::fs::write(
            store.layout().session_meta(&id),
            format!(
                "id: {id}\nagent_id: a\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: \
                 2026-01-01T00:00:00Z\n"
            ),
        )
        .expect("session.yaml");
        let mut log = String::new();
        for m in 0..MESSAGES {
            let _ = writeln!(
                log,
                "{{\"role\":\"user\",\"content\":\"message {m} of a conversation about \
                 backups, long enough to look like one\",\"created_at\":\"2026-01-01T00:00:00Z\"}}"
            );
        }
        std::fs::write(store.layout().session_messages(&id), log).expect("the log");
    }
    for day in 1..=7 {
        let folder = store.layout().telemetry_signal_dir("logs");
        std::fs::create_dir_all(&folder).expect("telemetry");
        let mut lines = String::new();
        for i in 0..5_000 {
            let _ = writeln!(
                lines,
                "{{\"time\":\"2026-01-0{day}T00:00:00Z\",\"body\":\"request {i}\",\
                 \"attributes\":{{\"http.status\":200}}}}"
            );
        }
        std::fs::write(folder.join(format!("2026-01-0{day}.jsonl")), lines).expect("a day");
    }
}

fn size(dir: &Path) -> u64 {
    walk(dir).iter().map(|(_, len)| len).sum()
}

fn files(dir: &Path) -> usize {
    walk(dir).len()
}

fn walk(dir: &Path) -> Vec<(std::path::PathBuf, u64)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("list") {
        let entry = entry.expect("an entry");
        let meta = entry.metadata().expect("metadata");
        if meta.is_dir() {
            out.extend(walk(&entry.path()));
        } else {
            out.push((entry.path(), meta.len()));
        }
    }
    out
}
