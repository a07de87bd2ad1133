//! The store's format version (`version.yaml`), the one gate every write passes, and the
//! upgrade steps that bring an older store to the format this version of Viben writes.
//!
//! A store without `version.yaml` is format 1 (the layout before the file existed). Every write
//! ([`Store::check_writable`]) first reads the format: the one this code writes goes ahead; an
//! older one is upgraded first ([`Store::upgrade`]); a newer one is refused with
//! [`StoreError::NewerFormat`], so an older CLI beside a newer desktop app can never write
//! files in an older shape over newer ones. Reads do not look at the format: they read what
//! they can (unknown fields are kept as they are).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;

use crate::error::{Result, StoreError};
use crate::layout::{Layout, create_private_dir};
use crate::{Store, atomic, lock};

/// One registered change of the store's files from one format to the next.
///
/// Steps run in order, each once, under the store's lock (`.version.yaml.lock`), after the
/// files it names in [`UpgradeStep::touches`] are copied to a backup folder; `version.yaml` is
/// written after each step, so a crash between steps resumes at the next one. A crash inside a
/// step runs it again from the start: a step must be safe to repeat (check before changing).
#[derive(Debug, Clone, Copy)]
pub struct UpgradeStep {
    /// What it does, in a few words (`"agents: rename max_tokens to max_output_tokens"`),
    /// for the log and the upgrade report.
    pub name: &'static str,
    /// The files the step may change or remove, existing or not, as absolute paths under the
    /// layout's root; each one that exists is backed up before the step runs.
    pub touches: fn(&Layout) -> Result<Vec<PathBuf>>,
    /// The change itself, on the files of the store at the layout's root.
    pub run: fn(&Layout) -> Result<()>,
}

/// The registered steps, oldest first: `STEPS[i]` upgrades a store from format `i + 1` to
/// format `i + 2`. docs/store.md says how to add one.
pub(crate) static STEPS: &[UpgradeStep] = &[];

/// The format this version of Viben reads and writes: one more than the number of steps.
pub const FORMAT_VERSION: u32 = format_after(STEPS);

/// The format a store reaches after `steps`.
const fn format_after(steps: &[UpgradeStep]) -> u32 {
    // A list of four billion steps is not a concern.
    1 + steps.len() as u32
}

/// The longest `version.yaml` read: it holds one number and a comment.
const MAX_VERSION_FILE_BYTES: u64 = 4096;

/// The store's format, as [`Store::format`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatStatus {
    /// The format of the store's files: `version.yaml`'s `format`, 1 without the file.
    pub found: u32,
    /// The format this version of Viben writes.
    pub supported: u32,
    /// Whether `version.yaml` exists.
    pub recorded: bool,
}

impl FormatStatus {
    /// Whether this version of Viben may write to the store (after upgrading it, if older).
    pub fn writable(&self) -> bool {
        self.found <= self.supported
    }

    /// Whether the next write upgrades the store first.
    pub fn needs_upgrade(&self) -> bool {
        self.found < self.supported
    }
}

/// What [`Store::upgrade`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpgradeReport {
    /// The format before (equal to `to` when there was nothing to do).
    pub from: u32,
    /// The format after.
    pub to: u32,
    /// The names of the steps that ran, in order.
    pub steps: Vec<&'static str>,
    /// The backup folder of each step that ran, in order
    /// (`backups/format-<from>-to-<to>-<UTC time>/` under the root).
    pub backups: Vec<PathBuf>,
}

impl Store {
    /// The store's format and the one this version of Viben writes. Reads only.
    pub fn format(&self) -> Result<FormatStatus> {
        let path = self.layout().version_file();
        let supported = format_after(self.upgrade_steps());
        let Some(bytes) = self.read_bytes(&path, MAX_VERSION_FILE_BYTES)? else {
            return Ok(FormatStatus {
                found: 1,
                supported,
                recorded: false,
            });
        };
        let found = parse_version(&path, &bytes)?;
        Ok(FormatStatus {
            found,
            supported,
            recorded: true,
        })
    }

    /// The gate every write passes before it changes anything: refuses a store in a newer
    /// format ([`StoreError::NewerFormat`]) or with an unreadable `version.yaml`, and upgrades
    /// an older one first.
    pub(crate) fn check_writable(&self) -> Result<()> {
        let status = self.format()?;
        if status.found > status.supported {
            return Err(self.newer_format(status));
        }
        if status.needs_upgrade() {
            self.upgrade()?;
        }
        Ok(())
    }

