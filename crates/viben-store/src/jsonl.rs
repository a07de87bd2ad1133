//! JSON Lines logs: whole-line appends that processes share under a lock, and streaming reads
//! that survive a torn last line.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, IoSlice, Read, Seek, SeekFrom, Take, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::atomic::PRIVATE_MODE;
use crate::error::{Result, StoreError};
use crate::platform;
use crate::store::open_regular;

/// The longest line a log holds, not counting its newline: 16 MiB. Appends refuse longer
/// records ([`StoreError::LineTooLong`]); readers skip longer lines with an error, so a corrupt
/// log cannot make a reader allocate without bound.
pub(crate) const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;

/// The size of the blocks a backward scan reads.
const CHUNK: u64 = 64 * 1024;

/// A problem a log read worked around: the records around it were still returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogWarning {
    /// The log file.
    pub path: PathBuf,
    /// The 1-based line (unknown only when counting the lines before it failed).
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
    /// The last line has no newline and does not parse: a write was cut short (a crash), or is
    /// still going on. It is ignored; the next append starts on a fresh line.
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

/// Opens `path` for reading; `None` when it does not exist; refuses anything but a regular
/// file.
pub(crate) fn open_read(path: &Path) -> Result<Option<File>> {
    open_regular(OpenOptions::new().read(true), path, "read")
}

/// Serializes `record` as one JSON line (with its newline), refusing a line longer than
/// [`MAX_LINE_BYTES`], which no reader would return.
pub(crate) fn encode<T: Serialize>(path: &Path, record: &T) -> Result<Vec<u8>> {
    let mut line = Vec::with_capacity(256);
    serde_json::to_writer(&mut line, record).map_err(|e| StoreError::Encode {
        path: path.to_owned(),
        message: format!("the record cannot be written as JSON: {e}"),
    })?;
    if line.len() as u64 > MAX_LINE_BYTES {
        return Err(StoreError::LineTooLong {
            path: path.to_owned(),
            bytes: line.len() as u64,
            limit: MAX_LINE_BYTES,
        });
    }
    line.push(b'\n');
    Ok(line)
}

/// An unknown end offset.
const UNKNOWN: u64 = u64::MAX;

/// A log opened for appending whole lines, shared safely by threads and processes.
///
/// Each append holds an exclusive `flock` on the log while it checks the log's end and writes
/// its line. The check: a log that does not end in a newline has a torn tail (a writer died
/// mid-line, or a write failed), and the line then goes after a newline of its own, so the
/// torn fragment stays alone on its line and never swallows the record. Under the lock no other
/// append is half-way through its `write`, so the check never sees a line still being written
/// (which would add a needless newline, a blank line), and no torn fragment can appear between
/// the check and the write (which would glue the record onto it). A `write` to a regular file
/// is not atomic against SIGKILL past a page: a killed appender leaves a fragment, and its lock
/// goes with the process, after the fragment is written. Readers take no lock.
///
/// One `statx` gives the length and the link count: an open log whose last link is gone
/// (the session was deleted) is refused instead of taking lines no one will read. Reading
/// the last byte is skipped when the length is still where this handle's last line ended: a
/// log only grows, so nobody wrote since, and the log ends with that line's newline.
#[derive(Debug)]
pub(crate) struct AppendLog {
    path: PathBuf,
    file: File,
    /// Where this handle's last line ended ([`UNKNOWN`] until one was written). The mutex
    /// also keeps this process's threads apart: `flock` belongs to the open file, which they
    /// share, so it does not exclude them from each other.
    known_end: Mutex<u64>,
    /// The path relative to the store's root, for tracing.
    shown: PathBuf,
}

impl AppendLog {
    /// Opens `path` (shown in traces as `shown`, relative to the store's root) for appending
    /// (creating it with mode 0600); refuses anything but a regular file (a FIFO would block,
    /// see [`open_regular`]).
    pub(crate) fn open(path: &Path, shown: &Path) -> Result<Self> {
        let file = open_regular(
            platform::create_mode(
                OpenOptions::new().read(true).append(true).create(true),
                PRIVATE_MODE,
            ),
            path,
            "open",
        )?
        .ok_or_else(|| StoreError::io("open", path, io::ErrorKind::NotFound.into()))?;
        // A log with another hard link is someone else's file too: appending would write into
        // it wherever that name lives.
        crate::store::refuse_linked(&file, path)?;
        Ok(Self {
            path: path.to_owned(),
            file,
            known_end: Mutex::new(UNKNOWN),
            shown: shown.to_owned(),
        })
    }

