//! The session index: which sessions exist and which agent each belongs to, kept beside them
//! so a page of sessions reads a few lines of it instead of listing the whole `sessions/`
//! folder (`docs/store.md`, "The session index").
//!
//! Two files in `sessions/`, both JSON lines, hidden (no id starts with `.`):
//! - `.index.jsonl`, a snapshot: a header line, then every entry twice, once in page order
//!   (newest first) and once by agent and then page order. A page is found by binary search
//!   in the right section and read on line by line, so it costs the same at any size.
//! - `.index-log.jsonl`, the changes since the snapshot, `["+", id, agent]` and `["-", id]`,
//!   folded into a new snapshot once it passes [`JOURNAL_LIMIT`].
//!
//! Every write happens under `sessions/.index.lock`, which a create, update or delete of a
//! session holds from its index line until its folder or file is written, so a rebuild (from
//! the folders, under the same lock) never runs in between. It is taken before any other lock
//! of the store and never while holding one, so it cannot close a cycle with them. Readers take no lock: they open the journal
//! before the snapshot, and a compaction replaces the snapshot before the journal, so a reader
//! sees either the old pair or a new snapshot with an old journal, whose changes are already
//! in it (folding a journal twice changes nothing).
//!
//! The index holds a superset of the sessions: an entry is written (and flushed) before its
//! session's folder is made, and removed only once the folder is gone, so an entry without a
//! session (a create that failed, a crash) can exist and readers skip it, while a session
//! without an entry cannot, except one copied in by hand or made by an older viben, which
//! `check` reports and `check --repair` ([`SessionIndex::rebuild`]) takes in.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::iter::Peekable;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use viben_model::SessionMeta;

use crate::atomic::{self, PRIVATE_MODE};
use crate::document::{Record, Scanned};
use crate::error::{Result, StoreError};
use crate::lock::{self, LockGuard};
use crate::platform;
use crate::store::Store;

/// The journal is folded into a new snapshot once longer than this (about 1,000 creates):
/// every page reads the whole journal, and a compaction rewrites the whole snapshot.
pub(crate) const JOURNAL_LIMIT: u64 = 64 * 1024;

/// The first field of the snapshot's header.
const FORMAT: &str = "viben session index";
/// The snapshot's format version; another one is refused (and rebuilt by `check --repair`).
const VERSION: u32 = 1;
/// No line of a sound index is longer (two ids of at most 128 bytes, JSON-escaped).
const MAX_LINE: u64 = 4096;
/// How much a sequential read of a section asks for at a time.
const READ_CHUNK: u64 = 16 * 1024;

/// One entry: the session `id` belongs to `agent` (`None`: its `session.yaml` did not load
/// when the index was rebuilt; filtered pages read it to find out).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Entry {
    pub(crate) id: String,
    pub(crate) agent: Option<String>,
}

/// How a session id sorts in pages: UUIDv7 ids (viben's: their text starts with their
/// creation time) above every other id, then by text; pages run from the greatest down.
pub(crate) fn page_key(id: &str) -> (bool, &str) {
    (is_uuid_v7(id), id)
}

/// Whether `id` is a lowercase hyphenated UUID of version 7.
fn is_uuid_v7(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
        })
        && bytes[14] == b'7'
}

/// The order of the snapshot's first section: page order, then agent.
fn time_order(a: &Entry, b: &Entry) -> Ordering {
    page_key(&b.id)
        .cmp(&page_key(&a.id))
        .then_with(|| a.agent.cmp(&b.agent))
}

/// The order of the snapshot's second section: agent (unknown first), then page order.
fn agent_order(a: &Entry, b: &Entry) -> Ordering {
    a.agent
        .cmp(&b.agent)
        .then_with(|| page_key(&b.id).cmp(&page_key(&a.id)))
}

/// The snapshot's first line.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    /// Entries in each section.
    entries: u64,
    /// Bytes of the page-order section, which follows the header.
    by_time: u64,
    /// Bytes of the by-agent section, which follows the first.
    by_agent: u64,
}

/// The index of one store's sessions, from [`SessionIndex::new`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionIndex<'s> {
    store: &'s Store,
}

impl<'s> SessionIndex<'s> {
    pub(crate) fn new(store: &'s Store) -> Self {
        Self { store }
    }

    /// `sessions/.index.jsonl`.
    pub(crate) fn snapshot_path(&self) -> PathBuf {
        self.store.layout().sessions_dir().join(".index.jsonl")
    }

