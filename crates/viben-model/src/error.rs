//! The one error type of viben-model: what is wrong with a value, and ([`Hint`]) how to fix it.

use crate::Hint;

/// A value that breaks one of Viben's rules.
///
/// Each message names the value (or field) at fault; its [`Hint`] says what a valid one looks
/// like.
/// Secrets are never part of a message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// An email address that is not of the form `local@domain.tld`.
    #[error("invalid email {email:?}: {reason}")]
    InvalidEmail {
        /// The rejected address.
        email: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// A username that breaks the username rules (see [`crate::validate_username`]).
    #[error("invalid username {username:?}: {reason}")]
    InvalidUsername {
        /// The rejected username.
        username: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// An id that would not be safe as a single file or folder name.
    #[error("invalid {kind} id {id:?}: {reason}")]
    InvalidId {
        /// What the id names: `agent`, `provider`, `model`, `channel`, `session`.
        kind: &'static str,
        /// The rejected id (control characters are escaped by `{:?}`).
        id: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// A sampling temperature outside `0.0..=2.0`.
    #[error("temperature {value} is out of range")]
    TemperatureOutOfRange {
        /// The rejected temperature.
        value: f64,
    },

    /// A `max_tokens` of zero.
    #[error("max_tokens must be greater than 0")]
    MaxTokensZero,

    /// A required text field that is empty or only white space.
    #[error("{field} must not be empty")]
    EmptyField {
        /// The field, as it is spelt in the YAML file or the database.
        field: &'static str,
    },

    /// A provider that has both an inline `api_key` and an `api_key_env`.
    #[error("provider {provider:?} sets both api_key and api_key_env")]
    ConflictingApiKey {
        /// The provider's name.
        provider: String,
    },

    /// Two entries in `models.yaml` with the same id.
    #[error("model {id:?} is listed more than once in models.yaml")]
    DuplicateModel {
        /// The repeated id.
        id: String,
    },

    /// A `default` in `models.yaml` that names no entry.
    #[error("the default model {id:?} is not in models.yaml")]
    UnknownDefaultModel {
        /// The id `default` names.
        id: String,
    },

    /// Two channels in `channels.yaml` with the same id.
    #[error("channel {id:?} is listed more than once in channels.yaml")]
    DuplicateChannel {
        /// The repeated id.
        id: String,
    },

    /// An environment variable name that the shell could not export.
    #[error("api_key_env {name:?} is not a valid environment variable name")]
    InvalidEnvVarName {
        /// The rejected name.
        name: String,
    },
}

impl ValidationError {
    /// The field the broken rule is about, as it is spelt in the YAML file or the database
    /// (`temperature`, `max_tokens`, `email`), so a front end can point at it; `None` for rules
    /// about a whole document or an id (a duplicate entry, a folder name).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidEmail { .. } => Some("email"),
            Self::InvalidUsername { .. } => Some("username"),
            Self::TemperatureOutOfRange { .. } => Some("temperature"),
            Self::MaxTokensZero => Some("max_tokens"),
            Self::EmptyField { field } => Some(field),
            Self::ConflictingApiKey { .. } | Self::InvalidEnvVarName { .. } => Some("api_key_env"),
            Self::UnknownDefaultModel { .. } => Some("default"),
            Self::InvalidId { .. }
            | Self::DuplicateModel { .. }
            | Self::DuplicateChannel { .. } => None,
        }
    }
}

impl Hint for ValidationError {
    fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::InvalidEmail { .. } => "use an address such as name@example.com".to_owned(),
            Self::InvalidUsername { .. } => "use 3 to 39 characters of a-z, A-Z, 0-9, '-' or '_', \
                starting with a letter or digit"
                .to_owned(),
            Self::InvalidId { .. } => format!(
                "use letters, digits, '-', '_' or '.', not starting with '.', at most {} bytes",
                crate::id::MAX_PATH_ID_LEN
            ),
            Self::TemperatureOutOfRange { .. } => "use a value from 0.0 to 2.0".to_owned(),
            Self::MaxTokensZero => "leave it out to use the provider's default".to_owned(),
            Self::EmptyField { .. } => return None,
            Self::ConflictingApiKey { .. } => "keep only api_key_env (the name of an environment \
                variable) so the key stays out of the file"
                .to_owned(),
            Self::DuplicateModel { .. } | Self::DuplicateChannel { .. } => {
                "remove or rename the duplicates".to_owned()
            }
            Self::UnknownDefaultModel { .. } => {
                "add it to models or set default to one of the listed ids".to_owned()
            }
            Self::InvalidEnvVarName { .. } => "use letters, digits and '_', not starting with a \
                digit (for example ANTHROPIC_API_KEY)"
                .to_owned(),
        };
        Some(hint)
    }
}
