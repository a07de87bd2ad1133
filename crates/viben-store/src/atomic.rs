//! Crash-safe rewrites: write a temporary file beside the target, fsync, rename, fsync the folder.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::error::{Result, StoreError};
use crate::platform;

/// Temporary files older than this are left over from a crash and are removed.
pub(crate) const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

/// The mode of a file that holds a secret, and of every new file: only the owner may read it.
pub(crate) const PRIVATE_MODE: u32 = 0o600;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Whether `name` is one of our temporary files (`.<name>.tmp-<pid>-<nonce>`); listings skip
/// them (they also start with `.`, which no id may).
pub(crate) fn is_temp_name(name: &str) -> bool {
    temp_target(name).is_some()
}

/// The name of the file a temporary file named `name` was written for: `<target>` when
/// `name` is exactly `.<target>.tmp-<pid digits>-<hex nonce>`, as [`write_atomic`] names
/// them, else `None`. Nothing else matches, so a lock file whose data file's name contains
/// `.tmp-` (`.acme.tmp-eu.yaml.lock`) is never taken for one.
pub(crate) fn temp_target(name: &str) -> Option<&str> {
    marked_target(name, ".tmp-")
}

/// The name `delete_agent` moves a folder to before removing it:
/// `.<name>.deleted-<pid>-<hex nonce>`, which no listing reads.
pub(crate) fn doomed_name(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let nonce = (COUNTER.fetch_add(1, Ordering::Relaxed) << 32) ^ u64::from(nanos);
    format!(".{name}.deleted-{}-{nonce:x}", std::process::id())
}

/// `.<target><marker><pid digits>-<hex nonce>` → `<target>`, else `None`.
fn marked_target<'a>(name: &'a str, marker: &str) -> Option<&'a str> {
    let rest = name.strip_prefix('.')?;
    let at = rest.rfind(marker)?;
    let (pid, nonce) = rest[at + marker.len()..].split_once('-')?;
    let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    let hex = !nonce.is_empty()
        && nonce
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    (at > 0 && digits && hex).then(|| &rest[..at])
}

/// Removes folders in `dir` that a `delete_agent` moved aside ([`doomed_name`]) and did not
/// finish removing (the process died), once older than `max_age`; returns their paths.
/// Best effort, like [`clean_stale_temps`].
pub(crate) fn clean_doomed_dirs(dir: &Path, max_age: Duration) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return removed;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let doomed = entry
            .file_name()
            .to_str()
            .is_some_and(|n| marked_target(n, ".deleted-").is_some());
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age >= max_age);
        if doomed && old && fs::remove_dir_all(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// Deletes the folder `dir` (named `name`, in `parent`): first renames it to a hidden name no
/// entry has (`.<name>.deleted-<pid>-<nonce>`) and syncs `parent`, then removes it. Whoever
/// waited for a lock in the folder then finds the folder gone (`NotFound`) instead of writing
/// into one being emptied, and a crash mid-way leaves a hidden folder that
/// [`clean_doomed_dirs`] removes later. `Ok(false)` when `dir` does not exist.
pub(crate) fn remove_dir_aside(parent: &Path, dir: &Path, name: &str) -> Result<bool> {
    // `rename` would replace an empty folder already at the new name (the name has a nonce,
    // so only a planted entry can be there): pick a name nothing has.
    let doomed = loop {
        let doomed = parent.join(doomed_name(name));
        match fs::symlink_metadata(&doomed) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => break doomed,
            Err(e) => return Err(StoreError::io("inspect", &doomed, e)),
            Ok(_) => continue,
        }
    };
    match fs::rename(dir, &doomed) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(StoreError::io("delete", dir, e)),
    }
    sync_dir(parent)?;
    match fs::remove_dir_all(&doomed) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(StoreError::io("delete", &doomed, e)),
    }
}

