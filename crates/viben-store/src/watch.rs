//! Live change events: [`Store::watch`] turns the file system's notifications under the root
//! into typed [`Event`]s (agent created, provider removed, message appended, ...).
//!
//! Notifications only say *that* a path was touched; what an editor's save does to a folder
//! (write in place, write a temporary file and rename it over, delete then create, keep a
//! backup) differs from editor to editor. So the watcher keeps what it last saw of each file
//! (the revision of its bytes, the length of each message log) and, once a burst of
//! notifications has settled, compares: the events are the differences, whatever sequence of
//! calls produced them. A touched file whose bytes did not change gives no event, and the
//! store's own lock and temporary files, editors' swap and backup files and telemetry are never
//! looked at.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant};

use notify_debouncer_full::notify::event::{AccessKind, AccessMode, EventKind};
use notify_debouncer_full::notify::{self, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, NoCache};
use viben_model::Hint;

use crate::error::{Result, StoreError};
use crate::revision::Revision;
use crate::store::{Store, read_dir_if_exists};
use crate::{trace, yaml};

/// How long a path must stay quiet before its notifications are turned into events: long
/// enough to take in an editor's whole save (rename, create, write, chmod, all within a few
/// milliseconds), short enough that a person sees the change at once.
const SETTLE: Duration = Duration::from_millis(50);

/// How often the debouncer looks for settled paths (so an event comes at most
/// `SETTLE + TICK` after the last notification of its burst).
const TICK: Duration = Duration::from_millis(25);

/// One change in the store, as [`Watcher`] reports it.
///
/// Each names what changed, not how it changed: re-read it through the store (an event never
/// carries a value from a file, so it never carries a secret). A provider, the catalog, the
/// channels and the profile have no "created": their first appearance is a change, as is their
/// removal for the last three (they read as empty or absent then).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Event {
    /// `agents/<id>/config.yaml` appeared (written, or its folder moved in).
    AgentCreated {
        /// The agent's id.
        id: String,
    },
    /// `agents/<id>/config.yaml` changed.
    AgentChanged {
        /// The agent's id.
        id: String,
    },
    /// `agents/<id>/config.yaml` is gone (deleted, or its folder moved out).
    AgentRemoved {
        /// The agent's id.
        id: String,
    },
    /// `providers/<name>.yaml` appeared or changed.
    ProviderChanged {
        /// The provider's name.
        name: String,
    },
    /// `providers/<name>.yaml` is gone.
    ProviderRemoved {
        /// The provider's name.
        name: String,
    },
    /// `models.yaml` changed, appeared or is gone.
    ModelsChanged,
    /// `channels.yaml` changed, appeared or is gone.
    ChannelsChanged,
    /// `profile.yaml` changed, appeared or is gone (signed in or out).
    ProfileChanged,
    /// `sessions/<id>/session.yaml` appeared.
    SessionCreated {
        /// The session's id.
        id: String,
    },
    /// `sessions/<id>/session.yaml` changed (its title, its `updated_at`), or its message
    /// log was rewritten rather than appended to.
    SessionChanged {
        /// The session's id.
        id: String,
    },
    /// `sessions/<id>/messages.jsonl` grew: read the new messages with
    /// [`crate::Sessions::last`].
    MessageAppended {
        /// The session's id.
        session: String,
    },
    /// `sessions/<id>/session.yaml` is gone (the session was deleted).
    SessionRemoved {
        /// The session's id.
        id: String,
    },
}

impl Event {
    /// The event's name in snake case (`agent_created`, `models_changed`, ...), as
    /// `viben watch --json` prints it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AgentCreated { .. } => "agent_created",
            Self::AgentChanged { .. } => "agent_changed",
            Self::AgentRemoved { .. } => "agent_removed",
            Self::ProviderChanged { .. } => "provider_changed",
            Self::ProviderRemoved { .. } => "provider_removed",
            Self::ModelsChanged => "models_changed",
            Self::ChannelsChanged => "channels_changed",
            Self::ProfileChanged => "profile_changed",
            Self::SessionCreated { .. } => "session_created",
            Self::SessionChanged { .. } => "session_changed",
            Self::MessageAppended { .. } => "message_appended",
            Self::SessionRemoved { .. } => "session_removed",
        }
    }

    /// The id of the agent, provider or session the event is about; `None` for the catalog,
    /// the channels and the profile (one file each).
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::AgentCreated { id }
            | Self::AgentChanged { id }
            | Self::AgentRemoved { id }
            | Self::SessionCreated { id }
            | Self::SessionChanged { id }
            | Self::SessionRemoved { id } => Some(id),
            Self::ProviderChanged { name } | Self::ProviderRemoved { name } => Some(name),
            Self::MessageAppended { session } => Some(session),
            Self::ModelsChanged | Self::ChannelsChanged | Self::ProfileChanged => None,
        }
    }
}

