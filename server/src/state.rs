//! The server's state, below every handler: the tenants' stores (opened on
//! first use), the directory of people and devices, the live-update bus
//! (this process's boards, and the relay to other processes sharing the
//! storage), the errors the HTTP surface answers with, and authentication of
//! bearer tokens.

use crate::auth::{AuthError, Directory, Principal, Role};
use crate::blobs::BlobStore;
pub use crate::storage::Changed;
use crate::storage::{Embedded, Storage};
use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fieldwork_core::{Config, Error as CoreError, ServerStore};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Documents a server process keeps decoded in memory by default, all
/// tenants together (not core's per-store default of the same name, which
/// is what a phone keeps): about the orders a center of 200 engineers works
/// on in a morning. A push to a document held decoded skips reading it back
/// (about half a millisecond of the server's time for a fresh order); each
/// costs some 16 to 50 KB of memory, more for long histories. In the
/// 200-phone burst on 1,005 orders, holding them all gave a p99 of 289 to
/// 326 ms against 320 to 394 with 256, for some 16 MB more; 2,048 took two
/// processes at N = 1,000 past 250 MB, this 219
/// (tests/src/bin/fieldwork-bench/fleet_notes.md).
pub const DEFAULT_CACHED_DOCUMENTS: usize = 1280;

pub struct AppState {
    pub directory: Directory,
    pub(crate) storage: Arc<dyn Storage>,
    tenants: Mutex<HashMap<String, Arc<ServerStore>>>,
    blobs: Mutex<HashMap<String, Arc<dyn BlobStore>>>,
    /// Orders that just changed, for this process's boards' live updates.
    pub changed: tokio::sync::broadcast::Sender<Changed>,
    /// The same, for the other processes sharing the storage.
    outgoing: tokio::sync::mpsc::UnboundedSender<Changed>,
    /// Taken by `routes::serve`, which relays it.
    pub(crate) relay_rx: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Changed>>>,
    /// This process, in the notes it sends to others.
    pub(crate) process: String,
    /// How requests reach the server (HTTPS behind a proxy, or not).
    pub reached: Arc<crate::https::Reached>,
    /// Whether `/metrics` is on the main address (not when it has its own).
    pub metrics_here: bool,
    /// Documents this process keeps decoded in memory, all tenants together
    /// (`--cached-documents`).
    cached_documents: usize,
    /// Each open tenant's part of that, shared with their stores.
    per_tenant: Arc<AtomicUsize>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("storage", &self.storage)
            .field("process", &self.process)
            .finish_non_exhaustive()
    }
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
            blobs: Mutex::new(HashMap::new()),
            changed: tokio::sync::broadcast::channel(1024).0,
            outgoing,
            relay_rx: Mutex::new(Some(relay_rx)),
            process: uuid::Uuid::new_v4().simple().to_string(),
            reached: Arc::new(crate::https::Reached::default()),
            metrics_here: true,
            cached_documents: DEFAULT_CACHED_DOCUMENTS,
            per_tenant: Arc::new(AtomicUsize::new(DEFAULT_CACHED_DOCUMENTS)),
        })
    }

    /// Keep at most `documents` decoded in memory, all tenants together,
    /// split evenly among the open ones (at least 16 each).
    pub fn set_cached_documents(&mut self, documents: usize) {
        self.cached_documents = documents;
        let open = self.tenants.lock().unwrap_or_else(|p| p.into_inner()).len();
        self.split_cache(open);
    }

    /// The budget split evenly among `open` tenants: each store shrinks to
    /// its part at its next insertion.
    fn split_cache(&self, open: usize) {
        self.per_tenant
            .store(self.cached_documents / open.max(1), Ordering::Relaxed);
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
    pub fn tenant(&self, tenant: &str) -> Result<Arc<ServerStore>, ApiError> {
        let mut map = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(fw) = map.get(tenant) {
            return Ok(fw.clone());
        }
        let db = self
            .storage
            .tenant(tenant)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let fw = Arc::new(ServerStore::open_on(db, Config::new("server"))?);
        fw.share_cached_documents(self.per_tenant.clone());
        map.insert(tenant.to_string(), fw.clone());
        self.split_cache(map.len());
        Ok(fw)
    }
}

/// How long a blob nothing refers to (or a partial upload nobody
/// continues) is kept before it is collected: long enough for a phone
/// that was offline for days to finish, or for a removal to be undone.
pub const BLOB_GRACE: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

