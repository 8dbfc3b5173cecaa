//! The service report and the signature bound to it. The report is rendered
//! canonically (fixed order, fixed formats) and its SHA-256 is what the
//! customer signs; any later change to the signed content changes the hash,
//! and the signature shows as invalidated. It is never carried over.
//!
//! The rule as the service center states it: docs/domain.md, "Sign-off".

use super::fees::compute_fees;
use super::timeline::first_entered;
use crate::l10n::{self, Language};
use crate::local_time;
use crate::model::{SignOff, Status, WorkOrder};
use crate::policy::Policy;
use fluent_bundle::FluentValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignatureState {
    /// Nothing signed yet.
    Unsigned,
    /// The customer refused to sign; the reason is on the order.
    Refused,
    /// The signature matches the report as it is now.
    Valid,
    /// The signed content changed after signing.
    Invalidated,
}

/// How a report is written: the format signatures made before the locale
/// work were bound to (English, UTC, frozen so they still verify), or the
/// service center's format in a language, with its local times and money as
/// the language writes it. The language is part of the signed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Frozen: the text of reports signed before languages existed.
    Original,
    In(Language),
}

impl ReportFormat {
    /// The format a signature records (`None`: signed before languages).
    pub fn of_signature(language: Option<&str>) -> ReportFormat {
        match language.and_then(Language::parse_setting) {
            Some(l) => ReportFormat::In(l),
            None => ReportFormat::Original,
        }
    }

    pub(crate) fn words(self, key: &str, args: &[(&str, String)]) -> String {
        let a = |k: &str| {
            args.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        match self {
            ReportFormat::In(lang) => {
                let fargs: Vec<l10n::Arg<'_>> = args
                    .iter()
                    .map(|(k, v)| (*k, FluentValue::from(v.as_str())))
                    .collect();
                l10n::text(lang, key, &fargs)
            }
            // The original English lines, byte for byte.
            ReportFormat::Original => match key {
                "report-title" => format!("SERVICE REPORT {}", a("id")),
                "report-customer" => format!("Customer: {}", a("value")),
                "report-phone" => format!("Phone: {}", a("value")),
                "report-site" => format!("Site: {}", a("value")),
                "report-product" => format!("Product: {} serial {}", a("model"), a("serial")),
                "report-purchased" => format!("Purchased: {}", a("value")),
                "report-fault" => format!("Fault reported: {}", a("value")),
                "report-diagnosis" => format!("Diagnosis: [{}] {}", a("code"), a("findings")),
                "report-extra-fault" => format!("Extra fault: {}", a("value")),
                "report-work-done" => format!("Work done: {}", a("value")),
                "report-rework-of" => format!("Rework of: {} (free of charge)", a("value")),
                "report-warranty" => format!("Warranty: {} ({})", a("state"), a("reason")),
                "report-in-warranty" => "in warranty".into(),
                "report-out-of-warranty" => "out of warranty".into(),
                "report-warranty-undecided" => "Warranty: not decided".into(),
                "report-parts" => "Parts and fees:".into(),
                "report-borne" => " (borne by the company)".into(),
                "report-total" => format!("Total: {}", a("value")),
                "report-payable" => format!("Payable by customer: {}", a("value")),
                "report-qc" => format!("QC: {} by {}", a("result"), a("inspector")),
                "report-qc-passed" => "passed".into(),
                "report-qc-failed" => "failed".into(),
                "report-qc-not-done" => "QC: not done".into(),
                "report-received" => format!("Received: {}", a("value")),
                "report-arrived" => format!("Arrived: {}", a("value")),
                "report-repaired" => format!("Repaired: {}", a("value")),
                "report-photos" => "Photos and documents:".into(),
                "report-photo" => format!("  {}: {}{}", a("kind"), a("hash"), a("caption")),
                _ => String::new(),
            },
        }
    }

    /// A text the core stored (the warranty reason) in this format.
    pub(crate) fn stored(self, text: &str) -> String {
        match self {
            ReportFormat::In(lang) => l10n::stored_text(lang, text),
            ReportFormat::Original => text.to_string(),
        }
    }

    pub(crate) fn money(self, minor: i64, currency: &str) -> String {
        match self {
            ReportFormat::In(lang) => l10n::money(lang, currency, minor),
            ReportFormat::Original => {
                let sign = if minor < 0 { "-" } else { "" };
                let m = minor.unsigned_abs();
                format!("{sign}{}.{:02} {currency}", m / 100, m % 100)
            }
        }
    }

    pub(crate) fn time(self, ms: Option<i64>, policy: &Policy) -> String {
        match (self, ms) {
            (_, None) => "-".into(),
            (ReportFormat::In(_), Some(ms)) => local_time::format_local(policy.zone(), ms),
            (ReportFormat::Original, Some(ms)) => chrono::DateTime::from_timestamp_millis(ms)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "-".into()),
        }
    }
}