/// `agent changed: my-agent`, `models catalog changed`: one line for people.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Self::AgentCreated { .. } => "agent created",
            Self::AgentChanged { .. } => "agent changed",
            Self::AgentRemoved { .. } => "agent removed",
            Self::ProviderChanged { .. } => "provider changed",
            Self::ProviderRemoved { .. } => "provider removed",
            Self::ModelsChanged => "models catalog changed",
            Self::ChannelsChanged => "channels changed",
            Self::ProfileChanged => "profile changed",
            Self::SessionCreated { .. } => "session created",
            Self::SessionChanged { .. } => "session changed",
            Self::MessageAppended { .. } => "message appended",
            Self::SessionRemoved { .. } => "session removed",
        };
        match self.id() {
            Some(id) => write!(f, "{what}: {id}"),
            None => f.write_str(what),
        }
    }
}

/// What a [`Watcher`] reports instead of an [`Event`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// A file changed (`event` says which) into one that does not load: it does not parse
    /// (the error is placed, `path:line:column`), breaks a rule, or is not a regular file.
    /// Keep showing the last good value and show the error; the next save that fixes the file
    /// gives the event again, without the error.
    #[error("{event}, but it does not load")]
    Unreadable {
        /// What changed.
        event: Event,
        /// Why it does not load, as reading it through the store reports it (boxed: a
        /// result carrying it stays small).
        #[source]
        error: Box<StoreError>,
    },

    /// The file system's notifications failed (too many folders to watch, the kernel's queue
    /// overflowed): some changes may have been missed. The watcher reads everything again
    /// and reports what differs, but re-read what you show to be sure.
    #[error("watching {} failed, so changes may have been missed", root.display())]
    Failed {
        /// The store's root.
        root: PathBuf,
        /// The notification system's error.
        #[source]
        source: io::Error,
    },
}

impl Hint for WatchError {
    fn hint(&self) -> Option<String> {
        match self {
            // The store's own hint says a refused write left the file unchanged, which is
            // beside the point when the file was changed by hand.
            Self::Unreadable { error, .. } if matches!(**error, StoreError::Parse { .. }) => {
                Some("fix the file by hand (`viben check` lists every problem)".to_owned())
            }
            Self::Unreadable { error, .. } => error.hint(),
            Self::Failed { .. } => Some(
                "re-read the store; on Linux, if it says too many watches, raise \
                 fs.inotify.max_user_watches (one watch per folder of the store)"
                    .to_owned(),
            ),
        }
    }
}

/// What a [`Watcher`] yields: an event, or a change it cannot report as a value.
pub type WatchResult = std::result::Result<Event, WatchError>;

/// A running watch of one store, from [`Store::watch`]: a receiver of [`WatchResult`]s.
///
/// Events come in the order their bursts settled (within a burst, ordered by kind and id), on
/// a thread of the watcher's own; read them with [`Watcher::recv`], [`Watcher::recv_timeout`],
/// [`Watcher::try_recv`], or iterate (`for event in &watcher`, which blocks). Dropping the
/// watcher stops watching.
pub struct Watcher {
    /// Each settled burst's results, sent at once so a reader never sees half a burst.
    batches: mpsc::Receiver<Vec<WatchResult>>,
    /// The rest of the burst being read.
    pending: RefCell<VecDeque<WatchResult>>,
    // Kept for its `Drop`, which stops the notifications and the debouncer's thread.
    _debouncer: Debouncer<RecommendedWatcher, NoCache>,
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

impl Watcher {
    /// Waits for the next event. `None` only if the watcher's thread is gone (it panicked).
    pub fn recv(&self) -> Option<WatchResult> {
        self.next_with(|batches| batches.recv().ok())
    }

    /// Waits at most `timeout` for the next event; `None` when none came.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<WatchResult> {
        let deadline = Instant::now() + timeout;
        self.next_with(|batches| {
            batches
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .ok()
        })
    }

