//! The dispatcher board: server-rendered HTML for dispatchers and
//! supervisors, signed in with a session cookie. Reading works without
//! JavaScript; a small script (`board.js`) keeps pages live through
//! server-sent events as devices sync, and ticks the SLA countdowns.
//!
//! Security: the session cookie is `HttpOnly` and `SameSite=Strict`; every
//! form carries the session's anti-forgery token; every value is escaped by
//! `maud`; pages are served with a content security policy that allows only
//! this server's own script and style.

mod complaints;
mod desk;
mod pages;
mod stats;
mod svg;

use crate::app::{AppState, Changed};
use crate::auth::BoardUser;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use std::sync::Arc;

const SESSION_COOKIE: &str = "fw_session";
const SIGN_IN_COOKIE: &str = "fw_signin";
const SCRIPT: &str = include_str!("board.js");
const STYLE: &str = include_str!("board.css");

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/board") }))
        .route("/board/sign-in", get(sign_in_page).post(sign_in))
        .route("/board/sign-out", post(sign_out))
        .route("/board/assets/board.js", get(script))
        .route("/board/assets/board.css", get(style))
        .route("/board/events", get(events))
        .route("/board", get(pages::board))
        .route("/board/intake", get(pages::intake_page).post(pages::intake))
        .route("/board/orders/{id}", get(pages::order_page))
        .route("/board/orders/{id}/assign", post(pages::assign))
        .route("/board/follow-ups", get(desk::follow_ups))
        .route("/board/orders/{id}/follow-up", post(desk::record_follow_up))
        .route("/board/complaints", get(complaints::complaints))
        .route("/board/orders/{id}/complaints", post(complaints::register))
        .route(
            "/board/orders/{id}/complaints/{cid}",
            post(complaints::advance),
        )
        .route("/board/stats", get(stats::stats))
        .route("/board/stats.csv", get(stats::stats_csv))
        .route("/board/mail-in", get(desk::mail_in))
        .route("/board/orders/{id}/mail-in", post(desk::record_mail_in))
}

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

/// The frame every signed-in page shares.
pub(crate) fn layout(user: &BoardUser, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Fieldwork" }
                link rel="stylesheet" href="/board/assets/board.css";
                script src="/board/assets/board.js" defer {}
            }
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
                    }
                    span.who { (user.name) " · " (user.tenant) @if user.supervisor { " · supervisor" } }
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

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
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

/// The signed-in board user, or a redirect to the sign-in page.
pub(crate) fn user(st: &AppState, headers: &HeaderMap) -> Result<BoardUser, Denied> {
    let session = cookie(headers, SESSION_COOKIE).ok_or(Denied::SignIn)?;
    st.directory.board_session(session)?.ok_or(Denied::SignIn)
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
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn message_page(title: &str, text: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) } link rel="stylesheet" href="/board/assets/board.css"; }
            body { main.narrow { h1 { (title) } p { (text) } p { a href="/board" { "Back to the board" } } } }
        }
    }
}

fn secret() -> String {
    rand::random::<[u8; 24]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sign_in_form(token: &str, tenant: &str, person: &str, error: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Sign in · Fieldwork" }
                link rel="stylesheet" href="/board/assets/board.css";
            }
            body {
                main.narrow {
                    h1 { "Fieldwork board" }
                    p { "For dispatchers and supervisors. Engineers use the app on their phone." }
                    @if let Some(e) = error { p.error role="alert" { (e) } }
                    form method="post" action="/board/sign-in" {
                        input type="hidden" name="csrf" value=(token);
                        label { "Service center" input name="tenant" value=(tenant) required autocomplete="organization"; }
                        label { "User" input name="person" value=(person) required autocomplete="username"; }
                        label { "Password" input name="password" type="password" required autocomplete="current-password"; }
                        button type="submit" { "Sign in" }
                    }
                }
            }
        }
    }
}

fn with_cookie(mut r: Response, cookie: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn sign_in_page(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if user(&st, &headers).is_ok() {
        return Redirect::to("/board").into_response();
    }
    // Anti-forgery for the sign-in form itself: a cookie and a field that must match.
    let token = secret();
    with_cookie(
        page(StatusCode::OK, sign_in_form(&token, "", "", None)),
        format!("{SIGN_IN_COOKIE}={token}; Path=/board; HttpOnly; SameSite=Strict; Max-Age=3600"),
    )
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    password: String,
}

async fn sign_in(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let expected = cookie(&headers, SIGN_IN_COOKIE)
        .unwrap_or_default()
        .to_string();
    if expected.is_empty() || !same(&f.csrf, &expected) {
        return Denied::Forged.into_response();
    }
    let (tenant, person, password) = (f.tenant.clone(), f.person.clone(), f.password);
    let result = crate::app::blocking(move || {
        st.directory
            .sign_in(&tenant, &person, &password)
            .map_err(Into::into)
    })
    .await;
    match result {
        Ok(Some(session)) => with_cookie(
            Redirect::to("/board").into_response(),
            format!(
                "{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                crate::auth::SESSION_MS / 1000
            ),
        ),
        Ok(None) => page(
            StatusCode::UNAUTHORIZED,
            sign_in_form(
                &expected,
                &f.tenant,
                &f.person,
                Some("Unknown service center, user or password."),
            ),
        ),
        Err(e) => Denied::Internal(e.to_string()).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, Denied> {
    poster(&st, &headers, &f.csrf)?;
    if let Some(session) = cookie(&headers, SESSION_COOKIE) {
        st.directory.sign_out(session)?;
    }
    Ok(with_cookie(
        Redirect::to("/board/sign-in").into_response(),
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    ))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// Server-sent events: `orders` with the comma-separated ids of the signed-in
/// tenant's orders that changed. Other tenants' changes never reach it.
async fn events(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, Denied> {
    let u = user(&st, &headers)?;
    let rx = st.changed.subscribe();
    let stream = futures_util::stream::unfold((rx, u.tenant), |(mut rx, tenant)| async move {
        loop {
            match rx.recv().await {
                Ok(Changed { tenant: t, ids }) if t == tenant => {
                    let event = Event::default().event("orders").data(ids.join(","));
                    return Some((Ok::<_, std::convert::Infallible>(event), (rx, tenant)));
                }
                Ok(_) => continue,
                // Fell behind: tell the page to refresh everything.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let event = Event::default().event("orders").data("*");
                    return Some((Ok(event), (rx, tenant)));
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
