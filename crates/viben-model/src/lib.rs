#![doc = include_str!("../README.md")]

mod account;
mod agent;
mod channel;
mod error;
mod id;
mod model_catalog;
mod open_enum;
mod profile;
mod provider;
mod secret;
mod session;
mod telemetry;

pub use account::{
    MAX_EMAIL_LEN, NewOAuthConnection, NewUser, OAuthConnection, OAuthProvider, Role, User,
    UserPatch, UserWithConnections, validate_email, validate_username,
};
pub use agent::{AgentConfig, validate_max_tokens, validate_temperature};
pub use channel::{Channel, ChannelKind, ChannelsFile};
pub use error::ValidationError;
pub use id::{MAX_PATH_ID_LEN, new_id, validate_path_id};
pub use model_catalog::{ModelCatalog, ModelEntry};
pub use profile::Profile;
pub use provider::ProviderConfig;
pub use secret::Secret;
pub use session::{Message, MessageRole, SessionMeta};
pub use telemetry::{LogLevel, LogRecord, MetricPoint, Span, TelemetryRecord};

/// Fields a stored record has that this version of Viben does not know.
///
/// Every type stored as YAML or JSON flattens one of these, so a field a person added by hand
/// (or a newer app wrote) survives a read-modify-write, in its original order. It is a JSON map
/// because it is format-neutral: the same values come from YAML files and JSON Lines logs.
pub type Extra = serde_json::Map<String, serde_json::Value>;
