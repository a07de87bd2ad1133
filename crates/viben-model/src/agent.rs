//! Agent configurations: `~/.viben/agents/<id>/config.yaml`.

use serde::{Deserialize, Serialize};

use crate::{Extra, ValidationError, validate_path_id};

/// One agent, as its `config.yaml` holds it.
///
/// ```
/// let yaml = "id: my-agent\nname: My Agent\nmodel: claude-3-sonnet\nprovider: anthropic\n";
/// let agent: viben_model::AgentConfig = serde_yaml::from_str(yaml).unwrap();
/// assert!(agent.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[cfg_attr(
    feature = "schemars",
    derive(schemars::JsonSchema),
    schemars(rename = "AgentConfig")
)]
pub struct AgentConfig {
    /// The agent's id, also the name of its folder.
    #[cfg_attr(feature = "schemars", schemars(schema_with = "crate::schema::path_id"))]
    pub id: String,
    /// Name shown to people.
    #[cfg_attr(
        feature = "schemars",
        schemars(pattern(crate::schema::NOT_BLANK_PATTERN))
    )]
    pub name: String,
    /// What the agent is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The id of its entry in `models.yaml`.
    #[cfg_attr(feature = "schemars", schemars(schema_with = "crate::schema::path_id"))]
    pub model: String,
    /// The name of its provider (`providers/<provider>.yaml`).
    #[cfg_attr(feature = "schemars", schemars(schema_with = "crate::schema::path_id"))]
    pub provider: String,
    /// The system prompt sent before every conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Sampling temperature, 0.0 to 2.0.
    #[cfg_attr(feature = "schemars", schemars(range(min = 0.0, max = 2.0)))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Largest number of tokens in one reply; more than 0.
    #[cfg_attr(feature = "schemars", schemars(range(min = 1)))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Fields this version does not know, kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
    #[serde(
        flatten,
        serialize_with = "crate::extra::serialize",
        skip_deserializing
    )]
    pub extra: Extra,
}

crate::extra::record!(AgentConfig);

impl AgentConfig {
    /// An agent with the required fields and nothing else.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        model: impl Into<String>,
        provider: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            description: None,
            model: model.into(),
            provider: provider.into(),
            system_prompt: None,
            temperature: None,
            max_tokens: None,
            extra: Extra::new(),
        }
    }

    /// Every rule this configuration breaks, in field order.
    pub fn problems(&self) -> Vec<ValidationError> {
        let mut problems = Vec::new();
        problems.extend(validate_path_id("agent", &self.id).err());
        if self.name.trim().is_empty() {
            problems.push(ValidationError::EmptyField { field: "name" });
        }
        problems.extend(validate_path_id("model", &self.model).err());
        problems.extend(validate_path_id("provider", &self.provider).err());
        problems.extend(self.temperature.and_then(|t| validate_temperature(t).err()));
        problems.extend(self.max_tokens.and_then(|m| validate_max_tokens(m).err()));
        problems
    }

    /// The first rule this configuration breaks, if any.
    pub fn validate(&self) -> Result<(), ValidationError> {
        first_problem(self.problems())
    }
}

/// Checks a sampling temperature: a number from 0.0 to 2.0 (NaN is not).
pub fn validate_temperature(value: f64) -> Result<(), ValidationError> {
    if (0.0..=2.0).contains(&value) {
        Ok(())
    } else {
        Err(ValidationError::TemperatureOutOfRange { value })
    }
}

/// Checks `max_tokens`: more than 0.
pub fn validate_max_tokens(value: u32) -> Result<(), ValidationError> {
    if value > 0 {
        Ok(())
    } else {
        Err(ValidationError::MaxTokensZero)
    }
}

pub(crate) fn first_problem(problems: Vec<ValidationError>) -> Result<(), ValidationError> {
    match problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}
