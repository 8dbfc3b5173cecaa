//! Times as the service center reads them. Stored times stay UTC
//! milliseconds; everything a person reads or types, and every rule that
//! speaks of "today", "same day" or rest hours, is reckoned in the tenant's
//! IANA time zone ([`Policy::zone`]) through chrono-tz, so daylight-saving
//! changes are the time-zone database's business, never a hand-written offset.

use crate::policy::Policy;
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

const MINUTE_MS: i64 = 60_000;

fn utc(ms: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The local wall-clock time of `ms`.
pub fn local(zone: Tz, ms: i64) -> NaiveDateTime {
    utc(ms).with_timezone(&zone).naive_local()
}

/// The local calendar day of `ms`: what "today" means at the service center.
pub fn local_date(zone: Tz, ms: i64) -> NaiveDate {
    local(zone, ms).date()
}

/// `2026-12-01 09:30` in the zone: how a person reads a time.
pub fn format_local(zone: Tz, ms: i64) -> String {
    local(zone, ms).format("%Y-%m-%d %H:%M").to_string()
}

/// The local day's date, `2026-12-01`.
pub fn format_local_date(zone: Tz, ms: i64) -> String {
    local_date(zone, ms).format("%Y-%m-%d").to_string()
}

/// The zone's offset at `ms` as people write it: `+08:00`.
pub fn offset_label(zone: Tz, ms: i64) -> String {
    utc(ms).with_timezone(&zone).format("%:z").to_string()
}

/// Why a local time names no instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalTimeError {
    /// It does not parse as `YYYY-MM-DDTHH:MM` (or with a space).
    Unreadable,
    /// The clocks jumped over it (a daylight-saving change).
    Skipped,
}

impl std::fmt::Display for LocalTimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LocalTimeError::Unreadable => "must be a date and time, like 2026-12-01 09:30",
            LocalTimeError::Skipped => {
                "does not exist in the service center's time zone (the clocks jump over it)"
            }
        })
    }
}

/// The instant of a local wall-clock time. A time that occurs twice (when
/// clocks go back) is its first occurrence; one the clocks skip is refused.
pub fn instant(zone: Tz, at: NaiveDateTime) -> Result<i64, LocalTimeError> {
    match zone.from_local_datetime(&at) {
        LocalResult::Single(t) => Ok(t.timestamp_millis()),
        LocalResult::Ambiguous(first, _) => Ok(first.timestamp_millis()),
        LocalResult::None => Err(LocalTimeError::Skipped),
    }
}

/// Parse a local time as a form sends it (`2026-12-01T09:30`, seconds
/// optional, or with a space) into UTC milliseconds.
pub fn parse_local(zone: Tz, text: &str) -> Result<i64, LocalTimeError> {
    let t = text.trim();
    let at = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    .ok_or(LocalTimeError::Unreadable)?;
    instant(zone, at)
}

/// The first instant of local day `day` (midnight, or the first time that
/// exists where a daylight-saving change skips midnight).
pub fn start_of_day(zone: Tz, day: NaiveDate) -> i64 {
    let midnight = day.and_time(NaiveTime::MIN);
    (0..=4)
        .find_map(|h| instant(zone, midnight + Duration::hours(h)).ok())
        .unwrap_or_else(|| midnight.and_utc().timestamp_millis())
}

/// Local midnight ending the day `ms` falls in: where a "same day" limit ends.
pub fn end_of_local_day(zone: Tz, ms: i64) -> i64 {
    let day = local_date(zone, ms);
    start_of_day(zone, day.succ_opt().unwrap_or(day))
}

/// A "N hours or same day" limit: `limit_ms` after `start`, or local
/// midnight ending `start`'s day if that is later.
pub fn or_same_day(zone: Tz, start: i64, limit_ms: i64) -> i64 {
    start
        .saturating_add(limit_ms)
        .max(end_of_local_day(zone, start))
}

/// The calling windows of local day `day` as instants, in order.
fn windows_on(policy: &Policy, zone: Tz, day: NaiveDate) -> Vec<(i64, i64)> {
    let at = |min: u32| {
        let start = start_of_day(zone, day);
        let wall = day.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(min));
        // A window edge the clocks skip moves to the end of the gap.
        instant(zone, wall).unwrap_or_else(|_| {
            (1..=120)
                .find_map(|m| instant(zone, wall + Duration::minutes(m)).ok())
                .unwrap_or(start + i64::from(min) * MINUTE_MS)
        })
    };
    policy
        .calling_windows()
        .into_iter()
        .map(|(a, b)| (at(a), at(b)))
        .filter(|(a, b)| a < b)
        .collect()
}

