//! The one error type of viben-store: what went wrong (with which file), its cause, and what
//! to do ([`viben_model::Hint`]).

use std::fmt;
use std::io;
use std::path::PathBuf;

use viben_model::{Hint, ValidationError};

/// A `Result` whose error is [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in the store.
///
/// In the workspace's one error design ([`viben_model::Hint`]): `Display` says what went
/// wrong in one lowercase line, naming the file (and line and column where there is one),
/// without the cause and without the hint; [`std::error::Error::source`] is the cause (the
/// operating system's error, the rule broken); [`Hint::hint`] says what to do. Print all
/// three on one line with [`viben_model::Report`]. Nothing in them is a secret: API keys are
/// [`viben_model::Secret`]s, and parse errors quote the YAML crate's description of the
/// problem, not the file's content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file that is not valid YAML or JSON, or does not have the expected shape (a file a
    /// person has to fix).
    #[error("{}: {message}", Location::new(path, *line, *column))]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem, when known.
        line: Option<usize>,
        /// 1-based column of the problem, when known.
        column: Option<usize>,
        /// What is wrong and what was expected.
        message: String,
    },

    /// A file that parses but breaks one of Viben's rules (the rule is the source).
    #[error("{} breaks a rule", Location::new(path, *line, *column))]
    Invalid {
        /// The file (or the file that would have been written).
        path: PathBuf,
        /// 1-based line of the field that breaks the rule, when the text is at hand and the
        /// field was found in it (a document given as text, see [`crate::Agents::save_text`]).
        line: Option<usize>,
        /// 1-based column of that field's value, with `line`.
        column: Option<usize>,
        /// The rule broken.
        #[source]
        source: ValidationError,
    },

    /// An id given to the store that is not a safe path segment (the message is the rule's).
    #[error(transparent)]
    InvalidId {
        /// Why the id is refused.
        source: ValidationError,
    },

    /// A record whose id does not match its file or folder name.
    #[error(
        "{}: {field} is {found:?} but the file belongs to {expected:?}",
        path.display()
    )]
    IdMismatch {
        /// The file.
        path: PathBuf,
        /// The field holding the id (`id`, `name`).
        field: &'static str,
        /// The id the file's location gives.
        expected: String,
        /// The id the file holds.
        found: String,
    },

    /// Reading or writing a file failed (the operating system's error is the source).
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done (`read`, `write`, `lock`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// A record that does not exist.
    #[error("{kind} {id:?} does not exist")]
    NotFound {
        /// What was looked for: `agent`, `provider`, `model`, `channel`, `session`.
        kind: &'static str,
        /// Its id.
        id: String,
    },

    /// Creating a record whose id is taken.
    #[error("{kind} {id:?} already exists")]
    AlreadyExists {
        /// What was created.
        kind: &'static str,
        /// Its id.
        id: String,
    },

    /// A save computed from a read that is no longer current: someone else changed the file.
    #[error(
        "{} changed since it was read (another window or process wrote it)",
        path.display()
    )]
    Conflict {
        /// The file.
        path: PathBuf,
    },

    /// A path that resolves outside the store's root (through `..` or a symbolic link).
    #[error(
        "{} resolves outside the store at {} (a symbolic link?), so it is not read or written",
        path.display(),
        root.display()
    )]
    OutsideRoot {
        /// The path inside the store as named.
        path: PathBuf,
        /// The store's root.
        root: PathBuf,
    },

    /// A file too large to be one of the store's files.
    #[error(
        "{} is larger than {limit} bytes, too large for a viben file, and was not read",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },

    /// A value that cannot be written in the file's format (YAML or JSON); nothing was written.
    #[error("{}: {message} (nothing was written)", path.display())]
    Encode {
        /// The file that would have been written.
        path: PathBuf,
        /// What cannot be written.
        message: String,
    },

    /// A file or folder in the store whose name is not valid UTF-8, so it cannot be an id.
    #[error("{}: the name is not valid UTF-8", path.display())]
    BadName {
        /// The file or folder.
        path: PathBuf,
    },

    /// A record that would make a file too large to be read back.
    #[error(
        "{} would be larger than {limit} bytes, the most a viben file may hold, and was not \
         written",
        path.display()
    )]
    TooLargeToWrite {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },

    /// A record that would make a log line longer than readers accept; nothing was written.
    #[error(
        "{}: the record is {bytes} bytes as a JSON line, more than the {limit} bytes (16 MiB) \
         a log line may hold, and nothing was written",
        path.display()
    )]
    LineTooLong {
        /// The log.
        path: PathBuf,
        /// The length of the record's line, without its newline.
        bytes: u64,
        /// The longest line a log may hold, in bytes.
        limit: u64,
    },

    /// Something other than a regular file (a FIFO, a device, a folder) where a store file
    /// belongs. It is not read: reading a FIFO or a device could block forever.
    #[error(
        "{} is not a regular file (a FIFO, device or folder?), so it is not read or written",
        path.display()
    )]
    NotAFile {
        /// The path.
        path: PathBuf,
    },

    /// A symbolic link, or a file with other hard links, where the store keeps a file of its
    /// own (a lock file): using it could make viben create or lock a file outside the store.
    #[error(
        "{} is a link (a symbolic link, or a file with other hard links), not a file viben \
         made, and is not used, as it could lead outside the store",
        path.display()
    )]
    Linked {
        /// The path.
        path: PathBuf,
    },

    /// Creating a record whose id differs only in case (or Unicode normalization) from an
    /// existing one: on a case-insensitive file system (macOS, Windows) both are one file.
    #[error(
        "{kind} {existing:?} already exists and {id:?} differs from it only in case (ids may \
         not differ only in case: they would be one file on macOS and Windows)"
    )]
    CaseCollision {
        /// What was created.
        kind: &'static str,
        /// The id refused.
        id: String,
        /// The existing id it collides with.
        existing: String,
    },

    /// Deleting an agent that sessions or channels still use.
    #[error("agent {agent:?} is still used by {}", ReferrerList(referrers))]
    ReferencedBy {
        /// The agent.
        agent: String,
        /// What uses it.
        referrers: Vec<Referrer>,
    },

    /// Removing the model that `models.yaml` names as the default.
    #[error("model {id:?} is the default in models.yaml")]
    ModelIsDefault {
        /// The model.
        id: String,
    },

    /// A record that is turned off where it is needed.
    #[error("{kind} {id:?} is disabled")]
    Disabled {
        /// `model` or `provider`.
        kind: &'static str,
        /// Its id.
        id: String,
    },

    /// Neither `VIBEN_HOME` nor `HOME` is set, so there is no default root.
    #[error("cannot find the viben folder: neither VIBEN_HOME nor HOME is set")]
    NoHome,

    /// A write to a store in a newer format than this version of Viben knows: refused, so the
    /// files are never rewritten in an older shape. Reads still work.
    #[error(
        "the store at {} is in format {found}, newer than this viben writes (format \
         {supported}), so it is not changed",
        root.display()
    )]
    NewerFormat {
        /// The store's root.
        root: PathBuf,
        /// The store's format (`version.yaml`).
        found: u32,
        /// The newest format this version of Viben writes.
        supported: u32,
    },

    /// A `version.yaml` that does not say which format the store is in: writes are refused
    /// until it does.
    #[error("{}: {reason}, so the store's format is unknown and it is not changed", path.display())]
    BadFormatVersion {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// An upgrade step that failed; the store stays in the format before it.
    #[error("upgrading the store from format {from} to {to} ({step}) failed")]
    Upgrade {
        /// The step's name.
        step: &'static str,
        /// The format before the step.
        from: u32,
        /// The format the step was to reach.
        to: u32,
        /// Where the files the step touches were backed up.
        backup: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<StoreError>,
    },

    /// The session index (`sessions/.index.jsonl` or `sessions/.index-log.jsonl`) is damaged
    /// or in another format, so a page of sessions cannot be read from it.
    #[error("{}: the session index cannot be read: {message}", path.display())]
    CorruptIndex {
        /// The index file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

impl Hint for StoreError {
    fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Parse { .. } => "fix the file by hand (it was left unchanged)".to_owned(),
            Self::Invalid { source, .. } | Self::InvalidId { source } => return source.hint(),
            Self::IdMismatch {
                field, expected, ..
            } => format!(
                "set {field} to {expected:?} (ids cannot be changed by editing them; create a \
                 new record instead)"
            ),
            Self::Io { .. } => "check that the path exists and that you may access it".to_owned(),
            Self::NotFound { .. } => "check the id, or create it first".to_owned(),
            Self::AlreadyExists { .. } => "pick another id, or update the existing one".to_owned(),
            Self::Conflict { .. } => "read it again and redo the change".to_owned(),
            Self::OutsideRoot { .. } => {
                "replace the link with a real file or folder inside the store".to_owned()
            }
            Self::TooLarge { .. } => "check what wrote it and move it out of the store".to_owned(),
            Self::Encode { .. } => "change the value".to_owned(),
            Self::BadName { .. } => "rename it (ids are UTF-8 text)".to_owned(),
            Self::TooLargeToWrite { .. } => {
                "shorten its longest values (a system prompt?)".to_owned()
            }
            Self::LineTooLong { .. } => "shorten it or split it into several records".to_owned(),
            Self::NotAFile { .. } => "move it out of the store".to_owned(),
            Self::Linked { .. } => "delete it (viben makes a new one)".to_owned(),
            Self::CaseCollision { existing, .. } => {
                format!("pick another id, or use {existing:?}")
            }
            Self::ReferencedBy { agent, .. } => format!(
                "delete those sessions (`viben sessions delete ID --yes`) or point those channels \
                 at another agent first, or run `viben agents delete {agent} --force` to delete it \
                 anyway (they then name a missing agent, which `viben check` reports)"
            ),
            Self::ModelIsDefault { .. } => {
                "set another default first (`viben models default ID`)".to_owned()
            }
            Self::Disabled { kind: "model", id } => {
                format!("enable it first (`viben models enable {id}`)")
            }
            Self::Disabled { .. } => "enable it first".to_owned(),
            Self::NoHome => "set VIBEN_HOME to the folder to use".to_owned(),
            Self::NewerFormat { .. } => "upgrade viben to change this store (a newer viben \
                wrote it); reading it still works"
                .to_owned(),
            Self::BadFormatVersion { .. } => "restore the file from a backup; it holds one line \
                `format: <number>` (1 for a store made before the file existed)"
                .to_owned(),
            Self::Upgrade { backup, .. } => format!(
                "fix the cause and run the command again (the step runs again); the files it \
                 touches were backed up in {}",
                backup.display()
            ),
            Self::CorruptIndex { .. } => {
                "run `viben check --repair` to rebuild it from the session folders".to_owned()
            }
        };
        Some(hint)
    }
}

