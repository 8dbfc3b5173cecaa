//! Photos between phones and the server (`/v1/blobs/…`, docs/sync.md):
//! what the server holds of a blob, a chunk appended at that offset, and a
//! whole blob fetched. Only an engineer with an order that refers to the
//! blob may send or fetch it — knowing a hash gives nothing — and nothing
//! of a blob counts until the last chunk's check of the whole.

use crate::auth::Role;
use crate::blobs::{BlobStoreError, Held};
use crate::state::{ApiError, ApiResult, AppState, authenticate, blocking};
use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fieldwork_core::model::MediaType;
use fieldwork_core::store::photos::Declared;
use fieldwork_core::sync::blobs::{MAX_UPLOAD_CHUNK, MIN_UPLOAD_CHUNK};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/v1/blobs/{hash}/upload",
            get(upload_status)
                .put(upload_chunk)
                // Checked against Content-Length before reading, and read
                // no further than it says.
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_CHUNK)),
        )
        .route("/v1/blobs/{hash}", get(download))
}

fn not_yours() -> ApiError {
    // The same answer whether the blob exists or not.
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no order assigned to this engineer holds this photo",
    )
}

/// What the engineer's orders declare of `hash`, or 404.
fn declared(st: &AppState, tenant: &str, engineer: &str, hash: &str) -> ApiResult<Declared> {
    st.tenant(tenant)?
        .blob_for_engineer(hash, engineer)?
        .ok_or_else(not_yours)
}

fn held_json(held: Held, size: i64) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "have": held.have, "complete": held.complete, "size": size }))
}

async fn upload_status(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(hash): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let p = authenticate(&st, &headers, Role::Engineer)?;
    blocking(move || {
        let d = declared(&st, &p.tenant, &p.person, &hash)?;
        let held = st.blobs(&p.tenant)?.held(&hash).map_err(storage)?;
        Ok(held_json(held, d.size))
    })
    .await
}

#[derive(Debug, Deserialize)]
struct At {
    offset: u64,
}

fn storage(e: BlobStoreError) -> ApiError {
    ApiError::internal(e.to_string())
}

/// The request body as a blocking reader, fed by the async side frame by
/// frame: the blob store writes and hashes while the rest is arriving.
struct FrameReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl std::io::Read for FrameReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(frame) => self.current = frame?,
                None => return Ok(0),
            }
        }
        let n = self.current.len().min(out.len());
        out[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

async fn upload_chunk(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(hash): Path<String>,
    Query(at): Query<At>,
    body: Body,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Engineer)?;
    // The chunk's length, known before a byte of it is read.
    let len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| ApiError::new(StatusCode::LENGTH_REQUIRED, "a chunk says its length"))?;
    if len > MAX_UPLOAD_CHUNK as u64 {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "a chunk is at most 1 MiB",
        ));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(16);
    let store = blocking(move || {
        let d = declared(&st, &p.tenant, &p.person, &hash)?;
        let size = u64::try_from(d.size).unwrap_or(0);
        let last = at.offset.saturating_add(len) == size;
        if len == 0 || (len < MIN_UPLOAD_CHUNK as u64 && !last) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "a chunk is 256 KiB to 1 MiB (the last may be shorter)",
            ));
        }
        let media = MediaType::parse_mime(&d.media_type).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not an allowed kind of file",
            )
        })?;
        let blobs = st.blobs(&p.tenant)?;
        let mut body = FrameReader {
            rx,
            current: Bytes::new(),
        };
        match blobs.append(&hash, at.offset, &mut body, len, size, media) {
            Ok(held) => {
                crate::metrics::metrics().blob_received(len);
                if held.complete {
                    // The desk's open pages show the photo now.
                    let orders = st.tenant(&p.tenant)?.orders_with_blob(&hash)?;
                    st.publish(&p.tenant, orders);
                }
                Ok(held_json(held, d.size).into_response())
            }
            Err(BlobStoreError::Offset { have }) => Ok((
                StatusCode::CONFLICT,
                Json(serde_json::json!({
                    "error": format!("the server holds {have} bytes: send from there"),
                    "have": have,
                    "complete": false,
                    "size": d.size,
                })),
            )
                .into_response()),
            Err(e @ (BlobStoreError::PastEnd | BlobStoreError::HashMismatch)) => Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({ "error": e.to_string() })),
            )
                .into_response()),
            Err(e @ BlobStoreError::NotAllowed) => Ok((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(serde_json::json!({ "error": e.to_string() })),
            )
                .into_response()),
            Err(e) => Err(storage(e)),
        }
    });
    // Frames go to the store as they arrive; if it stops reading (a
    // refusal), the rest of the body is not read.
    let forward = async move {
        use futures_util::StreamExt;
        let mut frames = body.into_data_stream();
        while let Some(frame) = frames.next().await {
            if tx.send(frame.map_err(std::io::Error::other)).await.is_err() {
                break;
            }
        }
    };
    let (_, answer) = tokio::join!(forward, store);
    answer
}

async fn download(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(hash): Path<String>,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Engineer)?;
    let (d, reader) = blocking(move || {
        let d = declared(&st, &p.tenant, &p.person, &hash)?;
        let reader = st
            .blobs(&p.tenant)?
            .open(&hash)
            .map_err(storage)?
            .ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, "the photo has not been uploaded yet")
            })?;
        Ok((d, reader))
    })
    .await?;
    Ok(crate::state::stream_blob(reader, &d.media_type, d.size))
}
