//! Provider configurations: `~/.viben/providers/<name>.yaml`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::agent::first_problem;
use crate::{Extra, Secret, ValidationError, validate_path_id};

/// How to reach one LLM provider (Anthropic, OpenAI, a local server).
///
/// The key is either inline (`api_key`, and then the store writes the file with mode 0600) or,
/// better, the name of an environment variable that holds it (`api_key_env`).
///
/// `Debug` shows the [`ProviderConfig::redacted`] form, so no log line prints a credential.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[cfg_attr(
    feature = "schemars",
    derive(schemars::JsonSchema),
    schemars(rename = "ProviderConfig")
)]
pub struct ProviderConfig {
    /// The provider's name, also its file name without `.yaml`.
    #[cfg_attr(feature = "schemars", schemars(schema_with = "crate::schema::path_id"))]
    pub name: String,
    /// The API's base URL; `None` means the provider's public endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The API key itself. Prefer [`ProviderConfig::api_key_env`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// The name of the environment variable that holds the API key.
    #[cfg_attr(
        feature = "schemars",
        schemars(pattern(crate::schema::ENV_VAR_PATTERN))
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Whether agents may use it; absent means enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Fields this version does not know, kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
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

    /// Keeps the key inline (`api_key`) and clears `api_key_env`: a provider has one source
    /// for its key, and [`ProviderConfig::problems`] refuses both
    /// ([`ValidationError::ConflictingApiKey`]).
    pub fn set_api_key(&mut self, key: Secret) {
        self.api_key = Some(key);
        self.api_key_env = None;
    }

    /// Takes the key from the environment variable `name` (`api_key_env`) and clears the
    /// inline `api_key` (see [`ProviderConfig::set_api_key`]). A `name` that is not a variable
    /// name is refused by [`ProviderConfig::problems`] without being echoed.
    pub fn set_api_key_env(&mut self, name: impl Into<String>) {
        self.api_key_env = Some(name.into());
        self.api_key = None;
    }

    /// Whether agents may use it (absent means yes).
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    /// A copy fit to show to people: the inline key, a password or token in `base_url`, and
    /// secret-looking fields (`headers: {Authorization: …}`, `x-api-key`) masked by the one rule
    /// in [`crate::redact`]. Serialize this, never the original, for output.
    pub fn redacted(&self) -> Self {
        let mut extra = self.extra.clone();
        crate::redact::redact_mapping(&mut extra);
        Self {
            name: self.name.clone(),
            base_url: self
                .base_url
                .as_deref()
                .map(|url| crate::redact::redact_text(url).into_owned()),
            api_key: self.api_key.as_ref().map(|_| Secret::new(Secret::MASK)),
            api_key_env: self.api_key_env.clone(),
            enabled: self.enabled,
            extra,
        }
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
            // What is not a variable name is often the key itself, pasted in the wrong place:
            // the error must not print it.
            problems.push(ValidationError::InvalidEnvVarName {
                name: Secret::MASK.to_owned(),
            });
        }
        problems
    }

    /// The first rule this configuration breaks, if any.
    pub fn validate(&self) -> Result<(), ValidationError> {
        first_problem(self.problems())
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.redacted();
        f.debug_struct("ProviderConfig")
            .field("name", &shown.name)
            .field("base_url", &shown.base_url)
            .field("api_key", &shown.api_key)
            .field("api_key_env", &shown.api_key_env)
            .field("enabled", &shown.enabled)
            .field("extra", &shown.extra)
            .finish()
    }
}

/// Whether `name` can be exported by a POSIX shell (letters, digits, `_`, no leading digit).
pub fn is_env_var_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_one_key_source_clears_the_other_so_the_provider_stays_valid() {
        let mut provider = ProviderConfig::new("p");
        provider.set_api_key(Secret::new("sk-inline"));
        provider.set_api_key_env("P_KEY");
        assert_eq!(provider.api_key, None);
        assert_eq!(provider.api_key_env.as_deref(), Some("P_KEY"));
        provider.set_api_key(Secret::new("sk-inline"));
        assert_eq!(provider.api_key_env, None);
        assert!(provider.problems().is_empty());
        provider.api_key_env = Some("P_KEY".into());
        assert!(matches!(
            provider.problems().as_slice(),
            [ValidationError::ConflictingApiKey { .. }]
        ));
    }

    #[test]
    fn debug_masks_every_credential_the_redact_rule_knows() {
        let mut provider = ProviderConfig::new("p");
        provider.base_url = Some("https://me:hunter2@example.com".into());
        provider.api_key = Some(Secret::new("sk-inline-key"));
        provider.extra.insert(
            "headers".into(),
            serde_yaml::from_str("{Authorization: Bearer abcdefghij, x-api-key: xk-123}").unwrap(),
        );
        let shown = format!("{provider:?} {:?}", provider.redacted());
        for secret in ["hunter2", "sk-inline-key", "abcdefghij", "xk-123"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert!(shown.contains("https://me:***@example.com"), "{shown}");
    }

    #[test]
    fn an_api_key_pasted_as_the_variable_name_is_not_echoed() {
        let mut provider = ProviderConfig::new("p");
        provider.api_key_env = Some("sk-ant-api03-secret".into());
        let message = provider.validate().unwrap_err().to_string();
        assert!(!message.contains("sk-ant"), "{message}");
    }
}
