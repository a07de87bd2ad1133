//! Advisory locks for read-modify-write: `File::lock` on a lock file beside the data file.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use crate::atomic::PRIVATE_MODE;
use crate::error::{Result, StoreError};
use crate::platform;

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
///
/// The lock file is opened without following a symbolic link (`O_NOFOLLOW`), and refused
/// unless it is a regular file with no other hard link: a link pre-placed at the lock's path
/// must not make a save create or lock a file elsewhere. `O_NONBLOCK` keeps a FIFO there from
/// blocking the open; it is then refused as [`StoreError::NotAFile`].
pub(crate) fn lock_exclusive(path: &Path) -> Result<LockGuard> {
    let lock = lock_path(path);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    platform::create_mode(&mut options, PRIVATE_MODE);
    let opened = platform::no_follow_non_blocking(&mut options).open(&lock);
    let file = match opened {
        Ok(file) => file,
        Err(e) if platform::is_link_refused(&e) => {
            return Err(StoreError::Linked { path: lock });
        }
        // A folder (or a FIFO without a reader, on systems that refuse it) at the lock's path.
        Err(e) if platform::is_a_folder(&e) || platform::is_no_reader(&e) => {
            return Err(StoreError::NotAFile { path: lock });
        }
        Err(e) => return Err(StoreError::io("create the lock file", &lock, e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| StoreError::io("inspect", &lock, e))?;
    if !meta.is_file() {
        return Err(StoreError::NotAFile { path: lock });
    }
    // A link count of 0 is a lock file deleted since the open (with its agent folder):
    // `lock_exclusive_current` sees that by the path no longer naming it.
    if platform::link_count(&meta) > 1 {
        return Err(StoreError::Linked { path: lock });
    }
    // Retries a wait a signal interrupted (std's `File::lock` may not).
    platform::flock_exclusive(&file).map_err(|e| StoreError::io("lock", &lock, e))?;
    Ok(LockGuard { _file: file })
}

/// Like [`lock_exclusive`], for a lock file that another process may delete (with its folder,
/// as `delete_agent` does) while this one waits: once locked, checks that the lock file is
/// still the one at its path, and locks again when it was replaced. Fails with an I/O error of
/// kind `NotFound` when the folder or the lock file is gone.
pub(crate) fn lock_exclusive_current(path: &Path) -> Result<LockGuard> {
    let lock = lock_path(path);
    loop {
        let guard = lock_exclusive(path)?;
        let held = guard
            ._file
            .metadata()
            .map_err(|e| StoreError::io("inspect", &lock, e))?;
        match fs::symlink_metadata(&lock) {
            Ok(now) if platform::same_file(&now, &held) => return Ok(guard),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::io("lock", &lock, e));
            }
            Err(e) => return Err(StoreError::io("inspect", &lock, e)),
        }
    }
}
