//! The dispatcher JSON API (`/api/…`) for systems integrating with the
//! service center: orders, assignment, follow-up calls, complaints, the
//! catalog, enrolment codes and devices. Each desk intent goes through the
//! desk service, the same one the board calls.

use crate::auth::{Principal, Role};
use crate::state::{ApiError, ApiResult, AppState, authenticate, blocking};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fieldwork_core::OrderFilter;
use fieldwork_core::api::FollowUpInput;
use fieldwork_core::model::{CatalogPart, ComplaintCategory, Intake, Status};
use fieldwork_core::rules::roles::DeskRole;
use serde::Deserialize;
use std::sync::Arc;

/// The desk service for an API caller: a dispatcher (supervisors use the
/// board).
fn dispatcher<'a>(st: &'a AppState, p: &Principal) -> crate::desk::DeskService<'a> {
    st.desk(&p.tenant, &p.person, DeskRole::Dispatcher)
}

/// The dispatcher API's routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/orders", post(create_order).get(list_orders))
        .route("/api/orders/{id}", get(get_order))
        .route("/api/orders/{id}/photos/{photo_id}", get(get_photo))
        .route("/api/orders/{id}/report.pdf", get(get_report_pdf))
        .route("/api/orders/{id}/assign", post(assign))
        .route("/api/orders/{id}/follow-ups", post(follow_up))
        .route("/api/orders/{id}/complaints", post(complaint))
        .route("/api/catalog", post(catalog_part))
        .route("/api/settings", get(get_settings).put(put_settings))
        .route("/api/engineers/{id}/enrolment-codes", post(enrolment_code))
        .route("/api/devices/{id}/revoke", post(revoke_device))
        .route("/api/devices/{id}/refusals", get(device_refusals))
}

/// A JSON body; one that does not read is answered as every API error
/// is, `{"error": …}` with the reason (which field, what was expected).
#[derive(Debug)]
struct Body<T>(T);

impl<T, S> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(ApiError::new(e.status(), e.body_text())),
        }
    }
}

/// One photo's bytes, with its media type; 404 until the phone has sent it.
async fn get_photo(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, photo_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    let (reader, d) = blocking(move || {
        let not_found = || ApiError::new(StatusCode::NOT_FOUND, "no such photo, or not sent yet");
        let (hash, d) = st
            .tenant(&p.tenant)?
            .photo_blob(&id, &photo_id)?
            .ok_or_else(not_found)?;
        let reader = st
            .blobs(&p.tenant)?
            .open(&hash)
            .map_err(|e| ApiError::internal(e.to_string()))?
            .ok_or_else(not_found)?;
        Ok((reader, d))
    })
    .await?;
    Ok(crate::state::stream_blob(reader, &d.media_type, d.size))
}

/// The order's service report as a PDF, as the customer keeps it.
async fn get_report_pdf(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    let pdf = {
        let id = id.clone();
        blocking(move || crate::report::pdf(&st, &p.tenant, &id)).await?
    };
    Ok(crate::report::response(&id, pdf))
}

async fn create_order(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Body(intake): Body<Intake>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        let id = dispatcher(&st, &p).create_order(intake)?;
        Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response())
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    status: Option<String>,
    assignee: Option<String>,
    customer: Option<String>,
    open_only: bool,
    urgent_only: bool,
    breached_only: bool,
    limit: u32,
    offset: u32,
}

async fn list_orders(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    let statuses = match q.status.as_deref() {
        None | Some("") => vec![],
        Some(list) => list
            .split(',')
            .map(|s| {
                Status::parse(s).ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("unknown status {s}"),
                    )
                })
            })
            .collect::<ApiResult<Vec<_>>>()?,
    };
    let filter = OrderFilter {
        statuses,
        assignee: q.assignee,
        customer: q.customer,
        open_only: q.open_only,
        urgent_only: q.urgent_only,
        breached_only: q.breached_only,
        limit: q.limit,
        offset: q.offset,
        ..OrderFilter::default()
    };
    blocking(move || Ok(Json(st.tenant(&p.tenant)?.list_orders(&filter)?).into_response())).await
}

/// The service center's settings: the version in force and every saved
/// version. Changed by a supervisor on the board or with `fieldwork admin`.
async fn get_settings(State(st): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        let settings = st.tenant(&p.tenant)?.settings()?;
        Ok(Json(serde_json::json!({
            "current": settings.current(),
            "versions": settings.history(),
        }))
        .into_response())
    })
    .await
}

/// A dispatcher's token does not change the settings: a supervisor does,
/// on the board, or an administrator with `fieldwork admin`. Refused with
/// the reason (403, `role_required`); nothing changes.
async fn put_settings(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Body(input): Body<fieldwork_core::SettingsInput>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        let version = dispatcher(&st, &p).change_settings(&input)?;
        Ok(Json(serde_json::json!({ "version": version })).into_response())
    })
    .await
}

async fn get_order(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || Ok(Json(st.tenant(&p.tenant)?.order(&id)?).into_response())).await
}

#[derive(Debug, Deserialize)]
struct AssignBody {
    engineer: String,
}

async fn assign(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body<AssignBody>,
) -> ApiResult<StatusCode> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        dispatcher(&st, &p).assign(&id, &body.engineer)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

async fn follow_up(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(call): Body<FollowUpInput>,
) -> ApiResult<StatusCode> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        dispatcher(&st, &p).record_follow_up(&id, call)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[derive(Debug, Deserialize)]
struct ComplaintBody {
    what: String,
    category: ComplaintCategory,
    #[serde(default)]
    major: bool,
}

async fn complaint(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body<ComplaintBody>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        let cid =
            dispatcher(&st, &p).register_complaint(&id, &body.what, body.category, body.major)?;
        Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": cid }))).into_response())
    })
    .await
}

async fn catalog_part(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Body(part): Body<CatalogPart>,
) -> ApiResult<StatusCode> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        dispatcher(&st, &p).upsert_catalog_part(part)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

async fn enrolment_code(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(engineer): Path<String>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        let code = st.directory.issue_enrolment_code(&p.tenant, &engineer)?;
        Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({ "code": code })),
        )
            .into_response())
    })
    .await
}

async fn revoke_device(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(device): Path<String>,
) -> ApiResult<StatusCode> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        if st.directory.revoke_device(&p.tenant, &device)? == 0 {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "no such device"));
        }
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// What the server refused from one device, newest first: for support,
/// beside the quarantine on the phone.
async fn device_refusals(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(device): Path<String>,
) -> ApiResult<Json<Vec<fieldwork_core::api::Refusal>>> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || Ok(Json(st.tenant(&p.tenant)?.refusals_from(&device)?))).await
}
