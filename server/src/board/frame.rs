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
use fieldwork_core::{Language, l10n};
use fluent_bundle::FluentValue;
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
    let u = user;
    // The countdowns board.js keeps current, in this language.
    let (h, m, span) = (
        String::from("{h}"),
        String::from("{m}"),
        String::from("{span}"),
    );
    html! {
        (DOCTYPE)
        html lang=(u.lang.tag()) {
            (head(title, true))
            body data-span-hm=(ta(u, "span-hm", &[("h", &h), ("m", &m)])) data-span-m=(ta(u, "span-m", &[("m", &m)]))
                data-left=(ta(u, "time-left", &[("span", &span)])) data-overdue=(ta(u, "time-overdue", &[("span", &span)])) {
                header.top {
                    a.brand href="/board" { (t(u, "brand")) }
                    nav {
                        a href="/board" { (t(u, "nav-board")) }
                        a href="/board/intake" { (t(u, "nav-new-order")) }
                        a href="/board/follow-ups" { (t(u, "nav-follow-ups")) }
                        a href="/board/complaints" { (t(u, "nav-complaints")) }
                        a href="/board/mail-in" { (t(u, "nav-mail-in")) }
                        a href="/board/stats" { (t(u, "nav-statistics")) }
                        a href="/board/settings" { (t(u, "nav-settings")) }
                    }
                    span.who { (u.name) " · " (u.tenant) @if u.supervisor { " · " (t(u, "who-supervisor")) } }
                    span.zone title=(t(u, "time-zone")) { (u.zone.name()) " " (fieldwork_core::local_time::offset_label(u.zone, now_ms())) }
                    form.language method="post" action="/board/language" {
                        input type="hidden" name="csrf" value=(u.csrf);
                        select name="language" aria-label=(t(u, "language")) {
                            option value="" selected[u.chosen_language.is_none()] { (t(u, "language-auto")) }
                            option value="zh-CN" selected[u.chosen_language == Some(Language::ZhCn)] { "简体中文" }
                            option value="en" selected[u.chosen_language == Some(Language::En)] { "English" }
                        }
                        button.link type="submit" { (t(u, "language-change")) }
                    }
                    form method="post" action="/board/sign-out" {
                        input type="hidden" name="csrf" value=(u.csrf);
                        button.link type="submit" { (t(u, "sign-out")) }
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
    /// A form without the session's anti-forgery token (the page in
    /// the user's language).
    Forged(Language),
    /// Storage failed.
    Internal(String),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::SignIn => Redirect::to("/board/sign-in").into_response(),
            Denied::Forged(lang) => page(
                StatusCode::FORBIDDEN,
                message_page(
                    lang,
                    &l10n::t(lang, "form-expired"),
                    &l10n::t(lang, "form-expired-text"),
                ),
            ),
            Denied::Internal(e) => {
                eprintln!("board: {e}");
                // Without a user at hand: both languages.
                let both = |id: &str| {
                    format!(
                        "{} / {}",
                        l10n::t(Language::ZhCn, id),
                        l10n::t(Language::En, id)
                    )
                };
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    message_page(
                        Language::En,
                        &both("server-error"),
                        &both("server-error-text"),
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
    crate::logs::identify(&u.tenant, None);
    // As this process last saw the settings: no extra round trip per page.
    let fw = tenant_store(st, &u)?;
    u.zone = fw.policy().zone();
    // Their choice, else their browser's, else the service center's.
    u.lang = u
        .chosen_language
        .or_else(|| browser_language(headers))
        .unwrap_or_else(|| fw.language());
    Ok(u)
}

/// The language the browser asks for, if Fieldwork speaks it.
pub(crate) fn browser_language(headers: &HeaderMap) -> Option<Language> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Language::negotiate)
}

/// The signed-in user, for a form post that must carry their token.
pub(crate) fn poster(st: &AppState, headers: &HeaderMap, csrf: &str) -> Result<BoardUser, Denied> {
    let u = user(st, headers)?;
    if !same(csrf, &u.csrf) {
        return Err(Denied::Forged(u.lang));
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

/// Message `id` in the board user's language.
pub(crate) fn t(u: &BoardUser, id: &str) -> String {
    l10n::t(u.lang, id)
}

/// Message `id` with arguments (text or numbers).
pub(crate) fn ta(u: &BoardUser, id: &str, args: &[(&str, &dyn Arg)]) -> String {
    let args: Vec<l10n::Arg<'_>> = args.iter().map(|(k, v)| (*k, v.value())).collect();
    l10n::text(u.lang, id, &args)
}

/// What a message argument may be.
pub(crate) trait Arg {
    fn value(&self) -> FluentValue<'_>;
}

impl Arg for str {
    fn value(&self) -> FluentValue<'_> {
        FluentValue::from(self)
    }
}

impl Arg for String {
    fn value(&self) -> FluentValue<'_> {
        FluentValue::from(self.as_str())
    }
}

impl Arg for i64 {
    fn value(&self) -> FluentValue<'_> {
        FluentValue::from(*self)
    }
}

/// The words for a value of one of the documents' enums (a channel, a
/// rating, a part's state…): message `enum-<value>`.
pub(crate) fn label<T: serde::Serialize>(u: &BoardUser, v: &T) -> String {
    let slug = serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    t(u, &format!("enum-{}", slug.replace('_', "-")))
}

/// An order status (`in_progress`): message `status-in-progress`.
pub(crate) fn status_name(u: &BoardUser, s: &str) -> String {
    t(u, &format!("status-{}", s.replace('_', "-")))
}

/// An SLA clock (`follow_up`): message `clock-follow-up`.
pub(crate) fn clock_name(u: &BoardUser, c: &str) -> String {
    t(u, &format!("clock-{}", c.replace('_', "-")))
}

pub(crate) fn parse<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// Time to a due time as the board shows it: "2 h 5 min left",
/// "overdue 10 min" (board.js keeps it current with the same messages).
pub(crate) fn left(u: &BoardUser, ms: i64) -> String {
    let m = ms.abs().div_euclid(60_000);
    let span = if m >= 60 {
        ta(u, "span-hm", &[("h", &(m / 60)), ("m", &(m % 60))])
    } else {
        ta(u, "span-m", &[("m", &m)])
    };
    if ms < 0 {
        ta(u, "time-overdue", &[("span", &span)])
    } else {
        ta(u, "time-left", &[("span", &span)])
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
pub(crate) fn refusal<T>(
    u: &BoardUser,
    r: DeskResult<T>,
) -> Result<Result<T, String>, crate::state::ApiError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => match e.message_in(u.lang) {
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

pub(crate) fn message_page(lang: Language, title: &str, text: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head { meta charset="utf-8"; title { (title) } link rel="stylesheet" href="/board/assets/board.css"; }
            body { main.narrow { h1 { (title) } p { (text) } p { a href="/board" { (l10n::t(lang, "back-to-board")) } } } }
        }
    }
}
