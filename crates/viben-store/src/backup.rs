//! Backups of a whole store: one `.tar.gz` written from the live files (secrets left out
//! unless asked for), and a restore that unpacks one beside the store, checks it, and swaps it
//! in whole.
//!
//! The archive holds the store's folders and files under their paths relative to the root
//! (`agents/a/config.yaml`), nothing else: no lock files, no temporary files of interrupted
//! writes, no links. `docs/store.md` ("Backups") describes the format.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use viben_model::Hint;

use crate::atomic::PRIVATE_MODE;
use crate::check::{Problem, Severity};
use crate::error::StoreError;
use crate::layout::create_private_dir;
use crate::store::Store;
use crate::{platform, yaml};

/// The most a restore unpacks unless told otherwise: 8 GiB.
pub const DEFAULT_RESTORE_LIMIT: u64 = 8 * 1024 * 1024 * 1024;

/// What a backup takes.
#[derive(Debug, Clone, Copy, Default)]
pub struct BackupOptions {
    /// Keep secrets (API keys, bot tokens, any field [`viben_model::redact::is_secret_name`]
    /// calls secret) in the archive. Without it they are left out, and listed in
    /// [`BackupReport::secrets_left_out`].
    pub include_secrets: bool,
}

/// What a backup wrote.
#[derive(Debug, Clone, Default)]
pub struct BackupReport {
    /// Files archived.
    pub files: u64,
    /// Their bytes, before compression.
    pub bytes: u64,
    /// The secrets left out, one entry per file and field.
    pub secrets_left_out: Vec<LeftOutSecret>,
    /// What was not archived, and why.
    pub skipped: Vec<Skipped>,
}

/// A secret a backup left out: a field dropped, or a credential masked inside a value (the
/// password of a URL in a provider's `base_url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOutSecret {
    /// The file, relative to the store's root.
    pub path: PathBuf,
    /// The field, as a dotted path from the top of the record (`settings.bot_token`).
    pub field: String,
    /// How many times (a log has one per line that held it).
    pub count: u64,
}

/// Something in the store that a backup did not archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The path, relative to the store's root.
    pub path: PathBuf,
    /// Why.
    pub reason: SkipReason,
}

/// Why a backup did not archive something.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// A symbolic link: the store never follows one out, and a backup holds no links.
    Link,
    /// A FIFO, socket or device.
    NotAFile,
    /// A YAML file that does not parse, so its secrets cannot be found and left out.
    Unreadable,
    /// Lines of a log that are not JSON (a torn last line, a damaged line): their secrets
    /// cannot be found, so they were left out; readers skip such lines anyway.
    BadLogLines {
        /// How many lines.
        lines: u64,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Link => f.write_str("a symbolic link (a backup holds only files and folders)"),
            Self::NotAFile => f.write_str("not a regular file (a FIFO, socket or device)"),
            Self::Unreadable => {
                f.write_str("not valid YAML, so its secrets cannot be left out (`viben check`)")
            }
            Self::BadLogLines { lines } => write!(
                f,
                "{lines} line(s) that are not JSON were left out (their secrets cannot be found)"
            ),
        }
    }
}

/// What a restore takes.
#[derive(Debug, Clone, Copy)]
pub struct RestoreOptions {
    /// Replace a store that holds files. Without it, a restore only goes into an empty or
    /// missing folder.
    pub force: bool,
    /// The most bytes the archive may unpack to (headers included); more is refused as
    /// [`BackupError::TooLarge`] before the disk fills.
    pub max_bytes: u64,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        Self {
            force: false,
            max_bytes: DEFAULT_RESTORE_LIMIT,
        }
    }
}

/// What a restore did.
#[derive(Debug, Clone, Default)]
pub struct RestoreReport {
    /// Files restored.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Whether a store was there before (and was replaced).
    pub replaced: bool,
    /// What [`Store::check`] found in the restored store that did not refuse the restore:
    /// warnings, and errors between files (an agent naming a provider that is missing),
    /// which the store that was backed up may have had. Files that do not load refuse it.
    pub warnings: Vec<Problem>,
    /// The previous store, when it could not be removed after the swap: delete it by hand.
    pub leftover: Option<PathBuf>,
}