    /// `sessions/.index-log.jsonl`.
    pub(crate) fn journal_path(&self) -> PathBuf {
        self.store.layout().sessions_dir().join(".index-log.jsonl")
    }

    /// Takes `sessions/.index.lock` (making the sessions folder when missing), and makes the
    /// index when there is none. Writers of sessions hold it from their index line until
    /// their folder or file is written, so a rebuild never runs in between.
    ///
    /// Lock order: taken before any other lock of the store (an agent's, `.sessions.lock`,
    /// a `session.yaml`'s), never while holding one.
    pub(crate) fn lock(&self) -> Result<IndexLock<'_, 's>> {
        let dir = self.store.layout().sessions_dir();
        self.store.ensure_dir(&dir)?;
        let guard = lock::lock_exclusive(&dir.join("index"))?;
        if !self.exists()? {
            self.rebuild_locked()?;
        }
        Ok(IndexLock {
            index: self,
            _guard: guard,
        })
    }

    /// Records that session `id` is gone, unless its folder is there again (made since by
    /// another create, which wrote its own entry first).
    pub(crate) fn remove(&self, id: &str) -> Result<()> {
        let _lock = self.lock()?;
        if present(&self.store.layout().session_dir(id))? {
            return Ok(());
        }
        let line = serde_json::to_string(&("-", id))
            .map_err(|e| encode_error(&self.journal_path(), &e))?;
        // Not flushed: losing it leaves an entry without a session, which readers skip.
        let length = self.append(&line, false)?;
        self.compact_when_long(length);
        Ok(())
    }

    /// Whether the snapshot exists (the index is made).
    fn exists(&self) -> Result<bool> {
        let path = self.snapshot_path();
        self.store.confine(&path)?;
        present(&path)
    }

    /// Appends one line to the journal (under the lock), first cutting off a fragment a
    /// writer that died mid-line left; returns the journal's new length.
    fn append(&self, line: &str, sync: bool) -> Result<u64> {
        let path = self.journal_path();
        self.store.confine(&path)?;
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        platform::create_mode(&mut options, PRIVATE_MODE);
        let file = platform::no_follow_non_blocking(&mut options)
            .open(&path)
            .map_err(|e| match e {
                e if platform::is_link_refused(&e) => StoreError::Linked { path: path.clone() },
                e => StoreError::io("open", &path, e),
            })?;
        let mut length = crate::store::regular_len(&file, &path)?;
        crate::store::refuse_linked(&file, &path)?;
        let whole = whole_lines_len(&file, length).map_err(|e| StoreError::io("read", &path, e))?;
        if whole != length {
            file.set_len(whole)
                .map_err(|e| StoreError::io("repair", &path, e))?;
            length = whole;
        }
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        (&file)
            .write_all(&bytes)
            .map_err(|e| StoreError::io("write", &path, e))?;
        if sync {
            file.sync_data()
                .map_err(|e| StoreError::io("flush to disk", &path, e))?;
        }
        Ok(length + bytes.len() as u64)
    }

    /// Folds the journal into a new snapshot once it is long. The entry is already written,
    /// so a failure here only leaves a longer journal: it is traced, not returned.
    fn compact_when_long(&self, journal_len: u64) {
        if journal_len <= JOURNAL_LIMIT {
            return;
        }
        if let Err(error) = self.compact_locked() {
            tracing::warn!(
                target: crate::trace::SAVE,
                path = %self.store.layout().relative(&self.snapshot_path()).display(),
                error = %viben_model::Chain(&error),
                "session index not compacted"
            );
        }
    }

    /// A new snapshot from the current one and the journal, then an empty journal (under the
    /// lock).
    fn compact_locked(&self) -> Result<()> {
        let journal = read_journal(&self.journal_path())?;
        let snapshot = Snapshot::open(&self.snapshot_path())?
            .ok_or_else(|| corrupt(&self.snapshot_path(), "the snapshot disappeared".to_owned()))?;
        let mut entries: Vec<Entry> = snapshot
            .entries_by_time()?
            .into_iter()
            .filter(|entry| !journal.removed.contains(&entry.id))
            .collect();
        entries.extend(journal.added);
        self.write(entries)
    }

