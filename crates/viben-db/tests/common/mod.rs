//! Helpers shared by the integration tests.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use viben_model::NewUser;

/// A valid new user whose email and username are derived from `n`.
pub(crate) fn new_user(n: usize) -> NewUser {
    NewUser::new(format!("user{n}@example.com"), format!("user{n}"))
}

/// Every statement a connection sends, for checking how a call talks to the server.
#[derive(Default, Clone)]
pub(crate) struct Statements(pub(crate) std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl diesel::connection::Instrumentation for Statements {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        if let diesel::connection::InstrumentationEvent::StartQuery { query, .. } = event
            && let Ok(mut statements) = self.0.lock()
        {
            statements.push(query.to_string());
        }
    }
}
