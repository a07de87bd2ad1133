//! The model catalog: `models.yaml` (which models agents may use, and the default).

use viben_model::{ModelCatalog, ModelEntry};

use crate::error::{Result, StoreError};
use crate::revision::{Revision, Versioned};
use crate::store::{DocSpec, FileMode, Store, first_invalid};

fn spec() -> DocSpec<ModelCatalog> {
    DocSpec {
        empty: Some(ModelCatalog::default),
        check: |path, catalog| first_invalid(path, catalog.problems()),
        mode: |_| FileMode::Keep,
    }
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        kind: "model",
        id: id.to_owned(),
    }
}

impl Store {
    /// The catalog; empty when `models.yaml` does not exist or is empty.
    pub fn load_models(&self) -> Result<ModelCatalog> {
        self.load_models_versioned().map(|v| v.value)
    }

    /// The catalog and the revision of `models.yaml`, for a later
    /// [`Store::save_models_if_unchanged`].
    pub fn load_models_versioned(&self) -> Result<Versioned<ModelCatalog>> {
        let path = self.layout().models_file();
        let (value, revision) = self
            .load_doc(&path, Some(ModelCatalog::default))?
            .unwrap_or_else(|| (ModelCatalog::default(), Revision::ABSENT));
        first_invalid(&path, value.problems())?;
        Ok(Versioned { value, revision })
    }

    /// Changes the catalog under the lock of `models.yaml` (read, apply `change`, validate,
    /// write crash-safely). Two processes updating at once both get their change in. Nothing
    /// is written when `change` fails or changes nothing.
    pub fn update_models<R>(
        &self,
        change: impl FnOnce(&mut ModelCatalog) -> Result<R>,
    ) -> Result<R> {
        let path = self.layout().models_file();
        self.modify_doc(&path, spec(), None, || Ok(ModelCatalog::default()), change)
            .map(|(_, result, _)| result)
    }

    /// Writes `catalog` if `models.yaml` is still at `expected`, else refuses with
    /// [`StoreError::Conflict`]. Returns the new revision.
    pub fn save_models_if_unchanged(
        &self,
        catalog: &ModelCatalog,
        expected: &Revision,
    ) -> Result<Revision> {
        let path = self.layout().models_file();
        self.modify_doc(
            &path,
            spec(),
            Some(*expected),
            || Ok(ModelCatalog::default()),
            |current| {
                *current = catalog.clone();
                Ok(())
            },
        )
        .map(|(_, (), revision)| revision)
    }

    /// Adds `entry` at the end of the catalog; refuses an id that is listed.
    pub fn add_model(&self, entry: ModelEntry) -> Result<()> {
        self.update_models(|catalog| {
            if catalog.get(&entry.id).is_some() {
                return Err(StoreError::AlreadyExists {
                    kind: "model",
                    id: entry.id.clone(),
                });
            }
            catalog.models.push(entry);
            Ok(())
        })
    }

    /// Removes the model `id` and returns its entry. Refused for the default model
    /// ([`StoreError::ModelIsDefault`]); agents still naming it are reported by
    /// [`Store::check`].
    pub fn remove_model(&self, id: &str) -> Result<ModelEntry> {
        self.update_models(|catalog| {
            let index = catalog
                .models
                .iter()
                .position(|entry| entry.id == id)
                .ok_or_else(|| not_found(id))?;
            if catalog.default.as_deref() == Some(id) {
                return Err(StoreError::ModelIsDefault { id: id.to_owned() });
            }
            Ok(catalog.models.remove(index))
        })
    }

    /// Sets `enabled: true` on the model `id`.
    pub fn enable_model(&self, id: &str) -> Result<()> {
        self.set_model_enabled(id, true)
    }

    /// Sets `enabled: false` on the model `id`.
    pub fn disable_model(&self, id: &str) -> Result<()> {
        self.set_model_enabled(id, false)
    }

    fn set_model_enabled(&self, id: &str, enabled: bool) -> Result<()> {
        self.update_models(|catalog| {
            catalog.get_mut(id).ok_or_else(|| not_found(id))?.enabled = Some(enabled);
            Ok(())
        })
    }

    /// Makes `id` the default model (it must be listed), or clears the default with `None`.
    pub fn set_default_model(&self, id: Option<&str>) -> Result<()> {
        self.update_models(|catalog| {
            if let Some(id) = id
                && catalog.get(id).is_none()
            {
                return Err(not_found(id));
            }
            catalog.default = id.map(str::to_owned);
            Ok(())
        })
    }

    /// The default model's entry; `None` when no default is set.
    pub fn default_model(&self) -> Result<Option<ModelEntry>> {
        let catalog = self.load_models()?;
        Ok(catalog.default_model().cloned())
    }
}
