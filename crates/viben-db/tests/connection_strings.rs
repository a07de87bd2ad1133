//! Malformed connection strings: each is refused (or fails to connect) without any part of its
//! password in the error's Display, Debug or source chain, or in the string's own Display and
//! Debug.

use std::time::Duration;

use viben_db::{ConnectError, DatabaseUrl, Pool};
use viben_model::Hint;

#[path = "fixtures/malformed_urls.rs"]
mod malformed_urls;

use malformed_urls::{MALFORMED, SECRET_PARTS};

/// Display, Debug, the hint and every source of `error`, one after the other.
fn everything_shown(error: &ConnectError) -> String {
    let mut shown = format!("{error}\n{error:?}\n{}", error.hint().unwrap_or_default());
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        shown.push_str(&format!("\n{e}\n{e:?}"));
        source = e.source();
    }
    shown
}

#[track_caller]
fn assert_no_secret(url: &str, shown: &str) {
    for part in SECRET_PARTS {
        assert!(
            !shown.contains(part),
            "{part:?} of the password shown for {url:?}:\n{shown}"
        );
    }
}

fn connect(url: &str) -> ConnectError {
    // Short: a refused connection is tried again until this deadline (a cold start), and
    // these tests are about the messages, not the waiting.
    Pool::builder()
        .url(url)
        .connect_timeout(Duration::from_millis(200))
        .connect()
        .map(|_| ())
        .expect_err("no connection can be made with these strings")
}

#[test]
fn no_part_of_the_password_of_a_malformed_connection_string_is_ever_shown() {
    assert!(MALFORMED.len() >= 20);
    for (url, refusal) in MALFORMED {
        let parsed = DatabaseUrl::new(*url);
        assert_no_secret(url, &format!("{parsed}\n{parsed:?}"));
        let error = connect(url);
        let shown = everything_shown(&error);
        assert_no_secret(url, &shown);
        if refusal.is_empty() {
            assert!(
                matches!(error, ConnectError::Connect { .. }),
                "{url:?}: {shown}"
            );
            assert!(parsed.validate().is_ok(), "{url:?}");
        } else {
            assert!(
                matches!(error, ConnectError::InvalidUrl { .. }),
                "{url:?}: {shown}"
            );
            assert!(
                viben_model::Report(&error).to_string().contains(refusal),
                "{url:?}: {shown}"
            );
            assert_eq!(parsed.to_string(), DatabaseUrl::NOT_SHOWN, "{url:?}");
        }
    }
}

#[test]
fn a_refused_string_says_what_to_do_in_one_lowercase_line() {
    for (url, refusal) in MALFORMED.iter().filter(|(_, r)| !r.is_empty()) {
        let error = connect(url);
        let message = error.to_string();
        assert!(
            message.starts_with("the connection string is not valid: "),
            "{url:?}: {message}"
        );
        let fix = error.hint().expect("a fix");
        assert!(!fix.is_empty() && !fix.ends_with('.'), "{message}");
        assert!(!message.contains('\n') && !fix.contains('\n'), "{message}");
        assert!(
            !message.ends_with('.') && !message.contains("; "),
            "{message}"
        );
        assert!(
            format!("{message}; {fix}").contains(refusal),
            "{message}; {fix}"
        );
    }
}

#[test]
fn an_unescaped_at_sign_in_the_password_says_to_percent_encode_it() {
    let error = connect("postgres://postgres:p@ss:S3cr3t@127.0.0.1:5432/x");
    assert_eq!(
        error.to_string(),
        "the connection string is not valid: the password contains an unescaped '@'"
    );
    assert_eq!(
        error.hint().as_deref(),
        Some("percent-encode each '@' in the user name and password as %40")
    );
}

#[test]
fn well_formed_strings_are_accepted() {
    for url in [
        "postgres://ada:s3cret@db.example.com:6543/viben?sslmode=require",
        "postgresql://ada:p%40ss%3Fw%2Frd@[::1]:5432,db2:5433/viben?connect_timeout=5&ssl=true",
        "postgres://",
        "postgres://ada@/viben?host=%2Fvar%2Frun%2Fpostgresql",
        "postgres://ada:pa:ss#x@db/viben?application_name=it%27s&",
        "host=/tmp port=5439 dbname=x password=hunter2",
        " host = db password = 'it\\'s a \\\\ secret' options='-c search_path=x' ",
        "host=db,db2 port=5432,5433 hostaddr=127.0.0.1,::1 sslmode=verify-full",
        "password=a=b host=db ssl_min_protocol_version=tlsv1.2",
    ] {
        let parsed = DatabaseUrl::new(url);
        assert!(
            parsed.validate().is_ok(),
            "{url:?}: {:?}",
            parsed.validate()
        );
        assert_ne!(parsed.to_string(), DatabaseUrl::NOT_SHOWN);
    }
}
