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
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
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

async fn upload_chunk(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(hash): Path<String>,
    Query(at): Query<At>,
    body: Bytes,
) -> ApiResult<Response> {
    let p = authenticate(&st, &headers, Role::Engineer)?;
    blocking(move || {
        let d = declared(&st, &p.tenant, &p.person, &hash)?;
        let size = u64::try_from(d.size).unwrap_or(0);
        let last = at.offset.saturating_add(body.len() as u64) == size;
        if body.is_empty() || (body.len() < MIN_UPLOAD_CHUNK && !last) {
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
        match blobs.append(&hash, at.offset, &body, size, media) {
            Ok(held) => {
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
