//! What viben-db tells `tracing`: each statement (its SQL without bind values, how long it
//! took, and its error), pool checkouts and their wait, connections opened, lost and dropped,
//! and the migration operations (run, revert, adopt, drift check, push) as spans.
//!
//! Targets are `viben_db::statement`, `viben_db::pool`, `viben_db::connection` and
//! `viben_db::migrate`; statements and checkouts are `debug`, connections and migrations `info`,
//! failures `warn`. No event carries a secret: a statement's bind values (access tokens among
//! them) are never recorded, only its SQL text; connection strings are shown through
//! [`crate::DatabaseUrl`]'s `Display`, which hides the password; errors through their
//! messages, which never hold one. Formatting a statement costs something, so it is done only
//! when a subscriber wants `viben_db::statement` events.

use std::time::Instant;

use diesel::connection::InstrumentationEvent;

/// Statement events' target.
pub(crate) const STATEMENT: &str = "viben_db::statement";

/// A statement's SQL text without its bind values: Diesel's `Display` of a query is
/// `<sql> -- binds: [<values>]`, and the values may be secrets. Diesel writes the SQL first,
/// and viben-db never puts a value into SQL text (every value is bound), so everything from
/// the first marker on is dropped.
pub(crate) fn sql_without_binds(query: &dyn std::fmt::Display) -> String {
    let text = query.to_string();
    match text.find(" -- binds: ") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}

/// Follows one connection's statements for tracing: when the running one started.
#[derive(Debug, Default)]
pub(crate) struct Statements {
    started: Option<Instant>,
}

impl Statements {
    /// Notes a statement's start, and emits its end with its duration (and error).
    pub(crate) fn on_event(&mut self, event: &InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                if tracing::enabled!(target: STATEMENT, tracing::Level::DEBUG) {
                    self.started = Some(Instant::now());
                }
            }
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                let Some(started) = self.started.take() else {
                    return;
                };
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                let sql = sql_without_binds(query);
                match error {
                    None => tracing::debug!(target: STATEMENT, sql, micros, "statement"),
                    Some(error) => {
                        tracing::warn!(target: STATEMENT, sql, micros, %error, "statement failed")
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_values_never_reach_the_text() {
        struct Query;
        impl std::fmt::Display for Query {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("UPDATE t SET token = $1 -- binds: [\"s3cr3t -- binds: x\"]")
            }
        }
        assert_eq!(sql_without_binds(&Query), "UPDATE t SET token = $1");
        assert_eq!(sql_without_binds(&"SELECT 1"), "SELECT 1");
    }
}
