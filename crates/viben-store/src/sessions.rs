//! Sessions: `sessions/<id>/session.yaml` (metadata) and `messages.jsonl` (the message log),
//! through [`Sessions`].

use std::io;
use std::path::PathBuf;

use chrono::Utc;
use viben_model::{Message, SessionMeta, ValidationError};

use crate::document::{Document, Record, Shape, check_id, check_new_id, not_found, validate};
use crate::error::{Result, StoreError};
use crate::jsonl::{self, JsonlReader, Records};
use crate::layout::Layout;
use crate::lock::LockGuard;
use crate::revision::{Revision, Versioned};
use crate::session_index::SessionIndex;
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
///
/// `create`, `update` (of the agent), `save_if_unchanged` and `delete` keep the session index
/// (`sessions/.index.jsonl`) that [`Sessions::page`] reads; see [`Sessions::rebuild_index`].
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'s> {
    pub(crate) store: &'s Store,
}

impl Sessions<'_> {
    /// Every session, newest first (by `created_at`, then id), and one error per entry that
    /// does not load: a file that does not parse, breaks a rule or names another id, a name
    /// that is not UTF-8 or not a valid id. Names starting with `.` are skipped. Reads every
    /// `session.yaml` (on all cores) and not the index, so it also finds sessions the index
    /// misses; [`Sessions::page`] reads a page's worth.
    pub fn list(&self) -> Result<Listing<SessionMeta>> {
        self.store.list_records()
    }

    /// The session `id`.
    pub fn get(&self, id: &str) -> Result<SessionMeta> {
        self.get_versioned(id).map(|v| v.value)
    }

    /// The session `id` and the revision of its file, for a later `save_if_unchanged`.
    pub fn get_versioned(&self, id: &str) -> Result<Versioned<SessionMeta>> {
        self.store.get_record(id)
    }

    /// Creates the session and returns its file's revision. Refuses an id that is taken
    /// ([`StoreError::AlreadyExists`]), one that differs from an existing one's only in case
    /// ([`StoreError::CaseCollision`]) and one that Windows or macOS could not use as a name
    /// ([`StoreError::InvalidId`]); validates before anything is made. The session enters
    /// the index (flushed to disk) before its folder is made.
    pub fn create(&self, value: &SessionMeta) -> Result<Revision> {
        check_new_id("session", &value.id)?;
        validate(&self.store.layout().session_meta(&value.id), value)?;
        // Held until the folder is made, so no rebuild runs between the line and the folder.
        let index = self.index();
        let locked = index.lock()?;
        locked.add(&value.id, &value.agent_id)?;
        self.store.create_record(value)
    }

    /// Changes the session `id` under its file's lock: reads it, applies `change`,
    /// validates, and writes it back crash-safely (not at all when nothing changed, so
    /// comments survive). Fields this version does not know are kept; the id cannot change;
    /// nothing is written when `change` fails. A new agent enters the index before the file
    /// is written. Returns the value as written and its revision.
    pub fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut SessionMeta) -> Result<()>,
    ) -> Result<Versioned<SessionMeta>> {
        check_id("session", id)?;
        // Taken before the file's lock (the store's lock order), held until it is written.
        let index = self.index();
        let locked = index.lock()?;
        self.store.update_record(id, |meta: &mut SessionMeta| {
            let before = meta.agent_id.clone();
            change(meta)?;
            if meta.agent_id != before {
                check_id("agent", &meta.agent_id)?;
                locked.add(id, &meta.agent_id)?;
            }
            Ok(())
        })
    }

    /// Writes the session if its file is still at `expected` (the revision of the read it
    /// was computed from; [`Revision::ABSENT`] creates it, by the rules of `create`), else
    /// refuses with [`StoreError::Conflict`]. Returns the new revision.
    pub fn save_if_unchanged(&self, value: &SessionMeta, expected: &Revision) -> Result<Revision> {
        check_id("session", &value.id)?;
        validate(&self.store.layout().session_meta(&value.id), value)?;
        let index = self.index();
        let locked = index.lock()?;
        locked.add(&value.id, &value.agent_id)?;
        self.store.save_record_if_unchanged(value, expected)
    }

    /// Makes the session index again from the session folders (every `session.yaml`, read on
    /// all cores), taking in sessions it missed (folders copied in by hand, sessions written
    /// by an older viben) and dropping entries of sessions that are gone; returns the number
    /// of sessions found. What `viben check --repair` does; safe while other processes create
    /// and delete sessions.
    pub fn rebuild_index(&self) -> Result<usize> {
        self.index().rebuild()
    }

    fn index(&self) -> SessionIndex<'_> {
        SessionIndex::new(self.store)
    }

    /// One page of sessions, newest first, reading a page's worth of the session index and
    /// the `session.yaml` files of the page (plus, with `agent`, those of the agent's
    /// sessions whose file now names another agent): its cost does not grow with the number
    /// of sessions. A store without an index (made by an older viben) has it made first.
    ///
    /// Order: ids are ordered by their text, newest first. viben's ids are UUIDv7, whose text
    /// starts with their creation time, so that is creation order; ids made elsewhere (a web
    /// app's `chat-1`) come after every UUIDv7 id, in reverse text order. `after` is the
    /// `next` of the previous page (a session id; it need not exist any more).
    ///
    /// Sessions whose folders were copied in by hand are not in the index until `viben check
    /// --repair` ([`Sessions::rebuild_index`]); `viben check` reports them. A damaged index
    /// is [`StoreError::CorruptIndex`], never a silently shorter page.
    pub fn page(
        &self,
        agent: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<SessionPage> {
        let store = self.store;
        let mut page = SessionPage::default();
        let Some(candidates) = self.index().candidates(agent, after)? else {
            return Ok(page);
        };
        let mut candidates = candidates.peekable();
        // Read a page's worth at a time; with an agent, read on until the page is full.
        while page.items.len() < limit {
            let mut batch = Vec::new();
            for id in candidates.by_ref().take(limit - page.items.len()) {
                batch.push((id?, false));
            }
            let Some((last, _)) = batch.last() else {
                break;
            };
            page.next = Some(last.clone());
            for ((id, _), result) in batch.iter().zip(store.load_all::<SessionMeta>(&batch)) {
                match result {
                    Ok(meta) if agent.is_none_or(|a| meta.agent_id == a) => page.items.push(meta),
                    Ok(_) => {}
                    // An entry whose session is gone: a create that failed, a delete that
                    // stopped before its index line.
                    Err(_) if !store.layout().session_dir(id).exists() => {}
                    Err(err) => page.errors.push(err),
                }
            }
        }
        if candidates.peek().is_none() {
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
        {
            let _appends = jsonl::lock_log(&log)?;
            let _updates = crate::lock::lock_exclusive(&store.layout().session_meta(id))?;
            if !crate::atomic::remove_dir_aside(&store.layout().sessions_dir(), &dir, id)? {
                return Err(not_found("session", id));
            }
        }
        // The session is gone whatever happens next: an index line not written only leaves
        // an entry without a session, which pages skip. Its locks are released first: the
        // index's is taken before any other.
        if let Err(error) = self.index().remove(id) {
            tracing::warn!(
                target: crate::trace::SAVE,
                session = id,
                error = %viben_model::Chain(&error),
                "session index not updated after a delete"
            );
        }
        Ok(())
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
