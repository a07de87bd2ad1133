//! Conversation sessions: `sessions/<id>/session.yaml` and its `messages.jsonl` log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::open_enum::open_enum;
use crate::{Extra, JsonFields, ValidationError, validate_path_id};

/// A session's metadata, as `session.yaml` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[cfg_attr(
    feature = "schemars",
    derive(schemars::JsonSchema),
    schemars(rename = "SessionMeta")
)]
pub struct SessionMeta {
    /// The session's id, also its folder name.
    #[cfg_attr(feature = "schemars", schemars(schema_with = "crate::schema::path_id"))]
    pub id: String,
    /// The agent the session talks to.
    #[cfg_attr(feature = "schemars", schemars(schema_with = "crate::schema::path_id"))]
    pub agent_id: String,
    /// A title for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// When the session began (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// When its metadata last changed (RFC 3339, UTC).
    pub updated_at: DateTime<Utc>,
    /// Fields this version does not know, kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
    #[serde(
        flatten,
        serialize_with = "crate::extra::serialize",
        skip_deserializing
    )]
    pub extra: Extra,
}

crate::extra::record!(SessionMeta);

impl SessionMeta {
    /// A new session for `agent_id`, with a new id and both timestamps set to now.
    pub fn new(agent_id: impl Into<String>, title: Option<String>) -> Self {
        let now = Utc::now();
        Self {
            id: crate::new_id(),
            agent_id: agent_id.into(),
            title,
            created_at: now,
            updated_at: now,
            extra: Extra::new(),
        }
    }

    /// Checks that the session and agent ids are safe path segments.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_path_id("session", &self.id)?;
        validate_path_id("agent", &self.agent_id)
    }
}

open_enum! {
    /// Who wrote a message. Roles this version does not know are kept.
    pub enum MessageRole {
        /// The person.
        User => "user",
        /// The agent's model.
        Assistant => "assistant",
        /// The system prompt or an instruction.
        System => "system",
        /// The result of a tool call.
        Tool => "tool",
    }
}

/// One line of `messages.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Message {
    /// Who wrote it.
    pub role: MessageRole,
    /// The text.
    pub content: String,
    /// When it was written (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// An id, when the writer gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Everything else (token counts, tool calls, ...), kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
    #[serde(flatten)]
    pub extra: JsonFields,
}

impl Message {
    /// A message written now.
    pub fn new(role: MessageRole, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            created_at: Utc::now(),
            id: None,
            extra: JsonFields::new(),
        }
    }
}
