//! `viben telemetry ...`

use std::io::{self, BufWriter, Write};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use viben_model::{LogRecord, MetricPoint, Span, TelemetryRecord};
use viben_store::{PrunePolicy, Store};

use crate::cli::{Signal, TelemetryCommand};
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, done, escape};

pub(crate) fn run(context: &Context, command: TelemetryCommand) -> Result<(), Failure> {
    let store = context.store()?;
    match command {
        TelemetryCommand::Show { signal, from, to } => {
            let to = match to {
                Some(text) => time(&text, "--to", true)?,
                None => Utc::now(),
            };
            let from = match from {
                Some(text) => time(&text, "--from", false)?,
                None => to - TimeDelta::hours(24),
            };
            match signal {
                Signal::Traces => show::<Span>(&store, from, to, |s| {
                    let micros = (s.end - s.start).num_microseconds().unwrap_or_default();
                    format!(
                        "{}  {}  {:.3} ms  trace {}",
                        s.start.to_rfc3339(),
                        escape(&s.name),
                        micros as f64 / 1000.0,
                        escape(&s.trace_id)
                    )
                }),
                Signal::Metrics => show::<MetricPoint>(&store, from, to, |m| {
                    format!(
                        "{}  {} = {}{}",
                        m.time.to_rfc3339(),
                        escape(&m.name),
                        m.value,
                        m.unit
                            .as_deref()
                            .map(|u| format!(" {}", escape(u)))
                            .unwrap_or_default()
                    )
                }),
                Signal::Logs => show::<LogRecord>(&store, from, to, |l| {
                    format!(
                        "{}  {}  {}",
                        l.time.to_rfc3339(),
                        escape(&l.level.to_string()),
                        escape(&l.message)
                    )
                }),
            }
        }
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
            // A spinner: pruning many days of files can take seconds.
            let spinner = crate::progress::Progress::spinner("pruning telemetry");
            let report = store.telemetry().prune(policy, chrono::Utc::now())?;
            spinner.finish();
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

/// A time given on the command line: RFC 3339, or a UTC day (its start, or with `end_of_day`
/// the start of the next day, so `--to 2026-11-30` includes that day).
fn time(text: &str, flag: &str, end_of_day: bool) -> Result<DateTime<Utc>, Failure> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        Failure::usage(
            format!("{flag} is not a time"),
            format!("give {flag} as 2026-11-30 or 2026-11-30T12:00:00Z"),
        )
    })?;
    let day = if end_of_day {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(day.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// Prints the records of `T` in `from..to` as they are read: one line each (`line`), or with
/// `--json` one array written record by record. Skipped lines are warnings afterwards.
fn show<T: TelemetryRecord>(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    line: impl Fn(&T) -> String,
) -> Result<(), Failure> {
    let mut stream = store.telemetry().stream::<T>(from, to)?;
    let mut out = BufWriter::new(io::stdout().lock());
    let json = output::json();
    if json {
        out.write_all(b"[").map_err(Failure::output)?;
    }
    let mut first = true;
    for record in stream.by_ref() {
        let record = record?;
        if json {
            if !first {
                out.write_all(b",").map_err(Failure::output)?;
            }
            out.write_all(b"\n  ").map_err(Failure::output)?;
            serde_json::to_writer(&mut out, &record)?;
        } else {
            writeln!(out, "{}", line(&record)).map_err(Failure::output)?;
        }
        first = false;
    }
    if json {
        out.write_all(if first { b"]\n" } else { b"\n]\n" })
            .map_err(Failure::output)?;
    }
    out.flush().map_err(Failure::output)?;
    drop(out);
    for warning in stream.into_warnings() {
        Failure::warn(warning);
    }
    Ok(())
}
