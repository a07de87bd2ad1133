//! The connection string: where it comes from, and how to show it without its password.

use std::fmt;

use crate::ConnectError;

mod validate;

use validate::{Problem, is_secret, problem};

/// The environment variable the web app reads its connection string from (checked first).
pub const POSTGRES_URL: &str = "POSTGRES_URL";
/// The conventional connection-string variable (checked when `POSTGRES_URL` is unset).
pub const DATABASE_URL: &str = "DATABASE_URL";

/// A PostgreSQL connection string, as libpq takes it: a URI (`postgres://user:pass@host/db?...`)
/// or `key=value` pairs (`host=... dbname=...`).
///
/// Its `Debug` and `Display` hide the password, so it can be logged or put in an error.
///
/// A string libpq would not read as meant (an unescaped `@` in the password, surrounding
/// quotes, another scheme, ...) is refused by [`DatabaseUrl::validate`] before libpq sees it,
/// with a message that names the part at fault without quoting any of it; such a string is
/// displayed as [`DatabaseUrl::NOT_SHOWN`].
#[derive(Clone)]
pub struct DatabaseUrl {
    raw: String,
    /// The environment variable the string came from, for messages.
    origin: Option<&'static str>,
}

impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for DatabaseUrl {}

impl DatabaseUrl {
    /// How `Display` and `Debug` show a string that [`DatabaseUrl::validate`] refuses: no part
    /// of it, since which part is the password cannot be told.
    pub const NOT_SHOWN: &'static str = "(connection string not shown: it is not valid)";

    /// Wraps a connection string.
    pub fn new(raw: impl Into<String>) -> Self {
        Self {
            raw: raw.into(),
            origin: None,
        }
    }

    /// The connection string from `POSTGRES_URL`, else `DATABASE_URL` (empty counts as unset).
    pub fn from_env() -> Result<Self, ConnectError> {
        [POSTGRES_URL, DATABASE_URL]
            .iter()
            .find_map(|name| {
                let value = std::env::var(name).ok().filter(|v| !v.trim().is_empty())?;
                Some(Self {
                    raw: value,
                    origin: Some(*name),
                })
            })
            .ok_or(ConnectError::MissingUrl)
    }

    /// Checks that libpq reads the string as written, so that none of its error messages (some
    /// of which quote the string, or the part they choke on) can show a password.
    ///
    /// Refuses, among others: an unescaped `@`, `/`, space or `%` in the user name or password,
    /// surrounding quotes or whitespace, another scheme (`jdbc:postgresql://`,
    /// `postgres+psycopg2://`), a port that is not a number, an option libpq does not know, a
    /// value libpq would refuse, and `key=value` text it would split otherwise. The error names
    /// the part at fault and says what to do; it never quotes the string.
    pub fn validate(&self) -> Result<(), ConnectError> {
        match problem(&self.raw) {
            None => Ok(()),
            Some(Problem { problem, fix }) => Err(ConnectError::InvalidUrl {
                origin: match self.origin {
                    Some(name) => format!("the connection string in {name}"),
                    None => "the connection string".to_owned(),
                },
                problem,
                fix,
            }),
        }
    }

    /// The connection string itself, password included. Pass it only to libpq.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The host the string names (`localhost` when it names none, as libpq assumes); the first
    /// one when it lists several.
    pub fn host(&self) -> String {
        let host = match parse(&self.raw) {
            Parsed::Uri(uri) => uri
                .param("host")
                .or_else(|| uri.first_host().map(|(host, _)| percent_decode(host))),
            Parsed::Keywords(pairs) => keyword(&pairs, "host"),
        };
        let host = host
            .and_then(|h| h.split(',').next().map(str::to_owned))
            .unwrap_or_default();
        if host.is_empty() {
            "localhost".to_owned()
        } else {
            host
        }
    }

