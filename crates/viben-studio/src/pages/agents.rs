//! Agents of the desktop store: the list, one agent, and its `config.yaml` edited as text,
//! checked as the library checks it, with what is wrong shown at its line.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use viben_store::{Revision, Store, StoreError};

use super::{AppState, PageError, blocking, layout, url_part};
use crate::auth::{Protected, form_token_field};

/// `/agents`: every agent, and every agent folder that does not load, with why.
pub(crate) async fn list(State(state): State<Arc<AppState>>) -> Result<Response, PageError> {
    let store = state.store()?;
    let (agents, problems) = blocking(move || {
        let listing = store.agents().list()?;
        let problems: Vec<String> = listing
            .errors
            .iter()
            .map(|err| placed(&store, err))
            .collect();
        Ok((listing.items, problems))
    })
    .await?;
    let content = html! {
        @if agents.is_empty() && problems.is_empty() { p.empty { "No agents yet: " code { "viben agents create" } " makes one." } }
        @if !agents.is_empty() {
            table.agents {
                thead { tr { th { "Id" } th { "Name" } th { "Model" } th { "Provider" } th { "Temperature" } } }
                tbody {
                    @for agent in &agents {
                        tr {
                            td { a href={ "/agents/" (url_part(&agent.id)) } { (agent.id) } }
                            td { (agent.name) }
                            td { (agent.model) }
                            td { (agent.provider) }
                            td { @if let Some(t) = agent.temperature { (t) } @else { "—" } }
                        }
                    }
                }
            }
        }
        @if !problems.is_empty() {
            h2 { "Files that do not load" }
            ul.problems { @for problem in &problems { li { code { (problem) } } } }
        }
    };
    Ok(layout(&state, "Agents", content).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ShowQuery {
    saved: Option<String>,
}

/// `/agents/{id}`: the agent's file in an editor.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let store = state.store()?;
    let target = id.clone();
    let text = blocking(move || Ok(store.agents().text(&target)?)).await?;
    let notice = query.saved.is_some().then_some("Saved.");
    Ok(editor(
        &state,
        &id,
        &text.value,
        &text.revision,
        notice,
        None,
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
pub(crate) struct AgentForm {
    text: String,
    revision: String,
}

/// POST `/agents/{id}`: saves the edited text if the file has not changed since it was
/// opened; otherwise the editor comes back with the text as sent and what is wrong.
pub(crate) async fn save(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Protected(form): Protected<AgentForm>,
) -> Result<Response, PageError> {
    let store = state.store()?;
    let expected: Revision = form.revision.parse().map_err(|_| {
        PageError::BadRequest("the form's revision is damaged; open the agent again".to_owned())
    })?;
    // Browsers send text areas with CRLF line ends; the store's files use LF.
    let text = form.text.replace("\r\n", "\n");
    let (target, sent) = (id.clone(), text.clone());
    let outcome = blocking(move || {
        let result = store.agents().save_text(&target, &sent, &expected);
        Ok(result.map_err(|err| (placed(&store, &err), err)))
    })
    .await?;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/agents/{}?saved=1", url_part(&id))).into_response()),
        Err((message, err)) => {
            let status = match err {
                StoreError::Conflict { .. } => StatusCode::CONFLICT,
                StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let problem = Problem {
                message,
                hint: viben_model::Hint::hint(&err),
                line: err.line_column().0,
            };
            Ok(editor(
                &state,
                &id,
                &text,
                &expected,
                None,
                Some(&problem),
                status,
            ))
        }
    }
}

/// A store error for the page: `path:line:column: what`, the path relative to the store.
fn placed(store: &Store, err: &StoreError) -> String {
    let layout = store.layout();
    let (line, column) = err.line_column();
    let what = match err {
        StoreError::Parse { message, .. } => message.clone(),
        StoreError::Invalid { source, .. } => source.to_string(),
        other => {
            let text = viben_model::Chain(other).to_string();
            return text.replace(&format!("{}/", layout.root().display()), "");
        }
    };
    let path = err
        .path()
        .map(|path| layout.relative(path).display().to_string())
        .unwrap_or_default();
    match (line, column) {
        (Some(line), Some(column)) => format!("{path}:{line}:{column}: {what}"),
        (Some(line), None) => format!("{path}:{line}: {what}"),
        _ => format!("{path}: {what}"),
    }
}

struct Problem {
    message: String,
    hint: Option<String>,
    line: Option<usize>,
}

fn editor(
    state: &AppState,
    id: &str,
    text: &str,
    revision: &Revision,
    notice: Option<&str>,
    problem: Option<&Problem>,
    status: StatusCode,
) -> Response {
    let rows = text.lines().count().clamp(8, 40);
    let content = html! {
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        @if let Some(problem) = problem {
            div.error role="alert" {
                p.message { (problem.message) }
                @if let Some(hint) = &problem.hint { p.hint { "What to do: " (hint) } }
            }
            @if let Some(line) = problem.line { (numbered(text, line)) }
        }
        form.edit method="post" action={ "/agents/" (url_part(id)) } {
            (form_token_field(state))
            input type="hidden" name="revision" value=(revision);
            label for="text" { "agents/" (id) "/config.yaml" }
            textarea #text name="text" rows=(rows) spellcheck="false" { (text) }
            button #save type="submit" { "Save" }
        }
        p.help { "Saved only if nobody changed the file since this page was opened; checked as "
            code { "viben check" } " checks it." }
    };
    let mut response = layout(state, &format!("Agent {id}"), content).into_response();
    *response.status_mut() = status;
    response
}

/// The lines around `line`, numbered, with `line` marked: where the problem is.
fn numbered(text: &str, line: usize) -> Markup {
    let first = line.saturating_sub(3).max(1);
    html! {
        pre.excerpt {
            @for (number, content) in text.lines().enumerate().map(|(i, l)| (i + 1, l)).skip(first - 1).take(6) {
                @if number == line {
                    mark.bad-line data-line=(number) { (format!("{number:>4} | {content}")) } "\n"
                } @else {
                    (format!("{number:>4} | {content}")) "\n"
                }
            }
        }
    }
}
