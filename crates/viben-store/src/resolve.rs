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

impl Store {
    /// The agent `id` with its model entry and provider configuration. Fails with
    /// [`StoreError::NotFound`] when the model is not in `models.yaml` or the provider has no
    /// file, and [`StoreError::Disabled`] when either is disabled.
    pub fn resolve_agent(&self, id: &str) -> Result<ResolvedAgent> {
        let agent = self.get_agent(id)?;
        let catalog = self.load_models()?;
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
        let provider = self.get_provider(&agent.provider)?;
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
}
