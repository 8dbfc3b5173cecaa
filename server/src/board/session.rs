//! Signing in and out of the board, its own script and style, and the live
//! event stream a signed-in page listens to.

use super::frame::{Denied, SESSION_COOKIE, cookie, head, page, poster, same, user};
use crate::state::{AppState, Changed};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use std::sync::Arc;

const SIGN_IN_COOKIE: &str = "fw_signin";

const SCRIPT: &str = include_str!("board.js");

const STYLE: &str = include_str!("board.css");

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
            (head("Sign in", false))
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

pub(crate) async fn sign_in_page(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
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
pub(crate) struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn sign_in(
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
    let result = crate::state::blocking(move || {
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

pub(crate) async fn sign_out(
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

pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

pub(crate) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// Server-sent events: `orders` with the comma-separated ids of the signed-in
/// tenant's orders that changed. Other tenants' changes never reach it.
pub(crate) async fn events(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, Denied> {
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
