//! Record ids: new ones for records we create, and the rules for ids that become path segments.

use crate::ValidationError;

/// The longest id, in bytes, that may name a file or folder.
///
/// Well under the 255-byte file-name limit of common file systems, leaving room for the
/// `.yaml` suffix and the store's temporary-file suffixes.
pub const MAX_PATH_ID_LEN: usize = 128;

/// A new record id: a UUIDv7 as lowercase hyphenated text.
///
/// UUIDv7 starts with a millisecond timestamp, so ids sort by creation time (which keeps
/// B-tree inserts at the right edge of the index), and its 74 random bits make collisions
/// negligible without coordination. Ids that other writers (the web app) chose are any text
/// and are accepted as they are; this function is only for records Viben creates.
///
/// ```
/// let a = viben_model::new_id();
/// let b = viben_model::new_id();
/// assert_eq!(a.len(), 36);
/// assert!(a < b, "ids sort by creation time");
/// ```
pub fn new_id() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

/// Checks that `id` is safe as one path segment, because the store turns it into a file or
/// folder name (`agents/<id>/config.yaml`, `providers/<name>.yaml`, `sessions/<id>/`).
///
/// Rejected: empty ids, ids longer than [`MAX_PATH_ID_LEN`] bytes, `/`, `\`, NUL or any other
/// control character, a leading `.` (hidden files, `.` and `..`), any `..`, and leading or
/// trailing white space. `kind` names what the id is for in the error (`"agent"`, ...).
///
/// ```
/// use viben_model::validate_path_id;
/// assert!(validate_path_id("agent", "my-agent").is_ok());
/// assert!(validate_path_id("agent", "../etc").is_err());
/// ```
pub fn validate_path_id(kind: &'static str, id: &str) -> Result<(), ValidationError> {
    let reason = if id.is_empty() {
        Some("it is empty")
    } else if id.len() > MAX_PATH_ID_LEN {
        Some("it is too long")
    } else if id.contains(['/', '\\']) {
        Some("it contains a path separator")
    } else if id.contains('\0') {
        Some("it contains a NUL byte")
    } else if id.chars().any(char::is_control) {
        Some("it contains a control character")
    } else if id.starts_with('.') {
        Some("it starts with '.'")
    } else if id.contains("..") {
        Some("it contains '..'")
    } else if id.trim() != id {
        Some("it starts or ends with white space")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ValidationError::InvalidId {
            kind,
            id: id.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Checks that `id` is safe as a new file or folder name on every system the desktop app
/// runs on: [`validate_path_id`], and also none of what Windows refuses or alters in a name
/// (`<`, `>`, `:`, `"`, `|`, `?`, `*`; a trailing `.`; the device names `CON`, `PRN`, `AUX`,
/// `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9`, `CONIN$`, `CONOUT$`, `CLOCK$`, in any case and with any
/// extension, such as `nul.txt`), no invisible or text-direction character (Unicode format
/// characters such as U+202E, which make a name display as another), no space other than
/// U+0020, and only the composed form of accented letters (Unicode NFC), so the name is
/// spelt one way on every file system.
///
/// This is the rule for ids that are about to name a new agent, provider or session: the
/// store applies it when it creates one. Ids that name no file (models, channels, such as
/// `llama3:8b`) and records that already exist are held to [`validate_path_id`] only, so a
/// store made before this rule stays readable.
///
/// ```
/// use viben_model::validate_portable_path_id;
/// assert!(validate_portable_path_id("agent", "my-agent").is_ok());
/// assert!(validate_portable_path_id("agent", "CON").is_err());
/// assert!(validate_portable_path_id("agent", "llama3:8b").is_err());
/// ```
pub fn validate_portable_path_id(kind: &'static str, id: &str) -> Result<(), ValidationError> {
    validate_path_id(kind, id)?;
    match portability_problem(id) {
        Some(reason) => Err(ValidationError::InvalidId {
            kind,
            id: id.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Why `id` would not name the same, visible file everywhere, if it would not.
fn portability_problem(id: &str) -> Option<&'static str> {
    if id.contains(['<', '>', ':', '"', '|', '?', '*']) {
        Some("it contains a character Windows does not allow in file names (< > : \" | ? *)")
    } else if id.ends_with('.') {
        Some("it ends with '.', which Windows drops from file names")
    } else if is_windows_device_name(id) {
        Some(
            "it is a device name on Windows (CON, PRN, AUX, NUL, COM1, LPT1, ..., also with an \
             extension), which no file may have there",
        )
    } else if id.chars().any(is_invisible) {
        Some(
            "it contains an invisible or text-direction character (such as U+202E or U+200B), \
             which makes the name display as something else",
        )
    } else if id.chars().any(|c| c.is_whitespace() && c != ' ') {
        Some("it contains a space character other than the plain space")
    } else if !unicode_normalization::is_nfc(id) {
        Some(
            "it is not in composed form (Unicode NFC: an accented letter written as a letter \
             plus a combining accent); type it again or use the composed letters",
        )
    } else {
        None
    }
}

/// `CON`, `nul.txt`, `Com1.tar.gz`, `LPT¹`: Windows takes the part before the first `.`
/// (trailing spaces dropped), in any case, for a device.
fn is_windows_device_name(id: &str) -> bool {
    let stem = id.split('.').next().unwrap_or(id).trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" | "CLOCK$"
    ) {
        return true;
    }
    let Some(number) = upper
        .strip_prefix("COM")
        .or_else(|| upper.strip_prefix("LPT"))
    else {
        return false;
    };
    let mut chars = number.chars();
    matches!(
        (chars.next(), chars.next()),
        (Some('0'..='9' | '\u{b9}' | '\u{b2}' | '\u{b3}'), None)
    )
}

/// Unicode format characters (general category Cf: bidirectional controls, zero-width
/// characters, the byte order mark, invisible operators, tags) and other characters that
/// render as nothing (variation selectors, the combining grapheme joiner, Hangul fillers,
/// the Braille blank).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The form under which a case-insensitive file system (macOS, Windows) may take `id` and
/// another id for one name: both in canonical decomposition (NFD, as macOS compares names),
/// each character mapped to its uppercase and that to its lowercase (`ß` → `ss`, `ς` → `σ`,
/// the Kelvin sign → `k`), decomposed again. Two ids with the same key must not both name
/// files in one folder.
///
/// This is Unicode's canonical caseless match with a case folding built from the standard
/// library's case mappings; it equates a few more pairs than full case folding (dotless `ı`
/// with `i`), which errs on the side of refusing.
///
/// ```
/// use viben_model::path_id_fold_key;
/// assert_eq!(path_id_fold_key("My-Agent"), path_id_fold_key("my-agent"));
/// assert_eq!(path_id_fold_key("STRASSE"), path_id_fold_key("straße"));
/// assert_eq!(path_id_fold_key("caf\u{e9}"), path_id_fold_key("CAFE\u{301}"));
/// assert_ne!(path_id_fold_key("a"), path_id_fold_key("b"));
/// ```
pub fn path_id_fold_key(id: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    id.nfd()
        .flat_map(char::to_uppercase)
        .flat_map(char::to_lowercase)
        .nfd()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_distinct_uuid_v7_text_in_creation_order() {
        let ids: Vec<String> = (0..1000).map(|_| new_id()).collect();
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{} !< {}", pair[0], pair[1]);
        }
        let parsed = uuid::Uuid::parse_str(&ids[0]).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
    }

    #[test]
    fn ordinary_ids_are_accepted() {
        for id in [
            "my-agent",
            "claude-3-sonnet",
            "gpt-4o.mini",
            "llama3:8b",
            "a",
            "A_1",
        ] {
            validate_path_id("agent", id).unwrap();
        }
        validate_path_id("agent", &"x".repeat(MAX_PATH_ID_LEN)).unwrap();
    }

    #[test]
    fn unsafe_path_segments_are_rejected_as_invalid_id() {
        let long = "x".repeat(MAX_PATH_ID_LEN + 1);
        let bad = [
            "",
            "/",
            "a/b",
            "a\\b",
            "..",
            ".",
            "../x",
            "a..b",
            ".hidden",
            "nul\0byte",
            "tab\there",
            "new\nline",
            " padded",
            "padded ",
            &long,
        ];
        for id in bad {
            match validate_path_id("agent", id) {
                Err(ValidationError::InvalidId {
                    kind: "agent",
                    id: got,
                    ..
                }) => {
                    assert_eq!(got, id)
                }
                other => panic!("{id:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn invalid_id_message_names_the_kind_and_escapes_control_characters() {
        let err = validate_path_id("channel", "a\0b").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("invalid channel id \"a\\0b\""), "{msg}");
        assert!(msg.contains("NUL"), "{msg}");
    }
}
