//! Refusing connection strings that libpq would read otherwise than meant, without quoting them.
//!
//! libpq's own messages about a malformed string quote it (`invalid URI ...: "postgres://..."`)
//! or the token it chokes on (`invalid integer value "S3cr3t@db:5432" for connection option
//! "port"`), and a misread string sends part of the password on as a host name or a port,
//! which later messages show. So the string is read here first, by libpq's rules, and refused
//! when any part of it is ambiguous. The messages name the part at fault (the password, the
//! port of host 1, query parameter 2, the value of sslmode) and never quote the string: in a
//! string that cannot be read, any part may be the password.

use std::net::IpAddr;

/// What is wrong with a connection string, and what to do. Neither quotes the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// What is wrong, e.g. "the password contains an unescaped '@'".
    pub(crate) problem: String,
    /// What to do, e.g. "percent-encode it as %40".
    pub(crate) fix: String,
}

fn refuse(problem: impl Into<String>, fix: impl Into<String>) -> Option<Problem> {
    Some(Problem {
        problem: problem.into(),
        fix: fix.into(),
    })
}

/// Every option libpq (up to PostgreSQL 18) takes; an option outside this list is refused
/// without being named, as it may be part of a password split off by a space.
const OPTIONS: &[&str] = &[
    "application_name",
    "channel_binding",
    "client_encoding",
    "connect_timeout",
    "dbname",
    "fallback_application_name",
    "gssdelegation",
    "gssencmode",
    "gsslib",
    "host",
    "hostaddr",
    "keepalives",
    "keepalives_count",
    "keepalives_idle",
    "keepalives_interval",
    "krbsrvname",
    "load_balance_hosts",
    "max_protocol_version",
    "min_protocol_version",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_issuer",
    "oauth_scope",
    "options",
    "passfile",
    "password",
    "port",
    "replication",
    "require_auth",
    "requirepeer",
    "scram_client_key",
    "scram_server_key",
    "service",
    "ssl_max_protocol_version",
    "ssl_min_protocol_version",
    "sslcert",
    "sslcertmode",
    "sslcompression",
    "sslcrl",
    "sslcrldir",
    "sslkey",
    "sslkeylogfile",
    "sslmode",
    "sslnegotiation",
    "sslpassword",
    "sslrootcert",
    "sslsni",
    "target_session_attrs",
    "tcp_user_timeout",
    "user",
];

/// Options whose values are secrets.
pub(crate) fn is_secret(key: &str) -> bool {
    matches!(
        key,
        "password"
            | "sslpassword"
            | "scram_client_key"
            | "scram_server_key"
            | "oauth_client_secret"
    )
}

/// Options libpq reads as whole numbers (and quotes in its message when they are not).
const INTEGER_OPTIONS: &[&str] = &[
    "connect_timeout",
    "keepalives",
    "keepalives_count",
    "keepalives_idle",
    "keepalives_interval",
    "tcp_user_timeout",
];

