//! JSON Schemas of the store's files, generated from the types that read them (feature
//! `schemars`), so editors can offer completion and flag mistakes while a person types.
//!
//! The schemas describe what the files really accept, not an idealized form: every record keeps
//! the fields this version does not know, so unknown keys are allowed; open enums (a channel's
//! `kind`, a message's `role`) list their known values and accept any other text; ids that
//! become file names carry the rules of [`crate::validate_path_id`] as a pattern; ranges the
//! model's validation enforces (`temperature`, `max_tokens`) are schema constraints. What a
//! schema cannot say (a duplicate id, a `default` naming no model, both `api_key` and
//! `api_key_env`) is left to `viben check`.
//!
//! ```
//! use viben_model::schema::FileKind;
//!
//! let kind: FileKind = "agent".parse().unwrap();
//! let schema = kind.schema();
//! assert_eq!(schema.get("title").and_then(|t| t.as_str()), Some("AgentConfig"));
//! assert_eq!(kind.file_name(), "agent.schema.json");
//! ```

use std::fmt;
use std::str::FromStr;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::{
    AgentConfig, ChannelsFile, LogRecord, MAX_PATH_ID_LEN, Message, MetricPoint, ModelCatalog,
    Profile, ProviderConfig, SessionMeta, Span,
};

/// The rules of [`crate::validate_path_id`] as a regular expression that both JavaScript
/// (editors) and Rust validators run: no leading `.`, no `..`, no leading or trailing white
/// space, no `/`, `\` or control character. The length limit is the schema's `maxLength`, in
/// characters where the model counts bytes, so a long id of non-ASCII letters passes the schema
/// and is still refused by the store.
pub const PATH_ID_PATTERN: &str = r"^(?!\.)(?!.*\.\.)(?!\s)(?!.*\s$)[^/\\\x00-\x1f\x7f-\x9f]+$";

/// A name a POSIX shell can export ([`crate::is_env_var_name`]).
pub const ENV_VAR_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_]*$";

/// Text with at least one character that is not white space.
pub const NOT_BLANK_PATTERN: &str = r"\S";

/// A kind of file (or of line, for the JSON Lines logs) in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileKind {
    /// `agents/<id>/config.yaml`: [`AgentConfig`].
    Agent,
    /// `providers/<name>.yaml`: [`ProviderConfig`].
    Provider,
    /// `models.yaml`: [`ModelCatalog`].
    Models,
    /// `channels.yaml`: [`ChannelsFile`].
    Channels,
    /// `profile.yaml`: [`Profile`].
    Profile,
    /// `sessions/<id>/session.yaml`: [`SessionMeta`].
    Session,
    /// One line of `sessions/<id>/messages.jsonl`: [`Message`].
    Message,
    /// One line of `telemetry/traces/<day>.jsonl`: [`Span`].
    Span,
    /// One line of `telemetry/metrics/<day>.jsonl`: [`MetricPoint`].
    Metric,
    /// One line of `telemetry/logs/<day>.jsonl`: [`LogRecord`].
    Log,
}

impl FileKind {
    /// Every kind, in the order `viben schema --list` shows them.
    pub const ALL: [FileKind; 10] = [
        FileKind::Agent,
        FileKind::Provider,
        FileKind::Models,
        FileKind::Channels,
        FileKind::Profile,
        FileKind::Session,
        FileKind::Message,
        FileKind::Span,
        FileKind::Metric,
        FileKind::Log,
    ];