/// Replaces the content of `path` with `bytes` so that a crash at any moment leaves either the
/// old file or the new one, never a torn or empty one.
///
/// `mode` is the new file's permission bits, unless `keep_mode` and the file exists, in which
/// case its current mode is kept (a file a person made readable to others stays so).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32, keep_mode: bool) -> Result<()> {
    let dir = parent(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mode = if keep_mode {
        match fs::metadata(path) {
            Ok(meta) => platform::mode(&meta),
            Err(_) => mode,
        }
    } else {
        mode
    };
    let (temp_path, mut file) = create_temp(dir, &name, mode)?;
    let mut guard = TempGuard(Some(temp_path.clone()));
    // The umask may have cleared bits of `mode`; a kept mode is restored exactly.
    if keep_mode {
        platform::set_file_mode(&file, mode)
            .map_err(|e| StoreError::io("set the mode of", &temp_path, e))?;
    }
    file.write_all(bytes)
        .map_err(|e| StoreError::io("write", &temp_path, e))?;
    // `fdatasync` also flushes the metadata needed to read the data back (the size), which is
    // all a new file needs; the rename is made durable by the folder's fsync below.
    file.sync_data()
        .map_err(|e| StoreError::io("flush to disk", &temp_path, e))?;
    drop(file);
    fs::rename(&temp_path, path).map_err(|e| StoreError::io("replace", path, e))?;
    guard.0 = None;
    sync_dir(dir)?;
    clean_stale_temps(dir, Some(&name), STALE_TEMP_AGE);
    Ok(())
}

/// Sets `path`'s mode to 0600 when group or others may access it.
pub(crate) fn make_private(path: &Path) -> Result<()> {
    let meta = fs::metadata(path).map_err(|e| StoreError::io("inspect", path, e))?;
    if platform::mode(&meta) & 0o077 != 0 {
        platform::set_mode(path, PRIVATE_MODE)
            .map_err(|e| StoreError::io("set the mode of", path, e))?;
    }
    Ok(())
}

/// Makes a finished rename or unlink in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    platform::sync_dir(dir).map_err(|e| StoreError::io("flush to disk", dir, e))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn create_temp(dir: &Path, name: &str, mode: u32) -> Result<(PathBuf, File)> {
    let pid = std::process::id();
    loop {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let nonce = (COUNTER.fetch_add(1, Ordering::Relaxed) << 32) ^ u64::from(nanos);
        let temp_path = dir.join(format!(".{name}.tmp-{pid}-{nonce:x}"));
        // `create_new` is `O_CREAT | O_EXCL`, which never follows a link at the name (nor
        // opens anything already there); `O_NOFOLLOW` says so once more.
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        platform::create_mode(&mut options, mode);
        match platform::no_follow(&mut options).open(&temp_path) {
            Ok(file) => return Ok((temp_path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(StoreError::io("create", temp_path, e)),
        }
    }
}

/// Removes the temporary file on every early return.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// Removes temporary files in `dir` (for target `name`, or for any target) older than
/// `max_age`, and returns the paths removed. Errors are ignored: cleaning is best effort.
pub(crate) fn clean_stale_temps(dir: &Path, name: Option<&str>, max_age: Duration) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return removed;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let ours = match (temp_target(file_name), name) {
            (Some(target), Some(name)) => target == name,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !ours {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age >= max_age);
        if old && fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_temporary_name_pattern_is_a_temporary_file() {
        assert_eq!(temp_target(".config.yaml.tmp-12-1f"), Some("config.yaml"));
        assert_eq!(
            temp_target(".acme.tmp-eu.yaml.tmp-7-abc"),
            Some("acme.tmp-eu.yaml")
        );
        for name in [
            ".acme.tmp-eu.yaml.lock",
            ".acme.yaml.tmp-1-a.yaml.lock",
            ".config.yaml.tmp-12-1f.bak",
            ".config.yaml.tmp--1f",
            ".config.yaml.tmp-12-",
            ".config.yaml.tmp-x-1f",
            "config.yaml.tmp-12-1f",
            "..tmp-1-1",
        ] {
            assert_eq!(temp_target(name), None, "{name}");
        }
    }
}
