//! `viben doctor`: check the store and, when a URL is set, the database; say what to fix.

use viben_db::{catalog, migrate};
use viben_store::Severity;

use crate::context::Context;
use crate::failure::Failure;
use crate::output::{self, print_json, say};

/// The report, line by line: printed as it goes in plain text, collected for `--json`.
struct Report {
    json: bool,
    checks: Vec<serde_json::Value>,
    healthy: bool,
}

impl Report {
    /// One line of the report; `details` are printed under it (schema differences).
    fn check(
        &mut self,
        ok: bool,
        what: &str,
        fix: Option<&str>,
        details: &[String],
    ) -> Result<(), Failure> {
        self.healthy &= ok;
        let fix = fix.filter(|_| !ok);
        if self.json {
            self.checks.push(serde_json::json!({
                "ok": ok,
                "check": what,
                "fix": fix,
                "details": details,
            }));
            return Ok(());
        }
        for detail in details {
            say!("       {detail}")?;
        }
        say!("[{}] {what}", if ok { " ok " } else { "FAIL" })?;
        if let Some(fix) = fix {
            say!("       fix: {fix}")?;
        }
        Ok(())
    }
}

pub(crate) fn run(context: &Context) -> Result<(), Failure> {
    let mut report = Report {
        json: output::json(),
        checks: Vec::new(),
        healthy: true,
    };
    let store = context.store()?;
    let root = store.layout().root();
    if root.exists() {
        report.check(true, &format!("store at {}", root.display()), None, &[])?;
    } else {
        // Not an error: the store is made by the first command that saves something.
        report.check(
            true,
            &format!(
                "store at {}: not created yet (the first change creates it; or run `viben init`)",
                root.display()
            ),
            None,
            &[],
        )?;
    }
    let root_problem = store.check_root();
    if root.exists() {
        match &root_problem {
            Some(problem) => {
                report.check(false, &problem.message, problem.hint.as_deref(), &[])?;
            }
            None => report.check(
                true,
                "store folder permissions: only you may enter it",
                None,
                &[],
            )?,
        }
    }
    let problems: Vec<_> = store
        .check()
        .into_iter()
        .filter(|problem| Some(problem) != root_problem.as_ref())
        .collect();
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    report.check(
        errors == 0,
        &format!(
            "store check: {errors} error(s), {} warning(s)",
            problems.len() - errors
        ),
        Some("run `viben check` and fix each file it names"),
        &[],
    )?;

    if !context.has_database_url() {
        report.check(
            true,
            "database: no URL set (skipped; pass --database-url or set POSTGRES_URL)",
            None,
            &[],
        )?;
    } else {
        database(context, &mut report)?;
    }
    if report.json {
        print_json(&serde_json::json!({
            "healthy": report.healthy,
            "checks": report.checks,
        }))?;
    } else if report.healthy {
        say!("everything looks fine")?;
    }
    if report.healthy {
        Ok(())
    } else {
        Err(Failure::with_hint(
            "doctor found problems",
            "apply the fixes listed above",
        ))
    }
}

fn database(context: &Context, report: &mut Report) -> Result<(), Failure> {
    let mut conn = match context.connect() {
        Ok(conn) => conn,
        Err(failure) => {
            return report.check(
                false,
                &format!("database reachable: {}", failure.message),
                failure.hint.as_deref(),
                &[],
            );
        }
    };
    let version = viben_db::server_version(&mut conn).unwrap_or_else(|err| err.to_string());
    report.check(
        true,
        &format!("database reachable: PostgreSQL {version}"),
        None,
        &[],
    )?;
    match migrate::status(&mut conn) {
        Ok(status) => report.check(
            status.pending.is_empty(),
            &format!(
                "migrations: {} applied, {} pending",
                status.applied.len(),
                status.pending.len()
            ),
            Some("run `viben db migrate` (or `viben db adopt` for the web app's database)"),
            &[],
        )?,
        Err(err) => report.check(false, &format!("migrations: {err}"), None, &[])?,
    }
    match migrate::check_drift(&mut conn) {
        Ok(differences) => {
            let expected = migrate::MIGRATIONS.expected_schema(&mut conn)?;
            // Each difference, then the SQL that restores it where there is one.
            let details: Vec<String> = differences
                .iter()
                .flat_map(|d| {
                    let fix = d.repair_sql(&expected).map(|sql| format!("  fix: {sql}"));
                    std::iter::once(d.to_string()).chain(fix)
                })
                .collect();
            let ok = differences.iter().all(catalog::Difference::is_cosmetic);
            let hint = if ok {
                None
            } else {
                match super::db::drift_hint(&mut conn, &differences, &expected) {
                    Ok(hint) => Some(hint),
                    Err(failure) => Some(failure.message),
                }
            };
            report.check(
                ok,
                &format!("schema drift: {} difference(s)", differences.len()),
                hint.as_deref(),
                &details,
            )?
        }
        Err(err) => report.check(false, &format!("schema drift: {err}"), None, &[])?,
    }
    // Past a size, a missing recommended index makes lookups and pages scan whole tables.
    if let Ok(status) = viben_db::indexes::status(&mut conn) {
        for s in status {
            let rows = s.table_rows.unwrap_or_default();
            if rows < viben_db::indexes::RECOMMEND_FROM_ROWS {
                continue;
            }
            let present = s.state == viben_db::indexes::IndexState::Present;
            report.check(
                present,
                &format!(
                    "recommended index {} on {} ({rows} rows): {}",
                    s.index.name,
                    s.index.table,
                    if present { "present" } else { "missing" }
                ),
                Some("run `viben db indexes --apply` (CREATE INDEX CONCURRENTLY: safe on a live database)"),
                &[],
            )?;
        }
    }
    // Advice, not a failure: the web app owns the schema.
    if let Ok(naming) = catalog::check_naming(&mut conn) {
        report.check(
            true,
            &format!(
                "naming conventions: {} warning(s) (plural snake_case tables, `_id` foreign keys, \
                 `_at` timestamps, `is_`/`has_` booleans)",
                naming.len()
            ),
            None,
            &naming,
        )?;
    }
    Ok(())
}
