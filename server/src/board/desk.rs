//! The desk's queues: follow-up calls due after service, and mail-in repairs
//! with their milestones, overdue first.

use super::frame::{Denied, desk_of, layout, page, poster, user};
use crate::auth::BoardUser;
use crate::desk::DeskError;
use crate::state::{AppState, blocking};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use fieldwork_core::Error as CoreError;
use fieldwork_core::api::{FollowUpInput, MailInMilestone, OrderView};
use fieldwork_core::model::{Channel, Rating, Status};
use fieldwork_core::rules::sla::ClockKind;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::frame::{label, left, now_ms, parse, refusal, t, ta, tenant_store, views, when};

// ---- Follow-up calls -------------------------------------------------------------

pub(crate) async fn follow_ups(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, Denied> {
    let u = user(&st, &headers)?;
    blocking(move || Ok(render_follow_ups(&st, &u, &BTreeMap::new())))
        .await
        .map_err(|e| Denied::Internal(e.message))?
}

/// `errors`: order id → (field, message) from a refused call record.
fn render_follow_ups(
    st: &AppState,
    u: &BoardUser,
    errors: &BTreeMap<String, (String, String)>,
) -> Result<Response, Denied> {
    let fw = tenant_store(st, u)?;
    let policy = fw.policy();
    let now = now_ms();
    // No calls in the customer's rest hours (docs/domain.md).
    let callable_now = fieldwork_core::local_time::may_call(&policy, now);
    let next_call = fieldwork_core::local_time::next_call_at(&policy, now);
    let mut due: Vec<(i64, OrderView)> = views(&fw, &[Status::SignedOff])?
        .into_iter()
        .filter(|v| v.follow_up_due)
        .map(|v| {
            let at = v
                .clocks
                .iter()
                .find(|c| c.kind == ClockKind::FollowUp)
                .map_or(i64::MAX, |c| c.due_at_ms);
            (at, v)
        })
        .collect();
    due.sort_by_key(|(at, v)| (!v.order.intake.customer.member, *at));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = html! {
        h1 { (t(u, "follow-ups-title")) }
        p { (ta(u, "follow-ups-rule", &[("days", &policy.follow_up_limit_days)])) }
        p #calling-hours data-callable=(if callable_now { "yes" } else { "no" }) {
            (ta(u, "calling-hours", &[("hours", &policy.calling_hours.replace(',', ", "))])) " "
            @if callable_now { (t(u, "calling-now")) }
            @else { (ta(u, "calling-rest", &[("when", &when(u.zone, next_call))])) }
        }
        @if due.is_empty() { p #no-follow-ups { (t(u, "no-calls-due")) } }
        table #follow-ups {
            thead { tr { th { (t(u, "col-customer")) } th { (t(u, "col-call-by")) } th { (t(u, "col-call-now")) } th { (t(u, "col-on-site")) } th { (t(u, "col-record-call")) } } }
            tbody {
                @for (at, v) in &due {
                    @let o = &v.order;
                    @let err = errors.get(&o.id);
                    tr data-order=(o.id) {
                        td {
                            a href={ "/board/orders/" (o.id) } { bdi { (o.intake.customer.name) } }
                            @if o.intake.customer.member { " " span.badge { (t(u, "member")) } }
                            br; bdi { (o.intake.customer.phone.clone().unwrap_or_default()) }
                            br; small { (o.intake.product.model) " · " (o.assignee.clone().unwrap_or_default()) }
                        }
                        td { span.badge data-due=(at) { (left(u, at - now)) } br; small { (when(u.zone, *at)) } }
                        td.call-now data-callable=(if callable_now { "yes" } else { "no" }) {
                            @if callable_now { (t(u, "call-now-yes")) } @else { (ta(u, "call-wait-until", &[("when", &when(u.zone, next_call))])) }
                        }
                        td { @match &o.satisfaction { Some(s) => { (label(u, &s.rating)) }, None => { "—" } } }
                        td {
                            form.follow-up method="post" action={ "/board/orders/" (o.id) "/follow-up" } {
                                input type="hidden" name="csrf" value=(u.csrf);
                                label.inline { input type="checkbox" name="reached" value="yes"; (t(u, "reached")) }
                                label { (t(u, "answer")) select name="rating" {
                                    option value="" { "—" }
                                    option value="satisfied" { (t(u, "enum-satisfied")) }
                                    option value="neutral" { (t(u, "enum-neutral")) }
                                    option value="unsatisfied" { (t(u, "enum-unsatisfied")) }
                                } }
                                label { (t(u, "aspect")) input name="aspect"; }
                                label { (t(u, "comment")) input name="comment"; }
                                @if let Some((field, message)) = err { span.field-error data-field=(field) { (message) } }
                                button type="submit" { (t(u, "record-call")) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(status, layout(u, &t(u, "follow-ups-title"), body)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct FollowUpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reached: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    aspect: String,
    #[serde(default)]
    comment: String,
}

pub(crate) async fn record_follow_up(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<FollowUpForm>,
) -> Result<Response, Denied> {
    let u = poster(&st, &headers, &f.csrf)?;
    blocking(move || {
        let trimmed = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let rating: Option<Rating> = if f.rating.is_empty() {
            None
        } else {
            parse(&f.rating)
        };
        let refused = if !f.rating.is_empty() && rating.is_none() {
            Some(("rating".to_string(), t(&u, "choose-rating")))
        } else {
            let call = FollowUpInput {
                reached: f.reached == "yes",
                rating,
                aspect: trimmed(&f.aspect),
                comment: trimmed(&f.comment),
            };
            match desk_of(&st, &u).record_follow_up(&id, call) {
                Ok(()) => None,
                Err(DeskError::Core(CoreError::Invalid(e))) => {
                    let why = e.reason_in(u.lang);
                    Some((e.field, why))
                }
                Err(DeskError::Core(e @ (CoreError::Rule(_) | CoreError::NotFound { .. }))) => {
                    Some(("order".into(), e.to_string()))
                }
                Err(e) => return Err(e.into()),
            }
        };
        Ok(match refused {
            None => Ok(Redirect::to("/board/follow-ups").into_response()),
            Some(err) => render_follow_ups(&st, &u, &BTreeMap::from([(id, err)])),
        })
    })
    .await
    .map_err(|e| Denied::Internal(e.message))?
}

// ---- Mail-in repairs ----------------------------------------------------------

/// The milestones the desk records, with their messages.
const MILESTONES: [(&str, &str); 5] = [
    ("shipped", "milestone-shipped"),
    ("receipt_confirmed", "milestone-receipt-confirmed"),
    ("customer_updated", "milestone-customer-updated"),
    ("second_contact", "milestone-second-contact"),
    ("returned", "milestone-returned"),
];

/// A milestone's name as the rules give it, in the user's language.
fn milestone_name(u: &BoardUser, name: &str) -> String {
    let slug: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-");
    t(u, &format!("milestone-{slug}"))
}

pub(crate) async fn mail_in(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, Denied> {
    let u = user(&st, &headers)?;
    blocking(move || Ok(render_mail_in(&st, &u, None)))
        .await
        .map_err(|e| Denied::Internal(e.message))?
}

fn render_mail_in(
    st: &AppState,
    u: &BoardUser,
    error: Option<(String, String)>,
) -> Result<Response, Denied> {
    let fw = tenant_store(st, u)?;
    let policy = fw.policy();
    let mut orders: Vec<OrderView> = views(&fw, &[])?
        .into_iter()
        .filter(|v| {
            v.order.intake.channel == Channel::MailIn
                && v.order
                    .mail_in
                    .as_ref()
                    .is_some_and(|m| m.returned_at_ms.is_none())
        })
        .collect();
    // Overdue first, then the earliest open milestone.
    let key = |v: &OrderView| {
        let open = v.mail_in.iter().filter(|m| m.done_at_ms.is_none());
        let overdue = v
            .mail_in
            .iter()
            .any(|m| m.overdue && m.done_at_ms.is_none());
        (
            !overdue,
            open.map(|m| m.due_at_ms).min().unwrap_or(i64::MAX),
        )
    };
    orders.sort_by_key(key);
    let now = now_ms();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body: Markup = html! {
        h1 { (t(u, "mail-in-title")) }
        p { (ta(u, "mail-in-rule", &[("ship", &policy.rma_ship_hours), ("confirm", &policy.rma_confirm_days), ("update", &policy.rma_update_days), ("second", &policy.rma_second_contact_days), ("escalate", &policy.rma_escalate_days)])) }
        @if let Some((id, message)) = &error { p.error role="alert" data-order=(id) { (message) } }
        @if orders.is_empty() { p { (t(u, "mail-in-none")) } }
        table #mail-in {
            thead { tr { th { (t(u, "col-customer")) } th { (t(u, "col-milestones")) } th { (t(u, "col-record")) } } }
            tbody { @for v in &orders {
                @let o = &v.order;
                tr data-order=(o.id) .breached[v.mail_in.iter().any(|m| m.overdue && m.done_at_ms.is_none())] {
                    td { a href={ "/board/orders/" (o.id) } { bdi { (o.intake.customer.name) } } br; small { (ta(u, "received-at", &[("when", &when(u.zone, o.created_at_ms))])) } }
                    td { ul { @for m in &v.mail_in {
                        li {
                            (milestone_name(u, m.name)) ": "
                            @match m.done_at_ms {
                                Some(d) => { (ta(u, "done-at", &[("when", &when(u.zone, d))])) @if m.overdue { " " span.badge.breached { (t(u, "late")) } } },
                                None => { span.badge.breached[m.overdue] data-due=(m.due_at_ms) { (left(u, m.due_at_ms - now)) } },
                            }
                        }
                    } } }
                    td { form method="post" action={ "/board/orders/" (o.id) "/mail-in" } {
                        input type="hidden" name="csrf" value=(u.csrf);
                        select name="milestone" aria-label=(t(u, "milestone")) { @for (v, m) in MILESTONES { option value=(v) { (t(u, m)) } } }
                        button type="submit" { (t(u, "done-now")) }
                    } }
                }
            } }
        }
    };
    Ok(page(status, layout(u, &t(u, "mail-in-title"), body)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct MailInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    milestone: String,
}

pub(crate) async fn record_mail_in(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<MailInForm>,
) -> Result<Response, Denied> {
    let u = poster(&st, &headers, &f.csrf)?;
    blocking(move || {
        let Some(milestone) = parse::<MailInMilestone>(&f.milestone) else {
            return Ok(render_mail_in(
                &st,
                &u,
                Some((id, t(&u, "choose-milestone"))),
            ));
        };
        match refusal(
            &u,
            desk_of(&st, &u).record_mail_in(&id, milestone, now_ms()),
        )? {
            Ok(()) => Ok(Ok(Redirect::to("/board/mail-in").into_response())),
            Err(message) => Ok(render_mail_in(&st, &u, Some((id, message)))),
        }
    })
    .await
    .map_err(|e| Denied::Internal(e.message))?
}
