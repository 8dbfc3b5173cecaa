//! Rework: the same fault on the same unit again, soon after a repair, is
//! rework and free — within 72 h for software, 7 days for hardware repaired
//! without replacing parts.
//!
//! The rule as the service center states it: docs/domain.md, "Rework".

use crate::model::FaultKind;
use crate::policy::Policy;

/// An earlier completed repair of a unit, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorRepair {
    pub order_id: String,
    pub serial: String,
    pub fault_code: String,
    pub kind: FaultKind,
    pub parts_replaced: bool,
    pub repaired_at_ms: i64,
}

/// Normalised fault code: case and surrounding space do not matter.
pub fn normalise_code(code: &str) -> String {
    code.trim().to_uppercase()
}

/// The prior order that a new report of `fault_code` on `serial` at `at_ms` reworks.
pub fn rework_of(
    priors: &[PriorRepair],
    serial: &str,
    fault_code: &str,
    at_ms: i64,
    policy: &Policy,
) -> Option<String> {
    let code = normalise_code(fault_code);
    priors
        .iter()
        .filter(|p| p.serial == serial && normalise_code(&p.fault_code) == code)
        .filter(|p| p.repaired_at_ms <= at_ms)
        .filter(|p| {
            let window = match (p.kind, p.parts_replaced) {
                (FaultKind::Software, _) => Policy::hours(policy.software_rework_hours),
                (FaultKind::Hardware, false) => Policy::days(policy.hardware_rework_days),
                (FaultKind::Hardware, true) => return false,
            };
            at_ms.saturating_sub(p.repaired_at_ms) <= window
        })
        .max_by_key(|p| p.repaired_at_ms)
        .map(|p| p.order_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn prior(kind: FaultKind, parts_replaced: bool) -> PriorRepair {
        PriorRepair {
            order_id: "wo-1".into(),
            serial: "SN-1".into(),
            fault_code: "e21".into(),
            kind,
            parts_replaced,
            repaired_at_ms: 0,
        }
    }

    #[test]
    fn software_fault_again_within_72_hours_is_rework() {
        let p = Policy::default();
        let priors = [prior(FaultKind::Software, false)];
        assert_eq!(
            rework_of(&priors, "SN-1", " E21 ", 71 * H, &p).as_deref(),
            Some("wo-1")
        );
        assert_eq!(rework_of(&priors, "SN-1", "E21", 73 * H, &p), None);
    }

    #[test]
    fn hardware_fault_without_parts_within_7_days_is_rework() {
        let p = Policy::default();
        let priors = [prior(FaultKind::Hardware, false)];
        assert!(rework_of(&priors, "SN-1", "E21", 6 * 24 * H, &p).is_some());
        assert!(rework_of(&priors, "SN-1", "E21", 8 * 24 * H, &p).is_none());
    }

    #[test]
    fn hardware_repair_with_parts_replaced_is_not_in_the_rework_window() {
        let p = Policy::default();
        assert!(rework_of(&[prior(FaultKind::Hardware, true)], "SN-1", "E21", H, &p).is_none());
    }

    #[test]
    fn another_unit_or_another_fault_is_not_rework() {
        let p = Policy::default();
        let priors = [prior(FaultKind::Software, false)];
        assert!(rework_of(&priors, "SN-2", "E21", H, &p).is_none());
        assert!(rework_of(&priors, "SN-1", "E22", H, &p).is_none());
    }
}
