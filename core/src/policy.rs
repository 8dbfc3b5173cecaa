//! The service-center policy: every limit docs/domain.md names, with its numbers as
//! the defaults. A tenant may change any of them; the rules only read this.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Policy {
    /// Intake → dispatched.
    pub dispatch_limit_min: i64,
    /// Dispatched → repaired.
    pub repair_limit_min: i64,
    /// Dispatched → repaired when an exception reason is recorded.
    pub repair_exception_limit_min: i64,
    /// Dispatched → on site for an urban site (travel allowance added outside).
    pub arrival_limit_min: i64,
    /// Repaired → completion paperwork (the signed report) handed in.
    pub paperwork_limit_min: i64,
    /// Service completed → follow-up call.
    pub follow_up_limit_days: i64,
    /// A running clock this close to its due time is "about to breach".
    pub about_to_breach_min: i64,
    /// Same software fault again within this many hours is rework.
    pub software_rework_hours: i64,
    /// Same hardware fault (no parts replaced) within this many days is rework.
    pub hardware_rework_days: i64,
    /// Warranty period from the purchase date.
    pub warranty_days: i64,
    pub rma_ship_hours: i64,
    pub rma_confirm_days: i64,
    pub rma_update_days: i64,
    pub rma_second_contact_days: i64,
    pub rma_escalate_days: i64,
    /// ISO 4217 code of the tenant's currency; amounts are in its minor unit.
    pub currency: String,
    /// The service center's IANA time zone: where "today", "same day" and
    /// every time a person reads are reckoned.
    pub time_zone: String,
    /// When customers may be called, local time: `HH:MM-HH:MM` windows,
    /// comma-separated, in order (the rest of the day is rest hours).
    pub calling_hours: String,
    /// Largest photo or document an order may hold, in megabytes (10^6 bytes).
    pub photo_max_mb: i64,
    /// Most photos and documents one order may hold (removed ones not counted).
    pub photos_per_order: i64,
    /// The service center's name as the customer's report heads it (may be
    /// empty).
    pub center_name: String,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            dispatch_limit_min: 4 * 60,
            repair_limit_min: 6 * 60,
            repair_exception_limit_min: 8 * 60,
            arrival_limit_min: 20,
            paperwork_limit_min: 6 * 60,
            follow_up_limit_days: 3,
            about_to_breach_min: 30,
            software_rework_hours: 72,
            hardware_rework_days: 7,
            warranty_days: 365,
            rma_ship_hours: 4,
            rma_confirm_days: 3,
            rma_update_days: 7,
            rma_second_contact_days: 15,
            rma_escalate_days: 30,
            currency: "CNY".to_string(),
            time_zone: "UTC".to_string(),
            calling_hours: "09:00-12:00,14:00-20:00".to_string(),
            photo_max_mb: 20,
            photos_per_order: 30,
            center_name: String::new(),
        }
    }
}

impl Policy {
    pub(crate) fn minutes(m: i64) -> i64 {
        m.saturating_mul(MINUTE)
    }
    pub(crate) fn hours(h: i64) -> i64 {
        h.saturating_mul(HOUR)
    }
    pub(crate) fn days(d: i64) -> i64 {
        d.saturating_mul(DAY)
    }

    /// A policy with a negative or inverted limit is refused when a store opens.
    pub fn check(&self) -> Result<(), String> {
        let limits = [
            ("dispatch_limit_min", self.dispatch_limit_min),
            ("repair_limit_min", self.repair_limit_min),
            (
                "repair_exception_limit_min",
                self.repair_exception_limit_min,
            ),
            ("arrival_limit_min", self.arrival_limit_min),
            ("paperwork_limit_min", self.paperwork_limit_min),
            ("follow_up_limit_days", self.follow_up_limit_days),
            ("about_to_breach_min", self.about_to_breach_min),
            ("software_rework_hours", self.software_rework_hours),
            ("hardware_rework_days", self.hardware_rework_days),
            ("warranty_days", self.warranty_days),
            ("rma_ship_hours", self.rma_ship_hours),
            ("rma_confirm_days", self.rma_confirm_days),
            ("rma_update_days", self.rma_update_days),
            ("rma_second_contact_days", self.rma_second_contact_days),
            ("rma_escalate_days", self.rma_escalate_days),
            ("photo_max_mb", self.photo_max_mb),
            ("photos_per_order", self.photos_per_order),
        ];
        for (name, v) in limits {
            if v <= 0 {
                return Err(format!("policy {name} must be positive"));
            }
        }
        if self.repair_exception_limit_min < self.repair_limit_min {
            return Err(
                "policy repair_exception_limit_min is shorter than repair_limit_min".into(),
            );
        }
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err("policy currency must be a three-letter ISO 4217 code".into());
        }
        if self.time_zone.parse::<Tz>().is_err() {
            return Err("policy time_zone is not an IANA time zone (e.g. Asia/Shanghai)".into());
        }
        parse_calling_hours(&self.calling_hours)?;
        Ok(())
    }

    /// [`Policy::photo_max_mb`] in bytes.
    pub fn photo_max_bytes(&self) -> i64 {
        self.photo_max_mb.saturating_mul(1_000_000)
    }

    /// The service center's time zone (UTC if the name were unknown, which
    /// [`Policy::check`] refuses before a policy is stored).
    pub fn zone(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }

    /// The calling windows as minutes of the local day, `[from, until)`.
    pub fn calling_windows(&self) -> Vec<(u32, u32)> {
        parse_calling_hours(&self.calling_hours).unwrap_or_default()
    }
}

/// `09:00-12:00,14:00-20:00` → `[(540, 720), (840, 1200)]`: windows in
/// order, each non-empty, not overlapping; `24:00` may end the last one.
pub fn parse_calling_hours(text: &str) -> Result<Vec<(u32, u32)>, String> {
    let bad = || "policy calling_hours must look like 09:00-12:00,14:00-20:00".to_string();
    let minute = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
    };
    let mut windows: Vec<(u32, u32)> = Vec::new();
    for part in text.split(',') {
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        let (a, b) = (minute(a).ok_or_else(bad)?, minute(b).ok_or_else(bad)?);
        if a >= b {
            return Err(format!(
                "policy calling_hours: window {} ends before it starts",
                part.trim()
            ));
        }
        if windows.last().is_some_and(|&(_, end)| a < end) {
            return Err("policy calling_hours: windows must be in order and not overlap".into());
        }
        windows.push((a, b));
    }
    if windows.is_empty() {
        return Err(bad());
    }
    Ok(windows)
}
