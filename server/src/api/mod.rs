//! The dispatcher JSON API (`/api/…`) for systems integrating with the
//! service center: orders, assignment, follow-up calls, complaints, the
//! catalog, enrolment codes and devices. Each desk intent goes through the
//! desk service, the same one the board calls. Described in OpenAPI 3.1
//! ([`openapi`]); the extractors in `extract`.

mod extract;
pub mod openapi;

use crate::auth::Principal;
use crate::state::ErrorBody;
use crate::state::{ApiError, ApiResult, AppState, blocking};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use extract::{Body, Dispatcher, Params, Segments};
use fieldwork_core::OrderFilter;
use fieldwork_core::OrderRow;
use fieldwork_core::api::FollowUpInput;
use fieldwork_core::api::{OrderView, Refusal};
use fieldwork_core::model::{CatalogPart, ComplaintCategory, Intake, Status};
use fieldwork_core::rules::roles::DeskRole;
use fieldwork_core::settings::SettingsVersion;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// How any call refuses a token, for the description (what is sent is an
/// [`ApiError`]).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "a description only; never built")]
enum TokenRefused {
    /// No token, or an unknown or revoked one
    #[response(status = 401)]
    Missing(ErrorBody),
    /// Not a dispatcher's token
    #[response(status = 403)]
    NotDispatcher(ErrorBody),
}

/// How a call that takes a JSON body refuses it, for the description.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code, reason = "a description only; never built")]
enum BodyRefused {
    /// The body is not JSON, or a path segment does not read
    #[response(status = 400)]
    Unreadable(ErrorBody),
    /// The body is over 1 MiB
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not `application/json`
    #[response(status = 415)]
    NotJson(ErrorBody),
    /// A field is missing or invalid; `error` says which
    #[response(status = 422)]
    Invalid(ErrorBody),
}

/// What was made: its id.
#[derive(Debug, Serialize, ToSchema)]
struct Created {
    id: String,
}

/// A one-time enrolment code for an engineer's phone.
#[derive(Debug, Serialize, ToSchema)]
struct EnrolmentCode {
    code: String,
}

/// The settings in force and every saved version.
#[derive(Debug, Serialize, ToSchema)]
struct SettingsVersions {
    current: SettingsVersion,
    versions: Vec<SettingsVersion>,
}

/// The version a settings change made.
#[derive(Debug, Serialize, ToSchema)]
struct SettingsChanged {
    version: i64,
}

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
        .route("/api/openapi.json", get(openapi::openapi_json))
}

/// One photo's bytes, with its media type; 404 until the phone has sent it.
#[utoipa::path(
    get,
    path = "/api/orders/{id}/photos/{photo_id}",
    tag = "orders",
    summary = "One photo of an order, as the phone took it",
    params(("id" = String, Path, description = "The order's id"), ("photo_id" = String, Path, description = "The photo's id on the order")),
    responses(
        (status = 200, description = "The photo's bytes", content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/heic"), (Vec<u8> = "application/pdf"))),
        (status = 400, description = "A path segment does not read", body = ErrorBody),
        TokenRefused,
        (status = 404, description = "No such order or photo, or the phone has not sent it yet", body = ErrorBody),
    )
)]
async fn get_photo(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Segments((id, photo_id)): Segments<(String, String)>,
) -> ApiResult<Response> {
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
#[utoipa::path(
    get,
    path = "/api/orders/{id}/report.pdf",
    tag = "orders",
    summary = "The service report as the PDF the customer keeps",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 400, description = "A path segment does not read", body = ErrorBody),
        TokenRefused,
        (status = 404, description = "No such order", body = ErrorBody),
    )
)]
async fn get_report_pdf(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Segments(id): Segments<String>,
) -> ApiResult<Response> {
    let pdf = {
        let id = id.clone();
        blocking(move || crate::report::pdf(&st, &p.tenant, &id)).await?
    };
    Ok(crate::report::response(&id, pdf))
}