    /// Makes the index again from the session folders (each `session.yaml` read on all
    /// cores). No create, update or delete is between its index line and its folder
    /// meanwhile (they hold the lock), so the folders are the whole truth. Returns the number
    /// of sessions found.
    pub(crate) fn rebuild(&self) -> Result<usize> {
        let dir = self.store.layout().sessions_dir();
        self.store.ensure_dir(&dir)?;
        let _guard = lock::lock_exclusive(&dir.join("index"))?;
        self.rebuild_locked()
    }

    fn rebuild_locked(&self) -> Result<usize> {
        let store = self.store;
        let mut ids = Vec::new();
        for scanned in store.scan(
            &store.layout().sessions_dir(),
            "session",
            SessionMeta::SHAPE,
        )? {
            if let Scanned::Record { id, real_dir, .. } = scanned {
                ids.push((id, real_dir));
            }
        }
        let found = ids.len();
        let entries: Vec<Entry> = store
            .load_all::<SessionMeta>(&ids)
            .into_iter()
            .zip(ids)
            .map(|(loaded, (id, _))| Entry {
                agent: loaded.ok().map(|meta| meta.agent_id),
                id,
            })
            .collect();
        self.write(entries)?;
        Ok(found)
    }

    /// Writes `entries` as the snapshot, then empties the journal.
    fn write(&self, mut entries: Vec<Entry>) -> Result<()> {
        entries.sort_by(time_order);
        entries.dedup();
        let mut by_time = Vec::with_capacity(entries.len() * 64);
        for entry in &entries {
            push_line(&mut by_time, &(&entry.id, &entry.agent));
        }
        entries.sort_by(agent_order);
        let mut by_agent = Vec::with_capacity(by_time.len());
        for entry in &entries {
            push_line(&mut by_agent, &(&entry.agent, &entry.id));
        }
        let header = Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            entries: entries.len() as u64,
            by_time: by_time.len() as u64,
            by_agent: by_agent.len() as u64,
        };
        let mut bytes = Vec::with_capacity(by_time.len() * 2 + 128);
        push_line(&mut bytes, &header);
        bytes.extend_from_slice(&by_time);
        bytes.extend_from_slice(&by_agent);
        let snapshot = self.snapshot_path();
        let journal = self.journal_path();
        self.store.confine(&snapshot)?;
        self.store.confine(&journal)?;
        // The snapshot first: a reader holding the old journal and the new snapshot reads
        // changes that are already in it, which folds to the same.
        atomic::write_atomic(&snapshot, &bytes, PRIVATE_MODE, false)?;
        atomic::write_atomic(&journal, b"", PRIVATE_MODE, false)
    }

    /// The ids of the sessions after `after` in page order (all of `agent`'s when given, plus
    /// those whose agent is unknown), deduplicated, reading the index as it goes. `None` when
    /// the store has no sessions folder. A missing index is made first (under the lock).
    pub(crate) fn candidates(
        &self,
        agent: Option<&str>,
        after: Option<&str>,
    ) -> Result<Option<Candidates>> {
        if !present(&self.store.layout().sessions_dir())? {
            return Ok(None);
        }
        self.store.confine(&self.snapshot_path())?;
        self.store.confine(&self.journal_path())?;
        // The journal before the snapshot (see the module's comment).
        let journal_file = crate::store::open_regular(
            platform::no_follow(OpenOptions::new().read(true)),
            &self.journal_path(),
            "read",
        )?;
        let snapshot = match Snapshot::open(&self.snapshot_path())? {
            Some(snapshot) => snapshot,
            None => {
                self.rebuild_locked_if_missing()?;
                return self.candidates(agent, after);
            }
        };
        let journal = match journal_file {
            Some(file) => fold_journal(
                &read_whole(&file, &self.journal_path())?,
                &self.journal_path(),
            )?,
            None => Journal::default(),
        };
        let beyond = |id: &str| after.is_none_or(|after| page_key(id) < page_key(after));
        let mut added: Vec<Entry> = journal
            .added
            .into_iter()
            .filter(|entry| agent.is_none_or(|a| entry.agent.as_deref() == Some(a)))
            .filter(|entry| beyond(&entry.id))
            .collect();
        added.sort_by(time_order);
        let mut streams = vec![Stream::Journal(added.into_iter().peekable())];
        match agent {
            None => {
                let (start, end) = snapshot.by_time_range();
                let from =
                    snapshot.search(start, end, Section::ByTime, |entry| beyond(&entry.id))?;
                streams.push(Stream::Section(snapshot.cursor(
                    from,
                    end,
                    Section::ByTime,
                    None,
                )));
            }
            Some(agent) => {
                for group in [Some(agent.to_owned()), None] {
                    let (start, end) = snapshot.by_agent_range();
                    let from = snapshot.search(start, end, Section::ByAgent, |entry| {
                        entry.agent > group || (entry.agent == group && beyond(&entry.id))
                    })?;
                    streams.push(Stream::Section(snapshot.cursor(
                        from,
                        end,
                        Section::ByAgent,
                        Some(group),
                    )));
                }
            }
        }
        Ok(Some(Candidates {
            streams,
            heads: Vec::new(),
            removed: journal.removed,
            last: None,
        }))
    }

    fn rebuild_locked_if_missing(&self) -> Result<()> {
        self.lock().map(drop)
    }

    /// Every entry the index holds now (snapshot and journal), read whole and checked: the
    /// order of both sections, that they hold the same entries, the journal's lines. `None`
    /// when there is no index.
    pub(crate) fn entries(&self) -> Result<Option<HashMap<String, HashSet<Option<String>>>>> {
        self.store.confine(&self.snapshot_path())?;
        self.store.confine(&self.journal_path())?;
        let journal = read_journal(&self.journal_path())?;
        let Some(snapshot) = Snapshot::open(&self.snapshot_path())? else {
            return Ok(None);
        };
        let by_time = snapshot.entries_by_time()?;
        let mut by_agent = snapshot.entries_by_agent()?;
        let mut sorted = by_time.clone();
        sorted.sort_by(agent_order);
        by_agent.sort_by(agent_order);
        if sorted != by_agent || by_time.len() as u64 != snapshot.header.entries {
            return Err(corrupt(
                &snapshot.path,
                "its two sections do not hold the same sessions".to_owned(),
            ));
        }
        let mut live: HashMap<String, HashSet<Option<String>>> = HashMap::new();
        for entry in by_time {
            if !journal.removed.contains(&entry.id) {
                live.entry(entry.id).or_default().insert(entry.agent);
            }
        }
        for entry in journal.added {
            live.entry(entry.id).or_default().insert(entry.agent);
        }
        Ok(Some(live))
    }
}

