//! Who at the service center may do what (docs/domain.md, "Roles"). The
//! desk has dispatchers and a supervisor; the supervisor alone picks a
//! complaint's resolution and reads the statistics. The board and the
//! dispatcher API both ask here, so a rule has one home.

use super::RuleError;
use serde::{Deserialize, Serialize};

/// A person at the desk, by what they may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeskRole {
    Dispatcher,
    Supervisor,
}

impl DeskRole {
    pub fn of(supervisor: bool) -> DeskRole {
        if supervisor {
            DeskRole::Supervisor
        } else {
            DeskRole::Dispatcher
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeskRole::Dispatcher => "dispatcher",
            DeskRole::Supervisor => "supervisor",
        }
    }
}

/// Picking a complaint's resolution is the supervisor's.
pub fn may_pick_resolution(role: DeskRole) -> Result<(), RuleError> {
    if role == DeskRole::Supervisor {
        Ok(())
    } else {
        Err(RuleError::RoleRequired {
            role: DeskRole::Supervisor.as_str(),
            what: "picks the resolution",
        })
    }
}

/// Changing the service center's settings (policy, time zone, language,
/// calling hours) is the supervisor's.
pub fn may_change_settings(role: DeskRole) -> Result<(), RuleError> {
    if role == DeskRole::Supervisor {
        Ok(())
    } else {
        Err(RuleError::RoleRequired {
            role: DeskRole::Supervisor.as_str(),
            what: "changes the service center's settings",
        })
    }
}

/// Whether `role` may read the service center's statistics.
pub fn may_read_statistics(role: DeskRole) -> bool {
    role == DeskRole::Supervisor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_supervisor_picks_a_resolution_and_reads_statistics() {
        let err = may_pick_resolution(DeskRole::Dispatcher).unwrap_err();
        assert_eq!(err.to_string(), "only a supervisor picks the resolution");
        assert_eq!(may_pick_resolution(DeskRole::Supervisor), Ok(()));
        assert!(may_read_statistics(DeskRole::Supervisor));
        assert!(!may_read_statistics(DeskRole::Dispatcher));
    }
}
