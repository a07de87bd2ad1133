//! Advisory locks for read-modify-write: `File::lock` on a lock file beside the data file.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::atomic::PRIVATE_MODE;
use crate::error::{Result, StoreError};

/// An exclusive lock, released when dropped (closing the file releases it, also when the
/// process dies, so a crash never leaves the store locked).
#[derive(Debug)]
pub(crate) struct LockGuard {
    _file: File,
}

/// The lock file of `path`: `.<name>.lock` in the same folder. It is never deleted while the
/// data file may be used (deleting it would let two processes lock two different files).
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.lock"))
}

/// Blocks until this process holds the exclusive lock of `path`.
pub(crate) fn lock_exclusive(path: &Path) -> Result<LockGuard> {
    let lock = lock_path(path);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(PRIVATE_MODE)
        .open(&lock)
        .map_err(|e| StoreError::io("create the lock file", &lock, e))?;
    file.lock().map_err(|e| StoreError::io("lock", &lock, e))?;
    Ok(LockGuard { _file: file })
}
