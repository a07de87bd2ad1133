//! Channels changed field by field: `upsert`, `set_enabled`, and the mode of a file that holds
//! a bot token.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{read, seed_store, write};
use viben_model::{Channel, ChannelKind};
use viben_store::StoreError;

#[test]
fn upsert_creates_a_channel_then_changes_only_what_the_change_touches() {
    let t = seed_store();
    let channels = t.store.channels();
    let made = channels
        .upsert("tg", |existing| {
            assert!(existing.is_none());
            let mut channel = Channel::new("tg", ChannelKind::Telegram, "my-agent");
            channel.settings.insert("chat_id".into(), 42.into());
            Ok(channel)
        })
        .unwrap();
    assert_eq!(made.agent, "my-agent");
    channels
        .upsert("tg", |existing| {
            let mut channel = existing.cloned().expect("the channel exists now");
            channel.settings.insert("language".into(), "en".into());
            Ok(channel)
        })
        .unwrap();
    let stored = channels.get("tg").unwrap();
    assert_eq!(stored.settings.get("chat_id"), Some(&42.into()));
    assert_eq!(stored.settings.get("language"), Some(&"en".into()));
    assert_eq!(stored.kind, ChannelKind::Telegram);
}

#[test]
fn upsert_keeps_the_id_it_was_given_and_the_other_channels_in_place() {
    let t = seed_store();
    let channels = t.store.channels();
    for id in ["a", "b"] {
        channels
            .set(Channel::new(id, ChannelKind::Web, "my-agent"))
            .unwrap();
    }
    channels
        .upsert("a", |_| {
            Ok(Channel::new("renamed", ChannelKind::Slack, "my-agent"))
        })
        .unwrap();
    let listed: Vec<_> = channels
        .list()
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.kind))
        .collect();
    assert_eq!(
        listed,
        [
            ("a".to_owned(), ChannelKind::Slack),
            ("b".to_owned(), ChannelKind::Web)
        ]
    );
}

#[test]
fn upsert_refuses_a_missing_agent_and_writes_nothing() {
    let t = seed_store();
    let err = t
        .store
        .channels()
        .upsert("tg", |_| {
            Ok(Channel::new("tg", ChannelKind::Telegram, "ghost"))
        })
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::NotFound { kind: "agent", id } if id == "ghost"),
        "{err:?}"
    );
    assert!(!t.dir.path().join("channels.yaml").exists());
}

#[test]
fn upsert_passes_on_the_error_of_its_change() {
    let t = seed_store();
    let err = t
        .store
        .channels()
        .upsert("tg", |_| {
            Err(StoreError::NotFound {
                kind: "channel",
                id: "tg".into(),
            })
        })
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::NotFound {
            kind: "channel",
            ..
        }
    ));
}

#[test]
fn enable_and_disable_write_the_flag() {
    let t = seed_store();
    write(
        t.dir.path(),
        "channels.yaml",
        "# routed by hand\nchannels:\n- id: tg\n  kind: telegram\n  agent: my-agent\n",
    );
    let channels = t.store.channels();
    assert!(!channels.set_enabled("tg", false).unwrap().is_enabled());
    assert!(!channels.get("tg").unwrap().is_enabled());
    assert!(channels.set_enabled("tg", true).unwrap().is_enabled());
    assert_eq!(channels.get("tg").unwrap().enabled, Some(true));
    assert!(read(t.dir.path(), "channels.yaml").contains("enabled: true"));
}

#[test]
fn enabling_a_missing_channel_is_not_found() {
    let t = seed_store();
    let err = t.store.channels().set_enabled("nope", true).unwrap_err();
    assert!(
        matches!(&err, StoreError::NotFound { kind: "channel", id } if id == "nope"),
        "{err:?}"
    );
}

#[test]
fn a_channels_file_holding_a_bot_token_is_private_and_one_naming_a_variable_is_not() {
    let t = seed_store();
    let path = t.dir.path().join("channels.yaml");
    let mut channel = Channel::new("tg", ChannelKind::Telegram, "my-agent");
    channel
        .settings
        .insert("bot_token_env".into(), "TELEGRAM_BOT_TOKEN".into());
    t.store.channels().set(channel.clone()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    channel.settings.insert("language".into(), "en".into());
    t.store.channels().set(channel.clone()).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "a variable's name is no secret");

    channel
        .settings
        .insert("bot_token".into(), "123:ABC".into());
    t.store.channels().set(channel).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
