//! The `users` table: its row structs and every query on it.
//!
//! Reached as `viben_db::users` (`users::create(&mut conn, &new)`); the functions take and
//! return viben-model's types, the row structs are for code that writes its own Diesel queries.

use chrono::{NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Timestamp};
use viben_model as model;

use crate::QueryError;
use crate::error::check_text;
use crate::models::UtcNow;
use crate::models::oauth_connection::{self, OAuthConnectionRow};
pub use crate::models::pagination::{Page, ParseCursorError, UserCursor};
use crate::schema::{oauth_connections, users};

/// A `users` row as stored, NULLs and all.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(Pg))]
pub struct UserRow {
    /// Primary key.
    pub id: String,
    /// Unique email address.
    pub email: String,
    /// Unique username.
    pub username: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// GitHub login.
    pub github_username: Option<String>,
    /// Verified flag (NULL where the web app left it so).
    pub email_verified: Option<bool>,
    /// Role text, any value the web app wrote.
    pub role: Option<String>,
    /// Creation time, UTC wall-clock.
    pub created_at: Option<NaiveDateTime>,
    /// Last change, UTC wall-clock.
    pub updated_at: Option<NaiveDateTime>,
}

/// A row to insert (by one `INSERT` or by `COPY FROM`).
///
/// Every listed column is written, NULL for `None`; `email_verified` and `role` hold the column
/// defaults (`false`, `user`) when the domain value leaves them unset. The queries add
/// `created_at` and `updated_at` as `now() AT TIME ZONE 'UTC'` (the columns' `DEFAULT now()`
/// would follow the session's time zone). Writing the same columns every time keeps
/// the statement text fixed, so Diesel can keep it prepared (an `Option` meaning `DEFAULT`
/// would make every insert parse anew: measured 1.6x slower).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users, check_for_backend(Pg), treat_none_as_default_value = false)]
pub struct NewUserRow<'a> {
    /// Primary key.
    pub id: &'a str,
    /// Unique email address.
    pub email: &'a str,
    /// Unique username.
    pub username: &'a str,
    /// Display name.
    pub display_name: Option<&'a str>,
    /// Avatar URL.
    pub avatar_url: Option<&'a str>,
    /// GitHub login.
    pub github_username: Option<&'a str>,
    /// Verified flag.
    pub email_verified: bool,
    /// Role.
    pub role: &'a str,
}

/// A row for `COPY FROM` (binary, so no SQL expressions): a [`NewUserRow`]'s columns plus the
/// timestamps, taken from this machine's clock in UTC.
#[derive(Insertable)]
#[diesel(table_name = users, check_for_backend(Pg), treat_none_as_default_value = false)]
struct CopiedUserRow<'a> {
    id: &'a str,
    email: &'a str,
    username: &'a str,
    display_name: Option<&'a str>,
    avatar_url: Option<&'a str>,
    github_username: Option<&'a str>,
    email_verified: bool,
    role: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl<'a> CopiedUserRow<'a> {
    fn of(row: NewUserRow<'a>, at: NaiveDateTime) -> Self {
        Self {
            id: row.id,
            email: row.email,
            username: row.username,
            display_name: row.display_name,
            avatar_url: row.avatar_url,
            github_username: row.github_username,
            email_verified: row.email_verified,
            role: row.role,
            created_at: at,
            updated_at: at,
        }
    }
}

/// Changes to a row: `None` leaves a column alone; for nullable columns `Some(None)` writes
/// NULL. `updated_at` is set by [`update`] itself.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = users, check_for_backend(Pg))]
pub struct UserChangesetRow<'a> {
    /// New email address.
    pub email: Option<&'a str>,
    /// New username.
    pub username: Option<&'a str>,
    /// New display name, or `Some(None)` for NULL.
    pub display_name: Option<Option<&'a str>>,
    /// New avatar URL, or `Some(None)` for NULL.
    pub avatar_url: Option<Option<&'a str>>,
    /// New GitHub login, or `Some(None)` for NULL.
    pub github_username: Option<Option<&'a str>>,
    /// New verified flag.
    pub email_verified: Option<bool>,
    /// New role.
    pub role: Option<&'a str>,
}

