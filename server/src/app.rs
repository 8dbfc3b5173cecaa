//! The HTTP surface: the device sync endpoint (`/v1/…`, binary, compressed,
//! size-limited) and the dispatcher JSON API (`/api/…`). Storage is one core
//! store per tenant under the data directory, plus the directory of people
//! and tokens; every handler runs its store work on the blocking pool.

use crate::auth::{AuthError, Directory, Principal, Role};
use crate::storage::{Embedded, Storage};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fieldwork_core::api::{FollowUpInput, PushRefusal};
use fieldwork_core::model::{CatalogPart, ComplaintCategory, Intake, Status};
use fieldwork_core::store::log::PullPlan;
use fieldwork_core::sync::wire::{DocResult, PulledDoc, PushResult, SyncRequest, SyncResponse};
use fieldwork_core::{Config, Error as CoreError, Fieldwork, OrderFilter};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Largest sync request body, compressed.
pub const MAX_SYNC_BODY: usize = 8 * 1024 * 1024;
/// Most logged changes sent in one pull.
pub const PULL_LIMIT: usize = 5_000;

pub struct AppState {
    pub directory: Directory,
    storage: Arc<dyn Storage>,
    tenants: Mutex<HashMap<String, Arc<Fieldwork>>>,
    /// Orders that just changed, for this process's boards' live updates.
    pub changed: tokio::sync::broadcast::Sender<Changed>,
    /// The same, for the other processes sharing the storage.
    outgoing: tokio::sync::mpsc::UnboundedSender<Changed>,
    /// Taken by [`serve`], which relays it.
    relay_rx: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Changed>>>,
    /// This process, in the notes it sends to others.
    process: String,
    /// How requests reach the server (HTTPS behind a proxy, or not).
    pub reached: Arc<crate::https::Reached>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("storage", &self.storage)
            .field("process", &self.process)
            .finish_non_exhaustive()
    }
}

/// Orders of a tenant that changed (a device synced, a dispatcher acted).
#[derive(Debug, Clone)]
pub struct Changed {
    pub tenant: String,
    pub ids: Vec<String>,
}

impl AppState {
    /// Embedded storage: SQLite files under `data`.
    pub fn open(data: PathBuf) -> Result<AppState, ApiError> {
        let storage = Embedded::new(data).map_err(|e| ApiError::internal(e.to_string()))?;
        Self::open_storage(Arc::new(storage))
    }

    /// On any storage (PostgreSQL for several processes).
    pub fn open_storage(storage: Arc<dyn Storage>) -> Result<AppState, ApiError> {
        let directory = Directory::open(
            storage
                .directory()
                .map_err(|e| ApiError::internal(e.to_string()))?,
        )?;
        let (outgoing, relay_rx) = tokio::sync::mpsc::unbounded_channel();
        Ok(AppState {
            directory,
            storage,
            tenants: Mutex::new(HashMap::new()),
            changed: tokio::sync::broadcast::channel(1024).0,
            outgoing,
            relay_rx: Mutex::new(Some(relay_rx)),
            process: uuid::Uuid::new_v4().simple().to_string(),
            reached: Arc::new(crate::https::Reached::default()),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn storage_kind(&self) -> &'static str {
        self.storage.kind()
    }

    /// Tell the tenant's open boards, on this process and every other one
    /// sharing the storage, that these orders changed.
    pub fn publish(&self, tenant: &str, ids: Vec<String>) {
        if !ids.is_empty() {
            let changed = Changed {
                tenant: tenant.to_string(),
                ids,
            };
            // No board listening, or no relay running (an admin command),
            // is not an error.
            let _ = self.outgoing.send(changed.clone());
            let _ = self.changed.send(changed);
        }
    }

    /// The tenant's store, opened on first use.
    pub fn tenant(&self, tenant: &str) -> Result<Arc<Fieldwork>, ApiError> {
        let mut map = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(fw) = map.get(tenant) {
            return Ok(fw.clone());
        }
        let db = self
            .storage
            .tenant(tenant)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let fw = Arc::new(Fieldwork::open_server_on(db, Config::new("server"))?);
        map.insert(tenant.to_string(), fw.clone());
        Ok(fw)
    }
}

/// An error as the API answers it: a status and a JSON `{"error": …}`.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> ApiError {
        let status = match &e {
            CoreError::Invalid(_) | CoreError::UnknownSku { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            CoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            CoreError::InsufficientStock { .. } | CoreError::Rule(_) => StatusCode::CONFLICT,
            CoreError::MalformedDocument { .. } => StatusCode::BAD_REQUEST,
            CoreError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        match e {
            AuthError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            AuthError::Database(e) => ApiError::internal(e.to_string()),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal("a worker stopped"))?
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn authenticate(state: &AppState, headers: &HeaderMap, role: Role) -> ApiResult<Principal> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing, unknown or revoked token",
        )
    };
    let token = bearer(headers).ok_or_else(unauthorized)?;
    let p = state
        .directory
        .authenticate(token)?
        .ok_or_else(unauthorized)?;
    if p.role != role {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this token may not use this endpoint",
        ));
    }
    Ok(p)
}

