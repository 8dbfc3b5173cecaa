//! The supervisor's figures (docs/domain.md, "Statistics"), defined once:
//! requests by channel and category, SLA compliance per clock, repair time
//! (average and 90th percentile), first-time fix, rework, repair success,
//! satisfaction on site and on follow-up calls, complaints by category,
//! parts used and dead on arrival, on-time arrival per engineer. The board's
//! page and its CSV both render these.
//!
//! Definitions: an order counts in the period of its intake; a follow-up
//! call, a complaint and a part line in the period they were recorded. A
//! repair is a first-time fix when the order never waited for parts or
//! failed QC and is not rework. Percentages have one decimal.

use crate::model::{ComplaintStage, Rating, Status, WorkOrder};
use crate::rules::sla::{ClockKind, ClockState, SlaClock};
use chrono::Datelike;
use chrono_tz::Tz;
use std::collections::BTreeMap;

/// What the figures read of one order.
#[derive(Debug, Clone, Copy)]
pub struct OrderFacts<'a> {
    pub order: &'a WorkOrder,
    pub status: Status,
    pub clocks: &'a [SlaClock],
}

/// Figures of one period: metric name → value.
pub type Figures = BTreeMap<String, f64>;

/// The week or month `ms` falls in at the service center (its time zone).
fn period_of(zone: Tz, ms: i64, weekly: bool) -> String {
    let t = crate::local_time::local(zone, ms);
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

fn first_event(v: &OrderFacts<'_>, to: Status) -> Option<i64> {
    v.order
        .events
        .iter()
        .filter(|e| e.to == to)
        .map(|e| e.at_ms)
        .min()
}

/// Every figure docs/domain.md lists, per period (orders counted in the period of
/// their intake; complaints and parts in the period they were recorded).
/// Figures per local week or month in `zone`.
pub fn compute(orders: &[OrderFacts<'_>], weekly: bool, zone: Tz) -> BTreeMap<String, Figures> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for v in orders {
        let o = v.order;
        let t = tallies
            .entry(period_of(zone, o.created_at_ms, weekly))
            .or_default();
        t.add("requests", 1.0);
        t.add(format!("requests.channel.{}", slug(&o.intake.channel)), 1.0);
        t.add(
            format!("requests.category.{}", slug(&o.intake.category)),
            1.0,
        );
        for c in v.clocks {
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
            let tf = tallies.entry(period_of(zone, f.at_ms, weekly)).or_default();
            tf.add("_called", 1.0);
            if f.rating == Some(Rating::Satisfied) {
                tf.add("_called_satisfied", 1.0);
            }
        }
        for c in o
            .complaints
            .iter()
            .filter(|c| c.stage != ComplaintStage::Candidate)
        {
            tallies
                .entry(period_of(zone, c.registered_at_ms, weekly))
                .or_default()
                .add(format!("complaints.category.{}", slug(&c.category)), 1.0);
        }
        for p in &o.parts {
            let tp = tallies.entry(period_of(zone, p.at_ms, weekly)).or_default();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PartState;
    use crate::policy::Policy;
    use crate::rules::lifecycle::current_status;
    use crate::rules::sla::clocks;
    use crate::rules::testing::*;

    fn figures(orders: &[WorkOrder]) -> BTreeMap<String, Figures> {
        figures_in(orders, false, Tz::UTC)
    }

    fn figures_in(orders: &[WorkOrder], weekly: bool, zone: Tz) -> BTreeMap<String, Figures> {
        let p = Policy::default();
        let now = T0 + 10 * 24 * 3_600_000;
        let cs: Vec<Vec<SlaClock>> = orders.iter().map(|o| clocks(o, &p, now)).collect();
        let facts: Vec<OrderFacts<'_>> = orders
            .iter()
            .zip(&cs)
            .map(|(order, clocks)| OrderFacts {
                order,
                status: current_status(order),
                clocks,
            })
            .collect();
        compute(&facts, weekly, zone)
    }

    fn received(at: &str) -> WorkOrder {
        let mut o = new_order();
        o.id = format!("wo-{}", at.replace([':', '-'], ""));
        o.created_at_ms = chrono::DateTime::parse_from_rfc3339(at)
            .map(|t| t.timestamp_millis())
            .unwrap_or_default();
        o
    }

    #[test]
    fn periods_are_the_service_centers_weeks_and_months_across_a_clock_change() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap_or(Tz::UTC);
        // Summer time: 01:30 on 1 October in Berlin is still 30 September in UTC.
        let october = received("2026-09-30T23:30:00Z");
        // Clocks went back on Sunday 25 October: 00:30 on Monday 26 October
        // (winter time, +01:00) is Sunday in UTC, so another ISO week.
        let monday = received("2026-10-25T23:30:00Z");
        // 00:30 on 1 November in Berlin is 31 October in UTC.
        let november = received("2026-10-31T23:30:00Z");
        let all = [october, monday, november];
        let months = figures_in(&all, false, berlin);
        let counts: Vec<(&str, f64)> = months
            .iter()
            .map(|(p, f)| (p.as_str(), f["requests"]))
            .collect();
        assert_eq!(counts, [("2026-10", 2.0), ("2026-11", 1.0)]);
        let weeks = figures_in(&all, true, berlin);
        assert!(weeks.contains_key("2026-W44"), "{:?}", weeks.keys());
        assert!(weeks.contains_key("2026-W40"), "{:?}", weeks.keys());
        // The same orders in UTC land elsewhere: September, October, October.
        let utc = figures_in(&all, false, Tz::UTC);
        assert_eq!(utc.keys().collect::<Vec<_>>(), ["2026-09", "2026-10"]);
    }

    #[test]
    fn first_time_fix_counts_repairs_that_never_waited_or_failed_qc() {
        let clean = visited_order(true);
        let mut waited = working_order(true);
        waited.id = "wo-waited".into();
        part(&mut waited, "SKU-1", PartState::Ordered);
        push(&mut waited, Status::AwaitingParts);
        push(&mut waited, Status::InProgress);
        push(&mut waited, Status::Repaired);
        let mut rework = visited_order(true);
        rework.id = "wo-rework".into();
        rework.rework_of = Some("wo-earlier".into());
        let all = figures(&[clean, waited, rework]);
        assert_eq!(all.len(), 1, "one month");
        let f = all.values().next().unwrap();
        assert_eq!(f["requests"], 3.0);
        assert_eq!(f["first_time_fix_pct"], 33.3, "one of three repairs");
        assert_eq!(f["rework_pct"], 33.3);
        assert_eq!(f["repair_success_pct"], 100.0);
        assert_eq!(f["parts.used.SKU-1"], 6.0, "three lines of two");
        assert_eq!(f["requests.channel.phone"], 3.0);
    }

    #[test]
    fn no_orders_no_figures_and_no_division_by_zero() {
        assert!(figures(&[]).is_empty());
        let f = figures(&[new_order()]);
        let month = f.values().next().unwrap();
        assert_eq!(month["requests"], 1.0);
        assert!(
            !month.contains_key("first_time_fix_pct"),
            "nothing repaired yet"
        );
    }
}
