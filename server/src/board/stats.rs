//! The supervisor's statistics page: the figures defined in
//! `fieldwork_core::rules::stats`, per week or month, as a table, SVG bar
//! charts drawn here on the server, and CSV.

use super::frame::views;
use super::frame::{Denied, layout, page, t, ta, user};
use crate::auth::BoardUser;
use crate::state::{AppState, blocking};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fieldwork_core::Policy;
use fieldwork_core::api::OrderView;
use fieldwork_core::rules::roles::{DeskRole, may_read_statistics};
use fieldwork_core::rules::stats::{Figures, OrderFacts, compute};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::frame::tenant_store;

/// A policy limit in minutes as people say it: "4 h", "90 min".
fn span(u: &BoardUser, minutes: i64) -> String {
    if minutes % 60 == 0 {
        ta(u, "span-hours", &[("n", &(minutes / 60))])
    } else {
        ta(u, "span-minutes", &[("n", &minutes)])
    }
}

/// A figure's name (`sla.repair.compliance_pct`) in the user's language.
fn metric_label(u: &BoardUser, key: &str) -> String {
    let id = |k: &str| format!("metric-{}", k.replace(['.', '_'], "-"));
    if fieldwork_core::l10n::has(fieldwork_core::Language::En, &id(key)) {
        return t(u, &id(key));
    }
    let enum_word = |v: &str| t(u, &format!("enum-{}", v.replace('_', "-")));
    let (msg, value) = if let Some(v) = key.strip_prefix("requests.channel.") {
        ("metric-requests-channel", enum_word(v))
    } else if let Some(v) = key.strip_prefix("requests.category.") {
        ("metric-requests-category", enum_word(v))
    } else if let Some(v) = key.strip_prefix("complaints.category.") {
        ("metric-complaints-category", enum_word(v))
    } else if let Some(k) = key
        .strip_prefix("sla.")
        .and_then(|k| k.strip_suffix(".compliance_pct"))
    {
        let clock = super::frame::clock_name(u, k);
        return ta(u, "metric-sla-compliance", &[("clock", &clock)]);
    } else if let Some(v) = key.strip_prefix("parts.used.") {
        ("metric-parts-used", v.to_string())
    } else if let Some(v) = key.strip_prefix("parts.doa_pct.") {
        ("metric-parts-doa-pct", v.to_string())
    } else if let Some(v) = key.strip_prefix("arrival.on_time_pct.") {
        ("metric-arrival-on-time-pct", v.to_string())
    } else {
        return key.to_string();
    };
    ta(u, msg, &[("value", &value)])
}

