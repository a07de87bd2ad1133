//! Sessions: a page at a time, newest first, and one session's transcript, sent as it is
//! read so a session of 100,000 messages starts showing at once and never sits in memory.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, html};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::{AppState, PageError, blocking, layout, url_part, when};

const PAGE_SIZE: usize = 50;

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    after: Option<String>,
    agent: Option<String>,
}

/// `/sessions`: a page of sessions, newest first, optionally of one agent.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let store = state.store()?;
    let (agent, after) = (query.agent.clone(), query.after.clone());
    let page = blocking(move || {
        Ok(store
            .sessions()
            .page(agent.as_deref(), after.as_deref(), PAGE_SIZE)?)
    })
    .await?;
    let content = html! {
        @if page.items.is_empty() { p.empty { "No sessions." } }
        @else {
            table {
                thead { tr { th { "Title" } th { "Agent" } th { "Started" } th { "Last change" } } }
                tbody {
                    @for session in &page.items {
                        tr {
                            td { a href={ "/sessions/" (url_part(&session.id)) } { (session.title.as_deref().unwrap_or(&session.id)) } }
                            td { a href={ "/sessions?agent=" (url_part(&session.agent_id)) } { (session.agent_id) } }
                            td { (when(Some(session.created_at))) }
                            td { (when(Some(session.updated_at))) }
                        }
                    }
                }
            }
        }
        @for err in &page.errors { p.error { (viben_model::Chain(err).to_string()) } }
        @if let Some(next) = &page.next {
            p.pager { a rel="next" href={ "/sessions?after=" (url_part(next))
                @if let Some(agent) = &query.agent { "&agent=" (url_part(agent)) } } { "Older sessions →" } }
        }
    };
    Ok(layout(&state, "Sessions", content).into_response())
}

/// How many messages go into one chunk of the transcript's response.
const MESSAGES_PER_CHUNK: usize = 200;

/// `/sessions/{id}`: the session's messages in order, streamed.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let store = state.store()?;
    let target = id.clone();
    let (meta, reader) = blocking(move || {
        let meta = store.sessions().get(&target)?;
        let reader = store.sessions().read(&target)?;
        Ok((meta, reader))
    })
    .await?;
    let title = meta.title.clone().unwrap_or_else(|| meta.id.clone());
    // The page's head goes first; then the messages as they are read, in chunks; then the
    // end. A bounded channel: a slow browser slows the reading, not the memory.
    let (sender, receiver) = mpsc::channel::<String>(4);
    let head = layout_head(&state, &title, &meta.agent_id);
    tokio::task::spawn_blocking(move || {
        let mut chunk = String::new();
        let mut count = 0usize;
        for message in reader {
            let html = match message {
                Ok(message) => html! {
                    article.message.(message.role.as_str()) {
                        header { strong { (message.role) } " · " time { (when(Some(message.created_at))) } }
                        div.content { (message.content) }
                    }
                },
                Err(err) => html! { p.error { (viben_model::Chain(&err).to_string()) } },
            };
            chunk.push_str(&html.into_string());
            count += 1;
            if count.is_multiple_of(MESSAGES_PER_CHUNK)
                && sender.blocking_send(std::mem::take(&mut chunk)).is_err()
            {
                // The browser went away: stop reading.
                return;
            }
        }
        chunk.push_str(&html! { p.count { (count) " messages." } }.into_string());
        chunk.push_str("</main></body></html>");
        let _ = sender.blocking_send(chunk);
    });
    let head_chunk = futures_util::stream::once(async move { Ok::<_, Infallible>(head) });
    let rest = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), receiver))
    });
    let body = Body::from_stream(futures_util::StreamExt::chain(head_chunk, rest));
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response())
}

/// The start of the transcript page, up to where the messages go.
fn layout_head(state: &AppState, title: &str, agent: &str) -> String {
    let full = layout(
        state,
        title,
        html! { p { "Agent: " a href={ "/agents/" (url_part(agent)) } { (agent) } } (maud::PreEscaped("<!--messages-->")) },
    )
    .0;
    // The layout is cut where the messages go; its closing tags are sent last.
    match full.split_once("<!--messages-->") {
        Some((head, _)) => head.to_owned(),
        None => html! { (DOCTYPE) }.into_string(),
    }
}