    /// The port the string names (5432 when it names none); the first one when it lists
    /// several.
    pub fn port(&self) -> u16 {
        let port = match parse(&self.raw) {
            Parsed::Uri(uri) => uri.param("port").or_else(|| {
                uri.first_host()
                    .and_then(|(_, port)| port)
                    .map(ToOwned::to_owned)
            }),
            Parsed::Keywords(pairs) => keyword(&pairs, "port"),
        };
        port.and_then(|p| p.split(',').next()?.trim().parse().ok())
            .unwrap_or(5432)
    }

    /// The password the string carries, if any (as written: percent-encoded in a URI).
    fn password(&self) -> Option<String> {
        match parse(&self.raw) {
            Parsed::Uri(uri) => uri
                .query
                .iter()
                .rev()
                .find(|(k, _)| percent_decode(k) == "password")
                .and_then(|(_, v)| *v)
                .or(uri.password)
                .map(ToOwned::to_owned),
            Parsed::Keywords(pairs) => keyword(&pairs, "password"),
        }
        .filter(|p| !p.is_empty())
    }

    /// `text` with this connection string (as written) replaced by its displayed form, and its
    /// password (as written, and percent-decoded) replaced by `***`.
    ///
    /// The password is replaced only when it is at least 4 characters long: a
    /// shorter one would blank ordinary letters and words all over the text. libpq does not
    /// echo passwords in its messages, so this is a second line of defence; `Display` and
    /// `Debug` never show the password, whatever its length.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = if self.raw.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.raw, &self.to_string())
        };
        if let Some(password) = self.password() {
            let mut forms = vec![percent_decode(&password), password];
            forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
            for form in forms {
                if form.chars().count() >= SCRUB_MIN_LEN {
                    out = out.replace(&form, "***");
                }
            }
        }
        out
    }

    /// The same string with `key=value` added (a URI query parameter or a keyword pair).
    /// libpq takes the last value of a repeated key, so this overrides an earlier one.
    pub fn with_param(&self, key: &str, value: &str) -> Self {
        match parse(&self.raw) {
            Parsed::Uri(uri) => {
                let sep = if uri.has_query { '&' } else { '?' };
                Self::new(format!("{}{sep}{key}={value}", self.raw))
            }
            Parsed::Keywords(_) => Self::new(format!("{} {key}={}", self.raw, quote(value))),
        }
    }

    /// The same server with another database name.
    pub fn with_database(&self, database: &str) -> Self {
        match parse(&self.raw) {
            Parsed::Uri(mut uri) => {
                uri.path = Some(database);
                Self::new(uri.render(false))
            }
            Parsed::Keywords(_) => Self::new(format!("{} dbname={}", self.raw, quote(database))),
        }
    }

    /// The database name the string names, if any.
    pub fn database(&self) -> Option<String> {
        match parse(&self.raw) {
            Parsed::Uri(uri) => uri.param("dbname").or_else(|| uri.path.map(percent_decode)),
            Parsed::Keywords(pairs) => keyword(&pairs, "dbname"),
        }
        .filter(|n| !n.is_empty())
    }

    /// The same string without its password, and the password (decoded), so that a client
    /// tool (`psql`, `pgbench`) can get the password through `PGPASSWORD` instead of its
    /// command line, where other users of the machine could read it.
    pub fn split_password(&self) -> (DatabaseUrl, Option<String>) {
        match parse(&self.raw) {
            Parsed::Uri(mut uri) => {
                let in_query = uri.param("password");
                let in_userinfo = uri.password.take().map(percent_decode);
                uri.query.retain(|(k, _)| percent_decode(k) != "password");
                uri.has_query = !uri.query.is_empty();
                let password = in_query.or(in_userinfo).filter(|p| !p.is_empty());
                (Self::new(uri.render(false)), password)
            }
            Parsed::Keywords(pairs) => {
                let password = keyword(&pairs, "password").filter(|p| !p.is_empty());
                let rest: Vec<String> = pairs
                    .iter()
                    .filter(|(k, _)| *k != "password")
                    .map(|(k, v)| match v {
                        Some(v) => format!("{k}={}", quote(v)),
                        None => (*k).to_owned(),
                    })
                    .collect();
                (Self::new(rest.join(" ")), password)
            }
        }
    }

    /// The string as shown: rebuilt from its parsed parts, with every password replaced by
    /// `***` (never a scrub of the raw text, which misses what the scrubber misparses).
    fn shown(&self) -> String {
        if problem(&self.raw).is_some() {
            return Self::NOT_SHOWN.to_owned();
        }
        match parse(&self.raw) {
            Parsed::Uri(uri) => uri.render(true),
            Parsed::Keywords(pairs) => pairs
                .iter()
                .map(|(key, value)| match value {
                    None => (*key).to_owned(),
                    Some(_) if is_secret(key) => format!("{key}=***"),
                    Some(value) => format!("{key}={}", quote(value)),
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// The shortest password [`DatabaseUrl::scrub`] replaces in free text (see there).
const SCRUB_MIN_LEN: usize = 4;

/// A connection string, split the way libpq splits it.
enum Parsed<'a> {
    Uri(Uri<'a>),
    /// `key=value` pairs, values unquoted; a word without `=` has no value.
    Keywords(Vec<(&'a str, Option<String>)>),
}

/// The parts of a `postgres://` URI, as written (percent-encoded).
struct Uri<'a> {
    scheme: &'a str,
    user: Option<&'a str>,
    password: Option<&'a str>,
    hosts: &'a str,
    path: Option<&'a str>,
    has_query: bool,
    query: Vec<(&'a str, Option<&'a str>)>,
}

/// What follows a URI's user info, split by libpq's rules: the host list up to the first `/`
/// or `?`, then the database (after `/`) and the query (after `?`).
pub(crate) fn split_after_userinfo(rest: &str) -> (&str, Option<&str>, Option<&str>) {
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (hosts, rest) = rest.split_at(end);
    let (path, query) = match rest.strip_prefix('/') {
        Some(after) => match after.split_once('?') {
            Some((path, query)) => (Some(path), Some(query)),
            None => (Some(after), None),
        },
        None => (None, rest.strip_prefix('?')),
    };
    (hosts, path, query)
}

fn parse(raw: &str) -> Parsed<'_> {
    let scheme_len = ["postgresql://", "postgres://"]
        .iter()
        .find(|s| raw.starts_with(**s))
        .map(|s| s.len());
    match scheme_len {
        Some(len) => Parsed::Uri(parse_uri(&raw[..len], &raw[len..])),
        None => Parsed::Keywords(parse_keywords(raw)),
    }
}

/// libpq's URI rules: the user info runs up to an `@` before the first `/` (a `?` or `:`
/// in a password does not end it; this takes the last such `@`, so nothing before it is ever
/// shown), the host list up to the first `/` or `?`, then the database and the query.
fn parse_uri<'a>(scheme: &'a str, rest: &'a str) -> Uri<'a> {
    let slash = rest.find('/').unwrap_or(rest.len());
    let (user, password, rest) = match rest[..slash].rfind('@') {
        Some(at) => {
            let (user, password) = match rest[..at].split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (&rest[..at], None),
            };
            (Some(user), password, &rest[at + 1..])
        }
        None => (None, None, rest),
    };
    let (hosts, path, query) = split_after_userinfo(rest);
    Uri {
        scheme,
        user,
        password,
        hosts,
        path,
        has_query: query.is_some(),
        query: query
            .unwrap_or_default()
            .split('&')
            .filter(|item| !item.is_empty())
            .map(|item| match item.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (item, None),
            })
            .collect(),
    }
}

impl Uri<'_> {
    /// A query parameter's last value, percent-decoded.
    fn param(&self, key: &str) -> Option<String> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| percent_decode(k) == key)
            .and_then(|(_, v)| v.map(percent_decode))
            .filter(|v| !v.is_empty())
    }

    /// The first entry of the host list: (host as written, port).
    fn first_host(&self) -> Option<(&str, Option<&str>)> {
        let first = self.hosts.split(',').next().filter(|h| !h.is_empty())?;
        let (host, port) = match first.strip_prefix('[') {
            Some(rest) => match rest.split_once(']') {
                Some((host, after)) => (host, after.strip_prefix(':')),
                None => (rest, None),
            },
            None => match first.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (first, None),
            },
        };
        Some((host, port.filter(|p| !p.is_empty())))
    }

    fn render(&self, mask: bool) -> String {
        let mut out = String::from(self.scheme);
        if let Some(user) = self.user {
            out.push_str(user);
            if let Some(password) = self.password {
                out.push(':');
                out.push_str(if mask { "***" } else { password });
            }
            out.push('@');
        }
        out.push_str(self.hosts);
        if let Some(path) = self.path {
            out.push('/');
            out.push_str(path);
        }
        if self.has_query {
            let query: Vec<String> = self
                .query
                .iter()
                .map(|(k, v)| match v {
                    None => (*k).to_owned(),
                    Some(_) if mask && is_secret(&percent_decode(k)) => format!("{k}=***"),
                    Some(v) => format!("{k}={v}"),
                })
                .collect();
            out.push('?');
            out.push_str(&query.join("&"));
        }
        out
    }
}

