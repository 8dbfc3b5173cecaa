//! The service center's settings on the board: everyone at the desk reads
//! them and their history; a supervisor changes them. A change is checked
//! whole (an unknown time zone or language, a negative or inverted limit,
//! calling hours that do not parse are each refused with the reason, and
//! nothing is saved), recorded with who and when, and reaches every phone
//! on its next sync.

use super::frame::{
    Denied, desk_of, internal, layout, page, poster, refusal, t, ta, tenant_store, user, when,
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

/// The policy's numbers, in the order the form shows them (each labelled
/// by message `limit-<name>`).
const LIMITS: &[&str] = &[
    "dispatch_limit_min",
    "arrival_limit_min",
    "repair_limit_min",
    "repair_exception_limit_min",
    "paperwork_limit_min",
    "follow_up_limit_days",
    "about_to_breach_min",
    "software_rework_hours",
    "hardware_rework_days",
    "warranty_days",
    "rma_ship_hours",
    "rma_confirm_days",
    "rma_update_days",
    "rma_second_contact_days",
    "rma_escalate_days",
    "photo_max_mb",
    "photos_per_order",
];

fn limit_label(u: &BoardUser, name: &str) -> String {
    t(u, &format!("limit-{}", name.replace('_', "-")))
}

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
        let refused = match input_of(&u, &f) {
            Err(e) => Some(e),
            Ok(input) => match refusal(&u, desk_of(&st, &u).change_settings(&input))? {
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
fn input_of(u: &BoardUser, f: &Fields) -> Result<SettingsInput, String> {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut policy = serde_json::Map::new();
    for k in LIMITS {
        let n: i64 = get(k)
            .parse()
            .map_err(|_| ta(u, "field-must-be-whole", &[("field", &limit_label(u, k))]))?;
        policy.insert((*k).into(), n.into());
    }
    for k in ["center_name", "currency", "time_zone", "calling_hours"] {
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
        h1 { (t(u, "settings-title")) }
        @if let Some(r) = refused { p.error role="alert" data-refused="settings" { (t(u, "settings-not-saved")) " " (r) } }
        @if !may_change { p { (t(u, "settings-supervisor-only")) } }
        form #settings method="post" action="/board/settings" {
            input type="hidden" name="csrf" value=(u.csrf);
            div.grid {
                fieldset {
                    legend { (t(u, "settings-place")) }
                    (input("center_name", &t(u, "settings-center-name"), "text"))
                    (input("time_zone", &t(u, "settings-time-zone"), "text"))
                    label { (t(u, "settings-language"))
                        select name="language" disabled[!may_change] {
                            option value="zh-CN" selected[value("language") == "zh-CN"] { "简体中文" }
                            option value="en" selected[value("language") == "en"] { "English" }
                        }
                    }
                    (input("currency", &t(u, "settings-currency"), "text"))
                    (input("calling_hours", &t(u, "settings-calling-hours"), "text"))
                }
                fieldset {
                    legend { (t(u, "settings-policy")) }
                    @for k in LIMITS { (input(k, &limit_label(u, k), "number")) }
                }
            }
            @if may_change { button type="submit" { (t(u, "settings-save")) } }
        }
        h2 { (t(u, "settings-versions")) }
        p { (t(u, "settings-versions-rule")) }
        table #settings-versions {
            thead { tr { th { (t(u, "col-version")) } th { (t(u, "col-in-force-from")) } th { (t(u, "col-by")) } th { (t(u, "col-time-zone")) } th { (t(u, "col-language")) } } }
            tbody {
                @for v in settings.history().iter().rev() {
                    tr { td { (v.version) } td { (when(u.zone, v.effective_from_ms)) } td { (v.changed_by) } td { (v.policy.time_zone) } td { (v.language.tag()) } }
                }
            }
        }
    };
    page(status, layout(u, &t(u, "nav-settings"), body))
}
