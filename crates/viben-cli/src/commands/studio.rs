//! `viben studio`: serves viben-studio until Ctrl-C.

use crate::context::Context;
use crate::failure::Failure;
use crate::output;

/// Starts the studio on 127.0.0.1, prints its URL (with this run's token), optionally opens
/// it in the browser, and serves until interrupted.
pub(crate) fn run(context: &Context, port: Option<u16>, open: bool) -> Result<(), Failure> {
    let store = context.store()?;
    let pool = if context.has_database_url() {
        Some(context.pool()?)
    } else {
        None
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            Failure::with_hint(
                format!("cannot start the studio's runtime: {err}"),
                "check the machine's limits on threads and open files",
            )
        })?;
    runtime.block_on(async move {
        let mut builder = viben_studio::Studio::builder().store(store);
        if let Some(pool) = pool {
            builder = builder.database(pool);
        }
        if let Some(port) = port {
            builder = builder.port(port);
        }
        let studio = builder.bind().await?;
        let url = studio.url();
        if output::json() {
            output::print_json(&serde_json::json!({
                "url": url,
                "address": studio.address().to_string(),
            }))?;
        } else {
            output::line(&format!("viben studio is at {url}"))?;
            output::line("(the link carries this run's token: keep it to yourself; Ctrl-C stops)")?;
        }
        // The URL must reach a pipe (a script waiting for it) before the server runs.
        std::io::Write::flush(&mut std::io::stdout()).map_err(Failure::output)?;
        if open {
            open_in_browser(&url);
        }
        studio
            .serve(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(())
    })
}

/// Asks the desktop to open `url`; a machine without a desktop gets a warning, and the
/// printed URL still works.
fn open_in_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(err) = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Failure::warn(format!(
            "could not open a browser ({opener}: {err}); open the URL above by hand"
        ));
    }
}
