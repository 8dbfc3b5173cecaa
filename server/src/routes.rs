//! The whole HTTP surface, composed: the device sync endpoint, the
//! dispatcher API and the board, behind the body limit and the HTTPS
//! middleware; and serving it with the relay of live updates between
//! processes.

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use std::sync::Arc;

pub fn router(state: Arc<AppState>) -> Router {
    let reached = state.reached.clone();
    let metrics = if state.metrics_here {
        crate::metrics::routes()
    } else {
        Router::new()
    };
    Router::new()
        .merge(metrics)
        .merge(crate::sync::routes())
        .merge(crate::uploads::routes())
        .merge(crate::api::routes())
        .merge(crate::board::router())
        .merge(crate::health::routes())
        // After routing, so each line names the route as declared.
        .route_layer(axum::middleware::from_fn(crate::metrics::measure))
        .route_layer(axum::middleware::from_fn(crate::logs::log_requests))
        // A path no route knows is logged and counted too, as `(unmatched)`
        // (never the path itself: it may carry anything).
        .fallback(
            not_found
                .layer(axum::middleware::from_fn(crate::metrics::measure))
                .layer(axum::middleware::from_fn(crate::logs::log_requests)),
        )
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            reached,
            crate::https::secure_cookies,
        ))
        .with_state(state)
}

async fn not_found() -> axum::http::StatusCode {
    axum::http::StatusCode::NOT_FOUND
}

/// What to say when `option`'s address `addr` cannot be listened on.
pub fn listen_error(option: &str, addr: &str, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "{option} {addr}: the address is already in use (is another server running there?); \
             choose another with {option} HOST:PORT, or port 0 for any free one"
        ),
        std::io::ErrorKind::AddrNotAvailable => format!(
            "{option} {addr}: this machine has no such address; \
             use 127.0.0.1:PORT for this machine only, or 0.0.0.0:PORT for every interface"
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "{option} {addr}: not permitted (ports below 1024 need privileges); choose a port above 1024"
        ),
        _ => format!("{option} {addr}: {e}"),
    }
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT) or SIGTERM
/// (what systemd, Kubernetes and most supervisors send). Requests in flight
/// are then finished before `serve` returns.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serve until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let relay_rx = state
        .relay_rx
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let relay = relay_rx.and_then(|rx| {
        state
            .storage
            .relay(state.process.clone(), rx, state.changed.clone())
    });
    let relay = relay.map(tokio::spawn);
    // Blobs nothing refers to, collected hourly after their grace period.
    let collector = tokio::spawn({
        let state = state.clone();
        async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                every.tick().await;
                let st = state.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = st.collect_blobs(crate::state::BLOB_GRACE) {
                        eprintln!("fieldwork: collecting photos' blobs: {e}");
                    }
                })
                .await;
            }
        }
    });
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    if let Some(r) = relay {
        r.abort();
    }
    collector.abort();
    served
}
