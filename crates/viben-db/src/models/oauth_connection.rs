//! The `oauth_connections` table: its row structs and every query on it.
//!
//! Reached as `viben_db::oauth_connections`.
//!
//! ## One row per provider identity
//!
//! The schema (fixed by the web app) has no unique constraint on `(provider, provider_id)`.
//! [`link`] therefore takes a transaction-scoped advisory lock,
//! `pg_advisory_xact_lock(LINK_LOCK_CLASS, hashtext(provider || ':' || provider_id))`, reads,
//! and inserts only if no row exists (or claims one left without a user, see [`link`]); the
//! lock is released at commit. Two links of the same
//! identity at once are serialized, and the second finds the first's row. Different identities
//! whose hashes collide only wait for each other. Writers that do not take the lock (the web
//! app) are not serialized by it.
//!
//! This assumes READ COMMITTED, PostgreSQL's default isolation: the read after the lock must
//! see a row committed by the link that held the lock before. Called inside a REPEATABLE READ
//! or SERIALIZABLE transaction whose snapshot is older than that commit, [`link`] would not
//! see that row and would insert a second one.

use std::fmt;

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use viben_model as model;

use crate::QueryError;
use crate::error::check_text;
use crate::models::UtcNow;
use crate::models::user::UserRow;
use crate::schema::{oauth_connections, users};

/// The first key of the advisory locks [`link`] takes (`"vibe"` in ASCII), so they do not
/// collide with other users of two-key advisory locks.
pub const LINK_LOCK_CLASS: i32 = 0x7669_6265;

/// An `oauth_connections` row as stored. Its `Debug` hides the access token.
#[derive(Clone, PartialEq, Queryable, Selectable, Identifiable, Associations)]
#[diesel(table_name = oauth_connections, belongs_to(UserRow, foreign_key = user_id), check_for_backend(Pg))]
pub struct OAuthConnectionRow {
    /// Primary key.
    pub id: String,
    /// The user it belongs to.
    pub user_id: Option<String>,
    /// Provider text, any value the web app wrote.
    pub provider: String,
    /// The user's id at the provider.
    pub provider_id: String,
    /// The provider's access token.
    pub access_token: Option<String>,
    /// Creation time, UTC wall-clock.
    pub created_at: Option<NaiveDateTime>,
    /// Last change, UTC wall-clock.
    pub updated_at: Option<NaiveDateTime>,
}

impl fmt::Debug for OAuthConnectionRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConnectionRow")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .field("provider_id", &self.provider_id)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| model::Secret::MASK),
            )
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// A row to insert; [`link`] adds the timestamps (`now() AT TIME ZONE 'UTC'`, whatever the
/// session's time zone), a `None` token is written as NULL (so the statement text is fixed and
/// stays prepared). Its `Debug` hides the token.
#[derive(Clone, Insertable)]
#[diesel(
    table_name = oauth_connections,
    check_for_backend(Pg),
    treat_none_as_default_value = false
)]
pub struct NewOAuthConnectionRow<'a> {
    /// Primary key.
    pub id: &'a str,
    /// The user to link.
    pub user_id: &'a str,
    /// Provider text.
    pub provider: &'a str,
    /// The user's id at the provider.
    pub provider_id: &'a str,
    /// The provider's access token.
    pub access_token: Option<&'a str>,
}

impl fmt::Debug for NewOAuthConnectionRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewOAuthConnectionRow")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .field("provider_id", &self.provider_id)
            .field(
                "access_token",
                &self.access_token.map(|_| model::Secret::MASK),
            )
            .finish()
    }
}

/// Changes to a row; `updated_at` is set by the query itself. Its `Debug` hides the token.
#[derive(Clone, Default, AsChangeset)]
#[diesel(table_name = oauth_connections, check_for_backend(Pg))]
pub struct OAuthConnectionChangesetRow<'a> {
    /// New access token, or `Some(None)` for NULL.
    pub access_token: Option<Option<&'a str>>,
}

impl fmt::Debug for OAuthConnectionChangesetRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConnectionChangesetRow")
            .field(
                "access_token",
                &self.access_token.map(|t| t.map(|_| model::Secret::MASK)),
            )
            .finish()
    }
}

impl From<OAuthConnectionRow> for model::OAuthConnection {
    fn from(row: OAuthConnectionRow) -> Self {
        model::OAuthConnection {
            id: row.id,
            user_id: row.user_id,
            provider: model::OAuthProvider::from(row.provider),
            provider_id: row.provider_id,
            access_token: row.access_token.map(model::Secret::new),
            created_at: row.created_at.map(|t| t.and_utc()),
            updated_at: row.updated_at.map(|t| t.and_utc()),
        }
    }
}

