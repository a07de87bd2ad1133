//! Two things about the top-level `migrations/` folder, for the crate to compile in:
//!
//! - a hash of the migrations (each `<migration>/up.sql` and `<migration>/down.sql`), so the
//!   `testing` module names its template database after the migrations it holds and a changed
//!   migration gets a fresh template. Other files (the folder's README, the snapshots) do not
//!   count: editing them must not make every test server build a new template;
//! - `snapshots.rs` in `OUT_DIR`: each migration's version and its generated schema snapshot
//!   (`<migration>/schema.json`), embedded like the migrations themselves. A migration without
//!   a snapshot is listed with none; `tests/schema_snapshots.rs` says how to make it.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            for name in ["up.sql", "down.sql"] {
                let file = path.join(name);
                if file.is_file() {
                    out.push(file);
                }
            }
        }
    }
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let dir = Path::new(&manifest).join("migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    paths.sort();
    // FNV-1a, 64 bits: stable across Rust versions, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in paths {
        let name = path
            .strip_prefix(&dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let content = std::fs::read(&path).unwrap_or_default();
        for byte in name.bytes().chain([0]).chain(content).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rustc-env=VIBEN_MIGRATIONS_HASH={hash:016x}");
    write_snapshots(&dir);
}

/// Writes `OUT_DIR/snapshots.rs`: `const SNAPSHOTS: &[Snapshot]`, one per migration folder in
/// version order, with `include_str!` of its `schema.json` where there is one.
fn write_snapshots(dir: &Path) {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.join("up.sql").is_file())
        .collect();
    folders.sort();
    let mut code = String::from("const SNAPSHOTS: &[Snapshot] = &[\n");
    for folder in folders {
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Diesel's version: the name up to the first '_', without its dashes.
        let version = name.split('_').next().unwrap_or_default().replace('-', "");
        let snapshot = folder.join("schema.json");
        println!("cargo:rerun-if-changed={}", snapshot.display());
        let schema = if snapshot.is_file() {
            format!("Some(include_str!({:?}))", snapshot.display().to_string())
        } else {
            "None".to_owned()
        };
        code.push_str(&format!(
            "    Snapshot {{ version: {version:?}, schema: {schema} }},\n"
        ));
    }
    code.push_str("];\n");
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".to_owned());
    if let Err(err) = std::fs::write(Path::new(&out).join("snapshots.rs"), code) {
        panic!("cannot write snapshots.rs in OUT_DIR: {err}");
    }
}
