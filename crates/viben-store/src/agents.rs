//! Agents: `agents/<id>/config.yaml`, one folder per agent, through [`Agents`].

use std::io;
use std::path::PathBuf;

use viben_model::{AgentConfig, ValidationError};

use crate::document::{Document, Record, Shape, check_id};
use crate::error::{Referrer, Result, StoreError};
use crate::layout::Layout;
use crate::lock::{self, LockGuard};
use crate::resolve::ResolvedAgent;
use crate::revision::{Revision, Versioned};
use crate::store::Store;

impl Document for AgentConfig {
    const KIND: &'static str = "agent";

    fn problems(&self) -> Vec<ValidationError> {
        AgentConfig::problems(self)
    }
}

impl Record for AgentConfig {
    const ID_FIELD: &'static str = "id";
    const SHAPE: Shape = Shape::FolderPerRecord { reuse: true };

    fn folder(layout: &Layout) -> PathBuf {
        layout.agents_dir()
    }

    fn path(layout: &Layout, id: &str) -> PathBuf {
        layout.agent_config(id)
    }

    fn id(&self) -> &str {
        &self.id
    }
}

/// What [`Agents::delete_with`] does about sessions and channels that still use the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Referrers {
    /// Refuse the delete with [`StoreError::ReferencedBy`] (what [`Agents::delete`] does).
    Refuse,
    /// Delete anyway and leave them pointing at a missing agent, which [`Store::check`]
    /// reports (the CLI's `--force`).
    Keep,
}

/// The agents of a store (`agents/<id>/config.yaml`), from [`Store::agents`].
#[derive(Debug, Clone, Copy)]
pub struct Agents<'s> {
    pub(crate) store: &'s Store,
}

impl Agents<'_> {
    crate::document::record_verbs!(AgentConfig, "agent", "id");

    /// The text of the agent `id`'s `config.yaml` as it is on disk (comments and all) and its
    /// revision, for an editor that shows the whole file. Refused as a read would refuse it.
    pub fn text(&self, id: &str) -> Result<Versioned<String>> {
        self.store.record_text::<AgentConfig>(id)
    }

    /// Saves `text` as the agent `id`'s whole `config.yaml` if the file is still at
    /// `expected` (from [`Agents::text`]), else [`StoreError::Conflict`]. The text goes
    /// through the checks a read makes: a YAML error is [`StoreError::Parse`] at its line
    /// and column, a broken rule [`StoreError::Invalid`] placed at its field, a different
    /// `id` [`StoreError::IdMismatch`]; nothing is written then.
    pub fn save_text(&self, id: &str, text: &str, expected: &Revision) -> Result<Revision> {
        self.store
            .save_record_text::<AgentConfig>(id, text, expected)
    }

    /// The agent `id` with its model entry and provider configuration. Fails with
    /// [`StoreError::NotFound`] when the model is not in `models.yaml` or the provider has no
    /// file, and [`StoreError::Disabled`] when either is disabled.
    pub fn resolve(&self, id: &str) -> Result<ResolvedAgent> {
        crate::resolve::resolve(self.store, id)
    }

    /// What still uses the agent `id`: sessions whose `agent_id` it is, and channels that
    /// route to it.
    pub fn referrers(&self, id: &str) -> Result<Vec<Referrer>> {
        check_id("agent", id)?;
        let mut referrers: Vec<Referrer> = self
            .store
            .sessions()
            .list_for_agent(id)?
            .items
            .into_iter()
            .map(|session| Referrer::Session(session.id))
            .collect();
        referrers.extend(
            self.store
                .channels()
                .list()?
                .into_iter()
                .filter(|channel| channel.agent == id)
                .map(|channel| Referrer::Channel(channel.id)),
        );
        Ok(referrers)
    }

    /// Deletes the agent `id` and its folder; refused with [`StoreError::ReferencedBy`] while
    /// sessions or channels use it (see [`Agents::delete_with`]).
    pub fn delete(&self, id: &str) -> Result<()> {
        self.delete_with(id, Referrers::Refuse)
    }

    /// Deletes the agent `id` and its folder, doing `referrers` about the sessions and
    /// channels that use it. Holds the agent's lock from the check to the delete (see
    /// [`crate::Sessions::create`]).
    pub fn delete_with(&self, id: &str, referrers: Referrers) -> Result<()> {
        let store = self.store;
        store.check_writable()?;
        check_id("agent", id)?;
        let dir = store.layout().agent_dir(id);
        store.confine(&dir)?;
        if !dir.exists() {
            return Err(StoreError::NotFound {
                kind: "agent",
                id: id.to_owned(),
            });
        }
        let _lock = store.lock_agent(id)?;
        if referrers == Referrers::Refuse {
            let referrers = self.referrers(id)?;
            if !referrers.is_empty() {
                return Err(StoreError::ReferencedBy {
                    agent: id.to_owned(),
                    referrers,
                });
            }
        }
        // Moved out of the way first: an operation waiting for the agent's lock may create
        // the lock file again, which must fail (`NotFound`) rather than land in a folder
        // being emptied. Names starting with `.` are never listed.
        if crate::atomic::remove_dir_aside(&store.layout().agents_dir(), &dir, id)? {
            Ok(())
        } else {
            Err(StoreError::NotFound {
                kind: "agent",
                id: id.to_owned(),
            })
        }
    }
}

impl Store {
    /// Takes the lock of agent `id`'s `config.yaml` (the one [`Agents::update`] takes),
    /// which also guards its referrers: [`Agents::delete`] holds it from the referrer
    /// check to the delete, and [`crate::Sessions::create`] and [`crate::Channels::set`] hold it
    /// from checking that the agent exists to writing the reference, so no reference to a
    /// deleted agent can slip in between. `NotFound` when the agent's folder is gone.
    ///
    /// Lock order: an agent's lock is taken before the lock of `session.yaml` or
    /// `channels.yaml`, never after, and no operation holds two agents' locks; so no two
    /// operations wait for each other. (A closure given to an `update` method runs under
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
}