pub fn router(state: Arc<AppState>) -> Router {
    let reached = state.reached.clone();
    Router::new()
        .route("/v1/enrol", post(enrol))
        .route(
            "/v1/sync",
            post(sync).layer(DefaultBodyLimit::max(MAX_SYNC_BODY)),
        )
        .route("/v1/docs/{doc_id}", get(device_doc))
        .route("/api/orders", post(create_order).get(list_orders))
        .route("/api/orders/{id}", get(get_order))
        .route("/api/orders/{id}/assign", post(assign))
        .route("/api/orders/{id}/follow-ups", post(follow_up))
        .route("/api/orders/{id}/complaints", post(complaint))
        .route("/api/catalog", post(catalog_part))
        .route("/api/engineers/{id}/enrolment-codes", post(enrolment_code))
        .route("/api/devices/{id}/revoke", post(revoke_device))
        .route("/api/devices/{id}/refusals", get(device_refusals))
        .merge(crate::board::router())
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            reached,
            crate::https::secure_cookies,
        ))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct EnrolBody {
    code: String,
    device_id: String,
}

async fn enrol(
    State(st): State<Arc<AppState>>,
    Json(body): Json<EnrolBody>,
) -> ApiResult<Json<serde_json::Value>> {
    blocking(move || {
        let (token, p) = st
            .directory
            .enrol(&body.code, &body.device_id)
            .map_err(|e| match e {
                AuthError::Invalid(m) => ApiError::new(StatusCode::UNAUTHORIZED, m),
                other => other.into(),
            })?;
        // The van stock document is made here, once, so that all of the
        // engineer's phones share it (decision 0004).
        st.tenant(&p.tenant)?.ensure_van_stock(&p.person)?;
        Ok(Json(
            serde_json::json!({ "token": token, "tenant": p.tenant, "engineer": p.person }),
        ))
    })
    .await
}

fn binary(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/x-fieldwork-sync")],
        body,
    )
        .into_response()
}

async fn sync(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Engineer)?;
    let device = p
        .device_id
        .clone()
        .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "not a device token"))?;
    let request = SyncRequest::decode(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    blocking(move || {
        let fw = st.tenant(&p.tenant)?;
        let engineer = p.person.as_str();
        // Malformed or truncated change bytes: 400 naming the document, and
        // nothing of the request is stored.
        for d in &request.push {
            if let Err(reason) = fieldwork_core::api::check_change_bytes(&d.changes) {
                fw.log_refusal(&device, engineer, &d.doc_id, &reason, d.changes.len())?;
                let body = serde_json::json!({
                    "error": format!("malformed changes for {}: {reason}", d.doc_id),
                    "doc_id": d.doc_id,
                });
                return Ok((StatusCode::BAD_REQUEST, Json(body)).into_response());
            }
        }
        // Authorisation next, for the whole request: a forbidden document
        // means nothing of the request is stored.
        let mut forbidden = Vec::new();
        for d in &request.push {
            if let Err(PushRefusal::Forbidden(reason)) =
                fw.check_push(&device, engineer, &d.doc_id, &d.changes)
            {
                fw.log_refusal(&device, engineer, &d.doc_id, &reason, d.changes.len())?;
                forbidden.push(PushResult {
                    doc_id: d.doc_id.clone(),
                    result: DocResult::Refused(reason),
                });
            }
        }
        if !forbidden.is_empty() {
            let resp = SyncResponse {
                cursor: request.cursor,
                results: forbidden,
                ..SyncResponse::default()
            };
            return Ok(binary(StatusCode::FORBIDDEN, resp.encode()));
        }
        let mut results = Vec::with_capacity(request.push.len());
        for d in &request.push {
            let result = match fw.apply_push(&device, engineer, &d.doc_id, &d.changes) {
                Ok(()) => DocResult::Accepted,
                Err(PushRefusal::Store(e)) => return Err(ApiError::internal(e.to_string())),
                // Not stored and not kept: the device sends them again with
                // what they depend on.
                Err(PushRefusal::MissingDependencies(hashes)) => {
                    DocResult::MissingDependencies(hashes)
                }
                Err(e) => {
                    let reason = e.to_string();
                    fw.log_refusal(&device, engineer, &d.doc_id, &reason, d.changes.len())?;
                    DocResult::Refused(reason)
                }
            };
            results.push(PushResult {
                doc_id: d.doc_id.clone(),
                result,
            });
        }
        st.publish(
            &p.tenant,
            results
                .iter()
                .filter(|r| matches!(r.result, DocResult::Accepted))
                .map(|r| r.doc_id.clone())
                .collect(),
        );
        let plan = fw.pull_plan(engineer, &device, request.cursor.max(0), PULL_LIMIT)?;
        let pulled = pulled_docs(&fw, &plan)?;
        let resp = SyncResponse {
            cursor: plan.cursor,
            results,
            pulled,
            removed: plan.removed,
            more: plan.more,
        };
        Ok(binary(StatusCode::OK, resp.encode()))
    })
    .await
}

