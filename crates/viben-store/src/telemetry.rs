//! Telemetry: spans, metric points and log records as JSON Lines, one file per UTC day per
//! signal (`telemetry/<signal>/<YYYY-MM-DD>.jsonl`), close to OpenTelemetry's file exporter.

use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use viben_model::TelemetryRecord;

use crate::error::{Result, StoreError};
use crate::jsonl::{self, JsonlReader, LogWarning, Records};
use crate::store::Store;

/// The signals, one folder each.
const SIGNALS: [&str; 3] = ["traces", "metrics", "logs"];

/// A day file modified this recently (by the system clock) may still be appended to, so
/// pruning by size keeps it; a file whose modification time is in the future (a clock that
/// was set back) is kept too.
pub const RECENTLY_WRITTEN: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// What [`Telemetry::prune`] removes: day files older than an age, and the oldest day
/// files while the total is over a size. Both may be set; `None` means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrunePolicy {
    /// Remove day files whose whole day ended more than this long before `now`.
    pub max_age: Option<Duration>,
    /// Then remove the oldest day files (all signals together) until the total is at most
    /// this many bytes. Files that may still be written are never removed by size: today's
    /// (by `now`), and any file modified within the last hour ([`RECENTLY_WRITTEN`], by the
    /// system clock), such as yesterday's file just after midnight, when a span that started
    /// before midnight is recorded.
    pub max_total_bytes: Option<u64>,
}

/// What a prune removed, and what it left alone and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// The files removed, oldest first.
    pub removed: Vec<PathBuf>,
    /// Their total size.
    pub bytes_freed: u64,
    /// The total size of the telemetry files left.
    pub bytes_left: u64,
    /// Entries named like day files that were not removed because they are not plain day
    /// files (a folder, a symbolic link, a FIFO) or could not be removed, and signal folders
    /// that could not be read; the prune went on past each. Oldest first, then by path.
    pub skipped: Vec<PruneSkip>,
}

/// An entry [`Telemetry::prune`] left in place, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneSkip {
    /// The entry (a day file's path, or a signal folder's).
    pub path: PathBuf,
    /// Why it was left, for people: `a folder, not a day file; move it out of the telemetry
    /// folder`, or the error removing it gave.
    pub reason: String,
}

/// The records of a time range, read as they are needed, from [`Telemetry::stream`].
#[derive(Debug)]
pub struct TelemetryStream<T> {
    /// The day files still to read, the next one last.
    files: Vec<PathBuf>,
    reader: Option<JsonlReader<T>>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    warnings: Vec<LogWarning>,
}

impl<T: TelemetryRecord> TelemetryStream<T> {
    /// The lines skipped so far (bad or torn), each with its file and line.
    pub fn warnings(&self) -> impl Iterator<Item = &LogWarning> {
        self.warnings
            .iter()
            .chain(self.reader.iter().flat_map(|r| r.warnings()))
    }

    /// Every line skipped, once the stream is done.
    pub fn into_warnings(mut self) -> Vec<LogWarning> {
        if let Some(reader) = self.reader.take() {
            self.warnings.extend(reader.into_warnings());
        }
        self.warnings
    }
}

impl<T: TelemetryRecord> Iterator for TelemetryStream<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(reader) = &mut self.reader {
                match reader.next_lenient() {
                    Some(Ok(record)) => {
                        let at = record.timestamp();
                        if at >= self.from && at < self.to {
                            return Some(Ok(record));
                        }
                        continue;
                    }
                    Some(Err(err)) => return Some(Err(err)),
                    None => {
                        if let Some(done) = self.reader.take() {
                            self.warnings.extend(done.into_warnings());
                        }
                    }
                }
            }
            let path = self.files.pop()?;
            match JsonlReader::<T>::open(&path) {
                Ok(reader) => self.reader = Some(reader),
                Err(err) => return Some(Err(err)),
            }
        }
    }
}

struct DayFile {
    day: NaiveDate,
    path: PathBuf,
    len: u64,
    /// Modified within [`RECENTLY_WRITTEN`].
    recent: bool,
}