    /// The log's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one whole line (from [`encode`], ending in `\n`). `sync` then waits until the
    /// data is on disk (`fdatasync`, after the lock is released). A log whose last link was
    /// removed fails with `deleted()`.
    ///
    /// When the kernel stops a `write` short, the rest follows in another (nobody else writes
    /// while the lock is held); when that fails (disk full, a file size limit), the append
    /// fails and the partial line is cut off again, so the log ends as it did before.
    pub(crate) fn append(
        &self,
        line: &[u8],
        sync: bool,
        deleted: impl FnOnce() -> StoreError,
    ) -> Result<()> {
        let write_err = |e| StoreError::io("append to", &self.path, e);
        let mut known_end = self
            .known_end
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Timed only when someone listens: an append is about a microsecond.
        let waited = tracing::enabled!(target: crate::trace::APPEND, tracing::Level::DEBUG)
            .then(std::time::Instant::now);
        let lock =
            FileLock::exclusive(&self.file).map_err(|e| StoreError::io("lock", &self.path, e))?;
        let lock_wait_micros = waited.map(crate::trace::micros_since);
        let (len, linked) = platform::size_and_linked(&self.file).map_err(write_err)?;
        if !linked {
            return Err(deleted());
        }
        let torn = len > 0 && len != *known_end && {
            let mut last = [0u8; 1];
            platform::read_exact_at(&self.file, &mut last, len - 1).map_err(write_err)?;
            last[0] != b'\n'
        };
        let prefix: &[u8] = if torn { b"\n" } else { b"" };
        *known_end = UNKNOWN;
        if let Err((written, err)) = write_whole(&self.file, prefix, line) {
            let total = prefix.len() + line.len();
            let left = if written == 0 {
                "nothing was written"
            } else if self.file.set_len(len).is_ok() {
                "the partial line was removed"
            } else {
                "the partial line is left as a torn tail that readers skip"
            };
            tracing::warn!(
                target: crate::trace::APPEND,
                path = %self.shown.display(),
                written,
                total,
                %err,
                "append failed"
            );
            return Err(write_err(io::Error::new(
                err.kind(),
                format!("wrote only {written} of the line's {total} bytes ({err}); {left}"),
            )));
        }
        *known_end = len + (prefix.len() + line.len()) as u64;
        if let Some(lock_wait_micros) = lock_wait_micros {
            tracing::debug!(
                target: crate::trace::APPEND,
                path = %self.shown.display(),
                bytes = line.len(),
                lock_wait_micros,
                after_torn_line = torn,
                "append"
            );
        }
        drop(lock);
        drop(known_end);
        if sync {
            self.file
                .sync_data()
                .map_err(|e| StoreError::io("flush to disk", &self.path, e))?;
        }
        Ok(())
    }
}

/// Writes `prefix` then `line`, in one `write` unless the kernel stops short; on failure,
/// how many bytes were written.
fn write_whole(file: &File, prefix: &[u8], line: &[u8]) -> Result<(), (usize, io::Error)> {
    let total = prefix.len() + line.len();
    let mut written = 0;
    let mut writer = file;
    while written < total {
        let result = if written < prefix.len() {
            writer.write_vectored(&[IoSlice::new(&prefix[written..]), IoSlice::new(line)])
        } else {
            writer.write(&line[written - prefix.len()..])
        };
        match result {
            Ok(0) => return Err((written, io::ErrorKind::WriteZero.into())),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((written, e)),
        }
    }
    Ok(())
}

/// An exclusive `flock` on an open file, released when dropped (or when the process dies:
/// the kernel drops it with the file, after any `write` in progress has ended).
struct FileLock<'a>(&'a File);

impl<'a> FileLock<'a> {
    fn exclusive(file: &'a File) -> io::Result<Self> {
        platform::flock_exclusive(file)?;
        Ok(Self(file))
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        // Unlocking an open file we locked cannot fail short of a kernel bug; were it to, the
        // lock would still go when the file is closed.
        let _ = platform::unlock(self.0);
    }
}

/// Takes the append lock of the log at `path` (when it exists) and holds it until the
/// returned file is dropped, so a delete waits for an append in progress and appends after
/// it see the log gone.
pub(crate) fn lock_log(path: &Path) -> Result<Option<File>> {
    let Some(file) = open_read(path)? else {
        return Ok(None);
    };
    // Released when the file is closed.
    platform::flock_exclusive(&file).map_err(|e| StoreError::io("lock", path, e))?;
    Ok(Some(file))
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
    reader: Option<BufReader<Take<File>>>,
    /// The offset the read started at.
    start: u64,
    /// The number of lines before `start`, counted when a line number is first needed.
    lines_before: Option<usize>,
    /// Lines read since `start`.
    lines_read: usize,
    offset: u64,
    /// Where the line read last starts.
    line_start: u64,
    buf: Vec<u8>,
    warnings: Vec<LogWarning>,
    blank: BlankLines,
    _record: PhantomData<fn() -> T>,
}

