//! The one masking rule: which stored values are secrets, and how they are shown to people.
//!
//! Every path that shows a configuration to a person (a `Debug` form, the CLI's tables and its
//! `--json`) goes through here, so a new kind of secret is taught in one place. Two rules apply
//! together:
//!
//! - **by name**: a field whose name says it holds a secret (`api_key`, `bot_token`,
//!   `Authorization`, `x-api-key`, `auth`, `client_secret`, ...) is shown as [`Secret::MASK`];
//! - **by value**: any text that carries a credential in a recognisable form is shown with that
//!   part masked, whatever its field is called: the password (or lone token) in a URL's
//!   `user:password@`, secret-named query parameters, the token part of webhook URLs (Slack
//!   `hooks.slack.com/services/…`, Discord `…/api/webhooks/<id>/<token>`, Telegram
//!   `bot<token>`), and `Bearer`/`Basic` authorization values.
//!
//! ```
//! use viben_model::redact;
//! assert!(redact::is_secret_name("x-api-key"));
//! assert_eq!(
//!     redact::redact_text("https://me:hunter2@example.com/v1"),
//!     "https://me:***@example.com/v1"
//! );
//! ```

use std::borrow::Cow;

use crate::Secret;

/// Words that make a field name secret wherever they stand in it (`bot_token`, `clientSecret`).
const SECRET_WORDS: &[&str] = &[
    "token",
    "secret",
    "secrets",
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "cookie",
    "signature",
    "sig",
    "bearer",
    "apikey",
    "webhook",
];

/// Fragments that make a name secret even run together (`apikey`, `xapikey`, `bottoken`).
const SECRET_FRAGMENTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "privatekey",
    "accesskey",
    "authorization",
    "credential",
    "webhook",
];

/// Words that hold a secret fragment but count tokens rather than hold one (`max_tokens`).
const NOT_SECRET_WORDS: &[&str] = &["tokens", "tokenizer", "tokenization", "tokenized"];

/// Words that, followed by `key`, name a key (`api_key`, `private-key`, `x-api-key`).
const KEY_QUALIFIERS: &[&str] = &[
    "api", "private", "access", "secret", "client", "signing", "auth", "app", "license",
];

/// Whether a field's name says it holds a secret.
///
/// Names are split into words at `_`, `-`, `.`, spaces and lower-to-upper case changes, so
/// `auth` is a secret but `author` is not, and `apiKey`, `x-api-key` and `API_KEY` all are.
pub fn is_secret_name(name: &str) -> bool {
    let words = words(name);
    if words
        .iter()
        .any(|word| SECRET_WORDS.contains(&word.as_str()))
    {
        return true;
    }
    if words.len() == 1 && words[0] == "key" {
        return true;
    }
    if words
        .windows(2)
        .any(|pair| pair[1] == "key" && KEY_QUALIFIERS.contains(&pair[0].as_str()))
    {
        return true;
    }
    words.iter().any(|word| {
        !NOT_SECRET_WORDS.contains(&word.as_str())
            && SECRET_FRAGMENTS
                .iter()
                .any(|fragment| word.contains(fragment))
    })
}

/// Whether a secret-named field holds an address worth showing without its secret part
/// (`webhook_url`) rather than nothing at all.
fn is_address_name(name: &str) -> bool {
    words(name).iter().any(|word| {
        matches!(
            word.as_str(),
            "url" | "uri" | "endpoint" | "webhook" | "hook"
        )
    })
}

/// Lowercase words of a name, split at separators and lower-to-upper case changes.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// The text with every credential it carries in a recognisable form masked; text without one
/// comes back borrowed, unchanged.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim();
    for scheme in ["bearer ", "basic ", "token "] {
        // An authorization value is the scheme and one credential: "Basic plan" is prose.
        if trimmed.is_char_boundary(scheme.len())
            && trimmed[..scheme.len()].eq_ignore_ascii_case(scheme)
            && trimmed[scheme.len()..].len() >= 8
            && !trimmed[scheme.len()..].contains(char::is_whitespace)
        {
            let keep = text.len() - text.trim_start().len() + scheme.len();
            return Cow::Owned(format!("{}{}", &text[..keep], Secret::MASK));
        }
    }
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(after.len());
        out.push_str(&redact_url_rest(&after[..end]));
        rest = &after[end..];
    }
    out.push_str(rest);
    if out == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(out)
    }
}

