//! The work-order lifecycle: which transitions exist, what each one needs
//! (consent before paid work, a passed QC before sign-off, …), and the status
//! that a merged event history comes to.
//!
//! The rule as the service center states it: docs/domain.md, "Lifecycle".

use super::timeline::ordered_events;
use super::{RuleError, consent_name, wrong_status};
use crate::model::{Channel, ConsentKind, LifecycleEvent, PartState, SignOff, Status, WorkOrder};
use crate::policy::Policy;

/// The graph of docs/domain.md ("Lifecycle"). Guards beyond the graph are in [`check_transition`].
pub fn edge_exists(from: Status, to: Status) -> bool {
    use Status::*;
    matches!(
        (from, to),
        (Received, Dispatched)
            | (Received, ResolvedRemotely)
            | (Dispatched, Accepted)
            | (Accepted, EnRoute)
            | (Accepted, InProgress) // mail-in units: no visit
            | (EnRoute, OnSite)
            | (OnSite, InProgress)
            | (InProgress, AwaitingParts)
            | (AwaitingParts, InProgress)
            | (InProgress, Repaired)
            | (Repaired, QcPassed)
            | (Repaired, QcFailed)
            | (QcFailed, InProgress)
            | (QcPassed, SignedOff)
            | (SignedOff, FollowedUp)
            | (FollowedUp, Closed)
    ) || (to == Cancelled && can_be_cancelled_from(from))
}

fn can_be_cancelled_from(from: Status) -> bool {
    use Status::*;
    matches!(
        from,
        Received | Dispatched | Accepted | EnRoute | OnSite | InProgress | AwaitingParts
    )
}

/// The status a (possibly merged) history comes to, and the events that did
/// not apply because a concurrent event had already moved the order on.
pub fn replay(order: &WorkOrder) -> (Status, Vec<&LifecycleEvent>) {
    let mut status = Status::Received;
    let mut skipped = Vec::new();
    for ev in ordered_events(order) {
        if edge_exists(status, ev.to) {
            status = ev.to;
        } else {
            skipped.push(ev);
        }
    }
    (status, skipped)
}

pub fn current_status(order: &WorkOrder) -> Status {
    replay(order).0
}

/// True once the customer signed acceptance of paid service and a part was applied or ordered.
pub fn cancellation_locked(order: &WorkOrder) -> bool {
    let paid_accepted = order
        .consents
        .iter()
        .any(|c| c.kind == ConsentKind::PaidService && c.accepted);
    let parts_committed = order
        .parts
        .iter()
        .any(|p| matches!(p.state, PartState::Applied | PartState::Ordered));
    paid_accepted && parts_committed
}

/// Paid work: out of warranty, or misuse.
pub fn is_paid_service(order: &WorkOrder) -> bool {
    order
        .warranty
        .as_ref()
        .is_some_and(|w| !w.in_warranty || w.misuse)
        && order.rework_of.is_none()
}

