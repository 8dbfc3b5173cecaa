//! The board's pages: the list of open orders, one order, intake, assignment.

use super::frame::{
    Denied, desk_of, internal, label, layout, left, now_ms, page, parse, poster, refusal,
    tenant_store, user, when, words,
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

fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02} {currency}",
        minor.unsigned_abs() / 100,
        minor.unsigned_abs() % 100
    )
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
    let policy = Policy::default();
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
        @if rows.is_empty() { tr { td colspan="6" { "No orders match." } } }
        @for r in &rows {
            @let state = urgency(r, now, &policy);
            tr.(state) .urgent[r.urgent] data-order=(r.id) {
                td { @if r.urgent { span.badge.urgent { "URGENT" } } }
                td { a href={ "/board/orders/" (r.id) } { bdi { (r.customer_name) } } br; small { bdi { (r.serial) } @if let Some(f) = &r.fault_code { " · " (f) } } }
                td.status { (words(r.status.as_str())) }
                td {
                    @match &r.assignee { Some(a) => { (names.get(a.as_str()).copied().unwrap_or(a)) }, None => { em { "unassigned" } } }
                    @if r.is_open {
                        form.assign method="post" action={ "/board/orders/" (r.id) "/assign" } {
                            input type="hidden" name="csrf" value=(u.csrf);
                            select name="engineer" aria-label="engineer" {
                                @for (id, name) in &engineers { option value=(id) selected[r.assignee.as_deref() == Some(id)] { (name) } }
                            }
                            button type="submit" { @if r.assignee.is_some() { "Reassign" } @else { "Assign" } }
                        }
                    }
                }
                td {
                    @if let (Some(due), Some(clock)) = (r.next_due_at_ms, &r.next_due_clock) {
                        (words(clock)) " "
                        span.badge.(state) data-due=(due) { (left(due - now)) }
                        br; small { "due " (when(u.zone, due)) }
                    }
                }
                td { small { "updated " (when(u.zone, r.updated_at_ms)) } }
            }
        }
    };
    if q.part == "rows" {
        return Ok(page(StatusCode::OK, tbody));
    }
    let body = html! {
        h1 { "Open orders" }
        form.filters method="get" action="/board" {
            label { "Status" select name="status" {
                option value="" { "open (any)" }
                @for s in Status::ALL { option value=(s.as_str()) selected[status == Some(s)] { (words(s.as_str())) } }
            } }
            label { "Engineer" select name="engineer" {
                option value="" { "anyone" }
                @for (id, name) in &engineers { option value=(id) selected[q.engineer == *id] { (name) } }
            } }
            label { "SLA" select name="breach" {
                option value="" { "all" }
                option value="breached" selected[q.breach == "breached"] { "breached" }
                option value="soon" selected[q.breach == "soon"] { "about to breach" }
            } }
            button type="submit" { "Filter" }
        }
        table {
            thead { tr { th {} th { "Customer" } th { "Status" } th { "Engineer" } th { "SLA clock" } th {} } }
            tbody #rows data-live="rows" data-watch="*" { (tbody) }
        }
    };
    Ok(page(StatusCode::OK, layout(u, "Board", body)))
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
                    "Not found",
                    html! { h1 { "No such order" } p { a href="/board" { "Back to the board" } } },
                ),
            ));
        }
        Err(e) => return Err(internal(e)),
    };
    let report = fw.service_report(id).map_err(internal)?;
    let engineers = st.directory.engineers(&u.tenant)?;
    let refusals = fw.refusals_of(id).map_err(internal)?;
    let main = order_main(u, &view, &report, &engineers, &refusals);
    if part == "main" {
        return Ok(page(StatusCode::OK, main));
    }
    let body = html! { div #order data-live="main" data-watch=(id) { (main) } };
    Ok(page(
        StatusCode::OK,
        layout(u, &view.order.intake.customer.name, body),
    ))
}

