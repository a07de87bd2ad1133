//! The store handle: its root, path confinement, and the shared read / write / update steps.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use std::time::Instant;

use crate::atomic;
use crate::error::{Result, StoreError};
use crate::layout::{Layout, create_private_dir};
use crate::platform;
use crate::revision::Revision;
use crate::{trace, yaml};

/// A Viben store: the files under one root (`~/.viben` by default).
///
/// Cheap to clone (it holds two paths); every method opens the files it needs and closes
/// them again, so any number of `Store`s in any number of processes can work on one root.
#[derive(Debug, Clone)]
pub struct Store {
    layout: Layout,
    /// The root with every symbolic link resolved; found when first needed, since the root
    /// may not exist until the first write.
    real_root: OnceLock<PathBuf>,
    /// Saves rewrite whole files through serde instead of editing them in place (benchmarks).
    rewrite_whole_files: bool,
    /// The upgrade steps this store runs: the registered ones, or a test's.
    upgrade_steps: &'static [crate::UpgradeStep],
}

/// What a listing found: the records that loaded, and one error per file that did not.
///
/// One broken file never hides the others.
#[derive(Debug)]
pub struct Listing<T> {
    /// The records that loaded and passed validation, in the order the listing method
    /// documents: agents and providers by id, sessions newest first.
    pub items: Vec<T>,
    /// One error per file that did not (each names its file, and line and column where known).
    pub errors: Vec<StoreError>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl Store {
    /// Opens the store at `root` without creating anything: reading a store that does not
    /// exist (or lacks some folders) finds it empty, and each write creates the folders it
    /// writes into (mode 0700), the root included. [`Store::init`] creates the whole layout.
    ///
    /// Refuses a root whose folders lead outside it through symbolic links.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        Self::with_layout(Layout::new(root))
    }

    /// The same store, whose saves rewrite whole files through serde (dropping comments)
    /// instead of editing them in place, as saves did before: only for the benchmark that
    /// compares the two.
    #[doc(hidden)]
    #[must_use]
    pub fn rewriting_whole_files(mut self) -> Self {
        self.rewrite_whole_files = true;
        self
    }

    /// Whether saves rewrite whole files (see [`Store::rewriting_whole_files`]).
    pub(crate) fn rewrites_whole_files(&self) -> bool {
        self.rewrite_whole_files
    }

    /// Opens the default store: `$VIBEN_HOME`, else `$HOME/.viben` (see [`Store::open`]).
    pub fn open_default() -> Result<Self> {
        Self::with_layout(Layout::from_env()?)
    }

    /// Opens the store laid out by `layout` (see [`Store::open`]).
    pub fn with_layout(layout: Layout) -> Result<Self> {
        let store = Self {
            layout,
            real_root: OnceLock::new(),
            rewrite_whole_files: false,
            upgrade_steps: crate::format::STEPS,
        };
        for dir in [
            store.layout.agents_dir(),
            store.layout.providers_dir(),
            store.layout.sessions_dir(),
            store.layout.telemetry_dir(),
        ] {
            store.confine(&dir)?;
        }
        Ok(store)
    }

    /// Creates the root and every folder of the layout where missing (mode 0700; existing
    /// folders keep theirs), for `viben init` and installers. Not needed before writing: each
    /// write creates what it needs.
    ///
    /// Each folder is checked before it is made, so a symbolic link leading outside the root
    /// (`telemetry -> /elsewhere`) is refused and nothing is created where it points.
    ///
    /// Also records the store's format in `version.yaml` when no file says it yet.
    pub fn init(&self) -> Result<()> {
        self.ensure_dir(self.layout.root())?;
        for folder in crate::layout::FOLDERS {
            self.ensure_dir(&self.layout.root().join(folder))?;
        }
        let format = self.format()?;
        if !format.recorded {
            self.record_format(format.found)?;
        }
        Ok(())
    }

    /// This store running `steps` as its upgrade steps in place of the registered ones, and
    /// writing format `1 + steps.len()`: for tests of the upgrade machinery only.
    #[doc(hidden)]
    pub fn with_upgrade_steps(mut self, steps: &'static [crate::UpgradeStep]) -> Self {
        self.upgrade_steps = steps;
        self
    }

