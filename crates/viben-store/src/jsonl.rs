//! JSON Lines logs: whole-line appends that two processes can share, and streaming reads that
//! survive a torn last line.

use std::collections::VecDeque;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::atomic::PRIVATE_MODE;
use crate::error::{Result, StoreError};
use crate::store::open_regular;

/// The longest line a reader accepts: 16 MiB. Longer lines are skipped with an error, so a
/// corrupt log cannot make a reader allocate without bound.
pub(crate) const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;

/// A problem a log read worked around: the records around it were still returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogWarning {
    /// The log file.
    pub path: PathBuf,
    /// The 1-based line, when the read started at the beginning of the file.
    pub line: Option<usize>,
    /// The byte offset where the line starts.
    pub offset: u64,
    /// What was wrong.
    pub kind: LogWarningKind,
}

/// What a [`LogWarning`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogWarningKind {
    /// The last line has no newline and does not parse: a write was cut short (a crash). It
    /// is ignored; the next append starts on a fresh line.
    TornTail {
        /// Its length in bytes.
        bytes: u64,
    },
    /// A complete line that is not a valid record (reads that return only records, such as
    /// the last N messages or a telemetry range, skip it).
    BadLine {
        /// What is wrong with it.
        message: String,
    },
}

impl fmt::Display for LogWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        match self.line {
            Some(line) => write!(f, ":{line}: ")?,
            None => write!(f, " (byte {}): ", self.offset)?,
        }
        match &self.kind {
            LogWarningKind::TornTail { bytes } => write!(
                f,
                "the last line is incomplete ({bytes} bytes; a write was interrupted); it is \
                 ignored and the next append starts a new line"
            ),
            LogWarningKind::BadLine { message } => {
                write!(
                    f,
                    "{message}; the line was skipped (fix or delete it by hand)"
                )
            }
        }
    }
}

/// Records read from a log, with the problems worked around.
#[derive(Debug, Clone, PartialEq)]
pub struct Records<T> {
    /// The records, in file order.
    pub records: Vec<T>,
    /// Lines that were skipped.
    pub warnings: Vec<LogWarning>,
}

/// Opens `path` for appending (creating it with mode 0600); refuses anything but a regular
/// file (a FIFO would block, see [`open_regular`]).
pub(crate) fn open_append(path: &Path) -> Result<File> {
    open_regular(
        OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(PRIVATE_MODE),
        path,
        "open",
    )?
    .ok_or_else(|| StoreError::io("open", path, io::ErrorKind::NotFound.into()))
}

/// Opens `path` for reading; `None` when it does not exist; refuses anything but a regular
/// file.
pub(crate) fn open_read(path: &Path) -> Result<Option<File>> {
    open_regular(OpenOptions::new().read(true), path, "read")
}

/// Serializes `record` as one JSON line.
pub(crate) fn encode<T: Serialize>(path: &Path, record: &T) -> Result<Vec<u8>> {
    let mut line = serde_json::to_vec(record).map_err(|e| StoreError::Encode {
        path: path.to_owned(),
        message: format!("the record cannot be written as JSON: {e}"),
    })?;
    line.push(b'\n');
    Ok(line)
}

/// Where an appender's last append ended, so the next one can skip re-reading the last byte
/// when no one else has written since. `u64::MAX` means unknown.
#[derive(Debug)]
pub(crate) struct KnownEnd(AtomicU64);

impl KnownEnd {
    pub(crate) fn unknown() -> Self {
        Self(AtomicU64::new(u64::MAX))
    }
}

