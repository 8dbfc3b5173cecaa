//! For load balancers and orchestrators: `GET /healthz` says the process is
//! up and answering; `GET /readyz` says it can serve, its storage answering
//! and the directory's schema the one this build knows (another process with
//! a newer Fieldwork may have migrated it). Neither needs a token, and neither
//! says anything about tenants or people.

use crate::state::{AppState, blocking};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
}

async fn ready(State(st): State<Arc<AppState>>) -> Response {
    match blocking(move || Ok(st.directory.ready())).await {
        Ok(Ok(())) => "ready\n".into_response(),
        Ok(Err(why)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", e.message),
        )
            .into_response(),
    }
}