/// The one place that decides what a NULL means for the domain type: `email_verified` NULL is
/// `false`, `role` NULL is [`model::Role::User`], NULL timestamps are `None`.
impl From<UserRow> for model::User {
    fn from(row: UserRow) -> Self {
        model::User {
            id: row.id,
            email: row.email,
            username: row.username,
            display_name: row.display_name,
            avatar_url: row.avatar_url,
            github_username: row.github_username,
            email_verified: row.email_verified.unwrap_or(false),
            role: row.role.map(model::Role::from).unwrap_or_default(),
            created_at: row.created_at.map(|t| t.and_utc()),
            updated_at: row.updated_at.map(|t| t.and_utc()),
        }
    }
}

/// The checks [`create`] and [`bulk_insert`] run on a new user before writing it: viben-model's
/// rules (email, username), a given id findable as typed, no NUL byte in any text. For callers
/// that read users from a file and want to name the bad line before a batch is sent.
pub fn check_new(new: &model::NewUser) -> Result<(), QueryError> {
    new.validate()?;
    if let Some(id) = &new.id {
        check_id(id)?;
    }
    for (field, value) in [
        ("display_name", &new.display_name),
        ("avatar_url", &new.avatar_url),
        ("github_username", &new.github_username),
    ] {
        if let Some(value) = value {
            check_text(field, value)?;
        }
    }
    if let Some(role) = &new.role {
        check_text("role", role.as_str())?;
    }
    Ok(())
}

/// A given user id must be findable as typed: not empty, not only whitespace, and free of
/// control characters (which no one can type back, and which reach terminals raw).
fn check_id(id: &str) -> Result<(), QueryError> {
    let reason = if id.is_empty() {
        "it is empty"
    } else if id.trim().is_empty() {
        "it is only whitespace"
    } else if id.contains(char::is_control) {
        "it contains a control character"
    } else {
        return Ok(());
    };
    Err(QueryError::InvalidId {
        id: id.to_owned(),
        reason,
    })
}

fn row_of<'a>(new: &'a model::NewUser, id: &'a str) -> NewUserRow<'a> {
    NewUserRow {
        id,
        email: &new.email,
        username: &new.username,
        display_name: new.display_name.as_deref(),
        avatar_url: new.avatar_url.as_deref(),
        github_username: new.github_username.as_deref(),
        email_verified: new.email_verified.unwrap_or(false),
        role: new.role.as_ref().map_or("user", model::Role::as_str),
    }
}

/// Creates a user (a new UUIDv7 id unless `new.id` is set) after validating it.
///
/// A taken email or username is [`QueryError::AlreadyExists`] naming the field.
pub fn create(conn: &mut PgConnection, new: &model::NewUser) -> Result<model::User, QueryError> {
    check_new(new)?;
    let id = new.id.clone().unwrap_or_else(model::new_id);
    let row = diesel::insert_into(users::table)
        .values((
            row_of(new, &id),
            users::created_at.eq(UtcNow),
            users::updated_at.eq(UtcNow),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)?;
    Ok(row.into())
}

/// What [`find_or_create_by_email`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundOrCreated {
    /// The user with that email.
    pub user: model::User,
    /// Whether this call created it.
    pub created: bool,
}

