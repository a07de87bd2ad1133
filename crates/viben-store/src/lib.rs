#![doc = include_str!("../README.md")]

mod agents;
mod atomic;
mod channels;
mod check;
mod document;
mod error;
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
mod trace;
mod yaml;

pub use agents::{Agents, Referrers};
pub use channels::Channels;
pub use check::{Problem, Severity};
pub use error::{Referrer, Result, StoreError};
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
