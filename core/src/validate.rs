//! Input checks shared by every public call and by imports: required fields,
//! length caps (counted in characters, not bytes, so Chinese text gets the
//! same room as English), quantities, amounts, dates and signature strokes.
//! Messages name the field and the rule, never the value: values may be
//! personal data.

use crate::model::{Intake, SiteZone, Stroke, WorkOrder};
use chrono::NaiveDate;
use chrono_tz::Tz;

/// Names: customer, signer, engineer, model.
pub const MAX_NAME_CHARS: usize = 200;
/// Codes and identifiers: serial, SKU, fault code, invoice number, phone.
pub const MAX_CODE_CHARS: usize = 100;
/// Addresses and emails.
pub const MAX_ADDRESS_CHARS: usize = 500;
/// Free text: symptoms, findings, notes, comments, reasons.
pub const MAX_TEXT_CHARS: usize = 4_000;
pub const MAX_STROKES: usize = 500;
pub const MAX_STROKE_POINTS: usize = 20_000;
pub const MAX_QTY: i64 = 1_000;
/// In minor units: 100 million in major units.
pub const MAX_AMOUNT_MINOR: i64 = 10_000_000_000;
/// Lines of one kind on one order (parts, fees, notes, …).
pub const MAX_LINES: usize = 500;

/// A field that was refused: which, why in English (the default message),
/// and a stable `code` with its number `n` (a cap, a limit) for the apps and
/// the board to say it in their own language (message `reason-<code>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct Invalid {
    pub field: String,
    pub reason: String,
    pub code: &'static str,
    pub n: Option<i64>,
    /// A name the reason mentions (a policy field, a calling window).
    pub name: Option<String>,
}

impl Invalid {
    /// The reason in `lang` (the English reason where no message says it).
    pub fn reason_in(&self, lang: crate::l10n::Language) -> String {
        let id = format!("reason-{}", self.code.replace('_', "-"));
        if self.code == OTHER || !crate::l10n::has(crate::l10n::Language::En, &id) {
            return self.reason.clone();
        }
        let n = fluent_bundle::FluentValue::from(self.n.unwrap_or_default());
        let name = fluent_bundle::FluentValue::from(self.name.clone().unwrap_or_default());
        crate::l10n::text(lang, &id, &[("n", n), ("name", name)])
    }
}

/// The code of a reason no message says yet.
const OTHER: &str = "other";

