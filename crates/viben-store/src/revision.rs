//! Revision tokens: which version of a file a value was read from.

use std::fmt;
use std::str::FromStr;

/// Identifies the content of a file at the moment it was read.
///
/// A save that carries the revision of its read is refused with
/// [`crate::StoreError::Conflict`] when the file has changed since, so a change computed from a
/// stale read never overwrites someone else's. The token is the length and a 64-bit FNV-style hash
/// of the bytes (`absent` for a file that did not exist): two reads give the same revision
/// when they saw the same bytes (different bytes collide with a chance of about 2^-64). Its text form (`Display`/`FromStr`) lets a UI keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Revision(Option<(u64, u64)>);

impl Revision {
    /// The revision of a file that does not exist.
    pub const ABSENT: Revision = Revision(None);

    /// The revision of a file holding `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        // FNV-1a over 8-byte words (then the tail bytes): fast, and deterministic across
        // processes and Rust versions, unlike `DefaultHasher`.
        const PRIME: u64 = 0x0100_0000_01b3;
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut words = bytes.chunks_exact(8);
        for word in words.by_ref() {
            let mut array = [0u8; 8];
            array.copy_from_slice(word);
            hash = (hash ^ u64::from_le_bytes(array)).wrapping_mul(PRIME);
            hash ^= hash >> 29;
        }
        for byte in words.remainder() {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(PRIME);
        }
        Self(Some((bytes.len() as u64, hash)))
    }

    /// Whether this is the revision of a missing file.
    pub fn is_absent(&self) -> bool {
        self.0.is_none()
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("absent"),
            Some((len, hash)) => write!(f, "{len}-{hash:016x}"),
        }
    }
}

/// A revision token that is not of the form `absent` or `<len>-<hex hash>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid revision token {0:?}; use the token a read returned")]
pub struct ParseRevisionError(String);

impl FromStr for Revision {
    type Err = ParseRevisionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "absent" {
            return Ok(Self::ABSENT);
        }
        let parsed = text
            .split_once('-')
            .and_then(|(len, hash)| Some((len.parse().ok()?, u64::from_str_radix(hash, 16).ok()?)));
        parsed
            .map(|pair| Self(Some(pair)))
            .ok_or_else(|| ParseRevisionError(text.to_owned()))
    }
}

/// A value together with the revision of the file it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The value read.
    pub value: T,
    /// The revision it was read at; hand it back to a `save_*_if_unchanged` method.
    pub revision: Revision,
}
