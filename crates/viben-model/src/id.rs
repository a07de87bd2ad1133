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
