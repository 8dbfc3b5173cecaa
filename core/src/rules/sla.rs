//! SLA clocks: for each clock of the policy, when it started, when it is due,
//! whether it was met, is running, is about to breach, or has breached.
//! Computed from the order's events alone, so the device (offline) and the
//! server get the same answer.
//!
//! The rule as the service center states it: docs/domain.md, "Time limits (SLA clocks)".

use super::lifecycle::current_status;
use super::timeline::first_entered;
use crate::local_time::{last_call_by, or_same_day};
use crate::model::{SiteZone, Status, WorkOrder};
use crate::policy::Policy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Intake → dispatched (4 h).
    Dispatch,
    /// Dispatched → on site (20 min, plus travel allowance outside the urban area).
    Arrival,
    /// Dispatched → repaired (6 h; 8 h with a recorded exception).
    Repair,
    /// Repaired → signed report handed in (6 h).
    Paperwork,
    /// Service completed (signed off) → follow-up call reached (3 days).
    FollowUp,
}

impl ClockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::Dispatch => "dispatch",
            ClockKind::Arrival => "arrival",
            ClockKind::Repair => "repair",
            ClockKind::Paperwork => "paperwork",
            ClockKind::FollowUp => "follow_up",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    AboutToBreach,
    Breached,
    Met,
    /// The end event came after the due time.
    MetLate,
    /// The order was cancelled or resolved before the clock ended.
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaClock {
    pub kind: ClockKind,
    pub started_at_ms: i64,
    pub due_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub state: ClockState,
    /// Time left while running (negative once breached); `None` once ended.
    pub remaining_ms: Option<i64>,
    /// The exception reason that extended this clock, if any.
    pub exception: Option<String>,
}

impl SlaClock {
    pub fn is_breached(&self) -> bool {
        matches!(self.state, ClockState::Breached | ClockState::MetLate)
    }
    pub fn is_open(&self) -> bool {
        self.ended_at_ms.is_none() && self.state != ClockState::Stopped
    }
}

fn clock(
    kind: ClockKind,
    start: i64,
    due: i64,
    end: Option<i64>,
    stopped: bool,
    now_ms: i64,
    policy: &Policy,
) -> SlaClock {
    let (state, remaining) = match end {
        Some(e) if e <= due => (ClockState::Met, None),
        Some(_) => (ClockState::MetLate, None),
        None if stopped => (ClockState::Stopped, None),
        None => (
            running_state(due, now_ms, policy),
            Some(due.saturating_sub(now_ms)),
        ),
    };
    SlaClock {
        kind,
        started_at_ms: start,
        due_at_ms: due,
        ended_at_ms: end,
        state,
        remaining_ms: remaining,
        exception: None,
    }
}

fn after(start: i64, limit_ms: i64) -> i64 {
    start.saturating_add(limit_ms)
}

/// Every clock that has started, at time `now_ms`.
/// The state of a clock still running, due at `due_ms`: breached once past
/// due, about to breach within the policy's warning minutes of it (the edge
/// included), running before that. The board, the rows and the clocks all
/// use this one edge.
pub fn running_state(due_ms: i64, now_ms: i64, policy: &Policy) -> ClockState {
    let left = due_ms.saturating_sub(now_ms);
    if left < 0 {
        ClockState::Breached
    } else if left <= Policy::minutes(policy.about_to_breach_min) {
        ClockState::AboutToBreach
    } else {
        ClockState::Running
    }
}

/// Whether a clock due at `due_ms` has breached at `now_ms`.
pub fn is_breached(due_ms: i64, now_ms: i64) -> bool {
    due_ms < now_ms
}

