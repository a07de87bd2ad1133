//! The YAML format: the one module that names the YAML crates (yaml_serde, yaml-rust2 for
//! the pre-checks, and yaml-edit for edits in place in [`edit`]), with limits for hostile
//! input.
//!
//! Guards, each tested in `tests/hostile_input.rs`:
//! - size: callers refuse files over [`MAX_YAML_BYTES`] before reading them (the store's
//!   `read_bytes`, from the open file's size), which bounds the parser's memory (it keeps
//!   every event of a document), and [`to_string`] refuses to produce a larger one;
//! - encoding: invalid UTF-8 is reported with the line and column of the first bad byte, and
//!   so are NUL and the other control characters YAML does not allow (checked here, before
//!   the parser sees the text);
//! - nesting: a linear pre-scan ([`too_deep`]) refuses more than [`SCAN_MAX_DEPTH`] unclosed
//!   brackets, which would make the parser slow; the expansion pre-check (below) and the
//!   YAML crate's recursion limit refuse anything past 128 levels with the line and column;
//! - expansion: before yaml_serde builds anything, [`expansion_precheck`] streams the
//!   document's events through a second parser (yaml-rust2, safe Rust, used nowhere else),
//!   replacing each alias by the size of the value it names, and refuses the document at the
//!   alias (its line and column) where it passes [`MAX_EXPANDED_BYTES`] of text,
//!   [`MAX_ALIASES`] aliases or [`MAX_NODES`] values; a document without aliases is held to
//!   [`MAX_NODES`] too, which bounds yaml_serde's memory (it keeps every event and builds
//!   every value). A document that may hold an anchor is also walked with yaml_serde's own
//!   events against the same budgets, so a difference between the two parsers cannot let a
//!   bomb through (that walk cannot place the alias). yaml_serde itself refuses more than 100
//!   alias jumps per event.

use std::cell::Cell;
use std::fmt;
use std::path::Path;

use serde::Serialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, Visitor};

use crate::error::{Result, StoreError, strip_location};

pub(crate) mod edit;

/// The largest YAML file the store reads or writes: 1 MiB. Configuration files are a few
/// kilobytes; a long system prompt fits many times over. The parser holds every event of a
/// document in memory (tens of bytes each, hundreds for a flow sequence: a 4 MiB one peaked
/// at about 470 MB), so this also bounds its memory.
pub(crate) const MAX_YAML_BYTES: u64 = 1024 * 1024;

/// The most values (scalars, lists and maps, keys included) a document may hold once every
/// alias is replaced by the value it names. A hand-written file holds a few hundred; a 1 MiB
/// catalog of realistic entries about 130,000. Each value costs the parser and the built
/// value about 250 bytes at worst (a flow list of one-letter items), so this keeps a load
/// near 50 MB; 1 MiB of `[a,a,a,...]` (520,000 values) took 135 MB before.
pub(crate) const MAX_NODES: u64 = 200_000;

/// The most bytes of scalar text a document may expand to through its aliases: four times
/// the file limit, far more than any reuse of `<<: *defaults` needs, and small enough that
/// the copies (the value, and serde's buffer of a record's fields) stay within tens of MB.
pub(crate) const MAX_EXPANDED_BYTES: u64 = 4 * MAX_YAML_BYTES;

/// The most aliases a document may use, counting those repeated inside a repeated value.
pub(crate) const MAX_ALIASES: u64 = 10_000;

/// What a document (or one anchored value) expands to once aliases are replaced.
#[derive(Clone, Copy, Default, Debug)]
struct Expansion {
    /// Scalars, lists and maps.
    nodes: u64,
    /// Bytes of scalar text.
    bytes: u64,
    /// Aliases replaced.
    aliases: u64,
}

