//! The architecture invariants of `docs/architecture.md`, checked as plain tests (in the spirit of
//! rust-analyzer's `tidy.rs`), so a change that breaks one fails CI instead of a review.

use std::collections::BTreeSet;
use std::path::Path;

/// The names in the `[section]` table of a crate's `Cargo.toml`.
fn dependency_names(krate: &str, section: &str) -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&path).expect("the crate's Cargo.toml is readable");
    let header = format!("[{section}]");
    text.lines()
        .skip_while(|line| line.trim() != header)
        .skip(1)
        .take_while(|line| !line.starts_with('['))
        .filter_map(|line| line.split(['=', '.']).next())
        .map(str::trim)
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|name| name.to_string()).collect()
}

#[test]
fn viben_model_does_no_io_and_knows_nothing_of_diesel_or_file_formats() {
    let allowed = names(&[
        "chrono",
        // Optional (feature `schemars`): derives the JSON Schemas of the files; no I/O.
        "schemars",
        "serde",
        "serde_json",
        "serde_yaml",
        "thiserror",
        // Pure Unicode tables: ids are compared in one normalization form (NFC/NFD).
        "unicode-normalization",
        "uuid",
    ]);
    let deps = dependency_names("viben-model", "dependencies");
    assert!(
        deps.is_subset(&allowed),
        "viben-model depends on {deps:?}; allowed: {allowed:?}"
    );
}

#[test]
fn viben_store_does_not_link_libpq() {
    let deps = dependency_names("viben-store", "dependencies");
    for forbidden in ["viben-db", "diesel", "diesel_migrations", "r2d2", "pq-sys"] {
        assert!(
            !deps.contains(forbidden),
            "viben-store depends on {forbidden}"
        );
    }
    assert!(deps.contains("viben-model"), "{deps:?}");
}

#[test]
fn the_studio_is_on_the_top_floor_beside_the_cli() {
    for krate in ["viben-model", "viben-db", "viben-store"] {
        let deps = dependency_names(krate, "dependencies");
        assert!(
            !deps.contains("viben-studio"),
            "{krate} depends on the studio"
        );
    }
}

#[test]
fn viben_db_does_not_depend_on_the_store() {
    let deps = dependency_names("viben-db", "dependencies");
    assert!(!deps.contains("viben-store"), "{deps:?}");
}

#[test]
fn every_crate_uses_the_workspace_lints_and_its_readme_as_top_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for krate in [
        "viben-model",
        "viben-db",
        "viben-store",
        "viben-cli",
        "viben-studio",
    ] {
        let manifest = std::fs::read_to_string(root.join("crates").join(krate).join("Cargo.toml"))
            .expect("Cargo.toml is readable");
        assert!(
            manifest.contains("[lints]\nworkspace = true"),
            "{krate} does not use [lints] workspace = true"
        );
    }
    for krate in ["viben-model", "viben-db", "viben-store", "viben-studio"] {
        let lib = std::fs::read_to_string(root.join("crates").join(krate).join("src/lib.rs"))
            .expect("lib.rs is readable");
        assert!(
            lib.starts_with("#![doc = include_str!(\"../README.md\")]"),
            "{krate}'s top doc is not its README"
        );
    }
}
