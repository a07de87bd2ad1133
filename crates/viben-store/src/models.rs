//! The model catalog: `models.yaml` (which models agents may use, and the default), through
//! [`Catalog`].

use std::path::PathBuf;

use viben_model::{ModelCatalog, ModelEntry, ValidationError};

use crate::document::{Document, EntryList, Single, not_found};
use crate::error::{Result, StoreError};
use crate::layout::Layout;
use crate::revision::{Revision, Versioned};
use crate::store::Store;

impl Document for ModelCatalog {
    const KIND: &'static str = "model catalog";
    const EMPTY: Option<fn() -> Self> = Some(ModelCatalog::default);

    fn problems(&self) -> Vec<ValidationError> {
        ModelCatalog::problems(self)
    }
}

impl Single for ModelCatalog {
    fn path(layout: &Layout) -> PathBuf {
        layout.models_file()
    }
}

impl EntryList for ModelCatalog {
    type Entry = ModelEntry;
    const ENTRY_KIND: &'static str = "model";

    fn entries(&self) -> &Vec<ModelEntry> {
        &self.models
    }

    fn entries_mut(&mut self) -> &mut Vec<ModelEntry> {
        &mut self.models
    }

    fn entry_id(entry: &ModelEntry) -> &str {
        &entry.id
    }

    fn check_removal(&self, id: &str) -> Result<()> {
        if self.default.as_deref() == Some(id) {
            return Err(StoreError::ModelIsDefault { id: id.to_owned() });
        }
        Ok(())
    }
}

/// The model catalog of a store (`models.yaml`), from [`Store::models`]: the whole document,
/// and its entries one by one. An absent or empty file is an empty catalog.
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'s> {
    pub(crate) store: &'s Store,
}

impl Catalog<'_> {
    /// The whole catalog.
    pub fn document(&self) -> Result<ModelCatalog> {
        self.document_versioned().map(|v| v.value)
    }

    /// The catalog and the revision of `models.yaml`, for a later
    /// [`Catalog::save_if_unchanged`].
    pub fn document_versioned(&self) -> Result<Versioned<ModelCatalog>> {
        self.store.read_entries()
    }

    /// Changes the catalog under the lock of `models.yaml` (read, apply `change`, validate,
    /// write crash-safely). Two processes updating at once both get their change in. Nothing
    /// is written when `change` fails or changes nothing. Returns the catalog as written.
    pub fn update(
        &self,
        change: impl FnOnce(&mut ModelCatalog) -> Result<()>,
    ) -> Result<Versioned<ModelCatalog>> {
        self.store.update_entries(None, change)
    }

    /// Writes `catalog` if `models.yaml` is still at `expected`, else refuses with
    /// [`StoreError::Conflict`]. Returns the new revision.
    pub fn save_if_unchanged(
        &self,
        catalog: &ModelCatalog,
        expected: &Revision,
    ) -> Result<Revision> {
        self.store
            .update_entries(Some(*expected), |current: &mut ModelCatalog| {
                *current = catalog.clone();
                Ok(())
            })
            .map(|v| v.revision)
    }

    /// The models, in file order.
    pub fn list(&self) -> Result<Vec<ModelEntry>> {
        Ok(self.document()?.models)
    }

    /// The model `id`'s entry.
    pub fn get(&self, id: &str) -> Result<ModelEntry> {
        self.store.get_entry::<ModelCatalog>(id)
    }

    /// Adds `entry` at the end of the catalog; refuses an id that is listed
    /// ([`StoreError::AlreadyExists`]). Returns the file's revision.
    pub fn add(&self, entry: ModelEntry) -> Result<Revision> {
        self.store.put_entry::<ModelCatalog>(entry, false)
    }

    /// Adds `entry`, or replaces the entry with its id in place. Returns the file's revision.
    pub fn set(&self, entry: ModelEntry) -> Result<Revision> {
        self.store.put_entry::<ModelCatalog>(entry, true)
    }

    /// Deletes the model `id`. Refused for the default model ([`StoreError::ModelIsDefault`]);
    /// agents still naming it are reported by [`Store::check`].
    pub fn delete(&self, id: &str) -> Result<()> {
        self.store.delete_entry::<ModelCatalog>(id)
    }

    /// Sets `enabled: true` on the model `id`. Returns the file's revision.
    pub fn enable(&self, id: &str) -> Result<Revision> {
        self.store
            .change_entry::<ModelCatalog>(id, |entry| entry.enabled = Some(true))
    }

    /// Sets `enabled: false` on the model `id`. Returns the file's revision.
    pub fn disable(&self, id: &str) -> Result<Revision> {
        self.store
            .change_entry::<ModelCatalog>(id, |entry| entry.enabled = Some(false))
    }

    /// The default model's entry; `None` when no default is set.
    pub fn default(&self) -> Result<Option<ModelEntry>> {
        Ok(self.document()?.default_model().cloned())
    }

    /// Makes `id` the default model (it must be listed), or clears the default with `None`.
    /// Returns the file's revision.
    pub fn set_default(&self, id: Option<&str>) -> Result<Revision> {
        self.update(|catalog| {
            if let Some(id) = id
                && catalog.get(id).is_none()
            {
                return Err(not_found("model", id));
            }
            catalog.default = id.map(str::to_owned);
            Ok(())
        })
        .map(|v| v.revision)
    }
}