impl Expansion {
    fn add(&mut self, other: Expansion) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.aliases = self.aliases.saturating_add(other.aliases);
    }

    fn since(self, start: Expansion) -> Expansion {
        Expansion {
            nodes: self.nodes - start.nodes,
            bytes: self.bytes - start.bytes,
            aliases: self.aliases - start.aliases,
        }
    }

    /// Which budget the expansion passes, as the first half of a message.
    fn over_budget(self) -> Option<String> {
        if self.bytes > MAX_EXPANDED_BYTES {
            Some(format!(
                "its aliases (*name) expand it to more than {MAX_EXPANDED_BYTES} bytes of text, \
                 which looks like a YAML bomb"
            ))
        } else if self.aliases > MAX_ALIASES {
            Some(format!(
                "it uses more than {MAX_ALIASES} aliases (*name, counting those inside repeated \
                 values), which looks like a YAML bomb"
            ))
        } else if self.nodes > MAX_NODES {
            Some(format!(
                "its aliases (*name) expand it to more than {MAX_NODES} values, which looks \
                 like a YAML bomb"
            ))
        } else {
            None
        }
    }
}

/// Measures what `text` expands to, event by event, and refuses it at the event where it
/// passes a budget ([`MAX_NODES`], [`MAX_EXPANDED_BYTES`], [`MAX_ALIASES`]): for an alias,
/// with the alias's line and column. Memory is one [`Expansion`] per anchor; nothing is
/// built. Returns whether the whole text was measured (`false` when this parser gave up on
/// it, which yaml_serde then reports in its own words).
///
/// This uses yaml-rust2's event parser because yaml_serde keeps its events private: its
/// errors carry the position of the event being replayed (inside the anchored value), never
/// the alias that replays it.
fn expansion_precheck(path: &Path, text: &str) -> Result<bool> {
    use yaml_rust2::parser::{Event, Parser};
    use yaml_rust2::scanner::TScalarStyle;

    let mut parser = Parser::new_from_str(text);
    let mut documents = 0;
    let mut total = Expansion::default();
    // The size of each anchored value, by the parser's anchor id (from 1); `None` while the
    // value is still open (an alias to it then makes a cycle).
    let mut anchors: Vec<Option<Expansion>> = Vec::new();
    // Open lists and maps: their anchor id (0 for none) and the total when they opened.
    let mut open: Vec<(usize, Expansion)> = Vec::new();
    loop {
        let Ok((event, mark)) = parser.next_token() else {
            return Ok(false);
        };
        let refuse = |message: String| StoreError::Parse {
            path: path.to_owned(),
            line: Some(mark.line()),
            column: Some(mark.col() + 1),
            message,
        };
        match event {
            Event::StreamEnd => return Ok(true),
            Event::Scalar(value, style, anchor, tag) => {
                if style == TScalarStyle::Plain && tag.is_none() && too_wide_integer(&value) {
                    return Err(refuse(
                        "this integer is too large to keep exactly (over 128 bits); quote it \
                         ('...') to keep it as text"
                            .to_owned(),
                    ));
                }
                let scalar = Expansion {
                    nodes: 1,
                    bytes: value.len() as u64,
                    aliases: 0,
                };
                total.add(scalar);
                record_anchor(&mut anchors, anchor, Some(scalar));
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                total.nodes += 1;
                record_anchor(&mut anchors, anchor, None);
                open.push((anchor, total));
                if open.len() > MAX_DEPTH {
                    // yaml_serde would refuse it too, but only after this parser's cost of
                    // about depth times values.
                    return Err(refuse(format!(
                        "values are nested more than {MAX_DEPTH} levels deep; flatten the file"
                    )));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, start)) = open.pop() {
                    let mut value = total.since(start);
                    value.nodes += 1;
                    record_anchor(&mut anchors, anchor, Some(value));
                }
            }
            Event::Alias(anchor) => {
                let Some(Some(value)) = anchors.get(anchor.wrapping_sub(1)).copied() else {
                    let name = alias_name(text, mark.index());
                    return Err(refuse(format!(
                        "the alias *{name} names the value that contains it (a cycle), which \
                         cannot be loaded; write the value out instead"
                    )));
                };
                total.add(value);
                total.aliases = total.aliases.saturating_add(1);
                if let Some(problem) = total.over_budget() {
                    let name = alias_name(text, mark.index());
                    let problem = problem.replacen("*name", &format!("*{name}"), 1);
                    return Err(refuse(format!(
                        "{problem} (at this alias); write the values out instead of repeating \
                         aliases"
                    )));
                }
            }
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(refuse(
                        "the file holds more than one YAML document (a second '---'); remove \
                         the second '---' and what follows it, or merge the two"
                            .to_owned(),
                    ));
                }
            }
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
        }
        if total.nodes > MAX_NODES {
            return Err(refuse(format!(
                "the file holds more than {MAX_NODES} values (keys, list items and other \
                 values), more than Viben loads; split it or remove entries"
            )));
        }
    }
}

