//! The device sync endpoint (`/v1/…`, binary, compressed, size-limited):
//! enrolment, the push-and-pull round of docs/sync.md, and one whole
//! document for a phone that must replace its copy. Every check of a push
//! is the core's (`ServerStore`); this file speaks HTTP and logs refusals.

use crate::auth::{AuthError, Role};
use crate::metrics::Pushed;
use crate::state::{ApiError, ApiResult, AppState, authenticate, blocking};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fieldwork_core::ServerStore;
use fieldwork_core::model::KeyBacking;
use fieldwork_core::store::log::PullPlan;
use fieldwork_core::sync::group::{self, Pull, PushRequest};
use fieldwork_core::sync::server::PushRefusal;
use fieldwork_core::sync::wire::{DocResult, PulledDoc, PushResult, SyncRequest, SyncResponse};
use serde::Deserialize;
use std::sync::Arc;

/// Largest sync request body, compressed.
pub const MAX_SYNC_BODY: usize = 8 * 1024 * 1024;
/// Most logged changes sent in one pull.
pub const PULL_LIMIT: usize = 5_000;

/// The device's routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/enrol", post(enrol))
        .route(
            "/v1/sync",
            post(sync).layer(DefaultBodyLimit::max(MAX_SYNC_BODY)),
        )
        .route("/v1/docs/{doc_id}", get(device_doc))
}

#[derive(Debug, Deserialize)]
struct EnrolBody {
    code: String,
    device_id: String,
    /// The device key's public key, hex (SEC1 or DER SubjectPublicKeyInfo).
    #[serde(default)]
    public_key: Option<String>,
    /// `hardware` or `software`.
    #[serde(default)]
    key_backing: Option<String>,
}

/// The key an enrolment names, read: bad hex or an unknown backing is a
/// 400, not an enrolment without a key.
fn enrol_key(body: &EnrolBody) -> Result<Option<(Vec<u8>, KeyBacking)>, ApiError> {
    let Some(hex) = &body.public_key else {
        return Ok(None);
    };
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, m.to_string());
    let bytes = fieldwork_core::at_rest::unhex(hex).ok_or_else(|| bad("public_key must be hex"))?;
    let bytes = fieldwork_core::attest::normalise_public_key(&bytes)
        .ok_or_else(|| bad("public_key is not a P-256 public key"))?;
    let backing = match body.key_backing.as_deref() {
        Some(b) => {
            KeyBacking::parse(b).ok_or_else(|| bad("key_backing must be hardware or software"))?
        }
        None => return Err(bad("key_backing is required with public_key")),
    };
    Ok(Some((bytes, backing)))
}