    /// The next event if one is waiting, without blocking. Once one event of a burst was
    /// received, the rest of that burst is always waiting.
    pub fn try_recv(&self) -> Option<WatchResult> {
        self.next_with(|batches| batches.try_recv().ok())
    }

    /// The next result of the burst being read, else of the next burst `receive` gets.
    fn next_with(
        &self,
        receive: impl Fn(&mpsc::Receiver<Vec<WatchResult>>) -> Option<Vec<WatchResult>>,
    ) -> Option<WatchResult> {
        let mut pending = self.pending.borrow_mut();
        loop {
            if let Some(result) = pending.pop_front() {
                return Some(result);
            }
            pending.extend(receive(&self.batches)?);
        }
    }
}

impl Iterator for &Watcher {
    type Item = WatchResult;

    fn next(&mut self) -> Option<WatchResult> {
        self.recv()
    }
}

impl Store {
    /// Starts watching the store for changes made by anyone: a person with an editor, the
    /// CLI, another window, this process. Creates the store's folders where missing (as
    /// [`Store::init`]), since a folder that does not exist cannot be watched.
    ///
    /// Call it before reading what you show: a change made between the two then gives an
    /// event (perhaps one for a value you already read) rather than none.
    ///
    /// Bursts are coalesced: notifications for a file are turned into events once it has been
    /// quiet for 50 ms, so an editor's save (however many calls) gives one event, and one
    /// notification is enough for any number of appended messages. Uses inotify on Linux
    /// (one watch per folder of the store) and FSEvents on macOS, through `notify`.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use viben_model::ProviderConfig;
    /// use viben_store::{Event, Store};
    ///
    /// let home = tempfile::tempdir()?;
    /// let store = Store::open(home.path())?;
    /// let watcher = store.watch()?;
    /// store.providers().set(&ProviderConfig::new("anthropic"))?;
    /// let event = watcher.recv_timeout(Duration::from_secs(10)).ok_or("no event")??;
    /// assert_eq!(event, Event::ProviderChanged { name: "anthropic".into() });
    /// # Ok(())
    /// # }
    /// ```
    pub fn watch(&self) -> Result<Watcher> {
        self.init()?;
        let root = self.layout().root().to_owned();
        let (sender, batches) = mpsc::channel();
        // Filled once the notifications are on, and locked until then: a change made while
        // the store is scanned is then compared with the scan, not missed (a scan made first
        // could see the old file, and its notification come before the watch began).
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mut scanned = lock(&seen);
        let handler_seen = Arc::clone(&seen);
        let store = self.clone();
        let watch_root = root.clone();
        let handler = move |result: DebounceEventResult| {
            let started = Instant::now();
            let mut dirty = Dirty::default();
            match result {
                Ok(batch) => {
                    for event in &batch {
                        if event.need_rescan() {
                            dirty.everything = true;
                        }
                        if is_read(&event.kind) {
                            continue;
                        }
                        for path in &event.paths {
                            dirty.add(&watch_root, path);
                        }
                    }
                }
                Err(errors) => {
                    let failures = errors
                        .into_iter()
                        .map(|error| {
                            Err(WatchError::Failed {
                                root: watch_root.clone(),
                                source: io::Error::other(error),
                            })
                        })
                        .collect();
                    let _ = sender.send(failures);
                    dirty.everything = true;
                }
            }
            let results = lock(&handler_seen).update(&store, dirty);
            if !results.is_empty() {
                tracing::debug!(
                    target: trace::WATCH,
                    events = results.len(),
                    micros = trace::micros_since(started),
                    "changes"
                );
                // Fails only once the watcher was dropped, whose `Drop` stops this thread.
                let _ = sender.send(results);
            }
        };
        let failed = |source: notify::Error| StoreError::Io {
            action: "watch",
            path: root.clone(),
            source: io::Error::other(source),
        };
        let mut debouncer = notify_debouncer_full::new_debouncer_opt::<_, RecommendedWatcher, _>(
            SETTLE,
            Some(TICK),
            handler,
            NoCache,
            notify::Config::default(),
        )
        .map_err(failed)?;
        debouncer
            .watch(&root, RecursiveMode::Recursive)
            .map_err(failed)?;
        *scanned = Seen::scan(self);
        drop(scanned);
        Ok(Watcher {
            batches,
            pending: RefCell::new(VecDeque::new()),
            _debouncer: debouncer,
        })
    }
}

