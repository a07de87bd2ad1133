//! Accounts: the users of the web app's database, a page at a time, one user with its OAuth
//! connections, and the two changes a person makes here (display name and role, delete).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use viben_db::models::pagination::UserCursor;
use viben_db::users;
use viben_model::{Role, User, UserPatch, UserWithConnections};

use super::{AppState, PageError, blocking, layout, url_part, when};
use crate::auth::{Protected, form_token_field};

/// How many users one page shows.
pub(crate) const PAGE_SIZE: u32 = 100;

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    q: Option<String>,
    after: Option<String>,
    deleted: Option<String>,
}

/// `/users`: a page of users oldest first, or the users an email or username prefix finds.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let pool = state.pool()?;
    let search = query.q.clone().filter(|q| !q.trim().is_empty());
    let after = match query.after.as_deref().filter(|a| !a.is_empty()) {
        Some(text) => Some(text.parse::<UserCursor>().map_err(|err| {
            PageError::BadRequest(format!(
                "the page link is damaged ({err}); start from the first page"
            ))
        })?),
        None => None,
    };
    let searched = search.clone();
    let (rows, next) = blocking(move || {
        let mut conn = pool.get()?;
        match searched {
            Some(q) => {
                // A whole email, username or id (what people paste) is found through the
                // unique indexes at once; only a partial one needs the prefix search, which
                // scans the table (see docs/studio.md for its cost).
                match users::find_by_key(&mut conn, q.trim()) {
                    Ok(found) => {
                        let mut rows = vec![found.found.user];
                        rows.extend(found.others.into_iter().map(|other| other.user));
                        Ok((rows, None))
                    }
                    Err(viben_db::QueryError::NotFound { .. }) => {
                        Ok((users::search(&mut conn, q.trim(), PAGE_SIZE)?, None))
                    }
                    Err(err) => Err(err.into()),
                }
            }
            None => {
                // One more than a page, so the last page has no "Next" leading to an empty one.
                let mut items = users::list(&mut conn, after.as_ref(), PAGE_SIZE + 1)?.items;
                let next = (items.len() > PAGE_SIZE as usize).then(|| {
                    items.truncate(PAGE_SIZE as usize);
                    items.last().map(|last| UserCursor {
                        created_at: last.created_at,
                        id: last.id.clone(),
                    })
                });
                Ok((items, next.flatten()))
            }
        }
    })
    .await?;
    let content = html! {
        @if let Some(email) = &query.deleted {
            p.notice role="status" { "Deleted " (email) "." }
        }
        form.search method="get" action="/users" {
            label for="q" { "Search by email or username" }
            input #q type="search" name="q" value=[search.as_deref()] placeholder="ada@ or ada";
            button type="submit" { "Search" }
        }
        @if let Some(q) = &search {
            p { (rows.len()) " users start with “" (q) "”" @if rows.len() as u32 == PAGE_SIZE { " (the first " (PAGE_SIZE) ")" } ". " a href="/users" { "All users" } }
        }
        (user_table(&rows))
        @if let Some(next) = next {
            p.pager { a #next rel="next" href={ "/users?after=" (url_part(&next.to_string())) } { "Next page →" } }
        }
    };
    Ok(layout(&state, "Users", content).into_response())
}