#[utoipa::path(
    post,
    path = "/api/orders",
    tag = "orders",
    summary = "Take a new order (intake)",
    request_body = Intake,
    responses(
        (status = 201, description = "Taken; its id", body = Created),
        BodyRefused,
        TokenRefused,
        (status = 409, description = "A rule refused it (the order's state); `code` says which", body = ErrorBody),
    )
)]
async fn create_order(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Body(intake): Body<Intake>,
) -> ApiResult<Response> {
    blocking(move || {
        let id = dispatcher(&st, &p).create_order(intake)?;
        Ok((StatusCode::CREATED, Json(Created { id })).into_response())
    })
    .await
}

/// Which orders, and which page of them.
#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
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

#[utoipa::path(
    get,
    path = "/api/orders",
    tag = "orders",
    summary = "Orders, most urgent first",
    params(ListQuery),
    responses(
        (status = 200, description = "One row per order", body = Vec<OrderRow>),
        (status = 400, description = "A query parameter does not read", body = ErrorBody),
        TokenRefused,
        (status = 422, description = "An unknown status", body = ErrorBody),
    )
)]
async fn list_orders(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Params(q): Params<ListQuery>,
) -> ApiResult<Response> {
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
#[utoipa::path(
    get,
    path = "/api/settings",
    tag = "service center",
    summary = "The service center's settings",
    responses(
        (status = 200, description = "The settings in force and every saved version", body = SettingsVersions),
        TokenRefused,
    )
)]
async fn get_settings(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
) -> ApiResult<Response> {
    blocking(move || {
        let settings = st.tenant(&p.tenant)?.settings()?;
        Ok(Json(SettingsVersions {
            current: settings.current().clone(),
            versions: settings.history().to_vec(),
        })
        .into_response())
    })
    .await
}

/// A dispatcher's token does not change the settings: a supervisor does,
/// on the board, or an administrator with `fieldwork admin`. Refused with
/// the reason (403, `role_required`); nothing changes.
#[utoipa::path(
    put,
    path = "/api/settings",
    tag = "service center",
    summary = "Change the settings (supervisors only: a dispatcher's token is refused)",
    request_body = fieldwork_core::SettingsInput,
    responses(
        (status = 200, description = "The new version", body = SettingsChanged),
        BodyRefused,
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Only a supervisor changes the settings (`role_required`), or not a dispatcher's token", body = ErrorBody),
    )
)]
async fn put_settings(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Body(input): Body<fieldwork_core::SettingsInput>,
) -> ApiResult<Response> {
    blocking(move || {
        let version = dispatcher(&st, &p).change_settings(&input)?;
        Ok(Json(SettingsChanged { version }).into_response())
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/orders/{id}",
    tag = "orders",
    summary = "One order with its SLA clocks, fees and signature state",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 400, description = "A path segment does not read", body = ErrorBody),
        TokenRefused,
        (status = 404, description = "No such order", body = ErrorBody),
    )
)]
async fn get_order(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Segments(id): Segments<String>,
) -> ApiResult<Response> {
    blocking(move || Ok(Json(st.tenant(&p.tenant)?.order(&id)?).into_response())).await
}

#[derive(Debug, Deserialize, ToSchema)]
struct AssignBody {
    engineer: String,
}

