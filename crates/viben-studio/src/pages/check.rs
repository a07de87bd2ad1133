//! The whole-store check, each problem linked to the page of its item.

use std::path::{Component, Path};
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use viben_store::Severity;

use super::{AppState, PageError, blocking, layout, url_part};

/// `/check`: every problem `viben check` would print, with its place and what to do.
pub(crate) async fn page(State(state): State<Arc<AppState>>) -> Result<Response, PageError> {
    let store = state.store()?;
    let problems = blocking(move || Ok(store.check())).await?;
    let content = html! {
        @if problems.is_empty() {
            p.ok { "No problems." }
        } @else {
            ul.problems {
                @for problem in &problems {
                    li.(match problem.severity { Severity::Error => "problem-error", _ => "problem-warning" }) {
                        @let place = problem.to_string();
                        @match item_link(&problem.path) {
                            Some(link) => a href=(link) { code { (place) } },
                            None => code { (place) },
                        }
                        @if let Some(hint) = &problem.hint { br; span.hint { "What to do: " (hint) } }
                    }
                }
            }
        }
    };
    Ok(layout(&state, "Check", content).into_response())
}

/// The studio page of the item a store path belongs to.
fn item_link(path: &Path) -> Option<String> {
    let parts: Vec<&str> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect();
    match parts.as_slice() {
        ["agents", id, ..] => Some(format!("/agents/{}", url_part(id))),
        ["sessions", id, ..] => Some(format!("/sessions/{}", url_part(id))),
        ["providers", ..] => Some("/providers".to_owned()),
        ["models.yaml"] => Some("/models".to_owned()),
        ["channels.yaml"] => Some("/channels".to_owned()),
        ["telemetry", ..] => Some("/telemetry".to_owned()),
        _ => None,
    }
}
