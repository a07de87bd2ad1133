//! Documents given as text: a person's whole edit of a file (an editor in a web page, a
//! `$EDITOR` session), checked as the store checks its own files and saved in one step.
//!
//! A value saved through the typed handles can only break a rule of the model; text can also
//! fail to parse, so errors here carry the line and column of the problem in that text: a
//! YAML error where the parser stopped, a broken rule at the field it is about.

use std::path::Path;

use viben_model::ValidationError;

use crate::document::{Record, check_id, check_record_id};
use crate::error::{Result, StoreError};
use crate::revision::{Revision, Versioned};
use crate::store::Store;
use crate::yaml;

impl Store {
    /// The text of the record `id`'s file and its revision, for an editor; `NotFound` when
    /// the file does not exist. The text is what is on disk, comments and all.
    pub(crate) fn record_text<K: Record>(&self, id: &str) -> Result<Versioned<String>> {
        check_id(K::KIND, id)?;
        let path = K::path(self.layout(), id);
        let Some(bytes) =
            self.read_bytes_below(self.layout().root(), &path, yaml::MAX_YAML_BYTES)?
        else {
            return Err(crate::document::not_found(K::KIND, id));
        };
        let revision = Revision::of(&bytes);
        // Checked the way a read checks it, so an editor never opens what a read would refuse.
        let _: K = yaml::from_bytes(&path, &bytes, K::EMPTY)?;
        // from_bytes refused text that is not UTF-8, so nothing is replaced here.
        let value = String::from_utf8_lossy(&bytes).into_owned();
        Ok(Versioned { value, revision })
    }

    /// Parses `text` as the record `id`, checks it as a read of its file would (limits, the
    /// id field, the model's rules), and saves it, as typed, if the file is still at
    /// `expected` ([`Revision::ABSENT`]: creates it from the value).
    pub(crate) fn save_record_text<K: Record>(
        &self,
        id: &str,
        text: &str,
        expected: &Revision,
    ) -> Result<Revision> {
        check_id(K::KIND, id)?;
        let path = K::path(self.layout(), id);
        let value: K = yaml::from_bytes(&path, text.as_bytes(), K::EMPTY)?;
        check_record_id(&path, id, &value)?;
        if let Some(source) = value.problems().into_iter().next() {
            return Err(invalid_at(&path, text, source));
        }
        if expected.is_absent() {
            return self.create_record_at(&value);
        }
        let written = self.modify_doc_as(
            &path,
            Some(*expected),
            || Err(StoreError::Conflict { path: path.clone() }),
            |current| {
                *current = value.clone();
                Ok(())
            },
            Some(text),
        )?;
        Ok(written.revision)
    }
}

/// A broken rule, placed at its field's value in `text` when the field is a top-level key
/// written in block style (how every file of the store is written); elsewhere, unplaced.
fn invalid_at(path: &Path, text: &str, source: ValidationError) -> StoreError {
    let (line, column) = match source.field().and_then(|field| top_level_key(text, field)) {
        Some((line, column)) => (Some(line), Some(column)),
        None => (None, None),
    };
    StoreError::Invalid {
        path: path.to_owned(),
        line,
        column,
        source,
    }
}

/// The 1-based line and column of the value of the top-level key `key` (`key: value`,
/// `"key": value` or `'key': value` starting a line), or of the key itself when its value
/// starts on a later line.
fn top_level_key(text: &str, key: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(index, line)| {
        let rest = [key.to_owned(), format!("\"{key}\""), format!("'{key}'")]
            .iter()
            .find_map(|spelt| line.strip_prefix(spelt.as_str()))?;
        let after_colon = rest.trim_start_matches([' ', '\t']).strip_prefix(':')?;
        let value = after_colon.trim_start_matches([' ', '\t']);
        let column = if value.is_empty() || value.starts_with('#') {
            1
        } else {
            line.chars().count() - value.chars().count() + 1
        };
        Some((index + 1, column))
    })
}

#[cfg(test)]
mod tests {
    use super::top_level_key;

    #[test]
    fn a_top_level_key_is_found_at_its_value() {
        let text = "id: a\nname: A\ntemperature: 5.0 # too hot\n";
        assert_eq!(top_level_key(text, "temperature"), Some((3, 14)));
    }

    #[test]
    fn a_nested_or_prefixed_key_is_not_taken_for_a_top_level_one() {
        let text = "id: a\nsettings:\n  temperature: 5\ntemperatures: 1\n";
        assert_eq!(top_level_key(text, "temperature"), None);
    }

    #[test]
    fn a_quoted_key_and_a_value_on_the_next_line_are_found() {
        assert_eq!(
            top_level_key("\"max_tokens\": 0\n", "max_tokens"),
            Some((1, 15))
        );
        assert_eq!(top_level_key("name:\n  x\n", "name"), Some((1, 1)));
    }
}