/// Locks what the watcher saw. A panic while it was held (a bug) leaves it poisoned; the
/// state is still whole (each subject is updated in one step), so go on with it.
fn lock(seen: &Mutex<Seen>) -> MutexGuard<'_, Seen> {
    seen.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether `kind` is a file being opened, read or closed without writing: inotify reports
/// those too, and taking them for changes would make every read (the watcher's own included)
/// cause another look, forever.
fn is_read(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Access(access) if *access != AccessKind::Close(AccessMode::Write))
}

/// What a file or log is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Subject {
    Agent(String),
    Provider(String),
    Models,
    Channels,
    Profile,
    Session(String),
}

/// The subjects a burst of notifications touched.
#[derive(Debug, Default)]
struct Dirty {
    subjects: BTreeSet<Subject>,
    /// Sessions whose message log alone was touched (their `session.yaml` need not be read).
    logs: BTreeSet<String>,
    /// A kind's whole folder appeared, went or moved: look at each of its entries.
    folders: BTreeSet<Folder>,
    /// Something with a name no id has came or went directly in a kind's folder (a folder
    /// `Agents::delete` moved aside and removed): see which ids came or went. The debouncer
    /// folds a rename and a removal into the removal of the new name, so the old name, the
    /// id, is not in any notification.
    members: BTreeSet<Folder>,
    /// The root itself changed, or notifications were lost: look at everything.
    everything: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Folder {
    Agents,
    Providers,
    Sessions,
}

impl Dirty {
    /// Records what the notification for `path` may have changed. Only the files the store
    /// reads count: `config.yaml` in an agent's folder, `<name>.yaml` in `providers/`, the
    /// three files at the root, `session.yaml` and `messages.jsonl` in a session's folder,
    /// and the folders holding them. Names starting with `.` (the store's lock and temporary
    /// files, folders being deleted, editors' swap files) and names no id may have are not.
    fn add(&mut self, root: &Path, path: &Path) {
        let Ok(rel) = path.strip_prefix(root) else {
            return;
        };
        let mut names = Vec::new();
        for component in rel.components() {
            let Component::Normal(name) = component else {
                return;
            };
            let Some(name) = name.to_str() else {
                return;
            };
            names.push(name);
        }
        match names.as_slice() {
            [] => self.everything = true,
            ["models.yaml"] => self.push(Subject::Models),
            ["channels.yaml"] => self.push(Subject::Channels),
            ["profile.yaml"] => self.push(Subject::Profile),
            ["agents"] => self.push_folder(Folder::Agents),
            ["providers"] => self.push_folder(Folder::Providers),
            ["sessions"] => self.push_folder(Folder::Sessions),
            ["agents", id] | ["agents", id, "config.yaml"] if is_id(id) => {
                self.push(Subject::Agent((*id).to_owned()));
            }
            ["agents", _] => {
                self.members.insert(Folder::Agents);
            }
            ["providers", file] => {
                if let Some(name) = file.strip_suffix(".yaml").filter(|n| is_id(n)) {
                    self.push(Subject::Provider(name.to_owned()));
                }
            }
            ["sessions", id] | ["sessions", id, "session.yaml"] if is_id(id) => {
                self.push(Subject::Session((*id).to_owned()));
            }
            ["sessions", id, "messages.jsonl"] if is_id(id) => {
                self.logs.insert((*id).to_owned());
            }
            ["sessions", _] => {
                self.members.insert(Folder::Sessions);
            }
            _ => {}
        }
    }

    fn push(&mut self, subject: Subject) {
        self.subjects.insert(subject);
    }

    fn push_folder(&mut self, folder: Folder) {
        self.folders.insert(folder);
    }
}

/// Whether `name` can be an id (so not one of the hidden names the store and editors use).
fn is_id(name: &str) -> bool {
    viben_model::validate_path_id("id", name).is_ok()
}

/// What the watcher last saw of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    /// Its bytes had this revision.
    Read(Revision),
    /// It existed but was not read (a session's metadata, not read up front since there may
    /// be many), or could not be: the next notification for it is a change.
    Unknown,
}

/// What the watcher last saw of the store: every file it reports on that exists, and the
/// length of every message log.
#[derive(Debug, Default)]
struct Seen {
    files: HashMap<Subject, Content>,
    logs: HashMap<String, u64>,
}

