//! What viben-store tells `tracing`: each document read and save (path relative to the
//! store's root, duration, whether the save changed the file), each wait for a document's
//! lock, each log append (bytes, lock wait), each upgrade step, and each burst of changes a
//! watcher reported (how many events, how long working them out took). Targets
//! `viben_store::read`, `viben_store::save`, `viben_store::lock`, `viben_store::append`,
//! `viben_store::upgrade` and `viben_store::watch`; reads, lock waits, appends and watch bursts
//! are `debug`, saves and upgrade steps `info`, failures `warn`. No event carries a value from a file
//! (an API key, a message): only paths, sizes and durations.

use std::time::Instant;

/// Read events' target.
pub(crate) const READ: &str = "viben_store::read";
/// Save events' target.
pub(crate) const SAVE: &str = "viben_store::save";
/// Lock-wait events' target.
pub(crate) const LOCK: &str = "viben_store::lock";
/// Append events' target.
pub(crate) const APPEND: &str = "viben_store::append";
/// Upgrade events' target: each step run on an older store.
pub(crate) const UPGRADE: &str = "viben_store::upgrade";

/// Watch events' target (each burst of changes turned into events).
pub(crate) const WATCH: &str = "viben_store::watch";

/// Microseconds since `started`.
pub(crate) fn micros_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}
