//! Edits in place: a change to a document the store already holds is applied to the file's own
//! text, so comments, blank lines, key order, quoting, flow or block style and indentation of
//! everything the change did not touch stay byte for byte.
//!
//! serde still decides the new value: the old and the new value are both serialized to YAML
//! values, their difference is worked out key by key and item by item, and only that
//! difference is applied to the text through yaml-edit's lossless syntax tree (rowan). The
//! edited text is then read back with the store's own parser and limits, and used only if it
//! gives exactly the new value; otherwise the caller rewrites the whole file through serde
//! ([`NotInPlace`] says why).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_yaml::{Mapping as ValueMap, Value};
use yaml_edit::{Mapping, ScalarStyle, ScalarValue, Sequence, YamlFile, YamlNode};

use super::{MAX_YAML_BYTES, from_bytes, is_blank, to_string};

/// Why a change could not be applied to a file's text (the save rewrites the file instead).
/// Never holds a value from the file: it goes to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotInPlace(&'static str);

impl fmt::Display for NotInPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

fn not_in_place(reason: &'static str) -> NotInPlace {
    NotInPlace(reason)
}

/// The text of `path` (now `old`, which reads as `before`) changed to hold `after`, edited in
/// place. Refused when the edit cannot be expressed, when the result would pass the size
/// limit, or when it does not read back (with `empty` for a blank file, as the store reads
/// it) as exactly `after`.
pub(crate) fn in_place<T>(
    path: &Path,
    old: &[u8],
    before: &T,
    after: &T,
    empty: Option<fn() -> T>,
) -> std::result::Result<String, NotInPlace>
where
    T: Serialize + DeserializeOwned + PartialEq,
{
    let old = std::str::from_utf8(old).map_err(|_| not_in_place("the file is not UTF-8"))?;
    // A byte order mark is not part of the document; it stays in front of it.
    let (bom, text) = match old.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", old),
    };
    let edited = if is_blank(text) {
        // Only comments: they stay, the value follows them.
        let value = to_string(path, after).map_err(|_| not_in_place("serde cannot write it"))?;
        let mut edited = text.to_owned();
        if !edited.is_empty() && !edited.ends_with('\n') {
            edited.push('\n');
        }
        edited.push_str(&value);
        edited
    } else {
        let before = to_value(before)?;
        let after = to_value(after)?;
        // The editor is a young crate: should it panic on some text, the save falls back to a
        // rewrite rather than failing (its tree is local to this call, so nothing is left
        // half-changed).
        std::panic::catch_unwind(|| edit_text(text, &before, &after))
            .map_err(|_| not_in_place("the editor failed on this file"))??
    };
    let edited = format!("{bom}{edited}");
    if edited.len() as u64 > MAX_YAML_BYTES {
        return Err(not_in_place("the edited file would pass the size limit"));
    }
    match from_bytes::<T>(path, edited.as_bytes(), empty) {
        Ok(read) if read == *after => Ok(edited),
        Ok(_) => Err(not_in_place(
            "the edited text does not read back as the new value",
        )),
        Err(_) => Err(not_in_place("the edited text does not read back")),
    }
}

fn to_value<T: Serialize>(value: &T) -> std::result::Result<Value, NotInPlace> {
    serde_yaml::to_value(value).map_err(|_| not_in_place("serde cannot write it"))
}

/// `text` (one YAML document that reads as `before`) with the difference between `before`
/// and `after` applied to it; every other byte stays.
pub(crate) fn edit_text(
    text: &str,
    before: &Value,
    after: &Value,
) -> std::result::Result<String, NotInPlace> {
    if before == after {
        return Ok(text.to_owned());
    }
    let file = YamlFile::from_str(text)
        .map_err(|_| not_in_place("the lossless parser refused the file"))?;
    let mut documents = file.documents();
    let document = documents
        .next()
        .ok_or_else(|| not_in_place("the file holds no document"))?;
    if documents.next().is_some() {
        return Err(not_in_place("the file holds more than one document"));
    }
    match (before, after) {
        (Value::Mapping(old), Value::Mapping(new)) => {
            let mapping = document
                .as_mapping()
                .ok_or_else(|| not_in_place("the document is not a mapping in the text"))?;
            edit_mapping(&mapping, old, new)?;
        }
        (Value::Sequence(old), Value::Sequence(new)) => {
            let sequence = document
                .as_sequence()
                .ok_or_else(|| not_in_place("the document is not a list in the text"))?;
            edit_sequence(&sequence, old, new)?;
        }
        _ => return Err(not_in_place("the document changed its kind")),
    }
    Ok(file.to_string())
}