/// The index's lock, held: from [`SessionIndex::lock`].
#[derive(Debug)]
pub(crate) struct IndexLock<'i, 's> {
    index: &'i SessionIndex<'s>,
    _guard: LockGuard,
}

impl IndexLock<'_, '_> {
    /// Records that session `id` belongs to `agent`, flushed to disk, before the session's
    /// folder or its new agent is written (with this lock still held).
    pub(crate) fn add(&self, id: &str, agent: &str) -> Result<()> {
        let index = self.index;
        let line = serde_json::to_string(&("+", id, agent))
            .map_err(|e| encode_error(&index.journal_path(), &e))?;
        let length = index.append(&line, true)?;
        index.compact_when_long(length);
        Ok(())
    }
}

/// Whether something is at `path` (not following a link).
fn present(path: &Path) -> Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io("inspect", path, e)),
    }
}

fn push_line<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    // Plain strings, numbers and `null`: serializing them into memory cannot fail.
    if serde_json::to_writer(&mut *out, value).is_ok() {
        out.push(b'\n');
    }
}

fn encode_error(path: &Path, error: &serde_json::Error) -> StoreError {
    StoreError::Encode {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

fn corrupt(path: &Path, message: String) -> StoreError {
    StoreError::CorruptIndex {
        path: path.to_owned(),
        message,
    }
}

/// The length of the whole lines at the start of `file` (of `length` bytes): `length` when it
/// ends with a newline (or is empty), else where its last newline ends.
fn whole_lines_len(file: &File, length: u64) -> io::Result<u64> {
    let mut end = length;
    while end > 0 {
        let start = end.saturating_sub(4096);
        let mut buf = vec![0; (end - start) as usize];
        platform::read_exact_at(file, &mut buf, start)?;
        if let Some(at) = buf.iter().rposition(|&b| b == b'\n') {
            let whole = start + at as u64 + 1;
            return Ok(if whole == length { length } else { whole });
        }
        end = start;
    }
    Ok(0)
}

/// What the journal says: the ids whose earlier entries are gone, and the entries added
/// since their id's last removal.
#[derive(Debug, Default)]
struct Journal {
    removed: HashSet<String>,
    added: Vec<Entry>,
}

fn read_whole(file: &File, path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let mut file = file;
    file.read_to_end(&mut bytes)
        .map_err(|e| StoreError::io("read", path, e))?;
    Ok(bytes)
}

/// Reads and folds the journal at `path` (empty when absent).
fn read_journal(path: &Path) -> Result<Journal> {
    match crate::store::open_regular(
        platform::no_follow(OpenOptions::new().read(true)),
        path,
        "read",
    )? {
        Some(file) => fold_journal(&read_whole(&file, path)?, path),
        None => Ok(Journal::default()),
    }
}

/// Folds the journal's `bytes`, refusing a damaged line.
fn fold_journal(bytes: &[u8], path: &Path) -> Result<Journal> {
    let mut removed = HashSet::new();
    let mut added: HashMap<String, Vec<String>> = HashMap::new();
    // A last line without its newline is being written (or its writer died): not yet a change.
    let whole = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(&bytes[..0], |at| &bytes[..=at]);
    for (n, line) in whole.split_inclusive(|&b| b == b'\n').enumerate() {
        let line = &line[..line.len() - 1];
        let fields: Option<Vec<String>> = serde_json::from_slice(line).ok();
        match fields.as_deref() {
            Some([op, id, agent])
                if op == "+" && valid_id("session", id) && valid_id("agent", agent) =>
            {
                let agents = added.entry(id.clone()).or_default();
                if !agents.contains(agent) {
                    agents.push(agent.clone());
                }
            }
            Some([op, id]) if op == "-" && valid_id("session", id) => {
                added.remove(id);
                removed.insert(id.clone());
            }
            _ => {
                return Err(corrupt(
                    path,
                    format!("line {} is not a change of the index", n + 1),
                ));
            }
        }
    }
    let added = added
        .into_iter()
        .flat_map(|(id, agents)| {
            agents.into_iter().map(move |agent| Entry {
                id: id.clone(),
                agent: Some(agent),
            })
        })
        .collect();
    Ok(Journal { removed, added })
}

fn valid_id(kind: &'static str, id: &str) -> bool {
    viben_model::validate_path_id(kind, id).is_ok()
}

/// Which section of the snapshot, and so how its lines read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// `[id, agent]` lines in [`time_order`].
    ByTime,
    /// `[agent, id]` lines in [`agent_order`].
    ByAgent,
}

impl Section {
    fn parse(self, line: &[u8], path: &Path) -> Result<Entry> {
        let bad = || corrupt(path, "a line is not a session entry".to_owned());
        let entry = match self {
            Self::ByTime => {
                let (id, agent): (String, Option<String>) =
                    serde_json::from_slice(line).map_err(|_| bad())?;
                Entry { id, agent }
            }
            Self::ByAgent => {
                let (agent, id): (Option<String>, String) =
                    serde_json::from_slice(line).map_err(|_| bad())?;
                Entry { id, agent }
            }
        };
        if !valid_id("session", &entry.id)
            || entry
                .agent
                .as_deref()
                .is_some_and(|a| !valid_id("agent", a))
        {
            return Err(bad());
        }
        Ok(entry)
    }

    fn order(self, a: &Entry, b: &Entry) -> Ordering {
        match self {
            Self::ByTime => time_order(a, b),
            Self::ByAgent => agent_order(a, b),
        }
    }
}

/// An open snapshot: its header checked, its sections read by offset (`pread`), so several
/// cursors share one open file.
#[derive(Debug)]
struct Snapshot {
    file: std::sync::Arc<File>,
    path: PathBuf,
    /// Where the first section starts (the header's length).
    body: u64,
    header: Header,
}

impl Snapshot {
    /// `None` when absent.
    fn open(path: &Path) -> Result<Option<Self>> {
        let Some(file) = crate::store::open_regular(
            platform::no_follow(OpenOptions::new().read(true)),
            path,
            "read",
        )?
        else {
            return Ok(None);
        };
        let length = crate::store::regular_len(&file, path)?;
        let mut first = vec![0; length.min(MAX_LINE) as usize];
        platform::read_exact_at(&file, &mut first, 0)
            .map_err(|e| StoreError::io("read", path, e))?;
        let bad = |what: &str| corrupt(path, what.to_owned());
        let end = first
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| bad("it has no header line"))?;
        let header: Header =
            serde_json::from_slice(&first[..end]).map_err(|_| bad("its header does not parse"))?;
        if header.format != FORMAT {
            return Err(bad("its header is not a session index's"));
        }
        if header.version != VERSION {
            return Err(corrupt(
                path,
                format!(
                    "it is in format version {}, and this viben reads version {VERSION}",
                    header.version
                ),
            ));
        }
        let body = end as u64 + 1;
        if header
            .by_time
            .checked_add(header.by_agent)
            .and_then(|b| b.checked_add(body))
            != Some(length)
        {
            return Err(bad("its length does not match its header (cut short?)"));
        }
        Ok(Some(Self {
            file: std::sync::Arc::new(file),
            path: path.to_owned(),
            body,
            header,
        }))
    }

    fn by_time_range(&self) -> (u64, u64) {
        (self.body, self.body + self.header.by_time)
    }

    fn by_agent_range(&self) -> (u64, u64) {
        let start = self.body + self.header.by_time;
        (start, start + self.header.by_agent)
    }

    /// The line starting at `pos` (before `end`) and where the next one starts.
    fn line_at(&self, pos: u64, end: u64) -> Result<(Vec<u8>, u64)> {
        let length = (end - pos).min(MAX_LINE);
        let mut buf = vec![0; length as usize];
        platform::read_exact_at(&self.file, &mut buf, pos)
            .map_err(|e| StoreError::io("read", &self.path, e))?;
        match buf.iter().position(|&b| b == b'\n') {
            Some(at) => {
                buf.truncate(at);
                Ok((buf, pos + at as u64 + 1))
            }
            None => Err(corrupt(
                &self.path,
                "a line is too long or unfinished".to_owned(),
            )),
        }
    }

    /// Where the first line starting at or after `pos` (within `..end`) starts.
    fn next_line_start(&self, pos: u64, end: u64) -> Result<u64> {
        let mut at = pos;
        while at < end {
            let length = (end - at).min(512);
            let mut buf = vec![0; length as usize];
            platform::read_exact_at(&self.file, &mut buf, at)
                .map_err(|e| StoreError::io("read", &self.path, e))?;
            if let Some(found) = buf.iter().position(|&b| b == b'\n') {
                return Ok(at + found as u64 + 1);
            }
            at += length;
        }
        Ok(end)
    }

    /// The start of the first line in `start..end` whose entry satisfies `past` (false for
    /// every line before it, true for every line from it on: a binary search over bytes,
    /// about 2 log₂(n) small reads).
    fn search(
        &self,
        start: u64,
        end: u64,
        section: Section,
        past: impl Fn(&Entry) -> bool,
    ) -> Result<u64> {
        let (mut lo, mut hi) = (start, end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let probe = if mid == lo {
                lo
            } else {
                self.next_line_start(mid - 1, hi)?
            };
            // No line starts in `mid..hi`: decide on the one at `lo`.
            let probe = if probe >= hi { lo } else { probe };
            let (line, next) = self.line_at(probe, hi)?;
            if past(&section.parse(&line, &self.path)?) {
                hi = probe;
            } else {
                lo = next;
            }
        }
        Ok(lo)
    }

    fn cursor(
        &self,
        from: u64,
        end: u64,
        section: Section,
        group: Option<Option<String>>,
    ) -> Cursor {
        Cursor {
            file: std::sync::Arc::clone(&self.file),
            path: self.path.clone(),
            section,
            group,
            pos: from,
            end,
            buf: Vec::new(),
            at: 0,
            previous: None,
        }
    }

    fn read_section(&self, section: Section) -> Result<Vec<Entry>> {
        let (start, end) = match section {
            Section::ByTime => self.by_time_range(),
            Section::ByAgent => self.by_agent_range(),
        };
        self.cursor(start, end, section, None).collect()
    }

    fn entries_by_time(&self) -> Result<Vec<Entry>> {
        self.read_section(Section::ByTime)
    }

    fn entries_by_agent(&self) -> Result<Vec<Entry>> {
        self.read_section(Section::ByAgent)
    }
}