/// Whether a customer may be called at `ms` (inside the calling hours).
pub fn may_call(policy: &Policy, ms: i64) -> bool {
    let zone = policy.zone();
    windows_on(policy, zone, local_date(zone, ms))
        .iter()
        .any(|&(a, b)| a <= ms && ms < b)
}

/// When the customer may next be called: `ms` itself inside calling hours,
/// otherwise the opening of the next window.
pub fn next_call_at(policy: &Policy, ms: i64) -> i64 {
    let zone = policy.zone();
    let mut day = local_date(zone, ms);
    for _ in 0..3 {
        for (a, b) in windows_on(policy, zone, day) {
            if ms < b {
                return a.max(ms);
            }
        }
        day = day.succ_opt().unwrap_or(day);
    }
    ms
}

/// The latest moment at or before `ms` at which a customer may still be
/// called: `ms` itself inside calling hours, otherwise the close of the
/// last window before it. A follow-up due in rest hours is due then.
pub fn last_call_by(policy: &Policy, ms: i64) -> i64 {
    let zone = policy.zone();
    let mut day = local_date(zone, ms);
    for _ in 0..3 {
        for (a, b) in windows_on(policy, zone, day).into_iter().rev() {
            if a <= ms {
                return b.min(ms);
            }
        }
        day = day.pred_opt().unwrap_or(day);
    }
    ms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(zone: &str) -> Policy {
        Policy {
            time_zone: zone.into(),
            ..Policy::default()
        }
    }

    fn ms(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .map(|t| t.timestamp_millis())
            .unwrap_or_default()
    }

    #[test]
    fn today_in_shanghai_starts_at_midnight_beijing_time() {
        let z: Tz = "Asia/Shanghai".parse().unwrap_or(Tz::UTC);
        // 00:30 on 1 December in Beijing is still 30 November in UTC.
        let t = ms("2026-11-30T16:30:00Z");
        assert_eq!(local_date(z, t).to_string(), "2026-12-01");
        assert_eq!(format_local(z, t), "2026-12-01 00:30");
        assert_eq!(end_of_local_day(z, t), ms("2026-12-01T16:00:00Z"));
    }

    #[test]
    fn a_skipped_local_time_is_refused_and_a_repeated_one_is_its_first() {
        let z: Tz = "Europe/Berlin".parse().unwrap_or(Tz::UTC);
        assert_eq!(
            parse_local(z, "2026-03-29T02:30"),
            Err(LocalTimeError::Skipped)
        );
        // 02:30 happens twice on 25 October 2026; the first is CEST (+02:00).
        assert_eq!(
            parse_local(z, "2026-10-25 02:30"),
            Ok(ms("2026-10-25T00:30:00Z"))
        );
        assert_eq!(parse_local(z, "tomorrow"), Err(LocalTimeError::Unreadable));
    }

    #[test]
    fn rest_hours_and_the_next_and_last_call() {
        let p = policy("Asia/Shanghai");
        // 12:30 Beijing: lunch rest; next window opens 14:00, last closed 12:00.
        let lunch = ms("2026-12-01T04:30:00Z");
        assert!(!may_call(&p, lunch));
        assert_eq!(next_call_at(&p, lunch), ms("2026-12-01T06:00:00Z"));
        assert_eq!(last_call_by(&p, lunch), ms("2026-12-01T04:00:00Z"));
        // 23:00 Beijing: next call at 09:00 the next day; last call 20:00.
        let night = ms("2026-12-01T15:00:00Z");
        assert_eq!(next_call_at(&p, night), ms("2026-12-02T01:00:00Z"));
        assert_eq!(last_call_by(&p, night), ms("2026-12-01T12:00:00Z"));
        let morning = ms("2026-12-01T02:00:00Z");
        assert!(may_call(&p, morning));
        assert_eq!(next_call_at(&p, morning), morning);
        assert_eq!(last_call_by(&p, morning), morning);
    }

    #[test]
    fn calling_hours_follow_the_wall_clock_across_a_daylight_saving_change() {
        let p = policy("Europe/Berlin");
        // 09:00 in Berlin is 07:00 UTC in summer and 08:00 UTC in winter.
        assert_eq!(
            next_call_at(&p, ms("2026-10-24T03:00:00Z")),
            ms("2026-10-24T07:00:00Z")
        );
        assert_eq!(
            next_call_at(&p, ms("2026-10-26T03:00:00Z")),
            ms("2026-10-26T08:00:00Z")
        );
    }
}
