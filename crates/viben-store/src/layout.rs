//! Where every file of the store lives: the `~/.viben` tree as a value, not a global.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::error::{Result, StoreError};

/// The paths of one store, computed from its root.
///
/// Path functions only join names; they do not check ids. [`crate::Store`] validates every id
/// with [`viben_model::validate_path_id`] and checks for symbolic-link escapes before it builds
/// a path from it.
///
/// ```text
/// <root>/
///   agents/<agent-id>/config.yaml
///   providers/<provider>.yaml
///   models.yaml
///   channels.yaml
///   sessions/<session-id>/session.yaml
///   sessions/<session-id>/messages.jsonl
///   telemetry/{traces,metrics,logs}/<YYYY-MM-DD>.jsonl
///   version.yaml                      (the files' format; absent: format 1)
///   backups/format-<n>-to-<m>-<time>/ (files an upgrade step changed, as they were)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

/// The mode of every folder the store creates: only the owner may enter.
const PRIVATE_DIR_MODE: u32 = 0o700;

/// Creates the folder `path` with mode 0700; with `recursive`, also its missing parents (also
/// 0700), and an existing folder is fine; without, an existing one is `AlreadyExists`.
pub(crate) fn create_private_dir(path: &Path, recursive: bool) -> std::io::Result<()> {
    crate::platform::create_dir(path, recursive, PRIVATE_DIR_MODE)
}

/// The folders [`Layout::create`] makes, relative to the root, parents first.
pub(crate) const FOLDERS: [&str; 7] = [
    "agents",
    "providers",
    "sessions",
    "telemetry",
    "telemetry/traces",
    "telemetry/metrics",
    "telemetry/logs",
];

impl Layout {
    /// The environment variable that overrides the default root.
    pub const HOME_VAR: &'static str = "VIBEN_HOME";

    /// A layout rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The default layout: `$VIBEN_HOME` when set and not empty, else `$HOME/.viben`.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(
            std::env::var_os(Self::HOME_VAR).map(PathBuf::from),
            std::env::var_os("HOME").map(PathBuf::from),
        )
    }

    /// The default layout from explicit values of `VIBEN_HOME` and `HOME` (for callers that
    /// read the environment themselves, and for tests).
    pub fn from_vars(viben_home: Option<PathBuf>, home: Option<PathBuf>) -> Result<Self> {
        match (viben_home, home) {
            (Some(root), _) if !root.as_os_str().is_empty() => Ok(Self::new(root)),
            (_, Some(home)) if !home.as_os_str().is_empty() => Ok(Self::new(home.join(".viben"))),
            _ => Err(StoreError::NoHome),
        }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `agents/`.
    pub fn agents_dir(&self) -> PathBuf {
        self.root.join("agents")
    }

    /// `agents/<id>/`.
    pub fn agent_dir(&self, id: &str) -> PathBuf {
        self.agents_dir().join(id)
    }

    /// `agents/<id>/config.yaml`.
    pub fn agent_config(&self, id: &str) -> PathBuf {
        self.agent_dir(id).join("config.yaml")
    }

    /// `providers/`.
    pub fn providers_dir(&self) -> PathBuf {
        self.root.join("providers")
    }

    /// `providers/<name>.yaml`.
    pub fn provider_config(&self, name: &str) -> PathBuf {
        self.providers_dir().join(format!("{name}.yaml"))
    }

    /// `models.yaml`.
    pub fn models_file(&self) -> PathBuf {
        self.root.join("models.yaml")
    }

    /// `channels.yaml`.
    pub fn channels_file(&self) -> PathBuf {
        self.root.join("channels.yaml")
    }

    /// `profile.yaml`: the web account signed in on this desktop.
    pub fn profile_file(&self) -> PathBuf {
        self.root.join("profile.yaml")
    }

    /// `version.yaml`: the format of the store's files (absent: format 1).
    pub fn version_file(&self) -> PathBuf {
        self.root.join("version.yaml")
    }

    /// `backups/`: a folder per upgrade step run, holding copies of the files it touched.
    pub fn backups_dir(&self) -> PathBuf {
        self.root.join("backups")
    }

    /// `sessions/`.
    pub fn sessions_dir(&self) -> PathBuf {
        self.root.join("sessions")
    }

    /// `sessions/<id>/`.
    pub fn session_dir(&self, id: &str) -> PathBuf {
        self.sessions_dir().join(id)
    }

    /// `sessions/<id>/session.yaml`.
    pub fn session_meta(&self, id: &str) -> PathBuf {
        self.session_dir(id).join("session.yaml")
    }

    /// `sessions/<id>/messages.jsonl`.
    pub fn session_messages(&self, id: &str) -> PathBuf {
        self.session_dir(id).join("messages.jsonl")
    }

    /// `telemetry/`.
    pub fn telemetry_dir(&self) -> PathBuf {
        self.root.join("telemetry")
    }

    /// `telemetry/<signal>/` (`traces`, `metrics` or `logs`).
    pub fn telemetry_signal_dir(&self, signal: &str) -> PathBuf {
        self.telemetry_dir().join(signal)
    }

    /// `telemetry/<signal>/<YYYY-MM-DD>.jsonl`, the file for one UTC day.
    pub fn telemetry_day_file(&self, signal: &str, day: NaiveDate) -> PathBuf {
        self.telemetry_signal_dir(signal)
            .join(format!("{}.jsonl", day.format("%Y-%m-%d")))
    }

    /// `path` relative to the root, for messages (`agents/a/config.yaml`); `path` itself when
    /// it is not under the root.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }

    /// Creates the root and its folders where missing, each new one with mode 0700 (only the
    /// owner may enter). Existing folders keep their mode.
    ///
    /// This only joins paths and makes folders: it follows a symbolic link in the way.
    /// [`crate::Store::init`] checks each folder against the root first; prefer it.
    pub fn create(&self) -> Result<()> {
        create_private_dir(&self.root, true)
            .map_err(|e| StoreError::io("create folder", &self.root, e))?;
        for folder in FOLDERS {
            let path = self.root.join(folder);
            create_private_dir(&path, true)
                .map_err(|e| StoreError::io("create folder", &path, e))?;
        }
        Ok(())
    }
}
