//! `viben doctor`: check the store and, when a URL is set, the database; say what to fix.

use std::os::unix::fs::PermissionsExt;

use viben_db::{catalog, migrate};

use crate::context::Context;
use crate::failure::Failure;

/// One line of the report.
fn report(ok: bool, what: &str, fix: Option<&str>) -> bool {
    println!("[{}] {what}", if ok { " ok " } else { "FAIL" });
    if let (false, Some(fix)) = (ok, fix) {
        println!("       fix: {fix}");
    }
    ok
}

pub(crate) fn run(context: &Context) -> Result<(), Failure> {
    let mut healthy = true;
    let store = context.store()?;
    let root = store.layout().root();
    healthy &= report(true, &format!("store at {}", root.display()), None);
    let mode = std::fs::metadata(root)?.permissions().mode() & 0o777;
    healthy &= report(
        mode & 0o077 == 0,
        &format!("store folder permissions are {mode:o}"),
        Some(&format!("chmod 700 {}", root.display())),
    );
    let problems = store.check();
    healthy &= report(
        problems.is_empty(),
        &format!("store check: {} problem(s)", problems.len()),
        Some("run `viben check` and fix each file at the line shown"),
    );

    if !context.has_database_url() {
        report(
            true,
            "database: no URL set (skipped; pass --database-url or set POSTGRES_URL)",
            None,
        );
    } else {
        healthy &= database(context);
    }
    if healthy {
        println!("everything looks fine");
        Ok(())
    } else {
        Err(Failure::with_hint(
            "doctor found problems",
            "apply the fixes listed above",
        ))
    }
}

fn database(context: &Context) -> bool {
    let mut conn = match context.connect() {
        Ok(conn) => conn,
        Err(failure) => {
            return report(
                false,
                &format!("database reachable: {}", failure.message),
                failure.hint.as_deref(),
            );
        }
    };
    let version = viben_db::server_version(&mut conn).unwrap_or_else(|err| err.to_string());
    let mut healthy = report(
        true,
        &format!("database reachable: PostgreSQL {version}"),
        None,
    );
    match migrate::status(&mut conn) {
        Ok(status) => {
            healthy &= report(
                status.pending.is_empty(),
                &format!(
                    "migrations: {} applied, {} pending",
                    status.applied.len(),
                    status.pending.len()
                ),
                Some("run `viben db migrate` (or `viben db adopt` for the web app's database)"),
            );
        }
        Err(err) => healthy &= report(false, &format!("migrations: {err}"), None),
    }
    match catalog::check_drift(&mut conn) {
        Ok(differences) => {
            super::db::print_drift(&differences, "       ");
            let ok = differences.iter().all(catalog::Difference::is_cosmetic);
            let hint = if ok {
                None
            } else {
                match super::db::drift_hint(&mut conn, &differences) {
                    Ok(hint) => Some(hint),
                    Err(failure) => Some(failure.message),
                }
            };
            healthy &= report(
                ok,
                &format!("schema drift: {} difference(s)", differences.len()),
                hint.as_deref(),
            );
        }
        Err(err) => healthy &= report(false, &format!("schema drift: {err}"), None),
    }
    healthy
}