/// Links a user to a provider identity and returns the connection.
///
/// If the identity is already linked to this user, that connection is returned, its access
/// token replaced when `new` carries one; if it is linked to another user,
/// [`QueryError::AlreadyLinked`]. A user that does not exist is [`QueryError::ForeignKey`].
///
/// A row for the identity whose `user_id` is NULL (the column allows it) links no one:
/// [`find_user`] skips it, and `link`, when no row with a user exists, claims it (sets its
/// user and replaces its access token with `new`'s, NULL when `new` has none, so a token
/// never passes from one user to another) instead of adding a second row.
/// Concurrent links of one identity make one row (see the module documentation, which also
/// says why this assumes READ COMMITTED isolation).
pub fn link(
    conn: &mut PgConnection,
    new: &model::NewOAuthConnection,
) -> Result<model::OAuthConnection, QueryError> {
    new.validate()?;
    check_text("user_id", &new.user_id)?;
    check_text("provider", new.provider.as_str())?;
    check_text("provider_id", &new.provider_id)?;
    if let Some(id) = &new.id {
        check_text("id", id)?;
    }
    if let Some(token) = &new.access_token {
        check_text("access_token", token.expose())?;
    }
    let id = new.id.clone().unwrap_or_else(model::new_id);
    let provider = new.provider.as_str();
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2 || ':' || $3))")
            .bind::<Integer, _>(LINK_LOCK_CLASS)
            .bind::<Text, _>(provider)
            .bind::<Text, _>(&new.provider_id)
            .execute(conn)?;
        // Rows with a user first, so the owner is the one find_user names.
        let existing = oauth_connections::table
            .filter(oauth_connections::provider.eq(provider))
            .filter(oauth_connections::provider_id.eq(&new.provider_id))
            .order((
                oauth_connections::user_id.is_null(),
                oauth_connections::created_at.asc().nulls_first(),
                oauth_connections::id.asc(),
            ))
            .select(OAuthConnectionRow::as_select())
            .first(conn)
            .optional()?;
        match existing {
            Some(row) if row.user_id.as_deref() == Some(new.user_id.as_str()) => {
                match &new.access_token {
                    Some(token) => update_token(conn, &row.id, Some(token)),
                    None => Ok(row.into()),
                }
            }
            Some(row) if row.user_id.is_none() => {
                let row = diesel::update(oauth_connections::table.find(&row.id))
                    .set((
                        oauth_connections::user_id.eq(&new.user_id),
                        oauth_connections::access_token
                            .eq(new.access_token.as_ref().map(model::Secret::expose)),
                        oauth_connections::updated_at.eq(UtcNow),
                    ))
                    .returning(OAuthConnectionRow::as_returning())
                    .get_result(conn)?;
                Ok(row.into())
            }
            Some(_) => Err(QueryError::AlreadyLinked {
                provider: provider.to_owned(),
                provider_id: new.provider_id.clone(),
            }),
            None => {
                let row = diesel::insert_into(oauth_connections::table)
                    .values((
                        NewOAuthConnectionRow {
                            id: &id,
                            user_id: &new.user_id,
                            provider,
                            provider_id: &new.provider_id,
                            access_token: new.access_token.as_ref().map(model::Secret::expose),
                        },
                        oauth_connections::created_at.eq(UtcNow),
                        oauth_connections::updated_at.eq(UtcNow),
                    ))
                    .returning(OAuthConnectionRow::as_returning())
                    .get_result(conn)?;
                Ok(row.into())
            }
        }
    })
}

/// The user linked to this provider identity, if any: the login path. Rows without a user are
/// skipped; where older writers left several rows with users for one identity, the oldest wins
/// (the same row [`link`] treats as the owner).
pub fn find_user(
    conn: &mut PgConnection,
    provider: &model::OAuthProvider,
    provider_id: &str,
) -> Result<Option<model::User>, QueryError> {
    check_text("provider", provider.as_str())?;
    check_text("provider_id", provider_id)?;
    let row = oauth_connections::table
        .inner_join(users::table)
        .filter(oauth_connections::provider.eq(provider.as_str()))
        .filter(oauth_connections::provider_id.eq(provider_id))
        .order((
            oauth_connections::created_at.asc().nulls_first(),
            oauth_connections::id.asc(),
        ))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Into::into))
}

/// The connection with this id; [`QueryError::NotFound`] if there is none.
pub fn get(conn: &mut PgConnection, id: &str) -> Result<model::OAuthConnection, QueryError> {
    check_text("id", id)?;
    oauth_connections::table
        .find(id)
        .select(OAuthConnectionRow::as_select())
        .first(conn)
        .map(Into::into)
        .map_err(QueryError::not_found("oauth connection with id", id))
}

/// A user's connections, oldest first.
pub fn list_for_user(
    conn: &mut PgConnection,
    user_id: &str,
) -> Result<Vec<model::OAuthConnection>, QueryError> {
    check_text("user_id", user_id)?;
    let rows = oauth_connections::table
        .filter(oauth_connections::user_id.eq(user_id))
        .order((
            oauth_connections::created_at.asc().nulls_first(),
            oauth_connections::id.asc(),
        ))
        .select(OAuthConnectionRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Replaces (or with `None` clears) a connection's access token and sets `updated_at` to now
/// (UTC, whatever the session's time zone).
pub fn update_token(
    conn: &mut PgConnection,
    id: &str,
    token: Option<&model::Secret>,
) -> Result<model::OAuthConnection, QueryError> {
    check_text("id", id)?;
    if let Some(token) = token {
        check_text("access_token", token.expose())?;
    }
    let changes = OAuthConnectionChangesetRow {
        access_token: Some(token.map(model::Secret::expose)),
    };
    diesel::update(oauth_connections::table.find(id))
        .set((changes, oauth_connections::updated_at.eq(UtcNow)))
        .returning(OAuthConnectionRow::as_returning())
        .get_result(conn)
        .map(Into::into)
        .map_err(QueryError::not_found("oauth connection with id", id))
}

/// Removes a connection; [`QueryError::NotFound`] if there is none.
pub fn unlink(conn: &mut PgConnection, id: &str) -> Result<(), QueryError> {
    check_text("id", id)?;
    let removed = diesel::delete(oauth_connections::table.find(id)).execute(conn)?;
    if removed == 0 {
        return Err(QueryError::NotFound {
            kind: "oauth connection with id",
            id: id.to_owned(),
        });
    }
    Ok(())
}