/// Why a backup or a restore failed. Nothing in the store was changed by a failed restore.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// There is no store at the root to back up.
    #[error("there is no store at {}", root.display())]
    NoStore {
        /// The root.
        root: PathBuf,
    },

    /// Reading or writing a file or folder failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// Writing the archive failed.
    #[error("cannot write the archive")]
    Write {
        /// The cause.
        #[source]
        source: io::Error,
    },

    /// The archive is not a readable `.tar.gz` (or was cut short).
    #[error("the archive is not a readable .tar.gz")]
    Corrupt {
        /// What the decoder said.
        #[source]
        source: io::Error,
    },

    /// An entry no backup of a store holds, refused before anything is written outside the
    /// restore's own temporary folder.
    #[error("the archive's entry {entry:?} {problem}")]
    Unsafe {
        /// The entry's path, as the archive names it.
        entry: String,
        /// What is wrong with it.
        problem: UnsafeEntry,
    },

    /// The archive unpacks to more than the limit.
    #[error("the archive unpacks to more than {limit} bytes, the limit of this restore")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },

    /// A restore into a store that holds files, without `force`.
    #[error("{} already holds a store", root.display())]
    NotEmpty {
        /// The root.
        root: PathBuf,
    },

    /// Files of the unpacked archive do not load (they do not parse, break a rule, or hold
    /// the wrong id).
    #[error(
        "the archive does not hold a valid store ({} error(s)){}",
        problems.len(),
        problems.first().map(|p| format!(": {p}")).unwrap_or_default()
    )]
    Invalid {
        /// The errors [`Store::check`] found in those files.
        problems: Vec<Problem>,
    },
}

/// What is wrong with an archive entry (see [`BackupError::Unsafe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsafeEntry {
    /// An absolute path (`/etc/passwd`).
    Absolute,
    /// A path through `..`.
    ParentDir,
    /// A symbolic or hard link (to `target`).
    Link {
        /// Where it points.
        target: String,
    },
    /// A device, FIFO or other special file.
    Special,
    /// The same path twice.
    Duplicate,
    /// An empty path, or one that names the root itself.
    NoName,
}

impl fmt::Display for UnsafeEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Absolute => f.write_str("has an absolute path"),
            Self::ParentDir => f.write_str("leads outside the store through `..`"),
            Self::Link { target } => write!(
                f,
                "is a link to {target:?} (a backup holds only files and folders)"
            ),
            Self::Special => f.write_str("is a device, FIFO or other special file"),
            Self::Duplicate => f.write_str("appears twice"),
            Self::NoName => f.write_str("names no file"),
        }
    }
}

impl Hint for BackupError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Store(err) => return err.hint(),
            Self::NoStore { .. } => {
                "check --home or VIBEN_HOME, or create the store with `viben init`".to_owned()
            }
            Self::Io { .. } => "check that the path exists and that you may access it".to_owned(),
            Self::Write { .. } => {
                "free space where the archive goes, or pick another file, then run `viben \
                 backup` again"
                    .to_owned()
            }
            Self::Corrupt { .. } => {
                "check that the file is a backup made by `viben backup` and was copied whole"
                    .to_owned()
            }
            Self::Unsafe { .. } => {
                "this archive was not made by `viben backup`; list what it holds with \
                 `tar tzvf FILE` before unpacking anything from it"
                    .to_owned()
            }
            Self::TooLarge { .. } => {
                "if you trust the archive, raise the limit with `viben restore FILE --max-size \
                 BYTES`"
                    .to_owned()
            }
            Self::NotEmpty { .. } => {
                "replace it with `viben restore FILE --force` (save it first with `viben backup \
                 FILE`), or restore elsewhere with `viben --home DIR restore FILE`"
                    .to_owned()
            }
            Self::Invalid { .. } => {
                "unpack it by hand (`tar xzf FILE -C DIR`), see every problem with `viben --home \
                 DIR check`, fix them and restore from DIR's backup"
                    .to_owned()
            }
        })
    }
}

/// A `Result` whose error is [`BackupError`].
type Result<T, E = BackupError> = std::result::Result<T, E>;

fn io_error<'p>(
    action: &'static str,
    path: &'p Path,
) -> impl FnOnce(io::Error) -> BackupError + 'p {
    move |source| BackupError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// One thing to archive, found by the walk.
enum Item {
    Folder { rel: PathBuf },
    File { rel: PathBuf, len: u64 },
}

