//! The design document's YAML examples parse into the model types and serialize back unchanged.

use viben_model::{AgentConfig, ModelCatalog};

/// `~/.viben/agents/<id>/config.yaml`, verbatim from the design document (shared with
/// viben-store's tests).
const SEED_AGENT: &str = include_str!("fixtures/seed-agent-config.yaml");

/// `~/.viben/models.yaml`, verbatim from the design document.
const SEED_MODELS: &str = include_str!("fixtures/seed-models.yaml");

fn as_value(yaml: &str) -> serde_yaml::Value {
    serde_yaml::from_str(yaml).expect("the YAML parses")
}

#[test]
fn seed_agent_config_parses_into_agent_config() {
    let agent: AgentConfig = serde_yaml::from_str(SEED_AGENT).unwrap();
    assert_eq!(agent.id, "my-agent");
    assert_eq!(agent.name, "My Agent");
    assert_eq!(agent.description.as_deref(), Some("A helpful assistant"));
    assert_eq!(agent.model, "claude-3-sonnet");
    assert_eq!(agent.provider, "anthropic");
    assert_eq!(
        agent.system_prompt.as_deref(),
        Some("You are a helpful assistant.")
    );
    assert_eq!(agent.temperature, Some(0.7));
    assert_eq!(agent.max_tokens, Some(4096));
    assert!(agent.extra.is_empty());
    agent.validate().unwrap();
}

#[test]
fn seed_agent_config_serializes_back_with_the_same_fields_values_and_order() {
    let agent: AgentConfig = serde_yaml::from_str(SEED_AGENT).unwrap();
    let written = serde_yaml::to_string(&agent).unwrap();
    assert_eq!(as_value(&written), as_value(SEED_AGENT));
    assert_eq!(written, SEED_AGENT);
}

#[test]
fn seed_models_yaml_parses_into_model_catalog() {
    let catalog: ModelCatalog = serde_yaml::from_str(SEED_MODELS).unwrap();
    assert_eq!(catalog.default.as_deref(), Some("claude-3-sonnet"));
    assert_eq!(catalog.models.len(), 2);
    let sonnet = &catalog.models[0];
    assert_eq!(
        (sonnet.id.as_str(), sonnet.provider.as_str(), sonnet.enabled),
        ("claude-3-sonnet", "anthropic", Some(true))
    );
    let custom = catalog.get("my-custom-model").unwrap();
    assert_eq!(custom.name.as_deref(), Some("My Custom Model"));
    assert_eq!(custom.provider, "openai");
    assert_eq!(custom.base_model.as_deref(), Some("gpt-4"));
    assert_eq!(custom.temperature, Some(0.7));
    assert!(custom.is_enabled(), "absent enabled means enabled");
    assert_eq!(catalog.default_model().unwrap().id, "claude-3-sonnet");
    catalog.validate().unwrap();
}

#[test]
fn seed_models_yaml_serializes_back_with_the_same_fields_and_values() {
    let catalog: ModelCatalog = serde_yaml::from_str(SEED_MODELS).unwrap();
    let written = serde_yaml::to_string(&catalog).unwrap();
    assert_eq!(as_value(&written), as_value(SEED_MODELS));
    assert_eq!(written, SEED_MODELS);
}