/// Appends one whole line (ending in `\n`) to a file opened with [`open_append`]. When the file
/// does not end in a newline (a torn tail), a newline goes first. `sync` flushes the data to
/// disk before returning (`fdatasync`).
///
/// Whole-line interleaving rests on one `write` system call per line on an `O_APPEND` file:
/// Linux positions and performs such a write on a regular file under the file's lock, so two
/// appends (from any processes) never mix their bytes, whatever their size. No advisory lock
/// is taken, by short or long lines. What could still split a line is a short `write`
/// (disk full, a file size limit, a signal mid-write): then the rest is not written
/// separately, where another process's line could land between the two parts; the append
/// fails instead and the partial line is left as a torn tail. (Network file systems may not
/// give `O_APPEND` this guarantee; the store is meant for a local disk.)
///
/// An open file that was deleted meanwhile (its last link removed, as `delete_session` does)
/// is refused with `deleted()` instead of taking lines no one will ever read. (A delete
/// between this check and the `write` still loses that one line.)
///
/// One `fstat` (std's `File::metadata`, a `statx` on Linux) gives both that and the length. Checking the tail costs a `pread` of the last
/// byte, skipped when the file's length is still where this appender's previous line ended: a
/// log only grows, so an unchanged length means no one else wrote since, and the file ends
/// with that line's newline.
pub(crate) fn append_line(
    file: &File,
    path: &Path,
    line: &[u8],
    sync: bool,
    known_end: &KnownEnd,
    deleted: impl FnOnce() -> StoreError,
) -> Result<()> {
    let write_err = |e| StoreError::io("append to", path, e);
    let meta = file.metadata().map_err(write_err)?;
    let len = meta.len();
    if meta.nlink() == 0 {
        return Err(deleted());
    }
    let mut torn = false;
    if len > 0 && len != known_end.0.load(Ordering::Relaxed) {
        let mut last = [0u8; 1];
        file.read_exact_at(&mut last, len - 1).map_err(write_err)?;
        torn = last[0] != b'\n';
    }
    let owned;
    let bytes = if torn {
        owned = [b"\n".as_slice(), line].concat();
        owned.as_slice()
    } else {
        line
    };
    // Unknown until the write is done (a failed write may leave part of a line).
    known_end.0.store(u64::MAX, Ordering::Relaxed);
    let mut writer = file;
    let written = loop {
        match writer.write(bytes) {
            // Nothing was written: trying again cannot split the line.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => break other.map_err(write_err)?,
        }
    };
    if written < bytes.len() {
        // Never write the rest separately: another process's line could land in between.
        // The partial line stays a torn tail, which readers skip and the next append ends
        // with a newline first.
        return Err(StoreError::io(
            "append to",
            path,
            io::Error::other(format!(
                "wrote only {written} of the line's {} bytes (disk full, or a file size \
                 limit?); the partial line is left as a torn tail that readers skip",
                bytes.len()
            )),
        ));
    }
    // If another process appended between the `fstat` and the `write`, the real end is
    // further and the next append's length check fails safely.
    known_end
        .0
        .store(len + bytes.len() as u64, Ordering::Relaxed);
    if sync {
        file.sync_data()
            .map_err(|e| StoreError::io("flush to disk", path, e))?;
    }
    Ok(())
}

/// Streams the records of a JSON Lines file, one line in memory at a time.
///
/// Yields each complete line's record, or an error naming the file, line and column for a line
/// that does not parse (the next lines are still read). A last line without a newline that
/// does not parse is a torn tail: it is not yielded, and [`JsonlReader::warnings`] reports it
/// once the iteration is over. Blank lines are skipped.
#[derive(Debug)]
pub struct JsonlReader<T> {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    line: Option<usize>,
    offset: u64,
    buf: Vec<u8>,
    warnings: Vec<LogWarning>,
    _record: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> JsonlReader<T> {
    /// A reader of `path` from its start; a missing file reads as empty.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = open_read(path)?;
        Ok(Self::new(path, file, 0, Some(0)))
    }

    fn new(path: &Path, file: Option<File>, offset: u64, line: Option<usize>) -> Self {
        Self {
            path: path.to_owned(),
            reader: file.map(|f| BufReader::with_capacity(64 * 1024, f)),
            line,
            offset,
            buf: Vec::new(),
            warnings: Vec::new(),
            _record: PhantomData,
        }
    }

    /// Problems worked around so far (a torn tail shows up once the iteration has ended).
    pub fn warnings(&self) -> &[LogWarning] {
        &self.warnings
    }

    /// Consumes the reader, returning its warnings.
    pub fn into_warnings(self) -> Vec<LogWarning> {
        self.warnings
    }

    /// Reads the rest as [`Records`], turning bad lines into warnings instead of errors.
    pub fn collect_lenient(mut self) -> Result<Records<T>> {
        let mut records = Vec::new();
        while let Some(item) = self.next() {
            match item {
                Ok(record) => records.push(record),
                Err(err) => self.bad_line(err)?,
            }
        }
        Ok(Records {
            records,
            warnings: self.warnings,
        })
    }

    /// Records an error for a bad line as a warning; passes I/O errors through.
    fn bad_line(&mut self, err: StoreError) -> Result<()> {
        match err {
            StoreError::Parse { line, message, .. } => {
                self.warnings.push(LogWarning {
                    path: self.path.clone(),
                    line,
                    offset: self.offset,
                    kind: LogWarningKind::BadLine { message },
                });
                Ok(())
            }
            other => Err(other),
        }
    }

    /// Reads the next line into `buf`: `Ok(Some(true))` when it did, `Ok(None)` at the end, and
    /// `Ok(Some(false))` for a line over [`MAX_LINE_BYTES`], which is skipped to its end
    /// (`buf` left empty) for the caller to report.
    fn read_line(&mut self) -> Result<Option<bool>> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        self.buf.clear();
        let read = reader
            .by_ref()
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| StoreError::io("read", &self.path, e))?;
        if read == 0 {
            return Ok(None);
        }
        if self.buf.len() as u64 > MAX_LINE_BYTES && self.buf.last() != Some(&b'\n') {
            // Skip to the end of the over-long line without keeping it.
            let mut skipped = self.buf.len() as u64;
            loop {
                let available = reader
                    .fill_buf()
                    .map_err(|e| StoreError::io("read", &self.path, e))?;
                if available.is_empty() {
                    break;
                }
                match available.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        reader.consume(i + 1);
                        skipped += i as u64 + 1;
                        break;
                    }
                    None => {
                        let n = available.len();
                        reader.consume(n);
                        skipped += n as u64;
                    }
                }
            }
            self.buf.clear();
            self.offset += skipped;
            return Ok(Some(false));
        }
        Ok(Some(true))
    }
}

