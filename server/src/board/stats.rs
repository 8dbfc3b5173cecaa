//! The supervisor's statistics page: the figures defined in
//! `fieldwork_core::rules::stats`, per week or month, as a table, SVG bar
//! charts drawn here on the server, and CSV.

use super::frame::views;
use super::frame::{Denied, layout, page, user};
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
fn span(minutes: i64) -> String {
    if minutes % 60 == 0 {
        format!("{} h", minutes / 60)
    } else {
        format!("{minutes} min")
    }
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
            layout(u, "Statistics", html! { h1 { "Statistics" } p.error { "Statistics are for the service-center supervisor." } }),
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
        h1 { "Statistics per " (per) }
        p {
            a href="/board/stats?period=month" { "per month" } " · " a href="/board/stats?period=week" { "per week" }
            " · " a #csv href={ "/board/stats.csv?period=" (per) } { "download CSV" }
        }
        @if periods.is_empty() { p { "No orders yet." } } @else {
            div.charts {
                (bars("Requests", &series("requests"), ""))
                (bars(&format!("Dispatch within {}", span(policy.dispatch_limit_min)), &series("sla.dispatch.compliance_pct"), "%"))
                (bars(&format!("Repair within {}", span(policy.repair_limit_min)), &series("sla.repair.compliance_pct"), "%"))
                (bars("Arrival on time", &series("sla.arrival.compliance_pct"), "%"))
                (bars("First-time fix", &series("first_time_fix_pct"), "%"))
                (bars("Satisfied on site", &series("satisfaction.on_site_pct"), "%"))
            }
            table #stats {
                thead { tr { th { "Figure" } @for p in &periods { th { (p) } } } }
                tbody { @for m in &metrics {
                    tr { td { (m) } @for p in &periods { td { @if let Some(v) = figures[*p].get(*m) { (v) } } } }
                } }
            }
        }
    };
    Ok(page(StatusCode::OK, layout(&u, "Statistics", body)))
}

pub(crate) async fn stats_csv(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<StatsQuery>,
) -> Result<Response, Denied> {
    let weekly = q.period == "week";
    let (_, figures, _) = match figures(st, &headers, weekly).await? {
        Ok(f) => f,
        Err(page) => return Ok(page),
    };
    let mut csv = String::from("period,figure,value\n");
    for (period, f) in figures {
        for (k, v) in f {
            // Metric names hold ids and SKUs: quote them.
            csv.push_str(&format!("{period},\"{}\",{v}\n", k.replace('"', "\"\"")));
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
