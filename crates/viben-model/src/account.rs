//! Web accounts: users and their OAuth connections, as the web app's PostgreSQL stores them.

use chrono::{DateTime, Utc};

use crate::open_enum::open_enum;
use crate::{Secret, ValidationError};

open_enum! {
    /// A user's role. The web app may write roles this code does not know; they are kept.
    pub enum Role {
        /// An ordinary user (the column default).
        User => "user",
        /// An administrator.
        Admin => "admin",
    }
}

#[expect(
    clippy::derivable_impls,
    reason = "open_enum! defines the variants and does not derive Default"
)]
impl Default for Role {
    fn default() -> Self {
        Self::User
    }
}

open_enum! {
    /// The identity provider behind an OAuth connection.
    pub enum OAuthProvider {
        /// GitHub.
        GitHub => "github",
        /// Google.
        Google => "google",
    }
}

/// A web account.
///
/// Where the database allows NULL but the account always has a value, NULL reads as the
/// column's default: `email_verified` as `false`, `role` as [`Role::User`]. Timestamps have no
/// such default, so a NULL one is `None`. Updates only write the fields a [`UserPatch`] sets, so
/// a NULL the web app left stays NULL.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Primary key; any text (the web app chooses its own ids).
    pub id: String,
    /// Unique email address.
    pub email: String,
    /// Unique username.
    pub username: String,
    /// Name shown to people.
    pub display_name: Option<String>,
    /// URL of the avatar image.
    pub avatar_url: Option<String>,
    /// GitHub login, when the account is linked to GitHub.
    pub github_username: Option<String>,
    /// Whether the email address was verified.
    pub email_verified: bool,
    /// The account's role.
    pub role: Role,
    /// When the account was created (UTC).
    pub created_at: Option<DateTime<Utc>>,
    /// When the account was last changed (UTC).
    pub updated_at: Option<DateTime<Utc>>,
}

/// What it takes to create a [`User`]; the database fills in the rest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewUser {
    /// The id to use; `None` makes a new one with [`crate::new_id`].
    pub id: Option<String>,
    /// Unique email address (validated by [`NewUser::validate`]).
    pub email: String,
    /// Unique username (validated by [`NewUser::validate`]).
    pub username: String,
    /// Name shown to people.
    pub display_name: Option<String>,
    /// URL of the avatar image.
    pub avatar_url: Option<String>,
    /// GitHub login.
    pub github_username: Option<String>,
    /// Whether the email is verified; `None` keeps the column default (`false`).
    pub email_verified: Option<bool>,
    /// The role; `None` keeps the column default (`user`).
    pub role: Option<Role>,
}

impl NewUser {
    /// A new user with just the two required fields.
    ///
    /// ```
    /// let new = viben_model::NewUser::new("ada@example.com", "ada");
    /// assert!(new.validate().is_ok());
    /// ```
    pub fn new(email: impl Into<String>, username: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            username: username.into(),
            ..Self::default()
        }
    }

    /// Checks the email and username rules.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_email(&self.email)?;
        validate_username(&self.username)
    }
}

/// A change to a [`User`]: `None` leaves a field alone; for nullable fields `Some(None)` sets
/// NULL. Applying a patch always sets `updated_at` to now.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserPatch {
    /// New email address.
    pub email: Option<String>,
    /// New username.
    pub username: Option<String>,
    /// New display name, or `Some(None)` to clear it.
    pub display_name: Option<Option<String>>,
    /// New avatar URL, or `Some(None)` to clear it.
    pub avatar_url: Option<Option<String>>,
    /// New GitHub login, or `Some(None)` to clear it.
    pub github_username: Option<Option<String>>,
    /// New verification state.
    pub email_verified: Option<bool>,
    /// New role.
    pub role: Option<Role>,
}