#[utoipa::path(
    post,
    path = "/api/orders/{id}/assign",
    tag = "orders",
    summary = "Assign (or reassign) the order to an engineer",
    request_body = AssignBody,
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 204, description = "Assigned"),
        BodyRefused,
        TokenRefused,
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "A rule refused it (the order's state); `code` says which", body = ErrorBody),
    )
)]
async fn assign(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Segments(id): Segments<String>,
    Body(body): Body<AssignBody>,
) -> ApiResult<StatusCode> {
    blocking(move || {
        dispatcher(&st, &p).assign(&id, &body.engineer)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[utoipa::path(
    post,
    path = "/api/orders/{id}/follow-ups",
    tag = "orders",
    summary = "Record a follow-up call",
    request_body = FollowUpInput,
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 204, description = "Recorded"),
        BodyRefused,
        TokenRefused,
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "A rule refused it (the order's state); `code` says which", body = ErrorBody),
    )
)]
async fn follow_up(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Segments(id): Segments<String>,
    Body(call): Body<FollowUpInput>,
) -> ApiResult<StatusCode> {
    blocking(move || {
        dispatcher(&st, &p).record_follow_up(&id, call)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
struct ComplaintBody {
    what: String,
    category: ComplaintCategory,
    #[serde(default)]
    major: bool,
}

#[utoipa::path(
    post,
    path = "/api/orders/{id}/complaints",
    tag = "orders",
    summary = "Register a complaint about the order",
    request_body = ComplaintBody,
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 201, description = "Registered; its id", body = Created),
        BodyRefused,
        TokenRefused,
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "A rule refused it (the order's state); `code` says which", body = ErrorBody),
    )
)]
async fn complaint(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Segments(id): Segments<String>,
    Body(body): Body<ComplaintBody>,
) -> ApiResult<Response> {
    blocking(move || {
        let cid =
            dispatcher(&st, &p).register_complaint(&id, &body.what, body.category, body.major)?;
        Ok((StatusCode::CREATED, Json(Created { id: cid })).into_response())
    })
    .await
}

#[utoipa::path(
    post,
    path = "/api/catalog",
    tag = "service center",
    summary = "Add or change a part in the catalog",
    request_body = CatalogPart,
    responses(
        (status = 204, description = "Saved"),
        BodyRefused,
        TokenRefused,
        (status = 409, description = "A rule refused it (the order's state); `code` says which", body = ErrorBody),
    )
)]
async fn catalog_part(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Body(part): Body<CatalogPart>,
) -> ApiResult<StatusCode> {
    blocking(move || {
        dispatcher(&st, &p).upsert_catalog_part(part)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[utoipa::path(
    post,
    path = "/api/engineers/{id}/enrolment-codes",
    tag = "devices",
    summary = "A one-time code an engineer's phone enrols with",
    params(("id" = String, Path, description = "The engineer's id")),
    responses(
        (status = 201, description = "The code", body = EnrolmentCode),
        (status = 400, description = "A path segment does not read", body = ErrorBody),
        TokenRefused,
        (status = 422, description = "No such engineer", body = ErrorBody),
    )
)]
async fn enrolment_code(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Segments(engineer): Segments<String>,
) -> ApiResult<Response> {
    blocking(move || {
        let code = st.directory.issue_enrolment_code(&p.tenant, &engineer)?;
        Ok((StatusCode::CREATED, Json(EnrolmentCode { code })).into_response())
    })
    .await
}

#[utoipa::path(
    post,
    path = "/api/devices/{id}/revoke",
    tag = "devices",
    summary = "Revoke every token of a device (lost or stolen)",
    params(("id" = String, Path, description = "The device's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "A path segment does not read", body = ErrorBody),
        TokenRefused,
        (status = 404, description = "No such device", body = ErrorBody),
    )
)]
async fn revoke_device(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Segments(device): Segments<String>,
) -> ApiResult<StatusCode> {
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
#[utoipa::path(
    get,
    path = "/api/devices/{id}/refusals",
    tag = "devices",
    summary = "What the server refused from a device, newest first",
    params(("id" = String, Path, description = "The device's id")),
    responses(
        (status = 200, description = "The refusals", body = Vec<Refusal>),
        (status = 400, description = "A path segment does not read", body = ErrorBody),
        TokenRefused,
    )
)]
async fn device_refusals(
    State(st): State<Arc<AppState>>,
    Dispatcher(p): Dispatcher,
    Segments(device): Segments<String>,
) -> ApiResult<Json<Vec<fieldwork_core::api::Refusal>>> {
    blocking(move || Ok(Json(st.tenant(&p.tenant)?.refusals_from(&device)?))).await
}