/// The user with `new.email`, created from `new` if there is none.
///
/// Race-free: `INSERT ... ON CONFLICT (email) DO NOTHING`, then a read by email when the
/// insert did nothing (PostgreSQL makes the insert wait for a concurrent one with the same
/// email, so the read sees its row). Two callers at once get the same user, one of them with
/// `created: true`. A username (or given id) taken by a user with another email fails the
/// insert itself: [`QueryError::AlreadyExists`] naming `username` (or `id`).
///
/// Assumes READ COMMITTED, PostgreSQL's default isolation: the read after a conflict must see
/// the row committed by the concurrent insert, which a REPEATABLE READ or SERIALIZABLE
/// transaction begun earlier would not (called inside such a transaction, the conflicting
/// insert fails with a serialization error instead).
pub fn find_or_create_by_email(
    conn: &mut PgConnection,
    new: &model::NewUser,
) -> Result<FoundOrCreated, QueryError> {
    check_new(new)?;
    let id = new.id.clone().unwrap_or_else(model::new_id);
    // Inside a caller's transaction a failed INSERT would abort it, and the read below could
    // not run: the INSERT gets a savepoint there (outside one, no round trip is added).
    let in_transaction = matches!(
        <diesel::connection::AnsiTransactionManager as diesel::connection::TransactionManager<
            PgConnection,
        >>::transaction_manager_status_mut(conn)
        .transaction_depth(),
        Ok(Some(_))
    );
    // A concurrent delete between the two statements is the only way to miss; try again.
    for _ in 0..3 {
        let insert = |conn: &mut PgConnection| {
            diesel::insert_into(users::table)
                .values((
                    row_of(new, &id),
                    users::created_at.eq(UtcNow),
                    users::updated_at.eq(UtcNow),
                ))
                .on_conflict(users::email)
                .do_nothing()
                .returning(UserRow::as_returning())
                .get_result(conn)
                .optional()
        };
        let inserted = if in_transaction {
            conn.transaction(insert)
        } else {
            insert(conn)
        }
        .map_err(QueryError::from);
        // ON CONFLICT (email) arbitrates only the email index: a concurrent insert of the same
        // user (same username, another new id) can surface as a username or id conflict. The
        // read below tells that race (the email now exists) from a name taken by someone else.
        let other_conflict = match inserted {
            Ok(Some(row)) => {
                return Ok(FoundOrCreated {
                    user: row.into(),
                    created: true,
                });
            }
            Ok(None) => None,
            Err(err @ QueryError::AlreadyExists { .. }) => Some(err),
            Err(err) => return Err(err),
        };
        if let Some(row) = users::table
            .filter(users::email.eq(&new.email))
            .select(UserRow::as_select())
            .first(conn)
            .optional()?
        {
            return Ok(FoundOrCreated {
                user: row.into(),
                created: false,
            });
        }
        if let Some(conflict) = other_conflict {
            return Err(conflict);
        }
    }
    Err(QueryError::NotFound {
        kind: "user with email (deleted while being created)",
        id: new.email.to_string(),
    })
}

/// The user with this id; [`QueryError::NotFound`] if there is none.
pub fn get_by_id(conn: &mut PgConnection, id: &str) -> Result<model::User, QueryError> {
    check_text("id", id)?;
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .map(Into::into)
        .map_err(QueryError::not_found("user with id", id))
}

/// The user with this email (exact match); [`QueryError::NotFound`] if there is none.
pub fn get_by_email(conn: &mut PgConnection, email: &str) -> Result<model::User, QueryError> {
    check_text("email", email)?;
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .map(Into::into)
        .map_err(QueryError::not_found("user with email", email))
}

/// The user with this username (exact match); [`QueryError::NotFound`] if there is none.
pub fn get_by_username(conn: &mut PgConnection, username: &str) -> Result<model::User, QueryError> {
    check_text("username", username)?;
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .map(Into::into)
        .map_err(QueryError::not_found("user with username", username))
}

/// Which rule of [`find_by_key`] matched a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// The key is the user's id.
    Id,
    /// The key is the user's email.
    Email,
    /// The key is the user's username.
    Username,
}

impl MatchedBy {
    /// `id`, `email` or `username`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Email => "email",
            Self::Username => "username",
        }
    }
}

impl std::fmt::Display for MatchedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user found by [`find_by_key`], and the rule that found it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserMatch {
    /// The user.
    pub user: model::User,
    /// Which rule matched.
    pub matched_by: MatchedBy,
}