impl UserPatch {
    /// Checks the fields the patch sets.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Some(email) = &self.email {
            validate_email(email)?;
        }
        if let Some(username) = &self.username {
            validate_username(username)?;
        }
        Ok(())
    }

    /// Whether the patch changes nothing (it would still bump `updated_at`).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A link between a user and an identity at an OAuth provider.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthConnection {
    /// Primary key.
    pub id: String,
    /// The user it belongs to. The column is nullable; the web app always sets it.
    pub user_id: Option<String>,
    /// The identity provider.
    pub provider: OAuthProvider,
    /// The user's id at the provider.
    pub provider_id: String,
    /// The provider's access token, if kept.
    pub access_token: Option<Secret>,
    /// When the connection was created (UTC).
    pub created_at: Option<DateTime<Utc>>,
    /// When the connection was last changed (UTC).
    pub updated_at: Option<DateTime<Utc>>,
}

/// What it takes to link a user to a provider identity.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOAuthConnection {
    /// The id to use; `None` makes a new one with [`crate::new_id`].
    pub id: Option<String>,
    /// The user to link.
    pub user_id: String,
    /// The identity provider.
    pub provider: OAuthProvider,
    /// The user's id at the provider.
    pub provider_id: String,
    /// The provider's access token, if kept.
    pub access_token: Option<Secret>,
}

impl NewOAuthConnection {
    /// A link of `user_id` to the identity `provider_id` at `provider`, with a generated id
    /// and no access token ([`NewOAuthConnection::with_access_token`] keeps one).
    ///
    /// ```
    /// use viben_model::{NewOAuthConnection, OAuthProvider};
    /// let new = NewOAuthConnection::new("u1", OAuthProvider::GitHub, "583231");
    /// assert_eq!((new.id, new.access_token), (None, None));
    /// ```
    pub fn new(
        user_id: impl Into<String>,
        provider: OAuthProvider,
        provider_id: impl Into<String>,
    ) -> Self {
        Self {
            id: None,
            user_id: user_id.into(),
            provider,
            provider_id: provider_id.into(),
            access_token: None,
        }
    }

    /// The same link, keeping the provider's access token.
    pub fn with_access_token(mut self, token: Secret) -> Self {
        self.access_token = Some(token);
        self
    }

    /// The same link, with this id instead of a generated one.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Checks that the provider id and user id are not empty.
    pub fn validate(&self) -> Result<(), ValidationError> {
        non_empty("user_id", &self.user_id)?;
        non_empty("provider", self.provider.as_str())?;
        non_empty("provider_id", &self.provider_id)
    }
}

/// A user together with its OAuth connections (the seed's `with: { oauthConnections: true }`).
#[derive(Debug, Clone, PartialEq)]
pub struct UserWithConnections {
    /// The user.
    pub user: User,
    /// Its connections, oldest first.
    pub oauth_connections: Vec<OAuthConnection>,
}

/// The longest email address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// Checks an email address: one `@`, a non-empty local part of at most 64 bytes, a domain with a
/// dot, made of letters, digits, `-` and `.` labels, no white space or control characters, at
/// most [`MAX_EMAIL_LEN`] bytes.
///
/// This is the syntax check a sign-up form needs, not full RFC 5322 (quoted local parts and IP
/// literals are refused); only a confirmation mail proves an address.
pub fn validate_email(email: &str) -> Result<(), ValidationError> {
    let fail = |reason| {
        Err(ValidationError::InvalidEmail {
            email: email.to_owned(),
            reason,
        })
    };
    if email.is_empty() {
        return fail("it is empty");
    }
    if email.len() > MAX_EMAIL_LEN {
        return fail("it is longer than 254 bytes");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("it contains white space or a control character");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return fail("it has no '@'");
    };
    if domain.contains('@') {
        return fail("it has more than one '@'");
    }
    if local.is_empty() || local.len() > 64 {
        return fail("the part before '@' must be 1 to 64 bytes");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return fail("the part before '@' has a misplaced '.'");
    }
    if !local
        .chars()
        .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
    {
        return fail("the part before '@' contains a character addresses cannot have");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return fail("the domain has no '.'");
    }
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if !labels.iter().all(label_ok) {
        return fail("the domain is not a valid host name");
    }
    Ok(())
}

