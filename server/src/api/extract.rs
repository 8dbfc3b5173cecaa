//! The API's extractors: each refusal answers as every API error does,
//! `{"error": …}` in JSON with the reason, and the caller's token is
//! checked before anything else is read.

use crate::auth::{Principal, Role};
use crate::state::{ApiError, AppState, authenticate};
use axum::Json;
use axum::extract::{Path, Query};
use std::sync::Arc;

/// The caller, a dispatcher: checked before anything else is read, so a
/// call without a valid token is answered 401 whatever else is wrong.
#[derive(Debug)]
pub(super) struct Dispatcher(pub(super) Principal);

impl axum::extract::FromRequestParts<Arc<AppState>> for Dispatcher {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        st: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        authenticate(st, &parts.headers, Role::Dispatcher).map(Dispatcher)
    }
}

/// Query parameters; one that does not read is answered as every API
/// error is, `{"error": …}` with the reason (400).
#[derive(Debug)]
pub(super) struct Params<T>(pub(super) T);

impl<T, S> axum::extract::FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Params(v)),
            Err(e) => Err(ApiError::new(e.status(), e.body_text())),
        }
    }
}

/// Path segments, the same way: a segment that does not read (not UTF-8
/// once decoded) is a JSON 400.
#[derive(Debug)]
pub(super) struct Segments<T>(pub(super) T);

impl<T, S> axum::extract::FromRequestParts<S> for Segments<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Segments(v)),
            Err(e) => Err(ApiError::new(e.status(), e.body_text())),
        }
    }
}

/// A JSON body; one that does not read is answered as every API error
/// is, `{"error": …}` with the reason (which field, what was expected).
#[derive(Debug)]
pub(super) struct Body<T>(pub(super) T);

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
