//! A small HTTP service over viben-db: axum handlers awaiting the synchronous queries through
//! `AsyncPool::run`, and every error mapped to an HTTP status with a JSON body.
//!
//! | route                                                 | does                               |
//! |-------------------------------------------------------|------------------------------------|
//! | `GET    /users/{id}`                                  | the user with its OAuth connections |
//! | `POST   /users`                                       | create (`email`, `username`, ...)  |
//! | `PATCH  /users/{id}`                                  | update the fields given (`null` clears) |
//! | `DELETE /users/{id}`                                  | delete, with its connections       |
//! | `POST   /users/{id}/oauth-connections`                | link (`provider`, `provider_id`, `access_token`) |
//! | `DELETE /users/{id}/oauth-connections/{connection}`   | unlink                             |
//!
//! Errors: 404 for a missing user or connection; 409 naming the `field` that is taken; 422 for
//! invalid input, with the validation message; 503 with `Retry-After` while the database is
//! unreachable; 500 (details in the log only) for anything else. Bodies are JSON:
//! `{"error": "...", "hint": "...", "field": "..."}`. Access tokens are stored but never sent
//! back (`has_access_token` says whether there is one).
//!
//! Listens on `--listen ADDR` (else `ACCOUNTS_LISTEN`, else 127.0.0.1:3000); port 0 picks a free
//! port, and the address is printed as `listening on http://ADDR`. Ctrl-C or SIGTERM stops it
//! after the requests in flight. Database: `POSTGRES_URL` / `DATABASE_URL` when set, else a
//! throwaway local server; migrations are applied at start. `RUST_LOG=info` shows viben-db's
//! events on stderr.
//!
//! Run it with `cargo run --example accounts_service -- --listen 127.0.0.1:3000`, then for
//! example `curl -X POST localhost:3000/users -H 'content-type: application/json'
//! -d '{"email": "ada@example.com", "username": "ada"}'`.

#[path = "support/database.rs"]
mod database;
#[path = "support/exit.rs"]
mod exit;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use exit::Outcome;
use viben::db::{AsyncPool, PoolBuilder, QueryError, RunError, migrate, oauth_connections, users};
use viben::model::{
    Chain, Hint, NewOAuthConnection, NewUser, OAuthConnection, OAuthProvider, Role, Secret, User,
    UserPatch, UserWithConnections, ValidationError,
};

/// Where the service listens when neither `--listen` nor `ACCOUNTS_LISTEN` says.
const DEFAULT_LISTEN: &str = "127.0.0.1:3000";

/// What a client waits before trying again while the database is unreachable (seconds).
const RETRY_AFTER_SECS: u64 = 1;

fn main() -> ExitCode {
    exit::finish(run())
}

fn run() -> Outcome {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let listen = listen_address()?;
    let database = database::database()?;
    // A request should fail fast (503) rather than hang while the database is away: the
    // checkout waits at most 2 s, trying a server that refuses connections within it.
    let pool = PoolBuilder::default()
        .url(database.url.expose())
        .max_size(16)
        .connect_timeout(Duration::from_secs(2))
        .checkout_timeout(Duration::from_secs(2))
        .build()?;
    migrate::run_pending(&mut *pool.get()?)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the tokio runtime: {e}"))?;
    runtime.block_on(serve(listen, AsyncPool::from(pool)))?;
    println!("shut down");
    Ok(())
}

/// `--listen ADDR`, else `ACCOUNTS_LISTEN`, else [`DEFAULT_LISTEN`].
fn listen_address() -> Result<SocketAddr, String> {
    let mut args = std::env::args().skip(1);
    let given = match (args.next().as_deref(), args.next()) {
        (Some("--listen"), Some(addr)) => addr,
        (None, _) => std::env::var("ACCOUNTS_LISTEN").unwrap_or_else(|_| DEFAULT_LISTEN.into()),
        _ => {
            return Err("usage: accounts_service [--listen ADDR] (for example \
                        --listen 127.0.0.1:0 for a free port)"
                .to_owned());
        }
    };
    given.parse().map_err(|_| {
        format!(
            "the listen address {given:?} is not an IP address and port; give one such as \
             127.0.0.1:3000 (port 0 picks a free one)"
        )
    })
}

