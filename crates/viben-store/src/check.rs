//! `check`: validate the whole store and report every problem with its file, line and column.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use viben_model::{
    AgentConfig, ChannelsFile, Message, ModelCatalog, Profile, ProviderConfig, SessionMeta,
    ValidationError,
};

use crate::document::{Document, Record, Scanned};
use crate::error::StoreError;
use crate::session_index::SessionIndex;
use crate::store::Store;
use crate::yaml;
use viben_model::Hint;

const TEMP_WARNING: &str = "leftover temporary file of an interrupted write (removed \
                            automatically once ten minutes old)";

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Something works around it (a torn log tail, a leftover temporary file).
    Warning,
    /// Something is broken or refers to something missing.
    Error,
}

/// One problem [`Store::check`] found.
///
/// `Display` prints `path:line:column: message` (line and column when known), with the path
/// relative to the store's root, the form editors and terminals make clickable; the hint, what
/// to do about it, is a field of its own for the front end to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// How bad it is.
    pub severity: Severity,
    /// The file, relative to the store's root.
    pub path: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// What to do about it, when there is something to say.
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = crate::error::Location::new(&self.path, self.line, self.column);
        match self.severity {
            Severity::Error => write!(f, "{location}: {}", self.message),
            Severity::Warning => write!(f, "{location}: warning: {}", self.message),
        }
    }
}

/// Collects problems about one store.
struct Checker<'a> {
    store: &'a Store,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    /// `path` relative to the root, `.` for the root itself.
    fn relative(&self, path: &Path) -> PathBuf {
        match self.store.layout().relative(path) {
            rel if rel.as_os_str().is_empty() => PathBuf::from("."),
            rel => rel.to_owned(),
        }
    }

    fn push(
        &mut self,
        severity: Severity,
        path: &Path,
        at: Option<(usize, usize)>,
        message: String,
        hint: Option<&str>,
    ) {
        self.problems.push(Problem {
            severity,
            path: self.relative(path),
            line: at.map(|a| a.0),
            column: at.map(|a| a.1),
            message,
            hint: hint.map(str::to_owned),
        });
    }

    fn error(&mut self, err: StoreError) {
        let path = err
            .path()
            .map(Path::to_owned)
            .unwrap_or_else(|| self.store.layout().root().to_owned());
        let (line, column) = err.line_column();
        let message = match &err {
            StoreError::Parse { message, .. } => message.clone(),
            StoreError::Invalid { source, .. } => source.to_string(),
            other => {
                let text = viben_model::Chain(other).to_string();
                let prefix = format!("{}: ", path.display());
                text.strip_prefix(&prefix)
                    .map(str::to_owned)
                    .unwrap_or(text)
            }
        };
        self.problems.push(Problem {
            severity: Severity::Error,
            path: self.relative(&path),
            line,
            column: line.and(column),
            message,
            hint: err.hint(),
        });
    }

    /// Reads and parses one YAML file, reporting why not; `None` when absent or broken.
    fn load<T: serde::de::DeserializeOwned>(
        &mut self,
        path: &Path,
        empty: Option<fn() -> T>,
    ) -> Option<(T, String)> {
        let bytes = match self.store.read_bytes(path, yaml::MAX_YAML_BYTES) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return None,
            Err(err) => {
                self.error(err);
                return None;
            }
        };
        match yaml::from_bytes(path, &bytes, empty) {
            Ok(value) => Some((value, String::from_utf8_lossy(&bytes).into_owned())),
            Err(err) => {
                self.error(err);
                None
            }
        }
    }

    fn invalid(&mut self, path: &Path, text: &str, problems: Vec<ValidationError>) {
        for problem in problems {
            let at = locate(text, &problem);
            self.push(
                Severity::Error,
                path,
                at,
                problem.to_string(),
                problem.hint().as_deref(),
            );
        }
    }

    fn id_mismatch(
        &mut self,
        path: &Path,
        text: &str,
        field: &'static str,
        expected: &str,
        found: &str,
    ) {
        let err = StoreError::IdMismatch {
            path: path.to_owned(),
            field,
            expected: expected.to_owned(),
            found: found.to_owned(),
        };
        self.push(
            Severity::Error,
            path,
            find_key(text, field, None),
            format!("{field} is {found:?} but the file belongs to {expected:?}"),
            err.hint().as_deref(),
        );
    }
}