impl Store {
    /// Writes the whole store to `out` as a `.tar.gz`, and returns what it wrote.
    ///
    /// Files are read as they are: run it while nothing else writes, or accept that a log
    /// appended to meanwhile is archived as far as it was when its turn came (each YAML file
    /// is whole: writers replace them in one rename). `progress` is called with the bytes
    /// archived so far and the total, first with `0`.
    ///
    /// Without [`BackupOptions::include_secrets`], every field whose name
    /// [`viben_model::redact::is_secret_name`] calls secret is dropped, in YAML files and in
    /// each line of a log (a field naming an environment variable, `api_key_env`, stays), and
    /// credentials inside a YAML value (a URL's password) are masked; files that cannot be
    /// parsed are left out. The archive still restores to a valid store.
    pub fn backup(
        &self,
        out: impl Write,
        options: BackupOptions,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<BackupReport> {
        let root = self.layout().root();
        let real_root = match fs::canonicalize(root) {
            Ok(real) if real.is_dir() => real,
            Ok(_) => return Err(BackupError::NoStore { root: root.into() }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BackupError::NoStore { root: root.into() });
            }
            Err(e) => return Err(io_error("resolve", root)(e)),
        };
        let mut report = BackupReport::default();
        let mut items = Vec::new();
        walk(&real_root, Path::new(""), &mut items, &mut report.skipped)?;
        let total: u64 = items
            .iter()
            .map(|item| match item {
                Item::File { len, .. } => *len,
                Item::Folder { .. } => 0,
            })
            .sum();
        progress(0, total);
        let mut done = 0;
        let mut builder = tar::Builder::new(GzEncoder::new(out, Compression::default()));
        for item in &items {
            match item {
                Item::Folder { rel } => {
                    let mut header = header(tar::EntryType::Directory, 0o700, 0);
                    builder
                        .append_data(&mut header, rel, io::empty())
                        .map_err(|source| BackupError::Write { source })?;
                }
                Item::File { rel, len } => {
                    let path = real_root.join(rel);
                    let archived =
                        archive_file(&mut builder, &path, rel, *len, options, &mut report)?;
                    if archived {
                        report.files += 1;
                    }
                    done += len;
                    progress(done, total);
                }
            }
        }
        builder
            .into_inner()
            .and_then(GzEncoder::finish)
            .and_then(|mut out| out.flush())
            .map_err(|source| BackupError::Write { source })?;
        Ok(report)
    }

    /// Replaces the store with the one in the `.tar.gz` read from `input`, all or nothing.
    ///
    /// Refuses a store that holds files unless [`RestoreOptions::force`]. Unpacks into a new
    /// folder beside the root, refusing entries no backup holds ([`BackupError::Unsafe`]:
    /// absolute paths, `..`, links, devices) and more than [`RestoreOptions::max_bytes`];
    /// checks the result with [`Store::check`] (files that do not load refuse it, other
    /// problems are reported in [`RestoreReport::warnings`]); then swaps it in with one
    /// rename (an atomic exchange on Linux), so every reader sees the old store or the new
    /// one, and a failure or interruption at any point before leaves the old store as it was
    /// (an interrupted restore may leave its folder, `.<root>.restore-<pid>-<n>`, beside the
    /// root). Files are restored with mode 0600 and folders 0700. `progress` is called with
    /// the bytes of `input` read so far.
    pub fn restore(
        &self,
        input: impl Read,
        options: RestoreOptions,
        mut progress: impl FnMut(u64),
    ) -> Result<RestoreReport> {
        let target = self.restore_target()?;
        let existed = target.exists();
        if existed && !options.force && holds_files(&target)? {
            return Err(BackupError::NotEmpty { root: target });
        }
        let parent = target.parent().unwrap_or(Path::new("."));
        create_private_dir(parent, true).map_err(io_error("create folder", parent))?;
        let staging = Staging::create(parent, &target)?;

        let exceeded = Cell::new(false);
        let mut read = 0;
        let counted = Counted {
            inner: input,
            on_read: |n| {
                read += n;
                progress(read);
            },
        };
        let limited = Limited {
            inner: GzDecoder::new(counted),
            left: options.max_bytes,
            exceeded: &exceeded,
        };
        let mut report = RestoreReport {
            replaced: existed,
            ..RestoreReport::default()
        };
        let unpacked = unpack(limited, &staging.path, options.max_bytes, &mut report);
        if exceeded.get() {
            return Err(BackupError::TooLarge {
                limit: options.max_bytes,
            });
        }
        unpacked?;

        let unpacked = Store::open(&staging.path)?;
        let (errors, warnings) = validate(&unpacked)?;
        if !errors.is_empty() {
            return Err(BackupError::Invalid { problems: errors });
        }
        report.warnings = warnings;
        report.leftover = staging.swap_in(&target, existed)?;
        Ok(report)
    }

