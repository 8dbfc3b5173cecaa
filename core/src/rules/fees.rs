//! Warranty decision and the fee list: who pays for labour, each part and
//! logistics, given the warranty, misuse and rework.
//!
//! The rule as the service center states it: docs/domain.md, "Warranty and fees".

use crate::model::{FeeKind, WorkOrder};
use crate::policy::Policy;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WarrantyOutcome {
    pub in_warranty: bool,
    pub reason: String,
}

/// In warranty: the purchase date plus the warranty period covers `today`,
/// proof of purchase was checked, and the fault was not caused by misuse.
pub fn decide_warranty(
    purchase_date: Option<NaiveDate>,
    proof_checked: bool,
    misuse: bool,
    today: NaiveDate,
    policy: &Policy,
) -> WarrantyOutcome {
    let out = |reason: String| WarrantyOutcome {
        in_warranty: false,
        reason,
    };
    let Some(bought) = purchase_date else {
        return out("no purchase date: paid repair".into());
    };
    if !proof_checked {
        return out("proof of purchase not checked: paid repair".into());
    }
    if misuse {
        return out("fault caused by misuse: paid repair".into());
    }
    // A period past the calendar's end means "covered for ever", never a panic.
    let until = chrono::TimeDelta::try_days(policy.warranty_days)
        .and_then(|d| bought.checked_add_signed(d))
        .unwrap_or(NaiveDate::MAX);
    if today > until {
        return out(format!("warranty ended {until}: paid repair"));
    }
    WarrantyOutcome {
        in_warranty: true,
        reason: format!("in warranty until {until}: free repair"),
    }
}

/// One line of the fee list as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeItem {
    pub description: String,
    pub qty: i64,
    pub unit_minor: i64,
    pub amount_minor: i64,
    /// Borne by the company (warranty, quality fault, rework) rather than the customer.
    pub company_borne: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeSummary {
    pub items: Vec<FeeItem>,
    pub labour_minor: i64,
    pub parts_minor: i64,
    pub logistics_minor: i64,
    pub other_minor: i64,
    pub total_minor: i64,
    pub company_borne_minor: i64,
    pub customer_payable_minor: i64,
    pub currency: String,
}

/// The fee list and who pays it.
///
/// Rework is free. In warranty (and no misuse), labour and logistics are free
/// and parts replacing a quality fault are borne by the company; other parts
/// (consumables) are charged. Out of warranty or misuse everything is charged,
/// including shipping and insurance when the unit cannot be repaired.
pub fn compute_fees(order: &WorkOrder, policy: &Policy) -> FeeSummary {
    let rework = order.rework_of.is_some();
    let covered = order
        .warranty
        .as_ref()
        .is_some_and(|w| w.in_warranty && !w.misuse);
    let mut items = Vec::new();
    let (mut labour, mut parts, mut logistics, mut other) = (0i64, 0i64, 0i64, 0i64);
    for f in &order.fees {
        match f.kind {
            FeeKind::Labour => labour = labour.saturating_add(f.amount_minor),
            FeeKind::Logistics => logistics = logistics.saturating_add(f.amount_minor),
            FeeKind::Other => other = other.saturating_add(f.amount_minor),
        }
        items.push(FeeItem {
            description: f.description.clone(),
            qty: 1,
            unit_minor: f.amount_minor,
            amount_minor: f.amount_minor,
            company_borne: rework || (covered && f.kind != FeeKind::Other),
        });
    }
    for p in &order.parts {
        let amount = p.unit_price_minor.saturating_mul(p.qty);
        parts = parts.saturating_add(amount);
        items.push(FeeItem {
            description: format!("{} ({})", p.name, p.sku),
            qty: p.qty,
            unit_minor: p.unit_price_minor,
            amount_minor: amount,
            company_borne: rework || (covered && (p.quality_fault || p.doa)),
        });
    }
    let total = labour
        .saturating_add(parts)
        .saturating_add(logistics)
        .saturating_add(other);
    let company: i64 = items
        .iter()
        .filter(|i| i.company_borne)
        .map(|i| i.amount_minor)
        .fold(0i64, i64::saturating_add);
    FeeSummary {
        items,
        labour_minor: labour,
        parts_minor: parts,
        logistics_minor: logistics,
        other_minor: other,
        total_minor: total,
        company_borne_minor: company,
        customer_payable_minor: total - company,
        currency: policy.currency.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PartState;
    use crate::rules::testing::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn in_warranty_with_proof_and_no_misuse() {
        let p = Policy::default();
        let w = decide_warranty(Some(d("2026-01-10")), true, false, d("2026-11-22"), &p);
        assert!(w.in_warranty, "{}", w.reason);
        assert!(w.reason.contains("2027-01-10"));
    }

    #[test]
    fn out_of_warranty_when_expired_unproven_undated_or_misused() {
        let p = Policy::default();
        let today = d("2026-11-22");
        assert!(!decide_warranty(Some(d("2025-01-10")), true, false, today, &p).in_warranty);
        assert!(!decide_warranty(Some(d("2026-10-01")), false, false, today, &p).in_warranty);
        assert!(!decide_warranty(None, true, false, today, &p).in_warranty);
        let misuse = decide_warranty(Some(d("2026-10-01")), true, true, today, &p);
        assert!(!misuse.in_warranty);
        assert!(misuse.reason.contains("misuse"));
        let short = Policy {
            warranty_days: 30,
            ..Policy::default()
        };
        let endless = Policy {
            warranty_days: i64::MAX,
            ..Policy::default()
        };
        assert!(decide_warranty(Some(d("2026-10-01")), true, false, today, &endless).in_warranty);
        assert!(!decide_warranty(Some(d("2026-10-01")), true, false, today, &short).in_warranty);
    }

    #[test]
    fn in_warranty_repair_is_free_except_non_quality_parts() {
        let p = Policy::default();
        let mut order = working_order(true);
        fee(&mut order, FeeKind::Labour, 8_000);
        fee(&mut order, FeeKind::Logistics, 1_500);
        part(&mut order, "SKU-1", PartState::Applied); // quality fault, 2 × 1 250
        let mut consumable = order.parts[0].clone();
        consumable.id = "p-consumable".into();
        consumable.quality_fault = false;
        consumable.qty = 1;
        order.parts.push(consumable);
        let f = compute_fees(&order, &p);
        assert_eq!(f.labour_minor, 8_000);
        assert_eq!(f.parts_minor, 3_750);
        assert_eq!(f.total_minor, 13_250);
        assert_eq!(f.customer_payable_minor, 1_250);
        assert_eq!(f.company_borne_minor, 12_000);
        assert_eq!(f.currency, "CNY");
    }

    #[test]
    fn out_of_warranty_customer_pays_everything_including_logistics() {
        let p = Policy::default();
        let mut order = working_order(false);
        fee(&mut order, FeeKind::Labour, 8_000);
        fee(&mut order, FeeKind::Logistics, 1_500);
        part(&mut order, "SKU-1", PartState::Applied);
        let f = compute_fees(&order, &p);
        assert_eq!(f.customer_payable_minor, 8_000 + 1_500 + 2_500);
        assert_eq!(f.company_borne_minor, 0);
        assert_eq!(f.items.len(), 3);
    }

    #[test]
    fn rework_is_free() {
        let p = Policy::default();
        let mut order = working_order(false);
        order.rework_of = Some("wo-earlier".into());
        fee(&mut order, FeeKind::Labour, 8_000);
        let f = compute_fees(&order, &p);
        assert_eq!(f.customer_payable_minor, 0);
    }
}
