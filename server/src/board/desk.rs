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

use super::frame::{label, left, now_ms, parse, refusal, tenant_store, views, when};

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
        h1 { "Follow-up calls" }
        p { "Every serviced customer is called within " (policy.follow_up_limit_days) " days; members always. Calls are recorded whether or not the customer was reached. Unsatisfied answers open a complaint candidate." }
        p #calling-hours data-callable=(if callable_now { "yes" } else { "no" }) {
            "Customers may be called " (policy.calling_hours.replace(',', ", ")) " (local time). "
            @if callable_now { "Now is within calling hours." }
            @else { "Now is rest hours: the next calls from " (when(u.zone, next_call)) "." }
        }
        @if due.is_empty() { p #no-follow-ups { "No calls due." } }
        table #follow-ups {
            thead { tr { th { "Customer" } th { "Call by" } th { "Call now?" } th { "On site" } th { "Record the call" } } }
            tbody {
                @for (at, v) in &due {
                    @let o = &v.order;
                    @let err = errors.get(&o.id);
                    tr data-order=(o.id) {
                        td {
                            a href={ "/board/orders/" (o.id) } { bdi { (o.intake.customer.name) } }
                            @if o.intake.customer.member { " " span.badge { "member" } }
                            br; bdi { (o.intake.customer.phone.clone().unwrap_or_default()) }
                            br; small { (o.intake.product.model) " · " (o.assignee.clone().unwrap_or_default()) }
                        }
                        td { span.badge data-due=(at) { (left(at - now)) } br; small { (when(u.zone, *at)) } }
                        td.call-now data-callable=(if callable_now { "yes" } else { "no" }) {
                            @if callable_now { "yes" } @else { "wait until " (when(u.zone, next_call)) }
                        }
                        td { @match &o.satisfaction { Some(s) => { (label(&s.rating)) }, None => { "—" } } }
                        td {
                            form.follow-up method="post" action={ "/board/orders/" (o.id) "/follow-up" } {
                                input type="hidden" name="csrf" value=(u.csrf);
                                label.inline { input type="checkbox" name="reached" value="yes"; "Reached" }
                                label { "Answer" select name="rating" {
                                    option value="" { "—" }
                                    option value="satisfied" { "satisfied" }
                                    option value="neutral" { "neutral" }
                                    option value="unsatisfied" { "unsatisfied" }
                                } }
                                label { "Aspect (neutral or unsatisfied)" input name="aspect"; }
                                label { "Comment or suggestion" input name="comment"; }
                                @if let Some((field, message)) = err { span.field-error data-field=(field) { (message) } }
                                button type="submit" { "Record call" }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(status, layout(u, "Follow-up calls", body)))
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
            Some((
                "rating".to_string(),
                "choose satisfied, neutral or unsatisfied".to_string(),
            ))
        } else {
            let call = FollowUpInput {
                reached: f.reached == "yes",
                rating,
                aspect: trimmed(&f.aspect),
                comment: trimmed(&f.comment),
            };
            match desk_of(&st, &u).record_follow_up(&id, call) {
                Ok(()) => None,
                Err(DeskError::Core(CoreError::Invalid(e))) => Some((e.field, e.reason)),
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

const MILESTONES: [(&str, &str); 5] = [
    ("shipped", "shipped to the repair center"),
    ("receipt_confirmed", "receipt and fault confirmed"),
    ("customer_updated", "customer updated"),
    ("second_contact", "second contact"),
    ("returned", "unit back"),
];

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
        h1 { "Mail-in repairs" }
        p { "Ship within " (policy.rma_ship_hours) " h, confirm receipt within " (policy.rma_confirm_days) " days, update the customer within " (policy.rma_update_days) ", second contact at " (policy.rma_second_contact_days) ", escalate at " (policy.rma_escalate_days) " days." }
        @if let Some((id, message)) = &error { p.error role="alert" data-order=(id) { (message) } }
        @if orders.is_empty() { p { "No mail-in repairs under way." } }
        table #mail-in {
            thead { tr { th { "Customer" } th { "Milestones" } th { "Record" } } }
            tbody { @for v in &orders {
                @let o = &v.order;
                tr data-order=(o.id) .breached[v.mail_in.iter().any(|m| m.overdue && m.done_at_ms.is_none())] {
                    td { a href={ "/board/orders/" (o.id) } { bdi { (o.intake.customer.name) } } br; small { "received " (when(u.zone, o.created_at_ms)) } }
                    td { ul { @for m in &v.mail_in {
                        li {
                            (m.name) ": "
                            @match m.done_at_ms {
                                Some(d) => { "done " (when(u.zone, d)) @if m.overdue { " " span.badge.breached { "late" } } },
                                None => { span.badge.breached[m.overdue] data-due=(m.due_at_ms) { (left(m.due_at_ms - now)) } },
                            }
                        }
                    } } }
                    td { form method="post" action={ "/board/orders/" (o.id) "/mail-in" } {
                        input type="hidden" name="csrf" value=(u.csrf);
                        select name="milestone" aria-label="milestone" { @for (v, t) in MILESTONES { option value=(v) { (t) } } }
                        button type="submit" { "Done now" }
                    } }
                }
            } }
        }
    };
    Ok(page(status, layout(u, "Mail-in repairs", body)))
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
                Some((id, "choose a milestone".into())),
            ));
        };
        match refusal(desk_of(&st, &u).record_mail_in(&id, milestone, now_ms()))? {
            Ok(()) => Ok(Ok(Redirect::to("/board/mail-in").into_response())),
            Err(message) => Ok(render_mail_in(&st, &u, Some((id, message)))),
        }
    })
    .await
    .map_err(|e| Denied::Internal(e.message))?
}
