//! The Unix implementation (Linux, macOS, the BSDs): `O_NOFOLLOW`, `O_NONBLOCK`, mode bits,
//! `flock`, `statx` (Linux) with an `fstat` fallback.

use std::fs::{DirBuilder, File, FileType, Metadata, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{
    DirBuilderExt, FileExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt,
};
use std::path::Path;

use rustix::fs::FlockOperation;

/// Adds "do not follow a symbolic link at the last component, do not block" to `options`: a
/// link opens as an error ([`is_link_refused`]), and a FIFO or device cannot make the open wait.
pub(crate) fn no_follow_non_blocking(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
}

/// Adds "do not block" to `options` (a FIFO or device in a file's place).
pub(crate) fn non_blocking(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(libc::O_NONBLOCK)
}

/// Adds "do not follow a symbolic link at the last component" to `options`.
pub(crate) fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(libc::O_NOFOLLOW)
}

/// Sets the permission bits a file created by `options` gets (before the umask).
pub(crate) fn create_mode(options: &mut OpenOptions, mode: u32) -> &mut OpenOptions {
    options.mode(mode)
}

/// Whether an open failed because the last component is a symbolic link (see
/// [`no_follow_non_blocking`]).
pub(crate) fn is_link_refused(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ELOOP)
}

/// Whether an open failed because the path is a FIFO without a reader (opened for writing
/// without blocking) or a device that is not there.
pub(crate) fn is_no_reader(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ENXIO)
}

/// Whether an open for writing failed because the path is a folder.
pub(crate) fn is_a_folder(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EISDIR)
}

/// The permission bits of `meta` (`0o777` at most).
pub(crate) fn mode(meta: &Metadata) -> u32 {
    meta.mode() & 0o777
}

/// Sets the permission bits of `path`.
pub(crate) fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    std::fs::set_permissions(path, Permissions::from_mode(mode))
}

/// Sets the permission bits of the open `file` exactly (the umask does not apply).
pub(crate) fn set_file_mode(file: &File, mode: u32) -> io::Result<()> {
    file.set_permissions(Permissions::from_mode(mode))
}

/// How many names (hard links) the file of `meta` has; 0 once its last name was removed.
pub(crate) fn link_count(meta: &Metadata) -> u64 {
    meta.nlink()
}

/// Whether `a` and `b` describe the same file (device and inode).
pub(crate) fn same_file(a: &Metadata, b: &Metadata) -> bool {
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

/// Whether `file_type` is a FIFO (named pipe).
pub(crate) fn is_fifo(file_type: &FileType) -> bool {
    file_type.is_fifo()
}

/// Creates the folder `path` with mode `mode`; with `recursive`, also its missing parents
/// (with the same mode), and an existing folder is fine.
pub(crate) fn create_dir(path: &Path, recursive: bool, mode: u32) -> io::Result<()> {
    DirBuilder::new()
        .recursive(recursive)
        .mode(mode)
        .create(path)
}

/// Makes a finished rename or unlink in `dir` durable: fsync of the folder.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all())
}

/// Reads exactly `buf.len()` bytes of `file` at `offset`, without moving its position.
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    file.read_exact_at(buf, offset)
}

/// The length of an open file and whether it still has a name, asking for nothing else: a
/// `stat` that returns the modification time makes the kernel (Linux 6.13 and later,
/// "multigrain timestamps") give the next `write` a fine-grained time, which dirties the inode
/// on every append (0.7 µs more per append here, as much as the lock costs).
pub(crate) fn size_and_linked(file: &File) -> io::Result<(u64, bool)> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{AtFlags, StatxFlags};
        match rustix::fs::statx(
            file,
            "",
            AtFlags::EMPTY_PATH,
            StatxFlags::SIZE | StatxFlags::NLINK,
        ) {
            Ok(stat) => return Ok((stat.stx_size, stat.stx_nlink != 0)),
            // Kernels before 4.11 (or a sandbox refusing `statx`).
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let stat = rustix::fs::fstat(file)?;
    Ok((u64::try_from(stat.st_size).unwrap_or(0), stat.st_nlink != 0))
}

/// Blocks until this open file holds the exclusive `flock` (released by [`unlock`] or when
/// the file is closed, also when the process dies).
pub(crate) fn flock_exclusive(file: &File) -> io::Result<()> {
    loop {
        match rustix::fs::flock(file, FlockOperation::LockExclusive) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Releases the `flock` of `file`.
pub(crate) fn unlock(file: &File) -> io::Result<()> {
    rustix::fs::flock(file, FlockOperation::Unlock).map_err(Into::into)
}

/// Swaps the folders `a` and `b` in one step (`renameat2(RENAME_EXCHANGE)`), so each name
/// always holds a whole folder; `Ok(false)` where the system or the file system cannot, for
/// the caller to fall back to two renames.
pub(crate) fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags};
        match rustix::fs::renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
            Ok(()) => Ok(true),
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = (a, b);
        Ok(false)
    }
}

/// Whether [`sync_file_system`] flushes anything here.
pub(crate) const HAS_SYNC_FILE_SYSTEM: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// Flushes to disk every file of the file system that holds the folder `dir` (`syncfs`): one
/// call where syncing thousands of files one by one costs a disk flush each. Does nothing
/// where [`HAS_SYNC_FILE_SYSTEM`] is false (the caller then syncs file by file).
pub(crate) fn sync_file_system(dir: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    rustix::fs::syncfs(&File::open(dir)?)?;
    let _ = dir;
    Ok(())
}
