//! Helpers shared by the integration tests: a store in its own temporary folder.

#![allow(dead_code, unreachable_pub)]

use std::fs;
use std::path::Path;

use viben_store::Store;

/// A store in a fresh temporary folder, removed when the guard drops.
pub struct TempStore {
    pub dir: tempfile::TempDir,
    pub store: Store,
}

pub fn temp_store() -> TempStore {
    let dir = tempfile::tempdir().expect("create a temporary folder");
    // Private, as the store makes its root (`check` warns about a root others may enter).
    fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("make the folder private");
    let store = Store::open(dir.path()).expect("open the store");
    TempStore { dir, store }
}

/// Writes `content` to `rel` under `root`, creating folders, as a person with an editor would.
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("a parent folder")).expect("create folders");
    fs::write(&path, content).expect("write the file");
}

pub fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).expect("read the file")
}

pub const SEED_AGENT: &str =
    include_str!("../../../viben-model/tests/fixtures/seed-agent-config.yaml");

pub const SEED_MODELS: &str = include_str!("../../../viben-model/tests/fixtures/seed-models.yaml");

/// The seed's agent and models, plus providers for both, written by hand.
pub fn seed_store() -> TempStore {
    let t = temp_store();
    let root = t.dir.path();
    write(root, "agents/my-agent/config.yaml", SEED_AGENT);
    write(root, "models.yaml", SEED_MODELS);
    write(
        root,
        "providers/anthropic.yaml",
        "name: anthropic\napi_key_env: ANTHROPIC_API_KEY\n",
    );
    write(
        root,
        "providers/openai.yaml",
        "name: openai\napi_key_env: OPENAI_API_KEY\n",
    );
    t
}