/// A bar per period, labelled; `max` scales the bars (100 for percentages).
fn bars(title: &str, series: &[(String, f64)], unit: &str) -> Markup {
    let max = series
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(if unit == "%" { 100.0 } else { 1.0 });
    let (w, h, bar) = (40.0 + 56.0 * series.len() as f64, 170.0, 36.0);
    html! {
        figure.chart {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) viewBox={ "0 0 " (w) " " (h) } role="img" aria-label=(title) {
                line x1="30" y1="140" x2=(w) y2="140" stroke="#9aa3b2" {}
                @for (i, (period, v)) in series.iter().enumerate() {
                    @let x = 40.0 + 56.0 * i as f64;
                    @let bh = 120.0 * v / max;
                    rect x=(x) y=(140.0 - bh) width=(bar) height=(bh) fill="#3b6fd8" {}
                    text x=(x + bar / 2.0) y=(134.0 - bh) text-anchor="middle" font-size="11" { (format!("{v}{unit}")) }
                    text x=(x + bar / 2.0) y="156" text-anchor="middle" font-size="10" { (period) }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct StatsQuery {
    period: String,
}

fn supervisor_only(u: &crate::auth::BoardUser) -> Option<Response> {
    (!may_read_statistics(DeskRole::of(u.supervisor))).then(|| {
        page(
            StatusCode::FORBIDDEN,
            layout(
                u,
                &t(u, "stats-title"),
                html! { h1 { (t(u, "stats-title")) } p.error { (t(u, "stats-supervisor-only")) } },
            ),
        )
    })
}

fn facts(views: &[OrderView]) -> Vec<OrderFacts<'_>> {
    views
        .iter()
        .map(|v| OrderFacts {
            order: &v.order,
            status: v.status,
            clocks: &v.clocks,
        })
        .collect()
}

/// The signed-in supervisor, their service center's figures and policy.
type Computed = (crate::auth::BoardUser, BTreeMap<String, Figures>, Policy);

/// The signed-in supervisor and their service center's figures, or the page
/// to answer with instead (not a supervisor).
async fn figures(
    st: Arc<AppState>,
    headers: &HeaderMap,
    weekly: bool,
) -> Result<Result<Computed, Response>, Denied> {
    let u = user(&st, headers)?;
    if let Some(r) = supervisor_only(&u) {
        return Ok(Err(r));
    }
    let who = u.clone();
    let computed = blocking(move || {
        Ok(tenant_store(&st, &who).and_then(|fw| {
            let all = views(&fw, &[])?;
            Ok((compute(&facts(&all), weekly, who.zone), fw.policy()))
        }))
    })
    .await
    .map_err(|e| Denied::Internal(e.message))??;
    Ok(Ok((u, computed.0, computed.1)))
}

pub(crate) async fn stats(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<StatsQuery>,
) -> Result<Response, Denied> {
    let weekly = q.period == "week";
    let (u, figures, policy) = match figures(st, &headers, weekly).await? {
        Ok(f) => f,
        Err(page) => return Ok(page),
    };
    let periods: Vec<&String> = figures
        .keys()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let metrics: std::collections::BTreeSet<&String> =
        figures.values().flat_map(|f| f.keys()).collect();
    let series = |m: &str| -> Vec<(String, f64)> {
        periods
            .iter()
            .map(|p| ((*p).clone(), figures[*p].get(m).copied().unwrap_or(0.0)))
            .collect()
    };
    let per = if weekly { "week" } else { "month" };
    let body = html! {
        h1 { (t(&u, if weekly { "stats-per-week-title" } else { "stats-per-month-title" })) }
        p {
            a href="/board/stats?period=month" { (t(&u, "stats-per-month")) } " · " a href="/board/stats?period=week" { (t(&u, "stats-per-week")) }
            " · " a #csv href={ "/board/stats.csv?period=" (per) } { (t(&u, "stats-csv")) }
        }
        @if periods.is_empty() { p { (t(&u, "stats-none")) } } @else {
            div.charts {
                (bars(&t(&u, "chart-requests"), &series("requests"), ""))
                (bars(&ta(&u, "chart-dispatch-within", &[("span", &span(&u, policy.dispatch_limit_min))]), &series("sla.dispatch.compliance_pct"), "%"))
                (bars(&ta(&u, "chart-repair-within", &[("span", &span(&u, policy.repair_limit_min))]), &series("sla.repair.compliance_pct"), "%"))
                (bars(&t(&u, "chart-arrival"), &series("sla.arrival.compliance_pct"), "%"))
                (bars(&t(&u, "chart-first-time-fix"), &series("first_time_fix_pct"), "%"))
                (bars(&t(&u, "chart-satisfied"), &series("satisfaction.on_site_pct"), "%"))
            }
            table #stats {
                thead { tr { th { (t(&u, "col-figure")) } @for p in &periods { th { (p) } } } }
                tbody { @for m in &metrics {
                    tr data-figure=(m) { td { (metric_label(&u, m)) } @for p in &periods { td { @if let Some(v) = figures[*p].get(*m) { (v) } } } }
                } }
            }
        }
    };
    Ok(page(
        StatusCode::OK,
        layout(&u, &t(&u, "stats-title"), body),
    ))
}

pub(crate) async fn stats_csv(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<StatsQuery>,
) -> Result<Response, Denied> {
    let weekly = q.period == "week";
    let (u, figures, _) = match figures(st, &headers, weekly).await? {
        Ok(f) => f,
        Err(page) => return Ok(page),
    };
    // The figure's stable key for scripts, its name for people.
    let mut csv = t(&u, "csv-header");
    csv.push('\n');
    let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for (period, f) in figures {
        for (k, v) in f {
            // Metric names hold ids and SKUs: quote them.
            csv.push_str(&format!(
                "{period},{},{},{v}\n",
                quoted(&k),
                quoted(&metric_label(&u, &k))
            ));
        }
    }
    let name = if weekly {
        "fieldwork-stats-weekly.csv"
    } else {
        "fieldwork-stats-monthly.csv"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv,
    )
        .into_response())
}