/// The service report the customer reads and signs: customer, product, fault,
/// work done, parts, fees, warranty decision, QC result, times. Text is kept
/// exactly as entered (Unicode unchanged). In the original format.
pub fn render_report(order: &WorkOrder, policy: &Policy) -> String {
    render_report_in(order, policy, ReportFormat::Original)
}

/// The service report in `format`.
pub fn render_report_in(order: &WorkOrder, policy: &Policy, format: ReportFormat) -> String {
    let mut r = String::with_capacity(1024);
    let i = &order.intake;
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let v = |value: &str| vec![("value", value.to_string())];
    let mut line = |key: &str, args: &[(&str, String)]| {
        // `write!` to a String cannot fail.
        let _ = writeln!(r, "{}", format.words(key, args));
    };
    line("report-title", &[("id", order.id.clone())]);
    line("report-customer", &v(&i.customer.name));
    line("report-phone", &v(&opt(&i.customer.phone)));
    line("report-site", &v(&i.customer.address));
    line(
        "report-product",
        &[
            ("model", i.product.model.clone()),
            ("serial", i.product.serial.clone()),
        ],
    );
    line("report-purchased", &v(&opt(&i.product.purchase_date)));
    line("report-fault", &v(&i.fault.symptoms));
    if let Some(d) = &order.diagnosis {
        line(
            "report-diagnosis",
            &[
                ("code", d.fault_code.clone()),
                ("findings", d.findings.clone()),
            ],
        );
    }
    for f in &order.extra_faults {
        line("report-extra-fault", &v(&f.description));
    }
    for n in &order.repair_notes {
        line("report-work-done", &v(&n.text));
    }
    if let Some(of) = &order.rework_of {
        line("report-rework-of", &v(of));
    }
    match &order.warranty {
        Some(w) => {
            let state = if w.in_warranty && !w.misuse {
                "report-in-warranty"
            } else {
                "report-out-of-warranty"
            };
            line(
                "report-warranty",
                &[
                    ("state", format.words(state, &[])),
                    ("reason", format.stored(&w.reason)),
                ],
            );
        }
        None => line("report-warranty-undecided", &[]),
    }
    let fees = compute_fees(order, policy);
    let cur = fees.currency.as_str();
    line("report-parts", &[]);
    for it in &fees.items {
        let borne = if it.company_borne {
            format.words("report-borne", &[])
        } else {
            String::new()
        };
        let _ = writeln!(
            r,
            "  {} x{} @ {} = {}{borne}",
            it.description,
            it.qty,
            format.money(it.unit_minor, cur),
            format.money(it.amount_minor, cur),
        );
    }
    let mut line = |key: &str, args: &[(&str, String)]| {
        let _ = writeln!(r, "{}", format.words(key, args));
    };
    line("report-total", &v(&format.money(fees.total_minor, cur)));
    line(
        "report-payable",
        &v(&format.money(fees.customer_payable_minor, cur)),
    );
    match order.qc.last() {
        Some(q) => {
            let result = if q.passed {
                "report-qc-passed"
            } else {
                "report-qc-failed"
            };
            line(
                "report-qc",
                &[
                    ("result", format.words(result, &[])),
                    ("inspector", q.inspector.clone()),
                ],
            );
            for item in &q.items {
                let _ = writeln!(
                    r,
                    "  [{}] {}",
                    if item.passed { "x" } else { " " },
                    item.name
                );
            }
        }
        None => {
            let _ = writeln!(r, "{}", format.words("report-qc-not-done", &[]));
        }
    }
    let mut line = |key: &str, at: Option<i64>| {
        let _ = writeln!(
            r,
            "{}",
            format.words(key, &[("value", format.time(at, policy))])
        );
    };
    line("report-received", Some(order.created_at_ms));
    line("report-arrived", first_entered(order, Status::OnSite));
    line("report-repaired", first_entered(order, Status::Repaired));
    // Photos by hash, so adding or removing one after signing changes what
    // was signed. An order without photos reads as it did before they existed.
    let shown: Vec<_> = order.photos.iter().filter(|p| !p.is_removed()).collect();
    if !shown.is_empty() {
        let _ = writeln!(r, "{}", format.words("report-photos", &[]));
        for p in shown {
            let kind = match format {
                ReportFormat::In(lang) => l10n::t(
                    lang,
                    &format!("photo-kind-{}", p.kind.as_str().replace('_', "-")),
                ),
                ReportFormat::Original => p.kind.as_str().to_string(),
            };
            let caption = p
                .caption
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            let args = [
                ("kind", kind),
                ("hash", p.hash.clone()),
                ("caption", caption),
            ];
            let _ = writeln!(r, "{}", format.words("report-photo", &args));
        }
    }
    if let ReportFormat::In(lang) = format {
        let _ = writeln!(
            r,
            "{}",
            l10n::text(
                lang,
                "report-language",
                &[("tag", FluentValue::from(lang.tag()))]
            )
        );
    }
    r
}

