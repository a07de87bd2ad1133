//! The front page (both halves at a glance) and the database page (migrations and drift).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use viben_db::migrate;

use super::{AppState, PageError, blocking, layout};

/// `/`: what the studio shows, with counts and the number of problems on each side.
pub(crate) async fn page(State(state): State<Arc<AppState>>) -> Result<Response, PageError> {
    let store_summary = match state.store.clone() {
        Some(store) => Some(
            blocking(move || {
                let agents = store.agents().list()?.items.len();
                let problems = store.check().len();
                Ok((
                    store.layout().root().display().to_string(),
                    agents,
                    problems,
                ))
            })
            .await,
        ),
        None => None,
    };
    let database_summary = match state.pool.clone() {
        Some(pool) => Some(
            blocking(move || {
                let mut conn = pool.get()?;
                let users = viben_db::users::count(&mut conn)?;
                let status = migrate::status(&mut conn)?;
                Ok((users, status.applied.len(), status.pending.len()))
            })
            .await,
        ),
        None => None,
    };
    let content = html! {
        div.cards {
            @if let Some(summary) = &database_summary {
                section.card {
                    h2 { "Accounts database" }
                    @match summary {
                        Ok((users, applied, pending)) => {
                            p { a href="/users" { (users) " users" } }
                            p { a href="/database" { (applied) " migrations applied, " (pending) " pending" } }
                        }
                        Err(err) => (err.panel()),
                    }
                }
            }
            @if let Some(summary) = &store_summary {
                section.card {
                    h2 { "Desktop store" }
                    @match summary {
                        Ok((root, agents, problems)) => {
                            p { code { (root) } }
                            p { a href="/agents" { (agents) " agents" } }
                            p { a href="/check" { @if *problems == 0 { "No problems" } @else { (problems) " problems" } } }
                        }
                        Err(err) => (err.panel()),
                    }
                }
            }
        }
    };
    Ok(layout(&state, "Overview", content).into_response())
}

/// `/database`: applied and pending migrations, and how the live schema differs from the
/// migrations' with the SQL that repairs each difference.
pub(crate) async fn database(State(state): State<Arc<AppState>>) -> Result<Response, PageError> {
    let pool = state.pool()?;
    let (status, differences) = blocking(move || {
        let mut conn = pool.get()?;
        let status = migrate::status(&mut conn)?;
        let expected = migrate::MIGRATIONS.expected_schema(&mut conn)?;
        let differences: Vec<(String, Option<String>)> = migrate::check_drift(&mut conn)?
            .into_iter()
            .map(|difference| (difference.to_string(), difference.repair_sql(&expected)))
            .collect();
        Ok((status, differences))
    })
    .await?;
    let content = html! {
        h2 { "Migrations" }
        ul.migrations {
            @for version in &status.applied { li { code { (version) } " applied" } }
            @for version in &status.pending { li.pending { code { (version) } " pending: " code { "viben db migrate" } " applies it" } }
        }
        h2 { "Drift" }
        @if differences.is_empty() {
            p.ok { "The live schema is the migrations' schema." }
        } @else {
            p { (differences.len()) " differences. " code { "viben db push" } " shows and applies the fixes in one transaction." }
            ul.differences {
                @for (difference, repair) in &differences {
                    li { (difference) @if let Some(sql) = repair { pre { code { (sql) } } } }
                }
            }
        }
    };
    Ok(layout(&state, "Database", content).into_response())
}