/// Known reasons: code, English text. `{n}` stands for the number.
const REASONS: &[(&str, &str)] = &[
    ("required", "is required"),
    ("too_long", "longer than {n} characters"),
    ("control_characters", "contains control characters"),
    ("at_least_one", "must be at least 1"),
    ("at_most", "must be at most {n}"),
    ("negative", "must not be negative"),
    ("at_most_minor", "must be at most {n} minor units"),
    ("not_a_date", "must be a date written YYYY-MM-DD"),
    ("unsigned", "is empty: the customer has not signed"),
    ("too_many_strokes", "has more than {n} strokes"),
    ("too_many_points", "has more than {n} points"),
    ("not_finite", "has a point that is not a finite number"),
    ("times_backwards", "has point times that go backwards"),
    ("too_many_lines", "has more than {n} entries"),
    ("not_an_email", "is not an email address"),
    ("in_the_future", "is in the future"),
    ("promised_before_intake", "must be after the intake time"),
    ("score_range", "must be between 1 and 5"),
    (
        "not_a_time",
        "must be a date and time, like 2026-12-01 09:30",
    ),
    (
        "skipped_time",
        "does not exist in the service center's time zone (the clocks jump over it)",
    ),
    ("language", "must be zh-CN or en"),
    ("travel_allowance", "minutes of travel allowance, 0 to 1440"),
    ("whole_number", "must be a whole number"),
    ("checklist_empty", "the checklist is empty"),
    (
        "not_between_intake_and_now",
        "must be between intake and now",
    ),
    ("pick_resolution", "pick one of the proposed resolutions"),
    ("propose_resolution", "propose at least one"),
    ("team_required", "a major complaint needs a handling team"),
    ("physical_count", "must be a count from 0"),
    ("not_a_change_hash", "is not a change hash"),
    ("not_a_document_id", "is not a document id"),
    ("not_an_id", "is not usable in a document id"),
    (
        "unreached_has_no_rating",
        "a call that did not reach the customer has no rating",
    ),
    (
        "aspect_required",
        "ask which aspect a neutral or unsatisfied customer means",
    ),
    (
        "location_range",
        "latitude, longitude or accuracy out of range",
    ),
    ("phone_or_email", "a phone number or an email is required"),
    ("travel_minutes", "must be between 0 and 1440 minutes"),
    ("policy_positive", "policy {name} must be positive"),
    ("file_too_large", "is larger than the limit of {n} MB"),
    ("not_a_photo", "is not a JPEG, PNG, HEIC, WebP or PDF file"),
    (
        "too_many_photos",
        "the order already holds {n} photos and documents",
    ),
    ("file_empty", "is empty"),
    ("file_unreadable", "cannot be read"),
    (
        "policy_exception_shorter",
        "policy repair_exception_limit_min is shorter than repair_limit_min",
    ),
    (
        "policy_currency",
        "policy currency must be a three-letter ISO 4217 code",
    ),
    (
        "policy_time_zone",
        "policy time_zone is not an IANA time zone (e.g. Asia/Shanghai)",
    ),
    (
        "policy_calling_hours",
        "policy calling_hours must look like 09:00-12:00,14:00-20:00",
    ),
    (
        "policy_window_inverted",
        "policy calling_hours: window {name} ends before it starts",
    ),
    (
        "policy_windows_overlap",
        "policy calling_hours: windows must be in order and not overlap",
    ),
];

/// A refusal of `field`: a known reason gets its code (and number), so it
/// can be said in any language; anything else keeps its English text.
pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Invalid {
    let reason = reason.into();
    let (code, n, name) = code_of(&reason);
    Invalid {
        field: field.to_string(),
        reason,
        code,
        n,
        name,
    }
}

/// The code of an English reason, with the number or name it holds.
fn code_of(reason: &str) -> (&'static str, Option<i64>, Option<String>) {
    for (code, text) in REASONS {
        if *text == reason {
            return (code, None, None);
        }
        let hole = |placeholder: &str| {
            let (before, after) = text.split_once(placeholder)?;
            let middle = reason.strip_prefix(before)?.strip_suffix(after)?;
            (!middle.is_empty()).then(|| middle.to_string())
        };
        if let Some(n) = hole("{n}").and_then(|n| n.parse::<i64>().ok()) {
            return (code, Some(n), None);
        }
        if let Some(name) = hole("{name}") {
            return (code, None, Some(name));
        }
    }
    (OTHER, None, None)
}

