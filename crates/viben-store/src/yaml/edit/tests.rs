//! The edit of a text by a value's difference, on its own: exact results on hand-written
//! documents, and a property test on random commented documents and random edits.

use proptest::prelude::*;
use serde_yaml::{Mapping as ValueMap, Value};

use super::edit_text;

/// `text` edited by `change` applied to its value, checked to read back as the changed value.
fn edited(text: &str, change: impl FnOnce(&mut Value)) -> String {
    let before: Value = serde_yaml::from_str(text).expect("the test's text parses");
    let mut after = before.clone();
    change(&mut after);
    let out = edit_text(text, &before, &after).expect("edited in place");
    let read: Value = serde_yaml::from_str(&out).expect("the edited text parses");
    assert_eq!(read, after, "edited text:\n{out}");
    out
}

fn map(value: &mut Value) -> &mut ValueMap {
    value.as_mapping_mut().expect("a mapping")
}

#[test]
fn a_changed_scalar_keeps_its_comment_and_everything_else_stays() {
    let text = "# top\nid: a   # the id\n\n# warm or cold\ntemperature: 0.5 # warm\nname: \"A\"\n";
    let out = edited(text, |v| {
        map(v).insert("temperature".into(), 0.2.into());
    });
    assert_eq!(
        out,
        "# top\nid: a   # the id\n\n# warm or cold\ntemperature: 0.2 # warm\nname: \"A\"\n"
    );
}

#[test]
fn a_changed_string_keeps_its_quotes() {
    let out = edited("a: \"x\"  # c\nb: 'y'\n", |v| {
        map(v).insert("a".into(), "new".into());
        map(v).insert("b".into(), "it's".into());
    });
    assert_eq!(out, "a: \"new\"  # c\nb: 'it''s'\n");
}

#[test]
fn a_new_key_goes_after_its_neighbour_at_its_indentation() {
    let text = "top:\n    a: 1 # one\n\n    c: 3\nafter: x\n";
    let out = edited(text, |v| {
        let top = map(v).get_mut("top").expect("top");
        let mut rebuilt = ValueMap::new();
        for (k, val) in map(top).iter() {
            rebuilt.insert(k.clone(), val.clone());
            if k.as_str() == Some("a") {
                rebuilt.insert("b".into(), 2.into());
            }
        }
        *top = Value::Mapping(rebuilt);
    });
    assert_eq!(
        out,
        "top:\n    a: 1 # one\n    b: 2\n\n    c: 3\nafter: x\n"
    );
}

#[test]
fn removing_a_list_entry_keeps_the_comments_of_the_others() {
    let text = "list:\n  # first\n  - a\n  - b # bee\n  # third\n  - c\n";
    let out = edited(text, |v| {
        let list = map(v).get_mut("list").expect("list");
        list.as_sequence_mut().expect("a list").remove(0);
    });
    // The comment above the removed entry stays (yaml-edit keeps it with the list).
    assert_eq!(out, "list:\n  # first\n  - b # bee\n  # third\n  - c\n");
}

#[test]
fn flow_collections_stay_flow() {
    let out = edited("tools: [a, b]\nmeta: {x: 1, y: 2}\n", |v| {
        let tools = map(v).get_mut("tools").expect("tools");
        tools.as_sequence_mut().expect("list").push("c".into());
        let meta = map(v).get_mut("meta").expect("meta");
        map(meta).insert("x".into(), 5.into());
    });
    assert_eq!(out, "tools: [a, b, c]\nmeta: {x: 5, y: 2}\n");
}

#[test]
fn nothing_changed_is_the_same_text() {
    let text = "a: 1 # c\n";
    assert_eq!(edited(text, |_| {}), text);
}

// ---- the property test ----

/// A random document: keys from a small set, scalars that need quoting or not, nested maps
/// and lists.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        (-1000i32..1000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
        prop::sample::select(vec![
            "plain",
            "two words",
            "true",
            "null",
            "123",
            "a: b",
            "x # y",
            "",
            "-dash",
            "it's",
            "\"q\"",
            "ünïcode",
            "[x]",
            "{y}",
            "*star",
            "&amp",
            "@at",
            "%pc",
        ])
        .prop_map(Value::from),
    ]
}

const KEYS: &[&str] = &[
    "id",
    "name",
    "model",
    "temperature",
    "tools",
    "meta",
    "zeta",
    "alpha",
];

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Value::Sequence),
            prop::collection::btree_map(prop::sample::select(KEYS), inner, 1..4).prop_map(
                |entries| {
                    Value::Mapping(
                        entries
                            .into_iter()
                            .map(|(k, v)| (Value::from(k), v))
                            .collect(),
                    )
                }
            ),
        ]
    })
}