/// A key of a mapping as text (the store's documents have no other keys).
fn key_text(key: &Value) -> std::result::Result<&str, NotInPlace> {
    key.as_str()
        .ok_or_else(|| not_in_place("a changed key is not text"))
}

/// Applies the difference between `old` and `new` to `mapping`: removed keys go, changed
/// values change where they are, new keys go after the nearest key that precedes them in
/// `new` and is in the text (before the nearest following one when none precedes them).
fn edit_mapping(
    mapping: &Mapping,
    old: &ValueMap,
    new: &ValueMap,
) -> std::result::Result<(), NotInPlace> {
    for (key, _) in old.iter().filter(|(key, _)| !new.contains_key(*key)) {
        let key = key_text(key)?;
        // A key serde wrote for a default value may not be in the text at all.
        mapping.remove(key);
    }
    let keys: Vec<&Value> = new.keys().collect();
    for (index, (key, value)) in new.iter().enumerate() {
        let previous = old.get(key);
        if previous == Some(value) {
            continue;
        }
        let name = key_text(key)?;
        match (mapping.get(name), previous) {
            (Some(node), Some(previous)) => {
                if !edit_nested(&node, previous, value)? {
                    let value = render(value, Some(&node))?;
                    value.set_in(mapping, name);
                }
            }
            (Some(node), None) => render(value, Some(&node))?.set_in(mapping, name),
            (None, _) => {
                let value = render(value, None)?;
                let before_key = keys[..index]
                    .iter()
                    .rev()
                    .filter_map(|k| k.as_str())
                    .find(|k| mapping.contains_key(*k));
                let after_key = keys[index + 1..]
                    .iter()
                    .filter_map(|k| k.as_str())
                    .find(|k| mapping.contains_key(*k));
                match (before_key, after_key) {
                    (Some(neighbour), _) => value.insert_next_to(mapping, neighbour, name, true),
                    (None, Some(neighbour)) => {
                        value.insert_next_to(mapping, neighbour, name, false);
                    }
                    (None, None) => value.set_in(mapping, name),
                }
            }
        }
    }
    Ok(())
}

/// Applies the difference between two lists: the items both keep at their start and end stay;
/// between them, items are changed one for one when both have as many, else the old ones are
/// removed and the new ones inserted (the comments of the items kept stay).
fn edit_sequence(
    sequence: &Sequence,
    old: &[Value],
    new: &[Value],
) -> std::result::Result<(), NotInPlace> {
    if sequence.len() != old.len() {
        return Err(not_in_place("a list's text does not hold its items"));
    }
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let most = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(most)
        .take_while(|(a, b)| a == b)
        .count();
    let old_middle = &old[prefix..old.len() - suffix];
    let new_middle = &new[prefix..new.len() - suffix];
    if old_middle.len() == new_middle.len() {
        for (offset, (previous, value)) in old_middle.iter().zip(new_middle).enumerate() {
            let index = prefix + offset;
            let node = sequence
                .get(index)
                .ok_or_else(|| not_in_place("a list item is missing from the text"))?;
            if !edit_nested(&node, previous, value)? {
                render(value, Some(&node))?.set_at(sequence, index)?;
            }
        }
        return Ok(());
    }
    for _ in old_middle {
        sequence
            .remove(prefix)
            .ok_or_else(|| not_in_place("a list item is missing from the text"))?;
    }
    for (offset, value) in new_middle.iter().enumerate() {
        render(value, None)?.insert_at(sequence, prefix + offset);
    }
    Ok(())
}

