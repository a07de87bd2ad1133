//! Channels: `channels.yaml` (which outside channel routes to which agent).

use viben_model::{Channel, ChannelsFile};

use crate::error::{Result, StoreError};
use crate::revision::{Revision, Versioned};
use crate::store::{DocSpec, FileMode, Store, check_id, first_invalid};

fn spec() -> DocSpec<ChannelsFile> {
    DocSpec {
        empty: Some(ChannelsFile::default),
        check: |path, file| first_invalid(path, file.problems()),
        mode: |_| FileMode::Keep,
    }
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        kind: "channel",
        id: id.to_owned(),
    }
}

impl Store {
    /// The whole of `channels.yaml`; empty when it does not exist or is empty.
    pub fn load_channels(&self) -> Result<ChannelsFile> {
        self.load_channels_versioned().map(|v| v.value)
    }

    /// `channels.yaml` and its revision, for a later [`Store::save_channels_if_unchanged`].
    pub fn load_channels_versioned(&self) -> Result<Versioned<ChannelsFile>> {
        let path = self.layout().channels_file();
        let (value, revision) = self
            .load_doc(&path, Some(ChannelsFile::default))?
            .unwrap_or_else(|| (ChannelsFile::default(), Revision::ABSENT));
        first_invalid(&path, value.problems())?;
        Ok(Versioned { value, revision })
    }

    /// The channels, in file order.
    pub fn list_channels(&self) -> Result<Vec<Channel>> {
        Ok(self.load_channels()?.channels)
    }

    /// The channel `id`.
    pub fn get_channel(&self, id: &str) -> Result<Channel> {
        check_id("channel", id)?;
        self.load_channels()?
            .channels
            .into_iter()
            .find(|channel| channel.id == id)
            .ok_or_else(|| not_found(id))
    }

    /// Adds `channel`, or replaces the channel with its id in place. Its agent must exist;
    /// the agent's lock is held until `channels.yaml` is written (see
    /// [`Store::create_session`]).
    pub fn set_channel(&self, channel: Channel) -> Result<()> {
        check_id("channel", &channel.id)?;
        let _agent_lock = self.lock_agent(&channel.agent)?;
        self.get_agent(&channel.agent).map_err(|e| match e {
            StoreError::NotFound { .. } => StoreError::NotFound {
                kind: "agent",
                id: channel.agent.clone(),
            },
            other => other,
        })?;
        self.update_channels(|file| {
            match file.channels.iter_mut().find(|c| c.id == channel.id) {
                Some(existing) => *existing = channel,
                None => file.channels.push(channel),
            }
            Ok(())
        })
    }

    /// Deletes the channel `id` and returns it.
    pub fn delete_channel(&self, id: &str) -> Result<Channel> {
        check_id("channel", id)?;
        self.update_channels(|file| {
            let index = file
                .channels
                .iter()
                .position(|c| c.id == id)
                .ok_or_else(|| not_found(id))?;
            Ok(file.channels.remove(index))
        })
    }

    /// Changes `channels.yaml` under its lock (see [`Store::update_models`]).
    pub fn update_channels<R>(
        &self,
        change: impl FnOnce(&mut ChannelsFile) -> Result<R>,
    ) -> Result<R> {
        let path = self.layout().channels_file();
        self.modify_doc(&path, spec(), None, || Ok(ChannelsFile::default()), change)
            .map(|(_, result, _)| result)
    }

    /// Writes `file` if `channels.yaml` is still at `expected`, else refuses with
    /// [`StoreError::Conflict`]. Returns the new revision.
    pub fn save_channels_if_unchanged(
        &self,
        file: &ChannelsFile,
        expected: &Revision,
    ) -> Result<Revision> {
        let path = self.layout().channels_file();
        self.modify_doc(
            &path,
            spec(),
            Some(*expected),
            || Ok(ChannelsFile::default()),
            |current| {
                *current = file.clone();
                Ok(())
            },
        )
        .map(|(_, (), revision)| revision)
    }
}
