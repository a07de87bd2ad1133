//! Helpers shared by the integration tests.

#![allow(dead_code, reason = "each test file uses a different subset")]

use viben_model::NewUser;

/// A valid new user whose email and username are derived from `n`.
pub(crate) fn new_user(n: usize) -> NewUser {
    NewUser::new(format!("user{n}@example.com"), format!("user{n}"))
}