/// Whether `to` may follow the order's current status, with the domain's guards.
/// `policy`: the one the order is served under (a signature is checked
/// against the report rendered with its currency and time zone).
pub fn check_transition(order: &WorkOrder, to: Status, policy: &Policy) -> Result<(), RuleError> {
    let from = current_status(order);
    if !edge_exists(from, to) {
        return Err(RuleError::IllegalTransition {
            from: from.as_str(),
            to: to.as_str(),
        });
    }
    match to {
        Status::Dispatched if order.assignee.is_none() => Err(RuleError::Precondition(
            "assign an engineer before dispatching".into(),
        )),
        Status::Cancelled if cancellation_locked(order) => Err(RuleError::CannotCancel),
        Status::InProgress
            if from == Status::Accepted && order.intake.channel != Channel::MailIn =>
        {
            Err(wrong_status(
                from,
                "only mail-in units skip the visit; record en route and arrival first",
            ))
        }
        Status::InProgress if from != Status::AwaitingParts && from != Status::QcFailed => {
            if order.diagnosis.is_none() {
                return Err(RuleError::Precondition(
                    "diagnose before starting work".into(),
                ));
            }
            if order.warranty.is_none() && order.rework_of.is_none() {
                return Err(RuleError::Precondition(
                    "decide warranty before starting work".into(),
                ));
            }
            if is_paid_service(order)
                && !order
                    .consents
                    .iter()
                    .any(|c| c.kind == ConsentKind::PaidService && c.accepted)
            {
                return Err(RuleError::ConsentRequired {
                    kind: consent_name(ConsentKind::PaidService),
                    why: "the repair is paid; the customer signs acceptance of the estimate before work starts".into(),
                });
            }
            Ok(())
        }
        Status::Repaired => {
            for fault in &order.extra_faults {
                let consented = order.consents.iter().any(|c| {
                    c.kind == ConsentKind::ExtraWork && c.accepted && c.at_ms >= fault.at_ms
                });
                if !consented {
                    return Err(RuleError::ConsentRequired {
                        kind: consent_name(ConsentKind::ExtraWork),
                        why: "an extra fault was found during repair".into(),
                    });
                }
            }
            Ok(())
        }
        Status::QcPassed | Status::QcFailed => {
            let last = order
                .qc
                .last()
                .ok_or_else(|| RuleError::Precondition("record the QC checklist first".into()))?;
            if last.passed != (to == Status::QcPassed) {
                return Err(RuleError::Precondition(
                    "the status must match the latest QC result".into(),
                ));
            }
            Ok(())
        }
        Status::SignedOff => match &order.sign_off {
            Some(SignOff::Signed(_)) => {
                if super::signoff::signature_state_with(order, policy)
                    == super::signoff::SignatureState::Valid
                {
                    Ok(())
                } else {
                    Err(RuleError::Precondition(
                        "the signature no longer matches the report; sign again".into(),
                    ))
                }
            }
            Some(SignOff::Refused { .. }) => Ok(()),
            None => Err(RuleError::Precondition(
                "capture the customer's signature or refusal first".into(),
            )),
        },
        Status::FollowedUp if order.follow_ups.is_empty() => Err(RuleError::Precondition(
            "record the follow-up call first".into(),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn every_step_of_a_visit_is_legal_in_order() {
        let order = visited_order(false);
        assert_eq!(current_status(&order), Status::SignedOff);
    }

    #[test]
    fn skipping_steps_is_refused_with_the_reason() {
        let order = new_order();
        let err = check_transition(&order, Status::Repaired, &Policy::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "illegal transition from received to repaired"
        );
        assert!(check_transition(&order, Status::Closed, &Policy::default()).is_err());
    }

    #[test]
    fn dispatch_needs_an_assignee() {
        let mut order = new_order();
        assert!(matches!(
            check_transition(&order, Status::Dispatched, &Policy::default()),
            Err(RuleError::Precondition(_))
        ));
        order.assignee = Some("eng-1".into());
        check_transition(&order, Status::Dispatched, &Policy::default()).unwrap();
    }

    #[test]
    fn simple_question_is_resolved_remotely_from_intake_only() {
        let mut order = new_order();
        check_transition(&order, Status::ResolvedRemotely, &Policy::default()).unwrap();
        order.assignee = Some("eng-1".into());
        push(&mut order, Status::Dispatched);
        assert!(check_transition(&order, Status::ResolvedRemotely, &Policy::default()).is_err());
    }

    #[test]
    fn paid_work_needs_signed_acceptance_before_it_starts() {
        let mut order = on_site_order();
        diagnose(&mut order);
        decide(&mut order, false);
        let err = check_transition(&order, Status::InProgress, &Policy::default()).unwrap_err();
        assert!(matches!(err, RuleError::ConsentRequired { .. }), "{err}");
        consent(&mut order, ConsentKind::PaidService, true);
        check_transition(&order, Status::InProgress, &Policy::default()).unwrap();
    }

    #[test]
    fn a_declined_paid_service_consent_does_not_count() {
        let mut order = on_site_order();
        diagnose(&mut order);
        decide(&mut order, false);
        consent(&mut order, ConsentKind::PaidService, false);
        assert!(check_transition(&order, Status::InProgress, &Policy::default()).is_err());
    }

    #[test]
    fn in_warranty_work_starts_without_a_paid_consent() {
        let mut order = on_site_order();
        diagnose(&mut order);
        decide(&mut order, true);
        check_transition(&order, Status::InProgress, &Policy::default()).unwrap();
    }

    #[test]
    fn cannot_cancel_after_paid_acceptance_and_parts_applied() {
        let mut order = working_order(false);
        check_transition(&order, Status::Cancelled, &Policy::default()).unwrap();
        part(&mut order, "SKU-1", PartState::Ordered);
        assert_eq!(
            check_transition(&order, Status::Cancelled, &Policy::default()),
            Err(RuleError::CannotCancel)
        );
    }

    #[test]
    fn in_warranty_order_with_parts_can_still_be_cancelled() {
        let mut order = working_order(true);
        part(&mut order, "SKU-1", PartState::Applied);
        check_transition(&order, Status::Cancelled, &Policy::default()).unwrap();
    }

    #[test]
    fn extra_fault_blocks_repaired_until_the_customer_consents() {
        let mut order = working_order(true);
        extra_fault(&mut order);
        let err = check_transition(&order, Status::Repaired, &Policy::default()).unwrap_err();
        assert!(matches!(
            err,
            RuleError::ConsentRequired {
                kind: "extra work",
                ..
            }
        ));
        consent(&mut order, ConsentKind::ExtraWork, true);
        check_transition(&order, Status::Repaired, &Policy::default()).unwrap();
    }

    #[test]
    fn failed_qc_goes_back_to_repair_and_keeps_history() {
        let mut order = working_order(true);
        push(&mut order, Status::Repaired);
        qc(&mut order, false);
        push(&mut order, Status::QcFailed);
        assert!(check_transition(&order, Status::QcPassed, &Policy::default()).is_err());
        check_transition(&order, Status::InProgress, &Policy::default()).unwrap();
        push(&mut order, Status::InProgress);
        push(&mut order, Status::Repaired);
        qc(&mut order, true);
        check_transition(&order, Status::QcPassed, &Policy::default()).unwrap();
        push(&mut order, Status::QcPassed);
        assert_eq!(order.qc.len(), 2);
        assert!(!order.qc[0].passed);
        assert_eq!(current_status(&order), Status::QcPassed);
    }

    #[test]
    fn sign_off_needs_a_signature_and_follow_up_needs_a_call() {
        let mut order = visited_order(false);
        assert!(matches!(
            check_transition(&order, Status::FollowedUp, &Policy::default()),
            Err(RuleError::Precondition(_))
        ));
        follow_up(&mut order);
        check_transition(&order, Status::FollowedUp, &Policy::default()).unwrap();
    }

    #[test]
    fn merged_concurrent_transitions_settle_the_same_everywhere() {
        let mut order = working_order(true);
        // Two devices: one cancels, one marks awaiting parts, concurrently.
        let mut a = order.clone();
        let mut b = order.clone();
        push_at(&mut a, Status::Cancelled, T0 + 36_000_000, "dev-a");
        push_at(&mut b, Status::AwaitingParts, T0 + 36_000_000, "dev-b");
        order.events = a.events.clone();
        order.events.push(b.events.last().unwrap().clone());
        let (status, skipped) = replay(&order);
        let mut rev = order.clone();
        rev.events.reverse();
        assert_eq!(replay(&rev).0, status);
        assert_eq!(status, Status::Cancelled); // dev-a sorts first at equal clocks
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].to, Status::AwaitingParts);
    }
}
