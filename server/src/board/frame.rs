//! What every board page shares: the frame and the security headers, who is
//! signed in (and the anti-forgery token of a form post), the desk service
//! for them, refusals shown as messages, and formatting of times, labels and
//! durations. Pages import from here; nothing here imports a page.

use crate::auth::BoardUser;
use crate::desk::DeskResult;
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fieldwork_core::api::OrderView;
use fieldwork_core::model::Status;
use fieldwork_core::rules::roles::DeskRole;
use fieldwork_core::{Fieldwork, OrderFilter, ServerStore};
use maud::{DOCTYPE, Markup, html};
use serde::de::DeserializeOwned;
use std::sync::Arc;

pub(crate) const SESSION_COOKIE: &str = "fw_session";

/// A page answer with the board's security headers.
pub(crate) fn page(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, markup.into_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A page's head: its title, the board's style and (signed in) its script.
pub(crate) fn head(title: &str, script: bool) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Fieldwork" }
            link rel="stylesheet" href="/board/assets/board.css";
            @if script { script src="/board/assets/board.js" defer {} }
        }
    }
}

/// The frame every signed-in page shares.
pub(crate) fn layout(user: &BoardUser, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, true))
            body {
                header.top {
                    a.brand href="/board" { "Fieldwork" }
                    nav {
                        a href="/board" { "Board" }
                        a href="/board/intake" { "New order" }
                        a href="/board/follow-ups" { "Follow-ups" }
                        a href="/board/complaints" { "Complaints" }
                        a href="/board/mail-in" { "Mail-in" }
                        a href="/board/stats" { "Statistics" }
                        a href="/board/settings" { "Settings" }
                    }
                    span.who { (user.name) " · " (user.tenant) @if user.supervisor { " · supervisor" } }
                    span.zone title="time zone" { (user.zone.name()) " " (fieldwork_core::local_time::offset_label(user.zone, now_ms())) }
                    form method="post" action="/board/sign-out" {
                        input type="hidden" name="csrf" value=(user.csrf);
                        button.link type="submit" { "Sign out" }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Why a board request was not let through.
#[derive(Debug)]
pub(crate) enum Denied {
    /// No live session: to the sign-in page.
    SignIn,
    /// A form without the session's anti-forgery token.
    Forged,
    /// Storage failed.
    Internal(String),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::SignIn => Redirect::to("/board/sign-in").into_response(),
            Denied::Forged => page(
                StatusCode::FORBIDDEN,
                message_page("This form has expired", "Reload the page and try again."),
            ),
            Denied::Internal(e) => {
                eprintln!("board: {e}");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    message_page(
                        "Something went wrong",
                        "The server could not do that. Try again.",
                    ),
                )
            }
        }
    }
}

impl From<crate::auth::AuthError> for Denied {
    fn from(e: crate::auth::AuthError) -> Self {
        Denied::Internal(e.to_string())
    }
}

/// The desk service for the signed-in dispatcher or supervisor.
pub(crate) fn desk_of<'a>(st: &'a AppState, u: &BoardUser) -> crate::desk::DeskService<'a> {
    st.desk(&u.tenant, &u.person, DeskRole::of(u.supervisor))
}

/// The signed-in board user, or a redirect to the sign-in page.
pub(crate) fn user(st: &AppState, headers: &HeaderMap) -> Result<BoardUser, Denied> {
    let session = cookie(headers, SESSION_COOKIE).ok_or(Denied::SignIn)?;
    let mut u = st.directory.board_session(session)?.ok_or(Denied::SignIn)?;
    u.zone = tenant_store(st, &u)?.policy().zone();
    Ok(u)
}

/// The signed-in user, for a form post that must carry their token.
pub(crate) fn poster(st: &AppState, headers: &HeaderMap, csrf: &str) -> Result<BoardUser, Denied> {
    let u = user(st, headers)?;
    if !same(csrf, &u.csrf) {
        return Err(Denied::Forged);
    }
    Ok(u)
}

/// Compare secrets in time that does not depend on where they differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A time as the service center reads it: local, in its time zone.
pub(crate) fn when(zone: chrono_tz::Tz, ms: i64) -> String {
    fieldwork_core::local_time::format_local(zone, ms)
}

pub(crate) fn words(s: &str) -> String {
    s.replace('_', " ")
}

pub(crate) fn label<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(words))
        .unwrap_or_default()
}

pub(crate) fn parse<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

pub(crate) fn left(ms: i64) -> String {
    let m = ms.abs().div_euclid(60_000);
    let text = if m >= 60 {
        format!("{} h {} min", m / 60, m % 60)
    } else {
        format!("{m} min")
    };
    if ms < 0 {
        format!("overdue {text}")
    } else {
        format!("{text} left")
    }
}

pub(crate) fn tenant_store(st: &AppState, u: &BoardUser) -> Result<Arc<ServerStore>, Denied> {
    st.tenant(&u.tenant)
        .map_err(|e| Denied::Internal(e.message))
}

pub(crate) fn internal(e: impl std::fmt::Display) -> Denied {
    Denied::Internal(e.to_string())
}

/// A refusal the dispatcher can act on becomes its message; anything else
/// (storage) is a server error.
pub(crate) fn refusal<T>(r: DeskResult<T>) -> Result<Result<T, String>, crate::state::ApiError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => match e.message() {
            Some(m) => Ok(Err(m)),
            None => Err(e.into()),
        },
    }
}

/// Every order of the tenant with `statuses` (all if empty), as views.
pub(crate) fn views(fw: &Fieldwork, statuses: &[Status]) -> Result<Vec<OrderView>, Denied> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let rows = fw
            .list_orders(&OrderFilter {
                statuses: statuses.to_vec(),
                limit: OrderFilter::MAX_LIMIT,
                offset,
                ..OrderFilter::default()
            })
            .map_err(internal)?;
        let n = rows.len();
        for r in rows {
            out.push(fw.order(&r.id).map_err(internal)?);
        }
        if n < OrderFilter::MAX_LIMIT as usize {
            return Ok(out);
        }
        offset += OrderFilter::MAX_LIMIT;
    }
}

pub(crate) fn message_page(title: &str, text: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) } link rel="stylesheet" href="/board/assets/board.css"; }
            body { main.narrow { h1 { (title) } p { (text) } p { a href="/board" { "Back to the board" } } } }
        }
    }
}
