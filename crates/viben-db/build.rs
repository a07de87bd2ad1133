//! Hashes the migrations (each `<migration>/up.sql` and `<migration>/down.sql`), so the
//! `testing` module names its template database after the migrations it holds and a changed
//! migration gets a fresh template. Other files (the folder's README) do not count: editing
//! them must not make every test server build a new template.

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
    let dir = Path::new(&manifest).join("../../migrations");
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
}
