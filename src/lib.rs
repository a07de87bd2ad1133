//! Viben's data layer in one import: web accounts in PostgreSQL ([`db`]), desktop configuration
//! in YAML ([`store`]), and the domain types both share ([`model`]).
//!
//! This root package exists so that `cargo run --example <name>` works from the repository root;
//! other crates should depend on the library they need (`viben-db`, `viben-store`,
//! `viben-model`) directly, so that a desktop build does not link libpq.
//!
//! ```
//! let id = viben::model::new_id();
//! assert_eq!(id.len(), 36);
//! ```

pub use viben_db as db;
pub use viben_model as model;
pub use viben_store as store;