impl Seen {
    /// The store as it is now. Reads the agents', providers' and root files' bytes (few and
    /// small); of sessions, which may be many, only lists the folder and the logs' lengths.
    fn scan(store: &Store) -> Self {
        let mut seen = Self::default();
        let mut subjects = vec![Subject::Models, Subject::Channels, Subject::Profile];
        for folder in [Folder::Agents, Folder::Providers] {
            subjects.extend(listed(store, folder));
        }
        for subject in subjects {
            if let Some(content) = probe(store, &subject).0 {
                seen.files.insert(subject, content);
            }
        }
        for subject in listed(store, Folder::Sessions) {
            if let Subject::Session(id) = &subject {
                if let Some(len) = log_len(store, id) {
                    seen.logs.insert(id.clone(), len);
                }
                if store.layout().session_meta(id).is_file() {
                    seen.files.insert(subject, Content::Unknown);
                }
            }
        }
        seen
    }

    /// Looks at every subject `dirty` names, records what it finds, and returns the events
    /// (ordered by kind and id).
    fn update(&mut self, store: &Store, dirty: Dirty) -> Vec<WatchResult> {
        let mut subjects = dirty.subjects;
        let folders: Vec<Folder> = if dirty.everything {
            subjects.extend([Subject::Models, Subject::Channels, Subject::Profile]);
            vec![Folder::Agents, Folder::Providers, Folder::Sessions]
        } else {
            dirty.folders.into_iter().collect()
        };
        for folder in &folders {
            subjects.extend(listed(store, *folder));
            subjects.extend(self.files.keys().filter(|s| folder.holds(s)).cloned());
        }
        for folder in dirty.members.iter().filter(|f| !folders.contains(f)) {
            // Only the ids that came or went: a cheap listing, no file read.
            let mut candidates: BTreeSet<Subject> = listed(store, *folder).into_iter().collect();
            candidates.extend(self.files.keys().filter(|s| folder.holds(s)).cloned());
            subjects.extend(candidates.into_iter().filter(|subject| {
                let exists = fs::symlink_metadata(subject.path(store)).is_ok();
                exists != self.files.contains_key(subject)
            }));
        }
        let mut results = BTreeMap::new();
        for subject in &subjects {
            if let Some((event, error)) = self.compare_file(store, subject) {
                results.insert(event, error);
            }
            if let Subject::Session(id) = subject {
                results.extend(self.compare_log(store, id).map(|event| (event, None)));
            }
        }
        for id in dirty.logs {
            // Only the log is looked at: a session's creation or removal is reported from
            // its `session.yaml`.
            if !subjects.contains(&Subject::Session(id.clone())) {
                results.extend(self.compare_log(store, &id).map(|event| (event, None)));
            }
        }
        results
            .into_iter()
            .map(|(event, error)| match error {
                None => Ok(event),
                Some(error) => Err(WatchError::Unreadable {
                    event,
                    error: Box::new(error),
                }),
            })
            .collect()
    }

    /// The event for `subject`'s file since it was last looked at, with the error reading it
    /// gives, if any.
    fn compare_file(
        &mut self,
        store: &Store,
        subject: &Subject,
    ) -> Option<(Event, Option<StoreError>)> {
        let (now, read_error) = probe(store, subject);
        let before = match now {
            Some(content) => self.files.insert(subject.clone(), content),
            None => self.files.remove(subject),
        };
        let change = match (before, now) {
            (None, None) => return None,
            (None, Some(_)) => Change::Created,
            (Some(_), None) => Change::Removed,
            (Some(Content::Read(a)), Some(Content::Read(b))) if a == b => return None,
            (Some(_), Some(_)) => Change::Changed,
        };
        let error = match (change, read_error) {
            (Change::Removed, _) => None,
            (_, Some(error)) => Some(error),
            (_, None) => load_error(store, subject),
        };
        Some((subject.event(change), error))
    }

    /// The event for the message log of the session `id` since it was last looked at: it
    /// grew, or it shrank (rewritten, not appended to). A session that does not exist (its
    /// `session.yaml` is gone) has no log to report on.
    fn compare_log(&mut self, store: &Store, id: &str) -> Option<Event> {
        let exists = self.files.contains_key(&Subject::Session(id.to_owned()));
        let len = exists.then(|| log_len(store, id)).flatten();
        let before = match len {
            Some(len) => self.logs.insert(id.to_owned(), len),
            None => self.logs.remove(id),
        };
        match (before.unwrap_or(0), len) {
            (old, Some(new)) if new > old => Some(Event::MessageAppended {
                session: id.to_owned(),
            }),
            (old, Some(new)) if new < old => Some(Event::SessionChanged { id: id.to_owned() }),
            _ => None,
        }
    }
}

