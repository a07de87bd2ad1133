//! The web account signed in on this desktop: `profile.yaml`.

use viben_model::{Profile, ValidationError};

use crate::error::Result;
use crate::store::{DocSpec, FileMode, Store, first_invalid};

fn spec() -> DocSpec<Profile> {
    DocSpec {
        empty: None,
        check: |path, profile| first_invalid(path, problems(profile)),
        mode: |_| FileMode::Keep,
    }
}

pub(crate) fn problems(profile: &Profile) -> Vec<ValidationError> {
    [
        ("user_id", &profile.user_id),
        ("provider_id", &profile.provider_id),
    ]
    .into_iter()
    .filter(|(_, value)| value.trim().is_empty())
    .map(|(field, _)| ValidationError::EmptyField { field })
    .collect()
}

impl Store {
    /// The signed-in account, or `None` when nobody is signed in.
    pub fn load_profile(&self) -> Result<Option<Profile>> {
        let path = self.layout().profile_file();
        match self.load_doc::<Profile>(&path, None)? {
            Some((profile, _)) => {
                first_invalid(&path, problems(&profile))?;
                Ok(Some(profile))
            }
            None => Ok(None),
        }
    }

    /// Records `profile` as the signed-in account, replacing any other (under the file's lock,
    /// crash-safely). Fields of the old file that this version does not know are kept when the
    /// same account signs in again.
    pub fn save_profile(&self, profile: &Profile) -> Result<()> {
        let path = self.layout().profile_file();
        self.modify_doc(
            &path,
            spec(),
            None,
            || Ok(profile.clone()),
            |current| {
                let extra = if current.user_id == profile.user_id {
                    std::mem::take(&mut current.extra)
                } else {
                    Default::default()
                };
                *current = profile.clone();
                for (key, value) in extra {
                    current.extra.entry(key).or_insert(value);
                }
                Ok(())
            },
        )
        .map(|_| ())
    }

    /// Signs out: removes `profile.yaml`. `Ok(false)` when nobody was signed in.
    pub fn sign_out(&self) -> Result<bool> {
        self.remove_file_locked(&self.layout().profile_file())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use viben_model::{Extra, OAuthProvider};

    use crate::error::StoreError;

    use super::*;

    fn profile(user_id: &str) -> Profile {
        Profile {
            user_id: user_id.into(),
            email: "ada@example.com".into(),
            username: "ada".into(),
            display_name: Some("Ada".into()),
            avatar_url: None,
            provider: OAuthProvider::GitHub,
            provider_id: "12345".into(),
            signed_in_at: Utc::now(),
            extra: Extra::new(),
        }
    }

    #[test]
    fn a_profile_is_saved_loaded_and_signed_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("viben")).unwrap();
        assert_eq!(store.load_profile().unwrap(), None);
        let ada = profile("u1");
        store.save_profile(&ada).unwrap();
        assert_eq!(store.load_profile().unwrap(), Some(ada));
        assert!(store.sign_out().unwrap());
        assert!(!store.sign_out().unwrap());
        assert_eq!(store.load_profile().unwrap(), None);
    }

    #[test]
    fn hand_added_fields_survive_the_same_account_signing_in_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("viben")).unwrap();
        store.save_profile(&profile("u1")).unwrap();
        let path = store.layout().profile_file();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}theme: dark\n")).unwrap();
        store.save_profile(&profile("u1")).unwrap();
        assert_eq!(
            store.load_profile().unwrap().unwrap().extra["theme"],
            "dark"
        );
        store.save_profile(&profile("u2")).unwrap();
        assert!(
            store.load_profile().unwrap().unwrap().extra.is_empty(),
            "another account starts clean"
        );
    }

    #[test]
    fn check_reports_a_broken_profile() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("viben")).unwrap();
        store.init().unwrap();
        std::fs::write(store.layout().profile_file(), "user_id: u1\nemail: [oops\n").unwrap();
        let problems = store.check();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, std::path::Path::new("profile.yaml"));
        assert_eq!(problems[0].line, Some(2));
    }

    #[test]
    fn a_profile_without_a_user_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("viben")).unwrap();
        let err = store.save_profile(&profile(" ")).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Invalid {
                    source: ValidationError::EmptyField { field: "user_id" },
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!store.layout().profile_file().exists());
    }
}
