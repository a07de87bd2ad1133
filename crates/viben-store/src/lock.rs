//! Advisory locks for read-modify-write: `File::lock` on a lock file beside the data file.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::MetadataExt;
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
///
/// The lock file is opened without following a symbolic link (`O_NOFOLLOW`), and refused
/// unless it is a regular file with no other hard link: a link pre-placed at the lock's path
/// must not make a save create or lock a file elsewhere. `O_NONBLOCK` keeps a FIFO there from
/// blocking the open; it is then refused as [`StoreError::NotAFile`].
pub(crate) fn lock_exclusive(path: &Path) -> Result<LockGuard> {
    let lock = lock_path(path);
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(PRIVATE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&lock);
    let file = match opened {
        Ok(file) => file,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(StoreError::Linked { path: lock });
        }
        // A folder (or a FIFO without a reader, on systems that refuse it) at the lock's path.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EISDIR | libc::ENXIO)) => {
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
    if meta.nlink() > 1 {
        return Err(StoreError::Linked { path: lock });
    }
    file.lock().map_err(|e| StoreError::io("lock", &lock, e))?;
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
            Ok(now) if (now.dev(), now.ino()) == (held.dev(), held.ino()) => return Ok(guard),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::io("lock", &lock, e));
            }
            Err(e) => return Err(StoreError::io("inspect", &lock, e)),
        }
    }
}
