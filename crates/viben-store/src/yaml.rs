//! The YAML format: the one module that names the YAML crate, with limits for hostile input.
//!
//! Guards, each tested in `tests/hostile_input.rs`:
//! - size: callers refuse files over [`MAX_YAML_BYTES`] before reading them (see `fsio`), which
//!   bounds the parser's memory (it keeps every event of a document);
//! - encoding: invalid UTF-8 is reported with the line and column of the first bad byte;
//!   libyaml itself refuses NUL and other control characters;
//! - nesting: the YAML crate refuses more than 128 levels of sequences and mappings;
//! - aliases: the crate refuses more than 100 alias jumps per event, which still lets a file
//!   of a few megabytes expand to billions of nodes, so when a document contains an anchor
//!   (`&`), we first walk it counting nodes and refuse it past [`alias_budget`].

use std::cell::Cell;
use std::fmt;
use std::path::Path;

use serde::Serialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, Visitor};

use crate::error::{Result, StoreError, strip_location};

/// The largest YAML file the store reads: 4 MiB. Configuration files are a few kilobytes; a
/// long system prompt fits many times over. The parser holds every event of a document in
/// memory (tens of bytes each), so this also bounds its memory.
pub(crate) const MAX_YAML_BYTES: u64 = 4 * 1024 * 1024;

/// How many nodes a document that uses anchors may expand to: generous for hand-written
/// reuse (`<<: *defaults`), far below a bomb.
pub(crate) fn alias_budget(len: usize) -> u64 {
    10_000 + 8 * len as u64
}

/// Parses `bytes` (the content of `path`) as one YAML document into `T`.
///
/// An empty document (nothing, or only comments) parses as `T::default()` when `empty` is
/// given, and is an error otherwise.
pub(crate) fn from_bytes<T: DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
    empty: Option<fn() -> T>,
) -> Result<T> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let (line, column) = line_column(bytes, err.valid_up_to());
            return Err(StoreError::Parse {
                path: path.to_owned(),
                line: Some(line),
                column: Some(column),
                message: "the file is not valid UTF-8 text; save it as UTF-8".to_owned(),
            });
        }
    };
    if let Some(offset) = text
        .bytes()
        .position(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f)
    {
        let (line, column) = line_column(bytes, offset);
        return Err(StoreError::Parse {
            path: path.to_owned(),
            line: Some(line),
            column: Some(column),
            message: format!(
                "the control character 0x{:02x} is not allowed in YAML; remove it (a binary \
                 file?)",
                bytes[offset]
            ),
        });
    }
    if let Some(offset) = too_deep(text) {
        let (line, column) = line_column(bytes, offset);
        return Err(StoreError::Parse {
            path: path.to_owned(),
            line: Some(line),
            column: Some(column),
            message: format!(
                "values are nested more than {MAX_DEPTH} levels deep (counting every unclosed \
                 '[' and '{{', also inside strings); flatten the file"
            ),
        });
    }
    if let Some(empty) = empty
        && is_blank(text)
    {
        return Ok(empty());
    }
    if text.contains('&') {
        let count = Cell::new(0);
        let budget = alias_budget(text.len());
        let seed = NodeCounter {
            count: &count,
            budget,
        };
        if let Err(err) = seed.deserialize(serde_yaml::Deserializer::from_str(text)) {
            if count.get() > budget {
                return Err(StoreError::Parse {
                    path: path.to_owned(),
                    line: None,
                    column: None,
                    message: format!(
                        "its aliases (*name) expand to more than {budget} values, which looks \
                         like a YAML bomb; write the values out instead of repeating aliases"
                    ),
                });
            }
            return Err(parse_error(path, &err));
        }
    }
    serde_yaml::from_str(text).map_err(|err| parse_error(path, &err))
}

/// Serializes `value` as a YAML document, fields in declaration order and unknown fields after.
pub(crate) fn to_string<T: Serialize>(path: &Path, value: &T) -> Result<String> {
    serde_yaml::to_string(value).map_err(|err| StoreError::Parse {
        path: path.to_owned(),
        line: None,
        column: None,
        message: format!(
            "cannot be written as YAML: {}",
            strip_location(&err.to_string())
        ),
    })
}

