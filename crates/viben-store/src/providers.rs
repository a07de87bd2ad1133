//! Providers: `providers/<name>.yaml`, written 0600 when they hold an inline API key.

use std::path::Path;

use viben_model::ProviderConfig;

use crate::error::{Result, StoreError};
use crate::lock;
use crate::store::{
    DocSpec, FileMode, Listing, Store, check_id, check_new_id, first_invalid, read_dir_if_exists,
};

fn spec() -> DocSpec<ProviderConfig> {
    DocSpec {
        empty: None,
        check: |path, provider| first_invalid(path, provider.problems()),
        mode: |provider| {
            if provider.api_key.is_some() {
                FileMode::Private
            } else {
                FileMode::Keep
            }
        },
    }
}

fn check_file_name(path: &Path, name: &str, provider: &ProviderConfig) -> Result<()> {
    if provider.name == name {
        Ok(())
    } else {
        Err(StoreError::IdMismatch {
            path: path.to_owned(),
            field: "name",
            expected: name.to_owned(),
            found: provider.name.clone(),
        })
    }
}

impl Store {
    /// Every provider (`providers/*.yaml`), sorted by name, and one error per file that does
    /// not load.
    pub fn list_providers(&self) -> Result<Listing<ProviderConfig>> {
        let dir = self.layout().providers_dir();
        let mut names = Vec::new();
        let mut listing = Listing::default();
        // A folder not made yet holds nothing.
        let Some(entries) = read_dir_if_exists(&dir)? else {
            return Ok(listing);
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("list", &dir, e))?;
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".yaml")) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            match check_id("provider", name) {
                Ok(()) => names.push(name.to_owned()),
                Err(StoreError::InvalidId { source }) => listing.errors.push(StoreError::Invalid {
                    path: entry.path(),
                    source,
                }),
                Err(other) => listing.errors.push(other),
            }
        }
        names.sort_unstable();
        for name in names {
            match self.get_provider(&name) {
                Ok(provider) => listing.items.push(provider),
                Err(err) => listing.errors.push(err),
            }
        }
        Ok(listing)
    }

    /// The provider `name`.
    pub fn get_provider(&self, name: &str) -> Result<ProviderConfig> {
        check_id("provider", name)?;
        let path = self.layout().provider_config(name);
        let Some((provider, _)) = self.load_doc::<ProviderConfig>(&path, None)? else {
            return Err(StoreError::NotFound {
                kind: "provider",
                id: name.to_owned(),
            });
        };
        check_file_name(&path, name, &provider)?;
        first_invalid(&path, provider.problems())?;
        Ok(provider)
    }

    /// Creates or replaces the provider `provider.name`. The file is written with mode 0600
    /// when it holds an inline `api_key`; prefer `api_key_env`, which names an environment
    /// variable and keeps the key out of the file.
    ///
    /// A new provider's name must also be usable as a file name on Windows and macOS
    /// ([`StoreError::InvalidId`]) and may not differ from an existing provider's only in case
    /// ([`StoreError::CaseCollision`]); a provider that exists is replaced whatever its name.
    pub fn set_provider(&self, provider: &ProviderConfig) -> Result<()> {
        let name = &provider.name;
        check_id("provider", name)?;
        let path = self.layout().provider_config(name);
        self.confine(&path)?;
        // Refuse what would be refused anyway before any folder is made.
        (spec().check)(&path, provider)?;
        if !path.exists() {
            check_new_id("provider", name)?;
        }
        let dir = self.layout().providers_dir();
        self.ensure_dir(&dir)?;
        // Held until the file is written, so two creates of `a` and `A` cannot both pass the
        // case check. Order: the folder's lock before the file's.
        let _folder_lock = lock::lock_exclusive(&dir)?;
        self.modify_doc(
            &path,
            spec(),
            None,
            // Absent under its lock: this call creates it.
            || {
                check_new_id("provider", name)?;
                self.refuse_case_collision(&dir, "provider", name, ".yaml")?;
                Ok(provider.clone())
            },
            |current| {
                *current = provider.clone();
                Ok(())
            },
        )?;
        Ok(())
    }

    /// Changes the provider `name` under its file's lock (see [`Store::update_agent`]).
    pub fn update_provider<R>(
        &self,
        name: &str,
        change: impl FnOnce(&mut ProviderConfig) -> Result<R>,
    ) -> Result<(ProviderConfig, R)> {
        check_id("provider", name)?;
        let path = self.layout().provider_config(name);
        let (provider, result, _) = self.modify_doc(
            &path,
            spec(),
            None,
            || {
                Err(StoreError::NotFound {
                    kind: "provider",
                    id: name.to_owned(),
                })
            },
            |provider| {
                let result = change(provider)?;
                check_file_name(&path, name, provider)?;
                Ok(result)
            },
        )?;
        Ok((provider, result))
    }

    /// Deletes the provider `name`. Agents and models that name it are reported by
    /// [`Store::check`] afterwards.
    pub fn delete_provider(&self, name: &str) -> Result<()> {
        check_id("provider", name)?;
        let path = self.layout().provider_config(name);
        if self.remove_file_locked(&path)? {
            Ok(())
        } else {
            Err(StoreError::NotFound {
                kind: "provider",
                id: name.to_owned(),
            })
        }
    }
}