    /// The folder a restore replaces: the root, or where it leads when it is a symbolic link
    /// (the link stays, and leads to the restored store).
    fn restore_target(&self) -> Result<PathBuf> {
        let root = self.layout().root();
        match fs::symlink_metadata(root) {
            Ok(meta) if meta.file_type().is_symlink() => {
                fs::canonicalize(root).map_err(io_error("resolve", root))
            }
            Ok(meta) if !meta.is_dir() => Err(BackupError::Io {
                action: "restore into",
                path: root.to_owned(),
                source: io::Error::new(io::ErrorKind::AlreadyExists, "it is not a folder"),
            }),
            Ok(_) => Ok(root.to_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(root.to_owned()),
            Err(e) => Err(io_error("inspect", root)(e)),
        }
    }
}

/// Splits what [`Store::check`] finds in an unpacked store into what refuses the restore and
/// what is only reported.
///
/// Refused: errors about files that do not load (a file that does not parse, breaks a rule or
/// names the wrong id), which every reader of the store would meet. Reported: everything else,
/// errors between files included (an agent naming a provider that is missing), since the
/// store that was backed up may well have had them, and a restore must bring it back as it
/// was.
fn validate(store: &Store) -> Result<(Vec<Problem>, Vec<Problem>)> {
    let mut unloadable = Vec::new();
    let mut note = |err: StoreError| {
        if let Some(path) = err.path() {
            unloadable.push(store.layout().relative(path).to_owned());
        }
    };
    for err in store.agents().list()?.errors {
        note(err);
    }
    for err in store.providers().list()?.errors {
        note(err);
    }
    for err in store.sessions().list()?.errors {
        note(err);
    }
    if let Err(err) = store.models().document() {
        note(err);
    }
    if let Err(err) = store.channels().document() {
        note(err);
    }
    if let Err(err) = store.profile().get() {
        note(err);
    }
    let problems = store.check();
    let refuses = |p: &Problem| p.severity == Severity::Error && unloadable.contains(&p.path);
    // A file that does not load, which the check names otherwise: every error refuses then.
    let named = problems.iter().any(refuses);
    Ok(problems.into_iter().partition(|p| {
        refuses(p) || (!named && !unloadable.is_empty() && p.severity == Severity::Error)
    }))
}

/// A tar header for a folder or a file of `size` bytes, with `mode`, owned by nobody in
/// particular (a restore makes everything the restoring user's).
fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    header
}

/// Whether the store's walk leaves `name` out: lock files (`.<name>.lock`), temporary files
/// of interrupted writes, folders a crashed delete moved aside.
fn is_own_scratch(name: &str) -> bool {
    (name.starts_with('.') && name.ends_with(".lock"))
        || crate::atomic::is_temp_name(name)
        || name.starts_with('.') && name.contains(".deleted-")
}

/// Lists what to archive under `dir` (`rel` from the root), folders before what they hold,
/// in name order so two backups of one store list the same entries.
fn walk(dir: &Path, rel: &Path, items: &mut Vec<Item>, skipped: &mut Vec<Skipped>) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(io_error("list", dir))?
        .collect::<io::Result<_>>()
        .map_err(io_error("list", dir))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        if name.to_str().is_some_and(is_own_scratch) {
            continue;
        }
        let path = entry.path();
        let rel = rel.join(&name);
        let kind = entry.file_type().map_err(io_error("inspect", &path))?;
        if kind.is_symlink() {
            skipped.push(Skipped {
                path: rel,
                reason: SkipReason::Link,
            });
        } else if kind.is_dir() {
            items.push(Item::Folder { rel: rel.clone() });
            walk(&path, &rel, items, skipped)?;
        } else if kind.is_file() {
            let len = entry.metadata().map_err(io_error("inspect", &path))?.len();
            items.push(Item::File { rel, len });
        } else {
            skipped.push(Skipped {
                path: rel,
                reason: SkipReason::NotAFile,
            });
        }
    }
    Ok(())
}

