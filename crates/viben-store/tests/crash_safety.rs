//! Rewrites go through a temporary file; leftovers of crashed writers are ignored and cleaned.

mod common;

use std::fs::{self, File};
use std::time::{Duration, SystemTime};

use common::{seed_store, write};
use viben_store::Severity;

fn age(path: &std::path::Path, by: Duration) {
    let file = File::options()
        .write(true)
        .open(path)
        .expect("open the file");
    file.set_modified(SystemTime::now() - by)
        .expect("set its mtime");
}

#[test]
fn a_successful_write_leaves_no_temporary_file() {
    let t = seed_store();
    t.store
        .models()
        .add(viben_model::ModelEntry::new("x", "anthropic"))
        .unwrap();
    let names: Vec<_> = fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
    assert!(names.contains(&".models.yaml.lock".to_owned()), "{names:?}");
}

#[test]
fn leftover_temporary_files_are_never_read_as_data() {
    let t = seed_store();
    let root = t.dir.path();
    write(
        root,
        "agents/my-agent/.config.yaml.tmp-1-abc",
        "id: my-agent\nname: Torn",
    );
    write(root, "providers/.openai.yaml.tmp-1-abc", "name: op");
    write(root, ".models.yaml.tmp-1-abc", "");
    assert_eq!(t.store.agents().get("my-agent").unwrap().name, "My Agent");
    assert_eq!(t.store.providers().list().unwrap().items.len(), 2);
    assert_eq!(t.store.providers().list().unwrap().errors.len(), 0);
    assert_eq!(t.store.models().document().unwrap().models.len(), 2);
    let problems = t.store.check();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems.iter().all(|p| p.severity == Severity::Warning));
}

#[test]
fn stale_temporary_files_are_cleaned_and_fresh_ones_kept() {
    let t = seed_store();
    let root = t.dir.path();
    write(root, "agents/my-agent/.config.yaml.tmp-1-01d", "x");
    write(root, "agents/my-agent/.config.yaml.tmp-2-2e3", "x");
    write(root, ".models.yaml.tmp-3-01d", "x");
    age(
        &root.join("agents/my-agent/.config.yaml.tmp-1-01d"),
        Duration::from_secs(3600),
    );
    age(
        &root.join(".models.yaml.tmp-3-01d"),
        Duration::from_secs(3600),
    );
    let removed = t.store.clean_temp_files().unwrap();
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert!(!root.join("agents/my-agent/.config.yaml.tmp-1-01d").exists());
    assert!(
        root.join("agents/my-agent/.config.yaml.tmp-2-2e3").exists(),
        "a live writer's file stays"
    );
}

#[test]
fn a_write_cleans_its_own_stale_temporary_files() {
    let t = seed_store();
    let root = t.dir.path();
    write(root, "agents/my-agent/.config.yaml.tmp-1-01d", "x");
    age(
        &root.join("agents/my-agent/.config.yaml.tmp-1-01d"),
        Duration::from_secs(3600),
    );
    t.store
        .agents()
        .update("my-agent", |a| {
            a.name = "Renamed".into();
            Ok(())
        })
        .unwrap();
    assert!(!root.join("agents/my-agent/.config.yaml.tmp-1-01d").exists());
}

#[test]
fn a_lock_file_whose_provider_name_contains_tmp_is_never_cleaned_as_a_temporary_file() {
    let t = seed_store();
    let root = t.dir.path();
    // Providers whose lock files look like temporary files to a loose pattern.
    for name in ["acme.tmp-eu", "acme.yaml.tmp-1-a"] {
        t.store
            .providers()
            .set(&viben_model::ProviderConfig::new(name))
            .expect("set the provider");
    }
    let locks = [
        root.join("providers/.acme.tmp-eu.yaml.lock"),
        root.join("providers/.acme.yaml.tmp-1-a.yaml.lock"),
    ];
    let stale_temp = root.join("providers/.acme.yaml.tmp-12-f00d");
    write(root, "providers/.acme.yaml.tmp-12-f00d", "x");
    for path in locks.iter().chain([&stale_temp]) {
        assert!(path.exists(), "{}", path.display());
        age(path, Duration::from_secs(3600));
    }
    // Opening the store, a write of provider `acme` and a sweep all clean temporary files.
    let store = viben_store::Store::open(root).expect("open the store");
    store
        .providers()
        .set(&viben_model::ProviderConfig::new("acme"))
        .expect("set the provider");
    store.clean_temp_files().expect("sweep");
    for lock in &locks {
        assert!(lock.exists(), "{} was deleted", lock.display());
    }
    assert!(!stale_temp.exists(), "the real temporary file was kept");
    let problems = store.check();
    assert!(
        !problems.iter().any(|p| p.message.contains("temporary")),
        "{problems:?}"
    );
}

#[test]
fn an_agent_folder_left_by_a_crashed_delete_is_swept_when_stale() {
    let t = seed_store();
    let root = t.dir.path();
    write(root, "agents/.gone.deleted-12-ab/config.yaml", "id: gone");
    write(root, "agents/.fresh.deleted-12-cd/config.yaml", "id: fresh");
    let stale = root.join("agents/.gone.deleted-12-ab");
    let file = File::open(&stale).expect("open the folder");
    file.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .expect("set its mtime");
    let removed = t.store.clean_temp_files().expect("sweep");
    assert_eq!(removed, std::slice::from_ref(&stale));
    assert!(!stale.exists());
    assert!(root.join("agents/.fresh.deleted-12-cd").exists());
    assert_eq!(t.store.agents().list().expect("list").items.len(), 1);
}
