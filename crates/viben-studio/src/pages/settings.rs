//! The store's settings files, read-only here: the model catalog, the providers (keys
//! masked: a key never reaches a page), and the channels.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::{AppState, PageError, blocking, layout};

/// `/models`: the catalog and its default.
pub(crate) async fn models(State(state): State<Arc<AppState>>) -> Result<Response, PageError> {
    let store = state.store()?;
    let catalog = blocking(move || Ok(store.models().document()?)).await?;
    let content = html! {
        p { "Default: " @if let Some(id) = &catalog.default { strong { (id) } } @else { "none" } }
        table {
            thead { tr { th { "Id" } th { "Name" } th { "Provider" } th { "Enabled" } } }
            tbody {
                @for entry in &catalog.models {
                    tr {
                        td { (entry.id) }
                        td { (entry.name.as_deref().unwrap_or("—")) }
                        td { (entry.provider) }
                        td { @if entry.enabled.unwrap_or(true) { "yes" } @else { "no" } }
                    }
                }
            }
        }
    };
    Ok(layout(&state, "Models", content).into_response())
}

/// `/providers`: each provider, with where its key comes from and never the key.
pub(crate) async fn providers(State(state): State<Arc<AppState>>) -> Result<Response, PageError> {
    let store = state.store()?;
    let listing = blocking(move || Ok(store.providers().list()?)).await?;
    let content = html! {
        table {
            thead { tr { th { "Name" } th { "Base URL" } th { "API key" } th { "Enabled" } } }
            tbody {
                @for provider in &listing.items {
                    tr {
                        td { (provider.name) }
                        td { (provider.base_url.as_deref().unwrap_or("—")) }
                        td {
                            @if let Some(variable) = &provider.api_key_env { "from $" (variable) }
                            @else if provider.api_key.is_some() { "in the file (hidden)" }
                            @else { "none" }
                        }
                        td { @if provider.enabled.unwrap_or(true) { "yes" } @else { "no" } }
                    }
                }
            }
        }
        @for err in &listing.errors { p.error { (viben_model::Chain(err).to_string()) } }
    };
    Ok(layout(&state, "Providers", content).into_response())
}

/// `/channels`: each channel and the agent it routes to; settings that hold secrets are
/// masked by the one rule ([`viben_model::Channel::redacted`]).
pub(crate) async fn channels(State(state): State<Arc<AppState>>) -> Result<Response, PageError> {
    let store = state.store()?;
    let file = blocking(move || Ok(store.channels().document()?)).await?;
    let content = html! {
        table {
            thead { tr { th { "Id" } th { "Kind" } th { "Agent" } th { "Enabled" } th { "Settings" } } }
            tbody {
                @for channel in &file.channels {
                    @let shown = channel.redacted();
                    tr {
                        td { (shown.id) }
                        td { (shown.kind) }
                        td { (shown.agent) }
                        td { @if shown.enabled.unwrap_or(true) { "yes" } @else { "no" } }
                        td { @for (key, value) in shown.settings.iter() { code { (value_text(key)) ": " (value_text(value)) } " " } }
                    }
                }
            }
        }
    };
    Ok(layout(&state, "Channels", content).into_response())
}

/// A settings value on one line: text as it is, anything else as compact YAML.
fn value_text(value: &serde_yaml::Value) -> String {
    match value {
        serde_yaml::Value::String(text) => text.clone(),
        other => serde_yaml::to_string(other)
            .map(|text| text.trim_end().to_owned())
            .unwrap_or_default(),
    }
}