/// Masks the secret parts of what follows a URL's `scheme://`.
fn redact_url_rest(url: &str) -> String {
    let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
    let (authority, tail) = url.split_at(authority_end);
    let mut out = String::with_capacity(url.len());
    // The last '@' ends the userinfo: an unescaped '@' inside a password must not leak its
    // tail as a "host".
    let host = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(Secret::MASK);
                }
                // A lone userinfo is how tokens ride in URLs (`https://<token>@github.com`).
                None => out.push_str(Secret::MASK),
            }
            out.push('@');
            &authority[at + 1..]
        }
        None => authority,
    };
    out.push_str(host);
    let host = host.to_ascii_lowercase();

    let (path, query_and_fragment) = tail.split_at(tail.find(['?', '#']).unwrap_or(tail.len()));
    out.push_str(&redact_path(&host, path));
    if let Some(query) = query_and_fragment.strip_prefix('?') {
        let (query, fragment) = query.split_at(query.find('#').unwrap_or(query.len()));
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if is_secret_name(name) || is_query_secret(name) => {
                    format!("{name}={}", Secret::MASK)
                }
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
        out.push_str(fragment);
    } else {
        out.push_str(query_and_fragment);
    }
    out
}

/// Query parameter names that carry credentials though they read as ordinary words.
fn is_query_secret(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "key"
            | "code"
            | "sig"
            | "signature"
            | "access_token"
            | "x-amz-signature"
            | "x-goog-signature"
    )
}

/// Masks the token part of a URL path: what follows a `hooks`/`webhooks` segment, the path of a
/// `hooks.` host past its first segment (Slack), and Telegram's `bot<id>:<token>` segment.
fn redact_path(host: &str, path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    // segments[0] is the empty text before the leading '/'.
    let mut keep = segments.len();
    for (index, segment) in segments.iter().enumerate().skip(1) {
        let lower = segment.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "hooks" | "hook" | "webhook" | "webhooks" | "webhookb2"
        ) && index + 1 < segments.len()
        {
            keep = index + 1;
            break;
        }
        if host.starts_with("hooks.") && index == 1 && segments.len() > 2 {
            keep = 2;
            break;
        }
        if is_telegram_bot_token(segment) {
            keep = index;
            break;
        }
    }
    if keep >= segments.len() {
        return path.to_owned();
    }
    let mut out = segments[..keep].join("/");
    out.push('/');
    if keep < segments.len() && is_telegram_bot_token(segments[keep]) {
        out.push_str("bot");
    }
    out.push_str(Secret::MASK);
    out
}

/// `bot123456:AAE…`, the form Telegram puts a bot's token in its API paths.
fn is_telegram_bot_token(segment: &str) -> bool {
    segment
        .strip_prefix("bot")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(id, token)| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !token.is_empty()
        })
}

/// Masks a JSON value in place: secret-named fields at any depth, and credentials in any text.
pub fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (name, field) in map.iter_mut() {
                redact_json_field(name, field);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::String(text) => {
            if let Cow::Owned(masked) = redact_text(text) {
                *text = masked;
            }
        }
        _ => {}
    }
}

fn redact_json_field(name: &str, field: &mut serde_json::Value) {
    if !is_secret_name(name) || field.is_null() {
        return redact_json(field);
    }
    if let serde_json::Value::String(text) = field
        && is_address_name(name)
    {
        *text = mask_address(text);
        return;
    }
    *field = Secret::MASK.into();
}

/// Masks a YAML value in place, by the same rule as [`redact_json`].
pub fn redact_yaml(value: &mut serde_yaml::Value) {
    match value {
        serde_yaml::Value::Mapping(map) => redact_mapping(map),
        serde_yaml::Value::Sequence(items) => items.iter_mut().for_each(redact_yaml),
        serde_yaml::Value::Tagged(tagged) => redact_yaml(&mut tagged.value),
        serde_yaml::Value::String(text) => {
            if let Cow::Owned(masked) = redact_text(text) {
                *text = masked;
            }
        }
        _ => {}
    }
}

