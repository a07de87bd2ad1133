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
            let report = store.prune_telemetry(policy, chrono::Utc::now())?;
            done(&format!(
                "removed {} files ({} bytes); {} bytes left",
                report.removed.len(),
                report.bytes_freed,
                report.bytes_left
            ))
        }
    }
}
