//! Who may use the studio: whoever holds this run's token, from this machine, and only from
//! the studio's own pages when changing something.
//!
//! - The token (128 random bits) is in the URL `viben studio` prints; the first request that
//!   carries it gets it back as an `HttpOnly`, `SameSite=Strict` cookie and is redirected to
//!   the same page without it, so it does not linger in the address bar or the history.
//! - Every request needs the cookie; the `Host` header must name the studio's own address,
//!   so a web page that rebinds its DNS name to 127.0.0.1 is refused too.
//! - Every change is a POST whose form carries a second per-run value (the form token) and
//!   whose `Origin`, when the browser sends one, is the studio's own: another site cannot
//!   make a person's browser change anything ([`Protected`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, RawForm, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

use crate::pages::{AppState, PageError};

/// This run's secrets and the addresses the studio answers on.
pub(crate) struct Access {
    token: String,
    form_token: String,
    port: u16,
}

impl Access {
    /// New random secrets for a studio listening on `port`.
    pub(crate) fn new(port: u16) -> Self {
        Self {
            token: random_token(),
            form_token: random_token(),
            port,
        }
    }

    /// The token the printed URL carries.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// The value every form carries in its `form_token` field.
    pub(crate) fn form_token(&self) -> &str {
        &self.form_token
    }

    fn cookie_name(&self) -> String {
        // One name per port: two studios on one machine must not overwrite each other's cookie
        // (cookies are kept per host, not per port).
        format!("viben_studio_{}", self.port)
    }

    fn host_allowed(&self, host: &str) -> bool {
        host == format!("127.0.0.1:{}", self.port) || host == format!("localhost:{}", self.port)
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        origin
            .strip_prefix("http://")
            .is_some_and(|host| self.host_allowed(host))
    }

    fn cookie_matches(&self, headers: &HeaderMap) -> bool {
        let name = self.cookie_name();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(key, value)| key == name && same(value, &self.token))
    }
}

/// 128 bits from the operating system's generator, as 32 hex digits.
fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Compares two secrets in time that does not depend on where they first differ.
fn same(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The middleware in front of every route: the host, the token, the origin of changes, and
/// headers that keep pages out of frames, caches and referrers.
pub(crate) async fn guard(
    State(state): State<Arc<AppState>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let access = &state.access;
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if !access.host_allowed(host) {
        return refuse(
            StatusCode::FORBIDDEN,
            "this address is not the studio's",
            "open the URL that `viben studio` printed (http://127.0.0.1:…)",
        );
    }
    if let Some(given) = token_in_query(request.uri().query()) {
        if !same(&given, access.token()) {
            return refuse(
                StatusCode::FORBIDDEN,
                "this link's token is not this run's",
                "open the URL that the running `viben studio` printed (each run has its own)",
            );
        }
        return enter(access, request.uri().path(), request.uri().query());
    }
    if !access.cookie_matches(request.headers()) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "the studio needs this run's token",
            "open the URL that `viben studio` printed: it carries the token",
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let headers = request.headers();
        let origin_ok = headers
            .get(header::ORIGIN)
            .and_then(|value| value.to_str().ok())
            .is_none_or(|origin| access.origin_allowed(origin));
        let site_ok = headers
            .get("sec-fetch-site")
            .and_then(|value| value.to_str().ok())
            .is_none_or(|site| site == "same-origin" || site == "none");
        if !origin_ok || !site_ok {
            return refuse(
                StatusCode::FORBIDDEN,
                "a change was sent from another site",
                "make changes from the studio's own pages",
            );
        }
    }
    let mut response = next.run(request).await;
    secure_headers(response.headers_mut());
    response
}

/// The `token` parameter of a query string, if any.
fn token_in_query(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "token")
        .map(|(_, value)| value.to_owned())
}

/// Sets the cookie and sends the browser to the same page without the token in its URL.
fn enter(access: &Access, path: &str, query: Option<&str>) -> Response {
    let rest: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("token="))
        .collect();
    let target = if rest.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", rest.join("&"))
    };
    let mut response = Redirect::to(&target).into_response();
    let cookie = format!(
        "{}={}; HttpOnly; SameSite=Strict; Path=/",
        access.cookie_name(),
        access.token()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    secure_headers(response.headers_mut());
    response
}

fn refuse(status: StatusCode, message: &str, hint: &str) -> Response {
    let mut response = PageError::Refused {
        status,
        message: message.to_owned(),
        hint: hint.to_owned(),
    }
    .into_response();
    secure_headers(response.headers_mut());
    response
}

fn secure_headers(headers: &mut HeaderMap) {
    let fixed: [(&str, &str); 5] = [
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        // Not `no-referrer`: with it, browsers send `Origin: null` on the studio's own form posts.
        ("referrer-policy", "same-origin"),
        ("cache-control", "no-store"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// A form that changes something: its `form_token` field must be this run's, checked before
/// the handler sees the fields (`T`).
pub(crate) struct Protected<T>(pub(crate) T);

#[derive(serde::Deserialize)]
struct FormToken {
    form_token: Option<String>,
}

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for Protected<T> {
    type Rejection = PageError;

    async fn from_request(
        request: Request<Body>,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let RawForm(bytes) = RawForm::from_request(request, state)
            .await
            .map_err(|rejection| PageError::BadRequest(rejection.body_text()))?;
        let token: FormToken = serde_urlencoded::from_bytes(&bytes)
            .map_err(|err| PageError::BadRequest(format!("the form could not be read: {err}")))?;
        if !token
            .form_token
            .is_some_and(|given| same(&given, state.access.form_token()))
        {
            return Err(PageError::Refused {
                status: StatusCode::FORBIDDEN,
                message: "this form is not from this run of the studio".to_owned(),
                hint: "reload the page and send the form again".to_owned(),
            });
        }
        let fields = serde_urlencoded::from_bytes(&bytes)
            .map_err(|err| PageError::BadRequest(format!("the form could not be read: {err}")))?;
        Ok(Self(fields))
    }
}

/// The hidden field every form of the studio carries.
pub(crate) fn form_token_field(state: &AppState) -> maud::Markup {
    maud::html! { input type="hidden" name="form_token" value=(state.access.form_token()); }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same("abc", "abc"));
        assert!(!same("abd", "abc"));
        assert!(!same("ab", "abc"));
    }

    #[test]
    fn only_the_studios_own_host_and_origin_are_allowed() {
        let access = Access::new(4000);
        assert!(access.host_allowed("127.0.0.1:4000"));
        assert!(access.host_allowed("localhost:4000"));
        assert!(!access.host_allowed("evil.example:4000"));
        assert!(!access.host_allowed("127.0.0.1:4001"));
        assert!(access.origin_allowed("http://127.0.0.1:4000"));
        assert!(!access.origin_allowed("https://127.0.0.1:4000.evil.example"));
        assert!(!access.origin_allowed("null"));
    }

    #[test]
    fn the_token_is_taken_from_the_query_and_dropped_from_the_redirect() {
        assert_eq!(
            token_in_query(Some("a=1&token=xyz")),
            Some("xyz".to_owned())
        );
        assert_eq!(token_in_query(Some("tokens=1")), None);
        let access = Access::new(1);
        let response = enter(&access, "/users", Some("token=t&after=x"));
        assert_eq!(
            response
                .headers()
                .get(header::LOCATION)
                .map(|v| v.to_str().ok()),
            Some(Some("/users?after=x"))
        );
    }
}