/// The blank lines a reader skipped.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BlankLines {
    /// How many.
    pub(crate) count: usize,
    /// The first one's line.
    pub(crate) first: Option<usize>,
}

impl<T: DeserializeOwned> JsonlReader<T> {
    /// A reader of `path` from its start; a missing file reads as empty.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = open_read(path)?;
        Self::new(path, file, 0, u64::MAX)
    }

    /// A reader of the bytes `start..end` of `file` (`start` is a line's start).
    fn new(path: &Path, file: Option<File>, start: u64, end: u64) -> Result<Self> {
        let reader = match file {
            Some(mut file) => {
                if start > 0 {
                    file.seek(SeekFrom::Start(start))
                        .map_err(|e| StoreError::io("read", path, e))?;
                }
                Some(BufReader::with_capacity(
                    CHUNK as usize,
                    file.take(end.saturating_sub(start)),
                ))
            }
            None => None,
        };
        Ok(Self {
            path: path.to_owned(),
            reader,
            start,
            lines_before: (start == 0).then_some(0),
            lines_read: 0,
            offset: start,
            line_start: start,
            buf: Vec::new(),
            warnings: Vec::new(),
            blank: BlankLines::default(),
            _record: PhantomData,
        })
    }

    /// Problems worked around so far (a torn tail shows up once the iteration has ended).
    pub fn warnings(&self) -> &[LogWarning] {
        &self.warnings
    }

    /// Consumes the reader, returning its warnings.
    pub fn into_warnings(self) -> Vec<LogWarning> {
        self.warnings
    }

    /// The blank lines skipped so far (the first one's line only when the read started at
    /// the beginning of the file).
    pub(crate) fn blank_lines(&self) -> BlankLines {
        self.blank
    }

    /// Reads the rest as [`Records`], turning bad lines into warnings instead of errors.
    pub fn collect_lenient(mut self) -> Result<Records<T>> {
        let mut records = Vec::new();
        while let Some(record) = self.next_lenient() {
            records.push(record?);
        }
        Ok(Records {
            records,
            warnings: self.warnings,
        })
    }

    /// The next record, skipping bad lines, which become warnings (see
    /// [`JsonlReader::warnings`]); only a failed read is an error. For streaming what
    /// [`JsonlReader::collect_lenient`] would collect.
    pub fn next_lenient(&mut self) -> Option<Result<T>> {
        loop {
            match self.next()? {
                Ok(record) => return Some(Ok(record)),
                Err(err) => {
                    if let Err(err) = self.bad_line(err) {
                        return Some(Err(err));
                    }
                }
            }
        }
    }

    /// Records an error for a bad line as a warning; passes I/O errors through.
    fn bad_line(&mut self, err: StoreError) -> Result<()> {
        match err {
            StoreError::Parse { line, message, .. } => {
                self.warnings.push(LogWarning {
                    path: self.path.clone(),
                    line,
                    offset: self.line_start,
                    kind: LogWarningKind::BadLine { message },
                });
                Ok(())
            }
            other => Err(other),
        }
    }

    /// The 1-based number of the line read last. A read that started inside the file counts
    /// the lines before its start the first time (a bad line is rare; a read of the last N
    /// lines must not cost a pass over the file otherwise).
    fn line_number(&mut self) -> Option<usize> {
        if self.lines_before.is_none() {
            let file = self.reader.as_ref()?.get_ref().get_ref();
            self.lines_before = count_lines(file, self.start).ok();
        }
        Some(self.lines_before? + self.lines_read)
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
            self.line_start = start;
            let fits = match self.read_line() {
                Ok(None) => return None,
                Ok(Some(fits)) => fits,
                Err(err) => {
                    self.reader = None;
                    return Some(Err(err));
                }
            };
            self.lines_read += 1;
            if !fits {
                return Some(Err(StoreError::Parse {
                    path: self.path.clone(),
                    line: self.line_number(),
                    column: None,
                    message: format!("the line is longer than {MAX_LINE_BYTES} bytes"),
                }));
            }
            self.offset += self.buf.len() as u64;
            let complete = self.buf.last() == Some(&b'\n');
            let text = self.buf.trim_ascii();
            if text.is_empty() {
                self.blank.count += 1;
                if self.blank.first.is_none() {
                    self.blank.first = self.lines_before.map(|n| n + self.lines_read);
                }
                continue;
            }
            let parsed = serde_json::from_slice::<T>(text);
            let bytes = self.buf.len() as u64;
            match parsed {
                Ok(record) => return Some(Ok(record)),
                Err(_) if !complete => {
                    let line = self.line_number();
                    self.warnings.push(LogWarning {
                        path: self.path.clone(),
                        line,
                        offset: start,
                        kind: LogWarningKind::TornTail { bytes },
                    });
                    return None;
                }
                Err(err) => {
                    return Some(Err(StoreError::Parse {
                        path: self.path.clone(),
                        line: self.line_number(),
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

/// A reader of the last `n` records of `path` (fewer if it has fewer), with the bad lines
/// among them, found by reading backwards from the end, so the cost depends on `n`, not on
/// the size of the log. Appends made after the call are not read.
pub(crate) fn open_last<T: DeserializeOwned>(path: &Path, n: usize) -> Result<JsonlReader<T>> {
    let Some(file) = open_read(path)? else {
        return JsonlReader::new(path, None, 0, 0);
    };
    let read_err = |e| StoreError::io("read", path, e);
    let len = file.metadata().map_err(read_err)?.len();
    let start = start_of_last_records::<T>(&file, len, n).map_err(read_err)?;
    JsonlReader::new(path, Some(file), start, len)
}

/// The offset of the start of the line holding the `n`th valid record from the end of the
/// file's first `len` bytes (0 when there are fewer). Lines that are not records (bad, blank,
/// too long, a torn tail) do not count.
fn start_of_last_records<T: DeserializeOwned>(file: &File, len: u64, n: usize) -> io::Result<u64> {
    if n == 0 {
        return Ok(len);
    }
    let mut lines = LinesBackward {
        file,
        pos: len,
        chunk: Vec::new(),
        chunk_start: len,
    };
    let mut line = Vec::new();
    let mut found = 0;
    while let Some(start) = lines.prev(&mut line)? {
        let text = line.trim_ascii();
        if !text.is_empty() && serde_json::from_slice::<T>(text).is_ok() {
            found += 1;
            if found == n {
                return Ok(start);
            }
        }
    }
    Ok(0)
}

/// A file's lines from the last to the first, read in blocks of [`CHUNK`] bytes.
struct LinesBackward<'a> {
    file: &'a File,
    /// The lines before this offset are still to be read.
    pos: u64,
    /// A block of the file, starting at `chunk_start`.
    chunk: Vec<u8>,
    chunk_start: u64,
}

impl LinesBackward<'_> {
    /// Reads the line before `pos` into `line` (without its newline; left empty when it is
    /// longer than [`MAX_LINE_BYTES`]) and returns its offset; `None` at the start.
    fn prev(&mut self, line: &mut Vec<u8>) -> io::Result<Option<u64>> {
        line.clear();
        if self.pos == 0 {
            return Ok(None);
        }
        let mut end = self.pos;
        if self.byte(end - 1)? == b'\n' {
            end -= 1;
        }
        // Search `..at` for the newline that ends the line before.
        let mut at = end;
        let start = loop {
            if at == 0 {
                break 0;
            }
            self.byte(at - 1)?;
            let lo = self.chunk_start;
            match self.chunk[..(at - lo) as usize]
                .iter()
                .rposition(|&b| b == b'\n')
            {
                Some(i) => break lo + i as u64 + 1,
                None => at = lo,
            }
        };
        self.pos = start;
        if end - start <= MAX_LINE_BYTES {
            let chunk_end = self.chunk_start + self.chunk.len() as u64;
            if start >= self.chunk_start && end <= chunk_end {
                let from = (start - self.chunk_start) as usize;
                line.extend_from_slice(&self.chunk[from..from + (end - start) as usize]);
            } else {
                line.resize((end - start) as usize, 0);
                platform::read_exact_at(self.file, line, start)?;
            }
        }
        Ok(Some(start))
    }

    /// The byte at `offset`, reading the block that ends with it when it is not loaded.
    fn byte(&mut self, offset: u64) -> io::Result<u8> {
        let chunk_end = self.chunk_start + self.chunk.len() as u64;
        if offset < self.chunk_start || offset >= chunk_end {
            let end = offset + 1;
            let start = end.saturating_sub(CHUNK);
            self.chunk.resize((end - start) as usize, 0);
            platform::read_exact_at(self.file, &mut self.chunk, start)?;
            self.chunk_start = start;
        }
        Ok(self.chunk[(offset - self.chunk_start) as usize])
    }
}

/// The number of newlines in the first `end` bytes of `file`.
fn count_lines(file: &File, end: u64) -> io::Result<usize> {
    let mut buf = vec![0u8; CHUNK as usize];
    let mut count = 0;
    let mut pos = 0;
    while pos < end {
        let size = CHUNK.min(end - pos) as usize;
        let chunk = &mut buf[..size];
        platform::read_exact_at(file, chunk, pos)?;
        count += chunk.iter().filter(|&&b| b == b'\n').count();
        pos += size as u64;
    }
    Ok(count)
}
