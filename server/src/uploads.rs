//! Photos between phones and the server (`/v1/blobs/…`, docs/sync.md):
//! what the server holds of a blob, a chunk appended at that offset, and a
//! whole blob fetched. Only an engineer with an order that refers to the
//! blob may send or fetch it — knowing a hash gives nothing — and nothing
//! of a blob counts until the last chunk's check of the whole.

use crate::auth::Role;
use crate::blobs::{BlobStoreError, Held, before_append};
use crate::state::{ApiError, ApiResult, AppState, authenticate, blocking};
use axum::Json;
use axum::Router;
use axum::body::Body;
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

fn held_json(held: Held, size: u64) -> Json<serde_json::Value> {
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
        Ok(held_json(held, d.size_bytes()))
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

/// The store's answer to an appended chunk.
fn appended(result: Result<Held, BlobStoreError>, size: u64) -> ApiResult<Response> {
    match result {
        Ok(held) => Ok(held_json(held, size).into_response()),
        Err(BlobStoreError::Offset { have }) => Ok((
            StatusCode::CONFLICT,
            Json(serde_json::json!({
                "error": format!("the server holds {have} bytes: send from there"),
                "have": have,
                "complete": false,
                "size": size,
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
}

/// A chunk the store will take: what it needs once the bytes are here.
struct Expected {
    blobs: Arc<dyn crate::blobs::BlobStore>,
    size: u64,
    media: MediaType,
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
    // Whether the chunk can be taken is known before a byte of it is read:
    // a refused chunk is not received.
    let tenant = p.tenant.clone();
    let checked = {
        let (st, hash) = (Arc::clone(&st), hash.clone());
        blocking(move || {
            let d = declared(&st, &p.tenant, &p.person, &hash)?;
            let size = d.size_bytes();
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
            let held = blobs.held(&hash).map_err(storage)?;
            let early = match before_append(held, at.offset, len, size) {
                Ok(None) => {
                    return Ok(Ok(Expected { blobs, size, media }));
                }
                Ok(Some(whole)) => Ok(whole),
                Err(refused) => Err(refused),
            };
            appended(early, size).map(Err)
        })
        .await?
    };
    let expected = match checked {
        Ok(expected) => expected,
        Err(answer) => return Ok(answer),
    };
    // The chunk arrives whole (at most 1 MiB) before the store sees it: no
    // storage thread waits on the phone's connection while it does.
    let bytes = axum::body::to_bytes(body, usize::try_from(len).unwrap_or(usize::MAX))
        .await
        .ok()
        .filter(|b| b.len() as u64 == len)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "the chunk did not arrive whole or was longer than it said",
            )
        })?;
    blocking(move || {
        let Expected { blobs, size, media } = expected;
        let result = blobs.append(&hash, at.offset, &mut &bytes[..], len, size, media);
        if let Ok(held) = &result {
            crate::metrics::metrics().blob_received(len);
            if held.complete {
                // The desk's open pages show the photo now.
                let orders = st.tenant(&tenant)?.orders_with_blob(&hash)?;
                st.publish(&tenant, orders);
            }
        }
        appended(result, size)
    })
    .await
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
