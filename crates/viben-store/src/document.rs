//! The document core: every YAML document of the store is located, read (with limits and
//! placed errors), validated, locked, checked against a revision, saved crash-safely, deleted
//! and listed here, written once. Each kind of document says only what differs: where it
//! lives, its noun in messages, its validation, its file mode, the value of an empty file and
//! the field holding its id ([`Document`], [`Record`], [`Single`], [`EntryList`]).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use viben_model::ValidationError;

use std::time::Instant;

use crate::atomic;
use crate::error::{Result, StoreError};
use crate::layout::{Layout, create_private_dir};
use crate::lock;
use crate::revision::{Revision, Versioned};
use crate::store::{Listing, Store, read_dir_if_exists};

/// Listings of more records than this parse on several threads.
const PARALLEL_FROM: usize = 64;

/// How a rewrite sets the file's permission bits.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FileMode {
    /// Keep an existing file's mode; 0600 for a new file.
    Keep,
    /// Always 0600 (the file holds a secret).
    Private,
}

/// One kind of YAML document: what the core needs to read, check and write it.
pub(crate) trait Document:
    Serialize + DeserializeOwned + Clone + PartialEq + Send + Sync
{
    /// Its noun in messages and errors: `agent`, `provider`, `session`, ...
    const KIND: &'static str;

    /// The value of an empty file, when an empty file is allowed.
    const EMPTY: Option<fn() -> Self> = None;

    /// The rules it breaks (none: it is valid).
    fn problems(&self) -> Vec<ValidationError>;

    /// The permission bits of the written file.
    fn mode(&self) -> FileMode {
        FileMode::Keep
    }
}

/// How the records of a [`Record`] kind sit in their folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `<folder>/<id>/<file>`: a folder per record (agents, sessions). With `reuse`, a create
    /// finding the record's folder without its document writes into it (an agent's folder
    /// left by a crash between the two); without, the id is taken.
    FolderPerRecord {
        /// Whether a create may use an existing folder that has no document.
        reuse: bool,
    },
    /// `<folder>/<id>.yaml`: a file per record (providers).
    FilePerRecord,
}

impl Shape {
    /// What follows the id in an entry's name in the kind's folder.
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Self::FolderPerRecord { .. } => "",
            Self::FilePerRecord => ".yaml",
        }
    }
}

/// A kind stored as one document per id (agents, providers, sessions).
pub(crate) trait Record: Document {
    /// The field holding the id (`id`, `name`).
    const ID_FIELD: &'static str;
    /// How its records sit in [`Record::folder`].
    const SHAPE: Shape;
    /// The folder holding every record of the kind.
    fn folder(layout: &Layout) -> PathBuf;
    /// The document of the record `id`.
    fn path(layout: &Layout, id: &str) -> PathBuf;
    /// The record's id.
    fn id(&self) -> &str;

    /// Puts a listing in the kind's order (by id, as listed, unless the kind says otherwise).
    fn order(_items: &mut [Self]) {}

    /// Adjusts a record an update changed, before it is written (a session's `updated_at`).
    fn touch(&mut self, _before: &Self) {}

    /// What a create holds from its checks until the record is written, beyond the folder's
    /// lock (a session holds its agent's lock, having checked that the agent exists).
    fn guard_create(_store: &Store, _value: &Self) -> Result<Option<lock::LockGuard>> {
        Ok(None)
    }
}