impl Folder {
    /// Whether `subject` lives in this folder.
    fn holds(self, subject: &Subject) -> bool {
        matches!(
            (self, subject),
            (Self::Agents, Subject::Agent(_))
                | (Self::Providers, Subject::Provider(_))
                | (Self::Sessions, Subject::Session(_))
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Created,
    Changed,
    Removed,
}

impl Subject {
    /// The file that says whether the subject exists.
    fn path(&self, store: &Store) -> PathBuf {
        let layout = store.layout();
        match self {
            Self::Agent(id) => layout.agent_config(id),
            Self::Provider(name) => layout.provider_config(name),
            Self::Models => layout.models_file(),
            Self::Channels => layout.channels_file(),
            Self::Profile => layout.profile_file(),
            Self::Session(id) => layout.session_meta(id),
        }
    }

    fn event(&self, change: Change) -> Event {
        match (self, change) {
            (Self::Agent(id), Change::Created) => Event::AgentCreated { id: id.clone() },
            (Self::Agent(id), Change::Changed) => Event::AgentChanged { id: id.clone() },
            (Self::Agent(id), Change::Removed) => Event::AgentRemoved { id: id.clone() },
            (Self::Provider(name), Change::Removed) => {
                Event::ProviderRemoved { name: name.clone() }
            }
            (Self::Provider(name), _) => Event::ProviderChanged { name: name.clone() },
            (Self::Models, _) => Event::ModelsChanged,
            (Self::Channels, _) => Event::ChannelsChanged,
            (Self::Profile, _) => Event::ProfileChanged,
            (Self::Session(id), Change::Created) => Event::SessionCreated { id: id.clone() },
            (Self::Session(id), Change::Changed) => Event::SessionChanged { id: id.clone() },
            (Self::Session(id), Change::Removed) => Event::SessionRemoved { id: id.clone() },
        }
    }
}

/// What is at `subject`'s file now: `None` when nothing is; the revision of its bytes; or
/// `Unknown` and the error when it cannot be read (too large, not a regular file, behind a
/// link leading outside).
fn probe(store: &Store, subject: &Subject) -> (Option<Content>, Option<StoreError>) {
    match store.read_bytes(&subject.path(store), yaml::MAX_YAML_BYTES) {
        Ok(None) => (None, None),
        Ok(Some(bytes)) => (Some(Content::Read(Revision::of(&bytes))), None),
        Err(error) => (Some(Content::Unknown), Some(error)),
    }
}

/// Why `subject` does not load through the store's own reader (parse, rules, id), if it
/// does not. A file gone since it was probed is no error: its removal comes next.
fn load_error(store: &Store, subject: &Subject) -> Option<StoreError> {
    let loaded = match subject {
        Subject::Agent(id) => store.agents().get(id).map(drop),
        Subject::Provider(name) => store.providers().get(name).map(drop),
        Subject::Models => store.models().document().map(drop),
        Subject::Channels => store.channels().document().map(drop),
        Subject::Profile => store.profile().get().map(drop),
        Subject::Session(id) => store.sessions().get(id).map(drop),
    };
    match loaded {
        Err(StoreError::NotFound { .. }) | Ok(()) => None,
        Err(error) => Some(error),
    }
}

/// The length of the session's message log, when it is a regular file.
fn log_len(store: &Store, id: &str) -> Option<u64> {
    fs::symlink_metadata(store.layout().session_messages(id))
        .ok()
        .filter(fs::Metadata::is_file)
        .map(|meta| meta.len())
}

/// The subjects whose files or folders are in `folder` now.
fn listed(store: &Store, folder: Folder) -> Vec<Subject> {
    let layout = store.layout();
    let dir = match folder {
        Folder::Agents => layout.agents_dir(),
        Folder::Providers => layout.providers_dir(),
        Folder::Sessions => layout.sessions_dir(),
    };
    let Ok(Some(entries)) = read_dir_if_exists(&dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let subject = match folder {
                Folder::Agents => Subject::Agent(name),
                Folder::Providers => Subject::Provider(name.strip_suffix(".yaml")?.to_owned()),
                Folder::Sessions => Subject::Session(name),
            };
            match &subject {
                Subject::Agent(id) | Subject::Provider(id) | Subject::Session(id) if is_id(id) => {
                    Some(subject)
                }
                _ => None,
            }
        })
        .collect()
}