/// The telemetry of a store (`telemetry/<signal>/<YYYY-MM-DD>.jsonl`), from
/// [`Store::telemetry`]: appends, range reads and pruning.
#[derive(Debug, Clone, Copy)]
pub struct Telemetry<'s> {
    pub(crate) store: &'s Store,
}

impl Telemetry<'_> {
    /// Appends `record` to its signal's file for the UTC day of its timestamp.
    pub fn record<T: TelemetryRecord>(&self, record: &T) -> Result<()> {
        self.store.record(record)
    }

    /// The records of type `T` whose timestamp is in `from..to` (`to` excluded), in file order
    /// day by day; only the day files of the range are opened, and each is streamed. Bad and
    /// torn lines are skipped and reported as warnings.
    pub fn read<T: TelemetryRecord>(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Records<T>> {
        let mut stream = self.stream(from, to)?;
        let mut records = Vec::new();
        for record in stream.by_ref() {
            records.push(record?);
        }
        Ok(Records {
            records,
            warnings: stream.into_warnings(),
        })
    }

    /// The records of [`Telemetry::read`] one at a time, as they are read: memory stays flat
    /// whatever the range (a year of telemetry). Bad and torn lines are skipped and kept as
    /// warnings ([`TelemetryStream::warnings`]).
    pub fn stream<T: TelemetryRecord>(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<TelemetryStream<T>> {
        let (first, last) = (from.date_naive(), to.date_naive());
        let mut files: Vec<PathBuf> = Vec::new();
        let mut days = self.store.day_files(T::SIGNAL)?;
        days.sort_by_key(|file| file.day);
        for file in days {
            if file.day < first || file.day > last {
                continue;
            }
            self.store.confine(&file.path)?;
            files.push(file.path);
        }
        files.reverse();
        Ok(TelemetryStream {
            files,
            reader: None,
            from,
            to,
            warnings: Vec::new(),
        })
    }

    /// Removes old telemetry day files by `policy`, oldest first, as of `now`.
    ///
    /// Only regular files are removed. An entry named like a day file that is something else
    /// (a folder, a symbolic link, a FIFO), a file that cannot be removed, and a signal folder
    /// that cannot be listed are left alone, listed in [`PruneReport::skipped`] with the
    /// reason, and the prune goes on with the rest. An error is returned only when nothing
    /// could be pruned at all (the telemetry folder itself escapes the store).
    pub fn prune(&self, policy: PrunePolicy, now: DateTime<Utc>) -> Result<PruneReport> {
        self.store.prune_telemetry(policy, now)
    }
}

impl Store {
    fn record<T: TelemetryRecord>(&self, record: &T) -> Result<()> {
        self.check_writable()?;
        let day = record.timestamp().date_naive();
        let path = self.layout().telemetry_day_file(T::SIGNAL, day);
        self.confine(&path)?;
        let line = jsonl::encode(&path, record)?;
        let log = match jsonl::AppendLog::open(&path, self.layout().relative(&path)) {
            Ok(log) => log,
            // The signal's folder is made by its first record.
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                self.ensure_dir(&self.layout().telemetry_signal_dir(T::SIGNAL))?;
                jsonl::AppendLog::open(&path, self.layout().relative(&path))?
            }
            Err(other) => return Err(other),
        };
        // Deleted between the open and the write: pruned as this record came in.
        log.append(&line, false, || {
            StoreError::io("append to", &path, std::io::ErrorKind::NotFound.into())
        })
    }

    fn prune_telemetry(&self, policy: PrunePolicy, now: DateTime<Utc>) -> Result<PruneReport> {
        self.check_writable()?;
        self.confine(&self.layout().telemetry_dir())?;
        let mut files = Vec::new();
        let mut skipped = Vec::new();
        for signal in SIGNALS {
            match self.day_entries(signal) {
                Ok(entries) => {
                    for entry in entries {
                        match entry {
                            DayEntry::File(file) => files.push(file),
                            DayEntry::Odd(day, skip) => skipped.push((day, skip)),
                        }
                    }
                }
                Err(err) => skipped.push((
                    NaiveDate::MIN,
                    PruneSkip {
                        path: self.layout().telemetry_signal_dir(signal),
                        reason: viben_model::Report(&err).to_string(),
                    },
                )),
            }
        }
        files.sort_by(|a, b| (a.day, &a.path).cmp(&(b.day, &b.path)));
        let today = now.date_naive();
        let mut report = PruneReport {
            bytes_left: files.iter().map(|f| f.len).sum(),
            ..PruneReport::default()
        };
        for file in files {
            let too_old = policy.max_age.is_some_and(|age| {
                file.day
                    .succ_opt()
                    .and_then(|next| next.and_hms_opt(0, 0, 0))
                    // An age too large to add to a date removes nothing.
                    .and_then(|end| end.and_utc().checked_add_signed(age))
                    .is_some_and(|limit| limit <= now)
            });
            let too_big = file.day < today
                && !file.recent
                && policy
                    .max_total_bytes
                    .is_some_and(|max| report.bytes_left > max);
            if !(too_old || too_big) {
                continue;
            }
            match fs::remove_file(&file.path) {
                Ok(()) => {}
                // Removed meanwhile (by another prune): its bytes are gone all the same.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    let err = StoreError::io("delete", &file.path, e);
                    skipped.push((
                        file.day,
                        PruneSkip {
                            path: file.path,
                            reason: viben_model::Report(&err).to_string(),
                        },
                    ));
                    continue;
                }
            }
            report.bytes_left -= file.len;
            report.bytes_freed += file.len;
            report.removed.push(file.path);
        }
        skipped.sort_by(|a, b| (a.0, &a.1.path).cmp(&(b.0, &b.1.path)));
        report.skipped = skipped.into_iter().map(|(_, skip)| skip).collect();
        Ok(report)
    }

    /// The day files of `signal` to read, in no particular order: regular files, and
    /// symbolic links (the reader confines and checks what they lead to); other files are
    /// ignored.
    fn day_files(&self, signal: &str) -> Result<Vec<DayFile>> {
        Ok(self
            .day_entries(signal)?
            .into_iter()
            .filter_map(|entry| match entry {
                DayEntry::File(file) => Some(file),
                DayEntry::Odd(day, skip) if skip.path.is_symlink() => Some(DayFile {
                    day,
                    path: skip.path,
                    len: 0,
                    recent: true,
                }),
                DayEntry::Odd(..) => None,
            })
            .collect())
    }

    /// The entries of `signal`'s folder named like day files, in no particular order; other
    /// names are ignored. A missing folder has none.
    fn day_entries(&self, signal: &str) -> Result<Vec<DayEntry>> {
        let dir = self.layout().telemetry_signal_dir(signal);
        self.confine(&dir)?;
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io("list", &dir, e)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("list", &dir, e))?;
            let name = entry.file_name();
            let Some(day) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".jsonl"))
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            else {
                continue;
            };
            let odd = |reason: String| {
                DayEntry::Odd(
                    day,
                    PruneSkip {
                        path: entry.path(),
                        reason,
                    },
                )
            };
            // `DirEntry::metadata` does not follow a symbolic link: a link is seen as one.
            let meta = match entry.metadata() {
                Ok(meta) => meta,
                // Removed since the listing (by a concurrent prune).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    found.push(odd(viben_model::Report(&StoreError::io(
                        "inspect",
                        entry.path(),
                        e,
                    ))
                    .to_string()));
                    continue;
                }
            };
            let file_type = meta.file_type();
            if !file_type.is_file() {
                let what = if file_type.is_dir() {
                    "a folder"
                } else if file_type.is_symlink() {
                    "a symbolic link"
                } else if crate::platform::is_fifo(&file_type) {
                    "a FIFO"
                } else {
                    "a special file"
                };
                found.push(odd(format!(
                    "{what}, not a day file; move it out of the telemetry folder"
                )));
                continue;
            }
            // An unknown modification time counts as recent: keeping a file is the safe side.
            let recent = meta
                .modified()
                .ok()
                .and_then(|modified| SystemTime::now().duration_since(modified).ok())
                .is_none_or(|age| age < RECENTLY_WRITTEN);
            found.push(DayEntry::File(DayFile {
                day,
                path: entry.path(),
                len: meta.len(),
                recent,
            }));
        }
        Ok(found)
    }
}

/// An entry named like a day file: a regular file, or something else left alone.
enum DayEntry {
    File(DayFile),
    Odd(NaiveDate, PruneSkip),
}
