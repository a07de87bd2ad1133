//! Helpers shared by the integration tests.

use viben_model::NewUser;

/// A valid new user whose email and username are derived from `n`.
pub(crate) fn new_user(n: usize) -> NewUser {
    NewUser::new(format!("user{n}@example.com"), format!("user{n}"))
}