/// Archives one file (secrets left out, unless asked to keep them); `false` when it was left
/// out whole.
fn archive_file<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &Path,
    rel: &Path,
    len: u64,
    options: BackupOptions,
    report: &mut BackupReport,
) -> Result<bool> {
    let open = || -> Result<Option<File>> {
        match platform::no_follow_non_blocking(OpenOptions::new().read(true)).open(path) {
            Ok(file) => Ok(Some(file)),
            // Removed since the walk (a session deleted meanwhile): not part of the store now.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read", path)(e)),
        }
    };
    let Some(file) = open()? else {
        return Ok(false);
    };
    let extension = rel.extension().and_then(|e| e.to_str());
    let mut header = header(tar::EntryType::Regular, PRIVATE_MODE, 0);
    let write_error = |source| BackupError::Write { source };
    match extension {
        Some("yaml" | "yml") if !options.include_secrets => {
            let mut bytes = Vec::new();
            file.take(yaml::MAX_YAML_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(io_error("read", path))?;
            // Over the limit no reader takes it whole; cut short, it might still parse.
            let parsed = (bytes.len() as u64 <= yaml::MAX_YAML_BYTES)
                .then(|| yaml_without_secrets(rel, &bytes, report))
                .flatten();
            let Some(bytes) = parsed else {
                report.skipped.push(Skipped {
                    path: rel.to_owned(),
                    reason: SkipReason::Unreadable,
                });
                return Ok(false);
            };
            header.set_size(bytes.len() as u64);
            report.bytes += bytes.len() as u64;
            builder
                .append_data(&mut header, rel, bytes.as_slice())
                .map_err(write_error)?;
        }
        Some("jsonl") if !options.include_secrets => {
            // Two passes over the same `len` bytes (a log only grows): the first finds the
            // size the header needs, the second writes.
            let mut first = LogWithoutSecrets::new(file.take(len));
            let size = io::copy(&mut first, &mut io::sink()).map_err(io_error("read", path))?;
            let Some(file) = open()? else {
                return Ok(false);
            };
            if first.left_out.is_empty() && first.bad_lines == 0 {
                // Nothing to leave out (most logs): the bytes as they are, parsed once.
                header.set_size(len);
                builder
                    .append_data(&mut header, rel, Exact::new(file.take(len), len, path))
                    .map_err(write_error)?;
                report.bytes += len;
                return Ok(true);
            }
            let mut second = LogWithoutSecrets::new(file.take(len));
            header.set_size(size);
            builder
                .append_data(&mut header, rel, Exact::new(&mut second, size, path))
                .map_err(write_error)?;
            for (field, count) in second.left_out {
                report.secrets_left_out.push(LeftOutSecret {
                    path: rel.to_owned(),
                    field,
                    count,
                });
            }
            if second.bad_lines > 0 {
                report.skipped.push(Skipped {
                    path: rel.to_owned(),
                    reason: SkipReason::BadLogLines {
                        lines: second.bad_lines,
                    },
                });
            }
            report.bytes += size;
        }
        _ => {
            header.set_size(len);
            builder
                .append_data(&mut header, rel, Exact::new(file.take(len), len, path))
                .map_err(write_error)?;
            report.bytes += len;
        }
    }
    Ok(true)
}

/// `bytes` (a YAML file) with its secrets left out, recorded in `report`; the bytes as they
/// were when it has none (comments kept); `None` when it does not parse.
fn yaml_without_secrets(rel: &Path, bytes: &[u8], report: &mut BackupReport) -> Option<Vec<u8>> {
    let mut value: serde_yaml::Value =
        yaml::from_bytes(rel, bytes, Some(|| serde_yaml::Value::Null)).ok()?;
    let mut left_out = BTreeMap::new();
    strip_yaml(&mut value, "", &mut left_out);
    if left_out.is_empty() {
        return Some(bytes.to_vec());
    }
    let text = yaml::to_string(rel, &value).ok()?;
    for (field, count) in left_out {
        report.secrets_left_out.push(LeftOutSecret {
            path: rel.to_owned(),
            field,
            count,
        });
    }
    Some(text.into_bytes())
}

/// Whether the field `name` holding `value` is a secret to leave out: named like one, unless
/// it names the environment variable that holds one (`api_key_env: ANTHROPIC_API_KEY`).
fn is_secret_field(name: &str, value_is_variable_name: bool) -> bool {
    viben_model::redact::is_secret_name(name) && !(name.ends_with("_env") && value_is_variable_name)
}

fn field_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Drops secret-named fields and masks credentials inside text, at any depth.
fn strip_yaml(value: &mut serde_yaml::Value, at: &str, left_out: &mut BTreeMap<String, u64>) {
    match value {
        serde_yaml::Value::Mapping(map) => {
            map.retain(|key, field| {
                let Some(name) = key.as_str() else {
                    return true;
                };
                let variable = field.as_str().is_some_and(viben_model::is_env_var_name);
                if field.is_null() || !is_secret_field(name, variable) {
                    return true;
                }
                *left_out.entry(field_path(at, name)).or_default() += 1;
                false
            });
            for (key, field) in map.iter_mut() {
                let name = key.as_str().unwrap_or("?");
                strip_yaml(field, &field_path(at, name), left_out);
            }
        }
        serde_yaml::Value::Sequence(items) => {
            for item in items {
                strip_yaml(item, at, left_out);
            }
        }
        serde_yaml::Value::Tagged(tagged) => strip_yaml(&mut tagged.value, at, left_out),
        serde_yaml::Value::String(text) => {
            if let std::borrow::Cow::Owned(masked) = viben_model::redact::redact_text(text) {
                *text = masked;
                *left_out.entry(at.to_owned()).or_default() += 1;
            }
        }
        _ => {}
    }
}

/// Drops secret-named fields at any depth. Text is left alone: a message's content is what a
/// person wrote, not a credential to mask.
fn strip_json(value: &mut serde_json::Value, at: &str, left_out: &mut BTreeMap<String, u64>) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|name, field| {
                let variable = field.as_str().is_some_and(viben_model::is_env_var_name);
                if field.is_null() || !is_secret_field(name, variable) {
                    return true;
                }
                *left_out.entry(field_path(at, name)).or_default() += 1;
                false
            });
            for (name, field) in map.iter_mut() {
                strip_json(field, &field_path(at, name), left_out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                strip_json(item, at, left_out);
            }
        }
        _ => {}
    }
}