impl AppState {
    /// Delete, in every tenant, the blobs no photo refers to any more and the
    /// partial uploads, last written more than `grace` ago. Returns how many went.
    pub fn collect_blobs(&self, grace: std::time::Duration) -> Result<u64, ApiError> {
        let mut gone = 0;
        for tenant in self.directory.tenants()? {
            let referenced = self.tenant(&tenant)?.referenced_blobs()?;
            gone += self
                .blobs(&tenant)?
                .collect(&referenced, grace)
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        Ok(gone)
    }

    /// Where the tenant's photos are kept, opened on first use.
    pub fn blobs(&self, tenant: &str) -> Result<Arc<dyn BlobStore>, ApiError> {
        self.tenant(tenant)?;
        let mut map = self.blobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = map.get(tenant) {
            return Ok(b.clone());
        }
        let b = self
            .storage
            .blobs(tenant)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        map.insert(tenant.to_string(), b.clone());
        Ok(b)
    }
}

/// An error as the API answers it: a status and a JSON `{"error": …}`,
/// with the core's stable `code` (and its `args`) where the core refused.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) code: Option<&'static str>,
    pub(crate) args: Vec<(String, String)>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            code: None,
            args: Vec::new(),
        }
    }
    pub(crate) fn internal(message: impl Into<String>) -> ApiError {
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
            CoreError::Rule(fieldwork_core::rules::RuleError::RoleRequired { .. }) => {
                StatusCode::FORBIDDEN
            }
            CoreError::InsufficientStock { .. } | CoreError::Rule(_) => StatusCode::CONFLICT,
            CoreError::MalformedDocument { .. } => StatusCode::BAD_REQUEST,
            CoreError::Attestation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            CoreError::Store(_) | CoreError::Report(_) | CoreError::Signer(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let code = (status != StatusCode::INTERNAL_SERVER_ERROR).then(|| e.code());
        let args = if code.is_some() { e.args() } else { Vec::new() };
        ApiError {
            code,
            args,
            ..ApiError::new(status, e.to_string())
        }
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

/// How every API error reads (`ApiError` as JSON).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, in words (English), never with customer data.
    pub error: String,
    /// The core's stable code where the core refused (e.g. `role_required`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The code's arguments, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<std::collections::BTreeMap<String, String>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let refused = self.code.is_some();
        let body = ErrorBody {
            error: self.message,
            code: self.code.map(str::to_string),
            args: refused.then(|| self.args.into_iter().collect()),
        };
        (self.status, Json(body)).into_response()
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    // The request's log span goes with the work, so what it learns (the
    // tenant) lands on the request's line.
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let done = span.in_scope(f);
        crate::metrics::metrics().storage_took(started);
        done
    })
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

pub(crate) fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    role: Role,
) -> ApiResult<Principal> {
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
    crate::logs::identify(&p.tenant, p.device_id.as_deref());
    if p.role != role {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this token may not use this endpoint",
        ));
    }
    Ok(p)
}

/// How much of a blob one read takes off the storage.
const BLOB_PART: u64 = 256 * 1024;

/// A held blob as a response body. Each part is read by a short blocking
/// call of its own when the connection wants it, so a phone receiving
/// slowly holds no storage thread while it does.
pub(crate) fn stream_blob(
    reader: crate::blobs::BlobReader,
    media_type: &str,
    size: i64,
) -> Response {
    let stream = futures_util::stream::try_unfold(reader, |reader| async move {
        let (reader, part) = tokio::task::spawn_blocking(move || {
            let mut reader = reader;
            let mut part = Vec::with_capacity(BLOB_PART as usize);
            let read = std::io::Read::read_to_end(
                &mut std::io::Read::take(&mut reader, BLOB_PART),
                &mut part,
            );
            (reader, read.map(|_| part))
        })
        .await
        .map_err(|_| std::io::Error::other("a worker stopped"))?;
        let part = part?;
        Ok::<_, std::io::Error>((!part.is_empty()).then(|| (axum::body::Bytes::from(part), reader)))
    });
    let mime = fieldwork_core::model::MediaType::parse_mime(media_type)
        .map(fieldwork_core::model::MediaType::mime)
        .unwrap_or("application/octet-stream");
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".into(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_budget_is_split_evenly_among_the_open_tenants() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = AppState::open(dir.path().to_path_buf()).unwrap();
        state.set_cached_documents(1000);
        let share = |s: &AppState| s.per_tenant.load(Ordering::Relaxed);
        assert_eq!(share(&state), 1000, "no tenant open yet");
        state.tenant("north").unwrap();
        assert_eq!(share(&state), 1000);
        state.tenant("south").unwrap();
        assert_eq!(share(&state), 500);
        state.tenant("north").unwrap();
        assert_eq!(share(&state), 500, "the same tenant again opens nothing");
        state.set_cached_documents(300);
        assert_eq!(share(&state), 150);
    }
}