/// Options libpq takes from a fixed list (and quotes in its message when a value is not in
/// it).
const CHOICES: &[(&str, &[&str])] = &[
    (
        "sslmode",
        &[
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ],
    ),
    ("gssencmode", &["disable", "prefer", "require"]),
    ("channel_binding", &["disable", "prefer", "require"]),
    (
        "target_session_attrs",
        &[
            "any",
            "read-write",
            "read-only",
            "primary",
            "standby",
            "prefer-standby",
        ],
    ),
    ("load_balance_hosts", &["disable", "random"]),
    ("sslcertmode", &["disable", "allow", "require"]),
    ("sslnegotiation", &["postgres", "direct"]),
    (
        "ssl_min_protocol_version",
        &["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
    ),
    (
        "ssl_max_protocol_version",
        &["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
    ),
    (
        "replication",
        &[
            "true", "false", "on", "off", "yes", "no", "1", "0", "database",
        ],
    ),
    ("gsslib", &["gssapi", "sspi"]),
    ("sslcompression", &["0", "1"]),
    ("sslsni", &["0", "1"]),
    ("gssdelegation", &["0", "1"]),
];

const EXAMPLE: &str = "postgres://user:password@localhost:5432/viben";

/// Why libpq would not read `raw` as meant, or `None` when it would.
pub(crate) fn problem(raw: &str) -> Option<Problem> {
    if raw.trim().is_empty() {
        return refuse("it is empty", format!("set it to a URL such as {EXAMPLE}"));
    }
    if let Some(c) = raw.chars().find(|c| c.is_control()) {
        return if matches!(c, '\n' | '\r') {
            refuse(
                "it contains a line break",
                "give it on one line (a value copied with its line end keeps it)",
            )
        } else {
            refuse("it contains a control character", "remove it")
        };
    }
    let trimmed = raw.trim();
    let scheme = scheme(trimmed);
    let quotes = ['"', '\'', '`'];
    if trimmed.starts_with(quotes) || (scheme.is_some() && trimmed.ends_with(quotes)) {
        return refuse(
            "it is wrapped in quotes",
            "remove the surrounding quotes (in a .env file they are not part of the value)",
        );
    }
    let Some(scheme) = scheme else {
        return keywords_problem(raw);
    };
    if trimmed.len() != raw.len() {
        return refuse(
            "it starts or ends with whitespace",
            "remove the spaces and line breaks around it",
        );
    }
    match scheme {
        Scheme::Postgres(len) => uri_problem(&raw[len..]),
        Scheme::Other(kind) => {
            let fix = match kind {
                OtherScheme::Jdbc => format!(
                    "remove the jdbc: prefix and give the user and password in the URL, as in \
                     {EXAMPLE}"
                ),
                OtherScheme::Driver => format!(
                    "remove the +driver part (a SQLAlchemy form): use postgres:// or \
                     postgresql://, as in {EXAMPLE}"
                ),
                OtherScheme::Case => "write the scheme in lower case: postgres:// or \
                                      postgresql://"
                    .to_owned(),
                OtherScheme::Unknown => format!(
                    "use a postgres:// or postgresql:// URL, as in {EXAMPLE}, or key=value \
                     pairs such as host=localhost dbname=viben"
                ),
            };
            let problem = match kind {
                OtherScheme::Jdbc => "it is a JDBC URL",
                OtherScheme::Driver => "it names a driver after the scheme",
                OtherScheme::Case => "its scheme is not in lower case",
                OtherScheme::Unknown => "it does not start with postgres:// or postgresql://",
            };
            refuse(problem, fix)
        }
    }
}

enum Scheme {
    /// `postgres://` or `postgresql://`: the length of the prefix.
    Postgres(usize),
    Other(OtherScheme),
}

enum OtherScheme {
    Jdbc,
    Driver,
    Case,
    Unknown,
}

/// The scheme of a string that is meant as a URI: its first word has a `:` before any `=`
/// (a `key=value` string never does).
fn scheme(text: &str) -> Option<Scheme> {
    let first = text.split_whitespace().next()?;
    let first = first.trim_start_matches(['"', '\'', '`']);
    let colon = first.find(':')?;
    if first[..colon].contains('=') {
        return None;
    }
    let lower = first.to_ascii_lowercase();
    for prefix in ["postgresql://", "postgres://"] {
        if first.starts_with(prefix) {
            return Some(Scheme::Postgres(prefix.len()));
        }
    }
    let kind = if lower.starts_with("jdbc:") {
        OtherScheme::Jdbc
    } else if lower.starts_with("postgres") && lower[..colon].contains('+') {
        OtherScheme::Driver
    } else if lower.starts_with("postgresql://") || lower.starts_with("postgres://") {
        OtherScheme::Case
    } else {
        // A first word like `localhost:5432` or a .pgpass line: neither a URI libpq knows nor
        // a key=value pair.
        OtherScheme::Unknown
    };
    Some(Scheme::Other(kind))
}

/// libpq's URI rules (`conninfo_uri_parse_options`): the user info runs up to the first `@`
/// before the first `/`; hosts up to `/` or `?`; `[...]` holds an IPv6 address; the database
/// name up to `?`; then `key=value` parameters separated by `&`. Every part is
/// percent-decoded.
fn uri_problem(rest: &str) -> Option<Problem> {
    let region_end = rest.find('/').unwrap_or(rest.len());
    let region = &rest[..region_end];
    let ats: Vec<usize> = region.match_indices('@').map(|(i, _)| i).collect();
    if ats.len() > 1 {
        let first_colon = region.find(':').unwrap_or(usize::MAX);
        let part = if first_colon < ats[0] {
            "the password"
        } else {
            "the user name"
        };
        return refuse(
            format!("{part} contains an unescaped '@'"),
            "percent-encode each '@' in the user name and password as %40",
        );
    }
    let (userinfo, after) = match ats.first() {
        Some(&at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let (hosts, path, query) = super::split_after_userinfo(after);
    if path.is_some_and(|p| p.contains('@')) {
        return refuse(
            "an '@' comes after the first '/'",
            "percent-encode a '/' in the password as %2F, and an '@' in the database name as %40",
        );
    }
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        // libpq reads `postgres://host?password=a@b` as user `host?password=a`, host `b`:
        // a '?' here is either that or a '?' in the password; both are refused.
        if userinfo.contains('?') {
            return refuse(
                "the user name or password contains a '?' (or a query parameter an unescaped \
                 '@')",
                "percent-encode '?' as %3F and '@' as %40",
            );
        }
        if let Some(problem) = component_problem("the user name", user) {
            return Some(problem);
        }
        if let Some(problem) = password.and_then(|p| component_problem("the password", p)) {
            return Some(problem);
        }
    }
    if let Some(problem) = hosts_problem(hosts) {
        return Some(problem);
    }
    if let Some(path) = path {
        if let Some(problem) = component_problem("the database name", path) {
            return Some(problem);
        }
        if let Some(problem) = option_problem("dbname", &percent_decode(path)) {
            return Some(problem);
        }
    }
    query.and_then(query_problem)
}

/// The host list: `host[:port]` or `[ipv6][:port]`, comma-separated.
fn hosts_problem(hosts: &str) -> Option<Problem> {
    let mut rest = hosts;
    let mut index = 0;
    loop {
        index += 1;
        let (host, port, after) = if let Some(bracketed) = rest.strip_prefix('[') {
            let Some(close) = bracketed.find(']') else {
                return refuse(
                    format!("host {index} opens an IPv6 address with '[' and does not close it"),
                    "write an IPv6 host as [::1]:5432",
                );
            };
            if close == 0 {
                return refuse(
                    format!("host {index} is an empty IPv6 address"),
                    "write an IPv6 host as [::1]:5432",
                );
            }
            let after = &bracketed[close + 1..];
            let (port, after) = match after.strip_prefix(':') {
                Some(port) => {
                    let end = port.find(',').unwrap_or(port.len());
                    (Some(&port[..end]), &port[end..])
                }
                None => (None, after),
            };
            if !after.is_empty() && !after.starts_with(',') {
                return refuse(
                    format!("host {index} has text after its IPv6 address"),
                    "write an IPv6 host as [::1]:5432",
                );
            }
            (&bracketed[..close], port, after)
        } else {
            let end = rest.find([':', ',']).unwrap_or(rest.len());
            let (host, after) = rest.split_at(end);
            let (port, after) = match after.strip_prefix(':') {
                Some(port) => {
                    let end = port.find(',').unwrap_or(port.len());
                    (Some(&port[..end]), &port[end..])
                }
                None => (None, after),
            };
            if host.contains(['[', ']']) {
                return refuse(
                    format!("host {index} contains '[' or ']'"),
                    "write an IPv6 host as [::1]:5432",
                );
            }
            (host, port, after)
        };
        let name = format!("host {index}");
        if let Some(problem) = component_problem(&name, host) {
            return Some(problem);
        }
        if host.contains(['=', '@']) {
            return refuse(
                format!("{name} contains '=' or '@'"),
                "write the host as a name or an address, and percent-encode such characters \
                 in the user name and password",
            );
        }
        if let Some(port) = port {
            if let Some(problem) = component_problem(&format!("the port of {name}"), port) {
                return Some(problem);
            }
            if !port.is_empty() && !is_port(&percent_decode(port)) {
                return refuse(
                    format!("the port of {name} is not a number from 1 to 65535"),
                    "write host:port with a number, as in localhost:5432, put an IPv6 address \
                     in brackets ([::1]:5432), and percent-encode a '/' in the password as %2F",
                );
            }
        }
        match after.strip_prefix(',') {
            Some(next) => rest = next,
            None => return None,
        }
    }
}

/// The `key=value&...` parameters after `?`.
fn query_problem(query: &str) -> Option<Problem> {
    let items: Vec<&str> = query.split('&').collect();
    for (i, item) in items.iter().enumerate() {
        // libpq ends the list at a trailing '&' (but refuses an empty one in the middle).
        if item.is_empty() && i + 1 == items.len() {
            continue;
        }
        let name = format!("query parameter {}", i + 1);
        let Some((key, value)) = item.split_once('=') else {
            return refuse(
                format!("{name} has no '='"),
                "write query parameters as key=value, separated by '&'",
            );
        };
        if value.contains('=') {
            return refuse(
                format!("{name} has more than one '='"),
                "percent-encode an '=' in a value as %3D",
            );
        }
        if let Some(problem) = component_problem(&name, key) {
            return Some(problem);
        }
        let key = percent_decode(key);
        // libpq turns JDBC's ssl=true into sslmode=require.
        if key == "ssl" && value == "true" {
            continue;
        }
        if !OPTIONS.contains(&key.as_str()) {
            return refuse(
                format!("{name} is not an option libpq knows"),
                "use libpq's option names (host, port, dbname, user, password, sslmode, \
                 connect_timeout, application_name, ...)",
            );
        }
        if let Some(problem) = component_problem(&format!("the value of {key}"), value) {
            return Some(problem);
        }
        if let Some(problem) = option_problem(&key, &percent_decode(value)) {
            return Some(problem);
        }
    }
    None
}

/// A percent-encoded part of a URI: libpq refuses a `%` without two hex digits after it, and
/// `%00`, quoting the part; newer libpq refuses spaces too.
fn component_problem(name: &str, text: &str) -> Option<Problem> {
    if text.contains(char::is_whitespace) {
        return refuse(
            format!("{name} contains a space"),
            "percent-encode it as %20",
        );
    }
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('%') {
        let hex = bytes.get(i + 1..i + 3);
        match hex {
            Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => {
                if hex == b"00" {
                    return refuse(
                        format!("{name} contains %00"),
                        "remove it (PostgreSQL cannot take a NUL byte)",
                    );
                }
            }
            _ => {
                return refuse(
                    format!("{name} contains a '%' that is not followed by two hex digits"),
                    "percent-encode a '%' itself as %25",
                );
            }
        }
    }
    None
}

/// libpq's `key=value` rules (`conninfo_parse`): whitespace may surround the `=`; a value is
/// a run of non-whitespace or single-quoted, and in both a backslash takes the next character
/// as is.
fn keywords_problem(raw: &str) -> Option<Problem> {
    let mut rest = raw;
    let mut index = 0;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return None;
        }
        index += 1;
        let pair = format!("key=value pair {index}");
        let key_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        let after = rest[key_end..].trim_start();
        if index == 1 && (key == "export" || is_env_name(key)) {
            return refuse(
                "it is a whole line of a .env file or shell script",
                "give only the value after the '=', without quotes",
            );
        }
        let Some(after) = after.strip_prefix('=') else {
            return refuse(
                format!("{pair} has no '='"),
                "write key=value pairs separated by spaces, and single-quote a value with \
                 spaces, as in password='a b' (or use a URL such as \
                 postgres://user:password@localhost:5432/viben)",
            );
        };
        if key.is_empty() {
            return refuse(
                format!("{pair} has no key before its '='"),
                "write key=value pairs separated by spaces",
            );
        }
        if !OPTIONS.contains(&key) {
            return refuse(
                format!("{pair} is not an option libpq knows"),
                "use libpq's option names (host, port, dbname, user, password, sslmode, \
                 connect_timeout, application_name, ...), and single-quote a value with \
                 spaces, as in password='a b'",
            );
        }
        let after = after.trim_start();
        let quoted = after.starts_with('\'');
        let mut value = String::new();
        let mut chars = after.char_indices();
        if quoted {
            chars.next();
        }
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, next)) = chars.next() {
                        value.push(next);
                    }
                }
                '\'' if quoted => {
                    end = Some(i + 1);
                    break;
                }
                c if !quoted && c.is_whitespace() => {
                    end = Some(i);
                    break;
                }
                c => value.push(c),
            }
        }
        let end = match end {
            Some(end) => end,
            None if quoted => {
                return refuse(
                    format!("the value of {key} opens a quote that is not closed"),
                    "close it with ' (write \\' for a quote inside the value)",
                );
            }
            None => after.len(),
        };
        if !quoted && !is_secret(key) && key != "options" && value.contains('=') {
            return refuse(
                format!("the value of {key} contains '='"),
                "separate key=value pairs with a space, and single-quote a value that \
                 contains '='",
            );
        }
        if let Some(problem) = option_problem(key, &value) {
            return Some(problem);
        }
        rest = &after[end..];
    }
}

