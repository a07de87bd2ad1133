//! Backups and restores of a whole store: round trips, secrets left out, the refusals of a
//! restore (a store in the way, hostile or broken archives), and that a refused restore
//! changes nothing.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use common::{read, seed_store, temp_store, write};
use flate2::Compression;
use flate2::write::GzEncoder;
use viben_model::{Channel, ChannelKind, Message, MessageRole, SessionMeta};
use viben_store::{BackupError, BackupOptions, RestoreOptions, SkipReason, Store, UnsafeEntry};

/// A store with a bit of everything: agents, providers (one with an inline key), models,
/// channels (a token inline and one by variable), a session with messages, telemetry.
fn full_store() -> common::TempStore {
    let t = seed_store();
    let root = t.dir.path();
    write(
        root,
        "providers/local.yaml",
        "name: local\napi_key: sk-live-very-secret\nbase_url: https://me:hunter2@llm.example.com/v1\n",
    );
    fs::set_permissions(
        root.join("providers/local.yaml"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("make the file private");
    let mut tg = Channel::new("tg", ChannelKind::Telegram, "my-agent");
    tg.settings.insert("chat_id".into(), 42.into());
    tg.settings
        .insert("bot_token".into(), "123:TOKENSECRET".into());
    t.store.channels().set(tg).expect("set the channel");
    let mut slack = Channel::new("slack", ChannelKind::Slack, "my-agent");
    slack
        .settings
        .insert("bot_token_env".into(), "SLACK_BOT_TOKEN".into());
    t.store.channels().set(slack).expect("set the channel");
    let meta = SessionMeta::new("my-agent", Some("chat".into()));
    t.store
        .sessions()
        .create(&meta)
        .expect("create the session");
    for text in ["hello", "my password is not a field, only text: token=abc"] {
        t.store
            .sessions()
            .append(&meta.id, &Message::new(MessageRole::User, text))
            .expect("append the message");
    }
    write(
        root,
        "telemetry/logs/2026-11-30.jsonl",
        "{\"time\":\"2026-11-30T10:00:00Z\",\"body\":\"call\",\"attributes\":{\"http.request.header.authorization\":\"Bearer SECRETBEARER\",\"http.status\":200}}\n\
         {\"time\":\"2026-11-30T10:00:01Z\",\"body\":\"plain\"}\n",
    );
    t
}

fn backup(store: &Store, include_secrets: bool) -> (Vec<u8>, viben_store::BackupReport) {
    let mut archive = Vec::new();
    let report = store
        .backup(&mut archive, BackupOptions { include_secrets }, |_, _| {})
        .expect("back up the store");
    (archive, report)
}

fn restore(
    root: &Path,
    archive: &[u8],
    options: RestoreOptions,
) -> Result<viben_store::RestoreReport, BackupError> {
    Store::open(root)
        .expect("open the store")
        .restore(archive, options, |_| {})
}

/// Every regular file under `root` with its content, lock files left out.
fn files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in fs::read_dir(dir).expect("list the folder") {
            let entry = entry.expect("read the folder entry");
            let path = entry.path();
            if entry.file_type().expect("inspect the entry").is_dir() {
                walk(root, &path, out);
            } else if !entry.file_name().to_string_lossy().ends_with(".lock") {
                out.push((
                    path.strip_prefix(root)
                        .expect("the path is under the root")
                        .to_owned(),
                    fs::read(&path).expect("read the file"),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// The entry names of a `.tar.gz`.
fn entry_names(archive: &[u8]) -> Vec<String> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    tar.entries()
        .expect("read the archive")
        .map(|e| {
            e.expect("read the entry")
                .path()
                .expect("read the entry name")
                .display()
                .to_string()
        })
        .collect()
}

/// A store root alone in a temporary folder, so its neighbours are only what a restore makes.
fn store_in_own_folder() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("create a temporary folder");
    let root = dir.path().join("store");
    fs::create_dir(&root).expect("create the folder");
    (dir, root)
}

/// Names the siblings of `dir` (to see that a restore left no folder of its own behind).
fn siblings(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(dir.parent().expect("the store has a parent folder"))
        .expect("list the folder")
        .map(|e| {
            e.expect("read the folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn a_backup_with_secrets_restores_every_file_byte_for_byte() {
    let t = full_store();
    let (archive, report) = backup(&t.store, true);
    assert!(report.secrets_left_out.is_empty());
    let target = tempfile::tempdir().unwrap();
    let root = target.path().join("restored");
    let restored = restore(&root, &archive, RestoreOptions::default()).unwrap();
    assert!(!restored.replaced);
    assert_eq!(files(&root), files(t.dir.path()));
    assert_eq!(restored.files, report.files);
    assert_eq!(restored.bytes, report.bytes);
    let store = Store::open(&root).unwrap();
    assert_eq!(store.channels().list().unwrap().len(), 2);
    assert_eq!(store.sessions().list().unwrap().items.len(), 1);
}

#[test]
fn a_backup_leaves_secrets_out_names_them_and_still_restores_to_a_valid_store() {
    let t = full_store();
    let (archive, report) = backup(&t.store, false);
    let left_out: Vec<_> = report
        .secrets_left_out
        .iter()
        .map(|s| format!("{} {}", s.path.display(), s.field))
        .collect();
    assert_eq!(
        left_out,
        [
            "channels.yaml channels.settings.bot_token",
            "providers/local.yaml api_key",
            "providers/local.yaml base_url",
            "telemetry/logs/2026-11-30.jsonl attributes.http.request.header.authorization",
        ]
    );
    let text = String::from_utf8_lossy(&{
        let mut all = Vec::new();
        flate2::read::GzDecoder::new(archive.as_slice())
            .read_to_end(&mut all)
            .unwrap();
        all
    })
    .into_owned();
    for secret in [
        "sk-live-very-secret",
        "hunter2",
        "TOKENSECRET",
        "SECRETBEARER",
    ] {
        assert!(!text.contains(secret), "{secret} is in the archive");
    }

    let target = tempfile::tempdir().unwrap();
    let root = target.path().join("restored");
    let restored = restore(&root, &archive, RestoreOptions::default()).unwrap();
    assert!(restored.warnings.is_empty(), "{:?}", restored.warnings);
    let store = Store::open(&root).unwrap();
    let local = store.providers().get("local").unwrap();
    assert!(local.api_key.is_none());
    assert_eq!(
        local.base_url.as_deref(),
        Some("https://me:***@llm.example.com/v1")
    );
    assert_eq!(
        store
            .providers()
            .get("anthropic")
            .unwrap()
            .api_key_env
            .as_deref(),
        Some("ANTHROPIC_API_KEY"),
        "a variable's name is kept"
    );
    let slack = store.channels().get("slack").unwrap();
    assert_eq!(
        slack.settings.get("bot_token_env"),
        Some(&"SLACK_BOT_TOKEN".into())
    );
    let tg = store.channels().get("tg").unwrap();
    assert_eq!(tg.settings.get("bot_token"), None);
    assert_eq!(tg.settings.get("chat_id"), Some(&42.into()));
    // Message text is what a person wrote: kept as written.
    let session = &store.sessions().list().unwrap().items[0];
    let messages = store.sessions().last(&session.id, 10).unwrap().records;
    assert_eq!(
        messages[1].content,
        "my password is not a field, only text: token=abc"
    );
    // The telemetry line without a secret is byte for byte the same.
    assert!(
        read(&root, "telemetry/logs/2026-11-30.jsonl")
            .ends_with("{\"time\":\"2026-11-30T10:00:01Z\",\"body\":\"plain\"}\n")
    );
}

#[test]
fn lock_files_temporary_files_and_links_are_not_archived() {
    let t = full_store();
    let root = t.dir.path();
    write(root, ".models.yaml.tmp-123-abc1", "half a write");
    write(root, "agents/.gone.deleted-12-ab/config.yaml", "id: gone");
    std::os::unix::fs::symlink("/etc/passwd", root.join("providers/evil.yaml")).unwrap();
    let (archive, report) = backup(&t.store, true);
    let names = entry_names(&archive);
    assert!(names.iter().any(|n| n == "models.yaml"), "{names:?}");
    assert!(names.iter().any(|n| n == "agents/my-agent/config.yaml"));
    for name in &names {
        assert!(
            !name.ends_with(".lock") && !name.contains(".tmp-") && !name.contains(".deleted-"),
            "{name} is in the archive"
        );
    }
    assert!(!names.iter().any(|n| n.contains("evil")));
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].path, Path::new("providers/evil.yaml"));
    assert_eq!(report.skipped[0].reason, SkipReason::Link);
}

#[test]
fn a_yaml_file_that_does_not_parse_is_left_out_of_a_backup_without_secrets() {
    let t = seed_store();
    write(
        t.dir.path(),
        "providers/broken.yaml",
        "name: broken\napi_key: sk-x\nenabled: [\n",
    );
    let (archive, report) = backup(&t.store, false);
    assert!(!entry_names(&archive).iter().any(|n| n.contains("broken")));
    assert!(report.skipped.iter().any(
        |s| s.path == Path::new("providers/broken.yaml") && s.reason == SkipReason::Unreadable
    ));
}

#[test]
fn backing_up_a_missing_store_says_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("nothing")).unwrap();
    let err = store
        .backup(Vec::new(), BackupOptions::default(), |_, _| {})
        .unwrap_err();
    assert!(matches!(err, BackupError::NoStore { .. }), "{err:?}");
}

#[test]
fn a_restore_refuses_a_store_with_files_unless_forced_then_replaces_it_whole() {
    let source = full_store();
    let (archive, _) = backup(&source.store, true);
    let (_dir, root) = store_in_own_folder();
    write(&root, "models.yaml", "models: []\n");
    write(&root, "agents/old/config.yaml", "stale");
    let before = files(&root);

    let err = restore(&root, &archive, RestoreOptions::default()).unwrap_err();
    assert!(matches!(err, BackupError::NotEmpty { .. }), "{err:?}");
    assert_eq!(files(&root), before);

    let siblings_before = siblings(&root);
    let report = restore(
        &root,
        &archive,
        RestoreOptions {
            force: true,
            ..RestoreOptions::default()
        },
    )
    .unwrap();
    assert!(report.replaced);
    assert!(report.leftover.is_none());
    assert_eq!(files(&root), files(source.dir.path()));
    assert!(!root.join("agents/old").exists());
    assert_eq!(
        siblings(&root),
        siblings_before,
        "nothing left beside the store"
    );
}

#[test]
fn a_store_with_only_folders_takes_a_restore_without_force() {
    let source = full_store();
    let (archive, _) = backup(&source.store, true);
    let t = temp_store();
    t.store.init().unwrap();
    restore(t.dir.path(), &archive, RestoreOptions::default()).unwrap();
    assert_eq!(files(t.dir.path()), files(source.dir.path()));
}

#[test]
fn a_restore_through_a_linked_root_keeps_the_link() {
    let source = full_store();
    let (archive, _) = backup(&source.store, true);
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::create_dir(&real).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    restore(&link, &archive, RestoreOptions::default()).unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(files(&real), files(source.dir.path()));
}

/// A tar entry written header byte by header byte, so it can say what `tar::Builder` would
/// refuse to write (`..`, absolute paths).
fn raw_entry(
    tar: &mut tar::Builder<GzEncoder<Vec<u8>>>,
    name: &str,
    kind: tar::EntryType,
    link: Option<&str>,
    data: &[u8],
) {
    let mut header = tar::Header::new_gnu();
    let gnu = header.as_gnu_mut().expect("a GNU header");
    gnu.name[..name.len()].copy_from_slice(name.as_bytes());
    if let Some(link) = link {
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    header.set_entry_type(kind);
    header.set_mode(0o600);
    header.set_size(data.len() as u64);
    header.set_cksum();
    tar.append(&header, data).expect("append the entry");
}

/// An archive with a valid `models.yaml` and then the entries `add` writes.
fn hostile(add: impl FnOnce(&mut tar::Builder<GzEncoder<Vec<u8>>>)) -> Vec<u8> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    raw_entry(
        &mut tar,
        "models.yaml",
        tar::EntryType::Regular,
        None,
        b"models: []\n",
    );
    add(&mut tar);
    tar.into_inner()
        .expect("finish the archive")
        .finish()
        .expect("finish the archive")
}

/// Restores `archive` over a store holding one file, with `force`, and returns the error,
/// after checking that the store and its folder's neighbours are as they were.
fn refused(archive: &[u8], max_bytes: u64) -> BackupError {
    let (_dir, root) = store_in_own_folder();
    write(&root, "channels.yaml", "channels: []\n");
    let before = files(&root);
    let siblings_before = siblings(&root);
    let err = restore(
        &root,
        archive,
        RestoreOptions {
            force: true,
            max_bytes,
        },
    )
    .expect_err("the restore is refused");
    assert_eq!(files(&root), before, "the store is as it was");
    assert_eq!(siblings(&root), siblings_before, "no folder left beside it");
    err
}

fn unsafe_problem(err: BackupError) -> UnsafeEntry {
    match err {
        BackupError::Unsafe { problem, .. } => problem,
        other => panic!("expected an unsafe entry, got {other:?}"),
    }
}

#[test]
fn an_absolute_path_in_an_archive_is_refused() {
    let archive = hostile(|tar| {
        raw_entry(tar, "/tmp/viben-owned", tar::EntryType::Regular, None, b"x");
    });
    assert_eq!(
        unsafe_problem(refused(&archive, u64::MAX)),
        UnsafeEntry::Absolute
    );
    assert!(!Path::new("/tmp/viben-owned").exists());
}

#[test]
fn a_path_through_dot_dot_is_refused() {
    let archive = hostile(|tar| {
        raw_entry(
            tar,
            "agents/../../escaped",
            tar::EntryType::Regular,
            None,
            b"x",
        );
    });
    let err = refused(&archive, u64::MAX);
    assert!(err.to_string().contains("agents/../../escaped"), "{err}");
    assert_eq!(unsafe_problem(err), UnsafeEntry::ParentDir);
}

#[test]
fn symbolic_and_hard_links_are_refused_naming_their_target() {
    for kind in [tar::EntryType::Symlink, tar::EntryType::Link] {
        let archive = hostile(|tar| {
            raw_entry(tar, "providers/p.yaml", kind, Some("/etc/passwd"), b"");
        });
        assert_eq!(
            unsafe_problem(refused(&archive, u64::MAX)),
            UnsafeEntry::Link {
                target: "/etc/passwd".into()
            }
        );
    }
}

#[test]
fn devices_and_fifos_are_refused() {
    for kind in [
        tar::EntryType::Char,
        tar::EntryType::Block,
        tar::EntryType::Fifo,
    ] {
        let archive = hostile(|tar| raw_entry(tar, "sessions/dev", kind, None, b""));
        assert_eq!(
            unsafe_problem(refused(&archive, u64::MAX)),
            UnsafeEntry::Special
        );
    }
}

#[test]
fn a_file_twice_is_refused() {
    let archive = hostile(|tar| {
        raw_entry(
            tar,
            "models.yaml",
            tar::EntryType::Regular,
            None,
            b"models: []\n",
        );
    });
    assert_eq!(
        unsafe_problem(refused(&archive, u64::MAX)),
        UnsafeEntry::Duplicate
    );
}

#[test]
fn an_archive_over_the_byte_budget_is_refused_before_it_fills_the_disk() {
    // 4 MiB of zeros compress to a few KiB: the budget counts what they unpack to.
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let archive = hostile(|tar| {
        raw_entry(
            tar,
            "telemetry/logs/2026-01-01.jsonl",
            tar::EntryType::Regular,
            None,
            &zeros,
        );
    });
    assert!(archive.len() < 64 * 1024, "{} bytes", archive.len());
    let err = refused(&archive, 1024 * 1024);
    assert!(
        matches!(err, BackupError::TooLarge { limit: 1_048_576 }),
        "{err:?}"
    );
}

#[test]
fn a_budget_overrun_hidden_behind_small_headers_is_caught_while_unpacking() {
    // Many entries each under the budget, whose sum is over it.
    let archive = hostile(|tar| {
        for i in 0..8 {
            let name = format!("telemetry/logs/2026-01-0{}.jsonl", i + 1);
            raw_entry(
                tar,
                &name,
                tar::EntryType::Regular,
                None,
                &vec![b'\n'; 200 * 1024],
            );
        }
    });
    let err = refused(&archive, 1024 * 1024);
    assert!(matches!(err, BackupError::TooLarge { .. }), "{err:?}");
}

#[test]
fn what_is_not_a_tar_gz_is_refused_as_corrupt() {
    let err = refused(b"this is not gzip at all", u64::MAX);
    assert!(matches!(err, BackupError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_truncated_archive_is_refused_and_the_store_is_left_as_it_was() {
    let source = full_store();
    let (archive, _) = backup(&source.store, true);
    let err = refused(&archive[..archive.len() / 2], u64::MAX);
    assert!(matches!(err, BackupError::Corrupt { .. }), "{err:?}");
}

#[test]
fn an_archive_holding_an_invalid_store_is_refused_with_its_problems() {
    let archive = hostile(|tar| {
        raw_entry(
            tar,
            "agents/a/config.yaml",
            tar::EntryType::Regular,
            None,
            b"id: a\nname: [\n",
        );
    });
    let err = refused(&archive, u64::MAX);
    let BackupError::Invalid { problems } = &err else {
        panic!("expected an invalid store, got {err:?}");
    };
    assert_eq!(problems[0].path, Path::new("agents/a/config.yaml"));
    assert!(err.to_string().contains("agents/a/config.yaml"), "{err}");
}

#[test]
fn a_store_with_problems_between_files_restores_as_it_was_and_they_are_reported() {
    let t = seed_store();
    write(
        t.dir.path(),
        "agents/lost/config.yaml",
        "id: lost\nname: Lost\nmodel: gone-model\nprovider: gone-provider\n",
    );
    let (archive, _) = backup(&t.store, true);
    let (_dir, root) = store_in_own_folder();
    let report = restore(&root, &archive, RestoreOptions::default()).unwrap();
    assert_eq!(files(&root), files(t.dir.path()));
    assert!(
        report
            .warnings
            .iter()
            .any(|p| p.path == Path::new("agents/lost/config.yaml")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn a_yaml_file_over_the_size_limit_is_left_out_whole_not_cut() {
    let t = seed_store();
    // Valid YAML however far it is read: cut at the limit, it would still parse.
    let big = format!("name: big\n{}", "# padding\n".repeat(120_000));
    write(t.dir.path(), "providers/big.yaml", big);
    let (archive, report) = backup(&t.store, false);
    assert!(!entry_names(&archive).iter().any(|n| n.contains("big")));
    assert!(
        report.skipped.iter().any(
            |s| s.path == Path::new("providers/big.yaml") && s.reason == SkipReason::Unreadable
        )
    );
}