/// What [`find_by_key`] found: the user the first matching rule names, and the other users
/// the key matches by a later rule.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMatches {
    /// The user found by the first rule that matched (id, then email, then username).
    pub found: UserMatch,
    /// Other users the key also matches by a later rule (a key that is one user's id and
    /// another's username), in rule order; a caller should say so, so the choice is never
    /// silent.
    pub others: Vec<UserMatch>,
}

/// The user whose id, email or username is `key`, tried in that order.
/// [`QueryError::NotFound`] when no rule matches.
pub fn find_by_key(conn: &mut PgConnection, key: &str) -> Result<KeyMatches, QueryError> {
    type Lookup = fn(&mut PgConnection, &str) -> Result<model::User, QueryError>;
    let lookups: [(MatchedBy, Lookup); 3] = [
        (MatchedBy::Id, get_by_id),
        (MatchedBy::Email, get_by_email),
        (MatchedBy::Username, get_by_username),
    ];
    let mut matches = Vec::new();
    for (matched_by, lookup) in lookups {
        match lookup(conn, key) {
            Ok(user) => matches.push(UserMatch { user, matched_by }),
            Err(QueryError::NotFound { .. }) => continue,
            Err(err) => return Err(err),
        }
    }
    let mut matches = matches.into_iter();
    let Some(found) = matches.next() else {
        return Err(QueryError::NotFound {
            kind: "user with the id, email or username",
            id: key.to_owned(),
        });
    };
    let others = matches.filter(|m| m.user.id != found.user.id).collect();
    Ok(KeyMatches { found, others })
}

/// Users ordered by `(created_at, id)`, oldest first (a NULL `created_at` sorts first), starting
/// after `after`, at most `limit` of them.
///
/// Keyset pagination: the cursor is the last row's key, so no row is repeated and, unlike
/// `OFFSET`, rows inserted or deleted between two calls do not shift the pages.
///
/// What it does not promise:
/// - Cost: the schema (fixed by the web app) has no index on `(created_at, id)`, so every page
///   scans the whole table and sorts it (a top-N sort); a page costs about the same at any
///   depth, but that cost grows with the table.
/// - Completeness: each call sees the rows committed when it runs. A row committed later with
///   a key before the cursor is skipped: `created_at` is the writing transaction's start time,
///   so a long transaction that commits after a page was read can add a row behind the cursor
///   (as can a writer that sets `created_at` itself). Read all pages in one REPEATABLE READ
///   transaction for a consistent snapshot.
pub fn list(
    conn: &mut PgConnection,
    after: Option<&UserCursor>,
    limit: u32,
) -> Result<Page<model::User>, QueryError> {
    let rows = page_rows(conn, after, limit)?;
    let next = cursor_after(&rows, limit);
    Ok(Page {
        items: rows.into_iter().map(Into::into).collect(),
        next,
    })
}

fn page_rows(
    conn: &mut PgConnection,
    after: Option<&UserCursor>,
    limit: u32,
) -> Result<Vec<UserRow>, QueryError> {
    let page = |limit: u32| {
        users::table
            .select(UserRow::as_select())
            .order((users::created_at.asc().nulls_first(), users::id.asc()))
            .limit(i64::from(limit))
            .into_boxed()
    };
    let Some(cursor) = after else {
        return Ok(page(limit).load(conn)?);
    };
    check_text("cursor id", &cursor.id)?;
    match cursor.created_at {
        // A row comparison, which the recommended index on (created_at NULLS FIRST, id) serves
        // as one range scan, so a page costs the same at any depth; `OR` of the two conditions
        // it stands for is served by no index. Rows without created_at sort first, so none is
        // after a dated cursor, and the comparison (NULL for them) leaves them out.
        Some(at) => Ok(page(limit)
            .filter(
                sql::<Bool>("(users.created_at, users.id) > (")
                    .bind::<Timestamp, _>(at.naive_utc())
                    .sql(", ")
                    .bind::<Text, _>(cursor.id.clone())
                    .sql(")"),
            )
            .load(conn)?),
        // Still among the rows without created_at (the web app's legacy rows): the rest of
        // them by id, then, if the page is not full, the first dated rows: two range scans.
        None => {
            let mut rows = page(limit)
                .filter(
                    users::created_at
                        .is_null()
                        .and(users::id.gt(cursor.id.clone())),
                )
                .load(conn)?;
            let room = limit.saturating_sub(u32::try_from(rows.len()).unwrap_or(u32::MAX));
            if room > 0 {
                rows.extend(
                    page(room)
                        .filter(users::created_at.is_not_null())
                        .load::<UserRow>(conn)?,
                );
            }
            Ok(rows)
        }
    }
}