fn check_chars(field: &str, value: &str, cap: usize) -> Result<(), Invalid> {
    if value.chars().count() > cap {
        return Err(invalid(field, format!("longer than {cap} characters")));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

pub fn required(field: &str, value: &str, cap: usize) -> Result<(), Invalid> {
    if value.trim().is_empty() {
        return Err(invalid(field, "is required"));
    }
    check_chars(field, value, cap)
}

pub fn optional(field: &str, value: Option<&str>, cap: usize) -> Result<(), Invalid> {
    match value {
        Some(v) => check_chars(field, v, cap),
        None => Ok(()),
    }
}

pub fn quantity(field: &str, qty: i64) -> Result<(), Invalid> {
    if qty <= 0 {
        return Err(invalid(field, "must be at least 1"));
    }
    if qty > MAX_QTY {
        return Err(invalid(field, format!("must be at most {MAX_QTY}")));
    }
    Ok(())
}

pub fn amount(field: &str, minor: i64) -> Result<(), Invalid> {
    if minor < 0 {
        return Err(invalid(field, "must not be negative"));
    }
    if minor > MAX_AMOUNT_MINOR {
        return Err(invalid(
            field,
            format!("must be at most {MAX_AMOUNT_MINOR} minor units"),
        ));
    }
    Ok(())
}

pub fn date(field: &str, value: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| invalid(field, "must be a date written YYYY-MM-DD"))
}

pub fn strokes(field: &str, strokes: &[Stroke], required: bool) -> Result<(), Invalid> {
    if required && strokes.iter().all(|s| s.points.is_empty()) {
        return Err(invalid(field, "is empty: the customer has not signed"));
    }
    if strokes.len() > MAX_STROKES {
        return Err(invalid(
            field,
            format!("has more than {MAX_STROKES} strokes"),
        ));
    }
    let points: usize = strokes.iter().map(|s| s.points.len()).sum();
    if points > MAX_STROKE_POINTS {
        return Err(invalid(
            field,
            format!("has more than {MAX_STROKE_POINTS} points"),
        ));
    }
    for s in strokes {
        if s.points
            .iter()
            .any(|p| !p.x.is_finite() || !p.y.is_finite())
        {
            return Err(invalid(field, "has a point that is not a finite number"));
        }
        if s.points.windows(2).any(|w| w[1].t_ms < w[0].t_ms) {
            return Err(invalid(field, "has point times that go backwards"));
        }
    }
    Ok(())
}

/// An intake as the desk or the engineer enters it, at time `now_ms` at a
/// service center in time zone `zone`: the first error of [`intake_all`].
pub fn intake(i: &Intake, now_ms: i64, zone: Tz) -> Result<(), Invalid> {
    match intake_all(i, now_ms, zone).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every error of an intake at once, at most one per field, in the order of
/// the form: a desk sees all it must fix in one go.
/// A purchase date is "in the future" after today at the service center.
pub fn intake_all(i: &Intake, now_ms: i64, zone: Tz) -> Vec<Invalid> {
    let mut errors: Vec<Invalid> = Vec::new();
    let mut check = |r: Result<(), Invalid>| {
        if let Err(e) = r
            && !errors.iter().any(|x| x.field == e.field)
        {
            errors.push(e);
        }
    };
    let c = &i.customer;
    check(required("customer.name", &c.name, MAX_NAME_CHARS));
    check(required("customer.address", &c.address, MAX_ADDRESS_CHARS));
    check(optional(
        "customer.phone",
        c.phone.as_deref(),
        MAX_CODE_CHARS,
    ));
    check(optional(
        "customer.email",
        c.email.as_deref(),
        MAX_ADDRESS_CHARS,
    ));
    if c.phone.as_deref().is_none_or(|p| p.trim().is_empty())
        && c.email.as_deref().is_none_or(|e| e.trim().is_empty())
    {
        check(Err(invalid(
            "customer.phone",
            "a phone number or an email is required",
        )));
    }
    if let Some(e) = c.email.as_deref().filter(|e| !e.is_empty())
        && !e.contains('@')
    {
        check(Err(invalid("customer.email", "is not an email address")));
    }
    let p = &i.product;
    check(required("product.model", &p.model, MAX_NAME_CHARS));
    check(required("product.serial", &p.serial, MAX_CODE_CHARS));
    check(optional(
        "product.proof_of_purchase",
        p.proof_of_purchase.as_deref(),
        MAX_CODE_CHARS,
    ));
    if let Some(d) = &p.purchase_date {
        check(date("product.purchase_date", d).and_then(|bought| {
            let today = crate::local_time::local_date(zone, now_ms);
            if bought > today {
                Err(invalid("product.purchase_date", "is in the future"))
            } else {
                Ok(())
            }
        }));
    }
    let f = &i.fault;
    check(required("fault.symptoms", &f.symptoms, MAX_TEXT_CHARS));
    check(optional(
        "fault.frequency",
        f.frequency.as_deref(),
        MAX_TEXT_CHARS,
    ));
    check(optional("fault.since", f.since.as_deref(), MAX_TEXT_CHARS));
    check(optional(
        "fault.environment",
        f.environment.as_deref(),
        MAX_TEXT_CHARS,
    ));
    check(optional(
        "fault.already_tried",
        f.already_tried.as_deref(),
        MAX_TEXT_CHARS,
    ));
    if let Some(promised) = i.promised_by_ms
        && promised <= now_ms
    {
        check(Err(invalid("promised_by", "must be after the intake time")));
    }
    if let SiteZone::OutsideUrban {
        travel_allowance_min,
    } = i.site_zone
        && !(0..=24 * 60).contains(&travel_allowance_min)
    {
        check(Err(invalid(
            "site_zone.travel_allowance_min",
            "must be between 0 and 1440 minutes",
        )));
    }
    errors
}

/// Caps over a whole order: what a received document must respect too.
pub fn order(o: &WorkOrder) -> Result<(), Invalid> {
    let c = &o.intake.customer;
    check_chars("customer.name", &c.name, MAX_NAME_CHARS)?;
    check_chars("customer.address", &c.address, MAX_ADDRESS_CHARS)?;
    optional("customer.phone", c.phone.as_deref(), MAX_CODE_CHARS)?;
    optional("customer.email", c.email.as_deref(), MAX_ADDRESS_CHARS)?;
    check_chars("product.model", &o.intake.product.model, MAX_NAME_CHARS)?;
    check_chars("product.serial", &o.intake.product.serial, MAX_CODE_CHARS)?;
    check_chars("fault.symptoms", &o.intake.fault.symptoms, MAX_TEXT_CHARS)?;
    let lists = [
        ("events", o.events.len()),
        ("parts", o.parts.len()),
        ("fees", o.fees.len()),
        ("repair_notes", o.repair_notes.len()),
        ("consents", o.consents.len()),
        ("qc", o.qc.len()),
        ("follow_ups", o.follow_ups.len()),
        ("complaints", o.complaints.len()),
        ("extra_faults", o.extra_faults.len()),
    ];
    for (field, n) in lists {
        if n > MAX_LINES {
            return Err(invalid(field, format!("has more than {MAX_LINES} entries")));
        }
    }
    for n in &o.repair_notes {
        check_chars("repair_notes.text", &n.text, MAX_TEXT_CHARS)?;
    }
    for p in &o.parts {
        quantity("parts.qty", p.qty)?;
        amount("parts.unit_price", p.unit_price_minor)?;
    }
    for f in &o.fees {
        amount("fees.amount", f.amount_minor)?;
    }
    for c in &o.consents {
        strokes("consents.strokes", &c.strokes, false)?;
    }
    if let Some(crate::model::SignOff::Signed(s)) = &o.sign_off {
        strokes("signature.strokes", &s.strokes, false)?;
        check_chars("signature.signer_name", &s.signer_name, MAX_NAME_CHARS)?;
    }
    Ok(())
}

#[cfg(test)]
mod reason_tests {
    use super::*;
    use crate::l10n::{Language, has};

    #[test]
    fn every_known_reason_has_its_code_and_a_message_in_both_languages() {
        for (code, text) in REASONS {
            let sample = text.replace("{n}", "12").replace("{name}", "warranty_days");
            let i = invalid("f", sample);
            assert_eq!(i.code, *code, "{text}");
            let id = format!("reason-{}", code.replace('_', "-"));
            for lang in Language::ALL {
                assert!(has(lang, &id), "{lang} lacks {id}");
            }
        }
        let i = invalid("customer.name", "longer than 200 characters");
        assert_eq!((i.code, i.n), ("too_long", Some(200)));
        assert_eq!(i.reason_in(Language::ZhCn), "不能超过 200 个字符");
        assert_eq!(i.reason_in(Language::En), "longer than 200 characters");
        let odd = invalid("x", "something new");
        assert_eq!(odd.code, "other");
        assert_eq!(odd.reason_in(Language::ZhCn), "something new");
    }
}