/// libpq's `key=value` rules: whitespace may surround the `=`; a value is either a run of
/// non-whitespace or single-quoted, and in both a backslash takes the next character as is
/// (`\'`, `\\`).
fn parse_keywords(raw: &str) -> Vec<(&str, Option<String>)> {
    let mut pairs = Vec::new();
    let mut rest = raw;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return pairs;
        }
        let key_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        let after = rest[key_end..].trim_start();
        let Some(after) = after.strip_prefix('=') else {
            pairs.push((key, None));
            rest = after;
            continue;
        };
        let after = after.trim_start();
        let mut value = String::new();
        let mut chars = after.char_indices();
        let quoted = after.starts_with('\'');
        if quoted {
            chars.next();
        }
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, next)) = chars.next() {
                        value.push(next);
                    }
                }
                '\'' if quoted => {
                    end = i + 1;
                    break;
                }
                c if !quoted && c.is_whitespace() => {
                    end = i;
                    break;
                }
                c => value.push(c),
            }
        }
        pairs.push((key, Some(value)));
        rest = &after[end..];
    }
}

/// A keyword's last value.
fn keyword(pairs: &[(&str, Option<String>)], key: &str) -> Option<String> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.clone())
}

/// A keyword value as libpq reads it back: bare when it can be, else single-quoted.
fn quote(value: &str) -> String {
    if !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\') {
        return value.to_owned();
    }
    let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
    format!("'{escaped}'")
}

