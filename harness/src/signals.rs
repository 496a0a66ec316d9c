//! One cancellation for the whole process: SIGINT (Ctrl-C) and SIGTERM (what CI timeouts and
//! `kill` send) cancel the same [`CancellationToken`], so `certify`, `run`, `load`, `torture`
//! and `gateway` stop the same way whichever signal came: no new work, what is in progress
//! finishes (bounded), and the reports are still written.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

static TOKEN: OnceLock<CancellationToken> = OnceLock::new();

/// The process's token, cancelled by the first SIGINT or SIGTERM. The signal handlers are
/// installed on first use (inside a tokio runtime); later calls share them.
pub fn shutdown_token() -> CancellationToken {
    TOKEN
        .get_or_init(|| {
            let token = CancellationToken::new();
            let t = token.clone();
            tokio::spawn(async move {
                let name = wait_for_signal().await;
                eprintln!(
                    "{name}: stopping: no new work, letting what is in progress finish, then writing the reports"
                );
                t.cancel();
            });
            token
        })
        .clone()
}

/// A flag that turns true when `token` is cancelled (for loops that poll a flag).
pub fn flag(token: &CancellationToken) -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let token = token.clone();
    tokio::spawn(async move {
        token.cancelled().await;
        f.store(true, Ordering::SeqCst);
    });
    flag
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => "terminated (SIGTERM)",
            _ = int.recv() => "interrupted (SIGINT)",
        },
        _ => {
            let _ = tokio::signal::ctrl_c().await;
            "interrupted"
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "interrupted"
}
