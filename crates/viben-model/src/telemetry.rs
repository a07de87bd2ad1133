//! Telemetry records: spans, metric points and log records, stored as JSON Lines per UTC day.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::JsonFields;
use crate::open_enum::open_enum;

/// What the three telemetry record types have in common, so one store can file them all.
pub trait TelemetryRecord: Serialize + for<'de> Deserialize<'de> {
    /// The signal's folder under `telemetry/`: `traces`, `metrics` or `logs`.
    const SIGNAL: &'static str;

    /// The time that decides which day's file the record belongs to and which time-range
    /// reads return it.
    fn timestamp(&self) -> DateTime<Utc>;
}

/// One unit of work in a trace (an LLM call, a tool run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Span {
    /// The trace this span belongs to.
    pub trace_id: String,
    /// This span's id.
    pub span_id: String,
    /// The parent span's id; `None` for a root span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// What the span did.
    pub name: String,
    /// When it started (UTC).
    pub start: DateTime<Utc>,
    /// When it ended (UTC).
    pub end: DateTime<Utc>,
    /// Key-value details.
    #[serde(default, skip_serializing_if = "JsonFields::is_empty")]
    pub attributes: JsonFields,
    /// Fields this version does not know, kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
    #[serde(flatten)]
    pub extra: JsonFields,
}

impl TelemetryRecord for Span {
    const SIGNAL: &'static str = "traces";
    fn timestamp(&self) -> DateTime<Utc> {
        self.start
    }
}

/// One measurement (tokens used, latency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct MetricPoint {
    /// The metric's name.
    pub name: String,
    /// The value measured.
    pub value: f64,
    /// The unit (`ms`, `tokens`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Key-value details.
    #[serde(default, skip_serializing_if = "JsonFields::is_empty")]
    pub attributes: JsonFields,
    /// When it was measured (UTC).
    pub time: DateTime<Utc>,
    /// Fields this version does not know, kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
    #[serde(flatten)]
    pub extra: JsonFields,
}

impl TelemetryRecord for MetricPoint {
    const SIGNAL: &'static str = "metrics";
    fn timestamp(&self) -> DateTime<Utc> {
        self.time
    }
}

open_enum! {
    /// A log record's severity. Levels this version does not know are kept.
    pub enum LogLevel {
        /// Very detailed tracing.
        Trace => "trace",
        /// Debugging detail.
        Debug => "debug",
        /// Normal operation.
        Info => "info",
        /// Something unexpected that was handled.
        Warn => "warn",
        /// A failure.
        Error => "error",
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct LogRecord {
    /// Severity.
    pub level: LogLevel,
    /// The message.
    pub message: String,
    /// Key-value details.
    #[serde(default, skip_serializing_if = "JsonFields::is_empty")]
    pub attributes: JsonFields,
    /// When it was logged (UTC).
    pub time: DateTime<Utc>,
    /// Fields this version does not know, kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
    #[serde(flatten)]
    pub extra: JsonFields,
}

impl TelemetryRecord for LogRecord {
    const SIGNAL: &'static str = "logs";
    fn timestamp(&self) -> DateTime<Utc> {
        self.time
    }
}
