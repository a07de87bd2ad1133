//! Sessions: `sessions/<id>/session.yaml` (metadata) and `messages.jsonl` (the message log).

use std::fs;
use std::io;

use chrono::Utc;
use viben_model::{Message, SessionMeta};

use crate::error::{Result, StoreError};
use crate::jsonl::{self, JsonlReader, Records};
use crate::layout::create_private_dir;
use crate::revision::Revision;
use crate::store::{
    DocSpec, FileMode, Listing, Store, check_id, check_new_id, first_invalid, read_dir_if_exists,
};

fn spec() -> DocSpec<SessionMeta> {
    DocSpec {
        empty: None,
        check: |path, meta| first_invalid(path, meta.validate().err().into_iter().collect()),
        mode: |_| FileMode::Keep,
    }
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        kind: "session",
        id: id.to_owned(),
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
        self.log.append(&line, sync, || not_found(&self.id))
    }
}

impl Store {
    /// Creates the session `meta.id` (its folder and `session.yaml`); the agent must exist.
    ///
    /// An invalid session id (also one that cannot be a folder name on Windows or macOS) is
    /// [`StoreError::InvalidId`], one differing from an existing session's only in case is
    /// [`StoreError::CaseCollision`]; any other rule the metadata breaks
    /// (an invalid `agent_id`) is [`StoreError::Invalid`] about its `session.yaml`. When
    /// writing `session.yaml` fails, the folder this call created is removed again, so a
    /// retry can succeed and no half-made session is listed.
    ///
    /// Holds the agent's lock from checking that it exists to writing `session.yaml`, so a
    /// concurrent [`Store::delete_agent`] either sees this session or makes this call fail
    /// with `NotFound`.
    pub fn create_session(&self, meta: &SessionMeta) -> Result<()> {
        check_new_id("session", &meta.id)?;
        let path = self.layout().session_meta(&meta.id);
        (spec().check)(&path, meta)?;
        let _agent_lock = self.lock_agent(&meta.agent_id)?;
        self.get_agent(&meta.agent_id)?;
        let dir = self.layout().session_dir(&meta.id);
        self.confine(&dir)?;
        let sessions = self.layout().sessions_dir();
        self.ensure_dir(&sessions)?;
        // Held until `session.yaml` is written, so `s` and `S` cannot both be created.
        let _folder_lock = crate::lock::lock_exclusive(&sessions)?;
        self.refuse_case_collision(&sessions, "session", &meta.id, "")?;
        match create_private_dir(&dir, false) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(StoreError::AlreadyExists {
                    kind: "session",
                    id: meta.id.clone(),
                });
            }
            Err(e) => return Err(StoreError::io("create folder", &dir, e)),
        }
        let written = self.modify_doc(
            &path,
            spec(),
            Some(Revision::ABSENT),
            || Ok(meta.clone()),
            |_| Ok(()),
        );
        if let Err(err) = written {
            // This call made the folder and nothing else can have used it yet: appenders and
            // readers need `session.yaml`, and a second create got `AlreadyExists`.
            let _ = fs::remove_dir_all(&dir);
            return Err(err);
        }
        Ok(())
    }

    /// The metadata of session `id`.
    pub fn get_session(&self, id: &str) -> Result<SessionMeta> {
        check_id("session", id)?;
        let path = self.layout().session_meta(id);
        let (meta, _) = self
            .load_doc::<SessionMeta>(&path, None)?
            .ok_or_else(|| not_found(id))?;
        if meta.id != id {
            return Err(StoreError::IdMismatch {
                path,
                field: "id",
                expected: id.to_owned(),
                found: meta.id,
            });
        }
        first_invalid(&path, meta.validate().err().into_iter().collect())?;
        Ok(meta)
    }

    /// Changes the metadata of session `id` under its lock (see [`Store::update_agent`]),
    /// setting `updated_at` to now when something changed. The id cannot be changed.
    pub fn update_session<R>(
        &self,
        id: &str,
        change: impl FnOnce(&mut SessionMeta) -> Result<R>,
    ) -> Result<(SessionMeta, R)> {
        check_id("session", id)?;
        let path = self.layout().session_meta(id);
        self.modify_doc(
            &path,
            spec(),
            None,
            || Err(not_found(id)),
            |meta| {
                let before = meta.clone();
                let result = change(meta)?;
                if meta.id != id {
                    return Err(StoreError::IdMismatch {
                        path: path.clone(),
                        field: "id",
                        expected: id.to_owned(),
                        found: meta.id.clone(),
                    });
                }
                if *meta != before {
                    meta.updated_at = Utc::now();
                }
                Ok(result)
            },
        )
        .map(|(meta, result, _)| (meta, result))
    }

    /// Every session (of `agent` only, when given), newest first (by `created_at`, then id),
    /// and one error per session folder that does not load.
    pub fn list_sessions(&self, agent: Option<&str>) -> Result<Listing<SessionMeta>> {
        let dir = self.layout().sessions_dir();
        let mut listing = Listing::default();
        // A folder not made yet holds nothing.
        let Some(entries) = read_dir_if_exists(&dir)? else {
            return Ok(listing);
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("list", &dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            if name.starts_with('.')
                || !entry
                    .file_type()
                    .is_ok_and(|t| t.is_dir() || t.is_symlink())
            {
                continue;
            }
            match self.get_session(name) {
                Ok(meta) if agent.is_none_or(|a| meta.agent_id == a) => listing.items.push(meta),
                Ok(_) => {}
                Err(err) => listing.errors.push(err),
            }
        }
        listing
            .items
            .sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(listing)
    }

    /// Opens session `id`'s log for appending.
    pub fn message_appender(&self, id: &str) -> Result<MessageAppender> {
        check_id("session", id)?;
        let path = self.layout().session_messages(id);
        self.confine(&path)?;
        if !self.layout().session_meta(id).exists() {
            return Err(not_found(id));
        }
        let log = jsonl::AppendLog::open(&path).map_err(|err| match err {
            // The folder went away since the check above.
            StoreError::Io { ref source, .. } if source.kind() == io::ErrorKind::NotFound => {
                not_found(id)
            }
            other => other,
        })?;
        Ok(MessageAppender {
            id: id.to_owned(),
            log,
        })
    }

    /// Appends `message` to session `id`'s log (see [`MessageAppender::append`]).
    pub fn append_message(&self, id: &str, message: &Message) -> Result<()> {
        self.message_appender(id)?.append(message)
    }

    /// Streams session `id`'s messages from the first, one line in memory at a time.
    pub fn read_messages(&self, id: &str) -> Result<JsonlReader<Message>> {
        check_id("session", id)?;
        let path = self.layout().session_messages(id);
        self.confine(&path)?;
        if !self.layout().session_dir(id).exists() {
            return Err(not_found(id));
        }
        JsonlReader::open(&path)
    }

    /// The last `n` messages of session `id`, read backwards from the end of the log so a
    /// long log is not loaded. Bad lines among them are skipped and reported as warnings
    /// (`path:line`); they do not count towards `n`.
    pub fn last_messages(&self, id: &str, n: usize) -> Result<Records<Message>> {
        self.read_last_messages(id, n)?.collect_lenient()
    }

    /// Streams the last `n` messages of session `id` (see [`Store::last_messages`]), one line
    /// in memory at a time, with the bad lines among them as errors; messages appended after
    /// the call are not read.
    pub fn read_last_messages(&self, id: &str, n: usize) -> Result<JsonlReader<Message>> {
        check_id("session", id)?;
        let path = self.layout().session_messages(id);
        self.confine(&path)?;
        if !self.layout().session_dir(id).exists() {
            return Err(not_found(id));
        }
        jsonl::open_last(&path, n)
    }

    /// Deletes session `id` (its metadata and its log).
    ///
    /// Holds the log's append lock while deleting, so an append in progress ends first and
    /// every later one fails with `NotFound`: no append reports success for a line that was
    /// deleted.
    pub fn delete_session(&self, id: &str) -> Result<()> {
        check_id("session", id)?;
        let dir = self.layout().session_dir(id);
        self.confine(&dir)?;
        let log = self.layout().session_messages(id);
        self.confine(&log)?;
        let _locked = jsonl::lock_log(&log)?;
        match fs::remove_dir_all(&dir) {
            Ok(()) => crate::atomic::sync_dir(&self.layout().sessions_dir()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(not_found(id)),
            Err(e) => Err(StoreError::io("delete", &dir, e)),
        }
    }
}