/// Serves until Ctrl-C or SIGTERM, then lets the requests in flight finish.
async fn serve(listen: SocketAddr, pool: AsyncPool) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    // Tests and scripts read the port from this line when they asked for port 0.
    println!("listening on http://{bound}");
    axum::serve(listener, router(pool))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("the server stopped: {e}"))
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and Kubernetes send).
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    println!("shutting down: finishing the requests in flight");
}

/// The routes, over one pool.
pub(crate) fn router(pool: AsyncPool) -> Router {
    Router::new()
        .route("/users", post(create_user))
        .route(
            "/users/{id}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route("/users/{id}/oauth-connections", post(link))
        .route(
            "/users/{id}/oauth-connections/{connection_id}",
            delete(unlink),
        )
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no such route")
                .hint("see the routes at the top of examples/accounts_service.rs")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            )
        })
        .with_state(pool)
}

async fn get_user(
    State(pool): State<AsyncPool>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let found = pool
        .run(move |conn| users::get_with_connections(conn, &id))
        .await?;
    Ok(Json(user_with_connections_json(&found)))
}

/// The body of `POST /users`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    email: String,
    username: String,
    display_name: Option<String>,
    avatar_url: Option<String>,
    github_username: Option<String>,
    email_verified: Option<bool>,
    role: Option<String>,
}

async fn create_user(
    State(pool): State<AsyncPool>,
    body: Result<Json<CreateUser>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let new = NewUser {
        display_name: body.display_name,
        avatar_url: body.avatar_url,
        github_username: body.github_username,
        email_verified: body.email_verified,
        role: body.role.as_deref().map(Role::from),
        ..NewUser::new(body.email, body.username)
    };
    let user = pool.run(move |conn| users::create(conn, &new)).await?;
    let location = HeaderValue::try_from(format!("/users/{}", user.id)).ok();
    let mut response = (StatusCode::CREATED, Json(user_json(&user))).into_response();
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The body of `PATCH /users/{id}`: absent fields stay as they are, `null` clears the nullable
/// ones.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateUser {
    email: Option<String>,
    username: Option<String>,
    #[serde(default, deserialize_with = "present")]
    display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    avatar_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    github_username: Option<Option<String>>,
    email_verified: Option<bool>,
    role: Option<String>,
}

/// A field that is in the body: `Some(None)` for `null`, `Some(Some(v))` for a value (an
/// absent one stays `None` through `#[serde(default)]`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

async fn update_user(
    State(pool): State<AsyncPool>,
    Path(id): Path<String>,
    body: Result<Json<UpdateUser>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    let patch = UserPatch {
        email: body.email,
        username: body.username,
        display_name: body.display_name,
        avatar_url: body.avatar_url,
        github_username: body.github_username,
        email_verified: body.email_verified,
        role: body.role.as_deref().map(Role::from),
    };
    let user = pool
        .run(move |conn| users::update(conn, &id, &patch))
        .await?;
    Ok(Json(user_json(&user)))
}

