//! The service-center rules as pure functions of a document, a policy and a
//! time: no I/O, no clock of their own. The device and the server call the same
//! functions, so both compute the same SLA state, fees and signature validity.

pub mod authority;
pub mod complaints;
pub mod conflicts;
pub mod fees;
pub mod lifecycle;
pub mod mail_in;
pub mod photos;
pub mod rework;
pub mod roles;
pub mod signoff;
pub mod sla;
pub mod stats;
pub mod timeline;

use crate::model::{ConsentKind, Status};

/// Why a rule refused an intent. Messages name the rule, never customer data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("illegal transition from {from} to {to}")]
    IllegalTransition {
        from: &'static str,
        to: &'static str,
    },
    #[error(
        "cannot cancel: the customer signed acceptance of paid service and parts were applied or ordered"
    )]
    CannotCancel,
    #[error("{kind} consent from the customer is required first: {why}")]
    ConsentRequired { kind: &'static str, why: String },
    #[error("not allowed while the order is {status}: {why}")]
    WrongStatus { status: &'static str, why: String },
    #[error("the QC record is locked: the inspection passed")]
    QcLocked,
    #[error("precondition not met: {0}")]
    Precondition(String),
    #[error("only a {role} {what}")]
    RoleRequired {
        role: &'static str,
        what: &'static str,
    },
}

pub(crate) fn consent_name(kind: ConsentKind) -> &'static str {
    match kind {
        ConsentKind::PaidService => "paid service",
        ConsentKind::ExtraParts => "extra parts",
        ConsentKind::ExtraWork => "extra work",
        ConsentKind::FeeList => "fee list",
    }
}

pub(crate) fn wrong_status(status: Status, why: impl Into<String>) -> RuleError {
    RuleError::WrongStatus {
        status: status.as_str(),
        why: why.into(),
    }
}

#[cfg(test)]
pub(crate) mod testing;
