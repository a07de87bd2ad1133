//! A page of one agent's sessions reads only the page's `session.yaml` files, counted with
//! the `viben_store::read` tracing events. One test: a subscriber is global (a scoped one
//! misses events that other test threads' callsites cached as uninteresting).

mod common;

use std::sync::{Arc, Mutex};

use common::temp_store;
use viben_model::{AgentConfig, SessionMeta};
use viben_store::Store;

fn create(store: &Store, agent: &str) -> String {
    let meta = SessionMeta::new(agent, None);
    store.sessions().create(&meta).expect("a session");
    meta.id
}

/// Counts `session.yaml` reads (`viben_store::read` events naming one).
#[derive(Clone, Default)]
struct Reads(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Reads {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct Path(Option<String>);
        impl tracing::field::Visit for Path {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "path" {
                    self.0 = Some(format!("{value:?}"));
                }
            }
        }
        if event.metadata().target() == "viben_store::read" {
            let mut path = Path(None);
            event.record(&mut path);
            if let Some(path) = path.0.filter(|p| p.ends_with("session.yaml")) {
                self.0.lock().expect("the reads").push(path);
            }
        }
    }
}

#[test]
fn a_page_for_one_agent_reads_only_the_page_s_session_files() {
    use tracing_subscriber::layer::SubscriberExt;
    let t = temp_store();
    for agent in ["busy", "rare"] {
        t.store
            .agents()
            .create(&AgentConfig::new(agent, "A", "m", "p"))
            .unwrap();
    }
    let mut rare = Vec::new();
    for n in 0..300 {
        if n % 50 == 0 {
            rare.push(create(&t.store, "rare"));
        } else {
            create(&t.store, "busy");
        }
    }
    rare.reverse();
    let reads = Reads::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(reads.clone()))
        .expect("one global subscriber");
    reads.0.lock().unwrap().clear();
    let page = t.store.sessions().page(Some("rare"), None, 4).unwrap();
    let ids: Vec<String> = page.items.into_iter().map(|m| m.id).collect();
    assert_eq!(ids, rare[..4]);
    let read = reads.0.lock().unwrap().clone();
    assert_eq!(read.len(), 4, "only the page's files are read: {read:#?}");
    assert_eq!(page.next.as_deref(), Some(rare[3].as_str()));

    // The last page says there is no next one, having read its two files.
    reads.0.lock().unwrap().clear();
    let subscriber = tracing_subscriber::registry().with(reads.clone());
    let last = tracing::subscriber::with_default(subscriber, || {
        t.store
            .sessions()
            .page(Some("rare"), Some(&rare[3]), 4)
            .unwrap()
    });
    assert_eq!(last.items.len(), 2);
    assert_eq!(last.next, None);
    assert_eq!(reads.0.lock().unwrap().len(), 2);
}
