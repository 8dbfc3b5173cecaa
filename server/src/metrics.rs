//! `GET /metrics` in the Prometheus (OpenMetrics) text format, through
//! prometheus-client: requests and their latency by route, bytes in and out,
//! changes accepted and refused by reason, live board connections, the time
//! spent in storage work, the size of sync's group commits, and photos' bytes received. No label names a
//! tenant, a person or an order. Served on the main address, or only on
//! `--metrics-listen` when that is given.

use axum::Router;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::OnceLock;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ChangeLabels {
    result: &'static str,
}

/// What a pushed document's changes came to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pushed {
    Accepted,
    Malformed,
    Forbidden,
    Refused,
    MissingDependencies,
}

pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    bytes_in: Counter,
    bytes_out: Counter,
    changes: Family<ChangeLabels, Counter>,
    pub(crate) board_connections: Gauge,
    storage: Histogram,
    blob_bytes: Counter,
    group_size: Histogram,
}

fn seconds() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

pub(crate) fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let mut registry = Registry::with_prefix("fieldwork");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by method, route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(seconds);
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer, by route",
            Unit::Seconds,
            latency.clone(),
        );
        let bytes_in = Counter::default();
        registry.register_with_unit(
            "http_received",
            "Request body bytes received (as declared by Content-Length)",
            Unit::Bytes,
            bytes_in.clone(),
        );
        let bytes_out = Counter::default();
        registry.register_with_unit(
            "http_sent",
            "Response body bytes sent, where the length is known",
            Unit::Bytes,
            bytes_out.clone(),
        );
        let changes = Family::<ChangeLabels, Counter>::default();
        registry.register(
            "sync_changes",
            "Changes pushed by phones, by result: accepted, malformed, forbidden, refused (a rule), missing_dependencies",
            changes.clone(),
        );
        let board_connections = Gauge::default();
        registry.register(
            "board_connections",
            "Boards connected for live updates now",
            board_connections.clone(),
        );
        let storage = seconds();
        registry.register_with_unit(
            "storage_work_duration",
            "Time spent in one request's storage work (on the blocking pool)",
            Unit::Seconds,
            storage.clone(),
        );
        let blob_bytes = Counter::default();
        registry.register_with_unit(
            "blob_received",
            "Photo and document bytes written by uploads",
            Unit::Bytes,
            blob_bytes.clone(),
        );
        // 1 to 1,024 requests.
        let group_size = Histogram::new(exponential_buckets(1.0, 2.0, 11));
        registry.register(
            "sync_group_size",
            "Sync requests committed in one group commit (one transaction, one fsync), observed once per request",
            group_size.clone(),
        );
        Metrics {
            group_size,
            registry,
            requests,
            latency,
            bytes_in,
            bytes_out,
            changes,
            board_connections,
            storage,
            blob_bytes,
        }
    })
}

impl Metrics {
    pub(crate) fn pushed(&self, result: Pushed, changes: usize) {
        let result = match result {
            Pushed::Accepted => "accepted",
            Pushed::Malformed => "malformed",
            Pushed::Forbidden => "forbidden",
            Pushed::Refused => "refused",
            Pushed::MissingDependencies => "missing_dependencies",
        };
        self.changes
            .get_or_create(&ChangeLabels { result })
            .inc_by(changes as u64);
    }

    pub(crate) fn storage_took(&self, started: Instant) {
        self.storage.observe(started.elapsed().as_secs_f64());
    }

    /// A sync request was committed in a group of `requests`.
    pub(crate) fn grouped(&self, requests: usize) {
        self.group_size.observe(requests as f64);
    }

    pub(crate) fn blob_received(&self, bytes: u64) {
        self.blob_bytes.inc_by(bytes);
    }
}

/// Counts and times every routed request (the same layer as the logs).
pub async fn measure(req: Request, next: Next) -> Response {
    let route = crate::logs::route_of(&req);
    let method = req.method().to_string();
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .unwrap_or(0);
    let started = Instant::now();
    let response = next.run(req).await;
    let m = metrics();
    m.bytes_in.inc_by(declared);
    if let Some(n) = axum::body::HttpBody::size_hint(response.body()).exact() {
        m.bytes_out.inc_by(n);
    }
    m.latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    m.requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// A router serving `/metrics`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/metrics", get(render))
}

async fn render() -> Response {
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, &metrics().registry) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