impl From<&str> for DatabaseUrl {
    fn from(raw: &str) -> Self {
        Self::new(raw)
    }
}

impl From<String> for DatabaseUrl {
    fn from(raw: String) -> Self {
        Self::new(raw)
    }
}

impl From<&DatabaseUrl> for DatabaseUrl {
    fn from(url: &DatabaseUrl) -> Self {
        url.clone()
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.shown()).finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
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

    fn assert_hidden(url: &DatabaseUrl, secret: &str) {
        let shown = format!("{url} {url:?}");
        assert!(!shown.contains(secret), "{shown}");
    }

    #[test]
    fn a_question_mark_in_the_uri_password_is_refused_without_showing_it() {
        // libpq reads `postgres://db?password=pa@ss` as user `db?password=pa`, host `ss`, so a
        // '?' before the '@' is ambiguous: percent-encoded (%3F) it is taken.
        let url = DatabaseUrl::new("postgres://ada:pa?ss@db/viben");
        assert_eq!(url.to_string(), DatabaseUrl::NOT_SHOWN);
        assert_hidden(&url, "pa?ss");
        let message = viben_model::Report(&url.validate().expect_err("refused")).to_string();
        assert!(message.contains("%3F"), "{message}");
        assert!(!message.contains("pa?ss"), "{message}");
        let url = DatabaseUrl::new("postgres://ada:pa%3Fss@db/viben");
        assert_eq!(url.to_string(), "postgres://ada:***@db/viben");
        assert_eq!(url.host(), "db");
    }