/// Reads a section of the snapshot on from a line, checking its order as it goes; with a
/// `group`, stops at the first entry of another agent.
#[derive(Debug)]
struct Cursor {
    file: std::sync::Arc<File>,
    path: PathBuf,
    section: Section,
    group: Option<Option<String>>,
    /// The file offset of `buf[0]`'s successor once `buf` is used up.
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    /// The next unread byte of `buf`.
    at: usize,
    previous: Option<Entry>,
}

impl Cursor {
    fn next_line(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            if let Some(found) = self.buf[self.at..].iter().position(|&b| b == b'\n') {
                let line = self.buf[self.at..self.at + found].to_vec();
                self.at += found + 1;
                return Ok(Some(line));
            }
            if self.pos >= self.end {
                return if self.at == self.buf.len() {
                    Ok(None)
                } else {
                    Err(corrupt(
                        &self.path,
                        "its last line is unfinished".to_owned(),
                    ))
                };
            }
            if self.buf.len() - self.at > MAX_LINE as usize {
                return Err(corrupt(&self.path, "a line is too long".to_owned()));
            }
            self.buf.drain(..self.at);
            self.at = 0;
            let length = (self.end - self.pos).min(READ_CHUNK);
            let old = self.buf.len();
            self.buf.resize(old + length as usize, 0);
            platform::read_exact_at(&self.file, &mut self.buf[old..], self.pos)
                .map_err(|e| StoreError::io("read", &self.path, e))?;
            self.pos += length;
        }
    }
}

