//! Providers: `providers/<name>.yaml`, written 0600 when they hold an inline API key, through
//! [`Providers`].

use std::path::PathBuf;

use viben_model::{ProviderConfig, ValidationError};

use crate::document::{Document, FileMode, Record, Shape, check_id, not_found};
use crate::error::Result;
#[cfg(doc)]
use crate::error::StoreError;
use crate::layout::Layout;
use crate::revision::{Revision, Versioned};
use crate::store::Store;

impl Document for ProviderConfig {
    const KIND: &'static str = "provider";

    fn problems(&self) -> Vec<ValidationError> {
        ProviderConfig::problems(self)
    }

    fn mode(&self) -> FileMode {
        if self.api_key.is_some() {
            FileMode::Private
        } else {
            FileMode::Keep
        }
    }
}

impl Record for ProviderConfig {
    const ID_FIELD: &'static str = "name";
    const SHAPE: Shape = Shape::FilePerRecord;

    fn folder(layout: &Layout) -> PathBuf {
        layout.providers_dir()
    }

    fn path(layout: &Layout, id: &str) -> PathBuf {
        layout.provider_config(id)
    }

    fn id(&self) -> &str {
        &self.name
    }
}

/// The providers of a store (`providers/<name>.yaml`), from [`Store::providers`].
///
/// A file holding an inline `api_key` is written with mode 0600; prefer `api_key_env`, which
/// names an environment variable and keeps the key out of the file.
#[derive(Debug, Clone, Copy)]
pub struct Providers<'s> {
    pub(crate) store: &'s Store,
}

impl Providers<'_> {
    crate::document::record_verbs!(ProviderConfig, "provider", "name");

    /// Creates or replaces the provider `provider.name` (a new one by the rules of
    /// [`Providers::create`]; an existing one is replaced whatever its name). Returns the
    /// file's revision.
    pub fn set(&self, provider: &ProviderConfig) -> Result<Revision> {
        self.store.set_record(provider)
    }

    /// Changes the provider `name` under its file's lock, or creates it from
    /// [`ProviderConfig::new`] when it does not exist, in one locked step: two processes
    /// setting fields of one provider both get their change in. A new provider's name follows
    /// the rules of [`Providers::create`]; `change` may run twice for it (once to refuse
    /// what would be refused before anything is made). Returns the provider as written.
    pub fn upsert(
        &self,
        name: &str,
        change: impl Fn(&mut ProviderConfig) -> Result<()>,
    ) -> Result<Versioned<ProviderConfig>> {
        self.store
            .upsert_record(name, || ProviderConfig::new(name), change)
    }

    /// Deletes the provider `name`. Agents and models that name it are reported by
    /// [`Store::check`] afterwards.
    pub fn delete(&self, name: &str) -> Result<()> {
        check_id("provider", name)?;
        let path = self.store.layout().provider_config(name);
        if self.store.remove_file_locked(&path)? {
            Ok(())
        } else {
            Err(not_found("provider", name))
        }
    }
}