/// Whether a plain scalar is a decimal integer too wide for 128 bits: yaml_serde would read it
/// as a rounded float, which a rewrite would then write (unknown fields keep integers of up
/// to 128 bits digit for digit).
fn too_wide_integer(scalar: &str) -> bool {
    let digits = scalar.strip_prefix(['-', '+']).unwrap_or(scalar);
    let is_integer = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    // Leading zeros make a string in yaml_serde (YAML 1.2).
    let is_string = digits.len() > 1 && digits.starts_with('0');
    is_integer && !is_string && scalar.parse::<i128>().is_err() && digits.parse::<u128>().is_err()
}

/// Records the size of the value anchored as `anchor` (0: no anchor).
fn record_anchor(anchors: &mut Vec<Option<Expansion>>, anchor: usize, value: Option<Expansion>) {
    let Some(index) = anchor.checked_sub(1) else {
        return;
    };
    if anchors.len() <= index {
        anchors.resize(index + 1, None);
    }
    anchors[index] = value;
}

/// The name of the alias at character `index` of `text` (`*name`), shortened for a message.
fn alias_name(text: &str, index: usize) -> String {
    let Some((start, _)) = text.char_indices().nth(index) else {
        return "name".to_owned();
    };
    let name: String = text[start..]
        .trim_start_matches('*')
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
        .take(40)
        .collect();
    if name.is_empty() {
        "name".to_owned()
    } else {
        name
    }
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
    // A byte order mark some editors put first: libyaml reads the text after it as a second
    // document ("more than one document", no line). It is not part of the content, and a
    // rewrite leaves it out.
    let (text, bytes) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, rest.as_bytes()),
        None => (text, bytes),
    };
    if let Some(offset) = too_deep(text) {
        let (line, column) = line_column(bytes, offset);
        return Err(StoreError::Parse {
            path: path.to_owned(),
            line: Some(line),
            column: Some(column),
            message: format!(
                "values are nested more than {MAX_DEPTH} levels deep (over {SCAN_MAX_DEPTH} \
                 unclosed '[' or '{{'); flatten the file"
            ),
        });
    }
    if let Some(empty) = empty
        && is_blank(text)
    {
        return Ok(empty());
    }
    let measured = expansion_precheck(path, text)?;
    let text = &*keep_global_tags(text);
    if (!measured || text.contains('&'))
        && let Some(message) = walk_over_budget(text)
    {
        // Defence in depth: the pre-check runs another parser than the one that builds the
        // value, so when that parser gave up, or when the document can hold an anchor, the
        // document is walked with yaml_serde's own events too. This cannot name the alias.
        return Err(StoreError::Parse {
            path: path.to_owned(),
            line: None,
            column: None,
            message: format!("{message}; write the values out instead of repeating aliases"),
        });
    }
    serde_yaml::from_str(text).map_err(|err| parse_error(path, text, &err))
}

/// Serializes `value` as a YAML document, fields in declaration order and unknown fields after.
/// Refuses a document over [`MAX_YAML_BYTES`], or past the pre-check's limits, which could not
/// be read back.
pub(crate) fn to_string<T: Serialize>(path: &Path, value: &T) -> Result<String> {
    let text = serde_yaml::to_string(value).map_err(|err| StoreError::Encode {
        path: path.to_owned(),
        message: format!(
            "cannot be written as YAML: {}",
            strip_location(&err.to_string())
        ),
    })?;
    let text = restore_global_tags(text);
    if text.len() as u64 > MAX_YAML_BYTES {
        return Err(StoreError::TooLargeToWrite {
            path: path.to_owned(),
            limit: MAX_YAML_BYTES,
        });
    }
    // Under 1 MiB, a file can still hold more values, or deeper ones, than a read accepts
    // (`- 1` is four bytes): refuse to write what could not be read back.
    if let Err(StoreError::Parse { message, .. }) = expansion_precheck(path, &text) {
        let message = message.split("; ").next().unwrap_or(&message).to_owned();
        return Err(StoreError::Encode {
            path: path.to_owned(),
            message: format!("could not be read back: {message}"),
        });
    }
    Ok(text)
}

