//! Sessions: `sessions/<id>/session.yaml` (metadata) and `messages.jsonl` (the message log),
//! through [`Sessions`].

use std::io;
use std::path::PathBuf;

use chrono::Utc;
use viben_model::{Message, SessionMeta, ValidationError};

use crate::document::{Document, Record, Shape, check_id, not_found};
use crate::error::{Result, StoreError};
use crate::jsonl::{self, JsonlReader, Records};
use crate::layout::Layout;
use crate::lock::LockGuard;
use crate::store::{Listing, Store};

impl Document for SessionMeta {
    const KIND: &'static str = "session";

    fn problems(&self) -> Vec<ValidationError> {
        self.validate().err().into_iter().collect()
    }
}

impl Record for SessionMeta {
    const ID_FIELD: &'static str = "id";
    // A session folder without `session.yaml` may hold an old log: never adopt it.
    const SHAPE: Shape = Shape::FolderPerRecord { reuse: false };

    fn folder(layout: &Layout) -> PathBuf {
        layout.sessions_dir()
    }

    fn path(layout: &Layout, id: &str) -> PathBuf {
        layout.session_meta(id)
    }

    fn id(&self) -> &str {
        &self.id
    }

    /// Newest first (by `created_at`, then id).
    fn order(items: &mut [Self]) {
        items.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    }

    fn touch(&mut self, _before: &Self) {
        self.updated_at = Utc::now();
    }

    /// The agent's lock, once the agent is found: a concurrent delete of the agent either
    /// sees this session or makes the create fail with `NotFound`.
    fn guard_create(store: &Store, meta: &Self) -> Result<Option<LockGuard>> {
        let lock = store.lock_agent(&meta.agent_id)?;
        store.agents().get(&meta.agent_id)?;
        Ok(Some(lock))
    }
}

/// An open message log for appending many messages without reopening the file each time.
///
/// Every append is one whole line, written under an exclusive lock on the log, so appenders
/// in any threads and processes interleave whole lines, and one that dies mid-line leaves a
/// fragment alone on its line (see `docs/store.md`, "Appends").
#[derive(Debug)]
pub struct MessageAppender {
    id: String,
    log: jsonl::AppendLog,
}

impl MessageAppender {
    /// Appends `message` as one line (no fsync: a crash of the machine may lose the last
    /// messages, never earlier ones).
    ///
    /// Fails with [`StoreError::NotFound`] once the session was deleted (also when a session
    /// with the same id was created since: open a new appender for it), and with
    /// [`StoreError::LineTooLong`] for a message whose line would be over 16 MiB, which no
    /// reader would return; nothing is written then.
    pub fn append(&self, message: &Message) -> Result<()> {
        self.append_line(message, false)
    }

    /// Appends `message` and waits until it is on disk (`fdatasync`).
    pub fn append_durable(&self, message: &Message) -> Result<()> {
        self.append_line(message, true)
    }

    fn append_line(&self, message: &Message, sync: bool) -> Result<()> {
        let line = jsonl::encode(self.log.path(), message)?;
        self.log
            .append(&line, sync, || not_found("session", &self.id))
    }
}

/// The sessions of a store (`sessions/<id>/`), from [`Store::sessions`]: their metadata
/// (`session.yaml`, with the verbs of every record) and their message logs (appends and
/// streaming reads).
///
/// `create` makes the session's folder and `session.yaml`; the agent must exist, and its lock
/// is held from that check to the write, so a concurrent [`crate::Agents::delete`] either sees
/// the new session or makes the create fail with `NotFound`. When writing `session.yaml`
/// fails, the folder the create made is removed again, so a retry can succeed and no
/// half-made session is listed; a folder without `session.yaml` (which may hold an old log)
/// makes the id taken. `update` sets `updated_at` to now when something changed. `list` is
/// newest first (by `created_at`, then id).
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'s> {
    pub(crate) store: &'s Store,
}

