//! The service report and the signature bound to it. The report is rendered
//! canonically (fixed order, fixed formats) and its SHA-256 is what the
//! customer signs; any later change to the signed content changes the hash,
//! and the signature shows as invalidated. It is never carried over.
//!
//! The rule as the service center states it: docs/domain.md, "Sign-off".

use super::fees::compute_fees;
use super::timeline::first_entered;
use crate::model::{SignOff, Status, WorkOrder};
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", m / 100, m % 100)
}

fn time(ms: Option<i64>) -> String {
    match ms.and_then(chrono::DateTime::from_timestamp_millis) {
        Some(t) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        None => "-".into(),
    }
}

/// The service report the customer reads and signs: customer, product, fault,
/// work done, parts, fees, warranty decision, QC result, times. Text is kept
/// exactly as entered (Unicode unchanged).
pub fn render_report(order: &WorkOrder, policy: &Policy) -> String {
    let mut r = String::with_capacity(1024);
    let i = &order.intake;
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    // `write!` to a String cannot fail.
    let _ = writeln!(r, "SERVICE REPORT {}", order.id);
    let _ = writeln!(r, "Customer: {}", i.customer.name);
    let _ = writeln!(r, "Phone: {}", opt(&i.customer.phone));
    let _ = writeln!(r, "Site: {}", i.customer.address);
    let _ = writeln!(
        r,
        "Product: {} serial {}",
        i.product.model, i.product.serial
    );
    let _ = writeln!(r, "Purchased: {}", opt(&i.product.purchase_date));
    let _ = writeln!(r, "Fault reported: {}", i.fault.symptoms);
    if let Some(d) = &order.diagnosis {
        let _ = writeln!(r, "Diagnosis: [{}] {}", d.fault_code, d.findings);
    }
    for f in &order.extra_faults {
        let _ = writeln!(r, "Extra fault: {}", f.description);
    }
    for n in &order.repair_notes {
        let _ = writeln!(r, "Work done: {}", n.text);
    }
    if let Some(of) = &order.rework_of {
        let _ = writeln!(r, "Rework of: {of} (free of charge)");
    }
    match &order.warranty {
        Some(w) => {
            let _ = writeln!(
                r,
                "Warranty: {} ({})",
                if w.in_warranty && !w.misuse {
                    "in warranty"
                } else {
                    "out of warranty"
                },
                w.reason
            );
        }
        None => {
            let _ = writeln!(r, "Warranty: not decided");
        }
    }
    let fees = compute_fees(order, policy);
    let _ = writeln!(r, "Parts and fees:");
    for it in &fees.items {
        let _ = writeln!(
            r,
            "  {} x{} @ {} = {}{}",
            it.description,
            it.qty,
            money(it.unit_minor, &fees.currency),
            money(it.amount_minor, &fees.currency),
            if it.company_borne {
                " (borne by the company)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(r, "Total: {}", money(fees.total_minor, &fees.currency));
    let _ = writeln!(
        r,
        "Payable by customer: {}",
        money(fees.customer_payable_minor, &fees.currency)
    );
    match order.qc.last() {
        Some(q) => {
            let _ = writeln!(
                r,
                "QC: {} by {}",
                if q.passed { "passed" } else { "failed" },
                q.inspector
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
            let _ = writeln!(r, "QC: not done");
        }
    }
    let _ = writeln!(r, "Received: {}", time(Some(order.created_at_ms)));
    let _ = writeln!(r, "Arrived: {}", time(first_entered(order, Status::OnSite)));
    let _ = writeln!(
        r,
        "Repaired: {}",
        time(first_entered(order, Status::Repaired))
    );
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
            if report_sha256(&render_report(order, policy)) == sig.report_sha256 {
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
        assert_eq!(money(12_345, "CNY"), "123.45 CNY");
        assert_eq!(money(-5, "EUR"), "-0.05 EUR");
    }
}
