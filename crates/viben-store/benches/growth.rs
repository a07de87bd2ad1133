//! How the cost of a page of sessions grows with the store: a page of 50 at 100,000 sessions
//! against the same page at 1,000 (the baseline), so `ratio` is the growth (goal: at most 2),
//! with the full listing at both sizes as `#` lines for comparison.
//!
//! `cargo bench -p viben-store --bench growth`. Works in temporary folders; the sessions are
//! written as files (what `sessions().create` leaves), which is faster to set up.

use std::time::{Duration, Instant};

use viben_model::{AgentConfig, SessionMeta};
use viben_store::Store;

const PAGE: usize = 50;

fn main() {
    let small = measure(1_000);
    let large = measure(100_000);
    println!(
        "BENCH name=sessions_page_100k value={:.1} unit=us_per_page baseline=sessions_page_1k \
         baseline_value={:.1} ratio={:.3}",
        large.page,
        small.page,
        large.page / small.page
    );
    println!(
        "# sessions list (every session.yaml): 1k {:.1} ms, 100k {:.1} ms, growth {:.1}",
        small.list / 1000.0,
        large.list / 1000.0,
        large.list / small.list
    );
}

struct Figures {
    /// Microseconds per page of 50, at 10 % depth.
    page: f64,
    /// Microseconds per full listing.
    list: f64,
}

fn measure(sessions: usize) -> Figures {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = Store::open(dir.path()).expect("the store");
    store
        .agents()
        .create(&AgentConfig::new("a", "A", "m", "p"))
        .expect("an agent");
    let root = store.layout().sessions_dir();
    std::fs::create_dir_all(&root).expect("the sessions folder");
    let mut ids = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        let meta = SessionMeta::new("a", Some("a title".into()));
        let folder = store.layout().session_dir(&meta.id);
        std::fs::create_dir(&folder).expect("a session folder");
        let text = format!(
            "id: {}\nagent_id: a\ntitle: a title\ncreated_at: {}\nupdated_at: {}\n",
            meta.id,
            meta.created_at.to_rfc3339(),
            meta.updated_at.to_rfc3339()
        );
        std::fs::write(store.layout().session_meta(&meta.id), text).expect("session.yaml");
        ids.push(meta.id);
    }
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let after = ids[sessions / 10].clone();
    let page = per_op(Duration::from_secs(2), || {
        let page = store
            .sessions()
            .page(None, Some(&after), PAGE)
            .expect("a page");
        assert_eq!(page.items.len(), PAGE);
    });
    let list = per_op(Duration::from_secs(2), || {
        let listing = store.sessions().list().expect("a listing");
        assert_eq!(listing.items.len(), sessions);
    });
    Figures { page, list }
}

/// Microseconds per call of `op`, over `run` (at least 3 calls).
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
