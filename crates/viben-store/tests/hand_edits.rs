//! Hand edits survive rewrites: unknown fields are kept, known fields keep their order, and a
//! file whose values did not change is not rewritten at all.

mod common;

use common::{read, seed_store, temp_store, write};

#[test]
fn unknown_fields_survive_an_agent_update_in_their_order() {
    let t = temp_store();
    write(
        t.dir.path(),
        "agents/a/config.yaml",
        "id: a\nname: A\nzeta: 1\nmodel: m\nprovider: p\nalpha:\n  nested: [1, 2]\ntemperature: 0.5\n",
    );
    t.store
        .update_agent("a", |a| {
            a.temperature = Some(0.9);
            Ok(())
        })
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "agents/a/config.yaml"),
        "id: a\nname: A\nmodel: m\nprovider: p\ntemperature: 0.9\nzeta: 1\nalpha:\n  nested:\n  - 1\n  - 2\n"
    );
}

#[test]
fn unknown_fields_survive_a_models_update_at_every_level() {
    let t = seed_store();
    write(
        t.dir.path(),
        "models.yaml",
        "default: a\nmodels:\n- id: a\n  provider: anthropic\n  context_window: 200000\nupdated_by: me\n",
    );
    t.store
        .add_model(viben_model::ModelEntry::new("b", "openai"))
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "models.yaml"),
        "default: a\nmodels:\n- id: a\n  provider: anthropic\n  context_window: 200000\n- id: b\n  provider: openai\nupdated_by: me\n"
    );
}

#[test]
fn known_field_order_is_stable_across_many_rewrites() {
    let t = seed_store();
    for i in 0..5 {
        t.store
            .update_agent("my-agent", |a| {
                a.max_tokens = Some(1000 + i);
                Ok(())
            })
            .unwrap();
    }
    let text = read(t.dir.path(), "agents/my-agent/config.yaml");
    let keys: Vec<_> = text.lines().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "description",
            "model",
            "provider",
            "system_prompt",
            "temperature",
            "max_tokens"
        ]
    );
}

#[test]
fn comments_are_kept_while_the_values_do_not_change_and_dropped_on_a_real_change() {
    let t = seed_store();
    let with_comment = "# my favourite agent\nid: my-agent   # the folder name\nname: My Agent\nmodel: claude-3-sonnet\nprovider: anthropic\n";
    write(t.dir.path(), "agents/my-agent/config.yaml", with_comment);
    t.store.update_agent("my-agent", |_| Ok(())).unwrap();
    t.store
        .update_agent("my-agent", |a| {
            a.name = "My Agent".into();
            Ok(())
        })
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "agents/my-agent/config.yaml"),
        with_comment
    );
    t.store
        .update_agent("my-agent", |a| {
            a.name = "Renamed".into();
            Ok(())
        })
        .unwrap();
    assert_eq!(
        read(t.dir.path(), "agents/my-agent/config.yaml"),
        "id: my-agent\nname: Renamed\nmodel: claude-3-sonnet\nprovider: anthropic\n",
        "documented in docs/store.md: a real change rewrites the file without its comments"
    );
}
