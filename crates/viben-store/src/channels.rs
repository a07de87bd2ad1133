//! Channels: `channels.yaml` (which outside channel routes to which agent), through
//! [`Channels`].

use std::path::PathBuf;

use viben_model::{Channel, ChannelsFile, ValidationError};

use crate::document::{Document, EntryList, FileMode, Single, check_id, not_found};
use crate::error::{Result, StoreError};
use crate::layout::Layout;
use crate::revision::{Revision, Versioned};
use crate::store::Store;

impl Document for ChannelsFile {
    const KIND: &'static str = "channels";
    const EMPTY: Option<fn() -> Self> = Some(ChannelsFile::default);

    fn problems(&self) -> Vec<ValidationError> {
        ChannelsFile::problems(self)
    }

    /// 0600 once a channel keeps a secret in the file (a bot token set inline), as a provider
    /// file with an inline `api_key` is.
    fn mode(&self) -> FileMode {
        let holds_secret = self.channels.iter().any(|channel| {
            channel.settings.iter().any(|(name, value)| {
                !value.is_null()
                    && name
                        .as_str()
                        .is_some_and(viben_model::redact::is_secret_name)
                    && !name.as_str().is_some_and(names_a_variable)
            })
        });
        if holds_secret {
            FileMode::Private
        } else {
            FileMode::Keep
        }
    }
}

/// Whether a setting's name says it holds the name of an environment variable
/// (`bot_token_env`), not the secret itself.
fn names_a_variable(name: &str) -> bool {
    name.ends_with("_env")
}

impl Single for ChannelsFile {
    fn path(layout: &Layout) -> PathBuf {
        layout.channels_file()
    }
}

impl EntryList for ChannelsFile {
    type Entry = Channel;
    const ENTRY_KIND: &'static str = "channel";

    fn entries(&self) -> &Vec<Channel> {
        &self.channels
    }

    fn entries_mut(&mut self) -> &mut Vec<Channel> {
        &mut self.channels
    }

    fn entry_id(entry: &Channel) -> &str {
        &entry.id
    }

    fn check_entry_id(id: &str) -> Result<()> {
        check_id("channel", id)
    }
}

/// The channels of a store (`channels.yaml`), from [`Store::channels`]: the whole document,
/// and its entries one by one. An absent or empty file has no channels.
#[derive(Debug, Clone, Copy)]
pub struct Channels<'s> {
    pub(crate) store: &'s Store,
}

impl Channels<'_> {
    /// The whole of `channels.yaml`.
    pub fn document(&self) -> Result<ChannelsFile> {
        self.document_versioned().map(|v| v.value)
    }

    /// `channels.yaml` and its revision, for a later [`Channels::save_if_unchanged`].
    pub fn document_versioned(&self) -> Result<Versioned<ChannelsFile>> {
        self.store.read_entries()
    }

    /// Changes `channels.yaml` under its lock (see [`crate::Catalog::update`]). Returns the
    /// file as written.
    pub fn update(
        &self,
        change: impl FnOnce(&mut ChannelsFile) -> Result<()>,
    ) -> Result<Versioned<ChannelsFile>> {
        self.store.update_entries(None, change)
    }

    /// Writes `file` if `channels.yaml` is still at `expected`, else refuses with
    /// [`StoreError::Conflict`]. Returns the new revision.
    pub fn save_if_unchanged(&self, file: &ChannelsFile, expected: &Revision) -> Result<Revision> {
        self.store
            .update_entries(Some(*expected), |current: &mut ChannelsFile| {
                *current = file.clone();
                Ok(())
            })
            .map(|v| v.revision)
    }

    /// The channels, in file order.
    pub fn list(&self) -> Result<Vec<Channel>> {
        Ok(self.document()?.channels)
    }

    /// The channel `id`.
    pub fn get(&self, id: &str) -> Result<Channel> {
        self.store.get_entry::<ChannelsFile>(id)
    }

    /// Adds `channel` at the end; refuses an id that is listed ([`StoreError::AlreadyExists`]).
    /// Its agent must exist (see [`Channels::set`]). Returns the file's revision.
    pub fn add(&self, channel: Channel) -> Result<Revision> {
        self.put(channel, false)
    }

    /// Adds `channel`, or replaces the channel with its id in place. Its agent must exist;
    /// the agent's lock is held until `channels.yaml` is written (see
    /// [`crate::Sessions::create`]). Returns the file's revision.
    pub fn set(&self, channel: Channel) -> Result<Revision> {
        self.put(channel, true)
    }

    fn put(&self, channel: Channel, replace: bool) -> Result<Revision> {
        check_id("channel", &channel.id)?;
        let _agent_lock = self.store.lock_agent(&channel.agent)?;
        self.require_agent(&channel.agent)?;
        self.store.put_entry::<ChannelsFile>(channel, replace)
    }

    /// Deletes the channel `id`.
    pub fn delete(&self, id: &str) -> Result<()> {
        self.store.delete_entry::<ChannelsFile>(id)
    }

    /// Creates or changes the channel `id` in one step that no concurrent writer can undo:
    /// `change` gets the channel as it is (`None` when there is none) and returns it as it
    /// should be. Its agent must exist (as for [`Channels::set`]); its id stays `id`.
    ///
    /// Another process writing `channels.yaml` meanwhile makes `change` run again on the new
    /// content (the agent's lock must be taken before the file's, and which agent is only
    /// known once `change` ran). Returns the channel as written.
    pub fn upsert(
        &self,
        id: &str,
        change: impl Fn(Option<&Channel>) -> Result<Channel>,
    ) -> Result<Channel> {
        check_id("channel", id)?;
        loop {
            let current = self.document_versioned()?;
            let mut channel = change(current.value.get(id))?;
            channel.id = id.to_owned();
            let _agent_lock = self.store.lock_agent(&channel.agent)?;
            self.require_agent(&channel.agent)?;
            let mut file = current.value;
            match file.channels.iter_mut().find(|c| c.id == id) {
                Some(existing) => *existing = channel.clone(),
                None => file.channels.push(channel.clone()),
            }
            match self
                .store
                .update_entries(Some(current.revision), |on_disk: &mut ChannelsFile| {
                    *on_disk = file;
                    Ok(())
                }) {
                Ok(_) => return Ok(channel),
                Err(StoreError::Conflict { .. }) => continue,
                Err(other) => return Err(other),
            }
        }
    }

    /// Turns the channel `id` on (`enabled: true`) or off; [`StoreError::NotFound`] when it
    /// does not exist. Returns the channel as written.
    pub fn set_enabled(&self, id: &str, enabled: bool) -> Result<Channel> {
        check_id("channel", id)?;
        let written = self.update(|file| {
            let channel = file
                .channels
                .iter_mut()
                .find(|c| c.id == id)
                .ok_or_else(|| not_found("channel", id))?;
            channel.enabled = Some(enabled);
            Ok(())
        })?;
        written
            .value
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("channel", id))
    }

    /// Refuses a channel whose agent does not exist, naming the agent.
    fn require_agent(&self, agent: &str) -> Result<()> {
        self.store
            .agents()
            .get(agent)
            .map(|_| ())
            .map_err(|e| match e {
                StoreError::NotFound { .. } => StoreError::NotFound {
                    kind: "agent",
                    id: agent.to_owned(),
                },
                other => other,
            })
    }
}
