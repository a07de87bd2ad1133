//! Resolution: from an agent to the model entry and provider configuration it runs on.

use viben_model::{AgentConfig, ModelEntry, ProviderConfig};

use crate::error::{Result, StoreError};
use crate::store::Store;

/// An agent with everything needed to call its model.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedAgent {
    /// The agent.
    pub agent: AgentConfig,
    /// Its entry in `models.yaml`.
    pub model: ModelEntry,
    /// Its provider's configuration (the key is a `Secret`, masked in `Debug`).
    pub provider: ProviderConfig,
}

/// The agent `id` with its model entry and provider configuration (see
/// [`crate::Agents::resolve`]).
pub(crate) fn resolve(store: &Store, id: &str) -> Result<ResolvedAgent> {
    let agent = store.agents().get(id)?;
    let catalog = store.models().document()?;
    let model = catalog
        .get(&agent.model)
        .cloned()
        .ok_or_else(|| StoreError::NotFound {
            kind: "model",
            id: agent.model.clone(),
        })?;
    if !model.is_enabled() {
        return Err(StoreError::Disabled {
            kind: "model",
            id: model.id,
        });
    }
    let provider = store.providers().get(&agent.provider)?;
    if !provider.is_enabled() {
        return Err(StoreError::Disabled {
            kind: "provider",
            id: provider.name,
        });
    }
    Ok(ResolvedAgent {
        agent,
        model,
        provider,
    })
}