/// A log read line by line with every line's secret-named fields dropped; lines that are not
/// JSON are left out (counted in `bad_lines`); lines without secrets pass unchanged.
struct LogWithoutSecrets<R> {
    lines: BufReader<R>,
    line: Vec<u8>,
    out: Vec<u8>,
    at: usize,
    left_out: BTreeMap<String, u64>,
    bad_lines: u64,
}

impl<R: Read> LogWithoutSecrets<R> {
    fn new(inner: R) -> Self {
        Self {
            lines: BufReader::new(inner),
            line: Vec::new(),
            out: Vec::new(),
            at: 0,
            left_out: BTreeMap::new(),
            bad_lines: 0,
        }
    }

    /// Reads the next line into `out`; `false` at the end.
    fn next_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        self.out.clear();
        self.at = 0;
        // No longer than a log line may be: a longer one is no record, and is not held whole.
        let limit = crate::jsonl::MAX_LINE_BYTES + 1;
        let n = (&mut self.lines)
            .take(limit)
            .read_until(b'\n', &mut self.line)?;
        if n == 0 {
            return Ok(false);
        }
        if !self.line.ends_with(b"\n") && n as u64 == limit {
            self.bad_lines += 1;
            // Skip the rest of the overlong line.
            loop {
                let buf = self.lines.fill_buf()?;
                if buf.is_empty() {
                    return Ok(true);
                }
                match buf.iter().position(|&b| b == b'\n') {
                    Some(end) => {
                        self.lines.consume(end + 1);
                        return Ok(true);
                    }
                    None => {
                        let len = buf.len();
                        self.lines.consume(len);
                    }
                }
            }
        }
        let text = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
        if text.iter().all(u8::is_ascii_whitespace) {
            self.out.extend_from_slice(&self.line);
            return Ok(true);
        }
        match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(mut value) if self.line.ends_with(b"\n") => {
                let before = self.left_out.values().sum::<u64>();
                strip_json(&mut value, "", &mut self.left_out);
                if self.left_out.values().sum::<u64>() == before {
                    self.out.extend_from_slice(&self.line);
                } else {
                    serde_json::to_writer(&mut self.out, &value).map_err(io::Error::other)?;
                    self.out.push(b'\n');
                }
            }
            // Not JSON, or a last line still being written.
            _ => self.bad_lines += 1,
        }
        Ok(true)
    }
}

