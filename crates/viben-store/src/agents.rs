//! Agents: `agents/<id>/config.yaml`, one folder per agent.

use std::fs;
use std::io;
use std::path::Path;

use viben_model::AgentConfig;

use crate::error::{Referrer, Result, StoreError};
use crate::layout::create_private_dir;
use crate::lock::{self, LockGuard};
use crate::revision::{Revision, Versioned};
use crate::store::{
    DocSpec, FileMode, Listing, Store, check_id, check_new_id, first_invalid, read_dir_if_exists,
};

/// Listings of more agents than this parse on several threads.
const PARALLEL_FROM: usize = 64;

fn spec() -> DocSpec<AgentConfig> {
    DocSpec {
        empty: None,
        check: |path, agent| first_invalid(path, agent.problems()),
        mode: |_| FileMode::Keep,
    }
}

/// Refuses an agent whose `id` is not its folder's name.
fn check_folder(path: &Path, id: &str, agent: &AgentConfig) -> Result<()> {
    if agent.id == id {
        Ok(())
    } else {
        Err(StoreError::IdMismatch {
            path: path.to_owned(),
            field: "id",
            expected: id.to_owned(),
            found: agent.id.clone(),
        })
    }
}

impl Store {
    /// Every agent, sorted by id, and one error per agent folder that does not load (a file
    /// that does not parse, breaks a rule, or names another id). Folders and files whose names
    /// start with `.` are skipped.
    pub fn list_agents(&self) -> Result<Listing<AgentConfig>> {
        let dir = self.layout().agents_dir();
        let mut ids = Vec::new();
        let mut listing = Listing::default();
        // A folder not made yet holds nothing.
        let Some(entries) = read_dir_if_exists(&dir)? else {
            return Ok(listing);
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io("list", &dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                listing
                    .errors
                    .push(StoreError::BadName { path: entry.path() });
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let file_type = entry
                .file_type()
                .map_err(|e| StoreError::io("inspect", entry.path(), e))?;
            if !file_type.is_dir() && !file_type.is_symlink() {
                continue;
            }
            match check_id("agent", name) {
                Ok(()) => ids.push((name.to_owned(), file_type.is_dir())),
                Err(StoreError::InvalidId { source }) => listing.errors.push(StoreError::Invalid {
                    path: entry.path(),
                    source,
                }),
                Err(other) => listing.errors.push(other),
            }
        }
        ids.sort_unstable();
        let results = self.load_all(&ids);
        for result in results {
            match result {
                Ok(agent) => listing.items.push(agent),
                Err(err) => listing.errors.push(err),
            }
        }
        Ok(listing)
    }

    /// Loads the agents `ids` in order, on several threads when there are many.
    fn load_all(&self, ids: &[(String, bool)]) -> Vec<Result<AgentConfig>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if ids.len() < PARALLEL_FROM || threads < 2 {
            return ids
                .iter()
                .map(|(id, real)| self.load_listed(id, *real))
                .collect();
        }
        let chunk = ids.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = ids
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|(id, real)| self.load_listed(id, *real))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(ids.chunks(chunk))
                .flat_map(|(handle, part)| match handle.join() {
                    Ok(results) => results,
                    // A panicking parser thread must not take the listing down with it.
                    Err(_) => part
                        .iter()
                        .map(|(id, real)| self.load_listed(id, *real))
                        .collect(),
                })
                .collect()
        })
    }

    /// Loads a listed agent; `real_dir` says the listing saw a real folder (not a link), so
    /// only `config.yaml` itself needs the symbolic-link check.
    fn load_listed(&self, id: &str, real_dir: bool) -> Result<AgentConfig> {
        let loaded = if real_dir {
            self.load_agent(&self.layout().agent_dir(id), id)
        } else {
            self.load_agent(self.layout().root(), id)
        };
        // In a listing the folder exists, so a missing agent is a missing file: name it.
        loaded.map(|v| v.value).map_err(|e| match e {
            StoreError::NotFound { .. } => StoreError::io(
                "read",
                self.layout().agent_config(id),
                io::ErrorKind::NotFound.into(),
            ),
            other => other,
        })
    }

    fn load_agent(&self, checked: &Path, id: &str) -> Result<Versioned<AgentConfig>> {
        let path = self.layout().agent_config(id);
        let Some((agent, revision)) = self.load_doc_below::<AgentConfig>(checked, &path, None)?
        else {
            return Err(StoreError::NotFound {
                kind: "agent",
                id: id.to_owned(),
            });
        };
        check_folder(&path, id, &agent)?;
        first_invalid(&path, agent.problems())?;
        Ok(Versioned {
            value: agent,
            revision,
        })
    }

    /// The agent `id`.
    pub fn get_agent(&self, id: &str) -> Result<AgentConfig> {
        self.get_agent_versioned(id).map(|v| v.value)
    }

    /// The agent `id` and the revision of its file, for a later
    /// [`Store::save_agent_if_unchanged`].
    pub fn get_agent_versioned(&self, id: &str) -> Result<Versioned<AgentConfig>> {
        check_id("agent", id)?;
        self.load_agent(self.layout().root(), id)
    }

    /// Validates a new agent and makes its folder: refuses an id that cannot be a folder name
    /// everywhere ([`check_new_id`]) or that differs from an existing agent's only in case.
    /// Returns the lock of `agents/`, to hold until the agent's file is written, so two
    /// creates of `a` and `A` cannot both pass the case check.
    fn make_agent_dir(&self, agent: &AgentConfig) -> Result<LockGuard> {
        check_new_id("agent", &agent.id)?;
        let dir = self.layout().agent_dir(&agent.id);
        self.confine(&dir)?;
        // Validate before any folder exists: a refused agent must leave nothing behind.
        (spec().check)(&self.layout().agent_config(&agent.id), agent)?;
        let agents = self.layout().agents_dir();
        self.ensure_dir(&agents)?;
        let folder_lock = lock::lock_exclusive(&agents)?;
        self.refuse_case_collision(&agents, "agent", &agent.id, "")?;
        create_private_dir(&dir, true).map_err(|e| StoreError::io("create folder", &dir, e))?;
        Ok(folder_lock)
    }

    /// Creates the agent (folder and `config.yaml`); refuses an id that exists, one that
    /// differs from an existing agent's only in case ([`StoreError::CaseCollision`]), and one
    /// that Windows or macOS could not use as a folder name ([`StoreError::InvalidId`]).
    pub fn create_agent(&self, agent: &AgentConfig) -> Result<Revision> {
        let path = self.layout().agent_config(&agent.id);
        let _folder_lock = self.make_agent_dir(agent)?;
        let exists = || StoreError::AlreadyExists {
            kind: "agent",
            id: agent.id.clone(),
        };
        let (_, (), revision) = self
            .modify_doc(
                &path,
                spec(),
                Some(Revision::ABSENT),
                || Ok(agent.clone()),
                |_| Ok(()),
            )
            .map_err(|e| match e {
                StoreError::Conflict { .. } => exists(),
                other => other,
            })?;
        Ok(revision)
    }

    /// Changes the agent `id` under its file's lock: reads it, applies `change`, validates,
    /// and writes it back crash-safely. Fields this version does not know are kept. Returns
    /// the agent as written and what `change` returned; nothing is written when `change`
    /// fails. The id cannot be changed.
    pub fn update_agent<R>(
        &self,
        id: &str,
        change: impl FnOnce(&mut AgentConfig) -> Result<R>,
    ) -> Result<(AgentConfig, R)> {
        check_id("agent", id)?;
        let path = self.layout().agent_config(id);
        let (agent, result, _) = self.modify_doc(
            &path,
            spec(),
            None,
            || {
                Err(StoreError::NotFound {
                    kind: "agent",
                    id: id.to_owned(),
                })
            },
            |agent| {
                let result = change(agent)?;
                check_folder(&path, id, agent)?;
                Ok(result)
            },
        )?;
        Ok((agent, result))
    }

    /// Writes `agent` if its file is still at `expected` (the revision of the read it was
    /// computed from; [`Revision::ABSENT`] to create it), else refuses with
    /// [`StoreError::Conflict`]. Returns the new revision.
    pub fn save_agent_if_unchanged(
        &self,
        agent: &AgentConfig,
        expected: &Revision,
    ) -> Result<Revision> {
        check_id("agent", &agent.id)?;
        let dir = self.layout().agent_dir(&agent.id);
        self.confine(&dir)?;
        // Creating: the same rules as `create_agent`.
        let _folder_lock = if expected.is_absent() {
            Some(self.make_agent_dir(agent)?)
        } else {
            None
        };
        let path = self.layout().agent_config(&agent.id);
        let (_, (), revision) = self.modify_doc(
            &path,
            spec(),
            Some(*expected),
            || Ok(agent.clone()),
            |current| {
                *current = agent.clone();
                Ok(())
            },
        )?;
        Ok(revision)
    }

    /// What still uses the agent `id`: sessions whose `agent_id` it is, and channels that
    /// route to it.
    pub fn agent_referrers(&self, id: &str) -> Result<Vec<Referrer>> {
        check_id("agent", id)?;
        let mut referrers: Vec<Referrer> = self
            .list_sessions(Some(id))?
            .items
            .into_iter()
            .map(|session| Referrer::Session(session.id))
            .collect();
        referrers.extend(
            self.load_channels()?
                .channels
                .into_iter()
                .filter(|channel| channel.agent == id)
                .map(|channel| Referrer::Channel(channel.id)),
        );
        Ok(referrers)
    }

    /// Takes the lock of agent `id`'s `config.yaml` (the one [`Store::update_agent`] takes),
    /// which also guards its referrers: [`Store::delete_agent`] holds it from the referrer
    /// check to the delete, and [`Store::create_session`] and [`Store::set_channel`] hold it
    /// from checking that the agent exists to writing the reference, so no reference to a
    /// deleted agent can slip in between. `NotFound` when the agent's folder is gone.
    ///
    /// Lock order: an agent's lock is taken before the lock of `session.yaml` or
    /// `channels.yaml`, never after, and no operation holds two agents' locks; so no two
    /// operations wait for each other. (A closure given to an `update_*` method runs under
    /// that file's lock and must not call back into the store for the same files.)
    pub(crate) fn lock_agent(&self, id: &str) -> Result<LockGuard> {
        check_id("agent", id)?;
        self.confine(&self.layout().agent_dir(id))?;
        lock::lock_exclusive_current(&self.layout().agent_config(id)).map_err(|e| match e {
            StoreError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                StoreError::NotFound {
                    kind: "agent",
                    id: id.to_owned(),
                }
            }
            other => other,
        })
    }

    /// Deletes the agent `id` and its folder. Refused with [`StoreError::ReferencedBy`] while
    /// sessions or channels use it, unless `force` (they then point at a missing agent, which
    /// [`Store::check`] reports). Holds the agent's lock from the check to the delete (see
    /// [`Store::create_session`]).
    pub fn delete_agent(&self, id: &str, force: bool) -> Result<()> {
        check_id("agent", id)?;
        let dir = self.layout().agent_dir(id);
        self.confine(&dir)?;
        if !dir.exists() {
            return Err(StoreError::NotFound {
                kind: "agent",
                id: id.to_owned(),
            });
        }
        let _lock = self.lock_agent(id)?;
        if !force {
            let referrers = self.agent_referrers(id)?;
            if !referrers.is_empty() {
                return Err(StoreError::ReferencedBy {
                    agent: id.to_owned(),
                    referrers,
                });
            }
        }
        // Move the folder out of the way first: an operation waiting for the agent's lock
        // may create the lock file again, which must fail (`NotFound`) rather than land in a
        // folder being emptied. Names starting with `.` are never listed.
        // `rename` would replace an empty folder already at the new name (and the name has
        // a nonce, so only a planted entry can be there): pick a name nothing has.
        let doomed = loop {
            let doomed = self
                .layout()
                .agents_dir()
                .join(crate::atomic::doomed_name(id));
            match fs::symlink_metadata(&doomed) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => break doomed,
                Err(e) => return Err(StoreError::io("inspect", &doomed, e)),
                Ok(_) => continue,
            }
        };
        match fs::rename(&dir, &doomed) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound {
                    kind: "agent",
                    id: id.to_owned(),
                });
            }
            Err(e) => return Err(StoreError::io("delete", &dir, e)),
        }
        crate::atomic::sync_dir(&self.layout().agents_dir())?;
        match fs::remove_dir_all(&doomed) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io("delete", &doomed, e)),
        }
    }
}
