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
        DocKind::Settings => Err("the settings are changed by a supervisor"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Complaint, ComplaintStage};
    use crate::rules::testing::*;

    fn target(kind: DocKind, doc_id: &str, exists: bool, ever_granted: bool) -> PushTarget<'_> {
        PushTarget {
            kind,
            doc_id,
            exists,
            ever_granted,
        }
    }

    #[test]
    fn a_phone_writes_only_its_engineers_documents() {
        let catalog = target(DocKind::Catalog, "catalog", true, false);
        assert_eq!(
            may_push("eng-a", catalog),
            Err("the catalog is edited by the desk")
        );
        let mine = stock_doc_id("eng-a");
        assert_eq!(
            may_push("eng-a", target(DocKind::VanStock, &mine, true, false)),
            Ok(())
        );
        let theirs = stock_doc_id("eng-b");
        assert!(may_push("eng-a", target(DocKind::VanStock, &theirs, true, false)).is_err());
        assert!(may_push("eng-a", target(DocKind::WorkOrder, "wo-1", true, false)).is_err());
        assert_eq!(
            may_push("eng-a", target(DocKind::WorkOrder, "wo-1", true, true)),
            Ok(())
        );
        assert_eq!(
            may_push("eng-a", target(DocKind::WorkOrder, "wo-2", false, false)),
            Ok(())
        );
        let mut o = new_order();
        assert!(may_create("eng-a", &o).is_err(), "unassigned");
        o.assignee = Some("eng-a".into());
        assert_eq!(may_create("eng-a", &o), Ok(()));
    }

    #[test]
    fn a_phone_may_not_touch_what_the_desk_decides() {
        let before = working_order(true);
        let mut after = before.clone();
        after.repair_notes.clear();
        assert_eq!(device_may_change(&before, &after), Ok(()));
        let mut reassigned = before.clone();
        reassigned.assignee = Some("eng-b".into());
        assert_eq!(
            device_may_change(&before, &reassigned),
            Err("the desk assigns orders")
        );
        let mut candidate = before.clone();
        candidate_complaint(&mut candidate);
        assert_eq!(
            device_may_change(&before, &candidate),
            Ok(()),
            "a rating's candidate"
        );
        let mut registered = before.clone();
        registered.complaints.push(Complaint::new(
            "cp-2".into(),
            T0,
            "eng".into(),
            "x".into(),
            ComplaintStage::Registered,
        ));
        assert_eq!(
            device_may_change(&before, &registered),
            Err("complaints are handled by the desk")
        );
    }
}
