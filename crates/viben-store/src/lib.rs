#![doc = include_str!("../README.md")]

mod agents;
mod atomic;
mod backup;
mod channels;
mod check;
mod document;
mod error;
mod format;
mod jsonl;
mod layout;
mod lock;
mod models;
mod platform;
mod profile;
mod providers;
mod resolve;
mod revision;
mod session_index;
mod sessions;
mod store;
mod telemetry;
mod text;
mod trace;
mod watch;
mod yaml;

pub use agents::{Agents, Referrers};
pub use backup::{
    BackupError, BackupOptions, BackupReport, DEFAULT_RESTORE_LIMIT, LeftOutSecret, RestoreOptions,
    RestoreReport, SkipReason, Skipped, UnsafeEntry,
};
pub use channels::Channels;
pub use check::{Problem, Severity};
pub use error::{Referrer, Result, StoreError};
pub use format::{FORMAT_VERSION, FormatStatus, UpgradeReport, UpgradeStep};
pub use jsonl::{JsonlReader, LogWarning, LogWarningKind, Records};
pub use layout::Layout;
pub use models::Catalog;
pub use profile::ProfileFile;
pub use providers::Providers;
pub use resolve::ResolvedAgent;
pub use revision::{ParseRevisionError, Revision, Versioned};
pub use sessions::{MessageAppender, SessionPage, Sessions};
pub use store::{Listing, Store};
pub use telemetry::{
    PrunePolicy, PruneReport, PruneSkip, RECENTLY_WRITTEN, Telemetry, TelemetryStream,
};
pub use watch::{Event, WatchError, WatchResult, Watcher};