/// Values libpq checks itself and quotes in its message when they are wrong.
fn option_problem(key: &str, value: &str) -> Option<Problem> {
    if INTEGER_OPTIONS.contains(&key) {
        let digits = value.trim();
        let digits = digits.strip_prefix(['-', '+']).unwrap_or(digits);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return refuse(
                format!("the value of {key} is not a whole number"),
                format!("write it as digits, as in {key}=10"),
            );
        }
    }
    if let Some((_, choices)) = CHOICES.iter().find(|(k, _)| *k == key) {
        let known = if key.starts_with("ssl_") {
            choices.iter().any(|c| c.eq_ignore_ascii_case(value))
        } else {
            choices.contains(&value)
        };
        if !known {
            return refuse(
                format!("the value of {key} is not one libpq knows"),
                format!("use one of {}", choices.join(", ")),
            );
        }
    }
    match key {
        "port" if !value.split(',').all(|p| p.trim().is_empty() || is_port(p)) => refuse(
            "the port is not a number from 1 to 65535",
            "write it as digits, as in port=5432 (a comma-separated list for several hosts)",
        ),
        "hostaddr"
            if !value
                .split(',')
                .all(|a| a.trim().is_empty() || a.trim().parse::<IpAddr>().is_ok()) =>
        {
            refuse(
                "the value of hostaddr is not an IP address",
                "give a numeric address such as 127.0.0.1 in hostaddr, and a name in host",
            )
        }
        "dbname" if value.contains('=') || value.contains("://") => refuse(
            "the database name looks like a connection string",
            "give the database's name alone",
        ),
        _ => None,
    }
}

/// `POSTGRES_URL`, `DATABASE_URL`: an environment variable's name, never a libpq option.
fn is_env_name(key: &str) -> bool {
    key.bytes().any(|b| b.is_ascii_uppercase())
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn is_port(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && text.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p))
}

use super::percent_decode;