pub fn clocks(order: &WorkOrder, policy: &Policy, now_ms: i64) -> Vec<SlaClock> {
    let status = current_status(order);
    let stopped = matches!(status, Status::Cancelled | Status::ResolvedRemotely);
    let mut out = Vec::with_capacity(5);
    let dispatched = first_entered(order, Status::Dispatched);
    out.push(clock(
        ClockKind::Dispatch,
        order.created_at_ms,
        after(
            order.created_at_ms,
            Policy::minutes(policy.dispatch_limit_min),
        ),
        dispatched,
        stopped,
        now_ms,
        policy,
    ));
    let Some(dispatched) = dispatched else {
        return out;
    };
    let travel = match order.intake.site_zone {
        SiteZone::Urban => 0,
        SiteZone::OutsideUrban {
            travel_allowance_min,
        } => travel_allowance_min,
    };
    if order.intake.channel != crate::model::Channel::MailIn {
        out.push(clock(
            ClockKind::Arrival,
            dispatched,
            after(
                dispatched,
                Policy::minutes(policy.arrival_limit_min.saturating_add(travel)),
            ),
            first_entered(order, Status::OnSite),
            stopped,
            now_ms,
            policy,
        ));
    }
    let repaired = first_entered(order, Status::Repaired);
    let (limit, exception) = match &order.sla_exception {
        Some(e) => (policy.repair_exception_limit_min, Some(e.reason.clone())),
        None => (policy.repair_limit_min, None),
    };
    let mut repair = clock(
        ClockKind::Repair,
        dispatched,
        after(dispatched, Policy::minutes(limit)),
        repaired,
        stopped,
        now_ms,
        policy,
    );
    repair.exception = exception;
    out.push(repair);
    let Some(repaired) = repaired else {
        return out;
    };
    let signed = first_entered(order, Status::SignedOff);
    out.push(clock(
        ClockKind::Paperwork,
        repaired,
        // "6 h or same day": whichever is later (docs/domain.md).
        or_same_day(
            policy.zone(),
            repaired,
            Policy::minutes(policy.paperwork_limit_min),
        ),
        signed,
        stopped,
        now_ms,
        policy,
    ));
    if let Some(signed) = signed {
        let reached = order
            .follow_ups
            .iter()
            .filter(|c| c.reached)
            .map(|c| c.at_ms)
            .min();
        out.push(clock(
            ClockKind::FollowUp,
            signed,
            // Nobody is called in rest hours: due by the last moment the
            // customer may be called within the limit.
            last_call_by(
                policy,
                after(signed, Policy::days(policy.follow_up_limit_days)),
            ),
            reached,
            false,
            now_ms,
            policy,
        ));
    }
    out
}

