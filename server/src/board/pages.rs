//! The board's pages: the list of open orders, one order, intake, assignment.

use super::frame::{
    Denied, clock_name, desk_of, internal, label, layout, left, now_ms, page, parse, poster,
    refusal, status_name, t, ta, tenant_store, user, when,
};
use super::svg;
use crate::auth::BoardUser;
use crate::desk::DeskError;
use crate::state::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use fieldwork_core::api::{OrderView, Refusal};
use fieldwork_core::model::*;
use fieldwork_core::rules::signoff::SignatureState;
use fieldwork_core::rules::sla::{ClockState, running_state};
use fieldwork_core::{Error as CoreError, OrderFilter, OrderRow, Policy};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Money as the user's language writes it.
fn money(u: &BoardUser, minor: i64, currency: &str) -> String {
    fieldwork_core::l10n::money(u.lang, currency, minor)
}

/// How urgent a row's clock is now: "breached", "soon" or "".
fn urgency(row: &OrderRow, now: i64, policy: &Policy) -> &'static str {
    if row.breached {
        return "breached";
    }
    match row
        .next_due_at_ms
        .map(|due| running_state(due, now, policy))
    {
        Some(ClockState::Breached) => "breached",
        Some(ClockState::AboutToBreach) => "soon",
        _ => "",
    }
}

// ---- The board ------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct BoardQuery {
    status: String,
    engineer: String,
    breach: String,
    part: String,
}

pub(crate) async fn board(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<BoardQuery>,
) -> Result<Response, Denied> {
    let u = user(&st, &headers)?;
    crate::state::blocking(move || Ok(render_board(&st, &u, &q)))
        .await
        .map_err(|e| Denied::Internal(e.message))?
}

fn render_board(st: &AppState, u: &BoardUser, q: &BoardQuery) -> Result<Response, Denied> {
    let fw = tenant_store(st, u)?;
    let engineers = st.directory.engineers(&u.tenant)?;
    let status: Option<Status> = parse(&q.status);
    let filter = OrderFilter {
        statuses: status.into_iter().collect(),
        open_only: status.is_none(),
        breached_only: q.breach == "breached",
        assignee: (!q.engineer.is_empty()).then(|| q.engineer.clone()),
        limit: OrderFilter::MAX_LIMIT,
        ..OrderFilter::default()
    };
    let policy = fw.policy();
    let now = now_ms();
    let rows: Vec<OrderRow> = fw
        .list_orders(&filter)
        .map_err(internal)?
        .into_iter()
        .filter(|r| q.breach != "soon" || urgency(r, now, &policy) == "soon")
        .collect();
    let names: BTreeMap<&str, &str> = engineers
        .iter()
        .map(|(i, n)| (i.as_str(), n.as_str()))
        .collect();
    let tbody = html! {
        @if rows.is_empty() { tr { td colspan="6" { (t(u, "board-none")) } } }
        @for r in &rows {
            @let state = urgency(r, now, &policy);
            tr.(state) .urgent[r.urgent] data-order=(r.id) {
                td { @if r.urgent { span.badge.urgent { (t(u, "urgent")) } } }
                td { a href={ "/board/orders/" (r.id) } { bdi { (r.customer_name) } } br; small { bdi { (r.serial) } @if let Some(f) = &r.fault_code { " · " (f) } } }
                td.status { (status_name(u, r.status.as_str())) }
                td {
                    @match &r.assignee { Some(a) => { (names.get(a.as_str()).copied().unwrap_or(a)) }, None => { em { (t(u, "unassigned")) } } }
                    @if r.is_open {
                        form.assign method="post" action={ "/board/orders/" (r.id) "/assign" } {
                            input type="hidden" name="csrf" value=(u.csrf);
                            select name="engineer" aria-label=(t(u, "engineer")) {
                                @for (id, name) in &engineers { option value=(id) selected[r.assignee.as_deref() == Some(id)] { (name) } }
                            }
                            button type="submit" { @if r.assignee.is_some() { (t(u, "reassign")) } @else { (t(u, "assign")) } }
                        }
                    }
                }
                td {
                    @if let (Some(due), Some(clock)) = (r.next_due_at_ms, &r.next_due_clock) {
                        (clock_name(u, clock)) " "
                        span.badge.(state) data-due=(due) { (left(u, due - now)) }
                        br; small { (ta(u, "due-at", &[("when", &when(u.zone, due))])) }
                    }
                }
                td { small { (ta(u, "updated-at", &[("when", &when(u.zone, r.updated_at_ms))])) } }
            }
        }
    };
    if q.part == "rows" {
        return Ok(page(StatusCode::OK, tbody));
    }
    let body = html! {
        h1 { (t(u, "board-title")) " " small.count { (ta(u, "orders-count", &[("count", &(rows.len() as i64))])) } }
        form.filters method="get" action="/board" {
            label { (t(u, "filter-status")) select name="status" {
                option value="" { (t(u, "filter-open-any")) }
                @for s in Status::ALL { option value=(s.as_str()) selected[status == Some(s)] { (status_name(u, s.as_str())) } }
            } }
            label { (t(u, "engineer")) select name="engineer" {
                option value="" { (t(u, "filter-anyone")) }
                @for (id, name) in &engineers { option value=(id) selected[q.engineer == *id] { (name) } }
            } }
            label { (t(u, "filter-sla")) select name="breach" {
                option value="" { (t(u, "filter-all")) }
                option value="breached" selected[q.breach == "breached"] { (t(u, "filter-breached")) }
                option value="soon" selected[q.breach == "soon"] { (t(u, "filter-soon")) }
            } }
            button type="submit" { (t(u, "filter")) }
        }
        table {
            thead { tr { th {} th { (t(u, "col-customer")) } th { (t(u, "col-status")) } th { (t(u, "col-engineer")) } th { (t(u, "col-sla")) } th {} } }
            tbody #rows data-live="rows" data-watch="*" { (tbody) }
        }
    };
    Ok(page(StatusCode::OK, layout(u, &t(u, "nav-board"), body)))
}