/// Checks a username: 3 to 39 characters of ASCII letters, digits, `-` and `_`, starting with a
/// letter or digit.
///
/// GitHub's limits (39 characters, no leading hyphen) so a GitHub login usually fits as it is;
/// `_` is allowed as well because other providers' names use it. ASCII only, so two usernames
/// that look the same are the same. Names the web app already stored are read as they are; the
/// rules apply to names created or changed through Viben's Rust code.
pub fn validate_username(username: &str) -> Result<(), ValidationError> {
    let reason = if username.chars().count() < 3 {
        Some("it is shorter than 3 characters")
    } else if username.chars().count() > 39 {
        Some("it is longer than 39 characters")
    } else if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Some("it contains a character other than a-z, A-Z, 0-9, '-' or '_'")
    } else if !username.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        Some("it does not start with a letter or digit")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ValidationError::InvalidUsername {
            username: username.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

fn non_empty(field: &'static str, value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        Err(ValidationError::EmptyField { field })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_emails_are_accepted() {
        for email in [
            "user@example.com",
            "a.b+tag@sub.example.co.uk",
            "o'brien@example.ie",
            "x@xn--bcher-kva.example",
            "ünï@exämple.de",
        ] {
            validate_email(email).unwrap();
        }
    }

    #[test]
    fn malformed_emails_are_invalid_email() {
        for email in [
            "",
            "plain",
            "@example.com",
            "user@",
            "user@localhost",
            "user@@example.com",
            "a@b@example.com",
            "us er@example.com",
            "user@exa mple.com",
            "user@-example.com",
            "user@example..com",
            ".user@example.com",
            "us..er@example.com",
            "user\0@example.com",
            "user\"@example.com",
            &format!("{}@example.com", "a".repeat(65)),
            &format!("a@{}.com", "b".repeat(250)),
        ] {
            assert!(
                matches!(
                    validate_email(email),
                    Err(ValidationError::InvalidEmail { .. })
                ),
                "{email:?} was accepted"
            );
        }
    }

    #[test]
    fn usernames_follow_the_documented_rules() {
        for ok in ["ada", "Ada_Lovelace", "user-42", "0xdead", &"a".repeat(39)] {
            validate_username(ok).unwrap();
        }
        for bad in [
            "",
            "ab",
            "-ada",
            "_ada",
            "ada lovelace",
            "ada@home",
            "adä",
            "a/b",
            &"a".repeat(40),
        ] {
            assert!(
                matches!(
                    validate_username(bad),
                    Err(ValidationError::InvalidUsername { .. })
                ),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn unknown_roles_and_providers_keep_their_text() {
        assert_eq!(Role::from("admin"), Role::Admin);
        assert_eq!(Role::from("moderator"), Role::Other("moderator".into()));
        assert_eq!(Role::from("moderator").as_str(), "moderator");
        assert_eq!(OAuthProvider::from("github"), OAuthProvider::GitHub);
        assert_eq!(OAuthProvider::from("gitlab").to_string(), "gitlab");
        let json = serde_json::to_string(&Role::Other("moderator".into())).unwrap();
        assert_eq!(json, "\"moderator\"");
        let back: OAuthProvider = serde_json::from_str("\"gitlab\"").unwrap();
        assert_eq!(back, OAuthProvider::Other("gitlab".into()));
    }

    #[test]
    fn new_user_and_patch_validate_what_they_set() {
        assert!(NewUser::new("bad", "ada").validate().is_err());
        assert!(NewUser::new("ada@example.com", "a").validate().is_err());
        assert!(UserPatch::default().validate().is_ok());
        assert!(UserPatch::default().is_empty());
        let patch = UserPatch {
            email: Some("nope".into()),
            ..UserPatch::default()
        };
        assert!(matches!(
            patch.validate(),
            Err(ValidationError::InvalidEmail { .. })
        ));
    }

    #[test]
    fn new_connection_requires_user_and_provider_ids() {
        let mut new = NewOAuthConnection {
            id: None,
            user_id: "u1".into(),
            provider: OAuthProvider::GitHub,
            provider_id: " ".into(),
            access_token: None,
        };
        assert_eq!(
            new.validate(),
            Err(ValidationError::EmptyField {
                field: "provider_id"
            })
        );
        new.provider_id = "12345".into();
        new.validate().unwrap();
    }
}