fn document() -> impl Strategy<Value = ValueMap> {
    prop::collection::btree_map(prop::sample::select(KEYS), value(), 1..6).prop_map(|entries| {
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect()
    })
}

/// Writes a document in block style with a comment line before every other entry and a
/// comment after every third scalar; `seed` varies the indentation of nested lists.
fn write_commented(doc: &ValueMap, seed: usize) -> String {
    let mut out = String::from("# a hand-written file\n");
    let mut counter = seed;
    write_map(&mut out, doc, 0, &mut counter);
    out
}

fn scalar_text(value: &Value) -> String {
    serde_yaml::to_string(value)
        .expect("a scalar")
        .trim_end()
        .to_owned()
}

fn write_map(out: &mut String, map: &ValueMap, indent: usize, counter: &mut usize) {
    let pad = " ".repeat(indent);
    for (key, value) in map {
        *counter += 1;
        if counter.is_multiple_of(2) {
            out.push_str(&format!("{pad}# ~about {}\n", scalar_text(key)));
        }
        let key = scalar_text(key);
        write_entry(out, &format!("{pad}{key}:"), value, indent, counter);
    }
}

/// A list or map of scalars in flow style (`[a, b]`, `{k: v}`).
fn flow(value: &Value) -> Option<String> {
    match value {
        Value::Sequence(s) if !s.is_empty() && s.iter().all(is_scalar) => Some(format!(
            "[{}]",
            s.iter().map(scalar_text).collect::<Vec<_>>().join(", ")
        )),
        Value::Mapping(m) if !m.is_empty() && m.values().all(is_scalar) => Some(format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", scalar_text(k), scalar_text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => None,
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Sequence(_) | Value::Mapping(_))
}

fn write_entry(out: &mut String, head: &str, value: &Value, indent: usize, counter: &mut usize) {
    if counter.is_multiple_of(5)
        && let Some(flow) = flow(value)
    {
        out.push_str(&format!("{head} {flow}\n"));
        return;
    }
    match value {
        Value::Mapping(m) if !m.is_empty() => {
            out.push_str(head);
            out.push('\n');
            write_map(out, m, indent + 2, counter);
        }
        Value::Sequence(s) if !s.is_empty() => {
            out.push_str(head);
            out.push('\n');
            let item_indent = if counter.is_multiple_of(3) {
                indent
            } else {
                indent + 2
            };
            let pad = " ".repeat(item_indent);
            for item in s {
                *counter += 1;
                if counter.is_multiple_of(4) {
                    out.push_str(&format!("{pad}# ~item\n"));
                }
                match item {
                    Value::Mapping(m) if !m.is_empty() => {
                        // `- key: value`, the next keys under the first.
                        let mut first = String::new();
                        write_map(&mut first, m, item_indent + 2, counter);
                        let body = first.trim_start_matches(' ');
                        out.push_str(&format!("{pad}- {body}"));
                    }
                    _ => write_entry(out, &format!("{pad}-"), item, item_indent + 2, counter),
                }
            }
        }
        _ => {
            out.push_str(&format!("{head} {}", scalar_text(value)));
            if counter.is_multiple_of(3) {
                out.push_str(" # ~note");
            }
            out.push('\n');
        }
    }
}

/// One edit, with the numbers that choose where it applies.
#[derive(Debug, Clone)]
enum Edit {
    SetScalar(usize, Value),
    AddKey(usize, &'static str, Value),
    RemoveKey(usize),
    AddItem(usize, usize, Value),
    RemoveItem(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), scalar()).prop_map(|(at, v)| Edit::SetScalar(at, v)),
        (any::<usize>(), prop::sample::select(KEYS), value())
            .prop_map(|(at, k, v)| Edit::AddKey(at, k, v)),
        any::<usize>().prop_map(Edit::RemoveKey),
        (any::<usize>(), any::<usize>(), value()).prop_map(|(at, i, v)| Edit::AddItem(at, i, v)),
        (any::<usize>(), any::<usize>()).prop_map(|(at, i)| Edit::RemoveItem(at, i)),
    ]
}

