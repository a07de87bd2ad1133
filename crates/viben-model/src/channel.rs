//! Channels that connect agents to the outside (Telegram, Slack, ...): `~/.viben/channels.yaml`.

use std::fmt;

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
///
/// `Debug` masks secrets, as [`Channel`]'s does.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[cfg_attr(
    feature = "schemars",
    derive(schemars::JsonSchema),
    schemars(rename = "ChannelsFile")
)]
pub struct ChannelsFile {
    /// The channels, in file order.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Fields this version does not know, kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
    #[serde(
        flatten,
        serialize_with = "crate::extra::serialize",
        skip_deserializing
    )]
    pub extra: Extra,
}

crate::extra::record!(ChannelsFile);

/// One channel: where messages come from and which agent answers them.
///
/// `Debug` shows the [`Channel::redacted`] form: settings hold bot tokens and webhook URLs.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[cfg_attr(
    feature = "schemars",
    derive(schemars::JsonSchema),
    schemars(rename = "Channel")
)]
pub struct Channel {
    /// The channel's id.
    #[cfg_attr(feature = "schemars", schemars(schema_with = "crate::schema::path_id"))]
    pub id: String,
    /// What it connects to.
    pub kind: ChannelKind,
    /// The id of the agent that answers.
    #[cfg_attr(feature = "schemars", schemars(schema_with = "crate::schema::path_id"))]
    pub agent: String,
    /// Whether it is active; absent means enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Kind-specific settings (chat ids, workspace names, ...).
    #[cfg_attr(
        feature = "schemars",
        schemars(schema_with = "crate::schema::settings")
    )]
    #[serde(
        default,
        skip_serializing_if = "Extra::is_empty",
        serialize_with = "crate::extra::serialize_extra",
        deserialize_with = "crate::extra::deserialize_extra"
    )]
    pub settings: Extra,
    /// Fields this version does not know, kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
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

    /// A copy fit to show to people: tokens, secrets and webhook URLs in `settings` and unknown
    /// fields masked by the one rule in [`crate::redact`].
    pub fn redacted(&self) -> Self {
        let mut shown = self.clone();
        crate::redact::redact_mapping(&mut shown.settings);
        crate::redact::redact_mapping(&mut shown.extra);
        shown
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

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.redacted();
        f.debug_struct("Channel")
            .field("id", &shown.id)
            .field("kind", &shown.kind)
            .field("agent", &shown.agent)
            .field("enabled", &shown.enabled)
            .field("settings", &shown.settings)
            .field("extra", &shown.extra)
            .finish()
    }
}

impl fmt::Debug for ChannelsFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut extra = self.extra.clone();
        crate::redact::redact_mapping(&mut extra);
        f.debug_struct("ChannelsFile")
            .field("channels", &self.channels)
            .field("extra", &extra)
            .finish()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_tokens_and_webhook_urls_in_settings() {
        let mut channel = Channel::new("c", ChannelKind::Slack, "a");
        channel.settings = serde_yaml::from_str(
            "bot_token: xoxb-123\nwebhook_url: https://hooks.slack.com/services/T1/B2/SECRETPART\nchannel: general\n",
        )
        .unwrap();
        let shown = format!("{channel:?}");
        assert!(!shown.contains("xoxb-123"), "{shown}");
        assert!(!shown.contains("SECRETPART"), "{shown}");
        assert!(shown.contains("general"), "{shown}");
        assert!(shown.contains("hooks.slack.com/services/***"), "{shown}");

        let mut file = ChannelsFile {
            channels: vec![channel],
            ..ChannelsFile::default()
        };
        file.extra
            .insert("webhook_secret".into(), "filesecret".into());
        let shown = format!("{file:?}");
        assert!(
            !shown.contains("xoxb-123") && !shown.contains("filesecret"),
            "{shown}"
        );
    }
}
