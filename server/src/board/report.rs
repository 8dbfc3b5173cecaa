//! The service report as the PDF the customer keeps, for a signed-in
//! dispatcher (the order page links it). Made by `crate::report`, the same
//! bytes the phone makes and the dispatcher API serves.

use super::frame::{Denied, internal, user};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The order's service report as a PDF, for a signed-in dispatcher.
pub(crate) async fn report_pdf(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Denied> {
    let u = user(&st, &headers)?;
    let made = {
        let id = id.clone();
        crate::state::blocking(move || crate::report::pdf(&st, &u.tenant, &id)).await
    };
    Ok(match made {
        Ok(pdf) => crate::report::response(&id, pdf),
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            (StatusCode::NOT_FOUND, "no such order").into_response()
        }
        Err(e) => return Err(internal(e.message)),
    })
}