fn cursor_after(rows: &[UserRow], limit: u32) -> Option<UserCursor> {
    if rows.len() < limit as usize {
        return None;
    }
    rows.last().map(|row| UserCursor {
        created_at: row.created_at.map(|t| t.and_utc()),
        id: row.id.clone(),
    })
}

/// A page of users, each with its OAuth connections, in exactly two statements (one for the
/// users, one for all their connections), never one per user.
pub fn list_with_connections(
    conn: &mut PgConnection,
    after: Option<&UserCursor>,
    limit: u32,
) -> Result<Page<model::UserWithConnections>, QueryError> {
    let rows = page_rows(conn, after, limit)?;
    let next = cursor_after(&rows, limit);
    let connections = OAuthConnectionRow::belonging_to(&rows)
        .select(OAuthConnectionRow::as_select())
        .order((
            oauth_connections::created_at.asc().nulls_first(),
            oauth_connections::id.asc(),
        ))
        .load(conn)?;
    let grouped = connections.grouped_by(&rows);
    let items = rows
        .into_iter()
        .zip(grouped)
        .map(|(user, connections)| model::UserWithConnections {
            user: user.into(),
            oauth_connections: connections.into_iter().map(Into::into).collect(),
        })
        .collect();
    Ok(Page { items, next })
}

/// One user with its OAuth connections, oldest first (the seed's
/// `findFirst({ with: { oauthConnections: true } })`), in two statements.
pub fn get_with_connections(
    conn: &mut PgConnection,
    id: &str,
) -> Result<model::UserWithConnections, QueryError> {
    let user = get_by_id(conn, id)?;
    let oauth_connections = oauth_connection::list_for_user(conn, id)?;
    Ok(model::UserWithConnections {
        user,
        oauth_connections,
    })
}

/// Applies a patch: writes only the fields it sets, and always sets `updated_at` to now (UTC,
/// whatever the session's time zone).
/// Values the web app stored and the patch does not touch (an unknown role, NULLs) stay as
/// they are.
pub fn update(
    conn: &mut PgConnection,
    id: &str,
    patch: &model::UserPatch,
) -> Result<model::User, QueryError> {
    patch.validate()?;
    check_text("id", id)?;
    for (field, value) in [
        ("display_name", &patch.display_name),
        ("avatar_url", &patch.avatar_url),
        ("github_username", &patch.github_username),
    ] {
        if let Some(Some(value)) = value {
            check_text(field, value)?;
        }
    }
    if let Some(role) = &patch.role {
        check_text("role", role.as_str())?;
    }
    let changes = UserChangesetRow {
        email: patch.email.as_deref(),
        username: patch.username.as_deref(),
        display_name: patch.display_name.as_ref().map(Option::as_deref),
        avatar_url: patch.avatar_url.as_ref().map(Option::as_deref),
        github_username: patch.github_username.as_ref().map(Option::as_deref),
        email_verified: patch.email_verified,
        role: patch.role.as_ref().map(model::Role::as_str),
    };
    diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(UtcNow)))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .map(Into::into)
        .map_err(QueryError::not_found("user with id", id))
}