impl Store {
    /// Validates the whole store and returns every problem found, errors and warnings: files
    /// that do not parse, fields out of range, ids that do not match their file, agents whose
    /// model is not in `models.yaml` or whose provider has no file, models whose provider has
    /// no file, a default model that does not exist, channels and sessions pointing at missing
    /// agents, lines of session logs that readers skip (each with its line), torn or blank
    /// log lines. An empty list means all is well.
    pub fn check(&self) -> Vec<Problem> {
        let mut c = Checker {
            store: self,
            problems: Vec::new(),
        };
        let layout = self.layout();

        c.problems.extend(self.check_root());
        match self.format() {
            Ok(status) if !status.writable() => c.push(
                Severity::Warning,
                &layout.version_file(),
                None,
                format!(
                    "the store is in format {}, newer than this viben writes (format {}): it \
                     can read the store but changes nothing",
                    status.found, status.supported
                ),
                Some("upgrade viben to change this store"),
            ),
            Ok(_) => {}
            Err(err) => c.error(err),
        }
        // Leftover temporary files in the root (the sub-folders are scanned below).
        temp_files(&mut c, layout.root());

        // Providers.
        let mut providers = HashSet::new();
        for (name, path, _) in self.named_files::<ProviderConfig>(&mut c) {
            providers.insert(name.clone());
            if let Some((provider, text)) = c.load::<ProviderConfig>(&path, None) {
                if provider.name != name {
                    c.id_mismatch(&path, &text, "name", &name, &provider.name);
                }
                let mode = fs::metadata(&path).map_or(0, |m| crate::platform::mode(&m));
                if provider.api_key.is_some() && mode & 0o077 != 0 {
                    c.push(
                        Severity::Error,
                        &path,
                        find_key(&text, "api_key", None),
                        format!("the file holds an api_key but others may read it (mode {mode:o})"),
                        Some(
                            "run `chmod 600` on it, or better, move the key to an environment \
                             variable named by api_key_env",
                        ),
                    );
                }
                c.invalid(&path, &text, provider.problems());
            }
        }

        // Models.
        let models_path = layout.models_file();
        let catalog = c.load::<ModelCatalog>(&models_path, Some(ModelCatalog::default));
        if let Some((catalog, text)) = &catalog {
            c.invalid(&models_path, text, catalog.problems());
            for entry in &catalog.models {
                if !providers.contains(&entry.provider) {
                    let at = find_key(text, "provider", Some(&entry.provider));
                    c.push(
                        Severity::Error,
                        &models_path,
                        at,
                        format!(
                            "model {:?} uses provider {:?}, which has no providers/{}.yaml",
                            entry.id, entry.provider, entry.provider
                        ),
                        Some("add the provider or fix the name"),
                    );
                }
            }
        }

        // Agents.
        let mut agents = HashSet::new();
        for (id, dir, real_dir) in self.named_files::<AgentConfig>(&mut c) {
            agents.insert(id.clone());
            temp_files(&mut c, &dir);
            let path = dir.join("config.yaml");
            if let Err(err) = self.confine_entry(&dir, real_dir, &path) {
                c.error(err);
                continue;
            }
            if !path.exists() {
                c.push(
                    Severity::Error,
                    &path,
                    None,
                    format!("agent folder {id:?} has no config.yaml"),
                    Some("add one or delete the folder"),
                );
                continue;
            }
            let Some((agent, text)) = c.load::<AgentConfig>(&path, None) else {
                continue;
            };
            if agent.id != id {
                c.id_mismatch(&path, &text, "id", &id, &agent.id);
            }
            c.invalid(&path, &text, agent.problems());
            if let Some((catalog, _)) = &catalog
                && catalog.get(&agent.model).is_none()
            {
                c.push(
                    Severity::Error,
                    &path,
                    find_key(&text, "model", None),
                    format!("model {:?} is not in models.yaml", agent.model),
                    Some("add it there or pick a listed model"),
                );
            }
            if !providers.contains(&agent.provider) {
                c.push(
                    Severity::Error,
                    &path,
                    find_key(&text, "provider", None),
                    format!(
                        "provider {:?} has no providers/{}.yaml",
                        agent.provider, agent.provider
                    ),
                    Some("add the provider or fix the name"),
                );
            }
        }

        // Channels.
        let channels_path = layout.channels_file();
        if let Some((file, text)) =
            c.load::<ChannelsFile>(&channels_path, Some(ChannelsFile::default))
        {
            c.invalid(&channels_path, &text, file.problems());
            for channel in &file.channels {
                if !agents.contains(&channel.agent) {
                    c.push(
                        Severity::Error,
                        &channels_path,
                        find_key(&text, "agent", Some(&channel.agent)),
                        format!(
                            "channel {:?} routes to agent {:?}, which does not exist",
                            channel.id, channel.agent
                        ),
                        Some("create the agent or change the channel"),
                    );
                }
            }
        }

        // The signed-in profile.
        let profile_path = layout.profile_file();
        if let Some((profile, text)) = c.load::<Profile>(&profile_path, None) {
            c.invalid(&profile_path, &text, Document::problems(&profile));
        }

        // Sessions, on all cores: each one's metadata and log, then the index against them.
        let sessions = self.named_files::<SessionMeta>(&mut c);
        let checked = parallel_map(&sessions, |(id, dir, real_dir)| {
            let mut local = Checker {
                store: self,
                problems: Vec::new(),
            };
            let agent = local.session(id, dir, *real_dir, &agents);
            (local.problems, agent)
        });
        let mut found = Vec::with_capacity(sessions.len());
        for ((id, dir, _), result) in sessions.into_iter().zip(checked) {
            match result {
                Some((problems, agent)) => {
                    c.problems.extend(problems);
                    found.push((id, agent));
                }
                None => c.push(
                    Severity::Error,
                    &dir,
                    None,
                    "the check stopped unexpectedly on this session (a bug in viben; please \
                     report it)"
                        .to_owned(),
                    None,
                ),
            }
        }
        check_index(&mut c, &found);
        c.problems
    }

