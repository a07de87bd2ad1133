//! The web account signed in on this desktop: `~/.viben/profile.yaml`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Extra, OAuthProvider, User};

/// Who is signed in on the desktop app, copied from the web account at sign-in.
///
/// It holds no token: the desktop keeps only what it shows and what it needs to find the
/// account again.
///
/// ```
/// use viben_model::{OAuthProvider, Profile, User, Role};
/// let user = User {
///     id: "u1".into(), email: "ada@example.com".into(), username: "ada".into(),
///     display_name: Some("Ada".into()), avatar_url: None, github_username: Some("ada".into()),
///     email_verified: true, role: Role::User, created_at: None, updated_at: None,
/// };
/// let profile = Profile::signed_in(&user, OAuthProvider::GitHub, "12345");
/// assert_eq!(profile.user_id, "u1");
/// assert_eq!(profile.provider.as_str(), "github");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[cfg_attr(
    feature = "schemars",
    derive(schemars::JsonSchema),
    schemars(rename = "Profile")
)]
pub struct Profile {
    /// The web account's id.
    pub user_id: String,
    /// Its email address.
    pub email: String,
    /// Its username.
    pub username: String,
    /// Name shown to people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// URL of the avatar image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// The identity provider used to sign in.
    pub provider: OAuthProvider,
    /// The account's id at that provider.
    pub provider_id: String,
    /// When the sign-in happened (RFC 3339, UTC).
    pub signed_in_at: DateTime<Utc>,
    /// Fields this version does not know, kept as written.
    #[cfg_attr(feature = "schemars", schemars(skip))]
    #[serde(
        flatten,
        serialize_with = "crate::extra::serialize",
        skip_deserializing
    )]
    pub extra: Extra,
}

crate::extra::record!(Profile);

impl Profile {
    /// The profile for `user`, signed in now through `provider`.
    pub fn signed_in(user: &User, provider: OAuthProvider, provider_id: impl Into<String>) -> Self {
        Self {
            user_id: user.id.clone(),
            email: user.email.clone(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            avatar_url: user.avatar_url.clone(),
            provider,
            provider_id: provider_id.into(),
            signed_in_at: Utc::now(),
            extra: Extra::new(),
        }
    }
}
