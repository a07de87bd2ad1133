//! Channels that connect agents to the outside (Telegram, Slack, ...): `~/.viben/channels.yaml`.

use serde::{Deserialize, Serialize};

use crate::agent::first_problem;
use crate::open_enum::open_enum;
use crate::{Extra, ValidationError, validate_path_id};

open_enum! {
    /// What a channel connects to. Kinds this version does not know are kept.
    pub enum ChannelKind {
        /// A Telegram bot.
        Telegram => "telegram",
        /// A Slack app.
        Slack => "slack",
        /// A Discord bot.
        Discord => "discord",
        /// A web chat.
        Web => "web",
    }
}

/// The whole of `channels.yaml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ChannelsFile {
    /// The channels, in file order.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Fields this version does not know, kept as written.
    #[serde(
        flatten,
        serialize_with = "crate::extra::serialize",
        skip_deserializing
    )]
    pub extra: Extra,
}

crate::extra::record!(ChannelsFile);

/// One channel: where messages come from and which agent answers them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Channel {
    /// The channel's id.
    pub id: String,
    /// What it connects to.
    pub kind: ChannelKind,
    /// The id of the agent that answers.
    pub agent: String,
    /// Whether it is active; absent means enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Kind-specific settings (chat ids, workspace names, ...).
    #[serde(
        default,
        skip_serializing_if = "Extra::is_empty",
        serialize_with = "crate::extra::serialize_extra",
        deserialize_with = "crate::extra::deserialize_extra"
    )]
    pub settings: Extra,
    /// Fields this version does not know, kept as written.
    #[serde(
        flatten,
        serialize_with = "crate::extra::serialize",
        skip_deserializing
    )]
    pub extra: Extra,
}

crate::extra::record!(Channel);

impl Channel {
    /// A channel with no settings.
    pub fn new(id: impl Into<String>, kind: ChannelKind, agent: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            kind,
            agent: agent.into(),
            enabled: None,
            settings: Extra::new(),
            extra: Extra::new(),
        }
    }

    /// Whether it is active (absent means yes).
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    /// Every rule this channel breaks.
    pub fn problems(&self) -> Vec<ValidationError> {
        let mut problems = Vec::new();
        problems.extend(validate_path_id("channel", &self.id).err());
        if self.kind.as_str().trim().is_empty() {
            problems.push(ValidationError::EmptyField { field: "kind" });
        }
        problems.extend(validate_path_id("agent", &self.agent).err());
        problems
    }
}

impl ChannelsFile {
    /// The channel with this id.
    pub fn get(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|channel| channel.id == id)
    }

    /// Every rule the file breaks: each channel's problems and duplicate ids.
    pub fn problems(&self) -> Vec<ValidationError> {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for channel in &self.channels {
            problems.extend(channel.problems());
            if !seen.insert(channel.id.as_str()) {
                problems.push(ValidationError::DuplicateChannel {
                    id: channel.id.clone(),
                });
            }
        }
        problems
    }

    /// The first rule the file breaks, if any.
    pub fn validate(&self) -> Result<(), ValidationError> {
        first_problem(self.problems())
    }
}