fn user_table(rows: &[User]) -> Markup {
    html! {
        @if rows.is_empty() {
            p.empty { "No users." }
        } @else {
            table.users {
                thead { tr { th { "Email" } th { "Username" } th { "Display name" } th { "Role" } th { "Created" } } }
                tbody {
                    @for user in rows {
                        tr {
                            td { a href={ "/users/" (url_part(&user.id)) } { (user.email) } }
                            td { (user.username) }
                            td { (user.display_name.as_deref().unwrap_or("—")) }
                            td { (user.role) }
                            td { (when(user.created_at)) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct ShowQuery {
    saved: Option<String>,
}

/// `/users/{id}`: one user, its OAuth connections, and the edit form.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let found = load(&state, id).await?;
    let notice = query.saved.is_some().then_some("Saved.");
    Ok(user_page(&state, &found, notice, None, StatusCode::OK))
}

async fn load(state: &AppState, id: String) -> Result<UserWithConnections, PageError> {
    let pool = state.pool()?;
    blocking(move || {
        let mut conn = pool.get()?;
        Ok(users::get_with_connections(&mut conn, &id)?)
    })
    .await
}

fn user_page(
    state: &AppState,
    found: &UserWithConnections,
    notice: Option<&str>,
    error: Option<&PageError>,
    status: StatusCode,
) -> Response {
    let user = &found.user;
    let path = format!("/users/{}", url_part(&user.id));
    let roles = [Role::User, Role::Admin];
    let content = html! {
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        @if let Some(error) = error { (error.panel()) }
        dl.facts {
            dt { "Email" } dd { (user.email) @if user.email_verified { " (verified)" } }
            dt { "Username" } dd { (user.username) }
            dt { "GitHub" } dd { (user.github_username.as_deref().unwrap_or("—")) }
            dt { "Id" } dd { code { (user.id) } }
            dt { "Created" } dd { (when(user.created_at)) }
            dt { "Updated" } dd { (when(user.updated_at)) }
        }
        h2 { "Edit" }
        form.edit method="post" action=(path) {
            (form_token_field(state))
            label for="display_name" { "Display name" }
            input #display_name type="text" name="display_name" value=[user.display_name.as_deref()];
            label for="role" { "Role" }
            select #role name="role" {
                @for role in &roles {
                    option value=(role) selected[*role == user.role] { (role) }
                }
                @if !roles.contains(&user.role) {
                    option value=(user.role) selected { (user.role) " (set by the web app)" }
                }
            }
            button #save type="submit" { "Save" }
        }
        h2 { "OAuth connections (" (found.oauth_connections.len()) ")" }
        @if found.oauth_connections.is_empty() {
            p.empty { "None." }
        } @else {
            table.connections {
                thead { tr { th { "Provider" } th { "Account at the provider" } th { "Access token" } th { "Linked" } } }
                tbody {
                    @for connection in &found.oauth_connections {
                        tr {
                            td { (connection.provider) }
                            td { (connection.provider_id) }
                            // Whether a token is stored, never the token.
                            td { @if connection.access_token.is_some() { "stored" } @else { "none" } }
                            td { (when(connection.created_at)) }
                        }
                    }
                }
            }
        }
        h2 { "Delete" }
        p { a #delete.danger href={ (path) "/delete" } { "Delete this user…" } }
    };
    let mut response = layout(state, &user.email, content).into_response();
    *response.status_mut() = status;
    response
}

#[derive(Deserialize)]
pub(crate) struct UserForm {
    display_name: String,
    role: String,
}

/// POST `/users/{id}`: saves the display name and role; the form comes back with what was
/// wrong when the database refuses.
pub(crate) async fn save(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Protected(form): Protected<UserForm>,
) -> Result<Response, PageError> {
    let pool = state.pool()?;
    let name = form.display_name.trim().to_owned();
    let patch = UserPatch {
        display_name: Some((!name.is_empty()).then_some(name)),
        role: Some(Role::from(form.role.trim())),
        ..UserPatch::default()
    };
    let target = id.clone();
    let saved = blocking(move || {
        let mut conn = pool.get()?;
        Ok(users::update(&mut conn, &target, &patch))
    })
    .await?;
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/users/{}?saved=1", url_part(&id))).into_response()),
        Err(err) => {
            let err = PageError::from(err);
            let found = load(&state, id).await?;
            let status = match &err {
                PageError::Query(viben_db::QueryError::NotFound { .. }) => StatusCode::NOT_FOUND,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            Ok(user_page(&state, &found, None, Some(&err), status))
        }
    }
}

/// `/users/{id}/delete`: asks first, naming what goes with the user.
pub(crate) async fn confirm_delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let found = load(&state, id).await?;
    let user = &found.user;
    let count = found.oauth_connections.len();
    let path = format!("/users/{}", url_part(&user.id));
    let content = html! {
        p.warning {
            "Delete " strong { (user.email) } " and its "
            (count) @if count == 1 { " OAuth connection" } @else { " OAuth connections" }
            "? This cannot be undone."
        }
        form method="post" action={ (path) "/delete" } {
            (form_token_field(&state))
            button #confirm.danger type="submit" { "Delete the user and " (count) " connections" }
            " "
            a href=(path) { "Cancel" }
        }
    };
    Ok(layout(&state, "Delete a user", content).into_response())
}

#[derive(Deserialize)]
pub(crate) struct NoFields {}

/// POST `/users/{id}/delete`: deletes the user and its connections in one transaction.
pub(crate) async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Protected(NoFields {}): Protected<NoFields>,
) -> Result<Response, PageError> {
    let pool = state.pool()?;
    let email = blocking(move || {
        let mut conn = pool.get()?;
        let user = users::get_by_id(&mut conn, &id)?;
        users::delete(&mut conn, &id)?;
        Ok(user.email)
    })
    .await?;
    Ok(Redirect::to(&format!("/users?deleted={}", url_part(&email))).into_response())
}