/// Something that uses an agent: a session or a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Referrer {
    /// A session whose `agent_id` is the agent.
    Session(String),
    /// A channel in `channels.yaml` whose `agent` is the agent.
    Channel(String),
}

impl fmt::Display for Referrer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Session(id) => write!(f, "session {id:?}"),
            Self::Channel(id) => write!(f, "channel {id:?}"),
        }
    }
}

struct ReferrerList<'a>(&'a [Referrer]);

impl fmt::Display for ReferrerList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, referrer) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{referrer}")?;
        }
        Ok(())
    }
}

/// `path`, `path:line` or `path:line:column`, the form editors and terminals make clickable.
pub(crate) struct Location<'a> {
    path: &'a std::path::Path,
    line: Option<usize>,
    column: Option<usize>,
}

impl<'a> Location<'a> {
    pub(crate) fn new(
        path: &'a std::path::Path,
        line: Option<usize>,
        column: Option<usize>,
    ) -> Self {
        Self { path, line, column }
    }
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

impl StoreError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// The file this error is about, when it is about one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Self::Parse { path, .. }
            | Self::Invalid { path, .. }
            | Self::IdMismatch { path, .. }
            | Self::Io { path, .. }
            | Self::Conflict { path }
            | Self::OutsideRoot { path, .. }
            | Self::TooLarge { path, .. }
            | Self::TooLargeToWrite { path, .. }
            | Self::LineTooLong { path, .. }
            | Self::Encode { path, .. }
            | Self::BadName { path }
            | Self::NotAFile { path }
            | Self::Linked { path }
            | Self::BadFormatVersion { path, .. }
            | Self::CorruptIndex { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The 1-based line and column this error points at, when it points at one.
    pub fn line_column(&self) -> (Option<usize>, Option<usize>) {
        match self {
            Self::Parse { line, column, .. } | Self::Invalid { line, column, .. } => {
                (*line, *column)
            }
            _ => (None, None),
        }
    }
}

/// A YAML or JSON crate's message without its ` at line N column M` parts (we print `path:line:column`).
pub(crate) fn strip_location(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" at line ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + " at line ".len()..];
        let skip = after
            .find(" column ")
            .filter(|&i| after[..i].bytes().all(|b| b.is_ascii_digit()))
            .map(|i| {
                let digits = after[i + " column ".len()..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                i + " column ".len() + digits
            });
        match skip {
            Some(skip) => rest = &after[skip..],
            None => {
                out.push_str(" at line ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