impl<R: Read> Read for LogWithoutSecrets<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.out.len() {
            if !self.next_line()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A reader that must give exactly `len` bytes, as the tar header already says: a file that
/// shrank while it was archived fails the backup instead of writing a broken archive.
struct Exact<'p, R> {
    inner: R,
    left: u64,
    path: &'p Path,
}

impl<'p, R: Read> Exact<'p, R> {
    fn new(inner: R, len: u64, path: &'p Path) -> Self {
        Self {
            inner,
            left: len,
            path,
        }
    }
}

impl<R: Read> Read for Exact<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        // Never past the length the header gives, whatever the source holds.
        let room = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let buf = &mut buf[..room];
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{} shrank while it was archived; run the backup again while nothing \
                     writes to the store",
                    self.path.display()
                ),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Counts the bytes read through it.
struct Counted<R, F> {
    inner: R,
    on_read: F,
}

impl<R: Read, F: FnMut(u64)> Read for Counted<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.on_read)(n as u64);
        Ok(n)
    }
}

/// Fails once more than `left` bytes were read (a decompression bomb), and says so in
/// `exceeded`, since the tar reader wraps the error.
struct Limited<'a, R> {
    inner: R,
    left: u64,
    exceeded: &'a Cell<bool>,
}

impl<R: Read> Read for Limited<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            Some(left) => {
                self.left = left;
                Ok(n)
            }
            None => {
                self.exceeded.set(true);
                Err(io::Error::other(
                    "the archive unpacks to more than the limit",
                ))
            }
        }
    }
}

/// Unpacks the archive into `dir` (a new, empty folder), refusing what no backup holds.
///
/// Every file is on disk when it returns, before the swap makes the store point at them: with
/// one `syncfs` at the end where the system has it (a flush per file made a restore of 2,000
/// files five times slower), else file by file.
fn unpack(input: impl Read, dir: &Path, limit: u64, report: &mut RestoreReport) -> Result<()> {
    let synced_at_once = platform::HAS_SYNC_FILE_SYSTEM;
    unpack_entries(input, dir, limit, report, synced_at_once)?;
    if synced_at_once {
        platform::sync_file_system(dir).map_err(io_error("flush to disk", dir))?;
    }
    Ok(())
}

fn unpack_entries(
    input: impl Read,
    dir: &Path,
    limit: u64,
    report: &mut RestoreReport,
    synced_at_once: bool,
) -> Result<()> {
    let corrupt = |source| BackupError::Corrupt { source };
    let mut archive = tar::Archive::new(input);
    let mut declared: u64 = 0;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader
        ) {
            continue;
        }
        let name = entry.path().map_err(corrupt)?.into_owned();
        let shown = name.display().to_string();
        let unsafe_entry = |problem| BackupError::Unsafe {
            entry: shown.clone(),
            problem,
        };
        let rel = relative(&name).map_err(unsafe_entry)?;
        let path = dir.join(&rel);
        match kind {
            tar::EntryType::Directory => {
                create_private_dir(&path, true).map_err(io_error("create folder", &path))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = entry.size();
                declared = declared.saturating_add(size);
                if declared > limit {
                    return Err(BackupError::TooLarge { limit });
                }
                if let Some(parent) = path.parent() {
                    create_private_dir(parent, true).map_err(io_error("create folder", parent))?;
                }
                let mut options = OpenOptions::new();
                options.write(true).create_new(true);
                platform::create_mode(&mut options, PRIVATE_MODE);
                let mut file = match options.open(&path) {
                    Ok(file) => file,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        return Err(unsafe_entry(UnsafeEntry::Duplicate));
                    }
                    Err(e) => return Err(io_error("create", &path)(e)),
                };
                let copied = io::copy(&mut entry, &mut file).map_err(corrupt)?;
                if let Ok(mtime) = entry.header().mtime() {
                    let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(mtime);
                    // Only a date for people and for `telemetry prune`'s "recently written":
                    // a file system that refuses it loses nothing else.
                    let _ = file.set_modified(at);
                }
                if !synced_at_once {
                    file.sync_data().map_err(io_error("flush to disk", &path))?;
                }
                report.files += 1;
                report.bytes += copied;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                return Err(unsafe_entry(UnsafeEntry::Link { target }));
            }
            _ => return Err(unsafe_entry(UnsafeEntry::Special)),
        }
    }
    Ok(())
}

