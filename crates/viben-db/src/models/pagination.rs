//! Keyset pagination: the cursor that marks where a page ends, and the page itself.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use viben_model::Hint;

/// Where a page of users ends: pass it to [`list`](crate::users::list) to get the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCursor {
    /// `created_at` of the last user on the page.
    pub created_at: Option<DateTime<Utc>>,
    /// `id` of the last user on the page.
    pub id: String,
}

/// The text form of a [`UserCursor`]: an opaque token (base64url, without padding, of
/// `<created_at in RFC 3339, or "null">,<id>`), made only of `A-Z a-z 0-9 - _`, so a cursor can
/// travel through a URL, a command line (pasted into a shell as is: an id may hold any text,
/// quotes and `;` included) or a JSON response and come back unchanged.
///
/// Parsing also takes the plain `<created_at>,<id>` form earlier versions printed.
///
/// ```
/// use viben_db::users::UserCursor;
/// let cursor: UserCursor = "2026-01-02T03:04:05.123456+00:00,u1".parse()?;
/// assert_eq!(cursor.id, "u1");
/// let token = cursor.to_string();
/// assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
/// assert_eq!(token.parse::<UserCursor>()?, cursor);
/// # Ok::<(), viben_db::users::ParseCursorError>(())
/// ```
impl fmt::Display for UserCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = match self.created_at {
            Some(created_at) => format!("{},{}", created_at.to_rfc3339(), self.id),
            None => format!("null,{}", self.id),
        };
        f.write_str(&base64url::encode(plain.as_bytes()))
    }
}

impl FromStr for UserCursor {
    type Err = ParseCursorError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || ParseCursorError(text.to_owned());
        // A token has no comma; the plain form always has one.
        let plain = if text.contains(',') {
            text.to_owned()
        } else {
            base64url::decode(text)
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(invalid)?
        };
        // Timestamps have no comma; ids may, so split at the first one.
        let (created, id) = plain.split_once(',').ok_or_else(invalid)?;
        let created_at = match created {
            "null" => None,
            other => Some(
                DateTime::parse_from_rfc3339(other)
                    .map_err(|_| invalid())?
                    .to_utc(),
            ),
        };
        Ok(Self {
            created_at,
            id: id.to_owned(),
        })
    }
}

/// A cursor text that is neither a token [`UserCursor`] printed nor `<RFC 3339 time or
/// null>,<id>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor \"{}\"", .0.escape_debug())]
pub struct ParseCursorError(String);

impl Hint for ParseCursorError {
    fn hint(&self) -> Option<String> {
        Some("pass the cursor the previous page printed, unchanged".to_owned())
    }
}

/// base64url without padding (RFC 4648 section 5): the alphabet safe in URLs and shells.
mod base64url {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub(super) fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            }
        }
        out
    }

    /// `None` for a character outside the alphabet or a length no encoding has.
    pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
        if text.len() % 4 == 1 {
            return None;
        }
        let mut out = Vec::with_capacity(text.len() * 3 / 4);
        for chunk in text.as_bytes().chunks(4) {
            let mut n = 0u32;
            for (i, &c) in chunk.iter().enumerate() {
                let value = ALPHABET.iter().position(|&a| a == c)?;
                n |= (value as u32) << (18 - 6 * i);
            }
            for i in 0..chunk.len() - 1 {
                out.push((n >> (16 - 8 * i)) as u8);
            }
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn round_trips_every_length() {
            let data: Vec<u8> = (0..=255).collect();
            for len in 0..40 {
                let encoded = super::encode(&data[..len]);
                assert_eq!(super::decode(&encoded).as_deref(), Some(&data[..len]));
            }
            assert_eq!(super::encode(b"hello"), "aGVsbG8");
            assert_eq!(super::decode("a"), None);
            assert_eq!(super::decode("a+b/"), None);
        }
    }
}

/// One page of a keyset-paginated list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, oldest first.
    pub items: Vec<T>,
    /// The cursor for the next page; `None` on the last page.
    pub next: Option<UserCursor>,
}
