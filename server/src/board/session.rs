//! Signing in and out of the board, its own script and style, and the live
//! event stream a signed-in page listens to.

use super::frame::{
    Denied, SESSION_COOKIE, browser_language, cookie, head, message_page, page, poster, same, user,
};
use crate::state::{AppState, Changed};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use fieldwork_core::{Language, l10n};
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

/// The language of a page before sign-in: the browser's, else English.
fn lang_of(headers: &HeaderMap) -> Language {
    browser_language(headers).unwrap_or(Language::En)
}

fn sign_in_form(
    lang: Language,
    token: &str,
    tenant: &str,
    person: &str,
    error: Option<&str>,
) -> Markup {
    let t = |id: &str| l10n::t(lang, id);
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            (head(&t("sign-in"), false))
            body {
                main.narrow {
                    h1 { (t("sign-in-title")) }
                    p { (t("sign-in-who")) }
                    @if let Some(e) = error { p.error role="alert" { (e) } }
                    form method="post" action="/board/sign-in" {
                        input type="hidden" name="csrf" value=(token);
                        label { (t("sign-in-tenant")) input name="tenant" value=(tenant) required autocomplete="organization"; }
                        label { (t("sign-in-user")) input name="person" value=(person) required autocomplete="username"; }
                        label { (t("sign-in-password")) input name="password" type="password" required autocomplete="current-password"; }
                        button type="submit" { (t("sign-in")) }
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
        page(
            StatusCode::OK,
            sign_in_form(lang_of(&headers), &token, "", "", None),
        ),
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
        return Denied::Forged(lang_of(&headers)).into_response();
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
                lang_of(&headers),
                &expected,
                &f.tenant,
                &f.person,
                Some(&l10n::t(lang_of(&headers), "sign-in-refused")),
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

#[derive(Debug, Deserialize)]
pub(crate) struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    language: String,
}

/// Keep the signed-in user's language (empty: follow the browser).
pub(crate) async fn choose_language(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<LanguageForm>,
) -> Result<Response, Denied> {
    let u = poster(&st, &headers, &f.csrf)?;
    let chosen = match f.language.as_str() {
        "" => None,
        tag => match Language::parse_setting(tag) {
            Some(l) => Some(l),
            None => {
                let say = |id: &str| l10n::t(u.lang, id);
                return Ok(page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    message_page(
                        u.lang,
                        &say("language-unknown"),
                        &say("language-unknown-text"),
                    ),
                ));
            }
        },
    };
    st.directory.set_language(&u.tenant, &u.person, chosen)?;
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("/board").map(|(_, p)| format!("/board{p}")))
        .unwrap_or_else(|| "/board".into());
    Ok(Redirect::to(&back).into_response())
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
/// One live board connection, in `fieldwork_board_connections`.
struct Connected;

impl Connected {
    fn new() -> Connected {
        crate::metrics::metrics().board_connections.inc();
        Connected
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        crate::metrics::metrics().board_connections.dec();
    }
}

pub(crate) async fn events(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, Denied> {
    let u = user(&st, &headers)?;
    let rx = st.changed.subscribe();
    // Counted while the stream lives: it is dropped when the browser goes.
    let connected = Connected::new();
    let stream = futures_util::stream::unfold(
        (rx, u.tenant, connected),
        |(mut rx, tenant, c)| async move {
            loop {
                match rx.recv().await {
                    Ok(Changed { tenant: t, ids }) if t == tenant => {
                        let event = Event::default().event("orders").data(ids.join(","));
                        return Some((Ok::<_, std::convert::Infallible>(event), (rx, tenant, c)));
                    }
                    Ok(_) => continue,
                    // Fell behind: tell the page to refresh everything.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let event = Event::default().event("orders").data("*");
                        return Some((Ok(event), (rx, tenant, c)));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