impl Iterator for Cursor {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        let entry = match self.next_line() {
            Ok(Some(line)) => self.section.parse(&line, &self.path),
            Ok(None) => return None,
            Err(err) => Err(err),
        };
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                self.pos = self.end;
                self.buf.clear();
                self.at = 0;
                return Some(Err(err));
            }
        };
        if let Some(group) = &self.group
            && entry.agent != *group
        {
            self.pos = self.end;
            self.buf.clear();
            self.at = 0;
            return None;
        }
        if let Some(previous) = &self.previous
            && self.section.order(previous, &entry) != Ordering::Less
        {
            self.pos = self.end;
            self.buf.clear();
            self.at = 0;
            return Some(Err(corrupt(
                &self.path,
                "its lines are out of order".to_owned(),
            )));
        }
        self.previous = Some(entry.clone());
        Some(Ok(entry))
    }
}

/// One sorted source of entries for [`Candidates`].
#[derive(Debug)]
enum Stream {
    Journal(Peekable<std::vec::IntoIter<Entry>>),
    Section(Cursor),
}

/// The ids of a listing in page order, merged from the snapshot's sections and the journal,
/// each once (from [`SessionIndex::candidates`]).
#[derive(Debug)]
pub(crate) struct Candidates {
    streams: Vec<Stream>,
    /// The next entry of each stream, once started (`None`: that stream is done).
    heads: Vec<Option<Entry>>,
    removed: HashSet<String>,
    last: Option<String>,
}