impl Sessions<'_> {
    crate::document::record_verbs!(SessionMeta, "session", "id");

    /// One page of sessions, newest first, reading only the `session.yaml` files of the page
    /// (plus, with `agent`, those of the sessions skipped for belonging to another agent):
    /// the folder is listed (cheap), its names are ordered, and the page is read.
    ///
    /// Order: ids are ordered by their text, newest first. viben's ids are UUIDv7, whose text
    /// starts with their creation time, so that is creation order; ids made elsewhere (a web
    /// app's `chat-1`) come after every UUIDv7 id, in reverse text order. `after` is the
    /// `next` of the previous page (a session id; it need not exist any more).
    pub fn page(
        &self,
        agent: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<SessionPage> {
        let store = self.store;
        let mut page = SessionPage::default();
        let mut ids = Vec::new();
        for scanned in store.scan(
            &store.layout().sessions_dir(),
            "session",
            SessionMeta::SHAPE,
        )? {
            match scanned {
                crate::document::Scanned::Record { id, real_dir, .. } => ids.push((id, real_dir)),
                crate::document::Scanned::Bad(err) => page.errors.push(err),
                crate::document::Scanned::Hidden { .. } => {}
            }
        }
        // Newest first; each id's key worked out once, not at every comparison.
        ids.sort_by_cached_key(|(id, _)| std::cmp::Reverse((is_uuid_v7(id), id.clone())));
        let start = match after {
            Some(after) => ids.partition_point(|(id, _)| page_key(id) >= page_key(after)),
            None => 0,
        };
        let mut rest = ids[start..].iter();
        // Read a page's worth at a time; with an agent, read on until the page is full.
        while page.items.len() < limit {
            let batch: Vec<(String, bool)> = rest
                .by_ref()
                .take(limit - page.items.len())
                .cloned()
                .collect();
            let Some((last, _)) = batch.last() else {
                break;
            };
            page.next = Some(last.clone());
            for result in store.load_all::<SessionMeta>(&batch) {
                match result {
                    Ok(meta) if agent.is_none_or(|a| meta.agent_id == a) => page.items.push(meta),
                    Ok(_) => {}
                    Err(err) => page.errors.push(err),
                }
            }
        }
        if rest.len() == 0 {
            page.next = None;
        }
        Ok(page)
    }

    /// The sessions of the agent `agent`, as [`Sessions::list`] orders them.
    pub fn list_for_agent(&self, agent: &str) -> Result<Listing<SessionMeta>> {
        let mut listing = self.list()?;
        listing.items.retain(|meta| meta.agent_id == agent);
        Ok(listing)
    }

    /// Opens session `id`'s log for appending.
    pub fn appender(&self, id: &str) -> Result<MessageAppender> {
        let store = self.store;
        store.check_writable()?;
        check_id("session", id)?;
        let path = store.layout().session_messages(id);
        store.confine(&path)?;
        if !store.layout().session_meta(id).exists() {
            return Err(not_found("session", id));
        }
        let log =
            jsonl::AppendLog::open(&path, self.store.layout().relative(&path)).map_err(|err| {
                match err {
                    // The folder went away since the check above.
                    StoreError::Io { ref source, .. }
                        if source.kind() == io::ErrorKind::NotFound =>
                    {
                        not_found("session", id)
                    }
                    other => other,
                }
            })?;
        Ok(MessageAppender {
            id: id.to_owned(),
            log,
        })
    }

    /// Appends `message` to session `id`'s log (see [`MessageAppender::append`]).
    pub fn append(&self, id: &str, message: &Message) -> Result<()> {
        self.appender(id)?.append(message)
    }

    /// The log of session `id`, after checking that the session exists.
    fn log(&self, id: &str) -> Result<PathBuf> {
        check_id("session", id)?;
        let path = self.store.layout().session_messages(id);
        self.store.confine(&path)?;
        if !self.store.layout().session_dir(id).exists() {
            return Err(not_found("session", id));
        }
        Ok(path)
    }

    /// Streams session `id`'s messages from the first, one line in memory at a time.
    pub fn read(&self, id: &str) -> Result<JsonlReader<Message>> {
        JsonlReader::open(&self.log(id)?)
    }

    /// The last `n` messages of session `id`, read backwards from the end of the log so a
    /// long log is not loaded. Bad lines among them are skipped and reported as warnings
    /// (`path:line`); they do not count towards `n`.
    pub fn last(&self, id: &str, n: usize) -> Result<Records<Message>> {
        self.read_last(id, n)?.collect_lenient()
    }

    /// Streams the last `n` messages of session `id` (see [`Sessions::last`]), one line in
    /// memory at a time, with the bad lines among them as errors; messages appended after
    /// the call are not read.
    pub fn read_last(&self, id: &str, n: usize) -> Result<JsonlReader<Message>> {
        jsonl::open_last(&self.log(id)?, n)
    }

    /// Deletes session `id` (its metadata and its log), all or nothing for every reader.
    ///
    /// Holds the log's append lock and the metadata's lock, so an append or an update in
    /// progress ends first; then moves the folder aside before removing it, so every later
    /// append or update fails with `NotFound` instead of writing into a folder being emptied
    /// (no append reports success for a line that was deleted, and no half-deleted session is
    /// left behind).
    pub fn delete(&self, id: &str) -> Result<()> {
        let store = self.store;
        store.check_writable()?;
        check_id("session", id)?;
        let dir = store.layout().session_dir(id);
        store.confine(&dir)?;
        if !dir.is_dir() {
            return Err(not_found("session", id));
        }
        let log = store.layout().session_messages(id);
        store.confine(&log)?;
        let _appends = jsonl::lock_log(&log)?;
        let _updates = crate::lock::lock_exclusive(&store.layout().session_meta(id))?;
        if crate::atomic::remove_dir_aside(&store.layout().sessions_dir(), &dir, id)? {
            Ok(())
        } else {
            Err(not_found("session", id))
        }
    }
}

/// A page of sessions, from [`Sessions::page`].
#[derive(Debug, Default)]
pub struct SessionPage {
    /// The sessions of the page, newest first.
    pub items: Vec<SessionMeta>,
    /// One error per session folder of the page that did not load (and per name that is not
    /// an id).
    pub errors: Vec<StoreError>,
    /// The `after` of the next page, when there are more sessions.
    pub next: Option<String>,
}

/// How a session id sorts in [`Sessions::page`]: UUIDv7 ids (viben's: their text starts with
/// their creation time) above every other id, then by text.
fn page_key(id: &str) -> (bool, &str) {
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