    /// The upgrade steps this store runs (see [`Store::with_upgrade_steps`]).
    pub(crate) fn upgrade_steps(&self) -> &'static [crate::UpgradeStep] {
        self.upgrade_steps
    }

    /// Creates the folder `dir` of the store (and the missing folders above it, up to and
    /// including the root) with mode 0700, for a write about to go into it.
    pub(crate) fn ensure_dir(&self, dir: &Path) -> Result<()> {
        self.check_writable()?;
        self.confine(dir)?;
        create_private_dir(dir, true).map_err(|e| StoreError::io("create folder", dir, e))?;
        // A link raced in where a folder was missing is caught here.
        self.confine(dir)
    }

    /// The root with symbolic links resolved. Only asked for once something under the root
    /// was found, so the root exists.
    fn real_root(&self) -> Result<&Path> {
        if let Some(real) = self.real_root.get() {
            return Ok(real);
        }
        let real = fs::canonicalize(self.layout.root())
            .map_err(|e| StoreError::io("resolve", self.layout.root(), e))?;
        Ok(self.real_root.get_or_init(|| real))
    }

    /// The store's paths.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The agents (`agents/<id>/config.yaml`).
    pub fn agents(&self) -> crate::Agents<'_> {
        crate::Agents { store: self }
    }

    /// The providers (`providers/<name>.yaml`).
    pub fn providers(&self) -> crate::Providers<'_> {
        crate::Providers { store: self }
    }

    /// The model catalog (`models.yaml`).
    pub fn models(&self) -> crate::Catalog<'_> {
        crate::Catalog { store: self }
    }

    /// The channels (`channels.yaml`).
    pub fn channels(&self) -> crate::Channels<'_> {
        crate::Channels { store: self }
    }

    /// The signed-in web account (`profile.yaml`).
    pub fn profile(&self) -> crate::ProfileFile<'_> {
        crate::ProfileFile { store: self }
    }

    /// The sessions and their message logs (`sessions/<id>/`).
    pub fn sessions(&self) -> crate::Sessions<'_> {
        crate::Sessions { store: self }
    }

    /// The telemetry logs (`telemetry/<signal>/<YYYY-MM-DD>.jsonl`).
    pub fn telemetry(&self) -> crate::Telemetry<'_> {
        crate::Telemetry { store: self }
    }

    /// Removes temporary files left by writers that crashed (older than ten minutes) from every
    /// folder of the store, and agent folders a crashed [`crate::Agents::delete`] had moved aside
    /// (`agents/.<id>.deleted-<pid>-<nonce>`), and returns their paths. Writes clean their own
    /// folder as they go; this sweeps the rest.
    pub fn clean_temp_files(&self) -> Result<Vec<PathBuf>> {
        self.check_writable()?;
        let mut dirs = vec![self.layout.root().to_owned(), self.layout.providers_dir()];
        for parent in [self.layout.agents_dir(), self.layout.sessions_dir()] {
            dirs.extend(self.subdirs(&parent)?);
        }
        let mut removed: Vec<PathBuf> = dirs
            .iter()
            .flat_map(|dir| atomic::clean_stale_temps(dir, None, atomic::STALE_TEMP_AGE))
            .collect();
        for parent in [self.layout().agents_dir(), self.layout().sessions_dir()] {
            removed.extend(atomic::clean_doomed_dirs(&parent, atomic::STALE_TEMP_AGE));
        }
        Ok(removed)
    }

    /// The real (not symbolic-link) sub-folders of `dir`.
    /// A missing `dir` has none.
    pub(crate) fn subdirs(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let mut found = Vec::new();
        let Some(entries) = read_dir_if_exists(dir)? else {
            return Ok(found);
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("list", dir, e))?;
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                found.push(entry.path());
            }
        }
        Ok(found)
    }

    /// Refuses `path` unless it lies under the root and no symbolic link on the way leads
    /// outside it. Components that do not exist yet are fine.
    pub(crate) fn confine(&self, path: &Path) -> Result<()> {
        self.confine_below(self.layout.root(), path)
    }

    /// Like [`Store::confine`], trusting `checked`, a folder already known to be a real
    /// folder inside the root, and inspecting only the components of `path` below it.
    pub(crate) fn confine_below(&self, checked: &Path, path: &Path) -> Result<()> {
        let outside = || StoreError::OutsideRoot {
            path: path.to_owned(),
            root: self.layout.root().to_owned(),
        };
        let rel = path.strip_prefix(checked).map_err(|_| outside())?;
        let mut current = checked.to_owned();
        for component in rel.components() {
            match component {
                Component::Normal(name) => current.push(name),
                _ => return Err(outside()),
            }
            match fs::symlink_metadata(&current) {
                Ok(meta) if meta.file_type().is_symlink() => match fs::canonicalize(&current) {
                    Ok(real) if real.starts_with(self.real_root()?) => {}
                    _ => return Err(outside()),
                },
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(StoreError::io("inspect", current, e)),
            }
        }
        Ok(())
    }

    /// The bytes of `path`, or `None` when it does not exist. Refuses files over `limit`
    /// bytes without reading them, and paths that escape the root.
    pub(crate) fn read_bytes(&self, path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
        self.read_bytes_below(self.layout.root(), path, limit)
    }

    /// [`Store::read_bytes`] with the confinement check starting below `checked` (see
    /// [`Store::confine_below`]).
    pub(crate) fn read_bytes_below(
        &self,
        checked: &Path,
        path: &Path,
        limit: u64,
    ) -> Result<Option<Vec<u8>>> {
        // The folders on the way are checked one by one; the file itself is opened without
        // following a link (one system call fewer than an `lstat` first), and only when it
        // is a link is it resolved and checked.
        if let Some(dir) = path.parent() {
            self.confine_below(checked, dir)?;
        }
        // `O_NONBLOCK`: opening a FIFO (or a device) put where a file belongs must not wait
        // for a writer; anything but a regular file is then refused.
        let opened = platform::no_follow_non_blocking(OpenOptions::new().read(true)).open(path);
        let file = match opened {
            Ok(file) => file,
            Err(e) if platform::is_link_refused(&e) => {
                self.confine_below(checked, path)?;
                match open_regular(OpenOptions::new().read(true), path, "read")? {
                    Some(file) => file,
                    None => return Ok(None),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io("read", path, e)),
        };
        let len = regular_len(&file, path)?;
        if len > limit {
            return Err(StoreError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        let mut bytes = Vec::with_capacity(len as usize + 1);
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| StoreError::io("read", path, e))?;
        if bytes.len() as u64 > limit {
            return Err(StoreError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        Ok(Some(bytes))
    }

    /// Reads and parses a YAML file (no validation); `None` when it does not exist.
    pub(crate) fn load_doc<T: DeserializeOwned>(
        &self,
        path: &Path,
        empty: Option<fn() -> T>,
    ) -> Result<Option<(T, Revision)>> {
        self.load_doc_below(self.layout.root(), path, empty)
    }

    /// [`Store::load_doc`] with the confinement check starting below `checked`.
    pub(crate) fn load_doc_below<T: DeserializeOwned>(
        &self,
        checked: &Path,
        path: &Path,
        empty: Option<fn() -> T>,
    ) -> Result<Option<(T, Revision)>> {
        let started = Instant::now();
        let loaded = match self.read_bytes_below(checked, path, yaml::MAX_YAML_BYTES)? {
            None => None,
            Some(bytes) => {
                let value = yaml::from_bytes(path, &bytes, empty).inspect_err(|error| {
                    tracing::warn!(
                        target: trace::READ,
                        path = %self.layout.relative(path).display(),
                        error = %viben_model::Chain(error),
                        "unreadable"
                    );
                })?;
                Some((value, Revision::of(&bytes), bytes.len()))
            }
        };
        tracing::debug!(
            target: trace::READ,
            path = %self.layout.relative(path).display(),
            bytes = loaded.as_ref().map(|(_, _, len)| *len),
            micros = trace::micros_since(started),
            "read"
        );
        Ok(loaded.map(|(value, revision, _)| (value, revision)))
    }
}

/// The entries of the folder `dir`; `None` when it does not exist (a store folder not made
/// yet reads as empty).
pub(crate) fn read_dir_if_exists(dir: &Path) -> Result<Option<fs::ReadDir>> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(Some(entries)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io("list", dir, e)),
    }
}

/// Opens `path` with `options` plus `O_NONBLOCK`, so a FIFO or device in place of a store
/// file cannot block the open, and refuses anything but a regular file with
/// [`StoreError::NotAFile`]. `None` when `path` does not exist.
pub(crate) fn open_regular(
    options: &mut OpenOptions,
    path: &Path,
    action: &'static str,
) -> Result<Option<File>> {
    match platform::non_blocking(options).open(path) {
        Ok(file) => {
            regular_len(&file, path)?;
            Ok(Some(file))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        // A FIFO opened for writing without a reader.
        Err(e) if platform::is_no_reader(&e) => Err(StoreError::NotAFile {
            path: path.to_owned(),
        }),
        Err(e) => Err(StoreError::io(action, path, e)),
    }
}

/// Refuses the open `file` with [`StoreError::Linked`] when it has other hard links: a file
/// the store appends to in place must be its own, not also a name for a file elsewhere.
pub(crate) fn refuse_linked(file: &File, path: &Path) -> Result<()> {
    let meta = file
        .metadata()
        .map_err(|e| StoreError::io("inspect", path, e))?;
    if platform::link_count(&meta) > 1 {
        return Err(StoreError::Linked {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// The length of the open `file`, refusing it unless it is a regular file.
pub(crate) fn regular_len(file: &File, path: &Path) -> Result<u64> {
    let meta = file
        .metadata()
        .map_err(|e| StoreError::io("inspect", path, e))?;
    if meta.is_file() {
        Ok(meta.len())
    } else {
        Err(StoreError::NotAFile {
            path: path.to_owned(),
        })
    }
}

impl Store {
    /// Refuses [`StoreError::CaseCollision`] when `dir` holds an entry `<other><suffix>` whose
    /// `other` differs from `id` only in case or Unicode normalization: on a case-insensitive
    /// file system both would be one file. The caller holds `dir`'s folder lock
    /// ([`crate::lock::lock_exclusive`] of the folder), so two creates cannot both pass.
    pub(crate) fn refuse_case_collision(
        &self,
        dir: &Path,
        kind: &'static str,
        id: &str,
        suffix: &str,
    ) -> Result<()> {
        let Some(entries) = read_dir_if_exists(dir)? else {
            return Ok(());
        };
        let key = viben_model::path_id_fold_key(id);
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("list", dir, e))?;
            let name = entry.file_name();
            let Some(other) = name.to_str().and_then(|n| n.strip_suffix(suffix)) else {
                continue;
            };
            if other != id && !other.starts_with('.') && viben_model::path_id_fold_key(other) == key
            {
                return Err(StoreError::CaseCollision {
                    kind,
                    id: id.to_owned(),
                    existing: other.to_owned(),
                });
            }
        }
        Ok(())
    }
}