impl Candidates {
    fn pull(&mut self, i: usize) -> Result<Option<Entry>> {
        loop {
            let next = match &mut self.streams[i] {
                Stream::Journal(entries) => entries.next(),
                Stream::Section(cursor) => match cursor.next() {
                    Some(entry) => Some(entry?),
                    None => None,
                },
            };
            match next {
                // An entry of the snapshot that the journal removed since.
                Some(entry)
                    if matches!(self.streams[i], Stream::Section(_))
                        && self.removed.contains(&entry.id) => {}
                other => return Ok(other),
            }
        }
    }
}

impl Iterator for Candidates {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Result<String>> {
        if self.heads.is_empty() {
            for i in 0..self.streams.len() {
                match self.pull(i) {
                    Ok(head) => self.heads.push(head),
                    Err(err) => {
                        self.streams.clear();
                        self.heads.clear();
                        return Some(Err(err));
                    }
                }
            }
        }
        loop {
            // The head first in page order.
            let best = self
                .heads
                .iter()
                .enumerate()
                .filter_map(|(i, head)| head.as_ref().map(|head| (i, head)))
                .max_by(|(_, a), (_, b)| page_key(&a.id).cmp(&page_key(&b.id)))
                .map(|(i, _)| i)?;
            let entry = self.heads[best].take()?;
            match self.pull(best) {
                Ok(head) => self.heads[best] = head,
                Err(err) => {
                    self.heads.clear();
                    self.streams.clear();
                    return Some(Err(err));
                }
            }
            if self.last.as_deref() == Some(entry.id.as_str()) {
                continue;
            }
            self.last = Some(entry.id.clone());
            return Some(Ok(entry.id));
        }
    }
}