async fn enrol(
    State(st): State<Arc<AppState>>,
    Json(body): Json<EnrolBody>,
) -> ApiResult<Json<serde_json::Value>> {
    blocking(move || {
        let key = enrol_key(&body)?;
        let (token, p) = st
            .directory
            .enrol_with_key(
                &body.code,
                &body.device_id,
                key.as_ref().map(|(k, b)| (k.as_slice(), *b)),
            )
            .map_err(|e| match e {
                AuthError::Invalid(m) => ApiError::new(StatusCode::UNAUTHORIZED, m),
                other => other.into(),
            })?;
        crate::logs::identify(&p.tenant, p.device_id.as_deref());
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
    let tenant = p.tenant.clone();
    let engineer = p.person.clone();
    let st2 = st.clone();
    let dev = device.clone();
    // Checked and queued for the next group commit on a worker thread; then
    // the request waits without holding one (the group's leader answers it).
    let queued = blocking(move || -> ApiResult<Result<Queued, Response>> {
        let (st, device, engineer) = (st2, dev, engineer.as_str());
        let fw = st.tenant(&tenant)?;
        // Each push read here, once (the group applies it as read).
        // Malformed or truncated change bytes: 400 naming the document, and
        // nothing of the request is stored.
        let m = crate::metrics::metrics();
        let mut counts = Vec::with_capacity(request.push.len());
        let mut pushed: Vec<(String, usize)> = Vec::with_capacity(request.push.len());
        let mut docs = Vec::with_capacity(request.push.len());
        for d in request.push {
            let read = group::Pushed::read(d.doc_id, &d.changes);
            match read.changes() {
                Ok(n) => counts.push(n),
                Err(e) => {
                    let reason = e.to_string();
                    m.pushed(Pushed::Malformed, 1);
                    fw.log_refusal(&device, engineer, &read.doc_id, &reason, d.changes.len())?;
                    let body = serde_json::json!({
                        "error": format!("malformed changes for {}: {reason}", read.doc_id),
                        "doc_id": read.doc_id,
                    });
                    return Ok(Err((StatusCode::BAD_REQUEST, Json(body)).into_response()));
                }
            }
            pushed.push((read.doc_id.clone(), d.changes.len()));
            docs.push(read);
        }
        let key = st.directory.device_key(&tenant, &device)?;
        let cursor = request.cursor;
        // The round in one group commit, together with the pushes of other
        // requests that arrive meanwhile: authorisation for the whole
        // request (a forbidden document means nothing of it is stored),
        // each document applied, the commit, then the pull.
        let (tx, answer) = tokio::sync::oneshot::channel();
        let lead = fw.submit(
            PushRequest {
                device_id: device.clone(),
                engineer: engineer.to_string(),
                key,
                docs,
                pull: Some(Pull {
                    cursor: cursor.max(0),
                    limit: PULL_LIMIT,
                }),
            },
            Box::new(move |applied| {
                // The client may have gone away.
                let _ = tx.send(applied);
            }),
        );
        if lead {
            // Nobody was committing: this worker commits the next group
            // (this request's among them), and hands the lead to a new
            // worker if more wait, so its own answer goes out now.
            lead_groups(fw.clone());
        }
        Ok(Ok(Queued {
            fw,
            pushed,
            counts,
            cursor,
            answer,
        }))
    })
    .await?;
    let q = match queued {
        Ok(q) => q,
        Err(early) => return Ok(early),
    };
    let Queued {
        fw,
        pushed,
        counts,
        cursor,
        answer,
    } = q;
    let applied = answer
        .await
        .map_err(|_| ApiError::internal("the group commit stopped"))?;
    let engineer = p.person.clone();
    blocking(move || {
        let engineer = engineer.as_str();
        let m = crate::metrics::metrics();
        if !pushed.is_empty() {
            m.grouped(applied.group);
        }
        if !applied.forbidden.is_empty() {
            let mut results = Vec::with_capacity(applied.forbidden.len());
            for (doc_id, reason) in applied.forbidden {
                let (n, size) = pushed
                    .iter()
                    .zip(&counts)
                    .find(|((d, _), _)| *d == doc_id)
                    .map_or((0, 0), |((_, size), n)| (*n, *size));
                m.pushed(Pushed::Forbidden, n);
                fw.log_refusal(&device, engineer, &doc_id, &reason, size)?;
                results.push(PushResult {
                    doc_id,
                    result: DocResult::Refused(reason),
                });
            }
            let resp = SyncResponse {
                cursor,
                results,
                ..SyncResponse::default()
            };
            return Ok(binary(StatusCode::FORBIDDEN, resp.encode()));
        }
        let mut results = Vec::with_capacity(applied.answers.len());
        for (((doc_id, size), n), answer) in pushed.into_iter().zip(&counts).zip(applied.answers) {
            let result = match answer {
                Ok(()) => {
                    m.pushed(Pushed::Accepted, *n);
                    DocResult::Accepted
                }
                Err(PushRefusal::Store(e)) => return Err(ApiError::internal(e.to_string())),
                // Not stored and not kept: the device sends them again with
                // what they depend on.
                Err(PushRefusal::MissingDependencies(hashes)) => {
                    m.pushed(Pushed::MissingDependencies, *n);
                    DocResult::MissingDependencies(hashes)
                }
                Err(e) => {
                    m.pushed(Pushed::Refused, *n);
                    let reason = e.to_string();
                    fw.log_refusal(&device, engineer, &doc_id, &reason, size)?;
                    DocResult::Refused(reason)
                }
            };
            results.push(PushResult { doc_id, result });
        }
        st.publish(
            &p.tenant,
            results
                .iter()
                .filter(|r| matches!(r.result, DocResult::Accepted))
                .map(|r| r.doc_id.clone())
                .collect(),
        );
        let plan = applied
            .pulled
            .ok_or_else(|| ApiError::internal("no pull was planned"))?
            .map_err(|e| ApiError::internal(e.to_string()))?;
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

/// Commit the next group of `fw`'s queue; while more requests wait, the
/// next group is committed by another worker thread.
fn lead_groups(fw: Arc<ServerStore>) {
    if fw.lead_one() {
        tokio::task::spawn_blocking(move || lead_groups(fw));
    }
}

/// A sync request queued for the group commit, and what its answer needs.
struct Queued {
    fw: Arc<ServerStore>,
    pushed: Vec<(String, usize)>,
    counts: Vec<usize>,
    cursor: i64,
    answer: tokio::sync::oneshot::Receiver<fieldwork_core::sync::group::Applied>,
}

/// Whole documents for new grants, then the logged changes in order, runs of
/// one document's changes sent together.
fn pulled_docs(fw: &ServerStore, plan: &PullPlan) -> ApiResult<Vec<PulledDoc>> {
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