    /// Brings the store to the format this version of Viben writes, running each registered
    /// step it lacks in order, under the store's lock, after backing up the files the step
    /// touches (see [`UpgradeStep`]). Writes do this by themselves; an app may call it at start
    /// to upgrade before it reads. Refuses a store in a newer format.
    pub fn upgrade(&self) -> Result<UpgradeReport> {
        let steps = self.upgrade_steps();
        let supported = format_after(steps);
        let status = self.format()?;
        if status.found > supported {
            return Err(self.newer_format(status));
        }
        if status.found == supported {
            return Ok(UpgradeReport {
                from: status.found,
                to: status.found,
                ..UpgradeReport::default()
            });
        }
        let root = self.layout().root();
        self.confine(root)?;
        create_private_dir(root, true).map_err(|e| StoreError::io("create folder", root, e))?;
        let _lock = lock::lock_exclusive(&self.layout().version_file())?;
        // Another process may have upgraded the store while this one waited.
        let from = self.format()?.found;
        let mut report = UpgradeReport {
            from,
            to: from,
            ..UpgradeReport::default()
        };
        if from > supported {
            return Err(self.newer_format(self.format()?));
        }
        for (index, step) in steps.iter().enumerate().skip(from as usize - 1) {
            let (before, after) = (
                format_after(&steps[..index]),
                format_after(&steps[..=index]),
            );
            let started = Instant::now();
            let backup = self.back_up(step, before, after)?;
            (step.run)(self.layout()).map_err(|source| StoreError::Upgrade {
                step: step.name,
                from: before,
                to: after,
                backup: backup.clone(),
                source: Box::new(source),
            })?;
            self.record_format(after)?;
            tracing::info!(
                target: crate::trace::UPGRADE,
                step = step.name,
                from = before,
                to = after,
                backup = %self.layout().relative(&backup).display(),
                micros = crate::trace::micros_since(started),
                "upgraded"
            );
            report.to = after;
            report.steps.push(step.name);
            report.backups.push(backup);
        }
        Ok(report)
    }

    /// Writes `version.yaml` saying the store is in format `format`.
    pub(crate) fn record_format(&self, format: u32) -> Result<()> {
        let text = format!(
            "# The format of the files in this folder, written by viben: a newer viben upgrades\n\
             # them, an older one refuses to write to them. Do not edit.\n\
             format: {format}\n"
        );
        atomic::write_atomic(
            &self.layout().version_file(),
            text.as_bytes(),
            atomic::PRIVATE_MODE,
            false,
        )
    }

    /// Copies every existing file `step` touches into a new backup folder, keeping their paths
    /// relative to the root, and returns the folder.
    fn back_up(&self, step: &UpgradeStep, from: u32, to: u32) -> Result<PathBuf> {
        let backups = self.layout().backups_dir();
        self.confine(&backups)?;
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let folder = backups.join(format!("format-{from}-to-{to}-{stamp}"));
        create_private_dir(&folder, true)
            .map_err(|e| StoreError::io("create folder", &folder, e))?;
        for path in (step.touches)(self.layout())? {
            self.confine(&path)?;
            let Ok(rel) = path.strip_prefix(self.layout().root()) else {
                return Err(StoreError::OutsideRoot {
                    path,
                    root: self.layout().root().to_owned(),
                });
            };
            let copy = folder.join(rel);
            if let Some(parent) = copy.parent() {
                create_private_dir(parent, true)
                    .map_err(|e| StoreError::io("create folder", parent, e))?;
            }
            match fs::copy(&path, &copy) {
                Ok(_) => sync_file(&copy)?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io("back up", &path, e)),
            }
        }
        atomic::sync_dir(&folder)?;
        Ok(folder)
    }

    fn newer_format(&self, status: FormatStatus) -> StoreError {
        StoreError::NewerFormat {
            root: self.layout().root().to_owned(),
            found: status.found,
            supported: status.supported,
        }
    }
}

/// Reads `format: <n>` from `version.yaml`'s text.
fn parse_version(path: &Path, bytes: &[u8]) -> Result<u32> {
    let bad = |reason: &str| StoreError::BadFormatVersion {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let text = std::str::from_utf8(bytes).map_err(|_| bad("it is not UTF-8 text"))?;
    let value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|_| bad("it is not valid YAML"))?;
    match value.get("format") {
        Some(format) => format
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad("its format is not a whole number from 1 up")),
        None => Err(bad("it has no format key")),
    }
}

fn sync_file(path: &Path) -> Result<()> {
    fs::File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(|e| StoreError::io("sync", path, e))
}
