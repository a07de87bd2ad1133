#![doc = include_str!("../README.md")]

mod account;
mod agent;
mod channel;
mod error;
mod extra;
mod hint;
mod id;
mod model_catalog;
mod open_enum;
mod profile;
mod provider;
pub mod redact;
#[cfg(feature = "schemars")]
pub mod schema;
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
pub use extra::BIG_INT_TAG;
pub use hint::{Chain, Hint, Report};
pub use id::{
    MAX_PATH_ID_LEN, new_id, path_id_fold_key, validate_path_id, validate_portable_path_id,
};
pub use model_catalog::{ModelCatalog, ModelEntry};
pub use profile::Profile;
pub use provider::{ProviderConfig, is_env_var_name};
pub use secret::Secret;
pub use session::{Message, MessageRole, SessionMeta};
pub use telemetry::{LogLevel, LogRecord, MetricPoint, Span, TelemetryRecord};

/// Fields a YAML file holds that this version of Viben does not know.
///
/// Every type stored as YAML keeps one of these, so a field a person added by hand (or a
/// newer app wrote) survives a read-modify-write exactly, in its original order: YAML's own
/// value type keeps what a JSON map cannot (`.nan`, `.inf`, integer keys), tags are kept as
/// tagged values (`!custom {k: v}`), and an integer wider than 64 bits as a value tagged
/// [`BIG_INT_TAG`] holding its digits. Unknown fields are read without serde's `flatten`
/// buffer, which holds neither; a merge key (`<<: *defaults`) fills the fields a record does
/// not set. A list, map or tagged value used as a key is refused, since it could not be
/// written back.
pub type Extra = serde_yaml::Mapping;

/// Fields a JSON Lines record (a message, a span, a metric point, a log record) holds beyond the
/// known ones, and telemetry attributes. The logs are JSON, so a JSON map keeps them exactly.
pub type JsonFields = serde_json::Map<String, serde_json::Value>;
