//! The `viben` binary installs on a machine without PostgreSQL's client library: it links
//! libpq built from source (viben-db's `bundled` feature), never the system's `libpq.so`.
//!
//! What a binary links is decided by its features, which are the same in every profile, so
//! the binary `cargo test` builds answers for the release one too.

use std::process::Command;

#[test]
fn the_viben_binary_does_not_load_the_system_libpq() {
    let binary = env!("CARGO_BIN_EXE_viben");
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .expect("ldd (glibc's libc-bin) lists a binary's shared libraries");
    assert!(output.status.success(), "ldd {binary} failed");
    let libraries = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        libraries.contains("libc.so"),
        "ldd listed no libc, so its output is not what this test expects:\n{libraries}"
    );
    assert!(
        !libraries.contains("libpq"),
        "viben loads the system libpq; build viben-db with its `bundled` feature:\n{libraries}"
    );
}