/// Whole documents for new grants, then the logged changes in order, runs of
/// one document's changes sent together.
fn pulled_docs(fw: &Fieldwork, plan: &PullPlan) -> ApiResult<Vec<PulledDoc>> {
    let mut out = Vec::new();
    for doc_id in &plan.whole {
        out.push(PulledDoc {
            doc_id: doc_id.clone(),
            whole: true,
            bytes: fw.export_changes(doc_id, &[])?,
        });
    }
    for c in &plan.changes {
        if plan.whole.contains(&c.doc_id) {
            continue;
        }
        match out.last_mut() {
            Some(last) if !last.whole && last.doc_id == c.doc_id => {
                last.bytes.extend_from_slice(&c.bytes)
            }
            _ => out.push(PulledDoc {
                doc_id: c.doc_id.clone(),
                whole: false,
                bytes: c.bytes.clone(),
            }),
        }
    }
    Ok(out)
}

async fn device_doc(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(doc_id): Path<String>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Engineer)?;
    blocking(move || {
        let fw = st.tenant(&p.tenant)?;
        if !fw.readable_by(&doc_id, &p.person)? {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this document is not assigned to this engineer",
            ));
        }
        Ok(binary(StatusCode::OK, fw.export_changes(&doc_id, &[])?))
    })
    .await
}

async fn create_order(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(intake): Json<Intake>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        let id = st
            .tenant(&p.tenant)?
            .acting_as(&p.person, |fw| fw.create_order(intake))?;
        st.publish(&p.tenant, vec![id.clone()]);
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
    Json(body): Json<AssignBody>,
) -> ApiResult<StatusCode> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        if !st.directory.is_engineer(&p.tenant, &body.engineer)? {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no such engineer in this tenant",
            ));
        }
        st.tenant(&p.tenant)?
            .acting_as(&p.person, |fw| fw.assign(&id, &body.engineer))?;
        st.publish(&p.tenant, vec![id]);
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

async fn follow_up(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(call): Json<FollowUpInput>,
) -> ApiResult<StatusCode> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        st.tenant(&p.tenant)?
            .acting_as(&p.person, |fw| fw.record_follow_up(&id, call))?;
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
    Json(body): Json<ComplaintBody>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        let cid = st.tenant(&p.tenant)?.acting_as(&p.person, |fw| {
            fw.register_complaint(&id, &body.what, body.category, body.major)
        })?;
        Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": cid }))).into_response())
    })
    .await
}

async fn catalog_part(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(part): Json<CatalogPart>,
) -> ApiResult<StatusCode> {
    let p = authenticate(&st, &headers, Role::Dispatcher)?;
    blocking(move || {
        st.tenant(&p.tenant)?.upsert_catalog_part(part)?;
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
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    if let Some(r) = relay {
        r.abort();
    }
    served
}