// ---- One order ------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct PartQuery {
    part: String,
}

pub(crate) async fn order_page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PartQuery>,
) -> Result<Response, Denied> {
    let u = user(&st, &headers)?;
    crate::state::blocking(move || Ok(render_order(&st, &u, &id, &q.part)))
        .await
        .map_err(|e| Denied::Internal(e.message))?
}

fn render_order(st: &AppState, u: &BoardUser, id: &str, part: &str) -> Result<Response, Denied> {
    let fw = tenant_store(st, u)?;
    let view = match fw.order(id) {
        Ok(v) => v,
        Err(CoreError::NotFound { .. }) | Err(CoreError::Invalid(_)) => {
            return Ok(page(
                StatusCode::NOT_FOUND,
                layout(
                    u,
                    &t(u, "not-found"),
                    html! { h1 { (t(u, "no-such-order")) } p { a href="/board" { (t(u, "back-to-board")) } } },
                ),
            ));
        }
        Err(e) => return Err(internal(e)),
    };
    let report = fw.service_report(id).map_err(internal)?;
    let engineers = st.directory.engineers(&u.tenant)?;
    let refusals = fw.refusals_of(id).map_err(internal)?;
    let held = super::photos::held(st, u, &view.order);
    let main = order_main(u, &view, &report, &engineers, &refusals, &held);
    if part == "main" {
        return Ok(page(StatusCode::OK, main));
    }
    let body = html! { div #order data-live="main" data-watch=(id) { (main) } };
    Ok(page(
        StatusCode::OK,
        layout(u, &view.order.intake.customer.name, body),
    ))
}

fn conflict_text(u: &BoardUser, c: &fieldwork_core::rules::conflicts::Conflict) -> String {
    use fieldwork_core::rules::conflicts::Conflict;
    match c {
        Conflict::OvertakenTransition { to, by, device, .. } => ta(
            u,
            "conflict-overtaken",
            &[("by", by), ("to", &status_name(u, to)), ("device", device)],
        ),
        Conflict::SignedReportChanged => t(u, "conflict-signed-report-changed"),
        Conflict::StockOversold { sku, on_hand } => ta(
            u,
            "conflict-stock-oversold",
            &[("sku", sku), ("on_hand", on_hand)],
        ),
        Conflict::QcAfterPass { record_id } => {
            ta(u, "conflict-qc-after-pass", &[("record", record_id)])
        }
    }
}

fn signature_badge(u: &BoardUser, s: SignatureState) -> Markup {
    match s {
        SignatureState::Valid => {
            html! { span.badge.valid #signature-state { (t(u, "signature-valid")) } }
        }
        SignatureState::Invalidated => {
            html! { span.badge.invalidated #signature-state { (t(u, "signature-invalidated")) } }
        }
        SignatureState::Refused => {
            html! { span.badge #signature-state { (t(u, "signature-refused")) } }
        }
        SignatureState::Unsigned => {
            html! { span.badge #signature-state { (t(u, "signature-unsigned")) } }
        }
    }
}

fn order_main(
    u: &BoardUser,
    v: &OrderView,
    report: &str,
    engineers: &[(String, String)],
    refusals: &[Refusal],
    held: &std::collections::HashSet<String>,
) -> Markup {
    let o = &v.order;
    let i = &o.intake;
    let now = now_ms();
    html! {
        h1 {
            @if i.priority == Priority::Urgent { span.badge.urgent { (t(u, "urgent")) } " " }
            bdi { (i.customer.name) } " "
            span.badge #status { (status_name(u, v.status.as_str())) }
        }
        p { small { (ta(u, "order-taken", &[("id", &o.id), ("when", &when(u.zone, o.created_at_ms)), ("by", &o.created_by), ("channel", &label(u, &i.channel))])) } }
        div.grid {
            section.card {
                h2 { (t(u, "customer-and-unit")) }
                p { bdi { (i.customer.address) } br; @if let Some(p) = &i.customer.phone { bdi { (p) } " " } @if let Some(e) = &i.customer.email { bdi { (e) } } @if i.customer.member { " · " (t(u, "member")) } }
                p { (i.product.model) " · " (ta(u, "serial", &[("serial", &i.product.serial)]))
                    @if let Some(d) = &i.product.purchase_date { br; (ta(u, "bought", &[("date", d)])) }
                    @if let Some(p) = &i.product.proof_of_purchase { " · " (ta(u, "proof", &[("proof", p)])) } }
                p { strong { (t(u, "fault")) " " } bdi { (i.fault.symptoms) } }
                p { small { (label(u, &i.category)) } }
            }
            section.card {
                h2 { (t(u, "assignment")) }
                p { @match &o.assignee { Some(a) => { (a) }, None => { em { (t(u, "unassigned")) } } } }
                @if !v.status.is_terminal() {
                    form.assign method="post" action={ "/board/orders/" (o.id) "/assign" } {
                        input type="hidden" name="csrf" value=(u.csrf);
                        select name="engineer" aria-label=(t(u, "engineer")) {
                            @for (id, name) in engineers { option value=(id) selected[o.assignee.as_deref() == Some(id.as_str())] { (name) } }
                        }
                        button type="submit" { @if o.assignee.is_some() { (t(u, "reassign")) } @else { (t(u, "assign")) } }
                    }
                }
                h2 { (t(u, "sla-clocks")) }
                table { tbody {
                    @for c in &v.clocks {
                        tr { td { (clock_name(u, c.kind.as_str())) } td { (label(u, &c.state)) } td {
                            @match c.remaining_ms { Some(_) => { span.badge data-due=(c.due_at_ms) { (left(u, c.due_at_ms - now)) } }, None => { small { (ta(u, "due-at", &[("when", &when(u.zone, c.due_at_ms))])) } } }
                            @if let Some(x) = &c.exception { br; small { (ta(u, "exception", &[("reason", x)])) } }
                        } }
                    }
                } }
            }
        }
        @if !refusals.is_empty() {
            section.card.conflicts #refusals {
                h2 { (t(u, "refused-title")) }
                p { small { (t(u, "refused-text")) } }
                table {
                    thead { tr { th { (t(u, "col-when")) } th { (t(u, "col-engineer")) } th { (t(u, "col-device")) } th { (t(u, "col-why")) } } }
                    tbody { @for r in refusals {
                        tr { td { (when(u.zone, r.at_ms)) } td { (r.engineer) } td { small { (r.device_id) } } td { (r.reason) } }
                    } }
                }
            }
        }
        @if !v.conflicts.is_empty() {
            section.card.conflicts {
                h2 { (t(u, "conflicts-title")) }
                ul { @for c in &v.conflicts { li { (conflict_text(u, c)) } } }
            }
        }
        section.card {
            h2 { (t(u, "timeline")) }
            table #timeline {
                thead { tr { th { (t(u, "col-when")) } th { (t(u, "col-step")) } th { (t(u, "col-who")) } th { (t(u, "col-device")) } th { (t(u, "col-note")) } } }
                tbody { @for e in &o.events {
                    tr { td { (when(u.zone, e.at_ms)) } td { (status_name(u, e.to.as_str())) } td { (e.by) } td { small { (e.device) } }
                        td { @if let Some(r) = &e.reason { (fieldwork_core::l10n::stored_text(u.lang, r)) } @if let Some(l) = &e.location { " " (ta(u, "at-location", &[("where", &format!("{:.5}, {:.5}", l.lat, l.lon))])) } } }
                } }
            }
        }
        (super::photos::section(u, o, held))
        div.grid {
            section.card {
                h2 { (t(u, "diagnosis-and-work")) }
                @if let Some(d) = &o.diagnosis { p { strong { (d.fault_code) } " (" (label(u, &d.kind)) "): " (d.findings) } }
                @if let Some(w) = &o.warranty { p { @if w.in_warranty { (t(u, "in-warranty")) } @else { (t(u, "out-of-warranty")) } ": " (fieldwork_core::l10n::stored_text(u.lang, &w.reason)) } }
                @for n in &o.repair_notes { p { small { (when(u.zone, n.at_ms)) " " (n.by) ": " } (n.text) } }
                @for f in &o.extra_faults { p { (ta(u, "extra-fault", &[("what", &f.description)])) } }
                h3 { (t(u, "parts")) }
                table { tbody { @for p in &o.parts {
                    tr { td { (p.name) " (" (p.sku) ")" } td { "× " (p.qty) } td { (label(u, &p.state)) @if p.doa { " · " (t(u, "doa")) } @if p.quality_fault { " · " (t(u, "quality-fault")) } } }
                } } }
                h3 { (t(u, "fees")) }
                table { tbody {
                    @for f in &v.fees.items { tr { td { (f.description) } td { (money(u, f.amount_minor, &v.fees.currency)) } td { @if f.company_borne { (t(u, "borne-company")) } @else { (t(u, "borne-customer")) } } } }
                    tr { th { (t(u, "customer-pays")) } th { (money(u, v.fees.customer_payable_minor, &v.fees.currency)) } td {} }
                } }
                @if !o.consents.is_empty() {
                    h3 { (t(u, "consents")) }
                    @for c in &o.consents {
                        p { (label(u, &c.kind)) ": " @if c.accepted { (t(u, "consent-accepted")) } @else { (t(u, "consent-refused")) } " · " (t(u, "by-signer")) " " bdi { (c.signer_name) } " — " bdi { (c.scope) } }
                        (attestation(u, c.attestation.as_ref()))
                        (svg::signature(&c.strokes, &t(u, "consent-signature")))
                    }
                }
                @if let Some(q) = o.qc.last() { h3 { (t(u, "qc")) } p { @if q.passed { (t(u, "qc-passed")) } @else { (t(u, "qc-failed")) } " · " (q.inspector) } (attestation(u, q.attestation.as_ref())) }
                @if let Some(s) = &o.satisfaction { h3 { (t(u, "satisfaction")) } p { (label(u, &s.rating)) @if let Some(n) = s.score { " · " (n) "/5" } @if let Some(c) = &s.comment { " · “" (c) "”" } } }
                @if !o.follow_ups.is_empty() {
                    h3 { (t(u, "follow-up-calls")) }
                    @for f in &o.follow_ups { p { (when(u.zone, f.at_ms)) " " (f.by) ": " @if f.reached { (t(u, "call-reached")) } @else { (t(u, "call-not-reached")) }
                        @if let Some(r) = &f.rating { " · " (label(u, r)) } @if let Some(a) = &f.aspect { " · " (a) } @if let Some(c) = &f.comment { " · “" (c) "”" } } }
                }
                h3 { (t(u, "complaints")) }
                @for c in &o.complaints { p { (fieldwork_core::l10n::stored_text(u.lang, &c.what)) " · " (label(u, &c.stage)) } }
                (super::complaints::register_form(u, &o.id))
            }
            section.card #report {
                h2 { (t(u, "service-report")) " " (signature_badge(u, v.signature)) }
                p { a #report-pdf href={ "/board/orders/" (o.id) "/report.pdf" } { (t(u, "report-pdf-link")) } }
                pre.report { (report) }
                @match &o.sign_off {
                    Some(SignOff::Signed(sig)) => { p { (ta(u, "signed-by", &[("name", &sig.signer_name), ("when", &when(u.zone, sig.signed_at_ms))])) } (attestation(u, sig.attestation.as_ref())) (svg::signature(&sig.strokes, &t(u, "customer-signature"))) },
                    Some(SignOff::Refused { signer_name, reason, .. }) => { p { (ta(u, "refused-to-sign", &[("name", signer_name), ("reason", reason)])) } },
                    None => {},
                }
            }
        }
    }
}

// ---- Assignment -------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(crate) struct AssignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    engineer: String,
}

pub(crate) async fn assign(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<AssignForm>,
) -> Result<Response, Denied> {
    let u = poster(&st, &headers, &f.csrf)?;
    crate::state::blocking(move || {
        let back = headers
            .get(axum::http::header::REFERER)
            .and_then(|r| r.to_str().ok())
            .and_then(|r| r.split_once("/board").map(|(_, p)| format!("/board{p}")))
            .unwrap_or_else(|| "/board".into());
        Ok(match refusal(&u, desk_of(&st, &u).assign(&id, &f.engineer))? {
            Ok(()) => Redirect::to(&back).into_response(),
            Err(reason) => page(
                StatusCode::UNPROCESSABLE_ENTITY,
                layout(&u, &t(&u, "not-assigned"), html! { h1 { (t(&u, "not-assigned")) } p.error { (reason) } p { a href=(back) { (t(&u, "back")) } } }),
            ),
        })
    })
    .await
    .map_err(|e| Denied::Internal(e.message))
}

// ---- Intake -------------------------------------------------------------------

type Fields = HashMap<String, String>;
type Errors = BTreeMap<String, String>;

fn text(f: &Fields, k: &str) -> String {
    f.get(k).map(|v| v.trim().to_string()).unwrap_or_default()
}

fn opt(f: &Fields, k: &str) -> Option<String> {
    Some(text(f, k)).filter(|v| !v.is_empty())
}

/// The intake the form describes, and what could not even be read.
fn intake_of(u: &BoardUser, f: &Fields) -> (Intake, Errors) {
    let zone = u.zone;
    let mut errors = Errors::new();
    let pick = |k: &str, default| -> String {
        let v = text(f, k);
        if v.is_empty() { default } else { v }
    };
    let channel_s = pick("channel", "phone".into());
    let category_s = pick("category", "other".into());
    let priority_s = pick("priority", "normal".into());
    let channel = parse(&channel_s).unwrap_or_else(|| {
        errors.insert("channel".into(), t(u, "choose-channel"));
        Channel::Phone
    });
    let category = parse(&category_s).unwrap_or_else(|| {
        errors.insert("category".into(), t(u, "choose-category"));
        Category::Other
    });
    let priority = parse(&priority_s).unwrap_or_else(|| {
        errors.insert("priority".into(), t(u, "choose-priority"));
        Priority::Normal
    });
    let site_zone = if text(f, "site_zone") == "outside_urban" {
        match text(f, "travel_allowance_min").parse::<i64>() {
            Ok(m) if (0..=24 * 60).contains(&m) => SiteZone::OutsideUrban {
                travel_allowance_min: m,
            },
            _ => {
                errors.insert(
                    "travel_allowance_min".into(),
                    t(u, "reason-travel-allowance"),
                );
                SiteZone::Urban
            }
        }
    } else {
        SiteZone::Urban
    };
    let promised_by_ms = match opt(f, "promised_by") {
        None => None,
        // Typed in the service center's local time.
        Some(v) => match fieldwork_core::local_time::parse_local(zone, &v) {
            Ok(t) => Some(t),
            Err(e) => {
                let why = match e {
                    fieldwork_core::local_time::LocalTimeError::Unreadable => "reason-not-a-time",
                    fieldwork_core::local_time::LocalTimeError::Skipped => "reason-skipped-time",
                };
                errors.insert("promised_by".into(), t(u, why));
                None
            }
        },
    };
    let intake = Intake {
        channel,
        customer: Customer {
            name: text(f, "customer.name"),
            phone: opt(f, "customer.phone"),
            email: opt(f, "customer.email"),
            address: text(f, "customer.address"),
            member: f.contains_key("customer.member"),
        },
        product: Product {
            model: text(f, "product.model"),
            serial: text(f, "product.serial"),
            purchase_date: opt(f, "product.purchase_date"),
            proof_of_purchase: opt(f, "product.proof_of_purchase"),
        },
        fault: Fault {
            symptoms: text(f, "fault.symptoms"),
            frequency: opt(f, "fault.frequency"),
            since: opt(f, "fault.since"),
            environment: opt(f, "fault.environment"),
            already_tried: opt(f, "fault.already_tried"),
        },
        category,
        priority,
        promised_by_ms,
        site_zone,
    };
    (intake, errors)
}

pub(crate) async fn intake_page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, Denied> {
    let u = user(&st, &headers)?;
    Ok(page(
        StatusCode::OK,
        layout(
            &u,
            &t(&u, "intake-title"),
            intake_form(&u, &Fields::new(), &Errors::new()),
        ),
    ))
}

pub(crate) async fn intake(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Response, Denied> {
    let u = poster(
        &st,
        &headers,
        f.get("csrf").map(String::as_str).unwrap_or_default(),
    )?;
    crate::state::blocking(move || {
        let (intake, mut errors) = intake_of(&u, &f);
        let refused = if errors.is_empty() {
            match desk_of(&st, &u).create_order(intake) {
                Ok(id) => {
                    return Ok(Redirect::to(&format!("/board/orders/{id}")).into_response());
                }
                Err(DeskError::Intake(all)) => all,
                Err(DeskError::Core(CoreError::Invalid(e))) => vec![e],
                Err(e) => return Err(e.into()),
            }
        } else {
            // Fields the form could not even read: the rest are still
            // checked, so every error shows at once.
            fieldwork_core::validate::intake_all(&intake, now_ms(), u.zone)
        };
        for e in refused {
            let why = e.reason_in(u.lang);
            errors.entry(e.field).or_insert(why);
        }
        // Mapped to the form's own names.
        if let Some(m) = errors.remove("promised_by_ms") {
            errors.insert("promised_by".into(), m);
        }
        Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            layout(&u, &t(&u, "intake-title"), intake_form(&u, &f, &errors)),
        ))
    })
    .await
    .map_err(|e| Denied::Internal(e.message))
}

fn intake_form(u: &BoardUser, f: &Fields, errors: &Errors) -> Markup {
    let field = |name: &str, title: &str, kind: &str, required: bool| -> Markup {
        let title = t(u, title);
        let value = f.get(name).cloned().unwrap_or_default();
        let err = errors.get(name);
        html! {
            label {
                (title) @if required { " *" }
                @if kind == "textarea" {
                    textarea name=(name) rows="3" aria-invalid=[err.map(|_| "true")] { (value) }
                } @else {
                    input name=(name) type=(kind) value=(value) aria-invalid=[err.map(|_| "true")];
                }
                @if let Some(e) = err { span.field-error data-field=(name) { (e) } }
            }
        }
    };
    let choice = |name: &str, title: &str, options: &[&str], default: &str| -> Markup {
        let current = f.get(name).map(String::as_str).unwrap_or(default);
        html! {
            label { (t(u, title))
                select name=(name) { @for v in options { option value=(v) selected[current == *v] { (t(u, &format!("enum-{}", v.replace('_', "-")))) } } }
                @if let Some(e) = errors.get(name) { span.field-error data-field=(name) { (e) } }
            }
        }
    };
    html! {
        h1 { (t(u, "intake-title")) }
        @if !errors.is_empty() { p.error role="alert" { (t(u, "intake-not-saved")) } }
        form #intake method="post" action="/board/intake" novalidate {
            input type="hidden" name="csrf" value=(u.csrf);
            div.grid {
                fieldset {
                    legend { (t(u, "intake-request")) }
                    (choice("channel", "intake-channel", &["phone", "email", "online_chat", "walk_in", "mail_in"], "phone"))
                    (choice("category", "intake-category", &["product_quality", "usage_operation", "installation_commissioning", "other"], "product_quality"))
                    (choice("priority", "intake-priority", &["normal", "urgent"], "normal"))
                    (field("promised_by", "intake-promised", "datetime-local", false))
                    (choice("site_zone", "intake-site", &["urban", "outside_urban"], "urban"))
                    (field("travel_allowance_min", "intake-travel", "number", false))
                }
                fieldset {
                    legend { (t(u, "intake-customer")) }
                    (field("customer.name", "intake-name", "text", true))
                    (field("customer.phone", "intake-phone", "tel", false))
                    (field("customer.email", "intake-email", "email", false))
                    (field("customer.address", "intake-address", "text", true))
                    label.inline { input type="checkbox" name="customer.member" checked[f.contains_key("customer.member")]; (t(u, "intake-member")) }
                }
                fieldset {
                    legend { (t(u, "intake-product")) }
                    (field("product.model", "intake-model", "text", true))
                    (field("product.serial", "intake-serial", "text", true))
                    (field("product.purchase_date", "intake-purchase-date", "date", false))
                    (field("product.proof_of_purchase", "intake-proof", "text", false))
                }
                fieldset {
                    legend { (t(u, "intake-fault")) }
                    (field("fault.symptoms", "intake-symptoms", "textarea", true))
                    (field("fault.frequency", "intake-frequency", "text", false))
                    (field("fault.since", "intake-since", "text", false))
                    (field("fault.environment", "intake-environment", "text", false))
                    (field("fault.already_tried", "intake-tried", "text", false))
                }
            }
            button type="submit" { (t(u, "intake-submit")) }
        }
    }
}

/// Which enrolled phone's device key attested a record (the server checked
/// it on push), or that none did.
fn attestation(u: &BoardUser, att: Option<&fieldwork_core::model::Attestation>) -> Markup {
    let words = fieldwork_core::l10n::attestation(u.lang, att);
    html! {
        @if att.is_some() { p.attested { small { (words) } } } @else { p.not-attested { small { (words) } } }
    }
}