    /// The kind's name, as `viben schema <kind>` takes it.
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Agent => "agent",
            FileKind::Provider => "provider",
            FileKind::Models => "models",
            FileKind::Channels => "channels",
            FileKind::Profile => "profile",
            FileKind::Session => "session",
            FileKind::Message => "message",
            FileKind::Span => "span",
            FileKind::Metric => "metric",
            FileKind::Log => "log",
        }
    }

    /// Where files of this kind live, relative to the store's root.
    pub fn path(self) -> &'static str {
        match self {
            FileKind::Agent => "agents/<id>/config.yaml",
            FileKind::Provider => "providers/<name>.yaml",
            FileKind::Models => "models.yaml",
            FileKind::Channels => "channels.yaml",
            FileKind::Profile => "profile.yaml",
            FileKind::Session => "sessions/<id>/session.yaml",
            FileKind::Message => "sessions/<id>/messages.jsonl (one line)",
            FileKind::Span => "telemetry/traces/<day>.jsonl (one line)",
            FileKind::Metric => "telemetry/metrics/<day>.jsonl (one line)",
            FileKind::Log => "telemetry/logs/<day>.jsonl (one line)",
        }
    }

    /// The name of the kind's committed schema file: `<kind>.schema.json`.
    pub fn file_name(self) -> String {
        format!("{}.schema.json", self.name())
    }

    /// The kind's JSON Schema (draft-07, which every editor's YAML and JSON support reads).
    pub fn schema(self) -> serde_json::Value {
        match self {
            FileKind::Agent => root::<AgentConfig>(self),
            FileKind::Provider => root::<ProviderConfig>(self),
            FileKind::Models => root::<ModelCatalog>(self),
            FileKind::Channels => root::<ChannelsFile>(self),
            FileKind::Profile => root::<Profile>(self),
            FileKind::Session => root::<SessionMeta>(self),
            FileKind::Message => root::<Message>(self),
            FileKind::Span => root::<Span>(self),
            FileKind::Metric => root::<MetricPoint>(self),
            FileKind::Log => root::<LogRecord>(self),
        }
    }

    /// The schema as pretty-printed JSON with a final newline: what `viben schema <kind>`
    /// prints and what `schemas/<kind>.schema.json` holds.
    pub fn schema_text(self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema())
            .unwrap_or_else(|_| unreachable!("a schema is a JSON value, which always serializes"));
        text.push('\n');
        text
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FileKind {
    type Err = UnknownFileKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        FileKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| UnknownFileKind {
                name: name.to_owned(),
            })
    }
}

/// A name that is not one of [`FileKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("there is no schema for {name:?}")]
pub struct UnknownFileKind {
    /// The name given.
    pub name: String,
}

impl crate::Hint for UnknownFileKind {
    fn hint(&self) -> Option<String> {
        let names: Vec<&str> = FileKind::ALL.iter().map(|kind| kind.name()).collect();
        Some(format!(
            "use one of {} (`viben schema --list` says which file each describes)",
            names.join(", ")
        ))
    }
}

/// The root schema of `T`, with descriptions fit for an editor's hover and a note saying where
/// it comes from.
fn root<T: JsonSchema>(kind: FileKind) -> serde_json::Value {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    // Through `Serialize`, which puts `$schema`, `title` and `description` first for people.
    let mut value = serde_json::to_value(&schema)
        .unwrap_or_else(|_| unreachable!("a schema is a JSON value, which always serializes"));
    for_editors(&mut value);
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "$comment".to_owned(),
            format!(
                "{}; generated from viben-model by `viben schema {}`, do not edit",
                kind.path(),
                kind.name()
            )
            .into(),
        );
    }
    value
}

/// Keeps the first paragraph of every description (the rest of a doc comment is about the
/// Rust type: examples, `Debug`), with rustdoc's link brackets removed.
fn for_editors(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(object) => {
            for (key, item) in object.iter_mut() {
                if key == "description"
                    && let serde_json::Value::String(text) = item
                {
                    let summary = text.split("\n\n").next().unwrap_or_default();
                    *text = summary.replace("[`", "`").replace("`]", "`");
                } else {
                    for_editors(item);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(for_editors),
        _ => {}
    }
}

/// An id that becomes a file or folder name ([`crate::validate_path_id`]).
pub(crate) fn path_id(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_PATH_ID_LEN,
        "pattern": PATH_ID_PATTERN,
    })
}

/// A map of settings kept as written (a channel's `settings`); empty may be written as nothing.
pub(crate) fn settings(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": ["object", "null"] })
}

/// An open enum: the known values, offered for completion, or any other text.
pub(crate) fn open_enum(known: &[&str]) -> Schema {
    json_schema!({
        "type": "string",
        "anyOf": [
            { "enum": known },
            { "type": "string", "description": "a value this version of Viben does not know, kept as written" },
        ],
    })
}
