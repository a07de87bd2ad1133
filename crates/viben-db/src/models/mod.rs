//! Diesel row structs, one file per table, each with the queries on its table.
//!
//! Row structs mirror the columns exactly (NULLs included); the query functions convert them
//! to viben-model's types, and those conversions are the one place that decides what a NULL
//! means.

pub mod oauth_connection;
pub mod user;

pub use oauth_connection::{NewOAuthConnection, OAuthConnection, OAuthConnectionChangeset};
pub use user::{NewUser, User, UserChangeset};
