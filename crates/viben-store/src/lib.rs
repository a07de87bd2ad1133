#![doc = include_str!("../README.md")]

mod agents;
mod atomic;
mod channels;
mod check;
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
mod sessions;
mod store;
mod telemetry;
mod yaml;

pub use check::{Problem, Severity};
pub use error::{Referrer, Result, StoreError};
pub use jsonl::{JsonlReader, LogWarning, LogWarningKind, Records};
pub use layout::Layout;
pub use resolve::ResolvedAgent;
pub use revision::{ParseRevisionError, Revision, Versioned};
pub use sessions::MessageAppender;
pub use store::{Listing, Store};
pub use telemetry::{PrunePolicy, PruneReport, PruneSkip, RECENTLY_WRITTEN};
