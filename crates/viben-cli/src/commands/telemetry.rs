//! `viben telemetry ...`

use viben_store::PrunePolicy;

use crate::cli::TelemetryCommand;
use crate::context::Context;
use crate::failure::Failure;
use crate::output::done;

pub(crate) fn run(context: &Context, command: TelemetryCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        TelemetryCommand::Prune {
            keep_days,
            max_bytes,
        } => {
            // clap requires one of the two; this guards callers that bypass it.
            if keep_days.is_none() && max_bytes.is_none() {
                return Err(Failure::usage(
                    "telemetry prune needs a limit",
                    "pass --keep-days N, --max-bytes B, or both",
                ));
            }
            let policy = PrunePolicy {
                max_age: keep_days.map(|days| chrono::TimeDelta::days(i64::from(days))),
                max_total_bytes: max_bytes,
            };
            let report = store.telemetry().prune(policy, chrono::Utc::now())?;
            // What was left alone goes to stderr, one line each, and does not fail the
            // command: everything else was pruned.
            for skip in &report.skipped {
                Failure::warn(format_args!(
                    "skipped {}: {}",
                    store.layout().relative(&skip.path).display(),
                    skip.reason
                ));
            }
            done(&format!(
                "removed {} files ({} bytes); {} bytes left{}",
                report.removed.len(),
                report.bytes_freed,
                report.bytes_left,
                match report.skipped.len() {
                    0 => String::new(),
                    n => format!("; {n} entries skipped"),
                }
            ))
        }
    }
}
