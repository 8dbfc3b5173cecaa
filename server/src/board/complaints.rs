//! Complaints on the board: every open complaint with the form for its next
//! step, from registering a candidate to closing and classifying it.

use super::frame::views;
use super::frame::{Denied, desk_of, layout, page, poster, user};
use crate::auth::BoardUser;
use crate::state::{AppState, blocking};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use fieldwork_core::api::ComplaintStep;
use fieldwork_core::model::{Complaint, ComplaintCategory, ComplaintStage, WorkOrder};
use maud::{Markup, html};
use std::collections::HashMap;
use std::sync::Arc;

use super::frame::{label, parse, refusal, t, ta, tenant_store, when};

const CATEGORIES: [&str; 5] = [
    "repair_quality",
    "service_attitude",
    "timeliness",
    "fees",
    "other",
];

fn category_select(u: &BoardUser, name: &str) -> Markup {
    html! { label { (t(u, "complaint-category")) select name=(name) { @for v in CATEGORIES { option value=(v) { (t(u, &format!("enum-{}", v.replace('_', "-")))) } } } } }
}

pub(crate) async fn complaints(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, Denied> {
    let u = user(&st, &headers)?;
    blocking(move || Ok(render(&st, &u, None)))
        .await
        .map_err(|e| Denied::Internal(e.message))?
}

/// `error`: (complaint id, message) from a refused step.
fn render(
    st: &AppState,
    u: &BoardUser,
    error: Option<(String, String)>,
) -> Result<Response, Denied> {
    let fw = tenant_store(st, u)?;
    let mut open: Vec<(WorkOrder, Complaint)> = Vec::new();
    let mut closed = 0usize;
    for v in views(&fw, &[])? {
        for c in &v.order.complaints {
            if c.stage == ComplaintStage::Closed {
                closed += 1;
            } else {
                open.push((v.order.clone(), c.clone()));
            }
        }
    }
    open.sort_by_key(|(_, c)| (!c.major, c.registered_at_ms));
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = html! {
        h1 { (t(u, "complaints-title")) }
        p { (ta(u, "complaints-summary", &[("open", &(open.len() as i64)), ("closed", &(closed as i64))])) }
        @for (o, c) in &open {
            section.card.complaint data-complaint=(c.id) {
                h2 {
                    @if c.major { span.badge.urgent { (t(u, "major")) } " " }
                    a href={ "/board/orders/" (o.id) } { bdi { (o.intake.customer.name) } }
                    " " span.badge.stage { (label(u, &c.stage)) }
                }
                p { (fieldwork_core::l10n::stored_text(u.lang, &c.what)) }
                p { small { (ta(u, "registered-by", &[("when", &when(u.zone, c.registered_at_ms)), ("by", &c.by), ("category", &label(u, &c.category))])) } }
                @if let Some(r) = &c.responsible { p { (ta(u, "responsible", &[("who", r)])) @if !c.team.is_empty() { " · " (ta(u, "team", &[("team", &c.team.join(", "))])) } } }
                @if let Some(f) = &c.investigation { p { (ta(u, "findings", &[("what", f)])) } }
                @if !c.proposals.is_empty() { p { (t(u, "proposed")) " " } ol { @for p in &c.proposals { li { (p) @if c.resolution.as_deref() == Some(p.as_str()) { " " span.badge.valid { (t(u, "chosen")) } } } } } }
                @if let Some(a) = &c.accepted_by { p { (ta(u, "accepted-by", &[("who", a)])) } }
                @if let Some((id, m)) = &error { @if *id == c.id { p.error role="alert" { (m) } } }
                (next_step(u, o, c))
            }
        }
    };
    Ok(page(status, layout(u, &t(u, "complaints-title"), body)))
}

fn step_form(
    u: &BoardUser,
    o: &WorkOrder,
    c: &Complaint,
    step: &str,
    inner: Markup,
    button: &str,
) -> Markup {
    html! {
        form.step method="post" action={ "/board/orders/" (o.id) "/complaints/" (c.id) } {
            input type="hidden" name="csrf" value=(u.csrf);
            input type="hidden" name="step" value=(step);
            (inner)
            button type="submit" { (t(u, button)) }
        }
    }
}

fn next_step(u: &BoardUser, o: &WorkOrder, c: &Complaint) -> Markup {
    match c.stage {
        ComplaintStage::Candidate => step_form(u, o, c, "register", html! {}, "step-register"),
        ComplaintStage::Registered => step_form(
            u,
            o,
            c,
            "judge",
            html! {
                label.inline { input type="radio" name="stands" value="yes" checked; (t(u, "it-stands")) }
                label.inline { input type="radio" name="stands" value="no"; (t(u, "it-does-not-stand")) }
                label { (t(u, "explanation")) textarea name="explanation" rows="2" {} }
            },
            "step-judge",
        ),
        ComplaintStage::Investigating => html! {
            (step_form(u, o, c, "responsible", html! {
                label { (t(u, "responsible-party")) input name="party" placeholder=(t(u, "responsible-placeholder")); }
                label { (t(u, "handling-team")) input name="team"; }
            }, "step-responsible"))
            (step_form(u, o, c, "investigate", html! { label { (t(u, "findings-label")) textarea name="findings" rows="2" {} } }, "step-investigate"))
            (step_form(u, o, c, "propose", html! { label { (t(u, "resolutions-label")) textarea name="resolutions" rows="3" {} } }, "step-propose"))
        },
        ComplaintStage::ResolutionProposed => html! {
            @if u.supervisor {
                (step_form(u, o, c, "pick", html! {
                    @for (i, p) in c.proposals.iter().enumerate() { label.inline { input type="radio" name="index" value=(i) checked[i == 0]; (p) } }
                }, "step-pick"))
            } @else if c.resolution.is_none() { p { em { (t(u, "waiting-for-supervisor")) } } }
            @if c.resolution.is_some() {
                (step_form(u, o, c, "accept", html! { label { (t(u, "accepting-customer")) input name="signer_name"; } }, "step-accept"))
            }
        },
        ComplaintStage::CustomerAccepted => html! {
            (step_form(u, o, c, "feedback", html! { label { (t(u, "feedback-label")) textarea name="text" rows="2" {} } }, "step-feedback"))
            (step_form(u, o, c, "close", category_select(u, "category"), "step-close"))
        },
        ComplaintStage::Closed => html! {},
    }
}

/// The step a form describes, or why it cannot be read.
fn step_of(u: &BoardUser, f: &HashMap<String, String>) -> Result<ComplaintStep, String> {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let some = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
    Ok(match get("step").as_str() {
        "register" => ComplaintStep::Register,
        "judge" => ComplaintStep::Judge {
            stands: get("stands") != "no",
            explanation: some("explanation"),
        },
        "responsible" => ComplaintStep::Responsible {
            party: get("party"),
            team: get("team")
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        },
        "investigate" => ComplaintStep::Investigate {
            findings: get("findings"),
        },
        "propose" => ComplaintStep::Propose {
            resolutions: get("resolutions")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        },
        "pick" => ComplaintStep::Pick {
            index: get("index")
                .parse()
                .map_err(|_| t(u, "reason-pick-resolution"))?,
        },
        "accept" => ComplaintStep::CustomerAccepts {
            signer_name: get("signer_name"),
        },
        "feedback" => ComplaintStep::Feedback { text: get("text") },
        "close" => ComplaintStep::Close {
            category: parse::<ComplaintCategory>(&get("category"))
                .ok_or_else(|| t(u, "choose-category"))?,
        },
        _ => return Err(t(u, "unknown-step")),
    })
}

pub(crate) async fn advance(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, cid)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, Denied> {
    let u = poster(
        &st,
        &headers,
        f.get("csrf").map(String::as_str).unwrap_or_default(),
    )?;
    blocking(move || {
        let outcome = match step_of(&u, &f) {
            Err(m) => Err(m),
            Ok(step) => refusal(&u, desk_of(&st, &u).advance_complaint(&id, &cid, step))?,
        };
        Ok(match outcome {
            Ok(()) => Ok(Redirect::to("/board/complaints").into_response()),
            Err(m) => render(&st, &u, Some((cid, m))),
        })
    })
    .await
    .map_err(|e| Denied::Internal(e.message))?
}

/// The desk registers a complaint on an order (who and when are recorded).
pub(crate) async fn register(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, Denied> {
    let u = poster(
        &st,
        &headers,
        f.get("csrf").map(String::as_str).unwrap_or_default(),
    )?;
    blocking(move || {
        let what = f
            .get("what")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let category =
            parse::<ComplaintCategory>(f.get("category").map(String::as_str).unwrap_or_default());
        let major = f.contains_key("major");
        let result = match category {
            None => Err(t(&u, "choose-category")),
            Some(c) => refusal(
                &u,
                desk_of(&st, &u).register_complaint(&id, &what, c, major),
            )?
            .map(|_| ()),
        };
        Ok(match result {
            Ok(()) => Redirect::to("/board/complaints").into_response(),
            Err(m) => page(
                StatusCode::UNPROCESSABLE_ENTITY,
                layout(
                    &u,
                    &t(&u, "complaint-not-registered"),
                    html! {
                        h1 { (t(&u, "complaint-not-registered")) }
                        p.error role="alert" { (m) }
                        p { a href={ "/board/orders/" (id) } { (t(&u, "back-to-order")) } }
                    },
                ),
            ),
        })
    })
    .await
    .map_err(|e| Denied::Internal(e.message))
}

/// The register form the order page shows.
pub(crate) fn register_form(u: &BoardUser, order_id: &str) -> Markup {
    html! {
        form #register-complaint method="post" action={ "/board/orders/" (order_id) "/complaints" } {
            input type="hidden" name="csrf" value=(u.csrf);
            label { (t(u, "complaint-what")) textarea name="what" rows="2" {} }
            (category_select(u, "category"))
            label.inline { input type="checkbox" name="major" value="yes"; (t(u, "complaint-major")) }
            button type="submit" { (t(u, "register-complaint")) }
        }
    }
}