/// Masks a YAML mapping (a record's unknown fields, a channel's settings) in place.
pub fn redact_mapping(map: &mut serde_yaml::Mapping) {
    for (key, field) in map.iter_mut() {
        let name = match key {
            serde_yaml::Value::String(name) => name.as_str(),
            _ => "",
        };
        if !is_secret_name(name) || field.is_null() {
            redact_yaml(field);
            continue;
        }
        if let serde_yaml::Value::String(text) = field
            && is_address_name(name)
        {
            *text = mask_address(text);
            continue;
        }
        *field = serde_yaml::Value::String(Secret::MASK.to_owned());
    }
}

/// A secret-named address with its credentials masked; when no known part could be masked, only
/// its scheme and host are kept, since the whole of it may be the secret.
fn mask_address(text: &str) -> String {
    let masked = redact_text(text);
    if let Cow::Owned(masked) = masked {
        return masked;
    }
    match text.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let host = &rest[..end];
            let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
            format!("{scheme}://{host}/{}", Secret::MASK)
        }
        None => Secret::MASK.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_recognised_by_word_not_by_substring() {
        for name in [
            "api_key",
            "apiKey",
            "API_KEY",
            "x-api-key",
            "api-key",
            "Authorization",
            "auth",
            "bot_token",
            "client_secret",
            "password",
            "private_key",
            "webhook_url",
            "key",
            "xapikey",
            "Cookie",
        ] {
            assert!(is_secret_name(name), "{name} should be secret");
        }
        for name in [
            "author",
            "chat_id",
            "model",
            "base_url",
            "keyboard",
            "name",
            "sort_key",
            "max_tokens",
        ] {
            assert!(!is_secret_name(name), "{name} should not be secret");
        }
    }

    #[test]
    fn credentials_in_urls_are_masked() {
        let cases = [
            ("https://u:p@h/x", "https://u:***@h/x"),
            ("https://tok@github.com/a", "https://***@github.com/a"),
            ("postgres://a:p@ss:w@h:5432/d", "postgres://a:***@h:5432/d"),
            (
                "https://hooks.slack.com/services/T0/B0/XyZ",
                "https://hooks.slack.com/services/***",
            ),
            (
                "https://discord.com/api/webhooks/123/abc-TOKEN",
                "https://discord.com/api/webhooks/***",
            ),
            (
                "https://api.telegram.org/bot123:AAE-x/sendMessage",
                "https://api.telegram.org/bot***",
            ),
            (
                "https://h/v1?api_key=s3&model=x&token=t#frag",
                "https://h/v1?api_key=***&model=x&token=***#frag",
            ),
            ("Bearer sk-123456", "Bearer ***"),
            ("Basic plan", "Basic plan"),
            ("see https://u:p@h and more", "see https://u:***@h and more"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_text(input), expected, "{input}");
        }
        assert!(matches!(
            redact_text("https://api.example.com/v1"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(redact_text("plain words"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_and_yaml_follow_the_same_rule() {
        let mut json = serde_json::json!({
            "headers": {"Authorization": "Bearer x", "x-api-key": "k", "Accept": "a"},
            "webhook_url": "https://example.com/custom/abc",
            "auth": {"user": "u", "pass": "p"},
            "base_url": "https://u:p@h",
        });
        redact_json(&mut json);
        assert_eq!(json["headers"]["Authorization"], "***");
        assert_eq!(json["headers"]["x-api-key"], "***");
        assert_eq!(json["headers"]["Accept"], "a");
        assert_eq!(json["webhook_url"], "https://example.com/***");
        assert_eq!(json["auth"], "***");
        assert_eq!(json["base_url"], "https://u:***@h");

        let mut yaml: serde_yaml::Value =
            serde_yaml::from_str("headers: {api-key: k}\nendpoint: 'https://u:p@h'\n").unwrap();
        redact_yaml(&mut yaml);
        assert_eq!(yaml["headers"]["api-key"], "***");
        assert_eq!(yaml["endpoint"], "https://u:***@h");
    }
}