fn parse_error(path: &Path, err: &serde_yaml::Error) -> StoreError {
    let location = err.location();
    let mut message = strip_location(&err.to_string());
    if message == "recursion limit exceeded" {
        message = "values are nested more than 128 levels deep; flatten the file".to_owned();
    } else if message == "repetition limit exceeded" {
        message = "its aliases (*name) are repeated too often, which looks like a YAML bomb; \
                   write the values out instead"
            .to_owned();
    }
    StoreError::Parse {
        path: path.to_owned(),
        line: location.as_ref().map(|l| l.line()),
        column: location.as_ref().map(|l| l.column()),
        message,
    }
}

/// The deepest nesting accepted, the YAML crate's own recursion limit.
const MAX_DEPTH: usize = 128;

/// The offset where flow brackets (`[`, `{`) or block indicators stacked on one line
/// (`- - - x`, `? ? x`) first nest deeper than [`MAX_DEPTH`], outside comments.
///
/// The YAML crate would refuse such a document too, but only after its parser, which is slow
/// on very deep flow nesting (minutes for 100,000 levels), has run; this scan is linear.
/// Brackets inside quoted strings are counted too: skipping quotes would let a stray quote in a
/// block scalar hide real nesting from the scan, while a legitimate file never has 128
/// unclosed brackets in a row. Block nesting by indentation needs a quadratic number of bytes,
/// so the size limit bounds it.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut line_start = true;
    let mut line_depth = 0usize;
    while i < bytes.len() {
        let byte = bytes[i];
        match byte {
            b'\n' => {
                line_start = true;
                line_depth = 0;
            }
            b'#' if i == 0 || bytes[i - 1].is_ascii_whitespace() => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                line_start = false;
                if depth + line_depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                line_start = false;
            }
            b'-' | b'?' | b':' if line_start && bytes.get(i + 1).is_none_or(|b| *b == b' ') => {
                line_depth += 1;
                if depth + line_depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b' ' | b'\t' | b'\r' => {}
            _ => line_start = false,
        }
        i += 1;
    }
    None
}

/// Whether a document has no content: only white space and comments.
fn is_blank(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

/// 1-based line and column (in bytes) of `offset` in `bytes`.
pub(crate) fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, offset - line_start + 1)
}

/// Walks a document without building it, counting nodes (aliases expanded), and fails once
/// the count passes the budget.
#[derive(Clone, Copy)]
struct NodeCounter<'a> {
    count: &'a Cell<u64>,
    budget: u64,
}

impl NodeCounter<'_> {
    fn bump<E: de::Error>(&self) -> std::result::Result<(), E> {
        self.count.set(self.count.get() + 1);
        if self.count.get() > self.budget {
            Err(E::custom("alias expansion budget exceeded"))
        } else {
            Ok(())
        }
    }
}

impl<'de> DeserializeSeed<'de> for NodeCounter<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

macro_rules! count_scalar {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> std::result::Result<(), E> {
            self.bump()
        })*
    };
}

impl<'de> Visitor<'de> for NodeCounter<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    count_scalar!(
        visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_i128: i128, visit_u128: u128,
        visit_f64: f64, visit_str: &str, visit_bytes: &[u8],
    );

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        self.bump()
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        self.bump()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        self.bump()?;
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        self.bump()?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        self.bump()?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> std::result::Result<(), A::Error> {
        use de::VariantAccess;
        self.bump()?;
        let ((), variant) = data.variant_seed(self)?;
        variant.newtype_variant_seed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_location_removes_every_line_and_column_part() {
        assert_eq!(
            strip_location(
                "did not find expected key at line 3 column 1, while parsing a block mapping at line 1 column 1"
            ),
            "did not find expected key, while parsing a block mapping"
        );
        assert_eq!(
            strip_location("missing field `name`"),
            "missing field `name`"
        );
    }

    #[test]
    fn line_column_is_one_based() {
        assert_eq!(line_column(b"ab\ncd", 4), (2, 2));
        assert_eq!(line_column(b"ab", 0), (1, 1));
    }
}
