//! `cargo bench -p viben-store --bench format_gate`: what the format gate (reading
//! `version.yaml` before every write) costs, against an agent's save measured in the same run.
//!
//! Prints `BENCH name=... value=... unit=ops/s baseline=... baseline_value=... ratio=...` lines
//! (higher is better); the ratio is how many gate checks fit in the time of one save.

use std::time::Instant;

use viben_model::AgentConfig;
use viben_store::Store;

const ROUNDS: usize = 9;
const CHECKS: usize = 20_000;
const SAVES: usize = 100;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Operations per second of `op` run `n` times, the median of `ROUNDS` rounds alternating with
/// `baseline` (run `m` times), so load from other processes hits both.
fn compare(n: usize, mut op: impl FnMut(), m: usize, mut baseline: impl FnMut()) -> (f64, f64) {
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        (0..n).for_each(|_| op());
        ours.push(n as f64 / start.elapsed().as_secs_f64());
        let start = Instant::now();
        (0..m).for_each(|_| baseline());
        theirs.push(m as f64 / start.elapsed().as_secs_f64());
    }
    (median(ours), median(theirs))
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for recorded in [false, true] {
        let root = dir.path().join(format!("store-{recorded}"));
        let store = Store::open(&root).expect("open the store");
        if recorded {
            store.init().expect("init records the format");
        }
        store
            .agents()
            .create(&AgentConfig::new("a", "A", "m", "p"))
            .expect("create");
        let mut toggle = 0u32;
        let (gate, save) = compare(
            CHECKS,
            || {
                assert!(store.format().expect("format").writable());
            },
            SAVES,
            || {
                toggle += 1;
                store
                    .agents()
                    .update("a", |a| {
                        a.max_tokens = Some(1000 + toggle);
                        Ok(())
                    })
                    .expect("save");
            },
        );
        let name = if recorded {
            "format_gate_with_version_yaml"
        } else {
            "format_gate_without_version_yaml"
        };
        println!(
            "BENCH name={name} value={gate:.1} unit=ops/s baseline=save_config baseline_value={save:.1} ratio={:.1}",
            gate / save
        );
    }
}
