//! Telemetry: metrics over time as charts drawn on the server (SVG, no script), log counts by
//! level, and span counts; every record is read as a stream and folded into fixed-size
//! buckets, so a year of files costs time, not memory.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use viben_model::{LogRecord, MetricPoint, Span};

use super::{AppState, PageError, blocking, layout};

/// How many points a chart has at most: the range is cut into this many buckets.
const BUCKETS: usize = 120;

#[derive(Deserialize)]
pub(crate) struct RangeQuery {
    days: Option<u32>,
}

/// One metric's buckets: the sum and count of the values that fell in each.
struct Series {
    unit: Option<String>,
    sums: Vec<f64>,
    counts: Vec<u32>,
}

/// `/telemetry?days=N` (7 by default): the last N days.
pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    Query(query): Query<RangeQuery>,
) -> Result<Response, PageError> {
    let store = state.store()?;
    let days = query.days.unwrap_or(7).clamp(1, 366);
    let to = Utc::now();
    let from = to - Duration::days(i64::from(days));
    let (series, levels, spans) = blocking(move || {
        let telemetry = store.telemetry();
        let width = (to - from).num_milliseconds().max(1) as f64 / BUCKETS as f64;
        let bucket = |at: DateTime<Utc>| {
            (((at - from).num_milliseconds() as f64 / width) as usize).min(BUCKETS - 1)
        };
        let mut series: BTreeMap<String, Series> = BTreeMap::new();
        for point in telemetry.stream::<MetricPoint>(from, to)? {
            let point = point?;
            let entry = series.entry(point.name.clone()).or_insert_with(|| Series {
                unit: point.unit.clone(),
                sums: vec![0.0; BUCKETS],
                counts: vec![0; BUCKETS],
            });
            let at = bucket(point.time);
            entry.sums[at] += point.value;
            entry.counts[at] += 1;
        }
        let mut levels: BTreeMap<String, u64> = BTreeMap::new();
        for record in telemetry.stream::<LogRecord>(from, to)? {
            *levels.entry(record?.level.to_string()).or_default() += 1;
        }
        let mut spans = 0u64;
        for span in telemetry.stream::<Span>(from, to)? {
            span?;
            spans += 1;
        }
        Ok((series, levels, spans))
    })
    .await?;
    let content = html! {
        p.range {
            "The last " (days) " days. "
            @for choice in [1u32, 7, 30, 365] { a href={ "/telemetry?days=" (choice) } { (choice) "d" } " " }
        }
        h2 { "Metrics" }
        @if series.is_empty() { p.empty { "No metric points in this range." } }
        @for (name, one) in &series {
            figure.chart {
                figcaption { (name) @if let Some(unit) = &one.unit { " (" (unit) ")" } }
                (chart(one, from, to))
            }
        }
        h2 { "Logs" }
        @if levels.is_empty() { p.empty { "No log records in this range." } }
        ul { @for (level, count) in &levels { li { (level) ": " (count) } } }
        h2 { "Traces" }
        p { (spans) " spans." }
    };
    Ok(layout(&state, "Telemetry", content).into_response())
}

/// A line of the buckets' averages (empty buckets are gaps), scaled to the series' range.
fn chart(series: &Series, from: DateTime<Utc>, to: DateTime<Utc>) -> Markup {
    const WIDTH: f64 = 600.0;
    const HEIGHT: f64 = 160.0;
    let averages: Vec<Option<f64>> = series
        .sums
        .iter()
        .zip(&series.counts)
        .map(|(sum, count)| (*count > 0).then(|| sum / f64::from(*count)))
        .collect();
    let (low, high) = averages
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| {
            (low.min(*v), high.max(*v))
        });
    let span = if high > low { high - low } else { 1.0 };
    let mut runs: Vec<String> = Vec::new();
    let mut run = String::new();
    for (index, average) in averages.iter().enumerate() {
        match average {
            Some(value) => {
                let x = index as f64 * WIDTH / (BUCKETS - 1) as f64;
                let y = HEIGHT - (value - low) / span * (HEIGHT - 10.0) - 5.0;
                run.push_str(&format!("{x:.1},{y:.1} "));
            }
            None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    html! {
        svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label="metric over time" {
            rect x="0" y="0" width=(WIDTH) height=(HEIGHT) class="frame" {}
            @for points in &runs {
                polyline points=(points.trim_end()) class="line" {}
            }
        }
        p.scale {
            (from.format("%Y-%m-%d %H:%M")) " to " (to.format("%Y-%m-%d %H:%M UTC"))
            "; values from " (format!("{low:.3}")) " to " (format!("{high:.3}"))
        }
    }
}
