//! The pages: one module per part of the studio, over one layout, one error page and one way
//! to run the libraries' blocking calls.

mod agents;
mod check;
mod live;
mod overview;
mod sessions;
mod settings;
mod telemetry;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use viben_db::Pool;
use viben_model::Hint;
use viben_store::{Store, StoreError};

use crate::auth::{self, Access};

/// What every handler shares.
pub(crate) struct AppState {
    pub(crate) store: Option<Store>,
    pub(crate) pool: Option<Pool>,
    pub(crate) access: Access,
}

impl AppState {
    pub(crate) fn store(&self) -> Result<Store, PageError> {
        self.store.clone().ok_or(PageError::NoStore)
    }

    pub(crate) fn pool(&self) -> Result<Pool, PageError> {
        self.pool.clone().ok_or(PageError::NoDatabase)
    }
}

/// Every route, behind [`auth::guard`].
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(overview::page))
        .route("/studio.css", get(stylesheet))
        .route("/studio.js", get(live::script))
        .route("/events", get(live::events))
        .route("/users", get(users::list))
        .route("/users/{id}", get(users::show).post(users::save))
        .route(
            "/users/{id}/delete",
            get(users::confirm_delete).post(users::delete),
        )
        .route("/database", get(overview::database))
        .route("/agents", get(agents::list))
        .route("/agents/{id}", get(agents::show).post(agents::save))
        .route("/models", get(settings::models))
        .route("/providers", get(settings::providers))
        .route("/channels", get(settings::channels))
        .route("/sessions", get(sessions::list))
        .route("/sessions/{id}", get(sessions::show))
        .route("/telemetry", get(telemetry::page))
        .route("/check", get(check::page))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        .with_state(state)
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../assets/studio.css"),
    )
        .into_response()
}

async fn not_found() -> PageError {
    PageError::NotFound("this page".to_owned())
}

/// Runs the libraries' synchronous work (a query, a file read) on tokio's blocking threads,
/// so a slow disk or database never stalls the server's other requests.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PageError> + Send + 'static,
) -> Result<T, PageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| PageError::Internal("the request's work stopped unexpectedly".to_owned()))?
}

/// The page around every page's content.
pub(crate) fn layout(state: &AppState, title: &str, content: Markup) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · viben studio" }
                link rel="stylesheet" href="/studio.css";
                @if state.store.is_some() { script src="/studio.js" defer {} }
            }
            body data-live[state.store.is_some()] {
                header {
                    a.brand href="/" { "viben studio" }
                    nav {
                        @if state.pool.is_some() {
                            a href="/users" { "Users" }
                            a href="/database" { "Database" }
                        }
                        @if state.store.is_some() {
                            a href="/agents" { "Agents" }
                            a href="/models" { "Models" }
                            a href="/providers" { "Providers" }
                            a href="/channels" { "Channels" }
                            a href="/sessions" { "Sessions" }
                            a href="/telemetry" { "Telemetry" }
                            a href="/check" { "Check" }
                        }
                    }
                }
                main {
                    p #changed-on-disk .stale hidden { "Files changed on disk: reload to see them (your edits here are not sent yet)." }
                    h1 { (title) }
                    (content)
                }
            }
        }
    };
    Html(markup.into_string())
}

/// Why a page could not be shown, as a page that says what to do.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Refused by the guard (no token, another site).
    Refused {
        status: StatusCode,
        message: String,
        hint: String,
    },
    /// A request the studio's own pages would not send.
    BadRequest(String),
    /// No such thing.
    NotFound(String),
    /// The studio was started without a database.
    NoDatabase,
    /// The studio was started without a store.
    NoStore,
    /// The store refused.
    Store(StoreError),
    /// A query failed.
    Query(viben_db::QueryError),
    /// The database could not be reached.
    Connect(viben_db::ConnectError),
    /// Reading the migrations' state failed.
    Migration(viben_db::MigrationError),
    /// Something that should not happen.
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<viben_db::QueryError> for PageError {
    fn from(err: viben_db::QueryError) -> Self {
        Self::Query(err)
    }
}

impl From<viben_db::ConnectError> for PageError {
    fn from(err: viben_db::ConnectError) -> Self {
        Self::Connect(err)
    }
}

impl From<viben_db::MigrationError> for PageError {
    fn from(err: viben_db::MigrationError) -> Self {
        Self::Migration(err)
    }
}

impl PageError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Refused { status, .. } => *status,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) | Self::NoDatabase | Self::NoStore => StatusCode::NOT_FOUND,
            Self::Store(err) => match err {
                StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
                StoreError::Conflict { .. } | StoreError::AlreadyExists { .. } => {
                    StatusCode::CONFLICT
                }
                StoreError::Parse { .. }
                | StoreError::Invalid { .. }
                | StoreError::InvalidId { .. }
                | StoreError::IdMismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::Query(err) | Self::Migration(viben_db::MigrationError::Query(err)) => {
                query_status(err)
            }
            Self::Connect(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Migration(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What went wrong and what to do, in words for people (never a Debug form).
    pub(crate) fn message_and_hint(&self) -> (String, Option<String>) {
        match self {
            Self::Refused { message, hint, .. } => (message.clone(), Some(hint.clone())),
            Self::BadRequest(message) | Self::Internal(message) => (message.clone(), None),
            Self::NotFound(what) => (format!("{what} does not exist"), None),
            Self::NoDatabase => (
                "no database is connected".to_owned(),
                Some("start `viben studio` with --database-url or POSTGRES_URL set".to_owned()),
            ),
            Self::NoStore => ("no store is open".to_owned(), None),
            Self::Store(err) => (viben_model::Chain(err).to_string(), err.hint()),
            Self::Query(err) => (viben_model::Chain(err).to_string(), err.hint()),
            Self::Connect(err) => (viben_model::Chain(err).to_string(), err.hint()),
            Self::Migration(err) => (viben_model::Chain(err).to_string(), err.hint()),
        }
    }

    /// The error as a block inside a page (a form that is shown again with what was wrong).
    pub(crate) fn panel(&self) -> Markup {
        let (message, hint) = self.message_and_hint();
        html! {
            div.error role="alert" {
                p.message { (message) }
                @if let Some(hint) = hint { p.hint { "What to do: " (hint) } }
            }
        }
    }
}

/// The HTTP status of a failed query: 404, 409 for a taken value, 422 for invalid input, 503
/// when the connection is gone.
fn query_status(err: &viben_db::QueryError) -> StatusCode {
    match err {
        viben_db::QueryError::NotFound { .. } => StatusCode::NOT_FOUND,
        viben_db::QueryError::UniqueViolation { .. }
        | viben_db::QueryError::AlreadyExists { .. }
        | viben_db::QueryError::AlreadyLinked { .. } => StatusCode::CONFLICT,
        viben_db::QueryError::Validation(_)
        | viben_db::QueryError::InvalidId { .. }
        | viben_db::QueryError::NulByte { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        viben_db::QueryError::ConnectionLost { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { "Error · viben studio" }
                    link rel="stylesheet" href="/studio.css";
                }
                body { main { h1 { "Something is wrong" } (self.panel()) p { a href="/" { "Back to the overview" } } } }
            }
        };
        let mut response = (status, Html(body.into_string())).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        response
    }
}

/// A date and time for people, or a dash.
pub(crate) fn when(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".to_owned())
}

/// Encodes text for a URL's path segment or query value.
pub(crate) fn url_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
