//! The service center's settings on the board: everyone at the desk reads
//! them and their history; a supervisor changes them. A change is checked
//! whole (an unknown time zone or language, a negative or inverted limit,
//! calling hours that do not parse are each refused with the reason, and
//! nothing is saved), recorded with who and when, and reaches every phone
//! on its next sync.

use super::frame::{
    Denied, desk_of, internal, layout, page, poster, refusal, tenant_store, user, when,
};
use crate::auth::BoardUser;
use crate::state::{AppState, blocking};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use fieldwork_core::rules::roles::{DeskRole, may_change_settings};
use fieldwork_core::{Policy, Settings, SettingsInput};
use maud::{Markup, html};
use std::collections::HashMap;
use std::sync::Arc;

type Fields = HashMap<String, String>;

/// The policy's numbers, in the order the form shows them.
const LIMITS: &[(&str, &str)] = &[
    ("dispatch_limit_min", "Intake to dispatch (minutes)"),
    ("arrival_limit_min", "Dispatch to on site, urban (minutes)"),
    ("repair_limit_min", "Dispatch to repaired (minutes)"),
    (
        "repair_exception_limit_min",
        "Dispatch to repaired with an exception (minutes)",
    ),
    (
        "paperwork_limit_min",
        "Repaired to signed report (minutes, or the same day)",
    ),
    (
        "follow_up_limit_days",
        "Follow-up call after service (days)",
    ),
    (
        "about_to_breach_min",
        "Warn before a clock breaches (minutes)",
    ),
    (
        "software_rework_hours",
        "Same software fault again is rework within (hours)",
    ),
    (
        "hardware_rework_days",
        "Same hardware fault again is rework within (days)",
    ),
    ("warranty_days", "Warranty from the purchase date (days)"),
    (
        "rma_ship_hours",
        "Mail-in: ship to the repair center (hours, or the same day)",
    ),
    (
        "rma_confirm_days",
        "Mail-in: confirm receipt and fault (days)",
    ),
    ("rma_update_days", "Mail-in: update the customer (days)"),
    ("rma_second_contact_days", "Mail-in: second contact (days)"),
    (
        "rma_escalate_days",
        "Mail-in: escalate when not back (days)",
    ),
];

pub(crate) async fn settings_page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, Denied> {
    let u = user(&st, &headers)?;
    blocking(move || {
        Ok((|| {
            let settings = tenant_store(&st, &u)?.settings().map_err(internal)?;
            let current = form_of(&settings);
            Ok(render(&u, &settings, &current, None, StatusCode::OK))
        })())
    })
    .await
    .map_err(|e| Denied::Internal(e.message))?
}

pub(crate) async fn save_settings(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Response, Denied> {
    let u = poster(
        &st,
        &headers,
        f.get("csrf").map(String::as_str).unwrap_or_default(),
    )?;
    blocking(move || {
        let refused = match input_of(&f) {
            Err(e) => Some(e),
            Ok(input) => match refusal(desk_of(&st, &u).change_settings(&input))? {
                Ok(_) => return Ok(Ok(Redirect::to("/board/settings").into_response())),
                Err(m) => Some(m),
            },
        };
        Ok((|| {
            let settings = tenant_store(&st, &u)?.settings().map_err(internal)?;
            Ok(render(
                &u,
                &settings,
                &f,
                refused.as_deref(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        })())
    })
    .await
    .map_err(|e| Denied::Internal(e.message))?
}

/// The form's fields for the settings in force.
fn form_of(settings: &Settings) -> Fields {
    let mut f = Fields::new();
    let current = settings.current();
    f.insert("language".into(), current.language.tag().into());
    if let Ok(serde_json::Value::Object(m)) = serde_json::to_value(&current.policy) {
        for (k, v) in m {
            let text = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            f.insert(k, text);
        }
    }
    f
}

/// The settings a form asks for, or which field does not read.
fn input_of(f: &Fields) -> Result<SettingsInput, String> {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut policy = serde_json::Map::new();
    for (k, title) in LIMITS {
        let n: i64 = get(k)
            .parse()
            .map_err(|_| format!("{title}: must be a whole number"))?;
        policy.insert((*k).into(), n.into());
    }
    for k in ["currency", "time_zone", "calling_hours"] {
        policy.insert(k.into(), get(k).into());
    }
    let policy: Policy =
        serde_json::from_value(serde_json::Value::Object(policy)).map_err(|e| e.to_string())?;
    Ok(SettingsInput {
        language: get("language"),
        policy,
    })
}

fn render(
    u: &BoardUser,
    settings: &Settings,
    f: &Fields,
    refused: Option<&str>,
    status: StatusCode,
) -> Response {
    let may_change = may_change_settings(DeskRole::of(u.supervisor)).is_ok();
    let value = |k: &str| f.get(k).cloned().unwrap_or_default();
    let input = |k: &str, title: &str, kind: &str| -> Markup {
        html! { label { (title) input name=(k) type=(kind) value=(value(k)) disabled[!may_change]; } }
    };
    let body = html! {
        h1 { "Service center settings" }
        @if let Some(r) = refused { p.error role="alert" data-refused="settings" { "The settings were not saved: " (r) } }
        @if !may_change { p { "Only a supervisor changes the settings." } }
        form #settings method="post" action="/board/settings" {
            input type="hidden" name="csrf" value=(u.csrf);
            div.grid {
                fieldset {
                    legend { "Place and language" }
                    (input("time_zone", "Time zone (IANA, e.g. Asia/Shanghai)", "text"))
                    label { "Default language"
                        select name="language" disabled[!may_change] {
                            option value="zh-CN" selected[value("language") == "zh-CN"] { "简体中文" }
                            option value="en" selected[value("language") == "en"] { "English" }
                        }
                    }
                    (input("currency", "Currency (ISO 4217)", "text"))
                    (input("calling_hours", "Calling hours (local, e.g. 09:00-12:00,14:00-20:00)", "text"))
                }
                fieldset {
                    legend { "Policy" }
                    @for (k, title) in LIMITS { (input(k, title, "number")) }
                }
            }
            @if may_change { button type="submit" { "Save a new version" } }
        }
        h2 { "Versions" }
        p { "An order is served under the version in force when it was received." }
        table #settings-versions {
            thead { tr { th { "Version" } th { "In force from" } th { "By" } th { "Time zone" } th { "Language" } } }
            tbody {
                @for v in settings.history().iter().rev() {
                    tr { td { (v.version) } td { (when(u.zone, v.effective_from_ms)) } td { (v.changed_by) } td { (v.policy.time_zone) } td { (v.language.tag()) } }
                }
            }
        }
    };
    page(status, layout(u, "Settings", body))
}