/// The open clock due soonest: the one the board shows and lists sort by.
pub fn next_due(clocks: &[SlaClock]) -> Option<&SlaClock> {
    clocks
        .iter()
        .filter(|c| c.is_open())
        .min_by_key(|c| c.due_at_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    const H: i64 = 3_600_000;
    const M: i64 = 60_000;

    fn find(cs: &[SlaClock], k: ClockKind) -> SlaClock {
        cs.iter().find(|c| c.kind == k).cloned().unwrap()
    }

    #[test]
    fn dispatch_clock_is_four_hours_from_intake() {
        let order = new_order();
        let p = Policy::default();
        let c = find(&clocks(&order, &p, T0 + 3 * H), ClockKind::Dispatch);
        assert_eq!(c.due_at_ms, T0 + 4 * H);
        assert_eq!(c.state, ClockState::Running);
        assert_eq!(c.remaining_ms, Some(H));
        let c = find(
            &clocks(&order, &p, T0 + 4 * H - 10 * M),
            ClockKind::Dispatch,
        );
        assert_eq!(c.state, ClockState::AboutToBreach);
        let c = find(&clocks(&order, &p, T0 + 4 * H + 1), ClockKind::Dispatch);
        assert_eq!(c.state, ClockState::Breached);
        assert!(c.is_breached());
    }

    #[test]
    fn dispatch_in_time_meets_the_clock_and_late_dispatch_is_recorded_as_late() {
        let p = Policy::default();
        let mut order = new_order();
        order.assignee = Some("e".into());
        push_at(&mut order, Status::Dispatched, T0 + 2 * H, "d");
        assert_eq!(
            find(&clocks(&order, &p, T0 + 9 * H), ClockKind::Dispatch).state,
            ClockState::Met
        );
        let mut late = new_order();
        late.assignee = Some("e".into());
        push_at(&mut late, Status::Dispatched, T0 + 5 * H, "d");
        assert_eq!(
            find(&clocks(&late, &p, T0 + 9 * H), ClockKind::Dispatch).state,
            ClockState::MetLate
        );
    }

    #[test]
    fn arrival_clock_is_twenty_minutes_plus_travel_allowance() {
        let p = Policy::default();
        let mut order = new_order();
        order.assignee = Some("e".into());
        push_at(&mut order, Status::Dispatched, T0, "d");
        let c = find(&clocks(&order, &p, T0 + 21 * M), ClockKind::Arrival);
        assert_eq!(c.due_at_ms, T0 + 20 * M);
        assert_eq!(c.state, ClockState::Breached);
        order.intake.site_zone = SiteZone::OutsideUrban {
            travel_allowance_min: 45,
        };
        let c = find(&clocks(&order, &p, T0 + 21 * M), ClockKind::Arrival);
        assert_eq!(c.due_at_ms, T0 + 65 * M);
        assert_eq!(c.state, ClockState::Running);
    }

    #[test]
    fn repair_clock_is_six_hours_and_eight_with_a_recorded_exception() {
        let p = Policy::default();
        let mut order = new_order();
        order.assignee = Some("e".into());
        push_at(&mut order, Status::Dispatched, T0, "d");
        let at = T0 + 7 * H;
        let c = find(&clocks(&order, &p, at), ClockKind::Repair);
        assert_eq!(c.due_at_ms, T0 + 6 * H);
        assert_eq!(c.state, ClockState::Breached);
        order.sla_exception = Some(crate::model::SlaException {
            reason: "waiting for spare parts".into(),
            by: "e".into(),
            at_ms: T0 + H,
        });
        let c = find(&clocks(&order, &p, at), ClockKind::Repair);
        assert_eq!(c.due_at_ms, T0 + 8 * H);
        assert_eq!(c.state, ClockState::Running);
        assert_eq!(c.exception.as_deref(), Some("waiting for spare parts"));
    }

    #[test]
    fn paperwork_and_follow_up_clocks_start_after_repair_and_sign_off() {
        let p = Policy::default();
        let order = visited_order(false);
        let cs = clocks(&order, &p, T0 + 10 * H);
        assert_eq!(find(&cs, ClockKind::Paperwork).state, ClockState::Met);
        let fu = find(&cs, ClockKind::FollowUp);
        assert_eq!(fu.due_at_ms - fu.started_at_ms, 3 * 24 * H);
        assert_eq!(fu.state, ClockState::Running);
        let cs = clocks(&order, &p, fu.due_at_ms + 1);
        assert_eq!(find(&cs, ClockKind::FollowUp).state, ClockState::Breached);
        let mut called = order.clone();
        follow_up(&mut called);
        let cs = clocks(&called, &p, fu.due_at_ms + 1);
        assert_eq!(find(&cs, ClockKind::FollowUp).state, ClockState::Met);
    }

    #[test]
    fn cancelled_orders_stop_their_clocks() {
        let p = Policy::default();
        let mut order = new_order();
        push_at(&mut order, Status::Cancelled, T0 + H, "d");
        let c = find(&clocks(&order, &p, T0 + 100 * H), ClockKind::Dispatch);
        assert_eq!(c.state, ClockState::Stopped);
        assert!(next_due(&clocks(&order, &p, T0)).is_none());
    }

    #[test]
    fn every_limit_comes_from_the_policy() {
        let p = Policy {
            dispatch_limit_min: 60,
            ..Policy::default()
        };
        let c = find(&clocks(&new_order(), &p, T0), ClockKind::Dispatch);
        assert_eq!(c.due_at_ms, T0 + H);
    }

    #[test]
    fn the_about_to_breach_edge_is_one_edge_for_everyone() {
        let p = Policy::default();
        let warn = Policy::minutes(p.about_to_breach_min);
        let due = T0 + 4 * 60 * 60_000;
        assert_eq!(running_state(due, due - warn - 1, &p), ClockState::Running);
        assert_eq!(
            running_state(due, due - warn, &p),
            ClockState::AboutToBreach
        );
        assert_eq!(running_state(due, due, &p), ClockState::AboutToBreach);
        assert!(!is_breached(due, due));
        assert_eq!(running_state(due, due + 1, &p), ClockState::Breached);
        assert!(is_breached(due, due + 1));
    }
}
