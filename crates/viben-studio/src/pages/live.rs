//! Pages that follow the store: `/events` streams the store's change events (server-sent
//! events, from [`viben_store::Store::watch`]); `/studio.js` reloads a page when one comes,
//! unless a form on it holds unsaved edits, in which case it says so instead. Without
//! JavaScript, pages are simply read as they were when loaded.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::{AppState, PageError};

/// `/events`: one `change` event per change the store's watcher reports, with the event's
/// name and id (never a file's content) as JSON.
pub(crate) async fn events(State(state): State<Arc<AppState>>) -> Result<Response, PageError> {
    let store = state.store()?;
    let (sender, receiver) = mpsc::channel::<String>(16);
    // The watcher is synchronous: it lives on a blocking thread, which ends when the page
    // goes away (the channel closes) or the watch cannot go on.
    let started = tokio::task::spawn_blocking(move || {
        let watcher = match store.watch() {
            Ok(watcher) => watcher,
            Err(err) => return Err(PageError::Store(err)),
        };
        std::thread::spawn(move || {
            while !sender.is_closed() {
                let Some(result) = watcher.recv_timeout(Duration::from_millis(500)) else {
                    continue;
                };
                let (event, problem) = match &result {
                    Ok(event) => (event, None),
                    Err(viben_store::WatchError::Unreadable { event, error }) => {
                        (event, Some(viben_model::Chain(&**error).to_string()))
                    }
                    Err(_) => {
                        if sender
                            .blocking_send("{\"event\":\"rescan\"}".to_owned())
                            .is_err()
                        {
                            return;
                        }
                        continue;
                    }
                };
                let data = serde_json::json!({
                    "event": event.name(),
                    "id": event.id(),
                    "problem": problem,
                });
                if sender.blocking_send(data.to_string()).is_err() {
                    return;
                }
            }
        });
        Ok(())
    })
    .await
    .map_err(|_| PageError::Internal("the watch could not start".to_owned()))?;
    started?;
    // First `ready`: from here on, every change is reported.
    let ready = futures_util::stream::once(async {
        Ok::<_, Infallible>(Event::default().event("ready").data("{}"))
    });
    let changes = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let data = receiver.recv().await?;
        Some((
            Ok::<_, Infallible>(Event::default().event("change").data(data)),
            receiver,
        ))
    });
    let stream = futures_util::StreamExt::chain(ready, changes);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// `/studio.js`: the only script, and pages work without it.
pub(crate) async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/studio.js"),
    )
        .into_response()
}
