//! Where an example's store lives (shared by the examples that use one).

use std::path::PathBuf;

/// `VIBEN_HOME` when set, else a new temporary folder (never the real `~/.viben`). The
/// `TempDir` guard, when there is one, removes the folder when dropped.
pub(crate) fn home() -> Result<(PathBuf, Option<tempfile::TempDir>), String> {
    if let Some(home) = std::env::var_os("VIBEN_HOME") {
        let home = PathBuf::from(home);
        println!("store: {} (from VIBEN_HOME)", home.display());
        return Ok((home, None));
    }
    let temp = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let home = temp.path().join("viben");
    println!(
        "store: {} (a temporary folder; set VIBEN_HOME to use another)",
        home.display()
    );
    Ok((home, Some(temp)))
}