/// Deletes a user and its OAuth connections in one transaction (the foreign key has no
/// cascade). The user row is locked first, so a concurrent link to it waits and then fails
/// with [`QueryError::ForeignKey`] instead of blocking the delete. Returns how many connections
/// were removed; [`QueryError::NotFound`] if there is no such user.
pub fn delete(conn: &mut PgConnection, id: &str) -> Result<usize, QueryError> {
    check_text("id", id)?;
    conn.transaction(|conn| {
        users::table
            .find(id)
            .select(users::id)
            .for_update()
            .first::<String>(conn)
            .map_err(QueryError::not_found("user with id", id))?;
        let removed =
            diesel::delete(oauth_connections::table.filter(oauth_connections::user_id.eq(id)))
                .execute(conn)?;
        diesel::delete(users::table.find(id)).execute(conn)?;
        Ok(removed)
    })
}

/// Users whose email or username starts with `prefix` (letter case ignored), ordered by
/// email, at most `limit` of them: the search box of a user list.
///
/// Cost: `ILIKE` is served by no index of the web app's schema, so this scans the users
/// table (measured in `docs/performance.md`); a page of the list itself stays on the keyset
/// index.
pub fn search(
    conn: &mut PgConnection,
    prefix: &str,
    limit: u32,
) -> Result<Vec<model::User>, QueryError> {
    check_text("search text", prefix)?;
    let pattern = format!("{}%", escape_like(prefix));
    let rows = users::table
        .select(UserRow::as_select())
        .filter(
            users::email
                .ilike(pattern.clone())
                .or(users::username.ilike(pattern)),
        )
        .order((users::email.asc(), users::id.asc()))
        .limit(i64::from(limit))
        .load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// `text` with LIKE's wildcards and its escape character taken literally.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// How many users there are.
pub fn count(conn: &mut PgConnection) -> Result<i64, QueryError> {
    Ok(users::table.count().get_result(conn)?)
}

/// A value of a new user that a stored user already has: found by [`taken`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    /// The position of the new user in the slice given to [`taken`].
    pub index: usize,
    /// The unique column whose value is taken: `id`, `email` or `username`.
    pub field: &'static str,
}

/// Which users of a batch have an id, email or username a stored user already has, in one
/// statement: each taken value once, in batch order (for one user: `id`, `email`, then
/// `username`). Lets an import name the line of a duplicate before [`bulk_insert`] would fail
/// on it; a user with no id (one is generated) is checked for email and username only.
///
/// Matches exactly as the unique constraints do (the email compared as written, not
/// case-folded). A row committed after this call can still make the insert fail, with
/// [`QueryError::AlreadyExists`].
pub fn taken(conn: &mut PgConnection, new: &[model::NewUser]) -> Result<Vec<Taken>, QueryError> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = new.iter().filter_map(|u| u.id.as_deref()).collect();
    let emails: Vec<&str> = new.iter().map(|u| u.email.as_str()).collect();
    let usernames: Vec<&str> = new.iter().map(|u| u.username.as_str()).collect();
    for value in ids.iter().chain(&emails).chain(&usernames) {
        check_text("value", value)?;
    }
    let stored: Vec<(String, String, String)> = users::table
        .filter(
            users::id
                .eq_any(&ids)
                .or(users::email.eq_any(&emails))
                .or(users::username.eq_any(&usernames)),
        )
        .select((users::id, users::email, users::username))
        .load(conn)?;
    let (mut stored_ids, mut stored_emails, mut stored_usernames) = (
        std::collections::HashSet::new(),
        std::collections::HashSet::new(),
        std::collections::HashSet::new(),
    );
    for (id, email, username) in &stored {
        stored_ids.insert(id.as_str());
        stored_emails.insert(email.as_str());
        stored_usernames.insert(username.as_str());
    }
    let mut found = Vec::new();
    for (index, user) in new.iter().enumerate() {
        let checks = [
            (
                "id",
                user.id.as_deref().is_some_and(|id| stored_ids.contains(id)),
            ),
            ("email", stored_emails.contains(user.email.as_str())),
            (
                "username",
                stored_usernames.contains(user.username.as_str()),
            ),
        ];
        found.extend(
            checks
                .into_iter()
                .filter(|(_, is_taken)| *is_taken)
                .map(|(field, _)| Taken { index, field }),
        );
    }
    Ok(found)
}