    /// Refuses `path` (in the record folder `dir`) when it escapes the root; when `dir` is a
    /// real folder of a checked kind folder, only the part below `dir` is inspected.
    fn confine_entry(&self, dir: &Path, real_dir: bool, path: &Path) -> crate::Result<()> {
        if real_dir {
            self.confine_below(dir, path)
        } else {
            self.confine(path)
        }
    }

    /// The problem of the root folder itself, when it has one: group or others may enter it
    /// (a warning: the files holding secrets are 0600 anyway). `None` for a store not created
    /// yet. [`Store::check`] includes it; `viben doctor` shows it as a check of its own.
    pub fn check_root(&self) -> Option<Problem> {
        let root = self.layout().root();
        let mode = crate::platform::mode(&fs::metadata(root).ok()?);
        (mode & 0o077 != 0).then(|| Problem {
            severity: Severity::Warning,
            path: PathBuf::from("."),
            line: None,
            column: None,
            message: format!("store folder permissions are {mode:o}: others may enter it"),
            hint: Some(format!("run `chmod 700 {}`", root.display())),
        })
    }

    /// The records of the kind `K`, by the listing policy of every listing
    /// ([`Store::scan`]): bad names are reported, leftover temporary files warned about,
    /// entries that escape the root reported, names not usable everywhere warned about.
    fn named_files<K: Record>(&self, c: &mut Checker<'_>) -> Vec<(String, PathBuf, bool)> {
        let folder = K::folder(self.layout());
        if let Err(err) = self.confine(&folder) {
            c.error(err);
            return Vec::new();
        }
        let scanned = match self.scan(&folder, K::KIND, K::SHAPE) {
            Ok(scanned) => scanned,
            Err(err) => {
                c.error(err);
                return Vec::new();
            }
        };
        let kind = K::KIND;
        let mut found = Vec::new();
        for entry in scanned {
            let (id, path, real_dir) = match entry {
                Scanned::Record {
                    id, path, real_dir, ..
                } => (id, path, real_dir),
                Scanned::Bad(err) => {
                    c.error(err);
                    continue;
                }
                Scanned::Hidden { name, path } => {
                    if crate::atomic::is_temp_name(&name) {
                        c.push(
                            Severity::Warning,
                            &path,
                            None,
                            TEMP_WARNING.to_owned(),
                            None,
                        );
                    }
                    continue;
                }
            };
            // A real folder in a confined folder is inside the root: only links need the check.
            if !real_dir && let Err(err) = self.confine(&path) {
                c.error(err);
                continue;
            }
            // Made before the rule for new names, or by hand: readable, but not everywhere.
            if let Err(problem) = viben_model::validate_portable_path_id(kind, &id) {
                c.push(
                    Severity::Warning,
                    &path,
                    None,
                    format!(
                        "{problem}, so the desktop app cannot use this name on Windows or macOS"
                    ),
                    problem.hint().as_deref(),
                );
            }
            found.push((id, path, real_dir));
        }
        found.sort();
        // Names one case-insensitive file system (macOS, Windows) would take for one.
        let mut seen = std::collections::HashMap::<String, &str>::new();
        for (id, path, _) in &found {
            match seen.entry(viben_model::path_id_fold_key(id)) {
                std::collections::hash_map::Entry::Occupied(first) => c.push(
                    Severity::Warning,
                    path,
                    None,
                    format!(
                        "{kind} {id:?} differs from {kind} {:?} only in case (on macOS and \
                         Windows they are one file)",
                        first.get()
                    ),
                    Some("rename one of them"),
                ),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(id);
                }
            }
        }
        found
    }
}