async fn delete_user(
    State(pool): State<AsyncPool>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    pool.run(move |conn| users::delete(conn, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /users/{id}/oauth-connections`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    provider: String,
    provider_id: String,
    access_token: Option<String>,
}

async fn link(
    State(pool): State<AsyncPool>,
    Path(user_id): Path<String>,
    body: Result<Json<Link>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let mut new = NewOAuthConnection::new(
        user_id.clone(),
        OAuthProvider::from(body.provider.as_str()),
        body.provider_id,
    );
    new.access_token = body.access_token.map(Secret::new);
    // The user is read first so that a missing one is a 404 naming it, not a foreign key error.
    let connection = pool
        .transaction(move |conn| {
            users::get_by_id(conn, &user_id)?;
            oauth_connections::link(conn, &new)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(connection_json(&connection))).into_response())
}

async fn unlink(
    State(pool): State<AsyncPool>,
    Path((user_id, connection_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    pool.transaction(move |conn| {
        let connection = oauth_connections::get(conn, &connection_id)?;
        // Another user's connection is not found under this user.
        if connection.user_id.as_deref() != Some(user_id.as_str()) {
            return Err(QueryError::NotFound {
                kind: "oauth connection with id",
                id: connection_id,
            });
        }
        oauth_connections::unlink(conn, &connection_id)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "username": user.username,
        "display_name": user.display_name,
        "avatar_url": user.avatar_url,
        "github_username": user.github_username,
        "email_verified": user.email_verified,
        "role": user.role.as_str(),
        "created_at": user.created_at.map(|t| t.to_rfc3339()),
        "updated_at": user.updated_at.map(|t| t.to_rfc3339()),
    })
}

/// A connection as clients see it: whether it has an access token, never the token.
fn connection_json(connection: &OAuthConnection) -> Value {
    json!({
        "id": connection.id,
        "user_id": connection.user_id,
        "provider": connection.provider.as_str(),
        "provider_id": connection.provider_id,
        "has_access_token": connection.access_token.is_some(),
        "created_at": connection.created_at.map(|t| t.to_rfc3339()),
        "updated_at": connection.updated_at.map(|t| t.to_rfc3339()),
    })
}

fn user_with_connections_json(found: &UserWithConnections) -> Value {
    let mut user = user_json(&found.user);
    user["oauth_connections"] = found
        .oauth_connections
        .iter()
        .map(connection_json)
        .collect();
    user
}

/// An error response: a status and `{"error", "hint"?, "field"?}`, with `Retry-After` for a 503.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
    hint: Option<String>,
    field: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            hint: None,
            field: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A 500: the details go to the log, not to the client.
    fn internal(error: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(target: "accounts_service", error = %Chain(error), "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            .hint("retry later; the service's log has the details")
    }
}

impl From<RunError<QueryError>> for ApiError {
    fn from(error: RunError<QueryError>) -> Self {
        let lost = |e: &QueryError| {
            matches!(
                e,
                QueryError::ConnectionLost { .. } | QueryError::StatementTimeout { .. }
            )
        };
        if error.unavailable(lost) {
            tracing::warn!(
                target: "accounts_service",
                error = %Chain(&error),
                "the database is unavailable"
            );
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable",
            )
            .hint(format!(
                "retry in {RETRY_AFTER_SECS} s (Retry-After); the service reconnects by itself"
            ));
        }
        match error {
            RunError::Failed(error) => Self::from(error),
            other => Self::internal(&other),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> Self {
        let (status, field) = match &error {
            QueryError::NotFound { .. } => (StatusCode::NOT_FOUND, None),
            QueryError::AlreadyExists { field, .. } => {
                (StatusCode::CONFLICT, Some((*field).to_owned()))
            }
            QueryError::UniqueViolation { columns, .. } => {
                (StatusCode::CONFLICT, Some(columns.clone()))
            }
            QueryError::AlreadyLinked { .. } => {
                (StatusCode::CONFLICT, Some("provider_id".to_owned()))
            }
            QueryError::NulByte { field } => {
                (StatusCode::UNPROCESSABLE_ENTITY, Some((*field).to_owned()))
            }
            QueryError::InvalidId { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some("id".into())),
            QueryError::Validation(invalid) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                invalid_field(invalid).map(str::to_owned),
            ),
            _ => return Self::internal(&error),
        };
        // Every 422 says what to do, even for a rule whose error carries no hint.
        let hint = error.hint().or_else(|| {
            (status == StatusCode::UNPROCESSABLE_ENTITY).then(|| {
                let field = field.as_deref().unwrap_or("the value");
                format!("correct {field} and send the request again")
            })
        });
        Self {
            status,
            message: error.to_string(),
            hint,
            field,
        }
    }
}

/// The request field a validation error is about.
fn invalid_field(error: &ValidationError) -> Option<&'static str> {
    match error {
        ValidationError::InvalidEmail { .. } => Some("email"),
        ValidationError::InvalidUsername { .. } => Some("username"),
        ValidationError::EmptyField { field } => Some(field),
        _ => None,
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        // axum's texts name the problem and where (`missing field `email``, a syntax error's
        // line and column); only a value of the wrong type is quoted, the client's own input.
        Self::new(rejection.status(), rejection.body_text()).hint(
            "send a JSON object with the fields this route takes (Content-Type: application/json)",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("error".into(), self.message.into());
        if let Some(hint) = self.hint {
            body.insert("hint".into(), hint.into());
        }
        if let Some(field) = self.field {
            body.insert("field".into(), field.into());
        }
        let mut response = (self.status, Json(Value::Object(body))).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        response
    }
}
