//! Reading an order's event history as every replica reads it: events in
//! the agreed order, and when the order first entered a status. The
//! lifecycle, the SLA clocks, the report and the rows all read time here.

use crate::model::{LifecycleEvent, Status, WorkOrder};

/// Events in the order every replica agrees on: by hybrid logical clock, then id.
pub fn ordered_events(order: &WorkOrder) -> Vec<&LifecycleEvent> {
    let mut evs: Vec<&LifecycleEvent> = order.events.iter().collect();
    evs.sort_by(|a, b| a.hlc.cmp(&b.hlc).then_with(|| a.id.cmp(&b.id)));
    evs
}

/// When the order first entered `status`, by the device clock of that event.
pub fn first_entered(order: &WorkOrder, status: Status) -> Option<i64> {
    ordered_events(order)
        .into_iter()
        .find(|e| e.to == status)
        .map(|e| e.at_ms)
}