fn conflict_text(c: &fieldwork_core::rules::conflicts::Conflict) -> String {
    use fieldwork_core::rules::conflicts::Conflict;
    match c {
        Conflict::OvertakenTransition { to, by, device, .. } => format!(
            "{by} moved the order to {} on device {device} while another device had already moved it on",
            words(to)
        ),
        Conflict::SignedReportChanged => {
            "the signed report was changed after the customer signed".into()
        }
        Conflict::StockOversold { sku, on_hand } => {
            format!("{sku} was used on several phones at once: the van shows {on_hand}")
        }
        Conflict::QcAfterPass { record_id } => {
            format!("QC record {record_id} was added after the inspection had passed")
        }
    }
}

fn signature_badge(s: SignatureState) -> Markup {
    match s {
        SignatureState::Valid => html! { span.badge.valid #signature-state { "signature valid" } },
        SignatureState::Invalidated => {
            html! { span.badge.invalidated #signature-state { "signature invalidated by a later change" } }
        }
        SignatureState::Refused => {
            html! { span.badge #signature-state { "customer refused to sign" } }
        }
        SignatureState::Unsigned => html! { span.badge #signature-state { "not signed yet" } },
    }
}

fn order_main(
    u: &BoardUser,
    v: &OrderView,
    report: &str,
    engineers: &[(String, String)],
    refusals: &[Refusal],
) -> Markup {
    let o = &v.order;
    let i = &o.intake;
    let now = now_ms();
    html! {
        h1 {
            @if i.priority == Priority::Urgent { span.badge.urgent { "URGENT" } " " }
            bdi { (i.customer.name) } " "
            span.badge #status { (words(v.status.as_str())) }
        }
        p { small { "Order " (o.id) " · taken " (when(u.zone, o.created_at_ms)) " by " (o.created_by) " · " (label(&i.channel)) } }
        div.grid {
            section.card {
                h2 { "Customer and unit" }
                p { bdi { (i.customer.address) } br; @if let Some(p) = &i.customer.phone { bdi { (p) } " " } @if let Some(e) = &i.customer.email { bdi { (e) } } @if i.customer.member { " · member" } }
                p { (i.product.model) " · serial " (i.product.serial)
                    @if let Some(d) = &i.product.purchase_date { br; "bought " (d) }
                    @if let Some(p) = &i.product.proof_of_purchase { " · proof " (p) } }
                p { strong { "Fault: " } bdi { (i.fault.symptoms) } }
                p { small { (label(&i.category)) } }
            }
            section.card {
                h2 { "Assignment" }
                p { @match &o.assignee { Some(a) => { (a) }, None => { em { "unassigned" } } } }
                @if !v.status.is_terminal() {
                    form.assign method="post" action={ "/board/orders/" (o.id) "/assign" } {
                        input type="hidden" name="csrf" value=(u.csrf);
                        select name="engineer" aria-label="engineer" {
                            @for (id, name) in engineers { option value=(id) selected[o.assignee.as_deref() == Some(id.as_str())] { (name) } }
                        }
                        button type="submit" { @if o.assignee.is_some() { "Reassign" } @else { "Assign" } }
                    }
                }
                h2 { "SLA clocks" }
                table { tbody {
                    @for c in &v.clocks {
                        tr { td { (label(&c.kind)) } td { (label(&c.state)) } td {
                            @match c.remaining_ms { Some(_) => { span.badge data-due=(c.due_at_ms) { (left(c.due_at_ms - now)) } }, None => { small { "due " (when(u.zone, c.due_at_ms)) } } }
                            @if let Some(x) = &c.exception { br; small { "exception: " (x) } }
                        } }
                    }
                } }
            }
        }
        @if !refusals.is_empty() {
            section.card.conflicts #refusals {
                h2 { "Refused from phones" }
                p { small { "Work a phone sent that the server did not take. The phone keeps it in its quarantine, where the engineer and support can see it." } }
                table {
                    thead { tr { th { "When" } th { "Engineer" } th { "Device" } th { "Why" } } }
                    tbody { @for r in refusals {
                        tr { td { (when(u.zone, r.at_ms)) } td { (r.engineer) } td { small { (r.device_id) } } td { (r.reason) } }
                    } }
                }
            }
        }
        @if !v.conflicts.is_empty() {
            section.card.conflicts {
                h2 { "Conflicts to look at" }
                ul { @for c in &v.conflicts { li { (conflict_text(c)) } } }
            }
        }
        section.card {
            h2 { "Timeline" }
            table #timeline {
                thead { tr { th { "When" } th { "Step" } th { "Who" } th { "Device" } th { "Note" } } }
                tbody { @for e in &o.events {
                    tr { td { (when(u.zone, e.at_ms)) } td { (words(e.to.as_str())) } td { (e.by) } td { small { (e.device) } }
                        td { @if let Some(r) = &e.reason { (r) } @if let Some(l) = &e.location { " at " (format!("{:.5}, {:.5}", l.lat, l.lon)) } } }
                } }
            }
        }
        div.grid {
            section.card {
                h2 { "Diagnosis and work" }
                @if let Some(d) = &o.diagnosis { p { strong { (d.fault_code) } " (" (label(&d.kind)) "): " (d.findings) } }
                @if let Some(w) = &o.warranty { p { @if w.in_warranty { "In warranty" } @else { "Out of warranty" } ": " (w.reason) } }
                @for n in &o.repair_notes { p { small { (when(u.zone, n.at_ms)) " " (n.by) ": " } (n.text) } }
                @for f in &o.extra_faults { p { "Extra fault: " (f.description) } }
                h3 { "Parts" }
                table { tbody { @for p in &o.parts {
                    tr { td { (p.name) " (" (p.sku) ")" } td { "× " (p.qty) } td { (label(&p.state)) @if p.doa { " · DOA" } @if p.quality_fault { " · quality fault" } } }
                } } }
                h3 { "Fees" }
                table { tbody {
                    @for f in &v.fees.items { tr { td { (f.description) } td { (money(f.amount_minor, &v.fees.currency)) } td { @if f.company_borne { "company" } @else { "customer" } } } }
                    tr { th { "Customer pays" } th { (money(v.fees.customer_payable_minor, &v.fees.currency)) } td {} }
                } }
                @if !o.consents.is_empty() {
                    h3 { "Consents" }
                    @for c in &o.consents {
                        p { (label(&c.kind)) ": " @if c.accepted { "accepted" } @else { "refused" } " by " bdi { (c.signer_name) } " — " bdi { (c.scope) } }
                        (svg::signature(&c.strokes, "consent signature"))
                    }
                }
                @if let Some(q) = o.qc.last() { h3 { "QC" } p { @if q.passed { "passed" } @else { "failed" } " · " (q.inspector) } }
                @if let Some(s) = &o.satisfaction { h3 { "Satisfaction" } p { (label(&s.rating)) @if let Some(n) = s.score { " · " (n) "/5" } @if let Some(c) = &s.comment { " · “" (c) "”" } } }
                @if !o.follow_ups.is_empty() {
                    h3 { "Follow-up calls" }
                    @for f in &o.follow_ups { p { (when(u.zone, f.at_ms)) " " (f.by) ": " @if f.reached { "reached" } @else { "not reached" }
                        @if let Some(r) = &f.rating { " · " (label(r)) } @if let Some(a) = &f.aspect { " · " (a) } @if let Some(c) = &f.comment { " · “" (c) "”" } } }
                }
                h3 { "Complaints" }
                @for c in &o.complaints { p { (c.what) " · " (fieldwork_core::api::complaint_stage_name(c.stage)) } }
                (super::complaints::register_form(u, &o.id))
            }
            section.card #report {
                h2 { "Service report " (signature_badge(v.signature)) }
                pre.report { (report) }
                @match &o.sign_off {
                    Some(SignOff::Signed(sig)) => { p { "Signed by " bdi { (sig.signer_name) } " at " (when(u.zone, sig.signed_at_ms)) } (svg::signature(&sig.strokes, "customer signature")) },
                    Some(SignOff::Refused { signer_name, reason, .. }) => { p { bdi { (signer_name) } " refused to sign: " bdi { (reason) } } },
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
        Ok(match refusal(desk_of(&st, &u).assign(&id, &f.engineer))? {
            Ok(()) => Redirect::to(&back).into_response(),
            Err(reason) => page(
                StatusCode::UNPROCESSABLE_ENTITY,
                layout(&u, "Not assigned", html! { h1 { "Not assigned" } p.error { (reason) } p { a href=(back) { "Back" } } }),
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
fn intake_of(f: &Fields, zone: chrono_tz::Tz) -> (Intake, Errors) {
    let mut errors = Errors::new();
    let pick = |k: &str, default| -> String {
        let v = text(f, k);
        if v.is_empty() { default } else { v }
    };
    let channel_s = pick("channel", "phone".into());
    let category_s = pick("category", "other".into());
    let priority_s = pick("priority", "normal".into());
    let channel = parse(&channel_s).unwrap_or_else(|| {
        errors.insert("channel".into(), "choose a channel".into());
        Channel::Phone
    });
    let category = parse(&category_s).unwrap_or_else(|| {
        errors.insert("category".into(), "choose a category".into());
        Category::Other
    });
    let priority = parse(&priority_s).unwrap_or_else(|| {
        errors.insert("priority".into(), "choose normal or urgent".into());
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
                    "minutes of travel allowance, 0 to 1440".into(),
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
                errors.insert("promised_by".into(), e.to_string());
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
            "New order",
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
        let (intake, mut errors) = intake_of(&f, u.zone);
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
            errors.entry(e.field).or_insert(e.reason);
        }
        // Mapped to the form's own names.
        if let Some(m) = errors.remove("promised_by_ms") {
            errors.insert("promised_by".into(), m);
        }
        Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            layout(&u, "New order", intake_form(&u, &f, &errors)),
        ))
    })
    .await
    .map_err(|e| Denied::Internal(e.message))
}

fn intake_form(u: &BoardUser, f: &Fields, errors: &Errors) -> Markup {
    let field = |name: &str, title: &str, kind: &str, required: bool| -> Markup {
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
    let choice = |name: &str, title: &str, options: &[(&str, &str)], default: &str| -> Markup {
        let current = f.get(name).map(String::as_str).unwrap_or(default);
        html! {
            label { (title)
                select name=(name) { @for (v, t) in options { option value=(v) selected[current == *v] { (t) } } }
                @if let Some(e) = errors.get(name) { span.field-error data-field=(name) { (e) } }
            }
        }
    };
    html! {
        h1 { "New order" }
        @if !errors.is_empty() { p.error role="alert" { "The order was not saved: please correct the fields marked below." } }
        form #intake method="post" action="/board/intake" novalidate {
            input type="hidden" name="csrf" value=(u.csrf);
            div.grid {
                fieldset {
                    legend { "Request" }
                    (choice("channel", "Channel", &[("phone", "phone"), ("email", "email"), ("online_chat", "online chat"), ("walk_in", "walk-in"), ("mail_in", "mail-in")], "phone"))
                    (choice("category", "Category", &[("product_quality", "product quality"), ("usage_operation", "usage / operation"), ("installation_commissioning", "installation / commissioning"), ("other", "other")], "product_quality"))
                    (choice("priority", "Priority", &[("normal", "normal"), ("urgent", "urgent")], "normal"))
                    (field("promised_by", "Resolution promised by (local time)", "datetime-local", false))
                    (choice("site_zone", "Site", &[("urban", "urban"), ("outside_urban", "outside the urban area")], "urban"))
                    (field("travel_allowance_min", "Travel allowance (minutes, outside the urban area)", "number", false))
                }
                fieldset {
                    legend { "Customer" }
                    (field("customer.name", "Name", "text", true))
                    (field("customer.phone", "Phone", "tel", false))
                    (field("customer.email", "Email", "email", false))
                    (field("customer.address", "Site address", "text", true))
                    label.inline { input type="checkbox" name="customer.member" checked[f.contains_key("customer.member")]; "Member" }
                }
                fieldset {
                    legend { "Product" }
                    (field("product.model", "Model", "text", true))
                    (field("product.serial", "Serial number", "text", true))
                    (field("product.purchase_date", "Purchase date", "date", false))
                    (field("product.proof_of_purchase", "Proof of purchase (invoice number)", "text", false))
                }
                fieldset {
                    legend { "Fault" }
                    (field("fault.symptoms", "Symptoms, as the customer describes them", "textarea", true))
                    (field("fault.frequency", "How often", "text", false))
                    (field("fault.since", "Since when", "text", false))
                    (field("fault.environment", "Environment", "text", false))
                    (field("fault.already_tried", "Already tried", "text", false))
                }
            }
            button type="submit" { "Take the order" }
        }
    }
}