/// The verbs every record kind's handle has, written once for all of them: `list`, `get`,
/// `get_versioned`, `create`, `update`, `save_if_unchanged`. Used inside the handle's `impl`,
/// with the kind's type, its noun and the field holding its id.
macro_rules! record_verbs {
    ($kind:ty, $noun:literal, $id:literal) => {
        #[doc = concat!(
            "Every ", $noun, ", in the kind's order, and one error per entry that does not \
             load: a file that does not parse, breaks a rule or names another ", $id, ", a name \
             that is not UTF-8 or not a valid ", $id, ". Names starting with `.` are skipped."
        )]
        pub fn list(&self) -> $crate::error::Result<$crate::store::Listing<$kind>> {
            self.store.list_records()
        }

        #[doc = concat!("The ", $noun, " `", $id, "`.")]
        pub fn get(&self, id: &str) -> $crate::error::Result<$kind> {
            self.get_versioned(id).map(|v| v.value)
        }

        #[doc = concat!(
            "The ", $noun, " `", $id, "` and the revision of its file, for a later \
             `save_if_unchanged`."
        )]
        pub fn get_versioned(
            &self,
            id: &str,
        ) -> $crate::error::Result<$crate::revision::Versioned<$kind>> {
            self.store.get_record(id)
        }

        #[doc = concat!(
            "Creates the ", $noun, " and returns its file's revision. Refuses an ", $id, " \
             that is taken ([`crate::StoreError::AlreadyExists`]), one that differs from an \
             existing one's only in case ([`crate::StoreError::CaseCollision`]) and one that \
             Windows or macOS could not use as a name ([`crate::StoreError::InvalidId`]); \
             validates before anything is made."
        )]
        pub fn create(&self, value: &$kind) -> $crate::error::Result<$crate::revision::Revision> {
            self.store.create_record(value)
        }

        #[doc = concat!(
            "Changes the ", $noun, " `", $id, "` under its file's lock: reads it, applies \
             `change`, validates, and writes it back crash-safely, editing only the changed \
             values' text so comments and layout survive (not at all when nothing changed). Fields this version does not know are kept; the \
             ", $id, " cannot change; nothing is written when `change` fails. Returns the \
             value as written and its revision."
        )]
        pub fn update(
            &self,
            id: &str,
            change: impl FnOnce(&mut $kind) -> $crate::error::Result<()>,
        ) -> $crate::error::Result<$crate::revision::Versioned<$kind>> {
            self.store.update_record(id, change)
        }

        #[doc = concat!(
            "Writes the ", $noun, " if its file is still at `expected` (the revision of the \
             read it was computed from; [`crate::Revision::ABSENT`] creates it, by the rules \
             of `create`), else refuses with [`crate::StoreError::Conflict`]. Returns the new \
             revision."
        )]
        pub fn save_if_unchanged(
            &self,
            value: &$kind,
            expected: &$crate::revision::Revision,
        ) -> $crate::error::Result<$crate::revision::Revision> {
            self.store.save_record_if_unchanged(value, expected)
        }
    };
}

pub(crate) use record_verbs;

/// A kind stored as one document for the whole store (the catalog, channels, the profile).
pub(crate) trait Single: Document {
    /// The document.
    fn path(layout: &Layout) -> PathBuf;
}

/// A [`Single`] document that is a list of entries with ids (the catalog, channels).
pub(crate) trait EntryList: Single + Default {
    /// One entry.
    type Entry: Clone;
    /// The noun of an entry in messages: `model`, `channel`.
    const ENTRY_KIND: &'static str;
    /// The entries, in file order.
    fn entries(&self) -> &Vec<Self::Entry>;
    /// The entries, to change.
    fn entries_mut(&mut self) -> &mut Vec<Self::Entry>;
    /// An entry's id.
    fn entry_id(entry: &Self::Entry) -> &str;
    /// Refuses an id that cannot name an entry, before the file is read.
    fn check_entry_id(_id: &str) -> Result<()> {
        Ok(())
    }
    /// Refuses removing the entry `id` (the default model).
    fn check_removal(&self, _id: &str) -> Result<()> {
        Ok(())
    }
}

/// Validates an id the caller gave before it becomes part of a path.
pub(crate) fn check_id(kind: &'static str, id: &str) -> Result<()> {
    viben_model::validate_path_id(kind, id).map_err(|source| StoreError::InvalidId { source })
}

/// Validates the id of a record about to be created, which becomes a new file or folder
/// name: also refuses names Windows or macOS cannot hold ([`viben_model::validate_portable_path_id`]).
pub(crate) fn check_new_id(kind: &'static str, id: &str) -> Result<()> {
    viben_model::validate_portable_path_id(kind, id)
        .map_err(|source| StoreError::InvalidId { source })
}

