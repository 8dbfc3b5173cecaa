//! The supervisor's statistics (DOMAIN.md): per week or month, as a table,
//! SVG bar charts drawn here on the server, and CSV.

use super::desk::views;
use super::{Denied, layout, page, user};
use crate::app::{AppState, blocking};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use fieldwork_core::api::OrderView;
use fieldwork_core::model::{Rating, Status};
use fieldwork_core::rules::sla::{ClockKind, ClockState};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::pages::tenant_store;

/// Figures of one period: metric name → value.
pub(crate) type Figures = BTreeMap<String, f64>;

fn period_of(ms: i64, weekly: bool) -> String {
    let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    if weekly {
        let w = t.iso_week();
        format!("{}-W{:02}", w.year(), w.week())
    } else {
        format!("{}-{:02}", t.year(), t.month())
    }
}

fn slug<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Counts that become rates once every order is in.
#[derive(Default)]
struct Tally {
    counts: BTreeMap<String, f64>,
    repair_ms: Vec<i64>,
}

impl Tally {
    fn add(&mut self, k: impl Into<String>, n: f64) {
        *self.counts.entry(k.into()).or_default() += n;
    }
    fn count(&self, k: &str) -> f64 {
        self.counts.get(k).copied().unwrap_or(0.0)
    }
}

fn pct(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| (100.0 * num / den * 10.0).round() / 10.0)
}

fn first_event(v: &OrderView, to: Status) -> Option<i64> {
    v.order
        .events
        .iter()
        .filter(|e| e.to == to)
        .map(|e| e.at_ms)
        .min()
}