    #[test]
    fn keyword_passwords_with_spaces_around_the_equals_sign_are_hidden() {
        let url = DatabaseUrl::new("host=db password = hunter2 port = 6543");
        assert_eq!(url.to_string(), "host=db password=*** port=6543");
        assert_hidden(&url, "hunter2");
        assert_eq!(url.host(), "db");
        assert_eq!(url.port(), 6543);
    }

    #[test]
    fn quoted_keyword_passwords_are_hidden_whole() {
        let url = DatabaseUrl::new(r"password='hunter 2' host=db dbname='my db'");
        assert_eq!(url.to_string(), "password=*** host=db dbname='my db'");
        assert_hidden(&url, "hunter");
        assert_eq!(url.database().as_deref(), Some("my db"));
        let url = DatabaseUrl::new(r"user=ada password='it\'s a \\ secret' host=db");
        assert_eq!(url.to_string(), "user=ada password=*** host=db");
        assert_hidden(&url, "secret");
        assert_eq!(url.host(), "db");
    }

    #[test]
    fn a_one_letter_password_does_not_blank_that_letter_elsewhere() {
        let url = DatabaseUrl::new("postgres://ada:e@example.com/viben");
        assert_eq!(url.to_string(), "postgres://ada:***@example.com/viben");
        assert_eq!(
            url.scrub("could not connect to example.com"),
            "could not connect to example.com"
        );
        let url = DatabaseUrl::new("host=example.com password=e");
        assert_eq!(url.to_string(), "host=example.com password=***");
    }

    #[test]
    fn scrub_hides_the_whole_connection_string_and_a_long_password() {
        let raw = "postgres://ada:hunter2@db/viben?sslmode=require";
        let url = DatabaseUrl::new(raw);
        assert_eq!(
            url.scrub(&format!("bad url {raw}: hunter2")),
            "bad url postgres://ada:***@db/viben?sslmode=require: ***"
        );
    }

    #[test]
    fn password_query_parameters_are_hidden() {
        let url = DatabaseUrl::new("postgresql://ada@[::1]:6543/viben?sslpassword=k3y&password=pw");
        assert_eq!(
            url.to_string(),
            "postgresql://ada@[::1]:6543/viben?sslpassword=***&password=***"
        );
        assert_eq!(url.host(), "::1");
        assert_eq!(url.port(), 6543);
    }

    #[test]
    fn the_password_can_be_split_off_for_pgpassword() {
        let (url, password) =
            DatabaseUrl::new("postgres://ada:p%40ss@db:6543/viben?sslmode=require")
                .split_password();
        assert_eq!(url.expose(), "postgres://ada@db:6543/viben?sslmode=require");
        assert_eq!(password.as_deref(), Some("p@ss"));
        let (url, password) =
            DatabaseUrl::new("postgres://ada@db/viben?password=pw&sslmode=require")
                .split_password();
        assert_eq!(url.expose(), "postgres://ada@db/viben?sslmode=require");
        assert_eq!(password.as_deref(), Some("pw"));
        let (url, password) = DatabaseUrl::new("host=db password='a b' dbname=x").split_password();
        assert_eq!(url.expose(), "host=db dbname=x");
        assert_eq!(password.as_deref(), Some("a b"));
        let (url, password) = DatabaseUrl::new("postgres://db/viben").split_password();
        assert_eq!((url.expose(), password), ("postgres://db/viben", None));
    }
}
