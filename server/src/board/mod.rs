//! The dispatcher board: server-rendered HTML for dispatchers and
//! supervisors, signed in with a session cookie. Reading works without
//! JavaScript; a small script (`board.js`) keeps pages live through
//! server-sent events as devices sync, and ticks the SLA countdowns.
//!
//! Security: the session cookie is `HttpOnly` and `SameSite=Strict`; every
//! form carries the session's anti-forgery token; every value is escaped by
//! `maud`; pages are served with a content security policy that allows only
//! this server's own script and style.
//!
//! Layout: `frame` is what every page shares (the frame, who is signed in,
//! formatting); `session` signs in and out and streams live updates; the
//! pages are `pages` (board, order, intake, assignment), `photos` (the
//! order's photos and their files), `report` (the PDF), `desk` (follow-up
//! calls, mail-in), `complaints` and `stats`. Every desk intent goes through
//! the server's desk service, which the dispatcher API calls too.

mod complaints;
mod desk;
mod frame;
mod pages;
mod photos;
mod report;
mod session;
mod settings;
mod stats;
mod svg;

use crate::state::AppState;
use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/board") }))
        .route(
            "/board/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/board/sign-out", post(session::sign_out))
        .route("/board/language", post(session::choose_language))
        .route("/board/assets/board.js", get(session::script))
        .route("/board/assets/board.css", get(session::style))
        .route("/board/events", get(session::events))
        .route("/board", get(pages::board))
        .route("/board/intake", get(pages::intake_page).post(pages::intake))
        .route("/board/orders/{id}", get(pages::order_page))
        .route("/board/orders/{id}/assign", post(pages::assign))
        .route("/board/orders/{id}/photos/{photo_id}", get(photos::photo))
        .route("/board/orders/{id}/report.pdf", get(report::report_pdf))
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
        .route(
            "/board/settings",
            get(settings::settings_page).post(settings::save_settings),
        )
        .route("/board/orders/{id}/mail-in", post(desk::record_mail_in))
}
