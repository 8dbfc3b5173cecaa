//! Everything a call of the facade can fail with.

use crate::rules::RuleError;
use crate::rules::complaints::StepRefused;
use crate::store::StoreError;
use crate::validate::Invalid;

/// Everything a call can fail with. Messages are safe to log: they name
/// fields, ids and rules, never customer data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("unknown part {sku}: it is not in the catalog")]
    UnknownSku { sku: String },
    #[error("not enough {sku} in the van: {on_hand} on hand, {wanted} wanted")]
    InsufficientStock {
        sku: String,
        on_hand: i64,
        wanted: i64,
    },
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("malformed document bytes for {doc_id}: {reason}")]
    MalformedDocument { doc_id: String, reason: String },
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StepRefused> for Error {
    fn from(e: StepRefused) -> Error {
        match e {
            StepRefused::Invalid(i) => Error::Invalid(i),
            StepRefused::Rule(r) => Error::Rule(r),
        }
    }
}
