//! The connection string: where it comes from, and how to show it without its password.

use std::fmt;

use crate::DbError;

/// The environment variable the web app reads its connection string from (checked first).
pub const POSTGRES_URL: &str = "POSTGRES_URL";
/// The conventional connection-string variable (checked when `POSTGRES_URL` is unset).
pub const DATABASE_URL: &str = "DATABASE_URL";

/// A PostgreSQL connection string, as libpq takes it: a URI (`postgres://user:pass@host/db?...`)
/// or `key=value` pairs (`host=... dbname=...`).
///
/// Its `Debug` and `Display` hide the password, so it can be logged or put in an error.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
}

impl DatabaseUrl {
    /// Wraps a connection string.
    pub fn new(raw: impl Into<String>) -> Self {
        Self { raw: raw.into() }
    }

    /// The connection string from `POSTGRES_URL`, else `DATABASE_URL` (empty counts as unset).
    pub fn from_env() -> Result<Self, DbError> {
        [POSTGRES_URL, DATABASE_URL]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
            .map(Self::new)
            .ok_or(DbError::MissingUrl)
    }

    /// The connection string itself, password included. Pass it only to libpq.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    fn is_uri(&self) -> bool {
        self.raw.starts_with("postgres://") || self.raw.starts_with("postgresql://")
    }

    /// The host the string names (`localhost` when it names none, as libpq assumes).
    pub fn host(&self) -> String {
        let host = if self.is_uri() {
            let (authority, _) = self.uri_parts();
            let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let host = if let Some(rest) = host_port.strip_prefix('[') {
                rest.split(']').next().unwrap_or_default().to_owned()
            } else {
                host_port.split(':').next().unwrap_or_default().to_owned()
            };
            let host = percent_decode(&host);
            if host.is_empty() {
                self.query_param("host").unwrap_or_default()
            } else {
                host
            }
        } else {
            self.keyword("host").unwrap_or_default()
        };
        if host.is_empty() {
            "localhost".to_owned()
        } else {
            host
        }
    }

    /// The port the string names (5432 when it names none).
    pub fn port(&self) -> u16 {
        let port = if self.is_uri() {
            let (authority, _) = self.uri_parts();
            let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let after_host = match host_port.strip_prefix('[') {
                Some(rest) => rest.split_once(']').map(|(_, p)| p).unwrap_or_default(),
                None => host_port.split_once(':').map_or("", |(_, p)| p),
            };
            let port = after_host.trim_start_matches(':').to_owned();
            if port.is_empty() {
                self.query_param("port")
            } else {
                Some(port)
            }
        } else {
            self.keyword("port")
        };
        port.and_then(|p| p.split(',').next()?.parse().ok())
            .unwrap_or(5432)
    }

    /// The password the string carries, if any.
    fn password(&self) -> Option<String> {
        if self.is_uri() {
            let (authority, _) = self.uri_parts();
            let in_userinfo = authority
                .rsplit_once('@')
                .and_then(|(userinfo, _)| userinfo.split_once(':'))
                .map(|(_, password)| password.to_owned());
            in_userinfo
                .or_else(|| self.query_param("password"))
                .filter(|p| !p.is_empty())
        } else {
            self.keyword("password")
        }
    }

    /// `text` with every occurrence of this string's password (raw or percent-decoded)
    /// replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if let Some(password) = self.password() {
            for form in [percent_decode(&password), password] {
                if !form.is_empty() {
                    out = out.replace(&form, "***");
                }
            }
        }
        out
    }

    /// The same string with `key=value` added (a URI query parameter or a keyword pair).
    /// libpq takes the last value of a repeated key, so this overrides an earlier one.
    pub fn with_param(&self, key: &str, value: &str) -> Self {
        if self.is_uri() {
            let sep = if self.raw.contains('?') { '&' } else { '?' };
            Self::new(format!("{}{sep}{key}={value}", self.raw))
        } else {
            Self::new(format!("{} {key}={value}", self.raw))
        }
    }

    /// The same server with another database name.
    pub fn with_database(&self, database: &str) -> Self {
        if self.is_uri() {
            let scheme_end = self.raw.find("://").map_or(0, |i| i + 3);
            let rest = &self.raw[scheme_end..];
            let path_start = rest.find(['/', '?']).unwrap_or(rest.len());
            let authority = &rest[..path_start];
            let after = &rest[path_start..];
            let query = after.find('?').map_or("", |i| &after[i..]);
            Self::new(format!(
                "{}{authority}/{database}{query}",
                &self.raw[..scheme_end]
            ))
        } else {
            Self::new(format!("{} dbname={database}", self.raw))
        }
    }

    /// The database name the string names, if any.
    pub fn database(&self) -> Option<String> {
        if self.is_uri() {
            let scheme_end = self.raw.find("://").map_or(0, |i| i + 3);
            let rest = &self.raw[scheme_end..];
            let path = rest.find('/').map(|i| &rest[i + 1..])?;
            let name = path.split('?').next().unwrap_or_default();
            Some(percent_decode(name)).filter(|n| !n.is_empty())
        } else {
            self.keyword("dbname")
        }
    }

    /// (authority, query) of a URI.
    fn uri_parts(&self) -> (&str, &str) {
        let scheme_end = self.raw.find("://").map_or(0, |i| i + 3);
        let rest = &self.raw[scheme_end..];
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let query = rest.find('?').map_or("", |i| &rest[i + 1..]);
        (&rest[..end], query)
    }

    fn query_param(&self, key: &str) -> Option<String> {
        let (_, query) = self.uri_parts();
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| percent_decode(v))
            .next_back()
    }

    fn keyword(&self, key: &str) -> Option<String> {
        self.raw
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.trim_matches('\'').to_owned())
            .next_back()
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&self.scrub(&self.raw))
            .finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scrub(&self.raw))
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_come_from_uris_and_keywords() {
        let url =
            DatabaseUrl::new("postgres://ada:s3cret@db.example.com:6543/viben?sslmode=require");
        assert_eq!(url.host(), "db.example.com");
        assert_eq!(url.port(), 6543);
        assert_eq!(url.database().as_deref(), Some("viben"));
        let url = DatabaseUrl::new("postgresql://[::1]/x");
        assert_eq!(url.host(), "::1");
        assert_eq!(url.port(), 5432);
        let url = DatabaseUrl::new("host=/tmp port=5439 dbname=x password=hunter2");
        assert_eq!(url.host(), "/tmp");
        assert_eq!(url.port(), 5439);
        assert_eq!(url.to_string(), "host=/tmp port=5439 dbname=x password=***");
    }

    #[test]
    fn display_and_debug_hide_the_password() {
        let url = DatabaseUrl::new("postgres://ada:p%40ss@localhost/viben");
        assert_eq!(url.to_string(), "postgres://ada:***@localhost/viben");
        assert!(!format!("{url:?}").contains("p%40ss"));
        assert_eq!(url.scrub("failed for p@ss"), "failed for ***");
        let url =
            DatabaseUrl::new("postgres://ada@localhost/viben?password=hunter2&sslmode=require");
        assert_eq!(
            url.to_string(),
            "postgres://ada@localhost/viben?password=***&sslmode=require"
        );
    }

    #[test]
    fn params_and_database_names_are_replaced() {
        let url = DatabaseUrl::new("postgres://u@h/db?sslmode=require");
        assert_eq!(
            url.with_param("connect_timeout", "5").expose(),
            "postgres://u@h/db?sslmode=require&connect_timeout=5"
        );
        assert_eq!(
            url.with_database("other").expose(),
            "postgres://u@h/other?sslmode=require"
        );
        assert_eq!(
            DatabaseUrl::new("postgres://u@h:1")
                .with_database("d")
                .expose(),
            "postgres://u@h:1/d"
        );
    }
}
