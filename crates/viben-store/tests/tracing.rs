//! What viben-store tells `tracing`: reads, saves, lock waits and appends, with paths relative
//! to the root, and never a value from a file (an API key, a message). One test: a subscriber
//! is global.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use viben_model::{AgentConfig, Message, MessageRole, ProviderConfig, Secret, SessionMeta};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn reads_saves_locks_and_appends_are_traced_without_any_value_from_a_file() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");

    let t = common::temp_store();
    let mut provider = ProviderConfig::new("anthropic");
    provider.api_key = Some(Secret::new("sk-SECRET-key"));
    t.store.providers().set(&provider).expect("a provider");
    let mut agent = AgentConfig::new("writer", "Writer", "m", "anthropic");
    agent.system_prompt = Some("SECRET-prompt".into());
    t.store.agents().create(&agent).expect("an agent");
    t.store
        .agents()
        .update("writer", |a| {
            a.temperature = Some(0.5);
            Ok(())
        })
        .expect("an update");
    t.store.providers().get("anthropic").expect("read back");
    let session = SessionMeta::new("writer", Some("SECRET-title".into()));
    t.store.sessions().create(&session).expect("a session");
    t.store
        .sessions()
        .append(
            &session.id,
            &Message::new(MessageRole::User, "SECRET-message"),
        )
        .expect("an append");

    let text = String::from_utf8_lossy(
        &captured
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned();
    for expected in [
        "viben_store::save",
        "path=providers/anthropic.yaml",
        "path=agents/writer/config.yaml changed=true",
        "viben_store::read",
        "viben_store::lock",
        "viben_store::append",
        &format!("path=sessions/{}/messages.jsonl", session.id),
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} was not traced:\n{text}"
        );
    }
    assert!(
        !text.contains("SECRET"),
        "a value from a file was traced:\n{text}"
    );
    assert!(
        !text.contains(&t.dir.path().display().to_string()),
        "paths are relative to the root:\n{text}"
    );
}
