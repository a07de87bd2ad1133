//! The LLM catalog: `~/.viben/models.yaml`.

use serde::{Deserialize, Serialize};

use crate::agent::{first_problem, validate_temperature};
use crate::{Extra, ValidationError, validate_path_id};

/// The whole of `models.yaml`: the models agents may use and the default one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[cfg_attr(
    feature = "schemars",
    derive(schemars::JsonSchema),
    schemars(rename = "ModelCatalog")
)]
pub struct ModelCatalog {
    /// The id of the model used when an agent names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The entries, in file order.
    #[serde(default)]
    pub models: Vec<ModelEntry>,
    /// Fields this version does not know, kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
    #[serde(
        flatten,
        serialize_with = "crate::extra::serialize",
        skip_deserializing
    )]
    pub extra: Extra,
}

crate::extra::record!(ModelCatalog);

/// One model in the catalog: a provider's model, or a custom one built on a `base_model`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[cfg_attr(
    feature = "schemars",
    derive(schemars::JsonSchema),
    schemars(rename = "ModelEntry")
)]
pub struct ModelEntry {
    /// The id agents refer to.
    #[cfg_attr(feature = "schemars", schemars(schema_with = "crate::schema::path_id"))]
    pub id: String,
    /// Name shown to people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The provider serving it.
    #[cfg_attr(feature = "schemars", schemars(schema_with = "crate::schema::path_id"))]
    pub provider: String,
    /// For a custom model, the provider's model it is built on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_model: Option<String>,
    /// Whether agents may use it; absent means enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Default sampling temperature for this model, 0.0 to 2.0.
    #[cfg_attr(feature = "schemars", schemars(range(min = 0.0, max = 2.0)))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Fields this version does not know, kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
    #[serde(
        flatten,
        serialize_with = "crate::extra::serialize",
        skip_deserializing
    )]
    pub extra: Extra,
}

crate::extra::record!(ModelEntry);

impl ModelEntry {
    /// An entry with only its id and provider.
    pub fn new(id: impl Into<String>, provider: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: None,
            provider: provider.into(),
            base_model: None,
            enabled: None,
            temperature: None,
            extra: Extra::new(),
        }
    }

    /// Whether agents may use it (absent means yes).
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    /// Every rule this entry breaks.
    pub fn problems(&self) -> Vec<ValidationError> {
        let mut problems = Vec::new();
        problems.extend(validate_path_id("model", &self.id).err());
        problems.extend(validate_path_id("provider", &self.provider).err());
        problems.extend(self.temperature.and_then(|t| validate_temperature(t).err()));
        problems
    }
}

impl ModelCatalog {
    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|entry| entry.id == id)
    }

    /// The entry with this id, to change it.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut ModelEntry> {
        self.models.iter_mut().find(|entry| entry.id == id)
    }

    /// The default entry, when `default` names one that exists.
    pub fn default_model(&self) -> Option<&ModelEntry> {
        self.default.as_deref().and_then(|id| self.get(id))
    }

    /// Every rule the catalog breaks: each entry's problems, duplicate ids, and a `default`
    /// that names no entry.
    pub fn problems(&self) -> Vec<ValidationError> {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for entry in &self.models {
            problems.extend(entry.problems());
            if !seen.insert(entry.id.as_str()) {
                problems.push(ValidationError::DuplicateModel {
                    id: entry.id.clone(),
                });
            }
        }
        if let Some(default) = &self.default
            && self.get(default).is_none()
        {
            problems.push(ValidationError::UnknownDefaultModel {
                id: default.clone(),
            });
        }
        problems
    }

    /// The first rule the catalog breaks, if any.
    pub fn validate(&self) -> Result<(), ValidationError> {
        first_problem(self.problems())
    }
}