pub fn report_sha256(report: &str) -> String {
    let digest = Sha256::digest(report.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

pub fn signature_state_with(order: &WorkOrder, policy: &Policy) -> SignatureState {
    match &order.sign_off {
        None => SignatureState::Unsigned,
        Some(SignOff::Refused { .. }) => SignatureState::Refused,
        Some(SignOff::Signed(sig)) => {
            let format = ReportFormat::of_signature(sig.language.as_deref());
            if report_sha256(&render_report_in(order, policy, format)) == sig.report_sha256 {
                SignatureState::Valid
            } else {
                SignatureState::Invalidated
            }
        }
    }
}

/// Signature validity under the default policy's currency. Use
/// [`signature_state_with`] where the tenant's policy is at hand.
pub fn signature_state(order: &WorkOrder) -> SignatureState {
    signature_state_with(order, &Policy::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PartState;
    use crate::rules::testing::*;

    #[test]
    fn a_signature_over_the_current_report_is_valid() {
        let order = visited_order(false);
        assert_eq!(signature_state(&order), SignatureState::Valid);
    }

    #[test]
    fn changing_signed_content_invalidates_the_signature() {
        let mut order = visited_order(false);
        part(&mut order, "SKU-9", PartState::Applied);
        assert_eq!(signature_state(&order), SignatureState::Invalidated);

        let mut order = visited_order(false);
        order.intake.customer.name.push('X');
        assert_eq!(signature_state(&order), SignatureState::Invalidated);
    }

    #[test]
    fn after_service_records_do_not_touch_the_signed_report() {
        let mut order = visited_order(false);
        follow_up(&mut order);
        order.satisfaction = Some(crate::model::Satisfaction {
            rating: crate::model::Rating::Satisfied,
            score: Some(5),
            comment: None,
            at_ms: T0,
        });
        assert_eq!(signature_state(&order), SignatureState::Valid);
    }

    #[test]
    fn report_keeps_chinese_text_unchanged() {
        let mut order = visited_order(false);
        order.intake.customer.name = "王小明".into();
        order.intake.fault.symptoms = "开机后无法制冷，压缩机异响".into();
        let r = render_report(&order, &Policy::default());
        assert!(r.contains("Customer: 王小明"));
        assert!(r.contains("开机后无法制冷，压缩机异响"));
    }

    #[test]
    fn refusal_is_its_own_state() {
        let mut order = visited_order(false);
        order.sign_off = Some(SignOff::Refused {
            signer_name: "C".into(),
            reason: "disputes the fee".into(),
            at_ms: T0,
        });
        assert_eq!(signature_state(&order), SignatureState::Refused);
    }

    #[test]
    fn money_is_rendered_in_minor_units() {
        assert_eq!(ReportFormat::Original.money(12_345, "CNY"), "123.45 CNY");
        assert_eq!(ReportFormat::Original.money(-5, "EUR"), "-0.05 EUR");
    }
}