/// The prefix of YAML's own tags, which the secondary handle `!!` stands for.
const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// The tags yaml_serde understands itself (it reads `!!str 123` as text, `!!int '1'` as a
/// number), left as they are.
const CORE_TAGS: &[&str] = &["str", "int", "float", "bool", "null", "seq", "map"];

/// The tag tokens of `text`: (byte offset, handle, suffix), as yaml-rust2's
/// scanner reads them (so a `!` inside a string or a comment is no tag). Stops at the first
/// scanning error: the parser reports it.
fn tag_tokens(text: &str) -> Vec<(usize, String, String)> {
    use yaml_rust2::scanner::{Scanner, Token, TokenType};

    let mut tags = Vec::new();
    let mut scanner = Scanner::new(text.chars());
    // Marks count characters; walk the text once to turn them into byte offsets.
    let mut chars = text.char_indices().enumerate();
    for Token(mark, token) in scanner.by_ref() {
        if let TokenType::Tag(handle, suffix) = token
            && let Some((_, (offset, _))) = chars.find(|(index, _)| *index == mark.index())
        {
            tags.push((offset, handle, suffix));
        }
    }
    tags
}

/// `text` with every tag of YAML's own that yaml_serde would drop (`!!binary`, `!!set`,
/// `!!timestamp`) written as a verbatim local tag naming the global one
/// (`!<!tag:yaml.org,2002:binary>`), which yaml_serde keeps: an unknown field then holds it as
/// a tagged value, which [`to_string`] writes back as `!!binary`. (An error reported later on
/// the same line is a few columns off.) Other global tags (`!<tag:example.com,2000:x>`)
/// cannot be written back by yaml_serde and are still read as their bare value.
fn keep_global_tags(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("!!") || text.contains("%TAG") {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut copied = 0;
    for (offset, handle, suffix) in tag_tokens(text) {
        if handle != "!!" || CORE_TAGS.contains(&suffix.as_str()) {
            continue;
        }
        let (written, global) = (format!("!!{suffix}"), format!("{YAML_TAG_PREFIX}{suffix}"));
        // Only a tag written plainly (no %-escapes) is rewritten; others stay as before.
        if offset >= copied && text[offset..].starts_with(&written) {
            out.push_str(&text[copied..offset]);
            out.push_str("!<!");
            out.push_str(&global);
            out.push('>');
            copied = offset + written.len();
        }
    }
    if copied == 0 {
        return text.into();
    }
    out.push_str(&text[copied..]);
    out.into()
}

/// `text` as yaml_serde wrote it, with YAML's own tags back in their usual form: viben-model
/// hands yaml_serde `!!binary` for the tag read from `!!binary`, which it can only write as
/// the local tag `!%21binary` (the same tag to a reader, `%21` being `!`); this writes
/// `!!binary`. Only tag tokens change, found by yaml-rust2's scanner, never text in a value.
fn restore_global_tags(text: String) -> String {
    const WRITTEN: &str = "!%21";
    if !text.contains(WRITTEN) {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (offset, handle, suffix) in tag_tokens(&text) {
        if handle == "!"
            && suffix.starts_with('!')
            && offset >= copied
            && text[offset..].starts_with(WRITTEN)
        {
            out.push_str(&text[copied..offset]);
            out.push_str("!!");
            copied = offset + WRITTEN.len();
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn parse_error(path: &Path, text: &str, err: &serde_yaml::Error) -> StoreError {
    let location = err.location();
    let mut message = strip_location(&err.to_string());
    let at = location.as_ref().and_then(|l| {
        text.lines()
            .nth(l.line().checked_sub(1)?)?
            .chars()
            .nth(l.column().checked_sub(1)?)
    });
    if message.starts_with("found character that cannot start any token") && at == Some('\t') {
        message = "a tab starts this line's indentation, and YAML indents with spaces only; \
                   replace the tab with spaces"
            .to_owned();
    } else if message == "recursion limit exceeded" {
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

/// The deepest nesting accepted: the YAML crate's own recursion limit, which refuses a deeper
/// document with an accurate line and column.
const MAX_DEPTH: usize = 128;

/// How many unclosed `[` / `{` (and block indicators stacked on one line) the linear pre-scan
/// lets through to the parser; the YAML crate refuses anything past [`MAX_DEPTH`] itself,
/// with an accurate line and column, so the scan only has to stop input that would make the
/// parser slow. The parser's work is about the nesting depth times the number of values
/// (it rescans its stack of open levels at every token): 16,000 bare levels take 0.7 s in
/// release, and a 1 MiB file of values 1,000 levels deep 2 s, 500 levels deep 0.8 s, 250
/// levels deep about 0.4 s. Ordinary text that opens brackets without closing them
/// (`a value in [0, 1)`) stays far below this.
const SCAN_MAX_DEPTH: usize = 256;

/// The offset where [`too_deep_scan`]'s count first passes [`SCAN_MAX_DEPTH`].
fn too_deep(text: &str) -> Option<usize> {
    too_deep_scan(text, SCAN_MAX_DEPTH)
}

/// The offset where flow brackets (`[`, `{`) or block indicators stacked on one line
/// (`- - - x`, `? ? x`) first nest deeper than `max`, or `None`.
///
/// The count must never be lower than the parser's real nesting, or a hostile file would
/// reach the slow parser; counting too high only refuses a strange file early. So:
/// - every `[` and `{` counts, wherever it is (in quoted strings, block scalars and comments
///   too), so no mistake about where a string ends can hide an opening bracket;
/// - a `]` or `}` closes a level only where it is flow syntax: not inside a quoted string
///   (which starts only where a value can start, after `[`, `{`, `,`, `:`, `? `, `- `, a
///   property or at the start of a line, as YAML's own rules say), not in a comment (` #`
///   outside quotes), and not in a block scalar (`|` or `>`, up to the first line indented no
///   deeper than the line that opened it).
///
/// Block nesting by indentation needs a quadratic number of bytes, so the size limit
/// bounds it.
fn too_deep_scan(text: &str, max: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    // Where a quoted string may start (a value starts here).
    let mut node_start = true;
    // Inside a block scalar opened on a line indented this much.
    let mut block_scalar: Option<usize> = None;
    let mut line_start = true;
    let mut line_depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if quote.is_none() && (i == 0 || bytes[i - 1] == b'\n') {
            let indent = bytes[i..].iter().take_while(|&&b| b == b' ').count();
            let blank = bytes
                .get(i + indent..)
                .and_then(|rest| {
                    rest.iter()
                        .find(|&&b| b != b' ' && b != b'\t' && b != b'\r')
                })
                .is_none_or(|&b| b == b'\n');
            if let Some(parent) = block_scalar
                && (blank || indent > parent)
            {
                // A line of the block scalar: text, so only its opening brackets count.
                while i < bytes.len() && bytes[i] != b'\n' {
                    if matches!(bytes[i], b'[' | b'{') {
                        depth += 1;
                        if depth > max {
                            return Some(i);
                        }
                    }
                    i += 1;
                }
                i += 1;
                continue;
            }
            block_scalar = None;
        }
        if let Some(q) = quote {
            match byte {
                b'[' | b'{' => {
                    depth += 1;
                    if depth + line_depth > max {
                        return Some(i);
                    }
                }
                // `\"` in a double-quoted string, `''` in a single-quoted one.
                b'\\' if q == b'"' => i += 1,
                b'\'' if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
                _ if byte == q => {
                    quote = None;
                    node_start = false;
                }
                b'\n' => {
                    line_depth = 0;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match byte {
            b'\n' => {
                line_start = true;
                line_depth = 0;
                node_start = true;
                i += 1;
                continue;
            }
            b'#' if i == 0 || bytes[i - 1].is_ascii_whitespace() => {
                // A comment: its closing brackets close nothing, its opening ones still count.
                while i < bytes.len() && bytes[i] != b'\n' {
                    if matches!(bytes[i], b'[' | b'{') {
                        depth += 1;
                        if depth + line_depth > max {
                            return Some(i);
                        }
                    }
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' if node_start => quote = Some(byte),
            b'|' | b'>' if node_start && block_scalar_header(&bytes[i + 1..]) => {
                block_scalar = Some(line_indent(bytes, i));
                line_start = false;
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                node_start = true;
                if depth + line_depth > max {
                    return Some(i);
                }
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                node_start = false;
            }
            // `,` separates values only in a flow collection; the count is never below the
            // real depth, so at zero this is block context, where a comma is text.
            b',' if depth > 0 => node_start = true,
            // Stacked block indicators (`- - x`, `? x`, `: x`) each open a level.
            b'-' | b'?' | b':'
                if node_start
                    && bytes
                        .get(i + 1)
                        .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) =>
            {
                if line_start {
                    line_depth += 1;
                    if depth + line_depth > max {
                        return Some(i);
                    }
                }
            }
            // A value follows `key: ` and, in flow collections, `"key":`.
            b':' => node_start = true,
            b'&' | b'!' if node_start => {
                // A property (anchor or tag): the value still starts after it.
                while i < bytes.len()
                    && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b',' | b']' | b'}')
                {
                    i += 1;
                }
                continue;
            }
            b' ' | b'\t' | b'\r' => {}
            _ => node_start = false,
        }
        if !matches!(byte, b' ' | b'\t' | b'\r' | b'-' | b'?' | b':') {
            line_start = false;
        }
        i += 1;
    }
    None
}

/// Whether `rest` (what follows a `|` or `>`) is a block scalar header: indentation and
/// chomping indicators, then the end of the line or a comment.
fn block_scalar_header(rest: &[u8]) -> bool {
    let rest = &rest[rest
        .iter()
        .take_while(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-'))
        .count()..];
    let rest = rest.trim_ascii_start();
    rest.is_empty() || rest[0] == b'\n' || rest[0] == b'#'
}

/// The number of spaces that start the line holding `offset`.
fn line_indent(bytes: &[u8], offset: usize) -> usize {
    let start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    bytes[start..].iter().take_while(|&&b| b == b' ').count()
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

/// Walks `text` with yaml_serde's own events, building nothing, and says which budget what it
/// expands to passes, if any. A parse error ends the walk quietly: the real parse, which reads
/// no further, reports it in terms of the expected shape.
fn walk_over_budget(text: &str) -> Option<String> {
    let count = Cell::new(Expansion::default());
    let seed = NodeCounter { count: &count };
    seed.deserialize(serde_yaml::Deserializer::from_str(text))
        .err()
        .and_then(|_| count.get().over_budget())
}

/// Walks a document without building it, counting what it expands to (aliases replaced),
/// and fails once that passes a budget.
#[derive(Clone, Copy)]
struct NodeCounter<'a> {
    count: &'a Cell<Expansion>,
}

impl NodeCounter<'_> {
    fn bump<E: de::Error>(&self, bytes: usize) -> std::result::Result<(), E> {
        let mut count = self.count.get();
        count.add(Expansion {
            nodes: 1,
            bytes: bytes as u64,
            aliases: 0,
        });
        self.count.set(count);
        if count.over_budget().is_some() {
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
            self.bump(std::mem::size_of::<$ty>())
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
        visit_f64: f64,
    );

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<(), E> {
        self.bump(v.len())
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<(), E> {
        self.bump(v.len())
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        self.bump(0)
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        self.bump(0)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        self.bump(0)?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        self.bump(0)?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> std::result::Result<(), A::Error> {
        use de::VariantAccess;
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
    fn the_walk_with_yaml_serde_events_refuses_a_bomb_by_itself() {
        let bomb = format!(
            "a: &a \"{}\"\nb: [{}]\n",
            "x".repeat(500_000),
            "*a,".repeat(20)
        );
        let message = walk_over_budget(&bomb).expect("over budget");
        assert!(message.contains("more than 4194304 bytes"), "{message}");
        let mut list = String::from("x: [");
        list.push_str(&"a,".repeat(200_001));
        list.push_str("a]\n");
        assert!(walk_over_budget(&list).is_some());
        assert_eq!(walk_over_budget("a: &a [1, 2]\nb: [*a, *a]\n"), None);
    }

    #[test]
    fn line_column_is_one_based() {
        assert_eq!(line_column(b"ab\ncd", 4), (2, 2));
        assert_eq!(line_column(b"ab", 0), (1, 1));
    }
}
