//! Mail-in (RMA) milestones: ship within 4 h, confirm receipt and fault within
//! 3 days, update the customer within 7, contact again at 15, escalate to the
//! supervisor when the unit is not back after 30.
//!
//! The rule as the service center states it: docs/domain.md, "Mail-in repairs".

use crate::model::MailIn;
use crate::policy::Policy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Milestone {
    pub name: &'static str,
    pub due_at_ms: i64,
    pub done_at_ms: Option<i64>,
    pub overdue: bool,
}

/// Milestones counted from intake (`received_at_ms`); overdue ones first.
pub fn milestones(m: &MailIn, received_at_ms: i64, policy: &Policy, now_ms: i64) -> Vec<Milestone> {
    let at = |d: i64| received_at_ms.saturating_add(d);
    let mut out = vec![
        (
            "ship to repair center",
            // "4 h or same day": whichever is later.
            crate::local_time::or_same_day(
                policy.zone(),
                received_at_ms,
                Policy::hours(policy.rma_ship_hours),
            ),
            m.shipped_at_ms,
        ),
        (
            "confirm receipt and fault",
            at(Policy::days(policy.rma_confirm_days)),
            m.receipt_confirmed_at_ms,
        ),
        (
            "progress update to customer",
            at(Policy::days(policy.rma_update_days)),
            m.customer_updated_at_ms,
        ),
        (
            "second contact",
            at(Policy::days(policy.rma_second_contact_days)),
            m.second_contact_at_ms,
        ),
        (
            "unit back (else escalate to supervisor)",
            at(Policy::days(policy.rma_escalate_days)),
            m.returned_at_ms,
        ),
    ]
    .into_iter()
    .map(|(name, due, done)| Milestone {
        name,
        due_at_ms: due,
        done_at_ms: done,
        overdue: match done {
            Some(d) => d > due,
            None => now_ms > due,
        },
    })
    .collect::<Vec<_>>();
    out.sort_by_key(|m| (!m.overdue, m.due_at_ms));
    out
}

/// Not back after the escalation limit: top priority for the supervisor.
pub fn needs_escalation(m: &MailIn, received_at_ms: i64, policy: &Policy, now_ms: i64) -> bool {
    m.returned_at_ms.is_none()
        && now_ms > received_at_ms.saturating_add(Policy::days(policy.rma_escalate_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    const D: i64 = 86_400_000;

    #[test]
    fn milestones_fall_due_at_the_policy_days_and_overdue_ones_come_first() {
        let p = Policy::default();
        let m = MailIn {
            shipped_at_ms: Some(3_600_000),
            ..MailIn::default()
        };
        let ms = milestones(&m, 0, &p, 8 * D);
        assert_eq!(ms.len(), 5);
        assert!(ms[0].overdue && ms[1].overdue);
        assert_eq!(ms[0].due_at_ms, 3 * D);
        assert_eq!(ms[1].due_at_ms, 7 * D);
        assert!(
            !ms.iter()
                .find(|x| x.name == "ship to repair center")
                .unwrap()
                .overdue
        );
        assert!(!needs_escalation(&m, 0, &p, 29 * D));
        assert!(needs_escalation(&m, 0, &p, 31 * D));
    }
}
