//! Channels: `channels.yaml` (which outside channel routes to which agent), through
//! [`Channels`].

use std::path::PathBuf;

use viben_model::{Channel, ChannelsFile, ValidationError};

use crate::document::{Document, EntryList, Single, check_id};
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
        self.store
            .agents()
            .get(&channel.agent)
            .map_err(|e| match e {
                StoreError::NotFound { .. } => StoreError::NotFound {
                    kind: "agent",
                    id: channel.agent.clone(),
                },
                other => other,
            })?;
        self.store.put_entry::<ChannelsFile>(channel, replace)
    }

    /// Deletes the channel `id`.
    pub fn delete(&self, id: &str) -> Result<()> {
        self.store.delete_entry::<ChannelsFile>(id)
    }
}