impl Checker<'_> {
    /// Checks the session `id` in `dir`: its leftover temporary files, its `session.yaml`
    /// and its log. Returns the session's agent when its metadata loaded.
    fn session(
        &mut self,
        id: &str,
        dir: &Path,
        real_dir: bool,
        agents: &HashSet<String>,
    ) -> Option<String> {
        let store = self.store;
        temp_files(self, dir);
        let path = dir.join("session.yaml");
        if let Err(err) = store.confine_entry(dir, real_dir, &path) {
            self.error(err);
            return None;
        }
        let mut agent = None;
        if let Some((meta, text)) = self.load::<SessionMeta>(&path, None) {
            if meta.id != id {
                self.id_mismatch(&path, &text, "id", id, &meta.id);
            }
            if let Err(problem) = meta.validate() {
                self.invalid(&path, &text, vec![problem]);
            } else if meta.id == id {
                agent = Some(meta.agent_id.clone());
            }
            if meta.validate().is_ok() && !agents.contains(&meta.agent_id) {
                self.push(
                    Severity::Warning,
                    &path,
                    find_key(&text, "agent_id", None),
                    format!("agent {:?} does not exist (it was deleted)", meta.agent_id),
                    None,
                );
            }
        } else if !path.exists() {
            self.push(
                Severity::Error,
                &path,
                None,
                "session folder has no session.yaml".to_owned(),
                Some("delete the folder"),
            );
        }
        let log = dir.join("messages.jsonl");
        match store.confine_entry(dir, real_dir, &log) {
            Ok(()) => check_log::<Message>(self, &log),
            Err(err) => self.error(err),
        }
        agent
    }
}

/// The most sessions named one by one as missing from the index.
const MAX_UNINDEXED: usize = 5;

/// Checks the session index against the sessions found (`(id, agent when it loaded)`): it
/// must read whole and hold every session with its agent. Entries without a session are
/// fine (a create that failed leaves one; pages skip them), and so is no index at all.
fn check_index(c: &mut Checker<'_>, sessions: &[(String, Option<String>)]) {
    let index = SessionIndex::new(c.store);
    let path = index.snapshot_path();
    let entries = match index.entries() {
        Ok(Some(entries)) => entries,
        // Made by the first page that needs it, from the folders: nothing is missing.
        Ok(None) => return,
        Err(err) => return c.error(err),
    };
    let missing: Vec<&str> = sessions
        .iter()
        .filter(|(id, agent)| {
            entries
                .get(id)
                // An entry of unknown agent is read by every agent's pages.
                .is_none_or(|agents| {
                    agent.is_some() && !agents.contains(agent) && !agents.contains(&None)
                })
        })
        .map(|(id, _)| id.as_str())
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut named: Vec<String> = missing
        .iter()
        .take(MAX_UNINDEXED)
        .map(|id| format!("{id:?}"))
        .collect();
    if missing.len() > MAX_UNINDEXED {
        named.push(format!("and {} more", missing.len() - MAX_UNINDEXED));
    }
    c.push(
        Severity::Error,
        &path,
        None,
        format!(
            "{} session(s) are missing from the session index or listed under another agent \
             there (folders copied in by hand, or written by an older viben), so pages of \
             `viben sessions list --limit` leave them out: {}",
            missing.len(),
            named.join(", ")
        ),
        Some("run `viben check --repair` to rebuild the index"),
    );
}

/// `f` over every item, on all cores for many items, in order; `None` for an item whose
/// thread panicked (one bad file must not take the whole check down).
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<Option<R>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < 64 || threads < 2 {
        return items.iter().map(|item| Some(f(item))).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())
            })
            .collect();
        handles
            .into_iter()
            .zip(items.chunks(chunk))
            .flat_map(|(handle, part)| match handle.join() {
                Ok(results) => results.into_iter().map(Some).collect(),
                Err(_) => part.iter().map(|_| None).collect::<Vec<_>>(),
            })
            .collect()
    })
}