/// Every mapping (`true`) or list (`false`) inside `value`, as a path of keys and indices.
fn containers(value: &Value, path: &mut Vec<Value>, found: &mut Vec<(Vec<Value>, bool)>) {
    match value {
        Value::Mapping(m) => {
            found.push((path.clone(), true));
            for (k, v) in m {
                path.push(k.clone());
                containers(v, path, found);
                path.pop();
            }
        }
        Value::Sequence(s) => {
            found.push((path.clone(), false));
            for (i, v) in s.iter().enumerate() {
                path.push(Value::from(i as u64));
                containers(v, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'a>(value: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(value, |value, step| match value {
        Value::Mapping(m) => m.get_mut(step).expect("a key on the path"),
        Value::Sequence(s) => {
            let index = step.as_u64().expect("an index") as usize;
            &mut s[index]
        }
        _ => unreachable!("a path goes through containers"),
    })
}

/// Applies `edit` to `value`; `false` when it does not apply (nothing to remove, ...).
fn apply(value: &mut Value, edit: &Edit) -> bool {
    let mut found = Vec::new();
    containers(value, &mut Vec::new(), &mut found);
    let pick = |at: usize, mapping: bool| {
        let of_kind: Vec<_> = found.iter().filter(|(_, m)| *m == mapping).collect();
        (!of_kind.is_empty()).then(|| of_kind[at % of_kind.len()].0.clone())
    };
    match edit {
        Edit::SetScalar(at, new) => {
            let mut scalars = Vec::new();
            for (path, is_map) in &found {
                let container = at_path(value, path);
                if *is_map {
                    for (k, v) in container.as_mapping().expect("map") {
                        if !matches!(v, Value::Mapping(_) | Value::Sequence(_)) {
                            let mut p = path.clone();
                            p.push(k.clone());
                            scalars.push(p);
                        }
                    }
                }
            }
            if scalars.is_empty() {
                return false;
            }
            *at_path(value, &scalars[at % scalars.len()]) = new.clone();
            true
        }
        Edit::AddKey(at, key, new) => {
            let Some(path) = pick(*at, true) else {
                return false;
            };
            let map = at_path(value, &path).as_mapping_mut().expect("map");
            if map.contains_key(*key) {
                return false;
            }
            map.insert(Value::from(*key), new.clone());
            true
        }
        Edit::RemoveKey(at) => {
            let Some(path) = pick(*at, true) else {
                return false;
            };
            let map = at_path(value, &path).as_mapping_mut().expect("map");
            if map.len() < 2 {
                return false;
            }
            let key = map.keys().nth(at % map.len()).cloned().expect("a key");
            map.remove(&key);
            true
        }
        Edit::AddItem(at, index, new) => {
            let Some(path) = pick(*at, false) else {
                return false;
            };
            let list = at_path(value, &path).as_sequence_mut().expect("list");
            let index = index % (list.len() + 1);
            list.insert(index, new.clone());
            true
        }
        Edit::RemoveItem(at, index) => {
            let Some(path) = pick(*at, false) else {
                return false;
            };
            let list = at_path(value, &path).as_sequence_mut().expect("list");
            if list.len() < 2 {
                return false;
            }
            let index = index % list.len();
            list.remove(index);
            true
        }
    }
}

fn comments(text: &str) -> usize {
    // The test's comments are marked `~`, which no generated scalar holds.
    text.matches("# ~").count()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn an_edit_in_place_reads_back_as_the_edit_applied_to_the_value(
        doc in document(),
        seed in 0usize..6,
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let text = write_commented(&doc, seed);
        let before: Value = serde_yaml::from_str(&text).expect("the written text parses");
        prop_assert_eq!(&before, &Value::Mapping(doc.clone()), "text:\n{}", text);
        let mut after = before.clone();
        let applied: Vec<&Edit> = edits.iter().filter(|edit| apply(&mut after, edit)).collect();
        // One edit that removes nothing keeps every comment; several may replace a list item
        // that holds one (its comment goes with it).
        let keeps_comments = matches!(
            applied.as_slice(),
            [Edit::SetScalar(..) | Edit::AddKey(..) | Edit::AddItem(..)]
        );
        let out = edit_text(&text, &before, &after);
        prop_assert!(out.is_ok(), "not in place: {:?}\ntext:\n{}\nafter: {:?}", out, text, after);
        let out = out.expect("checked");
        let read: Value = serde_yaml::from_str(&out)
            .map_err(|e| TestCaseError::fail(format!("{e}\nfrom:\n{text}\nedited:\n{out}")))?;
        prop_assert_eq!(&read, &after, "from:\n{}\nedited:\n{}", text, out);
        if keeps_comments {
            prop_assert!(comments(&out) >= comments(&text), "lost comments:\n{}\nedited:\n{}", text, out);
        }
    }
}

#[test]
fn the_generator_writes_flow_and_block_collections_with_comments() {
    let list = Value::Sequence(vec![1.into(), "two words".into()]);
    let doc: ValueMap = KEYS
        .iter()
        .map(|k| (Value::from(*k), list.clone()))
        .collect();
    let text = write_commented(&doc, 0);
    assert!(text.contains(": [1, two words]\n"), "{text}");
    assert!(text.contains(":\n  - 1\n"), "{text}");
    assert!(text.contains("# ~about"), "{text}");
    let read: Value = serde_yaml::from_str(&text).expect("parses");
    assert_eq!(read, Value::Mapping(doc));
}
