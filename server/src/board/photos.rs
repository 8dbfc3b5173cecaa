//! Photos on the order page: thumbnails (the browser scales the image; a
//! HEIC or PDF is a link, which browsers do not show inline), each opening
//! the full file, and what is still waiting for the phone to send it.

use super::frame::{Denied, internal, t, ta, tenant_store, user, when};
use crate::auth::BoardUser;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fieldwork_core::model::{Photo, WorkOrder};
use maud::{Markup, html};
use std::collections::HashSet;
use std::sync::Arc;

/// The hashes of `order`'s photos the server holds whole.
pub(crate) fn held(st: &AppState, u: &BoardUser, order: &WorkOrder) -> HashSet<String> {
    let Ok(blobs) = st.blobs(&u.tenant) else {
        return HashSet::new();
    };
    order
        .photos
        .iter()
        .filter(|p| blobs.held(&p.hash).is_ok_and(|h| h.complete))
        .map(|p| p.hash.clone())
        .collect()
}

fn kind_name(u: &BoardUser, p: &Photo) -> String {
    t(
        u,
        &format!("photo-kind-{}", p.kind.as_str().replace('_', "-")),
    )
}

/// The order page's photos section.
pub(crate) fn section(u: &BoardUser, order: &WorkOrder, held: &HashSet<String>) -> Markup {
    html! {
        section.card #photos {
            h2 { (t(u, "photos-title")) }
            @if order.photos.is_empty() { p { (t(u, "photos-none")) } }
            div.photos {
                @for p in &order.photos {
                    @let href = format!("/board/orders/{}/photos/{}", order.id, p.id);
                    @let caption = p.caption.clone().unwrap_or_default();
                    figure.photo data-photo=(p.id) data-hash=(p.hash) {
                        @if p.is_removed() {
                            p.removed { (t(u, "photo-removed")) }
                        } @else if !held.contains(&p.hash) {
                            p.waiting data-waiting="1" { (t(u, "photo-waiting")) }
                        } @else if p.media_type.is_web_image() {
                            a href=(href) target="_blank" rel="noopener" {
                                img.thumb src=(href) loading="lazy" alt=(format!("{} {}", kind_name(u, p), caption));
                            }
                        } @else {
                            a href=(href) target="_blank" rel="noopener" { (ta(u, "photo-open", &[("kind", &p.media_type.mime().to_string())])) }
                        }
                        figcaption {
                            strong { (kind_name(u, p)) } " " bdi { (caption) } br;
                            small { (when(u.zone, p.at_ms)) " · " (p.by) }
                        }
                    }
                }
            }
        }
    }
}

/// One photo's bytes, for a signed-in dispatcher of the order's tenant.
pub(crate) async fn photo(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, photo_id)): Path<(String, String)>,
) -> Result<Response, Denied> {
    let u = user(&st, &headers)?;
    let found = crate::state::blocking(move || {
        let fw = tenant_store(&st, &u).map_err(|_| crate::state::ApiError::internal("store"))?;
        let Some((hash, declared)) = fw.photo_blob(&id, &photo_id)? else {
            return Ok(None);
        };
        let reader = st
            .blobs(&u.tenant)?
            .open(&hash)
            .map_err(|e| crate::state::ApiError::internal(e.to_string()))?;
        Ok(reader.map(|r| (r, declared)))
    })
    .await
    .map_err(|e| internal(e.message))?;
    Ok(match found {
        Some((reader, d)) => crate::state::stream_blob(reader, &d.media_type, d.size),
        None => (StatusCode::NOT_FOUND, "no such photo").into_response(),
    })
}
