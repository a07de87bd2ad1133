//! Diesel row structs, one file per table, each with the queries on its table.
//!
//! Row structs mirror the columns exactly (NULLs included); the query functions convert them
//! to viben-model's types, and those conversions are the one place that decides what a NULL
//! means.

pub mod oauth_connection;
pub mod pagination;
pub mod user;

pub use oauth_connection::{
    NewOAuthConnectionRow, OAuthConnectionChangesetRow, OAuthConnectionRow,
};
pub use user::{NewUserRow, UserChangesetRow, UserRow};

/// `(now() AT TIME ZONE 'UTC')`: the transaction's start time as UTC wall-clock, whatever the
/// session's `TimeZone` (a column's `DEFAULT now()`, or Diesel's `now`, would convert to the
/// session's zone). Every write sets `created_at`/`updated_at` from it. Fixed SQL text with a
/// static query id, so statements using it stay prepared.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
pub(crate) struct UtcNow;

impl diesel::Expression for UtcNow {
    type SqlType = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>;
}

impl<QS> diesel::AppearsOnTable<QS> for UtcNow {}

impl<QS> diesel::SelectableExpression<QS> for UtcNow {}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for UtcNow {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("(now() AT TIME ZONE 'UTC')");
        Ok(())
    }
}
