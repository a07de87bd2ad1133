//! TLS against a server with a certificate these tests make (openssl): `sslmode=require` and
//! `sslmode=verify-full` work through the pool, and a certificate signed by another authority
//! is refused with an error that says so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use diesel::prelude::*;
use diesel::sql_types::Bool;
use viben_db::testing::LocalServer;
use viben_db::{ConnectError, Pool};
use viben_model::{Chain, Hint};

/// Runs openssl in `dir`, failing loudly when it is missing or fails.
fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run openssl ({e}): the TLS tests make their certificates with it; \
                 install it (Debian and Ubuntu: `apt-get install openssl`)"
            )
        });
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A certificate authority (`<name>.crt`, `<name>.key`) in `dir`.
fn make_ca(dir: &Path, name: &str) -> PathBuf {
    let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "2",
            "-subj",
            &format!("/CN=viben test {name}"),
        ],
    );
    dir.join(crt)
}

/// The server: TLS on, with a certificate for localhost and 127.0.0.1 signed by `ca`; and the
/// folder holding `ca.crt` and `other-ca.crt` (an authority that signed nothing here).
struct TlsServer {
    server: LocalServer,
    ca: PathBuf,
    other_ca: PathBuf,
    _dir: tempfile::TempDir,
}

fn tls_server() -> &'static TlsServer {
    static SERVER: OnceLock<TlsServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let ca = make_ca(dir.path(), "ca");
        let other_ca = make_ca(dir.path(), "other-ca");
        std::fs::write(
            dir.path().join("server.ext"),
            "subjectAltName = DNS:localhost, IP:127.0.0.1\n",
        )
        .expect("writing server.ext");
        openssl(
            dir.path(),
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        );
        openssl(
            dir.path(),
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        );
        let server = LocalServer::create(&[
            ("ssl", "on"),
            ("ssl_cert_file", "server.crt"),
            ("ssl_key_file", "server.key"),
        ])
        .unwrap_or_else(|e| panic!("{}", Chain(&e)));
        // Statics are never dropped: the watchdog stops it when the tests end.
        server.watch().unwrap_or_else(|e| panic!("{}", Chain(&e)));
        for (name, mode) in [("server.crt", 0o644), ("server.key", 0o600)] {
            let contents = std::fs::read(dir.path().join(name)).expect("reading what openssl made");
            server
                .install_file(name, &contents, mode)
                .unwrap_or_else(|e| panic!("{}", Chain(&e)));
        }
        server.restart().unwrap_or_else(|e| panic!("{}", Chain(&e)));
        TlsServer {
            server,
            ca,
            other_ca,
            _dir: dir,
        }
    })
}

/// The server's URL on `host`, with a password (the server trusts everyone, so it only has to
/// stay out of the messages) and the given query parameters.
fn url(host: &str, params: &str) -> String {
    let port = tls_server().server.port();
    format!("postgres://postgres:pw-secret-7Qx@{host}:{port}/postgres?{params}")
}

#[derive(QueryableByName)]
struct Ssl {
    #[diesel(sql_type = Bool)]
    ssl: bool,
}

fn uses_tls(pool: &Pool) -> bool {
    let mut conn = pool.get().expect("a pooled connection");
    diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result::<Ssl>(&mut conn)
        .expect("reading pg_stat_ssl")
        .ssl
}

#[test]
fn sslmode_require_connects_over_tls() {
    let pool = Pool::builder()
        .url(url("127.0.0.1", "sslmode=require"))
        .build()
        .unwrap_or_else(|e| panic!("{}", Chain(&e)));
    assert!(uses_tls(&pool));
}

#[test]
fn sslmode_verify_full_connects_with_the_right_root_certificate() {
    let root = tls_server().ca.display().to_string();
    for host in ["localhost", "127.0.0.1"] {
        let pool = Pool::builder()
            .url(url(
                host,
                &format!("sslmode=verify-full&sslrootcert={root}"),
            ))
            .build()
            .unwrap_or_else(|e| panic!("{host}: {}", Chain(&e)));
        assert!(uses_tls(&pool), "{host}");
    }
}

#[test]
fn another_authoritys_root_certificate_is_refused_saying_so_without_the_password() {
    let root = tls_server().other_ca.display().to_string();
    for mode in ["verify-ca", "verify-full"] {
        let err = Pool::builder()
            .url(url(
                "localhost",
                &format!("sslmode={mode}&sslrootcert={root}"),
            ))
            .build()
            .unwrap_err();
        assert!(matches!(err, ConnectError::Connect { .. }), "{err:?}");
        let chain = Chain(&err).to_string();
        assert!(chain.contains("certificate verify failed"), "{chain}");
        let hint = err.hint().unwrap_or_default();
        assert!(hint.contains("sslrootcert"), "{hint}");
        let shown = format!("{chain} {err:?} {hint}");
        assert!(!shown.contains("pw-secret-7Qx"), "{shown}");
    }
}

#[test]
fn a_host_name_the_certificate_does_not_name_is_refused_under_verify_full() {
    let root = tls_server().ca.display().to_string();
    // The certificate names localhost and 127.0.0.1; hostaddr reaches the same server under a
    // host name the certificate does not carry.
    let port = tls_server().server.port();
    let err = Pool::builder()
        .url(format!(
            "postgres://postgres:pw-secret-7Qx@viben-elsewhere.test:{port}/postgres?\
             hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={root}"
        ))
        .build()
        .unwrap_err();
    let chain = Chain(&err).to_string();
    assert!(chain.contains("does not match host name"), "{chain}");
    assert!(err.hint().unwrap_or_default().contains("host name"));
    assert!(!format!("{chain} {err:?}").contains("pw-secret-7Qx"));
}