/// The first of `problems` as an [`StoreError::Invalid`] about `path`.
pub(crate) fn first_invalid(path: &Path, problems: Vec<ValidationError>) -> Result<()> {
    match problems.into_iter().next() {
        Some(source) => Err(StoreError::Invalid {
            path: path.to_owned(),
            line: None,
            column: None,
            source,
        }),
        None => Ok(()),
    }
}

/// Refuses `value` with its first broken rule, about `path`.
pub(crate) fn validate<D: Document>(path: &Path, value: &D) -> Result<()> {
    first_invalid(path, value.problems())
}

/// `NotFound` for the record `id` of kind `kind`.
pub(crate) fn not_found(kind: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        kind,
        id: id.to_owned(),
    }
}

/// Refuses a record whose id field is not the id its location gives.
pub(crate) fn check_record_id<K: Record>(path: &Path, id: &str, value: &K) -> Result<()> {
    if value.id() == id {
        Ok(())
    } else {
        Err(StoreError::IdMismatch {
            path: path.to_owned(),
            field: K::ID_FIELD,
            expected: id.to_owned(),
            found: value.id().to_owned(),
        })
    }
}

/// One entry of a kind's folder, as the one listing policy sees it.
#[derive(Debug)]
pub(crate) enum Scanned {
    /// A record's entry: its id (a valid path id), its path, and whether it is a real folder
    /// (not a symbolic link) for a folder-per-record kind.
    Record {
        /// The id.
        id: String,
        /// The entry's path.
        path: PathBuf,
        /// A real folder (for [`Shape::FolderPerRecord`]).
        real_dir: bool,
    },
    /// An entry that cannot be a record: a name that is not UTF-8 ([`StoreError::BadName`]) or
    /// not a valid id ([`StoreError::Invalid`]).
    Bad(StoreError),
    /// A hidden entry (`.` first: lock, temporary and moved-aside files).
    Hidden {
        /// The name.
        name: String,
        /// The path.
        path: PathBuf,
    },
}