impl<T: DeserializeOwned> Iterator for JsonlReader<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let start = self.offset;
            let line = self.line.map(|l| l + 1);
            let fits = match self.read_line() {
                Ok(None) => return None,
                Ok(Some(fits)) => fits,
                Err(err) => {
                    self.reader = None;
                    return Some(Err(err));
                }
            };
            self.line = line;
            if !fits {
                return Some(Err(StoreError::Parse {
                    path: self.path.clone(),
                    line,
                    column: None,
                    message: format!("the line is longer than {MAX_LINE_BYTES} bytes"),
                }));
            }
            self.offset += self.buf.len() as u64;
            let complete = self.buf.last() == Some(&b'\n');
            let text = self.buf.trim_ascii();
            if text.is_empty() {
                continue;
            }
            match serde_json::from_slice::<T>(text) {
                Ok(record) => return Some(Ok(record)),
                Err(_) if !complete => {
                    self.warnings.push(LogWarning {
                        path: self.path.clone(),
                        line,
                        offset: start,
                        kind: LogWarningKind::TornTail {
                            bytes: self.buf.len() as u64,
                        },
                    });
                    return None;
                }
                Err(err) => {
                    return Some(Err(StoreError::Parse {
                        path: self.path.clone(),
                        line,
                        column: Some(err.column()),
                        message: format!(
                            "not a valid record: {}",
                            crate::error::strip_location(&err.to_string())
                        ),
                    }));
                }
            }
        }
    }
}

/// The last `n` records of `path` (fewer if it has fewer), found by reading backwards from the
/// end in chunks, so the cost depends on `n`, not on the size of the log.
pub(crate) fn read_last<T: DeserializeOwned>(path: &Path, n: usize) -> Result<Records<T>> {
    let Some(mut file) = open_read(path)? else {
        return Ok(Records {
            records: Vec::new(),
            warnings: Vec::new(),
        });
    };
    let read_err = |e| StoreError::io("read", path, e);
    let len = file.metadata().map_err(read_err)?.len();
    // One more line than asked for when the file ends in a possibly torn line.
    let mut last = [0u8; 1];
    let ends_torn = len > 0 && {
        file.read_exact_at(&mut last, len - 1).map_err(read_err)?;
        last[0] != b'\n'
    };
    let wanted = n + usize::from(ends_torn);
    let start = start_of_last_lines(&file, len, wanted).map_err(read_err)?;
    file.seek(SeekFrom::Start(start)).map_err(read_err)?;
    let reader = JsonlReader::<T>::new(path, Some(file), start, None);
    let mut ring = VecDeque::with_capacity(n.min(4096));
    let mut warnings = Vec::new();
    let mut reader = reader;
    while let Some(item) = reader.next() {
        match item {
            Ok(record) => {
                if ring.len() == n {
                    ring.pop_front();
                }
                if n > 0 {
                    ring.push_back(record);
                }
            }
            Err(err) => reader.bad_line(err)?,
        }
    }
    warnings.extend(reader.into_warnings());
    Ok(Records {
        records: ring.into(),
        warnings,
    })
}

/// The offset where the last `wanted` non-blank lines of the file begin.
fn start_of_last_lines(file: &File, len: u64, wanted: usize) -> io::Result<u64> {
    const CHUNK: u64 = 64 * 1024;
    if wanted == 0 {
        return Ok(len);
    }
    let mut buf = vec![0u8; CHUNK as usize];
    let mut pos = len;
    let mut found = 0usize;
    // Whether the bytes seen since the last newline (walking backwards) hold any content.
    let mut content = false;
    // The newline that ends the file terminates the last line; it does not start one.
    let mut skip_final = true;
    while pos > 0 {
        let size = CHUNK.min(pos);
        pos -= size;
        let chunk = &mut buf[..size as usize];
        file.read_exact_at(chunk, pos)?;
        for i in (0..chunk.len()).rev() {
            let byte = chunk[i];
            if byte == b'\n' {
                if skip_final {
                    skip_final = false;
                    continue;
                }
                if content {
                    found += 1;
                    content = false;
                    if found == wanted {
                        return Ok(pos + i as u64 + 1);
                    }
                }
            } else {
                skip_final = false;
                if !byte.is_ascii_whitespace() {
                    content = true;
                }
            }
        }
    }
    Ok(0)
}
