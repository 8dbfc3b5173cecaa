//! Request logs: one line per request, as text or JSON on stderr, its level
//! from `RUST_LOG` (default `info`). A line says the method, the route as
//! declared (`/api/orders/{id}`, never the path with its ids), the status,
//! the latency, and the tenant and device once the request is authenticated.
//! Never a body, a query, a header, a token, a password or anything a
//! customer said.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;
use tracing::field::Empty;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr from here on, at `RUST_LOG`'s level or `default_level`.
pub fn init(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    // A second call (tests that start servers in one process) keeps the first.
    let _ = match format {
        LogFormat::Text => logs.with_ansi(false).try_init(),
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// The route a request no route matched is logged and counted under.
pub const UNMATCHED: &str = "(unmatched)";

/// The route `req` matched, as declared (`/api/orders/{id}`), never the
/// path itself: a path may carry an order's id or anything a caller typed.
pub fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned()
}

/// The middleware: a span for the request (filled in by [`identify`]) and
/// one line when it is answered.
pub async fn log_requests(req: Request, next: Next) -> Response {
    let route = route_of(&req);
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        route = %route,
        tenant = Empty,
        device = Empty,
    );
    let started = Instant::now();
    async move {
        let response = next.run(req).await;
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = (started.elapsed().as_secs_f64() * 1e4).round() / 10.0,
            "answered"
        );
        response
    }
    .instrument(span)
    .await
}

/// Names the tenant (and the device, for a phone) on the current request's
/// log line.
pub(crate) fn identify(tenant: &str, device: Option<&str>) {
    let span = tracing::Span::current();
    span.record("tenant", tenant);
    if let Some(d) = device {
        span.record("device", d);
    }
}
