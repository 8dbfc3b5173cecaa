//! Push authority (docs/domain.md, "Who changes what"): which documents an
//! engineer's phone may write, and what its changes may not do to an order
//! the server holds. The server asks here before it stores a push
//! (decision 0008).

use crate::doc_ids::{DocKind, stock_doc_id};
use crate::model::{ComplaintStage, Status, WorkOrder};

/// What the server knows of a pushed document before it reads the changes.
#[derive(Debug, Clone, Copy)]
pub struct PushTarget<'a> {
    pub kind: DocKind,
    pub doc_id: &'a str,
    /// The server holds the document already.
    pub exists: bool,
    /// The order was ever assigned to the pushing engineer.
    pub ever_granted: bool,
}

/// Whether `engineer`'s phone may push changes to `target` at all.
pub fn may_push(engineer: &str, target: PushTarget<'_>) -> Result<(), &'static str> {
    match target.kind {
        DocKind::Catalog => Err("the catalog is edited by the desk"),
        DocKind::VanStock if target.doc_id != stock_doc_id(engineer) => {
            Err("another engineer's van stock")
        }
        DocKind::WorkOrder if target.exists && !target.ever_granted => {
            Err("the order was never assigned to this engineer")
        }
        _ => Ok(()),
    }
}

/// A new order made on the phone must be assigned to its engineer.
pub fn may_create(engineer: &str, order: &WorkOrder) -> Result<(), &'static str> {
    if order.assignee.as_deref() == Some(engineer) {
        Ok(())
    } else {
        Err("a new order must be assigned to the engineer who made it")
    }
}

/// What a device's changes may not do to an order that the server holds:
/// the intake, the assignment, rework links and the desk's follow-up calls
/// are the desk's; complaints are the desk's except the candidates a rating
/// opens; only the desk dispatches.
pub fn device_may_change(
    before: &WorkOrder,
    after: &WorkOrder,
) -> std::result::Result<(), &'static str> {
    if after.id != before.id
        || after.created_at_ms != before.created_at_ms
        || after.created_by != before.created_by
    {
        return Err("the order's identity is fixed at intake");
    }
    if after.intake != before.intake {
        return Err("the intake is the desk's");
    }
    if after.assignee != before.assignee {
        return Err("the desk assigns orders");
    }
    if after.rework_of != before.rework_of {
        return Err("rework links are set at intake");
    }
    if after.follow_ups != before.follow_ups {
        return Err("follow-up calls are the desk's");
    }
    let kept = before
        .complaints
        .iter()
        .all(|c| after.complaints.iter().any(|a| a == c));
    let added_only_candidates = after
        .complaints
        .iter()
        .filter(|a| !before.complaints.iter().any(|c| c.id == a.id))
        .all(|a| a.stage == ComplaintStage::Candidate);
    if !kept || !added_only_candidates {
        return Err("complaints are handled by the desk");
    }
    let dispatched = |o: &WorkOrder| {
        o.events
            .iter()
            .filter(|e| e.to == Status::Dispatched)
            .count()
    };
    if dispatched(after) != dispatched(before) {
        return Err("the desk dispatches orders");
    }
    Ok(())
}