/// Checks every user of a batch, and gives each its id (a generated one where it has none).
fn checked_ids(new: &[model::NewUser]) -> Result<Vec<String>, QueryError> {
    for user in new {
        check_new(user)?;
    }
    Ok(new
        .iter()
        .map(|u| u.id.clone().unwrap_or_else(model::new_id))
        .collect())
}

/// The rows of a batch, with one timestamp (this machine's clock, UTC) for all of them.
fn copied_rows<'a>(new: &'a [model::NewUser], ids: &'a [String]) -> Vec<CopiedUserRow<'a>> {
    let at = Utc::now().naive_utc();
    new.iter()
        .zip(ids)
        .map(|(u, id)| CopiedUserRow::of(row_of(u, id), at))
        .collect()
}

/// Inserts many users at once with `COPY users (...) FROM STDIN` (binary), after validating all
/// of them; nothing is inserted if any is invalid or taken. Returns how many were inserted.
///
/// `COPY` cannot evaluate SQL, so `created_at` and `updated_at` are this machine's clock in UTC
/// (one value for the whole batch), not the server's.
///
/// `COPY` measured faster than multi-row `INSERT`s in chunks (see `docs/performance.md`).
pub fn bulk_insert(conn: &mut PgConnection, new: &[model::NewUser]) -> Result<usize, QueryError> {
    if new.is_empty() {
        return Ok(0);
    }
    let ids = checked_ids(new)?;
    let rows = copied_rows(new, &ids);
    Ok(diesel::copy_from(users::table)
        .from_insertable(&rows)
        .execute(conn)?)
}

/// Inserts many users with multi-row `INSERT`s of `chunk` rows each, in one transaction.
/// Kept for comparison with [`bulk_insert`] (the benchmark measures both); not part of the
/// API (only with the `bench` feature, which this crate's own tests and benchmarks turn on):
/// use [`bulk_insert`].
#[cfg(feature = "bench")]
#[doc(hidden)]
pub fn bulk_insert_chunked(
    conn: &mut PgConnection,
    new: &[model::NewUser],
    chunk: usize,
) -> Result<usize, QueryError> {
    let ids = checked_ids(new)?;
    let rows = copied_rows(new, &ids);
    conn.transaction(|conn| {
        let mut total = 0;
        for part in rows.chunks(chunk.max(1)) {
            total += diesel::insert_into(users::table)
                .values(part)
                .execute(conn)?;
        }
        Ok(total)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_read_as_the_column_defaults_and_timestamps_as_none() {
        let row = UserRow {
            id: "u1".into(),
            email: "a@example.com".into(),
            username: "ada".into(),
            display_name: None,
            avatar_url: None,
            github_username: None,
            email_verified: None,
            role: None,
            created_at: None,
            updated_at: None,
        };
        let user = model::User::from(row.clone());
        assert!(!user.email_verified);
        assert_eq!(user.role, model::Role::User);
        assert_eq!((user.created_at, user.updated_at), (None, None));

        let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
            .and_then(|d| d.and_hms_opt(3, 4, 5))
            .expect("a valid date");
        let user = model::User::from(UserRow {
            email_verified: Some(true),
            role: Some("moderator".into()),
            created_at: Some(at),
            ..row
        });
        assert!(user.email_verified);
        assert_eq!(user.role, model::Role::Other("moderator".into()));
        assert_eq!(
            user.created_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-01-02T03:04:05+00:00")
        );
    }
}
