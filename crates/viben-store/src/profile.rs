//! The web account signed in on this desktop: `profile.yaml`, through [`ProfileFile`].

use std::path::PathBuf;

use viben_model::{Profile, ValidationError};

use crate::document::{Document, Single};
use crate::error::Result;
use crate::layout::Layout;
use crate::revision::{Revision, Versioned};
use crate::store::Store;

impl Document for Profile {
    const KIND: &'static str = "profile";

    fn problems(&self) -> Vec<ValidationError> {
        [
            ("user_id", &self.user_id),
            ("provider_id", &self.provider_id),
        ]
        .into_iter()
        .filter(|(_, value)| value.trim().is_empty())
        .map(|(field, _)| ValidationError::EmptyField { field })
        .collect()
    }
}

impl Single for Profile {
    fn path(layout: &Layout) -> PathBuf {
        layout.profile_file()
    }
}

/// The signed-in web account of a store (`profile.yaml`), from [`Store::profile`].
#[derive(Debug, Clone, Copy)]
pub struct ProfileFile<'s> {
    pub(crate) store: &'s Store,
}

impl ProfileFile<'_> {
    /// The signed-in account, or `None` when nobody is signed in.
    pub fn get(&self) -> Result<Option<Profile>> {
        Ok(self.get_versioned()?.map(|v| v.value))
    }

    /// The signed-in account and the revision of `profile.yaml`; `None` when nobody is signed
    /// in.
    pub fn get_versioned(&self) -> Result<Option<Versioned<Profile>>> {
        self.store.read_single()
    }

    /// Records `profile` as the signed-in account, replacing any other (under the file's lock,
    /// crash-safely). Fields of the old file that this version does not know are kept when the
    /// same account signs in again. Returns the file's revision.
    pub fn save(&self, profile: &Profile) -> Result<Revision> {
        self.store
            .update_single(
                None,
                || Ok(profile.clone()),
                |current: &mut Profile| {
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
            .map(|v| v.revision)
    }

    /// Writes `profile` if `profile.yaml` is still at `expected` ([`Revision::ABSENT`]: nobody
    /// was signed in), else refuses with [`crate::StoreError::Conflict`]. Unlike
    /// [`ProfileFile::save`], the file becomes exactly `profile`. Returns the new revision.
    pub fn save_if_unchanged(&self, profile: &Profile, expected: &Revision) -> Result<Revision> {
        self.store
            .update_single(
                Some(*expected),
                || Ok(profile.clone()),
                |current: &mut Profile| {
                    *current = profile.clone();
                    Ok(())
                },
            )
            .map(|v| v.revision)
    }

    /// Signs out: removes `profile.yaml`. `Ok(false)` when nobody was signed in.
    pub fn sign_out(&self) -> Result<bool> {
        self.store
            .remove_file_locked(&self.store.layout().profile_file())
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
        assert_eq!(store.profile().get().unwrap(), None);
        let ada = profile("u1");
        store.profile().save(&ada).unwrap();
        assert_eq!(store.profile().get().unwrap(), Some(ada));
        assert!(store.profile().sign_out().unwrap());
        assert!(!store.profile().sign_out().unwrap());
        assert_eq!(store.profile().get().unwrap(), None);
    }

    #[test]
    fn hand_added_fields_survive_the_same_account_signing_in_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("viben")).unwrap();
        store.profile().save(&profile("u1")).unwrap();
        let path = store.layout().profile_file();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}theme: dark\n")).unwrap();
        store.profile().save(&profile("u1")).unwrap();
        assert_eq!(
            store.profile().get().unwrap().unwrap().extra["theme"],
            "dark"
        );
        store.profile().save(&profile("u2")).unwrap();
        assert!(
            store.profile().get().unwrap().unwrap().extra.is_empty(),
            "another account starts clean"
        );
    }

    #[test]
    fn a_stale_profile_save_is_a_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("viben")).unwrap();
        assert_eq!(store.profile().get_versioned().unwrap(), None);
        let first = store
            .profile()
            .save_if_unchanged(&profile("u1"), &Revision::ABSENT)
            .unwrap();
        let err = store
            .profile()
            .save_if_unchanged(&profile("u2"), &Revision::ABSENT)
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
        let read = store.profile().get_versioned().unwrap().unwrap();
        assert_eq!(read.revision, first);
        store
            .profile()
            .save_if_unchanged(&profile("u2"), &read.revision)
            .unwrap();
        assert_eq!(store.profile().get().unwrap().unwrap().user_id, "u2");
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
        let err = store.profile().save(&profile(" ")).unwrap_err();
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