/// Every figure DOMAIN.md lists, per period (orders counted in the period of
/// their intake; complaints and parts in the period they were recorded).
pub(crate) fn compute(orders: &[OrderView], weekly: bool) -> BTreeMap<String, Figures> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for v in orders {
        let o = &v.order;
        let t = tallies
            .entry(period_of(o.created_at_ms, weekly))
            .or_default();
        t.add("requests", 1.0);
        t.add(format!("requests.channel.{}", slug(&o.intake.channel)), 1.0);
        t.add(
            format!("requests.category.{}", slug(&o.intake.category)),
            1.0,
        );
        for c in &v.clocks {
            let kind = slug(&c.kind);
            match c.state {
                ClockState::Met => {
                    t.add(format!("_sla.{kind}.met"), 1.0);
                    t.add(format!("_sla.{kind}.n"), 1.0);
                }
                ClockState::MetLate | ClockState::Breached => t.add(format!("_sla.{kind}.n"), 1.0),
                _ => {}
            }
            if c.kind == ClockKind::Arrival
                && let Some(e) = &o.assignee
                && matches!(
                    c.state,
                    ClockState::Met | ClockState::MetLate | ClockState::Breached
                )
            {
                t.add(format!("_arrival.{e}.n"), 1.0);
                if c.state == ClockState::Met {
                    t.add(format!("_arrival.{e}.met"), 1.0);
                }
            }
        }
        let repaired = first_event(v, Status::Repaired);
        if let (Some(d), Some(r)) = (first_event(v, Status::Dispatched), repaired) {
            t.repair_ms.push(r - d);
        }
        if repaired.is_some() {
            t.add("_repaired", 1.0);
            let second_visit = o
                .events
                .iter()
                .any(|e| matches!(e.to, Status::AwaitingParts | Status::QcFailed));
            if !second_visit && o.rework_of.is_none() {
                t.add("_first_time_fix", 1.0);
            }
            if o.rework_of.is_some() {
                t.add("_rework", 1.0);
            }
        } else if v.status == Status::Cancelled && first_event(v, Status::Dispatched).is_some() {
            t.add("_not_repaired", 1.0);
        }
        if let Some(s) = &o.satisfaction {
            t.add("_rated", 1.0);
            if s.rating == Rating::Satisfied {
                t.add("_rated_satisfied", 1.0);
            }
        }
        for f in o
            .follow_ups
            .iter()
            .filter(|f| f.reached && f.rating.is_some())
        {
            let tf = tallies.entry(period_of(f.at_ms, weekly)).or_default();
            tf.add("_called", 1.0);
            if f.rating == Some(Rating::Satisfied) {
                tf.add("_called_satisfied", 1.0);
            }
        }
        for c in o
            .complaints
            .iter()
            .filter(|c| c.stage != fieldwork_core::model::ComplaintStage::Candidate)
        {
            tallies
                .entry(period_of(c.registered_at_ms, weekly))
                .or_default()
                .add(format!("complaints.category.{}", slug(&c.category)), 1.0);
        }
        for p in &o.parts {
            let tp = tallies.entry(period_of(p.at_ms, weekly)).or_default();
            tp.add(format!("parts.used.{}", p.sku), p.qty as f64);
            tp.add(format!("_parts.{}.lines", p.sku), 1.0);
            if p.doa {
                tp.add(format!("_parts.{}.doa", p.sku), 1.0);
            }
        }
    }
    tallies
        .into_iter()
        .map(|(period, t)| {
            let mut f: Figures = t
                .counts
                .iter()
                .filter(|(k, _)| !k.starts_with('_'))
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            let mut put = |k: String, v: Option<f64>| {
                if let Some(v) = v {
                    f.insert(k, v);
                }
            };
            for kind in ["dispatch", "arrival", "repair", "paperwork", "follow_up"] {
                put(
                    format!("sla.{kind}.compliance_pct"),
                    pct(
                        t.count(&format!("_sla.{kind}.met")),
                        t.count(&format!("_sla.{kind}.n")),
                    ),
                );
            }
            let mut r = t.repair_ms.clone();
            r.sort_unstable();
            if !r.is_empty() {
                let hours = |ms: i64| (ms as f64 / 3_600_000.0 * 100.0).round() / 100.0;
                put(
                    "repair_time.avg_h".into(),
                    Some(hours(r.iter().sum::<i64>() / r.len() as i64)),
                );
                put(
                    "repair_time.p90_h".into(),
                    Some(hours(r[(r.len() * 9).div_ceil(10) - 1])),
                );
            }
            put(
                "first_time_fix_pct".into(),
                pct(t.count("_first_time_fix"), t.count("_repaired")),
            );
            put(
                "rework_pct".into(),
                pct(t.count("_rework"), t.count("_repaired")),
            );
            put(
                "repair_success_pct".into(),
                pct(
                    t.count("_repaired"),
                    t.count("_repaired") + t.count("_not_repaired"),
                ),
            );
            put(
                "satisfaction.on_site_pct".into(),
                pct(t.count("_rated_satisfied"), t.count("_rated")),
            );
            put(
                "satisfaction.follow_up_pct".into(),
                pct(t.count("_called_satisfied"), t.count("_called")),
            );
            for k in t
                .counts
                .keys()
                .filter(|k| k.starts_with("_parts.") && k.ends_with(".lines"))
            {
                let sku = &k["_parts.".len()..k.len() - ".lines".len()];
                put(
                    format!("parts.doa_pct.{sku}"),
                    pct(t.count(&format!("_parts.{sku}.doa")), t.count(k)),
                );
            }
            for k in t
                .counts
                .keys()
                .filter(|k| k.starts_with("_arrival.") && k.ends_with(".n"))
            {
                let e = &k["_arrival.".len()..k.len() - ".n".len()];
                put(
                    format!("arrival.on_time_pct.{e}"),
                    pct(t.count(&format!("_arrival.{e}.met")), t.count(k)),
                );
            }
            (period, f)
        })
        .collect()
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
    (!u.supervisor).then(|| {
        page(
            StatusCode::FORBIDDEN,
            layout(u, "Statistics", html! { h1 { "Statistics" } p.error { "Statistics are for the service-center supervisor." } }),
        )
    })
}

/// The signed-in supervisor and their service center's figures, or the page
/// to answer with instead (not a supervisor).
async fn figures(
    st: Arc<AppState>,
    headers: &HeaderMap,
    weekly: bool,
) -> Result<Result<(crate::auth::BoardUser, BTreeMap<String, Figures>), Response>, Denied> {
    let u = user(&st, headers)?;
    if let Some(r) = supervisor_only(&u) {
        return Ok(Err(r));
    }
    let who = u.clone();
    let computed = blocking(move || {
        Ok(tenant_store(&st, &who)
            .and_then(|fw| views(&fw, &[]))
            .map(|all| compute(&all, weekly)))
    })
    .await
    .map_err(|e| Denied::Internal(e.message))??;
    Ok(Ok((u, computed)))
}

pub(crate) async fn stats(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<StatsQuery>,
) -> Result<Response, Denied> {
    let weekly = q.period == "week";
    let (u, figures) = match figures(st, &headers, weekly).await? {
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
                (bars("Dispatch within 4 h", &series("sla.dispatch.compliance_pct"), "%"))
                (bars("Repair within 6 h", &series("sla.repair.compliance_pct"), "%"))
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
    let (_, figures) = match figures(st, &headers, weekly).await? {
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
