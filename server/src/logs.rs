//! Request logs: one line per request, as text or JSON on stderr, its level
//! from `RUST_LOG` (default `info`; Automerge's own spans only if `RUST_LOG`
//! names `automerge`, see [`filter_for`]). A line says the method, the route as
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
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr from here on, at `RUST_LOG`'s level or `default_level`.
/// A `RUST_LOG` that is not a filter is not silently ignored: the first
/// line logged says so and why.
pub fn init(format: LogFormat, default_level: &str) {
    let (filter, unreadable) = match std::env::var("RUST_LOG") {
        Ok(v) => filter_for(Some(&v), default_level),
        Err(std::env::VarError::NotPresent) => filter_for(None, default_level),
        Err(std::env::VarError::NotUnicode(_)) => (
            filter_for(None, default_level).0,
            Some("it is not UTF-8".to_string()),
        ),
    };
    let logs = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_writer(std::io::stderr)
        .with_target(false);
    // A second call (tests that start servers in one process) keeps the first.
    let _ = match format {
        LogFormat::Text => logs.with_ansi(false).finish().with(filter).try_init(),
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .with(filter)
            .try_init(),
    };
    if let Some(why) = unreadable {
        tracing::warn!("RUST_LOG is not a log filter ({why}): logging at {default_level}");
    }
}

/// Automerge marks its parsing with spans at `info`, one for every column
/// of every chunk it reads. Recorded, they cost the server about a sixth
/// of its CPU in a burst of pushes (the fleet's notes in
/// docs/benchmarks.md) and say nothing an operator reads, so they are
/// left out unless asked for.
const AUTOMERGE: &str = "automerge";

/// The filter for `rust_log` (unset or empty: `default_level`), with
/// Automerge's spans left out unless `rust_log` names `automerge`; and, if
/// `rust_log` is not a filter, why (then `default_level` is used).
///
/// `RUST_LOG` is a level and targets with levels (`info`,
/// `debug,automerge=info`): tracing-subscriber's `Targets`, which needs no
/// regular expressions (`EnvFilter`'s span and field filters did, and
/// compiling them cost every clean build of the server about half a minute
/// of CPU; docs/benchmarks.md, "Build and test times").
fn filter_for(rust_log: Option<&str>, default_level: &str) -> (Targets, Option<String>) {
    let asked = rust_log.map(str::trim).filter(|s| !s.is_empty());
    let default = || {
        default_level
            .parse::<Targets>()
            .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO))
    };
    let (filter, unreadable) = match asked.map(str::parse::<Targets>) {
        Some(Ok(filter)) => (filter, None),
        Some(Err(e)) => (default(), Some(e.to_string())),
        None => (default(), None),
    };
    let names_automerge = unreadable.is_none() && asked.is_some_and(|s| s.contains(AUTOMERGE));
    let filter = if names_automerge {
        filter
    } else {
        filter.with_target(AUTOMERGE, LevelFilter::WARN)
    };
    (filter, unreadable)
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

#[cfg(test)]
mod tests {
    use super::filter_for;
    use tracing_subscriber::layer::SubscriberExt;

    /// Whether, under the filter for `rust_log`, a span of Automerge's and
    /// one of ours are recorded.
    fn recorded(rust_log: Option<&str>) -> (bool, bool) {
        let subscriber = tracing_subscriber::registry().with(filter_for(rust_log, "info").0);
        tracing::subscriber::with_default(subscriber, || {
            let theirs = tracing::info_span!(target: "automerge::storage::columns", "add_column");
            let ours = tracing::info_span!("request");
            (!theirs.is_disabled(), !ours.is_disabled())
        })
    }

    #[test]
    fn automerge_spans_are_left_out_unless_rust_log_names_automerge() {
        assert_eq!(recorded(None), (false, true));
        assert_eq!(recorded(Some("")), (false, true));
        assert_eq!(recorded(Some("info")), (false, true));
        assert_eq!(recorded(Some("debug")), (false, true));
        assert_eq!(recorded(Some("info,automerge=info")), (true, true));
        assert_eq!(recorded(Some("warn")), (false, false));
        // Unreadable: the default, still without Automerge's spans.
        assert_eq!(recorded(Some("info,=[")), (false, true));
    }

    #[test]
    fn an_unreadable_rust_log_is_reported_with_its_reason_and_a_readable_one_is_not() {
        for readable in [
            None,
            Some(""),
            Some("  "),
            Some("debug"),
            Some("info,automerge=info"),
        ] {
            assert_eq!(filter_for(readable, "info").1, None, "{readable:?}");
        }
        let (_, why) = filter_for(Some("info,=["), "info");
        let why = why.expect("an unreadable RUST_LOG is reported");
        assert!(!why.is_empty());
    }
}