impl Store {
    /// The entries of `dir` for a kind of `shape`, by the one listing policy: a missing
    /// folder holds nothing; names that are not UTF-8 or not valid ids are reported
    /// ([`Scanned::Bad`]); hidden names are set apart; entries of the wrong shape (a file
    /// among agent folders, a name without `.yaml` among providers) are not the kind's and are
    /// passed over. Records come first, sorted by id.
    pub(crate) fn scan(
        &self,
        dir: &Path,
        kind: &'static str,
        shape: Shape,
    ) -> Result<Vec<Scanned>> {
        let mut found = Vec::new();
        let Some(entries) = read_dir_if_exists(dir)? else {
            return Ok(found);
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("list", dir, e))?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                found.push(Scanned::Bad(StoreError::BadName { path }));
                continue;
            };
            if name.starts_with('.') {
                found.push(Scanned::Hidden { name, path });
                continue;
            }
            let file_type = entry
                .file_type()
                .map_err(|e| StoreError::io("inspect", &path, e))?;
            let folder_like = file_type.is_dir() || file_type.is_symlink();
            let id = match shape {
                Shape::FolderPerRecord { .. } if folder_like => name,
                Shape::FilePerRecord if !file_type.is_dir() => {
                    match name.strip_suffix(shape.suffix()) {
                        Some(id) => id.to_owned(),
                        None => continue,
                    }
                }
                _ => continue,
            };
            match viben_model::validate_path_id(kind, &id) {
                Ok(()) => found.push(Scanned::Record {
                    id,
                    path,
                    real_dir: file_type.is_dir(),
                }),
                Err(source) => found.push(Scanned::Bad(StoreError::Invalid {
                    path,
                    line: None,
                    column: None,
                    source,
                })),
            }
        }
        // Records sorted by id, then the rest in folder order (a stable sort).
        found.sort_by(|a, b| match (a, b) {
            (Scanned::Record { id: a, .. }, Scanned::Record { id: b, .. }) => a.cmp(b),
            (Scanned::Record { .. }, _) => std::cmp::Ordering::Less,
            (_, Scanned::Record { .. }) => std::cmp::Ordering::Greater,
            _ => std::cmp::Ordering::Equal,
        });
        Ok(found)
    }

    /// Reads, checks and validates the record `id` (already a valid id), confining the
    /// path below `checked`. `NotFound` when its file does not exist.
    fn read_record<K: Record>(&self, checked: &Path, id: &str) -> Result<Versioned<K>> {
        let path = K::path(self.layout(), id);
        let Some((value, revision)) = self.load_doc_below::<K>(checked, &path, K::EMPTY)? else {
            return Err(not_found(K::KIND, id));
        };
        check_record_id(&path, id, &value)?;
        validate(&path, &value)?;
        Ok(Versioned { value, revision })
    }

    /// The record `id` and its revision.
    pub(crate) fn get_record<K: Record>(&self, id: &str) -> Result<Versioned<K>> {
        check_id(K::KIND, id)?;
        self.read_record(self.layout().root(), id)
    }

    /// Every record of the kind, sorted by id, and one error per entry that does not load.
    pub(crate) fn list_records<K: Record>(&self) -> Result<Listing<K>> {
        let mut listing = Listing::default();
        let mut ids = Vec::new();
        for scanned in self.scan(&K::folder(self.layout()), K::KIND, K::SHAPE)? {
            match scanned {
                Scanned::Record { id, real_dir, .. } => ids.push((id, real_dir)),
                Scanned::Bad(err) => listing.errors.push(err),
                Scanned::Hidden { .. } => {}
            }
        }
        for result in self.load_all::<K>(&ids) {
            match result {
                Ok(value) => listing.items.push(value),
                Err(err) => listing.errors.push(err),
            }
        }
        K::order(&mut listing.items);
        Ok(listing)
    }

    /// Loads the listed records `ids` in order, on several threads when there are many.
    pub(crate) fn load_all<K: Record>(&self, ids: &[(String, bool)]) -> Vec<Result<K>> {
        let load = |part: &[(String, bool)]| -> Vec<Result<K>> {
            part.iter()
                .map(|(id, real)| self.load_listed(id, *real))
                .collect()
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if ids.len() < PARALLEL_FROM || threads < 2 {
            return load(ids);
        }
        let chunk = ids.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = ids
                .chunks(chunk)
                .map(|part| scope.spawn(move || load(part)))
                .collect();
            handles
                .into_iter()
                .zip(ids.chunks(chunk))
                // A panicking parser thread must not take the listing down with it: each of
                // its records becomes an error of the listing (reading them again here would
                // panic again).
                .flat_map(|(handle, part)| {
                    handle.join().unwrap_or_else(|_| {
                        part.iter()
                            .map(|(id, _)| {
                                Err(StoreError::io(
                                    "read",
                                    K::path(self.layout(), id),
                                    io::Error::other(
                                        "the reader stopped unexpectedly on this file (a bug in \
                                         viben; please report it with the file)",
                                    ),
                                ))
                            })
                            .collect()
                    })
                })
                .collect()
        })
    }

    /// Loads a listed record; `real_dir` says the listing saw a real folder (not a link), so
    /// only the document itself needs the symbolic-link check.
    fn load_listed<K: Record>(&self, id: &str, real_dir: bool) -> Result<K> {
        let checked = if real_dir && matches!(K::SHAPE, Shape::FolderPerRecord { .. }) {
            K::folder(self.layout()).join(id)
        } else {
            self.layout().root().to_owned()
        };
        // In a listing the entry exists, so a missing record is a missing file: name it.
        self.read_record::<K>(&checked, id)
            .map(|v| v.value)
            .map_err(|e| match e {
                StoreError::NotFound { .. } => StoreError::io(
                    "read",
                    K::path(self.layout(), id),
                    io::ErrorKind::NotFound.into(),
                ),
                other => other,
            })
    }

    /// Creates the record `value`: refuses an id that cannot be a name everywhere
    /// ([`check_new_id`]) or differs from an existing record's only in case, validates before
    /// anything is made, and writes it under the lock of the kind's folder (so two creates of
    /// `a` and `A` cannot both pass). [`StoreError::AlreadyExists`] when the id is taken (the
    /// record's folder or file exists); a folder this call made is removed again when the
    /// write fails, so a retry can succeed.
    pub(crate) fn create_record<K: Record>(&self, value: &K) -> Result<Revision> {
        self.create_record_at(value).map_err(|e| match e {
            StoreError::Conflict { .. } => StoreError::AlreadyExists {
                kind: K::KIND,
                id: value.id().to_owned(),
            },
            other => other,
        })
    }

    /// [`Store::create_record`], with a taken id as [`StoreError::Conflict`] (a save from
    /// [`Revision::ABSENT`] that is no longer current).
    pub(crate) fn create_record_at<K: Record>(&self, value: &K) -> Result<Revision> {
        let id = value.id();
        check_new_id(K::KIND, id)?;
        let path = K::path(self.layout(), id);
        self.confine(&path)?;
        // Validate before any folder exists: a refused record leaves nothing behind.
        validate(&path, value)?;
        let _guard = K::guard_create(self, value)?;
        let folder = K::folder(self.layout());
        self.ensure_dir(&folder)?;
        let _folder_lock = lock::lock_exclusive(&folder)?;
        self.refuse_case_collision(&folder, K::KIND, id, K::SHAPE.suffix())?;
        let made = match K::SHAPE {
            Shape::FilePerRecord => None,
            Shape::FolderPerRecord { reuse } => {
                let dir = folder.join(id);
                match create_private_dir(&dir, false) {
                    Ok(()) => Some(dir),
                    // The document decides, under its lock, whether the id is taken.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists && reuse => None,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        return Err(StoreError::Conflict { path });
                    }
                    Err(e) => return Err(StoreError::io("create folder", &dir, e)),
                }
            }
        };
        let written = self.modify_doc(
            &path,
            Some(Revision::ABSENT),
            || Ok(value.clone()),
            |_| Ok(()),
        );
        match written {
            Ok(written) => Ok(written.revision),
            Err(err) => {
                if let Some(dir) = made {
                    // This call made the folder, and nothing can have used it yet: the
                    // record's document was never there.
                    let _ = fs::remove_dir_all(&dir);
                }
                Err(err)
            }
        }
    }

    /// Creates or replaces the record `value` (a file-per-record kind). A new record's id
    /// follows the rules of [`Store::create_record`]; an existing one is replaced whatever its
    /// name.
    pub(crate) fn set_record<K: Record>(&self, value: &K) -> Result<Revision> {
        check_id(K::KIND, value.id())?;
        validate(&K::path(self.layout(), value.id()), value)?;
        let written = self.upsert_record(
            value.id(),
            || value.clone(),
            |current| {
                *current = value.clone();
                Ok(())
            },
        )?;
        Ok(written.revision)
    }

    /// Changes the record `id` (a file-per-record kind) under its file's lock, starting from
    /// `new()` when it does not exist, in one locked step. A new record's id follows the rules
    /// of [`Store::create_record`]; the id cannot change. A new record that would be refused
    /// is refused before any folder is made (`change` may then run twice).
    pub(crate) fn upsert_record<K: Record>(
        &self,
        id: &str,
        new: impl Fn() -> K,
        change: impl Fn(&mut K) -> Result<()>,
    ) -> Result<Versioned<K>> {
        check_id(K::KIND, id)?;
        let path = K::path(self.layout(), id);
        self.confine(&path)?;
        if !path.exists() {
            check_new_id(K::KIND, id)?;
            let mut probe = new();
            change(&mut probe)?;
            check_record_id(&path, id, &probe)?;
            validate(&path, &probe)?;
        }
        let folder = K::folder(self.layout());
        self.ensure_dir(&folder)?;
        // Held until the file is written, so two creates of `a` and `A` cannot both pass the
        // case check. Order: the folder's lock before the file's.
        let _folder_lock = lock::lock_exclusive(&folder)?;
        self.modify_doc(
            &path,
            None,
            // Absent under its lock: this call creates it.
            || {
                check_new_id(K::KIND, id)?;
                self.refuse_case_collision(&folder, K::KIND, id, K::SHAPE.suffix())?;
                Ok(new())
            },
            |value| {
                change(value)?;
                check_record_id(&path, id, value)
            },
        )
    }

    /// Changes the record `id` under its document's lock; the id cannot change.
    pub(crate) fn update_record<K: Record>(
        &self,
        id: &str,
        change: impl FnOnce(&mut K) -> Result<()>,
    ) -> Result<Versioned<K>> {
        check_id(K::KIND, id)?;
        let path = K::path(self.layout(), id);
        self.modify_doc(
            &path,
            None,
            || Err(not_found(K::KIND, id)),
            |value: &mut K| {
                let before = value.clone();
                change(value)?;
                check_record_id(&path, id, value)?;
                if *value != before {
                    value.touch(&before);
                }
                Ok(())
            },
        )
    }

    /// Writes `value` if its document is still at `expected` ([`Revision::ABSENT`]: creates
    /// it, as [`Store::create_record`] does), else [`StoreError::Conflict`].
    pub(crate) fn save_record_if_unchanged<K: Record>(
        &self,
        value: &K,
        expected: &Revision,
    ) -> Result<Revision> {
        if expected.is_absent() {
            return self.create_record_at(value);
        }
        let id = value.id();
        check_id(K::KIND, id)?;
        let path = K::path(self.layout(), id);
        let written = self.modify_doc(
            &path,
            Some(*expected),
            || Err(StoreError::Conflict { path: path.clone() }),
            |current| {
                *current = value.clone();
                Ok(())
            },
        )?;
        Ok(written.revision)
    }

    /// The single document `D` and its revision; `None` when its file does not exist.
    pub(crate) fn read_single<D: Single>(&self) -> Result<Option<Versioned<D>>> {
        let path = D::path(self.layout());
        let Some((value, revision)) = self.load_doc::<D>(&path, D::EMPTY)? else {
            return Ok(None);
        };
        validate(&path, &value)?;
        Ok(Some(Versioned { value, revision }))
    }

    /// Changes the single document `D` under its lock (`missing` gives its value when the
    /// file does not exist); with `expected`, only if it is still at that revision.
    pub(crate) fn update_single<D: Single>(
        &self,
        expected: Option<Revision>,
        missing: impl Fn() -> Result<D>,
        change: impl FnOnce(&mut D) -> Result<()>,
    ) -> Result<Versioned<D>> {
        self.modify_doc(&D::path(self.layout()), expected, missing, change)
    }

    /// The entry list `D`: empty when its file does not exist.
    pub(crate) fn read_entries<D: EntryList>(&self) -> Result<Versioned<D>> {
        Ok(self.read_single::<D>()?.unwrap_or_else(|| Versioned {
            value: D::default(),
            revision: Revision::ABSENT,
        }))
    }

    /// Changes the entry list `D` under its lock (an absent file is an empty list).
    pub(crate) fn update_entries<D: EntryList>(
        &self,
        expected: Option<Revision>,
        change: impl FnOnce(&mut D) -> Result<()>,
    ) -> Result<Versioned<D>> {
        self.update_single(expected, || Ok(D::default()), change)
    }

    /// The entry `id` of `D`.
    pub(crate) fn get_entry<D: EntryList>(&self, id: &str) -> Result<D::Entry> {
        D::check_entry_id(id)?;
        self.read_entries::<D>()?
            .value
            .entries()
            .iter()
            .find(|entry| D::entry_id(entry) == id)
            .cloned()
            .ok_or_else(|| not_found(D::ENTRY_KIND, id))
    }

    /// Adds `entry` at the end of `D`; with `replace`, an entry with its id is replaced in
    /// place instead of refused with [`StoreError::AlreadyExists`].
    pub(crate) fn put_entry<D: EntryList>(
        &self,
        entry: D::Entry,
        replace: bool,
    ) -> Result<Revision> {
        let id = D::entry_id(&entry).to_owned();
        D::check_entry_id(&id)?;
        let written = self.update_entries::<D>(None, |doc| {
            let entries = doc.entries_mut();
            match entries.iter_mut().find(|e| D::entry_id(e) == id) {
                Some(existing) if replace => *existing = entry,
                Some(_) => {
                    return Err(StoreError::AlreadyExists {
                        kind: D::ENTRY_KIND,
                        id,
                    });
                }
                None => entries.push(entry),
            }
            Ok(())
        })?;
        Ok(written.revision)
    }

    /// Changes the entry `id` of `D` under the document's lock.
    pub(crate) fn change_entry<D: EntryList>(
        &self,
        id: &str,
        change: impl FnOnce(&mut D::Entry),
    ) -> Result<Revision> {
        D::check_entry_id(id)?;
        let written = self.update_entries::<D>(None, |doc| {
            let entry = doc
                .entries_mut()
                .iter_mut()
                .find(|e| D::entry_id(e) == id)
                .ok_or_else(|| not_found(D::ENTRY_KIND, id))?;
            change(entry);
            Ok(())
        })?;
        Ok(written.revision)
    }

    /// Removes the entry `id` of `D`.
    pub(crate) fn delete_entry<D: EntryList>(&self, id: &str) -> Result<()> {
        D::check_entry_id(id)?;
        self.update_entries::<D>(None, |doc| {
            let index = doc
                .entries()
                .iter()
                .position(|e| D::entry_id(e) == id)
                .ok_or_else(|| not_found(D::ENTRY_KIND, id))?;
            doc.check_removal(id)?;
            doc.entries_mut().remove(index);
            Ok(())
        })
        .map(|_| ())
    }

    /// The locked read-modify-write every change goes through.
    ///
    /// Holds the lock of `path` throughout; reads the file (`missing` gives the value when it
    /// does not exist); refuses with [`StoreError::Conflict`] when `expected` is given and the
    /// file is no longer at that revision; applies `change`; validates; and writes the result
    /// crash-safely, unless no value changed. An existing file is edited in place (only the
    /// changed values' text changes, so comments and layout stay), or rewritten whole when
    /// that cannot be done. Returns the value as written and its revision.
    pub(crate) fn modify_doc<D: Document>(
        &self,
        path: &Path,
        expected: Option<Revision>,
        missing: impl Fn() -> Result<D>,
        change: impl FnOnce(&mut D) -> Result<()>,
    ) -> Result<Versioned<D>> {
        self.modify_doc_as(path, expected, missing, change, None)
    }

    /// [`Store::modify_doc`], writing `verbatim` (a person's whole text of the file, already
    /// parsed into the value `change` sets) instead of text made from the value, so what they
    /// typed, comments included, is what the file holds.
    pub(crate) fn modify_doc_as<D: Document>(
        &self,
        path: &Path,
        expected: Option<Revision>,
        missing: impl Fn() -> Result<D>,
        change: impl FnOnce(&mut D) -> Result<()>,
        verbatim: Option<&str>,
    ) -> Result<Versioned<D>> {
        self.check_writable()?;
        self.confine(path)?;
        if let Some(dir) = path.parent()
            && !dir.is_dir()
        {
            // No folder, so no file: `missing` says whether that is an error (an agent or
            // session that does not exist), and a stale save is a conflict, both before
            // anything is created.
            missing()?;
            if expected.is_some_and(|expected| !expected.is_absent()) {
                return Err(StoreError::Conflict {
                    path: path.to_owned(),
                });
            }
            // The root and `providers/` are made by the first write into them; an agent's
            // or a session's folder only by its create.
            if dir != self.layout().root() && dir != self.layout().providers_dir() {
                return Err(StoreError::io("open", dir, io::ErrorKind::NotFound.into()));
            }
            self.ensure_dir(dir)?;
        }
        let started = Instant::now();
        // The lock file that is still the one at its path: a delete (which moves the folder
        // aside) may have unlinked the one this process opened while it waited.
        let _lock = match lock::lock_exclusive_current(path) {
            Ok(lock) => lock,
            Err(err @ StoreError::Io { .. }) if matches!(&err, StoreError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound) =>
            {
                missing()?;
                return Err(err);
            }
            Err(err) => return Err(err),
        };
        let shown = self.layout().relative(path).display().to_string();
        tracing::debug!(
            target: crate::trace::LOCK,
            path = %shown,
            wait_micros = crate::trace::micros_since(started),
            "locked"
        );
        let old = self.read_bytes(path, crate::yaml::MAX_YAML_BYTES)?;
        let revision = old.as_deref().map_or(Revision::ABSENT, Revision::of);
        if let Some(expected) = expected
            && expected != revision
        {
            return Err(StoreError::Conflict {
                path: path.to_owned(),
            });
        }
        let mut value = match &old {
            Some(bytes) => crate::yaml::from_bytes(path, bytes, D::EMPTY)?,
            None => missing()?,
        };
        let before = old.as_ref().map(|_| value.clone());
        change(&mut value)?;
        validate(path, &value)?;
        let private = matches!(value.mode(), FileMode::Private);
        let same_text = match (verbatim, old.as_deref()) {
            (Some(text), Some(old)) => text.as_bytes() == old,
            (Some(_), None) => false,
            (None, _) => true,
        };
        if before.as_ref() == Some(&value) && same_text {
            // Nothing changed: leave the file (and its comments and layout) alone, but make a
            // file holding a secret private if a person had opened it up.
            if private {
                atomic::make_private(path)?;
            }
            tracing::info!(
                target: crate::trace::SAVE,
                path = %shown,
                changed = false,
                micros = crate::trace::micros_since(started),
                "save"
            );
            return Ok(Versioned { value, revision });
        }
        let text = match (verbatim, old.as_deref().zip(before.as_ref())) {
            (Some(text), _) => text.to_owned(),
            (None, Some((old, before))) if !self.rewrites_whole_files() => {
                edited_text(path, &shown, old, before, &value)?
            }
            (None, _) => crate::yaml::to_string(path, &value)?,
        };
        atomic::write_atomic(path, text.as_bytes(), atomic::PRIVATE_MODE, !private).inspect_err(
            |error| {
                tracing::warn!(
                    target: crate::trace::SAVE,
                    path = %shown,
                    error = %viben_model::Chain(error),
                    "save failed"
                );
            },
        )?;
        tracing::info!(
            target: crate::trace::SAVE,
            path = %shown,
            changed = true,
            bytes = text.len(),
            micros = crate::trace::micros_since(started),
            "save"
        );
        let revision = Revision::of(text.as_bytes());
        Ok(Versioned { value, revision })
    }

    /// Removes `path` under its lock; `Ok(false)` when it did not exist.
    pub(crate) fn remove_file_locked(&self, path: &Path) -> Result<bool> {
        self.check_writable()?;
        self.confine(path)?;
        // Nothing to delete: done without making a lock file (or a folder for it). A file
        // created meanwhile was created after this delete.
        match fs::symlink_metadata(path) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(false);
            }
            _ => {}
        }
        // The lock file that is still the one at its path: a delete (which moves the folder
        // aside) may have unlinked the one this process opened while it waited.
        // The lock file still at its path; gone with its folder means nothing to remove.
        let _lock = match lock::lock_exclusive_current(path) {
            Ok(lock) => lock,
            Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                return Ok(false);
            }
            Err(err) => return Err(err),
        };
        match fs::remove_file(path) {
            Ok(()) => {
                if let Some(dir) = path.parent() {
                    atomic::sync_dir(dir)?;
                }
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io("delete", path, e)),
        }
    }
}

/// The text of the changed document `value`, whose file held `old` (read as `before`): the
/// change applied in place, so comments and layout stay; the whole document written anew
/// when that cannot be done (with a warning saying why).
fn edited_text<D: Document>(
    path: &Path,
    shown: &str,
    old: &[u8],
    before: &D,
    value: &D,
) -> Result<String> {
    match crate::yaml::edit::in_place(path, old, before, value, D::EMPTY) {
        Ok(text) => Ok(text),
        Err(reason) => {
            tracing::warn!(
                target: crate::trace::SAVE,
                path = %shown,
                %reason,
                "could not edit in place; rewriting the whole file (its comments are lost)"
            );
            crate::yaml::to_string(path, value)
        }
    }
}