/// An entry's path as a path below the root: only plain names (a leading `./` is fine).
fn relative(name: &Path) -> Result<PathBuf, UnsafeEntry> {
    let mut rel = PathBuf::new();
    for component in name.components() {
        match component {
            Component::Normal(part) => rel.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(UnsafeEntry::ParentDir),
            Component::RootDir | Component::Prefix(_) => return Err(UnsafeEntry::Absolute),
        }
    }
    if rel.as_os_str().is_empty() {
        return Err(UnsafeEntry::NoName);
    }
    Ok(rel)
}

/// Whether `dir` holds a file (a folder tree with only folders and lock files, as `viben
/// init` leaves it, holds none).
fn holds_files(dir: &Path) -> Result<bool> {
    holds_files_below(dir, dir)
}

/// Whether `dir` holds a file of data. The store's own bookkeeping is not data: its scratch
/// files, the format record (`version.yaml` in the root, which `init` writes) and the session
/// index (derived from the session folders and rebuilt from them), so a store that `init` made
/// and nothing else wrote takes a restore without `force`.
fn holds_files_below(root: &Path, dir: &Path) -> Result<bool> {
    for entry in fs::read_dir(dir).map_err(io_error("list", dir))? {
        let entry = entry.map_err(io_error("list", dir))?;
        let kind = entry
            .file_type()
            .map_err(io_error("inspect", &entry.path()))?;
        let name = entry.file_name();
        let name = name.to_str();
        if kind.is_dir() {
            if holds_files_below(root, &entry.path())? {
                return Ok(true);
            }
        } else if name.is_some_and(is_own_scratch)
            || (dir == root && name == Some("version.yaml"))
            || (dir == root.join("sessions")
                && matches!(name, Some(".index.jsonl" | ".index-log.jsonl")))
        {
            continue;
        } else {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The folder a restore unpacks into, beside the target; removed on drop unless swapped in.
struct Staging {
    path: PathBuf,
    keep: bool,
}

impl Staging {
    fn create(parent: &Path, target: &Path) -> Result<Self> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "store".to_owned());
        let pid = std::process::id();
        let mut attempt = 0u32;
        loop {
            let path = parent.join(format!(".{name}.restore-{pid}-{attempt}"));
            match create_private_dir(&path, false) {
                Ok(()) => return Ok(Self { path, keep: false }),
                // Left by an earlier restore of a process with this pid that was interrupted.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => {
                    attempt += 1;
                }
                Err(e) => return Err(io_error("create folder", &path)(e)),
            }
        }
    }

    /// Puts the unpacked store at `target`; returns the old store's folder when it could not
    /// be removed afterwards.
    fn swap_in(mut self, target: &Path, existed: bool) -> Result<Option<PathBuf>> {
        let parent = target.parent().unwrap_or(Path::new("."));
        if !existed {
            fs::rename(&self.path, target).map_err(io_error("move into place", target))?;
            self.keep = true;
            crate::atomic::sync_dir(parent)?;
            return Ok(None);
        }
        let exchanged = platform::exchange(&self.path, target)
            .map_err(io_error("swap in the restored store at", target))?;
        if !exchanged {
            // Two renames: between them the root is missing for a moment, and an interrupted
            // restore leaves the old store at `aside`.
            let mut aside = self.path.clone().into_os_string();
            aside.push("-old");
            let aside = PathBuf::from(aside);
            fs::rename(target, &aside).map_err(io_error("move aside", target))?;
            if let Err(e) = fs::rename(&self.path, target) {
                let _ = fs::rename(&aside, target);
                return Err(io_error("move into place", target)(e));
            }
            fs::rename(&aside, &self.path).map_err(io_error("rename", &aside))?;
        }
        crate::atomic::sync_dir(parent)?;
        // `self.path` now holds the old store.
        let old = self.path.clone();
        self.keep = true;
        Ok(fs::remove_dir_all(&old).err().map(|_| old))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}
