//! `viben backup FILE` and `viben restore FILE`: the whole store as one `.tar.gz`.

use std::fs::{self, File};
use std::io::BufReader;
use std::path::Path;

use viben_store::{BackupError, BackupOptions, RestoreOptions};

use crate::commands::export::PendingFile;
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, print_json, say};
use crate::progress::Progress;

pub(crate) fn backup(context: &Context, file: &Path, include_secrets: bool) -> Result<(), Failure> {
    let store = context.store()?;
    let root = store.layout().root();
    refuse_inside(root, file)?;
    let mut pending = PendingFile::create(file, "viben backup")?;
    let mut bar: Option<Progress> = None;
    let mut shown = 0;
    let report = store
        .backup(
            &mut pending.writer,
            BackupOptions { include_secrets },
            |done, total| {
                let bar = bar.get_or_insert_with(|| Progress::bytes("backing up", Some(total)));
                bar.advance(done - shown);
                shown = done;
            },
        )
        .map_err(|err| failure(&err))?;
    pending.persist()?;
    if let Some(bar) = bar {
        bar.finish();
    }

    let rel = |path: &Path| path.display().to_string();
    if output::json() {
        let left_out: Vec<_> = report
            .secrets_left_out
            .iter()
            .map(
                |s| serde_json::json!({ "path": rel(&s.path), "field": s.field, "count": s.count }),
            )
            .collect();
        let skipped: Vec<_> = report
            .skipped
            .iter()
            .map(|s| serde_json::json!({ "path": rel(&s.path), "reason": s.reason.to_string() }))
            .collect();
        return print_json(&serde_json::json!({
            "store": root.display().to_string(),
            "file": file.display().to_string(),
            "files": report.files,
            "bytes": report.bytes,
            "secrets_included": include_secrets,
            "secrets_left_out": left_out,
            "skipped": skipped,
        }));
    }
    for skipped in &report.skipped {
        Failure::warn(format_args!(
            "skipped {}: {}",
            skipped.path.display(),
            skipped.reason
        ));
    }
    say!(
        "backed up {} files ({} bytes) of {} to {}",
        report.files,
        report.bytes,
        root.display(),
        file.display()
    )?;
    if include_secrets {
        return say!("the archive holds the store's secrets: keep it as safe as the store");
    }
    if report.secrets_left_out.is_empty() {
        return say!("no secrets were found to leave out");
    }
    say!("secrets left out (set them again after a restore, or back up with --include-secrets):")?;
    for secret in &report.secrets_left_out {
        let times = match secret.count {
            1 => String::new(),
            n => format!(" ({n} times)"),
        };
        say!("  {}: {}{times}", secret.path.display(), secret.field)?;
    }
    Ok(())
}

pub(crate) fn restore(
    context: &Context,
    file: &Path,
    force: bool,
    max_size: Option<u64>,
) -> Result<(), Failure> {
    let store = context.store()?;
    let archive = File::open(file).map_err(|e| {
        Failure::with_hint(
            format!("cannot open {}: {e}", file.display()),
            "give the path of an archive that `viben backup FILE` wrote",
        )
    })?;
    let size = archive.metadata().map(|m| m.len()).ok();
    let options = RestoreOptions {
        force,
        max_bytes: max_size.unwrap_or(viben_store::DEFAULT_RESTORE_LIMIT),
    };
    let bar = Progress::bytes("restoring", size);
    let mut shown = 0;
    let report = store
        .restore(BufReader::new(archive), options, |read| {
            bar.advance(read - shown);
            shown = read;
        })
        .map_err(|err| failure(&err))?;
    bar.finish();

    let root = store.layout().root().display().to_string();
    if output::json() {
        let warnings: Vec<_> = report.warnings.iter().map(ToString::to_string).collect();
        return print_json(&serde_json::json!({
            "store": root,
            "file": file.display().to_string(),
            "files": report.files,
            "bytes": report.bytes,
            "replaced": report.replaced,
            "warnings": warnings,
            "leftover": report.leftover.as_ref().map(|p| p.display().to_string()),
        }));
    }
    for warning in &report.warnings {
        Failure::warn(warning);
    }
    if let Some(leftover) = &report.leftover {
        Failure::warn(format_args!(
            "the previous store could not be removed and is still at {}; delete it by hand",
            leftover.display()
        ));
    }
    let replaced = if report.replaced {
        " (the store that was there is gone)"
    } else {
        ""
    };
    say!(
        "restored {} files ({} bytes) from {} into {root}{replaced}",
        report.files,
        report.bytes,
        file.display()
    )?;
    say!("run `viben check` to see the store, and set again any secret the backup left out")
}

/// Refuses an archive written inside the store: it would be archived into itself, and a
/// restore would replace it.
fn refuse_inside(root: &Path, file: &Path) -> Result<(), Failure> {
    let (Ok(root), Some(parent)) = (fs::canonicalize(root), file.parent()) else {
        return Ok(());
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    if fs::canonicalize(parent).is_ok_and(|dir| dir.starts_with(&root)) {
        return Err(Failure::with_hint(
            format!(
                "{} is inside the store at {}",
                file.display(),
                root.display()
            ),
            "write the archive outside the store, e.g. `viben backup ~/viben-backup.tar.gz`",
        ));
    }
    Ok(())
}

/// The library's error with its hint (which names the command or flag that helps).
fn failure(err: &BackupError) -> Failure {
    Failure::from_hinted(err)
}