/// Warns about leftover temporary files directly in `dir`.
fn temp_files(c: &mut Checker<'_>, dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_str()
                .is_some_and(crate::atomic::is_temp_name)
            {
                c.push(
                    Severity::Warning,
                    &entry.path(),
                    None,
                    TEMP_WARNING.to_owned(),
                    None,
                );
            }
        }
    }
}

/// The most bad lines reported per log; the rest are counted in one more problem.
const MAX_BAD_LINES: usize = 20;

/// Reads a whole log as readers of `T` do, reporting each line they would skip with its line
/// (bad JSON, invalid UTF-8, a line over the limit, a record missing a field), a torn tail,
/// and blank lines, which readers skip but tools reading one JSON document per line do not.
fn check_log<T: serde::de::DeserializeOwned>(c: &mut Checker<'_>, path: &Path) {
    let mut reader = match crate::jsonl::JsonlReader::<T>::open(path) {
        Ok(reader) => reader,
        Err(err) => return c.error(err),
    };
    let mut bad = 0usize;
    for item in reader.by_ref() {
        match item {
            Ok(_) => {}
            Err(StoreError::Parse {
                line,
                column,
                message,
                ..
            }) => {
                bad += 1;
                if bad <= MAX_BAD_LINES {
                    c.push(
                        Severity::Error,
                        path,
                        line.map(|line| (line, column.unwrap_or(1))),
                        message,
                        Some("readers skip this line: fix it or delete it by hand"),
                    );
                }
            }
            Err(err) => return c.error(err),
        }
    }
    if bad > MAX_BAD_LINES {
        c.push(
            Severity::Error,
            path,
            None,
            format!("{} more bad lines not listed here", bad - MAX_BAD_LINES),
            Some("fix or delete them by hand"),
        );
    }
    let blank = reader.blank_lines();
    if blank.count > 0 {
        c.push(
            Severity::Warning,
            path,
            blank.first.map(|line| (line, 1)),
            format!(
                "{} blank line(s), the first here (viben skips them, but tools that parse each \
                 line as JSON, such as jq or json.loads, stop at them)",
                blank.count
            ),
            Some("delete them"),
        );
    }
    for warning in reader.warnings() {
        if let crate::jsonl::LogWarningKind::TornTail { .. } = warning.kind {
            c.push(
                Severity::Warning,
                path,
                warning.line.map(|line| (line, 1)),
                "the last line is incomplete (a write was interrupted), and is ignored: the \
                 next append starts a new line"
                    .to_owned(),
                None,
            );
        }
    }
}

/// Where in `text` the field a validation problem is about is, as well as a plain text scan
/// can tell.
fn locate(text: &str, problem: &ValidationError) -> Option<(usize, usize)> {
    match problem {
        ValidationError::InvalidId { id, .. } => find_value(text, id, false),
        ValidationError::TemperatureOutOfRange { .. } => find_key(text, "temperature", None),
        ValidationError::MaxTokensZero => find_key(text, "max_tokens", None),
        ValidationError::EmptyField { field } => find_key(text, field, None),
        ValidationError::ConflictingApiKey { .. } | ValidationError::InvalidEnvVarName { .. } => {
            find_key(text, "api_key_env", None)
        }
        ValidationError::DuplicateModel { id } | ValidationError::DuplicateChannel { id } => {
            find_value(text, id, true)
        }
        ValidationError::UnknownDefaultModel { .. } => find_key(text, "default", None),
        _ => None,
    }
}

/// The line and column of the first `key:` (at any indentation, in a list item or not) whose
/// value is `value` when given.
fn find_key(text: &str, key: &str, value: Option<&str>) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let (column, found_key, found_value) = split_entry(line)?;
        (found_key == key && value.is_none_or(|v| unquote(found_value) == v))
            .then_some((i + 1, column))
    })
}

/// The line and column of the first (or last) `key: value` line whose value is `value`.
fn find_value(text: &str, value: &str, last: bool) -> Option<(usize, usize)> {
    let mut hits = text.lines().enumerate().filter_map(|(i, line)| {
        let (column, _, found_value) = split_entry(line)?;
        (unquote(found_value) == value).then_some((i + 1, column))
    });
    if last { hits.last() } else { hits.next() }
}

/// `(column of the key, key, value)` of a `key: value` line (also `- key: value`).
fn split_entry(line: &str) -> Option<(usize, &str, &str)> {
    let trimmed = line.trim_start();
    let trimmed = trimmed.strip_prefix("- ").map_or(trimmed, str::trim_start);
    let column = line.len() - trimmed.len() + 1;
    let (key, value) = trimmed.split_once(':')?;
    Some((column, key.trim(), value.trim()))
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value)
}