/// Edits `node` from `old` to `new` inside it when both are mappings or both lists (returns
/// `true`), so what did not change inside keeps its comments; `false` when the value must be
/// replaced whole.
fn edit_nested(node: &YamlNode, old: &Value, new: &Value) -> std::result::Result<bool, NotInPlace> {
    match (node, old, new) {
        (YamlNode::Mapping(mapping), Value::Mapping(old), Value::Mapping(new)) => {
            edit_mapping(mapping, old, new)?;
            Ok(true)
        }
        (YamlNode::Sequence(sequence), Value::Sequence(old), Value::Sequence(new)) => {
            edit_sequence(sequence, old, new)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// A new value, ready to go into the text.
enum Rendered {
    /// A scalar, in the style of the one it replaces where it fits.
    Scalar(ScalarValue),
    /// A list or mapping, as serde writes it.
    Node(YamlNode),
}

impl Rendered {
    fn set_in(&self, mapping: &Mapping, key: &str) {
        match self {
            Self::Scalar(value) => mapping.set(key, value),
            Self::Node(node) => mapping.set(key, node),
        }
    }

    fn insert_next_to(&self, mapping: &Mapping, neighbour: &str, key: &str, after: bool) {
        match (self, after) {
            (Self::Scalar(value), true) => mapping.insert_after(neighbour, key, value),
            (Self::Scalar(value), false) => mapping.insert_before(neighbour, key, value),
            (Self::Node(node), true) => mapping.insert_after(neighbour, key, node),
            (Self::Node(node), false) => mapping.insert_before(neighbour, key, node),
        };
    }

    fn set_at(&self, sequence: &Sequence, index: usize) -> std::result::Result<(), NotInPlace> {
        let done = match self {
            Self::Scalar(value) => sequence.set(index, value),
            Self::Node(node) => sequence.set(index, node),
        };
        if done {
            Ok(())
        } else {
            Err(not_in_place("a list item is missing from the text"))
        }
    }

    fn insert_at(&self, sequence: &Sequence, index: usize) {
        match self {
            Self::Scalar(value) => sequence.insert(index, value),
            Self::Node(node) => sequence.insert(index, node),
        }
    }
}

/// `value` as it goes into the text in place of `replaced` (or as a new value). A string keeps
/// the quoting of the string it replaces (and a block scalar stays one while it has several
/// lines); lists and mappings are written as serde writes them.
fn render(value: &Value, replaced: Option<&YamlNode>) -> std::result::Result<Rendered, NotInPlace> {
    let scalar = match value {
        // Written as serde writes them, typed by their text as a reader types it.
        Value::Null | Value::Bool(_) | Value::Number(_) => {
            let text =
                serde_yaml::to_string(value).map_err(|_| not_in_place("serde cannot write it"))?;
            ScalarValue::parse(text.trim_end())
        }
        Value::String(s) => {
            let style = match replaced {
                Some(YamlNode::Scalar(old)) => Some(ScalarValue::from_scalar(old).style()),
                _ => None,
            };
            match style {
                Some(style @ (ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)) => {
                    ScalarValue::with_style(s.as_str(), style)
                }
                Some(style @ (ScalarStyle::Literal | ScalarStyle::Folded)) if s.contains('\n') => {
                    ScalarValue::with_style(s.as_str(), style)
                }
                _ => ScalarValue::string(s.as_str()),
            }
        }
        Value::Sequence(_) | Value::Mapping(_) => {
            let text =
                serde_yaml::to_string(value).map_err(|_| not_in_place("serde cannot write it"))?;
            let file = YamlFile::from_str(&text)
                .map_err(|_| not_in_place("serde's text does not parse"))?;
            let document = file
                .documents()
                .next()
                .ok_or_else(|| not_in_place("serde wrote no document"))?;
            let node = match (document.as_mapping(), document.as_sequence()) {
                (Some(mapping), _) => YamlNode::Mapping(mapping),
                (None, Some(sequence)) => YamlNode::Sequence(sequence),
                (None, None) => return Err(not_in_place("serde wrote no list or mapping")),
            };
            return Ok(Rendered::Node(node));
        }
        Value::Tagged(_) => return Err(not_in_place("a changed value has a tag")),
    };
    Ok(Rendered::Scalar(scalar))
}

#[cfg(test)]
mod tests;
