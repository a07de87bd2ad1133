//! Provider configurations: `~/.viben/providers/<name>.yaml`.

use serde::{Deserialize, Serialize};

use crate::agent::first_problem;
use crate::{Extra, Secret, ValidationError, validate_path_id};

/// How to reach one LLM provider (Anthropic, OpenAI, a local server).
///
/// The key is either inline (`api_key`, and then the store writes the file with mode 0600) or,
/// better, the name of an environment variable that holds it (`api_key_env`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ProviderConfig {
    /// The provider's name, also its file name without `.yaml`.
    pub name: String,
    /// The API's base URL; `None` means the provider's public endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The API key itself. Prefer [`ProviderConfig::api_key_env`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// The name of the environment variable that holds the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Whether agents may use it; absent means enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Fields this version does not know, kept as written.
    #[serde(
        flatten,
        serialize_with = "crate::extra::serialize",
        skip_deserializing
    )]
    pub extra: Extra,
}

crate::extra::record!(ProviderConfig);

impl ProviderConfig {
    /// A provider with only its name set.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            base_url: None,
            api_key: None,
            api_key_env: None,
            enabled: None,
            extra: Extra::new(),
        }
    }

    /// Whether agents may use it (absent means yes).
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    /// Every rule this configuration breaks.
    pub fn problems(&self) -> Vec<ValidationError> {
        let mut problems = Vec::new();
        problems.extend(validate_path_id("provider", &self.name).err());
        if self.api_key.is_some() && self.api_key_env.is_some() {
            problems.push(ValidationError::ConflictingApiKey {
                provider: self.name.clone(),
            });
        }
        if let Some(name) = &self.api_key_env
            && !is_env_var_name(name)
        {
            problems.push(ValidationError::InvalidEnvVarName { name: name.clone() });
        }
        problems
    }

    /// The first rule this configuration breaks, if any.
    pub fn validate(&self) -> Result<(), ValidationError> {
        first_problem(self.problems())
    }
}

fn is_env_var_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
