//! Concurrent edits the rules must judge after a merge: Automerge keeps both
//! sides; these say where the domain needs a person to look.

use super::lifecycle::replay;
use super::signoff::{SignatureState, signature_state_with};
use crate::model::WorkOrder;
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Conflict {
    /// A transition made on one device that a concurrent one had overtaken.
    OvertakenTransition {
        event_id: String,
        to: String,
        by: String,
        device: String,
    },
    /// The signed report changed after the customer signed.
    SignedReportChanged,
    /// Concurrent uses took the van's stock of a part below zero.
    StockOversold { sku: String, on_hand: i64 },
    /// More than one QC record after the inspection passed.
    QcAfterPass { record_id: String },
}

/// Conflicts on one order; `stock` is the on-hand level per SKU of the
/// assignee's van, if held.
pub fn order_conflicts(
    order: &WorkOrder,
    stock: Option<&BTreeMap<String, i64>>,
    policy: &Policy,
) -> Vec<Conflict> {
    let mut out = Vec::new();
    for ev in replay(order).1 {
        out.push(Conflict::OvertakenTransition {
            event_id: ev.id.clone(),
            to: ev.to.as_str().to_string(),
            by: ev.by.clone(),
            device: ev.device.clone(),
        });
    }
    if signature_state_with(order, policy) == SignatureState::Invalidated {
        out.push(Conflict::SignedReportChanged);
    }
    if let Some(pos) = order.qc.iter().position(|q| q.passed) {
        for q in &order.qc[pos + 1..] {
            out.push(Conflict::QcAfterPass {
                record_id: q.id.clone(),
            });
        }
    }
    if let Some(stock) = stock {
        let mut skus: Vec<&str> = order.parts.iter().map(|p| p.sku.as_str()).collect();
        skus.sort_unstable();
        skus.dedup();
        for sku in skus {
            if let Some(&on_hand) = stock.get(sku)
                && on_hand < 0
            {
                out.push(Conflict::StockOversold {
                    sku: sku.to_string(),
                    on_hand,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PartState;
    use crate::rules::testing::*;

    #[test]
    fn an_edit_merged_into_a_signed_report_is_reported() {
        let mut order = visited_order(false);
        assert!(order_conflicts(&order, None, &Policy::default()).is_empty());
        part(&mut order, "SKU-2", PartState::Applied);
        assert_eq!(
            order_conflicts(&order, None, &Policy::default()),
            vec![Conflict::SignedReportChanged]
        );
    }

    #[test]
    fn stock_below_zero_is_reported_on_the_orders_that_used_it() {
        let mut order = working_order(true);
        part(&mut order, "SKU-1", PartState::Applied);
        let stock = BTreeMap::from([("SKU-1".to_string(), -1)]);
        assert_eq!(
            order_conflicts(&order, Some(&stock), &Policy::default()),
            vec![Conflict::StockOversold {
                sku: "SKU-1".into(),
                on_hand: -1
            }]
        );
    }
}
